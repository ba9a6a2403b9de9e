// The human summary: verdict first, then what is wrong (worst first, one line each with
// check id, behaviour ids, message and the key evidence), then what is not judged, then
// the proof behind each pass, then what was read. Colour only when the caller asks (the
// CLI decides from the TTY, NO_COLOR and FORCE_COLOR); evidence text is sanitised so a
// hostile string in a capture or log cannot drive the reader's terminal.
import { formatBytes } from '../util/format.js';
import { Chalk, type ChalkInstance } from 'chalk';
import { findingSeverity, severityRank, type Check, type Finding, type InputRecord, type Report, type Severity } from './model.js';

export interface TextOptions {
  color: boolean;
  /** Findings listed before "… and N more" (default 25). */
  maxFindings?: number;
  /** Checks per section (passed, not passed) before "… and N more" (default 50). */
  maxChecks?: number;
  /** Inputs listed before "… and N more" (default 20). */
  maxInputs?: number;
}

const MORE_HINT = '(see --format json)';

/** Evidence fields worth a place on a finding's line, best first; others follow in their own order. */
const KEY_EVIDENCE = [
  'src', 'dst', 'protocol', 'dstPort', 'service',
  'initiator', 'responder', 'ikeVersion', 'encryption', 'keyLength', 'integrity', 'prf', 'dhGroup',
  'spi', 'packets', 'bytes', 'file', 'input', 'offset',
];
const MAX_EVIDENCE_FIELDS = 8;
/** Identifiers: never summarised in a pass's proof line (they differ per row by nature). */
const ROW_IDENTIFIERS = new Set(['nodeA', 'nodeB', 'initiator', 'responder', 'src', 'dst', 'spi', 'spiI', 'file', 'input', 'firstSeen', 'lastSeen', 'path']);
const COUNT_KEY = /(packets|bytes|flows|count|messages|copies|encrypted|null|unsure)$/i;

// C0/C1 controls (ANSI escapes start with ESC or CSI) and bidi overrides ("Trojan Source").
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Makes untrusted text safe for a terminal: control and bidi characters become visible escapes. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_CHARS, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\n') return '↵';
    if (ch === '\t') return ' ';
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function oneLine(text: string, max = 400): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let s = terminalSafe(lines[0] ?? '');
  if (lines.length > 1) s += ` (+${lines.length - 1} more line${lines.length > 2 ? 's' : ''})`;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') {
    const safe = terminalSafe(value.length > 80 ? `${value.slice(0, 79)}…` : value);
    return /^[^\s"=]+$/.test(safe) ? safe : JSON.stringify(safe);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** `key=value …` for the scalar evidence fields that matter most. */
export function evidenceLine(evidence: Record<string, unknown>): string {
  const keys = [...KEY_EVIDENCE.filter((k) => k in evidence), ...Object.keys(evidence).filter((k) => !KEY_EVIDENCE.includes(k))];
  const parts: string[] = [];
  for (const key of keys) {
    if (parts.length >= MAX_EVIDENCE_FIELDS) break;
    if (key === 'waiver') continue; // the message already says it is waived
    const v = scalar(evidence[key]);
    if (v !== undefined) parts.push(`${terminalSafe(key)}=${v}`);
  }
  return parts.join(' ');
}

function noun(rows: readonly Record<string, unknown>[]): [string, string] {
  const has = (k: string): boolean => rows.some((r) => k in r);
  if (has('nodeA') && has('nodeB')) return ['node pair', 'node pairs'];
  if (has('initiator') && has('responder')) return ['IKE SA', 'IKE SAs'];
  if (has('file')) return ['file', 'files'];
  return ['observation', 'observations'];
}

/**
 * One line of proof from a check's `observed` rows: how many rows, the sums of their
 * counters and the values the rows agree on (e.g. the negotiated algorithms).
 */
export function proofLine(observed: readonly Record<string, unknown>[]): string {
  if (observed.length === 0) return 'no observations recorded';
  // A totals row (file "(all)", format "totals") already sums the others: use it alone for counters.
  const totals = observed.find((r) => Object.values(r).some((v) => v === '(all)' || v === 'totals'));
  const rows = totals ? observed.filter((r) => r !== totals) : observed;
  const [one, many] = noun(rows.length > 0 ? rows : observed);
  const parts: string[] = [];
  const keys: string[] = [];
  for (const r of observed) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  for (const key of keys) {
    if (parts.length >= 6) break;
    if (ROW_IDENTIFIERS.has(key)) continue;
    const present = (from: readonly Record<string, unknown>[]): unknown[] => from.map((r) => r[key]).filter((v) => v !== undefined && v !== null);
    const counter = COUNT_KEY.test(key);
    const values = present(counter && totals && key in totals ? [totals] : rows);
    if (values.length === 0) continue;
    if (counter && values.every((v) => typeof v === 'number')) {
      parts.push(`${terminalSafe(key)}=${values.reduce((a: number, v) => a + (v as number), 0)}`);
    } else if (values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
      const counts = new Map<string, number>();
      for (const v of values) counts.set(scalar(v) ?? '', (counts.get(scalar(v) ?? '') ?? 0) + 1);
      if (counts.size > 3) continue;
      parts.push(`${terminalSafe(key)}=${counts.size === 1 ? [...counts.keys()][0] : [...counts].map(([v, n]) => `${v}(${n})`).join('/')}`);
    }
  }
  const n = rows.length > 0 ? rows.length : observed.length;
  return `${n} ${n === 1 ? one : many}${parts.length > 0 ? `: ${parts.join(' ')}` : ''}`;
}

function behaviourTag(check: Check): string {
  return check.behaviour.length > 0 ? ` [${check.behaviour.map((b) => terminalSafe(b)).join(', ')}]` : '';
}

function more(n: number): string {
  return `  … and ${n} more ${MORE_HINT}`;
}

export function renderText(report: Report, options: TextOptions): string {
  const c: ChalkInstance = new Chalk({ level: options.color ? 1 : 0 });
  const maxFindings = options.maxFindings ?? 25;
  const maxChecks = options.maxChecks ?? 50;
  const maxInputs = options.maxInputs ?? 20;
  const sev: Record<Severity, (s: string) => string> = {
    critical: (s) => c.red.bold(s),
    high: (s) => c.red(s),
    medium: (s) => c.yellow(s),
    low: (s) => c.cyan(s),
    info: (s) => c.gray(s),
  };
  const out: string[] = [];

  // 1. The verdict.
  const { summary } = report;
  const verdictText = report.verdict.toUpperCase();
  const verdict = report.verdict === 'pass' ? c.green.bold(verdictText) : report.verdict === 'fail' ? c.red.bold(verdictText) : c.magenta.bold(verdictText);
  out.push(`${verdict}  ${summary.pass} passed, ${summary.fail} failed, ${summary.error} errored, ${summary.skip} skipped (${report.checks.length} checks)`);
  out.push(c.dim(`${terminalSafe(report.tool.name)} ${terminalSafe(report.tool.version)} · ${terminalSafe(report.generatedAt)}`));

  // 2. Findings, worst first (a skipped check's findings say why it was skipped: shown below).
  const listed: { check: Check; finding: Finding; severity: Severity; order: number }[] = [];
  for (const check of report.checks) {
    if (check.status === 'skip') continue;
    for (const finding of check.findings) listed.push({ check, finding, severity: findingSeverity(check, finding), order: listed.length });
  }
  listed.sort((a, b) => severityRank(a.severity) - severityRank(b.severity) || a.order - b.order);
  if (listed.length > 0) {
    const bySeverity = new Map<Severity, number>();
    for (const f of listed) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
    out.push('', c.bold(`Findings, worst first: ${[...bySeverity].map(([s, n]) => `${n} ${s}`).join(', ')}`));
    for (const { check, finding, severity } of listed.slice(0, maxFindings)) {
      const evidence = evidenceLine(finding.evidence);
      out.push(
        `  ${sev[severity](severity.toUpperCase().padEnd(8))} ${c.bold(terminalSafe(check.id))}${behaviourTag(check)}  ${oneLine(finding.message)}${evidence ? `  ${c.dim(`{${evidence}}`)}` : ''}`,
      );
    }
    if (listed.length > maxFindings) out.push(more(listed.length - maxFindings));
  }

  // 3. Checks that did not pass: what to do about each, or why it could not be judged.
  const notPassed = report.checks.filter((ch) => ch.status !== 'pass');
  if (notPassed.length > 0) {
    out.push('', c.bold('Not passed:'));
    for (const check of notPassed.slice(0, maxChecks)) {
      const mark = check.status === 'fail' ? c.red('✗ FAIL ') : check.status === 'error' ? c.magenta('! ERROR') : c.yellow('- SKIP ');
      out.push(`  ${mark} ${c.bold(terminalSafe(check.id))}${behaviourTag(check)}  ${terminalSafe(check.title)}`);
      if (check.status === 'skip' || check.status === 'error') {
        const why = check.findings[0];
        if (why) out.push(`          ${c.dim(`why: ${oneLine(why.message)}`)}`);
      }
      if (check.status === 'fail' && check.remediation) out.push(`          ${c.dim(`fix: ${oneLine(check.remediation, 600)}`)}`);
    }
    if (notPassed.length > maxChecks) out.push(more(notPassed.length - maxChecks));
  }

  // 4. Passes, each with its proof.
  const passed = report.checks.filter((ch) => ch.status === 'pass');
  if (passed.length > 0) {
    out.push('', c.bold('Passed:'));
    for (const check of passed.slice(0, maxChecks)) {
      out.push(`  ${c.green('✓')} ${c.bold(terminalSafe(check.id))}${behaviourTag(check)}  ${terminalSafe(check.title)}  ${c.dim(`proof: ${proofLine(check.observed)}`)}`);
    }
    if (passed.length > maxChecks) out.push(more(passed.length - maxChecks));
  }

  // 5. What was read.
  out.push('', c.bold('Inputs:'));
  if (report.inputs.length === 0) out.push(`  ${c.dim('(none)')}`);
  for (const input of report.inputs.slice(0, maxInputs)) out.push(`  ${inputLine(input)}`);
  if (report.inputs.length > maxInputs) out.push(more(report.inputs.length - maxInputs));
  return `${out.join('\n')}\n`;
}

function inputLine(input: InputRecord): string {
  const parts = [terminalSafe(input.path), terminalSafe(input.format), formatBytes(input.bytes)];
  parts.push(input.sha256 ? `sha256 ${input.sha256}` : 'sha256 not computed');
  if (input.linkTypes.length > 0) parts.push(`link types ${input.linkTypes.join(',')}`);
  return parts.join('  ');
}
