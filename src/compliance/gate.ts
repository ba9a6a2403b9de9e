// The CI gate: which findings break the build. The report stays honest (a check with a
// medium finding still says fail); `failOn` from the policy file decides whether that
// failure is worth a red build, like terraform-compliance's @warning. Info findings (and
// waived ones, which are downgraded to info) never break it; an expired waiver's finding
// has its real severity again, so it breaks it again.
import { findingSeverity, severityRank, type Check, type Severity } from '../report/model.js';
import { breaksGate, type GateSeverity } from './policy.js';

export interface GateResult {
  failOn: GateSeverity;
  /** 'pass': nothing at or above failOn failed; 'fail': something did; 'error': a check could not be judged. */
  result: 'pass' | 'fail' | 'error';
  /** Findings of failed checks at or above the threshold. */
  breaking: number;
  /** Findings of failed checks below the threshold: reported, not breaking. */
  belowThreshold: number;
  /** Findings that count again because their waiver expired. */
  expiredWaivers: number;
  /** The worst breaking findings (at most EXAMPLES, worst first, then in report order), for a one-line CI message. */
  examples: { check: string; severity: Severity; message: string }[];
}

const EXAMPLES = 5;

export function evaluateGate(checks: readonly Check[], failOn: GateSeverity = 'low'): GateResult {
  const out: GateResult = { failOn, result: 'pass', breaking: 0, belowThreshold: 0, expiredWaivers: 0, examples: [] };
  for (const c of checks) {
    if (c.status === 'error') out.result = 'error';
    for (const f of c.findings) {
      if (f.evidence && typeof f.evidence === 'object' && 'waiverExpired' in f.evidence) out.expiredWaivers++;
    }
    if (c.status !== 'fail') continue;
    for (const f of c.findings) {
      const severity = findingSeverity(c, f);
      if (severity === 'info') continue;
      if (breaksGate(severity, failOn)) {
        out.breaking++;
        out.examples.push({ check: c.id, severity, message: f.message });
      } else {
        out.belowThreshold++;
      }
    }
  }
  // Array.prototype.sort is stable: equal severities keep the report's order.
  out.examples = out.examples.sort((a, b) => severityRank(a.severity) - severityRank(b.severity)).slice(0, EXAMPLES);
  if (out.result !== 'error' && out.breaking > 0) out.result = 'fail';
  return out;
}
