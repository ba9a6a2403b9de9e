// How two Windows nodes settle a connection under their IPsec policy (pure: no I/O, no
// randomness). For one direction of traffic (the initiator opens a connection to the
// responder's port) it finds each side's covering connection security rule, then plays
// the negotiation as Windows does:
//   - the initiator's outbound requirement decides whether it starts IKE at all (none: it
//     sends in clear) and whether it may fall back to clear (request) or must not (require);
//   - the responder answers IKE only if one of its rules covers the initiator and speaks
//     the initiator's keying module; its inbound requirement decides whether it drops clear
//     packets (require) or takes them (request, none);
//   - main mode: the first of the initiator's proposals, in its order, that the responder
//     also has (identical integrity, encryption and key exchange); none → NO_PROPOSAL_CHOSEN;
//   - authentication: the first of the initiator's methods the responder also accepts, and
//     both nodes must hold the credential (a computer certificate from that CA, a Kerberos
//     domain both are joined to); otherwise AUTHENTICATION_FAILED;
//   - quick mode: as main mode over the proposals each side offers ("require encryption"
//     drops the integrity-only ones), with the same perfect-forward-secrecy group on both.
// Any failure blocks the connection when either side requires authentication for it, and
// leaves it in clear otherwise (Windows' fall-back to clear for "request").
// The plan says why in the words of the console: which rule, which crypto set, what to change.
import { addressListCovers, parseAddressList } from './address-list.js';
import { childSuite, dhGroupNumber, ikeSuite, pfsGroupNumber, type IanaChildSuite, type IanaIkeSuite } from './iana.js';
import {
  describeAuthMethod, describeMainModeProposal, describeQuickModeProposal, offeredQuickModeProposals, proposalEncrypts,
  type AuthMethod, type ClusterIpsecPolicy, type ConnectionSecurityRule, type Encapsulation, type KeyModule, type MainModeProposal,
  type NodeIpsecPolicy, type QuickModeCryptoSet, type QuickModeProposal, type Requirement,
} from './policy-model.js';

// ------------------------------------------------------------------------ plan types

/** The traffic of one connection: transport protocol and the responder's (service) port. */
export interface TrafficSelector {
  protocol: 'tcp' | 'udp';
  /** The service port on the responder; undefined = "any traffic between the two". */
  port?: number;
}

/** One side of a connection: a node of the policy, or an address no policy describes (an external client). */
export interface Endpoint {
  node: string | null;
  address: string;
}

/** The rule a side applied, and the requirement that mattered for this direction. */
export interface RuleRef {
  node: string;
  rule: string;
  /** Initiator: the rule's outbound requirement; responder: its inbound requirement. */
  requirement: Requirement;
}

/** What goes on the wire to set up keys: IKEv2, IKEv1 main mode, or AuthIP main mode. */
export type Keying = 'ikev2' | 'ikev1-main' | 'authip-main';

/**
 * How far IKE got: established (SAs up), or where it stopped. `no-response`: the responder
 * has no rule covering the initiator (or no common keying module) and never answers.
 */
export type IkeResult = 'established' | 'no-response' | 'no-proposal-chosen' | 'authentication-failed' | 'quick-mode-failed';

export interface MainModeOutcome {
  /** The initiator's proposals, in its order (what its SA payload carries). */
  offered: MainModeProposal[];
  offeredSuites: IanaIkeSuite[];
  chosen: MainModeProposal | null;
  chosenSuite: IanaIkeSuite | null;
  lifetimeMinutes: number;
}

export interface QuickModeOutcome {
  offered: QuickModeProposal[];
  offeredSuites: IanaChildSuite[];
  chosen: QuickModeProposal | null;
  chosenSuite: IanaChildSuite | null;
  /** The agreed PFS group number, or null for none. */
  pfsGroup: number | null;
  /** Whether the initiator's data protection set requires encryption. */
  requireEncryption: boolean;
}

export interface IkePlan {
  keying: Keying;
  result: IkeResult;
  mainMode: MainModeOutcome;
  /** The authentication method both sides agreed on (null when main mode did not get that far or none was common). */
  authentication: AuthMethod | null;
  /** Present once authentication succeeded. */
  quickMode: QuickModeOutcome | null;
}

export type DirectionOutcome = 'protected' | 'plaintext' | 'blocked';

/**
 * The plan for one direction of traffic between two endpoints. This is the contract a live
 * mode consumes (e.g. to write swanctl.conf): `ike` says what to configure and what the
 * wire must show, `outcome` what the connection ends up as.
 */
export interface DirectionPlan {
  initiator: Endpoint;
  responder: Endpoint;
  traffic: TrafficSelector;
  outcome: DirectionOutcome;
  /** For 'protected': the IPsec protocols carrying the traffic (transport mode). */
  protection: Encapsulation | null;
  /** For 'protected': ESP with a cipher (false for AH and ESP-NULL). */
  encrypted: boolean;
  rules: { initiator: RuleRef | null; responder: RuleRef | null };
  /** The IKE attempt, or null when neither side started one. */
  ike: IkePlan | null;
  /** Why, in the console's words: which rule, which crypto set. */
  reason: string;
  /** What to change, or null when nothing needs to (a compliant, encrypted connection). */
  remedy: string | null;
}

// ------------------------------------------------------------------------ rule lookup

interface RuleMatch {
  rule: ConnectionSecurityRule | null;
  /** Why each rule that looked related does not apply (disabled, profile, endpoints, ports). */
  misses: string[];
}

function coversPort(ranges: readonly { from: number; to: number }[], port: number | undefined): boolean {
  if (ranges.length === 0) return true;
  if (port === undefined) return false;
  return ranges.some((r) => port >= r.from && port <= r.to);
}

/**
 * The rule on `node` that covers traffic between its `local` address and `remote`. Windows
 * applies a rule when one endpoint list holds the local address and the other the remote
 * one; of several, the more specific wins (a protocol/port rule over an any-traffic rule),
 * then list order. `localIsServer` says which end owns the service port.
 */
export function coveringRule(node: NodeIpsecPolicy, local: string, remote: string, traffic: TrafficSelector, localIsServer: boolean): RuleMatch {
  const misses: string[] = [];
  const candidates: ConnectionSecurityRule[] = [];
  for (const r of node.rules) {
    const e1 = parseAddressList(r.endpoint1);
    const e2 = parseAddressList(r.endpoint2);
    const forward = addressListCovers(e1, local) && addressListCovers(e2, remote);
    const backward = addressListCovers(e2, local) && addressListCovers(e1, remote);
    if (!forward && !backward) {
      if (addressListCovers(e1, local) || addressListCovers(e2, local)) {
        misses.push(`rule "${r.name}" on ${node.name} does not list ${remote} in its other endpoint (endpoint 1: ${r.endpoint1.join(', ')}; endpoint 2: ${r.endpoint2.join(', ')})`);
      }
      continue;
    }
    if (!r.enabled) { misses.push(`rule "${r.name}" on ${node.name} covers ${remote} but is disabled`); continue; }
    if (!r.profiles.includes(node.activeProfile)) {
      misses.push(`rule "${r.name}" on ${node.name} applies only in the ${r.profiles.join('/')} profile(s), but the node's network is in the ${node.activeProfile} profile`);
      continue;
    }
    if (r.protocol !== 'any' && r.protocol !== traffic.protocol) { misses.push(`rule "${r.name}" on ${node.name} covers only ${r.protocol.toUpperCase()}`); continue; }
    const [localPorts, remotePorts] = forward ? [r.endpoint1Ports, r.endpoint2Ports] : [r.endpoint2Ports, r.endpoint1Ports];
    const serverPorts = localIsServer ? localPorts : remotePorts;
    const clientPorts = localIsServer ? remotePorts : localPorts;
    if (!coversPort(serverPorts, traffic.port) || clientPorts.length > 0) {
      misses.push(`rule "${r.name}" on ${node.name} covers only ports ${serverPorts.map((p) => (p.from === p.to ? p.from : `${p.from}-${p.to}`)).join(', ') || 'other than these'}`);
      continue;
    }
    candidates.push(r);
  }
  const specific = candidates.find((r) => r.protocol !== 'any');
  return { rule: specific ?? candidates[0] ?? null, misses };
}

// ------------------------------------------------------------------------ negotiation steps

function keyingOf(m: KeyModule): Keying {
  return m === 'ikev2' ? 'ikev2' : m === 'authip' ? 'authip-main' : 'ikev1-main';
}

/** Which keying protocols a responder's rule answers. */
function answers(m: KeyModule, k: Keying): boolean {
  switch (m) {
    case 'ikev2': return k === 'ikev2';
    case 'ikev1': return k === 'ikev1-main';
    case 'authip': return k === 'authip-main';
    case 'default': return k === 'ikev1-main' || k === 'authip-main';
  }
}

/** Main-mode proposals a node can put on the wire for this keying protocol (IKEv1 phase 1 has no AES-GCM). */
function usableMainMode(node: NodeIpsecPolicy, k: Keying): MainModeProposal[] {
  return node.defaults.mainMode.proposals.filter((p) => k === 'ikev2' || ikeSuite(p).ikev1 !== null);
}

const sameMainMode = (a: MainModeProposal, b: MainModeProposal): boolean =>
  a.integrity === b.integrity && a.encryption === b.encryption && a.keyExchange === b.keyExchange;

function sameQuickMode(a: QuickModeProposal, b: QuickModeProposal): boolean {
  if (a.encapsulation !== b.encapsulation) return false;
  const esp = a.encapsulation !== 'AH';
  const ah = a.encapsulation !== 'ESP';
  return (!esp || (a.espEncryption === b.espEncryption && a.espIntegrity === b.espIntegrity)) && (!ah || a.ahIntegrity === b.ahIntegrity);
}

function sameAuth(a: AuthMethod, b: AuthMethod): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'computer-kerberos' || b.kind === 'computer-kerberos') return true;
  return a.caName.toLowerCase() === b.caName.toLowerCase() && a.signing === b.signing;
}

function authMethods(node: NodeIpsecPolicy, rule: ConnectionSecurityRule): AuthMethod[] {
  return rule.authentication.length > 0 ? rule.authentication : node.defaults.authentication;
}

function quickModeSet(node: NodeIpsecPolicy, rule: ConnectionSecurityRule): QuickModeCryptoSet {
  return rule.quickMode ?? node.defaults.quickMode;
}

function quickModeSetName(rule: ConnectionSecurityRule): string {
  return rule.quickMode ? `rule "${rule.name}"'s data protection settings` : 'the IPsec defaults\' data protection (quick mode)';
}

/** Can `node` prove itself with `m`? If not, why. */
function credentialProblem(node: NodeIpsecPolicy, m: AuthMethod, peer: NodeIpsecPolicy): string | null {
  if (m.kind === 'computer-certificate') {
    const has = node.credentials.certificateIssuers.some((i) => i.toLowerCase() === m.caName.toLowerCase());
    if (has) return null;
    const held = node.credentials.certificateIssuers;
    return `${node.name} has no computer certificate from "${m.caName}"${held.length ? ` (its certificates are from ${held.map((h) => `"${h}"`).join(', ')}, which ${peer.name} does not trust for this rule)` : ''}`;
  }
  if (!node.credentials.kerberosDomain) return `${node.name} is not joined to a domain, so it cannot authenticate with Kerberos`;
  if (!peer.credentials.kerberosDomain || peer.credentials.kerberosDomain.toLowerCase() !== node.credentials.kerberosDomain.toLowerCase()) {
    return `${node.name} (domain ${node.credentials.kerberosDomain}) and ${peer.name} (${peer.credentials.kerberosDomain ? `domain ${peer.credentials.kerberosDomain}` : 'no domain'}) share no Kerberos domain`;
  }
  return null;
}

const list = <T>(xs: readonly T[], f: (x: T) => string): string => (xs.length === 0 ? '(none)' : xs.map(f).join(', '));

// ------------------------------------------------------------------------ one direction

interface Side {
  policy: NodeIpsecPolicy | null;
  address: string;
}

function endpointOf(s: Side): Endpoint {
  return { node: s.policy?.name ?? null, address: s.address };
}

const nameOf = (s: Side): string => s.policy?.name ?? s.address;

/** Finds the node that owns an address (null for an address no node has). */
export function nodeByAddress(policy: ClusterIpsecPolicy, address: string): NodeIpsecPolicy | null {
  return policy.nodes.find((n) => n.addresses.includes(address)) ?? null;
}

/**
 * Plans one direction: `from` opens a connection to `to` (addresses; either may be a
 * non-node, e.g. an external client, which has no IPsec policy).
 */
export function planDirection(policy: ClusterIpsecPolicy, from: string, to: string, traffic: TrafficSelector): DirectionPlan {
  const ini: Side = { policy: nodeByAddress(policy, from), address: from };
  const res: Side = { policy: nodeByAddress(policy, to), address: to };
  const iMatch = ini.policy ? coveringRule(ini.policy, from, to, traffic, false) : { rule: null, misses: [] };
  const rMatch = res.policy ? coveringRule(res.policy, to, from, traffic, true) : { rule: null, misses: [] };
  const iRule = iMatch.rule;
  const rRule = rMatch.rule;
  const outReq: Requirement = iRule?.outbound ?? 'none';
  const inReq: Requirement = rRule?.inbound ?? 'none';
  const rules = {
    initiator: iRule && ini.policy ? { node: ini.policy.name, rule: iRule.name, requirement: outReq } : null,
    responder: rRule && res.policy ? { node: res.policy.name, rule: rRule.name, requirement: inReq } : null,
  };
  const what = `${nameOf(ini)} (${from}) → ${nameOf(res)} (${to})${traffic.port !== undefined ? ` ${traffic.protocol.toUpperCase()} ${traffic.port}` : ''}`;
  const base = { initiator: endpointOf(ini), responder: endpointOf(res), traffic, rules };
  const ruleFix = (side: Side, other: Side): string =>
    `add (or enable) a server-to-server connection security rule on ${nameOf(side)}: endpoint 1 = ${side.address}, endpoint 2 = ${other.address} and every other node, "Require authentication for inbound and outbound connections", all profiles`;
  const missText = (m: RuleMatch, side: Side, other: Side): string =>
    `${nameOf(side)} has no connection security rule covering ${other.address}${m.misses.length ? ` (${m.misses.join('; ')})` : ''}`;
  const nonNode = !ini.policy || !res.policy;

  // The initiator sends in clear: no rule, or its rule does not ask for outbound authentication.
  if (outReq === 'none') {
    const why = iRule
      ? `${nameOf(ini)}'s rule "${iRule.name}" does not request authentication for outbound connections`
      : ini.policy ? missText(iMatch, ini, res) : `${from} is not a cluster node and has no IPsec policy`;
    if (inReq === 'require') {
      return {
        ...base, outcome: 'blocked', protection: null, encrypted: false, ike: null,
        reason: `${what}: ${why}, so it sends in clear; ${res.policy!.name}'s rule "${rRule!.name}" requires authentication for inbound connections and drops the clear packets: the connection fails.`,
        remedy: iRule ? `set ${nameOf(ini)}'s rule "${iRule.name}" to require authentication for outbound connections` : nonNode ? `exempt ${from} from ${res.policy!.name}'s rule "${rRule!.name}" or give it an IPsec policy` : ruleFix(ini, res),
      };
    }
    const resWhy = rRule ? `${res.policy!.name}'s rule "${rRule.name}" only ${inReq === 'request' ? 'requests' : 'does not ask for'} inbound authentication, so it accepts the clear connection` : res.policy ? missText(rMatch, res, ini) : `${to} is not a cluster node`;
    return {
      ...base, outcome: 'plaintext', protection: null, encrypted: false, ike: null,
      reason: `${what}: ${why}; ${resWhy}: the traffic travels in clear.`,
      remedy: nonNode ? null : [iRule ? `set ${nameOf(ini)}'s rule "${iRule.name}" to require outbound authentication` : ruleFix(ini, res), rRule ? `set ${res.policy!.name}'s rule "${rRule.name}" to require inbound authentication` : ruleFix(res, ini)].filter(Boolean).join('; '),
    };
  }

  // The initiator starts IKE.
  const iPol = ini.policy!;
  const keying = keyingOf(iRule!.keyModule);
  const offered = usableMainMode(iPol, keying);
  const mainMode: MainModeOutcome = { offered, offeredSuites: offered.map(ikeSuite), chosen: null, chosenSuite: null, lifetimeMinutes: iPol.defaults.mainMode.lifetimeMinutes };
  const ike: IkePlan = { keying, result: 'no-response', mainMode, authentication: null, quickMode: null };
  const mustProtect = outReq === 'require' || inReq === 'require';
  const failed = (reason: string, remedy: string): DirectionPlan => {
    const end = mustProtect
      ? `${requirers(rules)} requires authentication, so the connection fails.`
      : `both sides only request authentication, so Windows falls back to clear: the traffic travels unprotected.`;
    return { ...base, outcome: mustProtect ? 'blocked' : 'plaintext', protection: null, encrypted: false, ike, reason: `${what}: ${reason}; ${end}`, remedy };
  };
  const keyingName = keying === 'ikev2' ? 'IKEv2' : keying === 'authip-main' ? 'AuthIP' : 'IKEv1 main mode';

  if (!rRule || !res.policy) {
    return failed(
      `${iPol.name}'s rule "${iRule!.name}" ${outReq}s outbound authentication and starts ${keyingName}, but ${res.policy ? missText(rMatch, res, ini) : `${to} has no IPsec policy`} and never answers`,
      res.policy ? ruleFix(res, ini) : `exclude ${to} from ${iPol.name}'s rule "${iRule!.name}" (endpoint 2)`,
    );
  }
  const rPol = res.policy;
  if (!answers(rRule.keyModule, keying)) {
    return failed(
      `${iPol.name}'s rule "${iRule!.name}" uses key module ${iRule!.keyModule} (${keyingName}), but ${rPol.name}'s rule "${rRule.name}" answers only ${rRule.keyModule === 'default' ? 'IKEv1/AuthIP' : rRule.keyModule}`,
      `use the same key module on both rules ("${iRule!.name}" on ${iPol.name}, "${rRule.name}" on ${rPol.name})`,
    );
  }
  if (offered.length === 0) {
    return failed(
      `${iPol.name}'s key exchange (main mode) proposals ${list(iPol.defaults.mainMode.proposals, describeMainModeProposal)} cannot be sent with ${keyingName} (AES-GCM needs IKEv2)`,
      `add an AES-CBC proposal to ${iPol.name}'s key exchange settings, or use key module IKEv2 on both rules`,
    );
  }

  // Main mode: initiator's order, first the responder also has.
  const responderMm = usableMainMode(rPol, keying);
  const chosenMm = offered.find((p) => responderMm.some((q) => sameMainMode(p, q))) ?? null;
  if (!chosenMm) {
    ike.result = 'no-proposal-chosen';
    return failed(
      `main mode found no common proposal: ${iPol.name} offers ${list(offered, describeMainModeProposal)}, ${rPol.name} accepts ${list(responderMm, describeMainModeProposal)} (IPsec defaults, key exchange) → NO_PROPOSAL_CHOSEN`,
      `give both nodes' IPsec defaults the same key exchange (main mode) method, e.g. SHA256/AES256/DH14 first on ${iPol.name} and ${rPol.name}`,
    );
  }
  mainMode.chosen = chosenMm;
  mainMode.chosenSuite = ikeSuite(chosenMm);

  // Authentication: initiator's order, first the responder accepts; both must hold the credential.
  const iAuth = authMethods(iPol, iRule!);
  const rAuth = authMethods(rPol, rRule);
  const method = iAuth.find((m) => rAuth.some((n) => sameAuth(m, n))) ?? null;
  if (!method) {
    ike.result = 'authentication-failed';
    return failed(
      `authentication failed: ${iPol.name}'s rule "${iRule!.name}" offers ${list(iAuth, describeAuthMethod)}, ${rPol.name}'s rule "${rRule.name}" accepts ${list(rAuth, describeAuthMethod)} → AUTHENTICATION_FAILED`,
      `use the same first authentication method on both rules (e.g. computer certificates from the same certification authority)`,
    );
  }
  ike.authentication = method;
  const credProblem = credentialProblem(iPol, method, rPol) ?? credentialProblem(rPol, method, iPol);
  if (credProblem) {
    ike.result = 'authentication-failed';
    return failed(
      `authentication with ${describeAuthMethod(method)} failed: ${credProblem} → AUTHENTICATION_FAILED`,
      method.kind === 'computer-certificate'
        ? `enrol every node for a computer certificate from "${method.caName}" (or name the certification authority the nodes' certificates come from in both rules)`
        : 'join both nodes to the same domain, or use computer certificates',
    );
  }

  // Quick mode.
  const iQm = quickModeSet(iPol, iRule!);
  const rQm = quickModeSet(rPol, rRule);
  const iOffer = offeredQuickModeProposals(iQm);
  const rOffer = offeredQuickModeProposals(rQm);
  const iPfs = pfsGroupNumber(iQm.perfectForwardSecrecy, chosenMm ? dhGroupNumber(chosenMm.keyExchange) : 0);
  const rPfs = pfsGroupNumber(rQm.perfectForwardSecrecy, chosenMm ? dhGroupNumber(chosenMm.keyExchange) : 0);
  const quickMode: QuickModeOutcome = { offered: iOffer, offeredSuites: iOffer.map(childSuite), chosen: null, chosenSuite: null, pfsGroup: iPfs, requireEncryption: iQm.requireEncryption };
  ike.quickMode = quickMode;
  const chosenQm = iOffer.find((p) => rOffer.some((q) => sameQuickMode(p, q))) ?? null;
  if (!chosenQm || iPfs !== rPfs) {
    ike.result = 'quick-mode-failed';
    const why = !chosenQm
      ? `quick mode found no common proposal: ${iPol.name} offers ${list(iOffer, describeQuickModeProposal)} (${quickModeSetName(iRule!)}${iQm.requireEncryption ? ', encryption required' : ''}), ${rPol.name} accepts ${list(rOffer, describeQuickModeProposal)} (${quickModeSetName(rRule)}${rQm.requireEncryption ? ', encryption required' : ''})`
      : `quick mode perfect forward secrecy differs: ${iPol.name} uses ${iQm.perfectForwardSecrecy}, ${rPol.name} uses ${rQm.perfectForwardSecrecy}`;
    return failed(`${why} → NO_PROPOSAL_CHOSEN`, 'give both nodes the same data protection (quick mode) settings: require encryption, ESP AES256/SHA256 first, the same PFS setting');
  }
  quickMode.chosen = chosenQm;
  quickMode.chosenSuite = childSuite(chosenQm);
  ike.result = 'established';

  const encrypted = proposalEncrypts(chosenQm);
  const mmSuite = mainMode.chosenSuite!;
  const weakMm = chosenMm.integrity === 'MD5' || chosenMm.integrity === 'SHA1' || chosenMm.encryption === 'DES' || chosenMm.encryption === '3DES'
    || chosenMm.keyExchange === 'DH1' || chosenMm.keyExchange === 'DH2' || chosenMm.keyExchange === 'DH24';
  const reason = `${what}: ${keyingName} under ${iPol.name}'s rule "${iRule!.name}" (outbound ${outReq}) and ${rPol.name}'s rule "${rRule.name}" (inbound ${inReq}); `
    + `main mode ${describeMainModeProposal(chosenMm)} (${mmSuite.encryption}${mmSuite.keyLength ? `-${mmSuite.keyLength}` : ''}, ${mmSuite.prf}, group ${mmSuite.dhGroup}; first of ${iPol.name}'s ${offered.length} proposal(s) that ${rPol.name} accepts), `
    + `authenticated by ${describeAuthMethod(method)}; quick mode ${describeQuickModeProposal(chosenQm)}${encrypted ? '' : ' (integrity only: the data travels unencrypted)'}.`;
  const fixes: string[] = [];
  if (!encrypted) fixes.push(`on ${iPol.name} and ${rPol.name}, tick "Require encryption for all connection security rules that use these settings" in the data protection (quick mode) settings and put ESP AES256/SHA256 first`);
  if (weakMm) fixes.push(`in the IPsec defaults' key exchange (main mode) settings of ${iPol.name} and ${rPol.name}, use SHA256/AES256 with DH14 or stronger and remove ${describeMainModeProposal(chosenMm)}`);
  if (outReq !== 'require' || inReq !== 'require') fixes.push(`set the rules to "Require authentication for inbound and outbound connections" (${outReq !== 'require' ? `"${iRule!.name}" on ${iPol.name} only requests outbound` : ''}${outReq !== 'require' && inReq !== 'require' ? '; ' : ''}${inReq !== 'require' ? `"${rRule.name}" on ${rPol.name} only ${inReq === 'request' ? 'requests' : 'does not ask for'} inbound` : ''})`);
  return { ...base, outcome: 'protected', protection: chosenQm.encapsulation, encrypted, ike, reason, remedy: fixes.length ? fixes.join('; ') : null };
}

function requirers(rules: DirectionPlan['rules']): string {
  const who: string[] = [];
  if (rules.initiator?.requirement === 'require') who.push(`${rules.initiator.node}'s rule "${rules.initiator.rule}" (outbound)`);
  if (rules.responder?.requirement === 'require') who.push(`${rules.responder.node}'s rule "${rules.responder.rule}" (inbound)`);
  return who.join(' and ');
}

// ------------------------------------------------------------------------ the whole cluster

export interface PairPlan {
  /** Node names, in policy order. */
  a: string;
  b: string;
  aAddress: string;
  bAddress: string;
  /** a opens to b, and b opens to a (any traffic, no port-specific rules). */
  aToB: DirectionPlan;
  bToA: DirectionPlan;
}

/** Every node pair, both directions, on each node's first address. */
export function planPairs(policy: ClusterIpsecPolicy): PairPlan[] {
  const out: PairPlan[] = [];
  const nodes = policy.nodes;
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const a = nodes[i]!;
      const b = nodes[j]!;
      const aAddress = a.addresses[0]!;
      const bAddress = b.addresses[0]!;
      out.push({
        a: a.name, b: b.name, aAddress, bAddress,
        aToB: planDirection(policy, aAddress, bAddress, { protocol: 'tcp' }),
        bToA: planDirection(policy, bAddress, aAddress, { protocol: 'tcp' }),
      });
    }
  }
  return out;
}
