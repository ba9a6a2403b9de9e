// Cross-checks between the nodes' exported IPsec configuration and the wire:
//   ipsec.rule-coverage (IPSEC-1, IPSEC-5)   every node pair that exchanged traffic in the
//     capture is covered by an enabled rule on both nodes (each side protects its direction);
//     a missing rule breaks IPSEC-1 (whether the pair's bytes still went through ESP is
//     ipsec.esp-only's to say); a pair with a gateway-only node the policy names is reported
//     as info, as ipsec.esp-only reports its traffic (IPSEC-6)
//   ipsec.proposals-allowed (IPSEC-3)        every IKE SA negotiated on the wire used a
//     main-mode proposal both nodes' exported crypto sets allow
// A pair or SA whose node has no export is named (cannot be shown), never assumed fine.
import type { CaptureFacts } from '../../capture/facts.js';
import { suiteNames } from '../../capture/ike-suite.js';
import { ikeSuite } from '../../ipsec/iana.js';
import { describeMainModeProposal } from '../../ipsec/policy-model.js';
import type { Check, Finding } from '../../report/model.js';
import { assembleIkeSas } from '../ike-sas.js';
import { isoTime, makeCheck, markSkipped, pairKey, skippedCheck, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';
import { coveringRules, gatewayOnlyTest, type NodeConfigEvidence } from './ipsec-config.js';

export const IPSEC_RULE_COVERAGE = 'ipsec.rule-coverage';
export const IPSEC_PROPOSALS_ALLOWED = 'ipsec.proposals-allowed';
export const IPSEC_RULE_COVERAGE_META: CheckMeta = { id: IPSEC_RULE_COVERAGE, title: 'Every node pair seen on the wire is covered by a rule on both nodes', behaviour: ['IPSEC-1', 'IPSEC-5'], severity: 'critical' };
export const IPSEC_PROPOSALS_ALLOWED_META: CheckMeta = { id: IPSEC_PROPOSALS_ALLOWED, title: "Each IKE SA on the wire used a proposal both nodes' crypto sets allow", behaviour: ['IPSEC-3'], severity: 'high' };

const owner = (nodes: readonly NodeConfigEvidence[], address: string): NodeConfigEvidence | undefined => nodes.find((n) => n.policy.addresses.includes(address));

export function ipsecRuleCoverageCheck(nodes: readonly NodeConfigEvidence[], facts: CaptureFacts | undefined, ctx: RuleContext): Check {
  if (!facts) return skippedCheck(IPSEC_RULE_COVERAGE_META, 'No evidence: no capture was judged, so there are no node pairs to check the rules against');
  if (nodes.length === 0) return skippedCheck(IPSEC_RULE_COVERAGE_META, 'No evidence: no Windows IPsec rule export in the folder to check the captured node pairs against');
  const pairs = new Map<string, { a: string; b: string; packets: number; bytes: number; first: number }>();
  for (const p of facts.pairs) {
    if (!(p.srcNode && p.dstNode) || p.packets <= p.controlPackets) continue;
    const [a, b] = pairKey(p.src, p.dst);
    const k = `${a}|${b}`;
    const row = pairs.get(k) ?? { a, b, packets: 0, bytes: 0, first: p.firstSeen };
    row.packets += p.packets;
    row.bytes += p.bytes;
    row.first = Math.min(row.first, p.firstSeen);
    pairs.set(k, row);
  }
  const isGatewayOnly = gatewayOnlyTest(ctx);
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const { a, b, packets, bytes, first } of [...pairs.values()].sort((x, y) => x.a.localeCompare(y.a) || x.b.localeCompare(y.b))) {
    const sides = [
      { self: a, peer: b },
      { self: b, peer: a },
    ].map(({ self, peer }) => {
      const n = owner(nodes, self);
      const rules = n ? coveringRules(n.policy, peer).filter((r) => r.inbound !== 'none' || r.outbound !== 'none') : [];
      return { self, peer, node: n?.policy.name ?? null, rules: rules.map((r) => r.name), file: n?.sources.rules[0] ?? null };
    });
    observed.push({ nodeA: a, nodeB: b, packets, bytes, rulesOnA: sides[0]!.rules, rulesOnB: sides[1]!.rules });
    // A pair with a gateway-only node the policy names is outside the IPsec set-up: reported, not judged (IPSEC-6).
    const gateway = isGatewayOnly(a) || isGatewayOnly(b);
    for (const s of sides) {
      const evidence = { src: s.self, dst: s.peer, node: s.node, packets, bytes, firstSeen: isoTime(first), file: s.file, ...(gateway ? { gatewayNode: true } : {}) };
      const missing = !s.node
        ? { message: `${s.self} exchanged ${packets} packets with ${s.peer}, but no IPsec export in the folder is from ${s.self}: its rules cannot be shown to cover the pair`, severity: 'medium' as const }
        : s.rules.length === 0
          ? { message: `${s.node} (${s.self}) has no enabled rule covering ${s.peer}, yet the capture shows ${packets} packets between them (first at ${isoTime(first)}): add ${s.peer} to endpoint 2 of its server-to-server rule` }
          : undefined;
      if (!missing) continue;
      if (gateway) findings.push({ message: `Gateway-only node pair, reported separately (IPSEC-6 leaves it open): ${missing.message}`, severity: 'info', behaviour: ['IPSEC-1'], evidence });
      else findings.push(withWaiver(ctx, IPSEC_RULE_COVERAGE, { ...missing, behaviour: ['IPSEC-1'], evidence }));
    }
  }
  const check = makeCheck({
    ...IPSEC_RULE_COVERAGE_META,
    findings,
    observed,
    remediation: 'On each node named, add the other node to endpoint 2 of its server-to-server connection security rule (or export the rules of the node that has none in the folder).',
  });
  if (pairs.size === 0 && check.status === 'pass') markSkipped(check, 'No evidence: the capture shows no traffic between node pairs');
  return check;
}

const suiteKey = (s: { encryption: string; keyLength: number | null; prf: string; dhGroup: number | null }): string => `${s.encryption}/${s.keyLength ?? '-'}/${s.prf}/${s.dhGroup ?? '-'}`;

export function ipsecProposalsAllowedCheck(nodes: readonly NodeConfigEvidence[], facts: CaptureFacts | undefined, ctx: RuleContext): Check {
  const withMm = nodes.filter((n) => n.sources.mainMode !== null);
  if (!facts) return skippedCheck(IPSEC_PROPOSALS_ALLOWED_META, 'No evidence: no capture was judged, so there are no IKE proposals to compare');
  if (withMm.length === 0) return skippedCheck(IPSEC_PROPOSALS_ALLOWED_META, 'No evidence: no main mode crypto set export (Get-NetIPsecMainModeCryptoSet) to compare the wire with');
  const sas = assembleIkeSas(facts.ike).filter((sa) => sa.status === 'negotiated' && sa.chosen);
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const sa of sas) {
    const chosen = suiteNames(sa.ikeVersion, sa.chosen!);
    const key = suiteKey(chosen);
    const row: Record<string, unknown> = { initiator: sa.initiator, responder: sa.responder, ikeVersion: sa.ikeVersion, encryption: chosen.encryption, keyLength: chosen.keyLength, prf: chosen.prf, dhGroup: chosen.dhGroup, spiI: sa.spiI };
    for (const [role, address] of [['initiator', sa.initiator], ['responder', sa.responder]] as const) {
      const n = owner(nodes, address);
      if (!n || n.sources.mainMode === null) {
        row[`${role}Allows`] = null;
        if (owner(nodes, sa.initiator) || owner(nodes, sa.responder)) {
          findings.push({ message: `IKE SA ${sa.initiator} → ${sa.responder}: no main mode crypto set exported for ${address}: cannot show it allows ${key}`, severity: 'info', evidence: { initiator: sa.initiator, responder: sa.responder, spiI: sa.spiI } });
        }
        continue;
      }
      const allowed = n.policy.defaults.mainMode.proposals.filter((p) => suiteKey(ikeSuite(p)) === key);
      row[`${role}Allows`] = allowed.length > 0;
      if (allowed.length === 0) {
        findings.push(
          withWaiver(ctx, IPSEC_PROPOSALS_ALLOWED, {
            message: `IKE SA ${sa.initiator} → ${sa.responder} (IKEv${sa.ikeVersion}) negotiated ${chosen.encryption}${chosen.keyLength ? `-${chosen.keyLength}` : ''}/${chosen.prf}/group ${chosen.dhGroup}, which ${n.policy.name}'s exported main mode set does not allow (${n.policy.defaults.mainMode.proposals.map(describeMainModeProposal).join(', ')}): the configuration in force is not the one exported`,
            evidence: { initiator: sa.initiator, responder: sa.responder, node: n.policy.name, spiI: sa.spiI, firstSeen: isoTime(sa.firstSeen), file: n.sources.mainMode },
          }),
        );
      }
    }
    observed.push(row);
  }
  const check = makeCheck({ ...IPSEC_PROPOSALS_ALLOWED_META, findings, observed, remediation: 'Export the crypto sets again from the nodes named (the running configuration differs from the export), or align the main mode crypto sets so every node offers only the proposals the policy allows.' });
  if (sas.length === 0 && check.status === 'pass') markSkipped(check, 'No evidence: no IKE negotiation in the capture (capture across an IPsec restart or rekey)');
  return check;
}
