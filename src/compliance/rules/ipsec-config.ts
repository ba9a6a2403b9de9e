// The IPsec configuration each node exported, judged against the seed's set-up:
//   ipsec.rules (IPSEC-1, IPSEC-2)  one enabled server-to-server rule per node: endpoint 1 this
//                                    node, endpoint 2 every other node, all profiles (IPSEC-1);
//                                    require authentication inbound and outbound, with a
//                                    certificate or Kerberos (IPSEC-2); a gateway-only node the
//                                    policy names is reported, not judged (IPSEC-6)
//   ipsec.main-mode (IPSEC-3)        key exchange: the first proposal, and any later one some pair
//                                    of nodes settles on, as strong as the policy's IKE rules
//                                    (SHA-256, AES-CBC-256, DH ≥ 14); "Diffie-Hellman for enhanced
//                                    security" on
//   ipsec.quick-mode (IPSEC-4)       data protection: require encryption (no AH-only, no ESP-NULL
//                                    proposal offered), a 256-bit AES cipher first (CBC, as the
//                                    seed chose, or GCM)
// Node data comes from the policy model (src/ipsec/policy-model.ts), whatever it was read from.
import { addressListCovers, parseAddressList } from '../../ipsec/address-list.js';
import { ikeSuite } from '../../ipsec/iana.js';
import { describeAuthMethod, describeMainModeProposal, describeQuickModeProposal, offeredQuickModeProposals, proposalEncrypts, type MainModeProposal, type NodeIpsecPolicy, type QuickModeCryptoSet, type QuickModeProposal } from '../../ipsec/policy-model.js';
import type { Check, Finding } from '../../report/model.js';
import { NodeSet } from '../node-set.js';
import { makeCheck, skippedCheck, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';
import { suiteProblems } from './ike-policy.js';

export const IPSEC_RULES = 'ipsec.rules';
export const IPSEC_MAIN_MODE = 'ipsec.main-mode';
export const IPSEC_QUICK_MODE = 'ipsec.quick-mode';
export const IPSEC_RULES_META: CheckMeta = { id: IPSEC_RULES, title: 'Each node has a server-to-server rule to every other node, requiring authentication both ways', behaviour: ['IPSEC-1', 'IPSEC-2'], severity: 'critical' };
export const IPSEC_MAIN_MODE_META: CheckMeta = { id: IPSEC_MAIN_MODE, title: 'Key exchange (main mode): SHA-256, AES-CBC-256, strong Diffie-Hellman', behaviour: ['IPSEC-3'], severity: 'high' };
export const IPSEC_QUICK_MODE_META: CheckMeta = { id: IPSEC_QUICK_MODE, title: 'Data protection (quick mode): require encryption, AES 256 first', behaviour: ['IPSEC-4'], severity: 'high' };

export interface NodeConfigEvidence {
  policy: NodeIpsecPolicy;
  /** Where the parts came from; null = not exported. */
  sources: { rules: string[]; mainMode: string | null; quickMode: string | null; authentication: string | null };
  notes: string[];
  weakAuth: { rule: string; methods: string[] }[];
}

/** Rules that protect traffic from this node to `peer`: enabled, this node in endpoint 1, the peer in endpoint 2. */
export function coveringRules(node: NodeIpsecPolicy, peer: string) {
  return node.rules.filter((r) => r.enabled && node.addresses.some((a) => addressListCovers(parseAddressList(r.endpoint1), a)) && addressListCovers(parseAddressList(r.endpoint2), peer));
}

/**
 * Whether an address is a gateway-only node the policy names (`gatewayNodes`): such a node is
 * outside the IPsec set-up, and the seed leaves open whether it needs IPsec (IPSEC-6), so
 * what concerns it is reported, never judged, as ipsec.esp-only reports its traffic.
 */
export function gatewayOnlyTest(ctx: RuleContext): (address: string) => boolean {
  const list = ctx.policy.gatewayNodes ?? [];
  if (list.length === 0) return () => false;
  const set = new NodeSet(list, 'policy gatewayNodes');
  return (address) => set.contains(address);
}

export function ipsecRulesCheck(nodes: readonly NodeConfigEvidence[], ctx: RuleContext): Check {
  if (nodes.length === 0) return skippedCheck(IPSEC_RULES_META, 'No evidence: no Windows IPsec rule export (Get-NetIPsecRule | ConvertTo-Json, or netsh advfirewall consec show rule name=all) in the folder');
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  const isGatewayOnly = gatewayOnlyTest(ctx);
  const all = nodes.flatMap((n) => n.policy.addresses.map((a) => ({ node: n.policy.name, address: a })));
  for (const n of nodes) {
    const p = n.policy;
    // IPSEC-1: a rule per node covering every other node, all profiles; IPSEC-2: require, with a
    // certificate or Kerberos. A pair with a gateway-only node the policy names is reported, not
    // judged (IPSEC-6 leaves it open).
    const add = (behaviour: 'IPSEC-1' | 'IPSEC-2', message: string, severity: Finding['severity'], evidence: Record<string, unknown> = {}, gatewayPair = false): void => {
      const at = { node: p.name, file: n.sources.rules[0], ...evidence };
      if (gatewayPair) findings.push({ message: `${p.name}: gateway-only node pair, reported separately (IPSEC-6 leaves it open): ${message}`, severity: 'info', behaviour: [behaviour], evidence: { ...at, gatewayNode: true } });
      else findings.push(withWaiver(ctx, IPSEC_RULES, { message: `${p.name}: ${message}`, ...(severity ? { severity } : {}), behaviour: [behaviour], evidence: at }));
    };
    const selfGateway = p.addresses.some(isGatewayOnly);
    for (const peer of all.filter((x) => x.node !== p.name)) {
      const gatewayPair = selfGateway || isGatewayOnly(peer.address);
      const rules = coveringRules(p, peer.address);
      if (rules.length === 0) {
        add('IPSEC-1', `no enabled connection security rule covers ${peer.address} (${peer.node}) as endpoint 2: traffic between them is not protected by this node`, 'critical', { peer: peer.node, dst: peer.address }, gatewayPair);
        continue;
      }
      const best = rules.find((r) => r.inbound === 'require' && r.outbound === 'require') ?? rules[0]!;
      if (best.inbound !== 'require' || best.outbound !== 'require') {
        add('IPSEC-2', `rule "${best.name}" covers ${peer.node} with ${best.inbound} inbound / ${best.outbound} outbound: only "Require authentication for inbound and outbound connections" stops clear text (request falls back to it)`, 'high', { rule: best.name, peer: peer.node, inbound: best.inbound, outbound: best.outbound }, gatewayPair);
      }
      const missing = (['domain', 'private', 'public'] as const).filter((x) => !best.profiles.includes(x));
      if (missing.length > 0) add('IPSEC-1', `rule "${best.name}" does not apply in the ${missing.join(', ')} profile(s): when the node's network is one of those, the rule is off (the seed selects all profiles)`, 'medium', { rule: best.name, profiles: best.profiles }, gatewayPair);
    }
    for (const r of p.rules.filter((x) => !x.enabled)) findings.push({ message: `${p.name}: rule "${r.name}" is disabled`, severity: 'info', evidence: { node: p.name, rule: r.name } });
    for (const w of n.weakAuth) add('IPSEC-2', `rule "${w.rule}" authenticates with ${w.methods.join(', ')}: IPSEC-2 asks for a computer certificate or Kerberos`, 'high', { rule: w.rule, methods: w.methods });
    for (const r of p.rules.filter((x) => x.enabled)) {
      const methods = r.authentication.length > 0 ? r.authentication : p.defaults.authentication;
      if (methods.length === 0 && !n.weakAuth.some((w) => w.rule === r.name)) add('IPSEC-2', `rule "${r.name}" has no authentication method`, 'high', { rule: r.name });
      observed.push({ node: p.name, rule: r.name, endpoint1: r.endpoint1, endpoint2: r.endpoint2, inbound: r.inbound, outbound: r.outbound, profiles: r.profiles, authentication: methods.map(describeAuthMethod), file: n.sources.rules[0] });
    }
    for (const note of n.notes) findings.push({ message: `${p.name}: ${note}`, severity: 'info', evidence: { node: p.name } });
  }
  return makeCheck({
    ...IPSEC_RULES_META,
    findings,
    observed,
    remediation:
      'On every node: New Rule… → Server-to-server; endpoint 1 = this node, endpoint 2 = every other node; "Require authentication for inbound and outbound connections"; a computer certificate (or Kerberos); all profiles.',
  });
}

const sameMainMode = (a: MainModeProposal, b: MainModeProposal): boolean => a.integrity === b.integrity && a.encryption === b.encryption && a.keyExchange === b.keyExchange;

/**
 * What main mode settles on from `initiator` to `responder`: the first of the initiator's
 * proposals the responder also has, under IKEv2 (every proposal) or IKEv1/AuthIP (no AES-GCM
 * in phase 1). Pure.
 */
export function mainModeChoices(initiator: readonly MainModeProposal[], responder: readonly MainModeProposal[]): MainModeProposal[] {
  const out: MainModeProposal[] = [];
  for (const usable of [(_p: MainModeProposal) => true, (p: MainModeProposal) => ikeSuite(p).ikev1 !== null]) {
    const r = responder.filter(usable);
    const chosen = initiator.filter(usable).find((p) => r.some((q) => sameMainMode(p, q)));
    if (chosen && !out.some((x) => sameMainMode(x, chosen))) out.push(chosen);
  }
  return out;
}

/**
 * A weak proposal below a strong first one matters only if some pair of nodes settles on it.
 * With every node's set exported that can be worked out: the pairs that would negotiate it, or
 * none (then it is reported, not failed, as ipsec.ike-policy reports a weak alternative on the
 * wire). Undefined: some node's set is unknown, so nobody can say.
 */
function pairsSettlingOn(p: MainModeProposal, self: NodeConfigEvidence, all: readonly NodeConfigEvidence[]): string[] | undefined {
  if (all.length < 2 || all.some((n) => n.sources.mainMode === null)) return undefined;
  const out: string[] = [];
  for (const peer of all) {
    if (peer === self) continue;
    const a = self.policy.defaults.mainMode.proposals;
    const b = peer.policy.defaults.mainMode.proposals;
    if ([...mainModeChoices(a, b), ...mainModeChoices(b, a)].some((c) => sameMainMode(c, p))) out.push(`${self.policy.name}–${peer.policy.name}`);
  }
  return out;
}

export function ipsecMainModeCheck(nodes: readonly NodeConfigEvidence[], ctx: RuleContext): Check {
  const exported = nodes.filter((n) => n.sources.mainMode !== null);
  if (exported.length === 0) return skippedCheck(IPSEC_MAIN_MODE_META, 'No evidence: no main mode crypto set export (Get-NetIPsecMainModeCryptoSet | ConvertTo-Json) in the folder');
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const n of exported) {
    const mm = n.policy.defaults.mainMode;
    mm.proposals.forEach((p, i) => {
      const suite = ikeSuite(p);
      const problems = suiteProblems({ encryption: suite.encryption, keyLength: suite.keyLength, integrity: suite.integrity, prf: suite.prf, dhGroup: suite.dhGroup }, ctx.policy.ike);
      observed.push({ node: n.policy.name, order: i + 1, proposal: describeMainModeProposal(p), encryption: suite.encryption, keyLength: suite.keyLength, integrity: suite.integrity, dhGroup: suite.dhGroup, ok: problems.length === 0, file: n.sources.mainMode });
      if (problems.length === 0) return;
      const head = `${n.policy.name}: main mode proposal ${i + 1} (${describeMainModeProposal(p)}) is weak: ${problems.join('; ')}`;
      const evidence = { node: n.policy.name, proposal: describeMainModeProposal(p), order: i + 1, problems, file: n.sources.mainMode };
      if (i === 0) {
        findings.push(withWaiver(ctx, IPSEC_MAIN_MODE, { message: `${head} — it is the first, so it is what peers negotiate`, severity: 'high', evidence }));
        return;
      }
      const pairs = pairsSettlingOn(p, n, nodes);
      if (pairs === undefined) findings.push(withWaiver(ctx, IPSEC_MAIN_MODE, { message: `${head} — a peer offering it first gets it (downgrade)`, severity: 'medium', evidence }));
      else if (pairs.length > 0) findings.push(withWaiver(ctx, IPSEC_MAIN_MODE, { message: `${head} — ${pairs.join(', ')} settle on it: it is their first common proposal`, severity: 'high', evidence: { ...evidence, pairs } }));
      else findings.push({ message: `${head} — reported, not failed: every other node shares a stronger earlier proposal with ${n.policy.name}, so no pair of these nodes settles on it; remove it so that no peer offering it first can downgrade`, severity: 'info', evidence });
    });
    if (!mm.forceDiffieHellman) findings.push(withWaiver(ctx, IPSEC_MAIN_MODE, { message: `${n.policy.name}: "Use Diffie-Hellman for enhanced security" is off (ForceDiffieHellman false): the seed turns it on`, severity: 'medium', evidence: { node: n.policy.name, file: n.sources.mainMode } }));
  }
  for (const n of nodes.filter((x) => x.sources.mainMode === null)) findings.push({ message: `${n.policy.name}: no main mode crypto set exported: not judged`, severity: 'info', evidence: { node: n.policy.name } });
  return makeCheck({
    ...IPSEC_MAIN_MODE_META,
    findings,
    observed,
    remediation: 'IPsec Settings → Customize → Key exchange (Advanced) → Customize: keep only SHA-256 / AES-CBC 256 / Diffie-Hellman group 14 or stronger, and tick "Use Diffie-Hellman for enhanced security".',
  });
}

/** A strong cipher at the top: AES 256 (CBC, as the seed chose, or GCM), with or without AH around it. */
const strongFirst = (p: QuickModeProposal): boolean => proposalEncrypts(p) && (p.espEncryption === 'AES256' || p.espEncryption === 'AESGCM256');

/**
 * What is wrong with a quick-mode set, judged on what it really offers: with "Require
 * encryption" ticked Windows never offers (or accepts) an integrity-only proposal, so such a
 * proposal further down the list is only reported. The seed's essential point is that box; its
 * second is "a better encryption algorithm at the top" (it chose AES-CBC 256): a 256-bit AES
 * cipher first, CBC or GCM.
 */
export function quickModeProblems(set: QuickModeCryptoSet): { message: string; severity: Finding['severity'] }[] {
  const out: { message: string; severity: Finding['severity'] }[] = [];
  const offered = offeredQuickModeProposals(set);
  const integrityOnly = offered.filter((p) => !proposalEncrypts(p));
  if (integrityOnly.length > 0) out.push({ message: `offers integrity-only protection (${integrityOnly.map(describeQuickModeProposal).join(', ')}): "Require encryption for all connection security rules that use these settings" is not ticked`, severity: 'high' });
  const notOffered = set.proposals.filter((p) => !offered.includes(p));
  if (notOffered.length > 0) out.push({ message: `lists integrity-only protection (${notOffered.map(describeQuickModeProposal).join(', ')}) that "Require encryption" keeps from being offered or accepted; remove it`, severity: 'info' });
  const first = offered[0];
  if (!first) out.push({ message: '"Require encryption" is ticked but no proposal encrypts: no quick mode can be negotiated', severity: 'medium' });
  else if (!strongFirst(first)) out.push({ message: `the first proposal offered is ${describeQuickModeProposal(first)}, not a 256-bit AES cipher (the seed puts AES-CBC 256 at the top; AES-GCM 256 is as strong)`, severity: 'medium' });
  const weakCiphers = offered.filter((p) => proposalEncrypts(p) && ['DES', '3DES'].includes(p.espEncryption));
  if (weakCiphers.length > 0) out.push({ message: `offers weak ciphers (${weakCiphers.map(describeQuickModeProposal).join(', ')})`, severity: 'medium' });
  return out;
}

export function ipsecQuickModeCheck(nodes: readonly NodeConfigEvidence[], ctx: RuleContext): Check {
  const exported = nodes.filter((n) => n.sources.quickMode !== null || n.policy.rules.some((r) => r.quickMode));
  if (exported.length === 0) return skippedCheck(IPSEC_QUICK_MODE_META, 'No evidence: no quick mode crypto set export (Get-NetIPsecQuickModeCryptoSet | ConvertTo-Json, or QuickModeSecMethods in netsh rule output) in the folder');
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const n of exported) {
    const sets: { where: string; set: QuickModeCryptoSet }[] = [];
    if (n.sources.quickMode !== null) sets.push({ where: 'IPsec defaults (data protection)', set: n.policy.defaults.quickMode });
    for (const r of n.policy.rules) if (r.quickMode) sets.push({ where: `rule "${r.name}"`, set: r.quickMode });
    for (const s of sets) {
      observed.push({ node: n.policy.name, settings: s.where, requireEncryption: s.set.requireEncryption, proposals: s.set.proposals.map(describeQuickModeProposal), file: n.sources.quickMode });
      for (const pr of quickModeProblems(s.set)) {
        const f: Finding = { message: `${n.policy.name}: ${s.where} ${pr.message}`, severity: pr.severity, evidence: { node: n.policy.name, settings: s.where, file: n.sources.quickMode } };
        findings.push(pr.severity === 'info' ? f : withWaiver(ctx, IPSEC_QUICK_MODE, f));
      }
    }
  }
  return makeCheck({
    ...IPSEC_QUICK_MODE_META,
    findings,
    observed,
    remediation: 'IPsec Settings → Customize → Data protection (Advanced) → Customize: tick "Require encryption for all connection security rules that use these settings" and put ESP AES-CBC 256 / SHA-256 (or AES-GCM 256) at the top.',
  });
}
