// capture.evidence: what the capture holds and what it could not show. A pass shows how
// much was read; a capture cut short (judged with --allow-truncated), packets cut by the
// snaplen and undecodable frames are reported so nobody mistakes partial evidence for whole.
import type { CaptureTotals } from '../../capture/facts.js';
import type { CaptureSummary } from '../../capture/reader.js';
import type { Check, Finding } from '../../report/model.js';
import { makeCheck, markSkipped, type CheckMeta } from '../rule-kit.js';

export const CAPTURE_EVIDENCE = 'capture.evidence';
export const CAPTURE_EVIDENCE_META: CheckMeta = { id: CAPTURE_EVIDENCE, title: 'The capture evidence was read completely', behaviour: ['IPSEC-5'], severity: 'medium' };

export function captureEvidenceCheck(files: readonly { path: string; summary: CaptureSummary }[], totals: CaptureTotals): Check {
  const findings: Finding[] = [];
  for (const { path, summary } of files) {
    if (summary.truncated) {
      findings.push({
        message: `Evidence incomplete: ${path} is cut short (${summary.truncated.message}); only its ${summary.packets} complete records were judged`,
        severity: 'info',
        evidence: { file: path, offset: summary.truncated.offset, packetsJudged: summary.packets },
      });
    }
    if (summary.snapTruncatedPackets > 0) {
      findings.push({
        message: `${summary.snapTruncatedPackets} packets in ${path} were cut by the capture's snaplen: their ESP trailers and IKE proposals may be unreadable (capture with -s 0 / pktmon --pkt-size 0)`,
        severity: 'info',
        evidence: { file: path, packets: summary.snapTruncatedPackets },
      });
    }
  }
  if (totals.undecodablePackets > 0) {
    findings.push({
      message: `${totals.undecodablePackets} frames had a link or IP header that could not be decoded (${totals.truncatedIpPackets} cut by the snaplen) and were not judged`,
      severity: 'info',
      evidence: { ...totals },
    });
  }
  const observed = files.map(({ path, summary }) => ({
    file: path,
    format: summary.formatDetail,
    compressed: summary.compressed,
    packets: summary.packets,
    bytes: summary.bytes,
    linkTypes: summary.linkTypes,
    interfaces: summary.interfaces,
    truncated: summary.truncated !== undefined,
  }));
  const check = makeCheck({ ...CAPTURE_EVIDENCE_META, findings, observed });
  if (totals.packets === 0) markSkipped(check, 'The capture holds no packets');
  return check;
}
