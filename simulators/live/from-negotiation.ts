// Glue from the IPsec negotiation (src/ipsec/negotiate.ts: one DirectionPlan per service
// connection, as the simulated wire consumes them) to the live wire's plan. A Windows plan
// is per direction and per port; strongSwan's is per node pair, so each pair becomes one
// LivePair: 'esp' when some connection between the two is protected (an SA, once up,
// carries both directions), 'fail' when some connection is blocked, 'plaintext' otherwise.
// Where the live wire must depart from the plan, the returned notes say how.
import type { DirectionPlan, IanaChildSuite, IanaIkeSuite, Keying } from '../../src/ipsec/index.js';
import type { EspSuite, FailureCause, IkeSuite, LiveFlow, LiveNode, LivePair, LivePlan } from './plan.js';

/** A host on the wire (structurally the simulated wire's WireHost). */
export interface PlannedHost {
  name: string;
  address: string;
}

/** One service connection with its plan (structurally the simulated wire's WireFlow). */
export interface PlannedFlow {
  client: string;
  server: string;
  port: number;
  service?: string;
  plan: DirectionPlan;
  requestBytes?: number;
  exchanges?: number;
}

export interface FromNegotiationOptions {
  /** NAT traversal on the simulated wire (the live wire always encapsulates). */
  natTraversal?: boolean;
}

const GMAC_BITS: Readonly<Record<string, number>> = { AUTH_AES_128_GMAC: 128, AUTH_AES_192_GMAC: 192, AUTH_AES_256_GMAC: 256 };

function ikeVersion(keying: Keying): 1 | 2 {
  return keying === 'ikev2' ? 2 : 1;
}

export function ikeFromIana(s: IanaIkeSuite, keying: Keying, lifetimeMinutes?: number): IkeSuite {
  return {
    version: ikeVersion(keying),
    encryption: s.encryption,
    ...(s.keyLength !== null ? { keyLength: s.keyLength } : {}),
    integrity: s.integrity,
    prf: s.prf,
    dhGroup: s.dhGroup,
    ...(lifetimeMinutes !== undefined ? { lifetimeSeconds: lifetimeMinutes * 60 } : {}),
  };
}

/** A quick-mode suite as strongSwan sees it: AES-GCM carries its own integrity, GMAC alone is ENCR_NULL_AUTH_AES_GMAC. */
export function espFromIana(s: IanaChildSuite, pfsGroup: number | null, lifetime?: { minutes: number; kilobytes: number }): EspSuite {
  const life = lifetime ? { lifetimeSeconds: lifetime.minutes * 60, lifetimeKilobytes: lifetime.kilobytes } : {};
  const pfs = pfsGroup !== null && pfsGroup !== 0 ? { pfsGroup } : {};
  if (s.protocols.includes('AH')) {
    return { protocol: 'ah', encryption: s.espEncryption ?? 'ENCR_NULL', integrity: s.ahIntegrity ?? 'NONE', ...pfs, ...life };
  }
  let encryption: string = s.espEncryption ?? 'ENCR_NULL';
  let keyLength = s.espKeyLength;
  let integrity: string = s.espIntegrity ?? 'NONE';
  const gmac = GMAC_BITS[integrity];
  if (encryption.startsWith('ENCR_AES_GCM')) integrity = 'NONE';
  else if (gmac !== undefined && encryption === 'ENCR_NULL') {
    encryption = 'ENCR_NULL_AUTH_AES_GMAC';
    keyLength = gmac;
    integrity = 'NONE';
  }
  return { protocol: 'esp', encryption, ...(keyLength !== null ? { keyLength } : {}), integrity, ...pfs, ...life };
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

/** A proposal list for b that shares nothing with a's: only its absence of overlap shows on the wire. */
function disjointIke(version: 1 | 2, avoid: readonly IkeSuite[]): IkeSuite[] {
  const candidates: IkeSuite[] = [
    { version, encryption: 'ENCR_AES_CBC', keyLength: 128, integrity: 'AUTH_HMAC_SHA2_512_256', prf: 'PRF_HMAC_SHA2_512', dhGroup: 21 },
    { version, encryption: 'ENCR_3DES', integrity: 'AUTH_HMAC_MD5_96', prf: 'PRF_HMAC_MD5', dhGroup: 5 },
  ];
  return [candidates.find((c) => !avoid.some((a) => a.encryption === c.encryption && a.keyLength === c.keyLength && a.integrity === c.integrity && a.dhGroup === c.dhGroup)) ?? candidates[0]!];
}
function disjointEsp(avoid: readonly EspSuite[]): EspSuite[] {
  const candidates: EspSuite[] = [
    { protocol: 'esp', encryption: 'ENCR_AES_CBC', keyLength: 192, integrity: 'AUTH_HMAC_SHA2_512_256' },
    { protocol: 'esp', encryption: 'ENCR_3DES', integrity: 'AUTH_HMAC_MD5_96' },
  ];
  return [candidates.find((c) => !avoid.some((a) => a.encryption === c.encryption && a.keyLength === c.keyLength && a.integrity === c.integrity)) ?? candidates[0]!];
}

/** ESP offer for a connection that never reaches quick mode (a placeholder strongSwan's syntax needs). */
const UNUSED_ESP: EspSuite = { protocol: 'esp', encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128' };

interface Offer {
  ike: IkeSuite[];
  esp: EspSuite[];
}

/** What the initiator of a direction offers (ESP only: AH proposals are left out live, with a note). */
function initiatorOffer(plan: DirectionPlan, notes: Set<string>): Offer {
  const ike = plan.ike!;
  const ikeOffer = ike.mainMode.offeredSuites.map((s) => ikeFromIana(s, ike.keying, ike.mainMode.lifetimeMinutes));
  const qm = ike.quickMode;
  let esp: EspSuite[] = [UNUSED_ESP];
  if (qm) {
    const all = qm.offeredSuites.map((s, i) => {
      const p = qm.offered[i];
      return espFromIana(s, qm.pfsGroup, p ? { minutes: p.lifetimeMinutes, kilobytes: p.lifetimeKilobytes } : undefined);
    });
    const espOnly = all.filter((s) => s.protocol === 'esp');
    if (espOnly.length < all.length) notes.add(`AH quick-mode proposals offered by ${plan.initiator.node} are left out on the live wire (kernel-libipsec does ESP only).`);
    esp = espOnly.length ? espOnly : all;
  }
  if (ike.keying === 'authip-main') notes.add(`${plan.initiator.node} uses AuthIP, which only Windows speaks; the live wire negotiates IKEv1 main mode instead.`);
  return { ike: ikeOffer, esp };
}

function causeOf(plan: DirectionPlan): FailureCause {
  switch (plan.ike?.result) {
    case undefined:
      return 'clear-dropped';
    case 'no-response':
      return 'no-peer-rule';
    case 'authentication-failed':
      return 'authentication';
    default:
      return 'no-common-proposal';
  }
}

/**
 * The live plan for a set of planned service connections between hosts. Hosts that are
 * never a policy node in any plan (external clients) join the switch without IPsec.
 */
export function livePlanFromNegotiation(hosts: readonly PlannedHost[], flows: readonly PlannedFlow[], options: FromNegotiationOptions = {}): { plan: LivePlan; notes: string[] } {
  const notes = new Set<string>();
  const nameOf = new Map(hosts.map((h) => [h.address, h.name]));
  const nodeAddresses = new Set<string>();
  for (const f of flows) {
    if (f.plan.initiator.node !== null) nodeAddresses.add(f.plan.initiator.address);
    if (f.plan.responder.node !== null) nodeAddresses.add(f.plan.responder.address);
  }
  const nodes: LiveNode[] = hosts.map((h) => ({ name: h.name, ip: h.address, ...(nodeAddresses.has(h.address) ? {} : { external: true }) }));
  const host = (address: string): string => {
    const n = nameOf.get(address);
    if (!n) throw new Error(`planned flow names ${address}, which is not among the hosts`);
    return n;
  };

  // Node pairs, in first-seen order, with every direction planned between them.
  const byPair = new Map<string, PlannedFlow[]>();
  for (const f of flows) {
    if (!nodeAddresses.has(f.client) || !nodeAddresses.has(f.server)) continue;
    const key = [f.client, f.server].sort().join('|');
    byPair.set(key, [...(byPair.get(key) ?? []), f]);
  }
  const pairs: LivePair[] = [];
  for (const list of byPair.values()) {
    const natT = options.natTraversal ?? false;
    const protectedFlow = list.find((f) => f.plan.outcome === 'protected');
    const blocked = list.filter((f) => f.plan.outcome === 'blocked');
    if (protectedFlow) {
      const p = protectedFlow.plan;
      const ike = p.ike!;
      const offer = initiatorOffer(p, notes);
      const chosenQm = ike.quickMode!.chosen;
      const esp = espFromIana(ike.quickMode!.chosenSuite!, ike.quickMode!.pfsGroup, chosenQm ? { minutes: chosenQm.lifetimeMinutes, kilobytes: chosenQm.lifetimeKilobytes } : undefined);
      const chosenIke = ikeFromIana(ike.mainMode.chosenSuite!, ike.keying, ike.mainMode.lifetimeMinutes);
      pairs.push({
        a: host(p.initiator.address), b: host(p.responder.address), outcome: 'esp', natT,
        ike: chosenIke, esp,
        // a proposes its whole list; b accepts exactly what the negotiation chose
        offers: { a: { ike: offer.ike, esp: esp.protocol === 'ah' ? [esp] : offer.esp.some((s) => same(s, esp)) ? offer.esp : [esp, ...offer.esp] }, b: { ike: [chosenIke], esp: [esp] } },
      });
      const other = list.filter((f) => f.plan.outcome !== 'protected');
      if (other.length) {
        notes.add(`Between ${host(p.initiator.address)} and ${host(p.responder.address)} some connections are planned ${[...new Set(other.map((f) => f.plan.outcome))].join('/')} (port-specific rules); live, the pair's SA protects all of them.`);
      }
      continue;
    }
    if (blocked.length) {
      const f = blocked.find((x) => x.plan.ike !== null) ?? blocked[0]!;
      const p = f.plan;
      const cause = causeOf(p);
      // The side whose rule matters: the IKE initiator, or (nobody starts IKE) the side that drops.
      const [aAddr, bAddr] = cause === 'clear-dropped' ? [p.responder.address, p.initiator.address] : [p.initiator.address, p.responder.address];
      const a = host(aAddr);
      const b = host(bAddr);
      const requires = new Set<'a' | 'b'>();
      for (const x of list) {
        const sideOf = (addr: string) => (addr === aAddr ? 'a' : 'b');
        if (x.plan.rules.initiator?.requirement === 'require') requires.add(sideOf(x.plan.initiator.address));
        if (x.plan.rules.responder?.requirement === 'require') requires.add(sideOf(x.plan.responder.address));
      }
      const pair: LivePair = { a, b, outcome: 'fail', natT, failure: { cause, detail: p.reason }, ...(requires.size ? { requireSides: [...requires].sort() } : {}) };
      if (cause !== 'clear-dropped') {
        const offer = initiatorOffer(p, notes);
        const version = offer.ike[0]?.version ?? 2;
        const chosenIke = p.ike!.mainMode.chosenSuite ? ikeFromIana(p.ike!.mainMode.chosenSuite, p.ike!.keying, p.ike!.mainMode.lifetimeMinutes) : undefined;
        let bOffer: Offer;
        if (p.ike!.result === 'no-proposal-chosen') bOffer = { ike: disjointIke(version, offer.ike), esp: offer.esp };
        else if (p.ike!.result === 'quick-mode-failed') bOffer = { ike: chosenIke ? [chosenIke] : offer.ike, esp: disjointEsp(offer.esp) };
        else bOffer = { ike: chosenIke ? [chosenIke] : offer.ike, esp: offer.esp };
        pair.offers = { a: offer, b: bOffer };
      }
      if (cause === 'no-peer-rule' || cause === 'clear-dropped') {
        // only a's rule exists; b's offer is irrelevant
        if (pair.offers) delete pair.offers.b;
      }
      pairs.push(pair);
      continue;
    }
    // Every connection in clear; a side that tried IKE first ("request" without partner) does so live too.
    const tried = list.find((f) => f.plan.ike !== null);
    const first = list[0]!;
    const pair: LivePair = { a: host(first.client), b: host(first.server), outcome: 'plaintext', natT };
    if (tried) {
      const side = host(tried.plan.initiator.address) === pair.a ? 'a' : 'b';
      pair.requestedBy = side;
      pair.offers = { [side]: initiatorOffer(tried.plan, notes) };
    }
    pairs.push(pair);
  }

  // One conversation per client, server and port (several services may share a port).
  const seen = new Set<string>();
  const liveFlows: LiveFlow[] = [];
  for (const f of flows) {
    const key = `${f.client}>${f.server}:${f.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const bytes = Math.min(64 * 1024, Math.max(1, (f.requestBytes ?? 1000) * (f.exchanges ?? 1)));
    liveFlows.push({ client: host(f.client), server: host(f.server), port: f.port, ...(f.service ? { service: f.service } : {}), bytes });
  }
  return { plan: { nodes, pairs, flows: liveFlows }, notes: [...notes] };
}
