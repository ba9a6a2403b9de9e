// Audit parity: what `cryptgate audit` must say about the evidence a Gherkin scenario left,
// declared on the scenario with tags, and the comparison with what the audit did say.
//
//   @audit:KMS-8=fail   the audit of this scenario's evidence fails KMS-8 (the scenario
//                       demonstrates it violated)
//   @audit:KMS-3=pass   the audit judges KMS-3 and passes it (not merely "no evidence")
//   @audit:none         there is nothing for the audit to judge: the scenario leaves no evidence
//                       folder of its own, or the audit of it has no evidence for any behaviour
//                       (checked); the comment line(s) right above the tag say why
// Every behaviour no tag names must not fail: pass or no evidence. And an audit that judged
// nothing at all, on a scenario not tagged @audit:none, is a mismatch too: never a silent
// pass (it is also what a broken evidence discovery would look like). A tag that starts with
// `@audit` and is none of these, names an unknown behaviour or one no audit check judges, or
// contradicts another, is an error (InputError), never ignored. Pure: no I/O.
import type { BehaviourResult, Check, Finding } from '../report/model.js';
import { findingSeverity } from '../report/model.js';
import { InputError } from '../util/errors.js';
import { AUDITED_BEHAVIOURS, BEHAVIOURS } from './audit-checks.js';

export type ExpectedResult = 'pass' | 'fail';

export interface AuditExpectation {
  /** `@audit:none`: nothing to audit (no folder of its own, or no evidence for any behaviour). */
  none: boolean;
  /** Behaviour id → the result the audit must give; any other behaviour must not fail. */
  results: Map<string, ExpectedResult>;
}

const AUDIT_TAG = /^@audit\b/i;
const WELL_FORMED = /^@audit:(?:(none)|([A-Z]+-\d+)=(pass|fail))$/;

/** Reads the audit tags among a scenario's tags (other tags are ignored). */
export function parseAuditTags(tags: readonly string[]): AuditExpectation {
  const out: AuditExpectation = { none: false, results: new Map() };
  const audit = tags.filter((t) => AUDIT_TAG.test(t));
  for (const tag of audit) {
    const m = WELL_FORMED.exec(tag);
    if (!m) throw new InputError(`audit tag ${tag}: expected @audit:<behaviour>=fail, @audit:<behaviour>=pass or @audit:none (e.g. @audit:KMS-8=fail)`);
    if (m[1]) {
      out.none = true;
      continue;
    }
    const id = m[2]!;
    const want = m[3] as ExpectedResult;
    if (!BEHAVIOURS.some((b) => b.id === id)) throw new InputError(`audit tag ${tag}: unknown behaviour ${id} (expected one of ${BEHAVIOURS.map((b) => b.id).join(', ')})`);
    if (!AUDITED_BEHAVIOURS.includes(id)) {
      const why = BEHAVIOURS.find((b) => b.id === id)!.needs;
      throw new InputError(`audit tag ${tag}: no audit check judges ${id} (${why}), so the audit can only say "no evidence" for it`);
    }
    const before = out.results.get(id);
    if (before && before !== want) throw new InputError(`audit tags @audit:${id}=${before} and ${tag} contradict each other`);
    out.results.set(id, want);
  }
  if (out.none && out.results.size > 0) throw new InputError(`audit tags: @audit:none says there is nothing to audit, yet ${[...out.results.keys()].map((id) => `@audit:${id}=${out.results.get(id)}`).join(' ')} expects results`);
  return out;
}

/**
 * The reason given for `@audit:none`: the comment lines right above the line that carries the
 * tag (`# audit:none — …`), joined; null when there is none. `comments` are the feature file's
 * comments with their 1-based lines.
 */
export function reasonAbove(comments: readonly { line: number; text: string }[], tagLine: number): string | null {
  const byLine = new Map(comments.map((c) => [c.line, c.text.trim().replace(/^#\s?/, '').trim()] as const));
  const lines: string[] = [];
  for (let l = tagLine - 1; byLine.has(l); l--) lines.unshift(byLine.get(l)!);
  const text = lines.filter((x) => x !== '').join(' ').replace(/^audit:none\s*[:—–-]?\s*/i, '');
  return text === '' ? null : text;
}

export interface ParityMismatch {
  behaviour: string;
  /** What the tags ask: `fail`, `pass`, or `pass or no evidence` for an untagged behaviour. */
  expected: string;
  audited: BehaviourResult;
  /** The audit's findings (and skip reasons) that explain its result, one line each. */
  because: string[];
}

const MAX_LINES = 6;

/** What the audit said about one behaviour and why: its counted findings, else what was seen or skipped. */
function explain(checks: readonly Check[], behaviour: string, audited: BehaviourResult): string[] {
  const covering = checks.filter((c) => c.behaviour.includes(behaviour));
  if (covering.length === 0) return ['no audit check covers it'];
  const lines: string[] = [];
  const speaksTo = (c: Check, f: Finding): boolean => (f.behaviour ?? c.behaviour).includes(behaviour);
  if (audited === 'fail' || audited === 'error') {
    for (const c of covering.filter((x) => x.status === 'fail' || x.status === 'error')) {
      for (const f of c.findings.filter((x) => findingSeverity(c, x) !== 'info' && speaksTo(c, x))) lines.push(`${c.id}: ${f.message}`);
    }
  } else {
    for (const c of covering) {
      const first = c.findings.find((f) => speaksTo(c, f));
      lines.push(`${c.id}: ${c.status}${first ? ` (${first.message})` : ''}`);
    }
  }
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), `… and ${lines.length - MAX_LINES} more`] : lines;
}

/** Where the audit's per-behaviour results disagree with the expectation. Pure. */
export function compareWithAudit(expectation: AuditExpectation, results: ReadonlyMap<string, BehaviourResult>, checks: readonly Check[]): ParityMismatch[] {
  const out: ParityMismatch[] = [];
  for (const [behaviour, audited] of results) {
    const want = expectation.none ? 'no evidence' : expectation.results.get(behaviour);
    const ok = want === undefined ? audited === 'pass' || audited === 'no evidence' : audited === want;
    if (!ok) out.push({ behaviour, expected: want ?? 'pass or no evidence', audited, because: explain(checks, behaviour, audited) });
  }
  if (!expectation.none && results.size > 0 && [...results.values()].every((r) => r === 'no evidence')) {
    const read = checks.find((c) => c.id === 'audit.evidence');
    const kinds = read?.observed.map((o) => `${String(o.kind)}: ${String(o.files)}`).join(', ');
    out.push({
      behaviour: 'every behaviour',
      expected: 'at least one judged (or tag the scenario @audit:none, saying why)',
      audited: 'no evidence',
      because: [`the audit found no evidence for any behaviour${kinds ? ` (files read: ${kinds})` : ''}`],
    });
  }
  return out;
}

/** The failure message of a scenario whose audit disagrees: every behaviour, expected vs audited, and why. */
export function mismatchMessage(command: string, mismatches: readonly ParityMismatch[]): string {
  const parts = mismatches.map((m) => `${m.behaviour}: expected ${m.expected}, audited ${m.audited}${m.because.length ? `\n    ${m.because.join('\n    ')}` : ''}`);
  return `the audit of this scenario's evidence disagrees with the scenario (\`${command}\`):\n  ${parts.join('\n  ')}`;
}
