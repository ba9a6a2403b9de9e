// What the live wire is asked to build: the cluster's nodes, what each pair of nodes ends
// up with (IKE + ESP with a chosen suite, plain text, or a failed negotiation and why),
// and the service flows to send. It is the small contract between whoever plans the
// cluster's IPsec (the policy model and its negotiation) and the strongSwan runner, so the
// runner never needs to know how Windows rules are matched. Algorithms use the IANA IKEv2
// names the capture rules report (ENCR_AES_CBC, AUTH_HMAC_SHA2_256_128, group numbers).
// Pure: validation and support checks only.
import { parseAddress } from '../../src/capture/ip.js';
import { serviceFor } from '../../src/compliance/services.js';
import { InputError } from '../../src/util/errors.js';

export type PairOutcome = 'esp' | 'plaintext' | 'fail';
export const PAIR_OUTCOMES: readonly PairOutcome[] = ['esp', 'plaintext', 'fail'];

/**
 * Why a pair's connections fail (and the dependent service goes to Error):
 *  - no-common-proposal: main mode or quick mode finds nothing both sides offer;
 *  - authentication: IKE_AUTH fails (e.g. a certificate from an authority the peer does not trust);
 *  - no-peer-rule: a starts IKE, but b has no rule covering a and never answers;
 *  - clear-dropped: nobody starts IKE (a's peer has no rule and sends in clear), and a's
 *    "require" rule drops the clear packets.
 */
export type FailureCause = 'no-common-proposal' | 'authentication' | 'no-peer-rule' | 'clear-dropped';
export const FAILURE_CAUSES: readonly FailureCause[] = ['no-common-proposal', 'authentication', 'no-peer-rule', 'clear-dropped'];

export interface LiveNode {
  /** Short name used in logs and evidence file names: letters, digits, '.', '_', '-'. */
  name: string;
  /** IPv4 address on the cluster's switch. */
  ip: string;
  /** A client outside the cluster (IPSEC-6): on the switch, but runs no IPsec. */
  external?: boolean;
}

/** One main-mode (IKE SA) proposal. */
export interface IkeSuite {
  version: 1 | 2;
  /** IANA transform name, e.g. ENCR_AES_CBC, ENCR_3DES, ENCR_AES_GCM_16. */
  encryption: string;
  /** Bits, for ciphers with a key-length attribute (AES). */
  keyLength?: number;
  /** IANA integrity name, e.g. AUTH_HMAC_SHA2_256_128; 'NONE' with an AEAD cipher. */
  integrity: string;
  /** IANA PRF name; defaults to the PRF of the integrity algorithm's hash (required with AEAD). */
  prf?: string;
  dhGroup: number;
  lifetimeSeconds?: number;
}

/** One quick-mode (CHILD SA) proposal. */
export interface EspSuite {
  /** kernel-libipsec does ESP only; an AH plan cannot run live. */
  protocol: 'esp' | 'ah';
  /** IANA name; ENCR_NULL is integrity-only ESP (ESP-NULL). */
  encryption: string;
  keyLength?: number;
  integrity: string;
  /** Perfect forward secrecy group, if any. */
  pfsGroup?: number;
  lifetimeSeconds?: number;
  lifetimeKilobytes?: number;
}

export interface SideOffer {
  ike?: IkeSuite[];
  esp?: EspSuite[];
}

export interface LivePair {
  /** The initiator of the pair's IKE SA (for 'no-peer-rule' and 'clear-dropped': the side with the rule). */
  a: string;
  b: string;
  outcome: PairOutcome;
  /** The main-mode suite both sides settle on ('esp'), or what a offers ('fail'). */
  ike?: IkeSuite;
  /** The quick-mode suite both sides settle on ('esp'), or what a offers ('fail'). */
  esp?: EspSuite;
  /** Each side's full proposal list in preference order, when known; defaults to [ike] / [esp]. */
  offers?: { a?: SideOffer; b?: SideOffer };
  /** NAT traversal (ESP in UDP 4500, RFC 3948). kernel-libipsec always encapsulates. */
  natT: boolean;
  /** Required for 'fail'. */
  failure?: { cause: FailureCause; detail?: string };
  /**
   * 'fail': the sides whose rule requires authentication and so drop clear traffic from and
   * to the peer (default: a only for 'no-peer-rule', both otherwise).
   * 'plaintext': ignored.
   */
  requireSides?: ('a' | 'b')[];
  /** 'plaintext' after a "request" rule found no partner: that side tries IKE first, then talks in clear. */
  requestedBy?: 'a' | 'b';
}

export interface LiveFlow {
  client: string;
  server: string;
  port: number;
  /** Service name for the record (services.ts names it when absent). */
  service?: string;
  /** Bytes the client sends (and gets back); derived from the seed when absent. */
  bytes?: number;
}

export interface LivePlan {
  nodes: LiveNode[];
  pairs: LivePair[];
  flows: LiveFlow[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

/** Checks a plan's shape and references; throws one InputError naming the field. */
export function validateLivePlan(plan: LivePlan, source = 'live plan'): void {
  const where = (path: string) => `${source}: ${path}`;
  if (!plan || !Array.isArray(plan.nodes) || !Array.isArray(plan.pairs) || !Array.isArray(plan.flows)) {
    throw new InputError(`${source}: expected an object with nodes, pairs and flows arrays`);
  }
  if (plan.nodes.length < 2) throw new InputError(where('nodes: expected at least 2 nodes'));
  const byName = new Map<string, LiveNode>();
  const ips = new Set<string>();
  plan.nodes.forEach((n, i) => {
    if (typeof n?.name !== 'string' || !NAME.test(n.name)) {
      throw new InputError(where(`nodes[${i}].name: expected 1-32 letters, digits, '.', '_' or '-', found ${JSON.stringify(n?.name)}`));
    }
    if (byName.has(n.name)) throw new InputError(where(`nodes[${i}].name: "${n.name}" is listed twice`));
    if (typeof n.ip !== 'string' || !parseAddress(n.ip)) throw new InputError(where(`nodes[${i}].ip: expected an IP address, found ${JSON.stringify(n.ip)}`));
    if (ips.has(n.ip)) throw new InputError(where(`nodes[${i}].ip: ${n.ip} is used by two nodes`));
    byName.set(n.name, n);
    ips.add(n.ip);
  });
  const seen = new Set<string>();
  plan.pairs.forEach((p, i) => {
    const at = `pairs[${i}]`;
    for (const side of ['a', 'b'] as const) {
      const node = byName.get(p?.[side]);
      if (!node) throw new InputError(where(`${at}.${side}: expected a node name, found ${JSON.stringify(p?.[side])}`));
      if (node.external) throw new InputError(where(`${at}.${side}: "${node.name}" is external and runs no IPsec`));
    }
    if (p.a === p.b) throw new InputError(where(`${at}: a and b are the same node "${p.a}"`));
    const key = pairKey(p.a, p.b);
    if (seen.has(key)) throw new InputError(where(`${at}: the pair ${p.a}/${p.b} is listed twice`));
    seen.add(key);
    if (!PAIR_OUTCOMES.includes(p.outcome)) throw new InputError(where(`${at}.outcome: expected one of ${PAIR_OUTCOMES.join(', ')}, found ${JSON.stringify(p.outcome)}`));
    if (typeof p.natT !== 'boolean') throw new InputError(where(`${at}.natT: expected true or false`));
    if (p.outcome === 'esp' && (!p.ike || !p.esp)) throw new InputError(where(`${at}: an 'esp' pair needs ike and esp suites`));
    if (p.outcome === 'fail') {
      if (!p.failure || !FAILURE_CAUSES.includes(p.failure.cause)) {
        throw new InputError(where(`${at}.failure.cause: expected one of ${FAILURE_CAUSES.join(', ')}`));
      }
      const talks = p.failure.cause !== 'clear-dropped';
      if (talks && (!offerOf(p, 'a').ike.length || !offerOf(p, 'a').esp.length)) throw new InputError(where(`${at}: a '${p.failure.cause}' failure needs what a offers (ike and esp, or offers.a)`));
      if (talks && p.failure.cause !== 'no-peer-rule' && (!offerOf(p, 'b').ike.length || !offerOf(p, 'b').esp.length)) {
        throw new InputError(where(`${at}: a '${p.failure.cause}' failure needs what b offers (offers.b, or ike and esp)`));
      }
      if (p.failure.cause === 'no-common-proposal' && commonOffer(p)) {
        throw new InputError(where(`${at}: 'no-common-proposal' but both sides offer ${commonOffer(p)}; give offers.a and offers.b without a common IKE or ESP proposal`));
      }
    }
    if (p.requestedBy !== undefined && p.requestedBy !== 'a' && p.requestedBy !== 'b') throw new InputError(where(`${at}.requestedBy: expected 'a' or 'b'`));
    if (p.outcome === 'plaintext' && p.requestedBy && (!offerOf(p, p.requestedBy).ike.length || !offerOf(p, p.requestedBy).esp.length)) {
      throw new InputError(where(`${at}: requestedBy ${p.requestedBy} needs the suites that side offers (ike and esp, or offers.${p.requestedBy})`));
    }
  });
  plan.flows.forEach((f, i) => {
    const at = `flows[${i}]`;
    for (const side of ['client', 'server'] as const) {
      if (!byName.has(f?.[side])) throw new InputError(where(`${at}.${side}: expected a node name, found ${JSON.stringify(f?.[side])}`));
    }
    if (f.client === f.server) throw new InputError(where(`${at}: client and server are the same node "${f.client}"`));
    if (!Number.isInteger(f.port) || f.port < 1 || f.port > 65535) throw new InputError(where(`${at}.port: expected 1-65535, found ${JSON.stringify(f.port)}`));
    if (f.bytes !== undefined && (!Number.isInteger(f.bytes) || f.bytes < 1 || f.bytes > 16 * 1024 * 1024)) {
      throw new InputError(where(`${at}.bytes: expected 1 to 16 MiB, found ${JSON.stringify(f.bytes)}`));
    }
  });
}

/** What a side proposes, in order. */
export function offerOf(pair: LivePair, side: 'a' | 'b'): { ike: IkeSuite[]; esp: EspSuite[] } {
  const offer = pair.offers?.[side];
  return {
    ike: offer?.ike ?? (pair.ike ? [pair.ike] : []),
    esp: offer?.esp ?? (pair.esp ? [pair.esp] : []),
  };
}

/** A proposal both sides of a pair offer (as text), or undefined. */
function commonOffer(pair: LivePair): string | undefined {
  const a = offerOf(pair, 'a');
  const b = offerOf(pair, 'b');
  const ike = a.ike.find((x) => b.ike.some((y) => JSON.stringify(normalIke(x)) === JSON.stringify(normalIke(y))));
  const esp = a.esp.find((x) => b.esp.some((y) => JSON.stringify(normalEsp(x)) === JSON.stringify(normalEsp(y))));
  // One side of the negotiation without a common proposal is enough to fail it.
  if (ike && esp) return `IKE ${describeIke(ike)} and ESP ${describeEsp(esp)}`;
  return undefined;
}

function normalIke(s: IkeSuite): unknown[] {
  return [s.version, s.encryption, s.keyLength ?? null, s.integrity, s.prf ?? null, s.dhGroup];
}
function normalEsp(s: EspSuite): unknown[] {
  return [s.protocol, s.encryption, s.keyLength ?? null, s.integrity, s.pfsGroup ?? null];
}

export function describeIke(s: IkeSuite): string {
  return `IKEv${s.version} ${s.encryption}${s.keyLength ? `-${s.keyLength}` : ''}/${s.integrity}${s.prf ? `/${s.prf}` : ''}/group ${s.dhGroup}`;
}
export function describeEsp(s: EspSuite): string {
  return `${s.protocol.toUpperCase()} ${s.encryption}${s.keyLength ? `-${s.keyLength}` : ''}/${s.integrity}${s.pfsGroup ? `/PFS group ${s.pfsGroup}` : ''}`;
}

/** Order-free key of a node pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** The sides of a 'fail' pair that drop clear traffic to and from the peer. */
export function requiringSides(pair: LivePair): ('a' | 'b')[] {
  if (pair.outcome !== 'fail') return [];
  const cause = pair.failure?.cause;
  return pair.requireSides ?? (cause === 'no-peer-rule' || cause === 'clear-dropped' ? ['a'] : ['a', 'b']);
}

/** Whether this side of the pair has a connection (an IPsec rule covering the peer) configured. */
export function hasConnection(pair: LivePair, side: 'a' | 'b'): boolean {
  switch (pair.outcome) {
    case 'esp':
      return true;
    case 'plaintext':
      return pair.requestedBy === side;
    case 'fail':
      if (pair.failure?.cause === 'clear-dropped') return false;
      return side === 'a' || pair.failure?.cause !== 'no-peer-rule';
  }
}

/** The side that starts IKE for the pair, if any. */
export function initiatorOf(pair: LivePair): 'a' | 'b' | undefined {
  if (pair.outcome === 'plaintext') return pair.requestedBy;
  return hasConnection(pair, 'a') ? 'a' : undefined;
}

/**
 * The side that has no rule for a peer that starts IKE: like a Windows node without a
 * covering rule, it never answers (charon would otherwise send NO_PROPOSAL_CHOSEN).
 */
export function silentResponder(pair: LivePair): 'a' | 'b' | undefined {
  const initiator = initiatorOf(pair);
  if (!initiator) return undefined;
  const other = initiator === 'a' ? 'b' : 'a';
  return hasConnection(pair, other) ? undefined : other;
}

/**
 * What in a valid plan the live wire cannot build, as one sentence per problem (empty:
 * it can). These are limits of strongSwan's userspace ESP, not of the plan.
 */
export function liveUnsupported(plan: LivePlan): string[] {
  const problems: string[] = [];
  for (const n of plan.nodes) {
    if (parseAddress(n.ip)?.af !== 4) problems.push(`node ${n.name} has the IPv6 address ${n.ip}; the live wire builds an IPv4 switch only`);
  }
  for (const p of plan.pairs) {
    for (const side of ['a', 'b'] as const) {
      if (offerOf(p, side).esp.some((s) => s.protocol === 'ah')) {
        problems.push(`pair ${p.a}/${p.b} uses AH, and strongSwan's kernel-libipsec (userspace IPsec, needed because this kernel has no XFRM) does ESP only`);
        break;
      }
    }
  }
  return problems;
}

/**
 * The cluster's usual conversations for every pair of nodes, with service names from
 * services.ts: repository (8060) and licensing (27000) one way, TSM controller (8850)
 * the other.
 */
export function clusterFlows(nodes: readonly LiveNode[]): LiveFlow[] {
  const inside = nodes.filter((n) => !n.external);
  const flows: LiveFlow[] = [];
  for (let i = 0; i < inside.length; i++) {
    for (let j = i + 1; j < inside.length; j++) {
      const a = inside[i]!.name;
      const b = inside[j]!.name;
      flows.push(flow(a, b, 8060), flow(b, a, 8850), flow(a, b, 27000));
    }
  }
  return flows;
}

function flow(client: string, server: string, port: number): LiveFlow {
  return { client, server, port, service: serviceFor(port, 'tcp') ?? `tcp/${port}` };
}
