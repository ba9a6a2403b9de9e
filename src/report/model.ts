// The compliance report model: one shape shared by every front door (check, audit, run)
// and every writer (json, text, junit, sarif). The JSON form is validated against
// report.schema.json before it is written, so users' pipelines can rely on it.
import { toolInfo } from '../util/package-info.js';

export const REPORT_SCHEMA_ID = 'cryptgate/report@1';

export type CheckStatus = 'pass' | 'fail' | 'error' | 'skip';
export type Verdict = 'pass' | 'fail' | 'error';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Something wrong (or, with severity `info`, worth a reviewer's eye) with its evidence. */
export interface Finding {
  message: string;
  /** Overrides the check's severity for this finding (e.g. `info` for non-node traffic). */
  severity?: Severity;
  /**
   * The documented behaviours this finding says are broken, when it is narrower than its
   * check's (e.g. a local-mode finding of `kms.status` speaks to KMS-1, not KMS-6). Absent:
   * all of the check's behaviours.
   */
  behaviour?: string[];
  evidence: Record<string, unknown>;
}

export interface Check {
  /** Stable id, e.g. `ipsec.esp-only`. */
  id: string;
  title: string;
  /** Documented behaviour ids this check proves, e.g. `IPSEC-5`. */
  behaviour: string[];
  status: CheckStatus;
  severity: Severity;
  findings: Finding[];
  /** What was seen even when the check passes: a pass must show its proof. */
  observed: Record<string, unknown>[];
  /** What to change when the check fails. */
  remediation?: string;
}

export interface InputRecord {
  path: string;
  sha256: string;
  bytes: number;
  format: string;
  linkTypes: number[];
}

export interface ReportSummary {
  pass: number;
  fail: number;
  error: number;
  skip: number;
}

export interface Report {
  schema: typeof REPORT_SCHEMA_ID;
  tool: { name: string; version: string };
  generatedAt: string;
  verdict: Verdict;
  inputs: InputRecord[];
  checks: Check[];
  summary: ReportSummary;
  /** Where the evidence came from (e.g. which KMS backend produced it). */
  context?: Record<string, unknown>;
}

/**
 * A report of `checks` from this tool, now: its verdict is theirs, or 'error' when nothing
 * could be judged (no evidence, no traffic between nodes, every scenario skipped), which is
 * never a pass.
 */
export function newReport(o: { checks: Check[]; inputs: InputRecord[]; judged: boolean; context: Record<string, unknown> }): Report {
  return {
    schema: REPORT_SCHEMA_ID,
    tool: toolInfo(),
    generatedAt: new Date().toISOString(),
    verdict: o.judged ? verdictOf(o.checks) : 'error',
    inputs: o.inputs,
    checks: o.checks,
    summary: summarise(o.checks),
    context: o.context,
  };
}

export function summarise(checks: readonly Check[]): ReportSummary {
  const summary: ReportSummary = { pass: 0, fail: 0, error: 0, skip: 0 };
  for (const check of checks) summary[check.status] += 1;
  return summary;
}

export function verdictOf(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.status === 'error')) return 'error';
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  return 'pass';
}

/** The severity a finding really carries: its own, or its check's. */
export function findingSeverity(check: Check, finding: Finding): Severity {
  return finding.severity ?? check.severity;
}

export function severityRank(severity: Severity): number {
  return SEVERITY_ORDER.indexOf(severity);
}

/** What a report says about one documented behaviour, as the audit's coverage and the HTML page show it. */
export type BehaviourResult = 'pass' | 'fail' | 'error' | 'no evidence';

/**
 * One behaviour's result from the checks that speak to it: `error` if one of them could not
 * judge, `fail` if a failed check holds a counted (non-info) finding about this behaviour (a
 * finding speaks to its `behaviour` ids, else to all of its check's; a failed check without
 * any counted finding fails all of its behaviours), `pass` if some check judged it, else
 * `no evidence`. So a check that covers two behaviours fails only the one its findings name.
 */
export function behaviourResult(checks: readonly Check[], id: string): BehaviourResult {
  const covering = checks.filter((c) => c.behaviour.includes(id));
  if (covering.some((c) => c.status === 'error')) return 'error';
  const failsIt = (c: Check): boolean => {
    if (c.status !== 'fail') return false;
    const counted = c.findings.filter((f) => findingSeverity(c, f) !== 'info');
    return counted.length === 0 || counted.some((f) => (f.behaviour ?? c.behaviour).includes(id));
  };
  if (covering.some(failsIt)) return 'fail';
  return covering.some((c) => c.status === 'pass' || c.status === 'fail') ? 'pass' : 'no evidence';
}
