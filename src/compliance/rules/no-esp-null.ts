// ipsec.no-esp-null (IPSEC-4): ESP between nodes must encrypt. Judged per ESP flow
// (src, dst, SPI, encapsulation) from the packets' own structure (RFC 5879): a flow is
// ESP-NULL when its first packets all show a valid clear trailer and inner header.
import type { CaptureFacts, EspFlowFacts } from '../../capture/facts.js';
import type { Check, Finding } from '../../report/model.js';
import { protocolName } from '../../capture/traffic-analyzer.js';
import { isoTime, makeCheck, markSkipped, pairKey, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';

export const NO_ESP_NULL = 'ipsec.no-esp-null';
export const NO_ESP_NULL_META: CheckMeta = { id: NO_ESP_NULL, title: 'ESP between nodes encrypts (no integrity-only ESP-NULL)', behaviour: ['IPSEC-4'], severity: 'critical' };

function flowEvidence(f: EspFlowFacts): Record<string, unknown> {
  return {
    src: f.src,
    dst: f.dst,
    spi: f.spi,
    udpEncapsulated: f.udpEncapsulated,
    packets: f.packets,
    bytes: f.bytes,
    verdict: f.verdict,
    clearTextMatches: f.nullMatches,
    icvLength: f.icvLength ?? null,
    innerProtocol: f.innerProtocol === undefined ? null : protocolName(f.innerProtocol),
    firstSeen: isoTime(f.firstSeen),
    lastSeen: isoTime(f.lastSeen),
  };
}

export function noEspNullCheck(facts: CaptureFacts, ctx: RuleContext, nodeFlow: (f: EspFlowFacts) => boolean): Check {
  const flows = facts.espFlows.filter(nodeFlow);
  const findings: Finding[] = [];
  const k = ctx.policy.espNull.minPackets;
  for (const f of flows) {
    const evidence = flowEvidence(f);
    if (f.verdict === 'null') {
      findings.push(
        withWaiver(ctx, NO_ESP_NULL, {
          message: `ESP-NULL between nodes ${f.src} → ${f.dst} (SPI ${f.spi}): ${f.nullMatches} packets in a row carry clear ${evidence.innerProtocol} behind a ${f.icvLength}-byte ICV: integrity only, no encryption`,
          evidence,
        }),
      );
    } else if (f.verdict === 'unsure' && f.nullMatches > 0) {
      findings.push(
        withWaiver(ctx, NO_ESP_NULL, {
          message: `ESP flow ${f.src} → ${f.dst} (SPI ${f.spi}) looks unencrypted but has only ${f.nullMatches} of the ${k} packets needed to be sure`,
          severity: 'medium',
          evidence,
        }),
      );
    }
  }
  // Observed: per node pair, how many flows were proven encrypted.
  const byPair = new Map<string, { nodeA: string; nodeB: string; flows: number; encrypted: number; espNull: number; unsure: number; packets: number }>();
  for (const f of flows) {
    const [a, b] = pairKey(f.src, f.dst);
    const row = byPair.get(`${a}|${b}`) ?? { nodeA: a, nodeB: b, flows: 0, encrypted: 0, espNull: 0, unsure: 0, packets: 0 };
    row.flows++;
    row.packets += f.packets;
    if (f.verdict === 'encrypted') row.encrypted++;
    else if (f.verdict === 'null') row.espNull++;
    else row.unsure++;
    byPair.set(`${a}|${b}`, row);
  }
  const check = makeCheck({
    ...NO_ESP_NULL_META,
    findings,
    observed: [...byPair.values()],
    remediation: 'In the IPsec defaults, Data Protection (quick mode): tick "Require encryption for all connection security rules that use these settings" and put AES-CBC 256 first; remove ESP proposals with no encryption.',
  });
  if (flows.length === 0) {
    markSkipped(check, 'No ESP between nodes in the capture: nothing to judge');
  } else if (check.status === 'pass' && flows.every((f) => f.verdict === 'unsure' && f.nullMatches === 0)) {
    // Every ESP packet was cut by the snaplen: no trailer was seen, so nothing was judged.
    markSkipped(check, `None of the ${flows.length} ESP flows between nodes could be judged: their packets were cut by the capture's snaplen (capture with -s 0)`, {
      flows: flows.length,
      unjudgedPackets: flows.reduce((n, f) => n + f.unjudged, 0),
    });
  }
  return check;
}
