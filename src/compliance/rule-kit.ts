// Small pieces every rule needs: timestamps as evidence, waivers that never hide a
// finding, and the status a set of findings earns.
import type { Check, CheckStatus, Finding, Severity } from '../report/model.js';
import { activeWaiver, expiredWaiverFor, type Policy } from './policy.js';

/** ISO 8601 UTC with microseconds: evidence a reviewer can line up with tcpdump output. */
export function isoTime(seconds: number): string | null {
  if (!Number.isFinite(seconds)) return null;
  const whole = Math.floor(seconds);
  const micros = Math.round((seconds - whole) * 1e6);
  const carry = micros >= 1e6 ? 1 : 0;
  const base = new Date((whole + carry) * 1000).toISOString().slice(0, 19);
  return `${base}.${String(carry ? 0 : micros).padStart(6, '0')}Z`;
}

export interface RuleContext {
  policy: Policy;
  now: Date;
}

/**
 * Applies an active waiver to a finding: it stays in the report, marked and downgraded to
 * info, so a waiver can never hide a result. An expired waiver does not apply: the finding
 * counts again, and says which waiver lapsed so nobody wonders why the gate broke.
 */
export function withWaiver(ctx: RuleContext, checkId: string, finding: Finding): Finding {
  const waiver = activeWaiver(ctx.policy, checkId, finding.evidence, ctx.now);
  if (!waiver) {
    const lapsed = expiredWaiverFor(ctx.policy, checkId, finding.evidence, ctx.now);
    if (!lapsed) return finding;
    return {
      ...finding,
      message: `[waiver expired on ${lapsed.expires} (approved by ${lapsed.approver}: ${lapsed.reason}): counts again] ${finding.message}`,
      evidence: { ...finding.evidence, waiverExpired: { reason: lapsed.reason, approver: lapsed.approver, expires: lapsed.expires } },
    };
  }
  return {
    message: `[waived until ${waiver.expires} by ${waiver.approver}: ${waiver.reason}] ${finding.message}`,
    severity: 'info',
    ...(finding.behaviour ? { behaviour: finding.behaviour } : {}),
    evidence: { ...finding.evidence, waiver: { reason: waiver.reason, approver: waiver.approver, expires: waiver.expires } },
  };
}

/** Fails when any finding carries more than info severity. */
export function statusOf(findings: readonly Finding[], checkSeverity: Severity): CheckStatus {
  return findings.some((f) => (f.severity ?? checkSeverity) !== 'info') ? 'fail' : 'pass';
}

/** What a check is before any evidence: one constant per rule, shared by its judged and its skipped form. */
export type CheckMeta = Pick<Check, 'id' | 'title' | 'behaviour' | 'severity'>;

export function makeCheck(fields: Omit<Check, 'status'> & { status?: CheckStatus }): Check {
  // A fresh behaviour list per check: the fields usually spread a rule's shared CheckMeta.
  return { ...fields, behaviour: [...fields.behaviour], status: fields.status ?? statusOf(fields.findings, fields.severity) };
}

/** A check that could not be judged at all: `skip`, with one info finding saying why. */
export function skippedCheck(meta: CheckMeta, message: string, evidence: Record<string, unknown> = {}): Check {
  return { ...meta, behaviour: [...meta.behaviour], status: 'skip', findings: [{ message, severity: 'info', evidence }], observed: [] };
}

/** Turns a judged check into a `skip` (nothing to judge after all), adding the info finding that says why. */
export function markSkipped(check: Check, message: string, evidence: Record<string, unknown> = {}): void {
  check.status = 'skip';
  check.findings.push({ message, severity: 'info', evidence });
}

/** Unordered pair key: both directions of a node pair report as one. */
export function pairKey(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}
