// Turns cucumber's message stream into the cryptgate compliance report: one check per
// scenario, carrying the behaviour ids and severity from its tags (@IPSEC-5, @critical)
// and the evidence its steps attached. Formatters depend only on messages, so this can
// also rebuild a report from a stored messages.ndjson.
//
// A scenario the run's KMS backend cannot reproduce carries a not-reproducible attachment
// (steps/kms.steps.ts attaches it, from the scenario's @needs-… tags): its check becomes
// status "skip" with the finding `not reproducible on <backend>: <why>` — never a pass,
// and still listed, so nothing is dropped silently. A failure seen before the marker stays a
// failure.
import type { Check, CheckStatus, Finding, Severity } from '../report/model.js';
import { notReproducibleMessage } from './reproducibility.js';

/** The subset of cucumber message envelopes this reads. */
export interface Envelope {
  pickle?: { id: string; name: string; uri: string; tags: { name: string }[] };
  testCase?: { id: string; pickleId: string };
  testCaseStarted?: { id: string; testCaseId: string };
  testStepFinished?: { testCaseStartedId: string; testStepResult: { status: string; message?: string } };
  testCaseFinished?: { testCaseStartedId: string; willBeRetried?: boolean };
  attachment?: { testCaseStartedId?: string; mediaType: string; body: string; contentEncoding?: string };
}

/** Steps attach JSON with this media type to put facts into the check's `observed`. */
export const OBSERVED_MEDIA_TYPE = 'application/vnd.cryptgate.observed+json';
/** …and this one for a finding a passing scenario still wants reported. */
export const FINDING_MEDIA_TYPE = 'application/vnd.cryptgate.finding+json';
/** …and this one, `{backend, why, tag?}`, when the backend cannot reproduce the scenario. */
export const NOT_REPRODUCIBLE_MEDIA_TYPE = 'application/vnd.cryptgate.not-reproducible+json';

export interface NotReproducibleMarker {
  backend: string;
  why: string;
  /** The requirement tag that is not met, e.g. `@needs-disabled-keys`. */
  tag?: string;
}

const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const BEHAVIOUR_TAG = /^@((?:IPSEC|KMS)-\d+)$/;

interface Attempt {
  pickleId: string;
  steps: { status: string; message?: string }[];
  observed: Record<string, unknown>[];
  findings: Finding[];
  notReproducible: NotReproducibleMarker[];
  finished: boolean;
  retried: boolean;
}

export class ScenarioReportBuilder {
  private readonly pickles = new Map<string, NonNullable<Envelope['pickle']>>();
  private readonly testCases = new Map<string, string>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly order: string[] = [];

  add(e: Envelope): void {
    if (e.pickle) this.pickles.set(e.pickle.id, e.pickle);
    else if (e.testCase) this.testCases.set(e.testCase.id, e.testCase.pickleId);
    else if (e.testCaseStarted) {
      const pickleId = this.testCases.get(e.testCaseStarted.testCaseId) ?? '';
      this.attempts.set(e.testCaseStarted.id, { pickleId, steps: [], observed: [], findings: [], notReproducible: [], finished: false, retried: false });
      this.order.push(e.testCaseStarted.id);
    } else if (e.testStepFinished) {
      this.attempts.get(e.testStepFinished.testCaseStartedId)?.steps.push(e.testStepFinished.testStepResult);
    } else if (e.attachment?.testCaseStartedId) {
      const attempt = this.attempts.get(e.attachment.testCaseStartedId);
      if (!attempt) return;
      const body = e.attachment.contentEncoding === 'BASE64' ? Buffer.from(e.attachment.body, 'base64').toString('utf8') : e.attachment.body;
      if (e.attachment.mediaType === OBSERVED_MEDIA_TYPE) attempt.observed.push(JSON.parse(body) as Record<string, unknown>);
      else if (e.attachment.mediaType === FINDING_MEDIA_TYPE) attempt.findings.push(JSON.parse(body) as Finding);
      else if (e.attachment.mediaType === NOT_REPRODUCIBLE_MEDIA_TYPE) attempt.notReproducible.push(JSON.parse(body) as NotReproducibleMarker);
    } else if (e.testCaseFinished) {
      const attempt = this.attempts.get(e.testCaseFinished.testCaseStartedId);
      if (attempt) {
        attempt.finished = true;
        attempt.retried = e.testCaseFinished.willBeRetried ?? false;
      }
    }
  }

  checks(): Check[] {
    const checks: Check[] = [];
    const ids = new UniqueIds();
    for (const id of this.order) {
      const attempt = this.attempts.get(id)!;
      if (attempt.retried) continue; // the final attempt speaks for the scenario
      const pickle = this.pickles.get(attempt.pickleId);
      if (!pickle) continue;
      const tags = pickle.tags.map((t) => t.name);
      const behaviour = tags.map((t) => BEHAVIOUR_TAG.exec(t)?.[1]).filter((b): b is string => b !== undefined);
      const severity = SEVERITIES.find((s) => tags.includes(`@${s}`)) ?? 'high';
      let status = statusOf(attempt);
      const findings: Finding[] = [];
      for (const m of attempt.notReproducible) {
        findings.push({ message: notReproducibleMessage(m), evidence: { notReproducible: true, backend: m.backend, ...(m.tag ? { requirement: m.tag } : {}) } });
      }
      findings.push(...attempt.findings);
      for (const step of attempt.steps) {
        if (step.status !== 'PASSED' && step.status !== 'SKIPPED' && step.message) findings.push({ message: firstLines(step.message), evidence: { stepStatus: step.status } });
        else if (step.status === 'UNDEFINED' || step.status === 'AMBIGUOUS' || step.status === 'PENDING') findings.push({ message: `a step is ${step.status.toLowerCase()}`, evidence: { stepStatus: step.status } });
      }
      const marked = attempt.notReproducible.length > 0 || tags.includes('@not-reproducible') || attempt.findings.some((f) => f.evidence?.notReproducible === true);
      if (marked && (status === 'pass' || status === 'skip')) status = 'skip';
      checks.push({
        id: ids.next(scenarioId(pickle.uri, pickle.name)),
        title: pickle.name,
        behaviour,
        status,
        severity,
        findings,
        observed: attempt.observed,
      });
    }
    return checks;
  }
}

/** A check the backend could not reproduce (skipped for that reason, not for another). */
export function isNotReproducible(check: Check): boolean {
  return check.status === 'skip' && check.findings.some((f) => f.evidence?.notReproducible === true);
}

function statusOf(attempt: Attempt): CheckStatus {
  const statuses = attempt.steps.map((s) => s.status);
  if (statuses.includes('FAILED')) return 'fail';
  if (statuses.some((s) => s === 'UNDEFINED' || s === 'AMBIGUOUS' || s === 'PENDING' || s === 'UNKNOWN')) return 'error';
  if (!attempt.finished) return 'error';
  if (statuses.length > 0 && statuses.every((s) => s === 'SKIPPED')) return 'skip';
  return 'pass';
}

/** `kms/multi-node/<slug of the scenario name>`: the check id, and the scenario's evidence folder. */
export function scenarioId(uri: string, name: string): string {
  return `${uri.replace(/\\/g, '/').replace(/^.*features\//, '').replace(/\.feature$/, '')}/${slug(name)}`;
}

/** Scenario outline rows share a name: the second gets `-2`, and so on (in run order). */
export class UniqueIds {
  private readonly seen = new Map<string, number>();

  next(id: string): string {
    const n = (this.seen.get(id) ?? 0) + 1;
    this.seen.set(id, n);
    return n === 1 ? id : `${id}-${n}`;
  }
}

export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

function firstLines(message: string): string {
  return message.split('\n').slice(0, 6).join('\n');
}
