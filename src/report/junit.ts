// JUnit XML as Jenkins and GitLab read it: one <testsuite name="cryptgate">, one
// <testcase> per check (classname = its behaviour ids, name = "<check id>: <title>"),
// <failure> for fail, <error> for error, <skipped/> for skip, and the check's behaviour
// ids and severity as <properties>. A pass carries its proof in <system-out>.
//
// Every string is escaped for XML 1.0, including the characters XML 1.0 cannot carry at
// all (most C0 controls, lone surrogates, U+FFFE/U+FFFF), which become visible \uXXXX text:
// evidence comes from captures and logs, and a hostile byte must not break the CI parser.
import { findingSeverity, severityRank, type Check, type Finding, type Report } from './model.js';

export interface JunitOptions {
  /** Findings written into a failure's body before "… and N more" (default 200). */
  maxFindings?: number;
  /** Observed rows written into a testcase's system-out before "… and N more" (default 200). */
  maxObserved?: number;
}

/** Characters XML 1.0 cannot represent in any form (not even as character references). */
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Allowed but "discouraged" C1 controls and DEL: made visible as well (a terminal reads 0x9b as CSI). */
const XML_DISCOURAGED = /[\u007f-\u009f]/g;

function visible(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function clean(text: string): string {
  return text.replace(XML_FORBIDDEN, visible).replace(XML_DISCOURAGED, visible);
}

/** Escapes text content. */
export function xmlText(text: string): string {
  return clean(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value (double-quoted); line breaks and tabs survive attribute normalisation as references. */
export function xmlAttr(text: string): string {
  return clean(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

function attrs(pairs: Record<string, string | number>): string {
  return Object.entries(pairs)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('');
}

function cut(text: string, max: number): string {
  const firstLine = text.split(/\r?\n/)[0] ?? '';
  return firstLine.length > max ? `${firstLine.slice(0, max - 1)}…` : firstLine;
}

function worstFirst(check: Check): Finding[] {
  return check.findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => severityRank(findingSeverity(check, a.f)) - severityRank(findingSeverity(check, b.f)) || a.i - b.i)
    .map((x) => x.f);
}

function findingsBody(check: Check, max: number): string {
  const findings = worstFirst(check);
  const lines: string[] = [];
  for (const f of findings.slice(0, max)) {
    lines.push(`[${findingSeverity(check, f)}] ${f.message}`);
    lines.push(`    evidence: ${JSON.stringify(f.evidence)}`);
  }
  if (findings.length > max) lines.push(`… and ${findings.length - max} more (see the JSON report)`);
  if (check.remediation) lines.push('', `Remediation: ${check.remediation}`);
  return lines.join('\n');
}

function summaryMessage(check: Check): string {
  const findings = worstFirst(check);
  const first = findings[0];
  if (!first) return check.status === 'error' ? 'the check could not be judged' : 'failed';
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(findingSeverity(check, f), (counts.get(findingSeverity(check, f)) ?? 0) + 1);
  const tally = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return cut(`${findings.length} finding${findings.length === 1 ? '' : 's'} (${tally}): ${first.message}`, 500);
}

function testcase(check: Check, options: Required<JunitOptions>): string {
  const classname = check.behaviour.length > 0 ? check.behaviour.join(',') : 'cryptgate';
  const lines: string[] = [];
  lines.push(`    <testcase${attrs({ classname, name: `${check.id}: ${check.title}`, time: '0' })}>`);
  lines.push('      <properties>');
  for (const b of check.behaviour) lines.push(`        <property${attrs({ name: 'behaviour', value: b })}/>`);
  lines.push(`        <property${attrs({ name: 'severity', value: check.severity })}/>`);
  lines.push(`        <property${attrs({ name: 'check', value: check.id })}/>`);
  lines.push(`        <property${attrs({ name: 'status', value: check.status })}/>`);
  lines.push('      </properties>');
  const worst = worstFirst(check)[0];
  const type = worst ? findingSeverity(check, worst) : check.severity;
  if (check.status === 'fail') {
    lines.push(`      <failure${attrs({ message: summaryMessage(check), type })}>${xmlText(findingsBody(check, options.maxFindings))}</failure>`);
  } else if (check.status === 'error') {
    lines.push(`      <error${attrs({ message: summaryMessage(check), type: 'error' })}>${xmlText(findingsBody(check, options.maxFindings))}</error>`);
  } else if (check.status === 'skip') {
    lines.push(`      <skipped${attrs({ message: worst ? cut(worst.message, 500) : 'not judged' })}/>`);
  }
  // The proof (and any info findings of a pass) for whoever opens the test.
  const out: string[] = [];
  if (check.status === 'pass' && check.findings.length > 0) out.push(findingsBody(check, options.maxFindings), '');
  if (check.observed.length > 0) {
    out.push(`observed (${check.observed.length}):`);
    for (const row of check.observed.slice(0, options.maxObserved)) out.push(`  ${JSON.stringify(row)}`);
    if (check.observed.length > options.maxObserved) out.push(`  … and ${check.observed.length - options.maxObserved} more (see the JSON report)`);
  }
  if (out.length > 0) lines.push(`      <system-out>${xmlText(out.join('\n'))}</system-out>`);
  lines.push('    </testcase>');
  return lines.join('\n');
}

/** Jenkins' schema wants a timestamp without zone or fraction; the report's own time is a property. */
function junitTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '1970-01-01T00:00:00' : d.toISOString().slice(0, 19);
}

export function renderJunit(report: Report, options: JunitOptions = {}): string {
  const opts: Required<JunitOptions> = { maxFindings: options.maxFindings ?? 200, maxObserved: options.maxObserved ?? 200 };
  const counts = { tests: report.checks.length, failures: report.summary.fail, errors: report.summary.error, skipped: report.summary.skip };
  const lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  lines.push(`<testsuites${attrs({ name: 'cryptgate', ...counts, time: '0' })}>`);
  lines.push(`  <testsuite${attrs({ name: 'cryptgate', ...counts, time: '0', timestamp: junitTimestamp(report.generatedAt) })}>`);
  lines.push('    <properties>');
  const suiteProps: [string, string][] = [
    ['schema', report.schema],
    ['tool', `${report.tool.name} ${report.tool.version}`],
    ['generatedAt', report.generatedAt],
    ['verdict', report.verdict],
  ];
  for (const input of report.inputs) suiteProps.push(['input', `${input.path} sha256:${input.sha256 || 'not computed'}`]);
  for (const [name, value] of suiteProps) lines.push(`      <property${attrs({ name, value })}/>`);
  lines.push('    </properties>');
  for (const check of report.checks) lines.push(testcase(check, opts));
  lines.push('  </testsuite>');
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}
