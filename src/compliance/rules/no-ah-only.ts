// ipsec.no-ah-only (IPSEC-4): AH authenticates but does not encrypt; between nodes it
// must not stand alone (AH wrapping ESP is fine: the ESP inside encrypts).
import type { CaptureFacts } from '../../capture/facts.js';
import type { Check, Finding } from '../../report/model.js';
import { protocolName } from '../../capture/traffic-analyzer.js';
import { isoTime, makeCheck, markSkipped, pairKey, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';

export const NO_AH_ONLY = 'ipsec.no-ah-only';
export const NO_AH_ONLY_META: CheckMeta = { id: NO_AH_ONLY, title: 'No AH-only (integrity-only) protection between nodes', behaviour: ['IPSEC-4'], severity: 'high' };

export function noAhOnlyCheck(facts: CaptureFacts, ctx: RuleContext): Check {
  const interNode = facts.pairs.filter((p) => p.srcNode && p.dstNode);
  const findings: Finding[] = [];
  const observed = new Map<string, { nodeA: string; nodeB: string; ahOnlyPackets: number; ahWithEspPackets: number; espPackets: number }>();
  for (const p of interNode) {
    const [a, b] = pairKey(p.src, p.dst);
    const row = observed.get(`${a}|${b}`) ?? { nodeA: a, nodeB: b, ahOnlyPackets: 0, ahWithEspPackets: 0, espPackets: 0 };
    row.ahOnlyPackets += p.ahOnlyPackets;
    row.ahWithEspPackets += p.ahWithEspPackets;
    row.espPackets += p.espPackets;
    observed.set(`${a}|${b}`, row);
    if (p.ahOnlyPackets === 0) continue;
    const inner = p.ahOnlyInnerProtocols.map(protocolName);
    findings.push(
      withWaiver(ctx, NO_AH_ONLY, {
        message: `AH-only protection between nodes ${p.src} → ${p.dst}: ${p.ahOnlyPackets} packets of ${inner.join(', ')} authenticated but sent unencrypted${p.espPackets > 0 ? ' (this pair also carries ESP)' : ''}`,
        evidence: { src: p.src, dst: p.dst, packets: p.ahOnlyPackets, bytes: p.ahOnlyBytes, innerProtocols: inner, espAlsoSeen: p.espPackets > 0, firstSeen: isoTime(p.firstSeen), lastSeen: isoTime(p.lastSeen) },
      }),
    );
  }
  const check = makeCheck({
    ...NO_AH_ONLY_META,
    findings,
    observed: [...observed.values()],
    remediation: 'Remove AH-only quick-mode proposals (New-NetIPsecQuickModeCryptoProposal -Encapsulation AH) and require ESP with encryption.',
  });
  if (interNode.every((p) => p.packets === p.controlPackets)) markSkipped(check, 'No traffic between the listed nodes in the capture: nothing to judge');
  return check;
}
