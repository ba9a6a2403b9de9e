// SARIF 2.1.0 for code-scanning dashboards (GitHub, Azure DevOps, DefectDojo): one run,
// rules = checks (tags = behaviour ids plus "security", security-severity from the check's
// severity), results = the findings of checks that did not pass (a passing check stays a
// rule with no results), artifacts = the evidence files with their SHA-256. A finding
// points at the evidence file it came from (`file`/`input` in its evidence) or at the
// first input. A waived finding carries an accepted external suppression.
import { createHash } from 'node:crypto';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findingSeverity, type Check, type Finding, type Report, type Severity } from './model.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';

export type SarifLevel = 'error' | 'warning' | 'note';

/** GitHub reads `security-severity` as a number in a string: ≥9 critical, 7-8.9 high, 4-6.9 medium, 0.1-3.9 low. */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = Object.freeze({
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
});

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'critical' || severity === 'high') return 'error';
  if (severity === 'medium') return 'warning';
  return 'note';
}

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;

/** A path as a SARIF artifact URI: absolute paths become file:// URLs, relative ones stay relative (with `/`). */
export function artifactUri(path: string): string {
  const encode = (p: string): string => p.replace(/\\/g, '/').split('/').map(encodeURIComponent).join('/');
  if (WINDOWS_DRIVE.test(path)) return `file:///${path.slice(0, 2)}${encode(path.slice(2))}`;
  if (isAbsolute(path)) return pathToFileURL(path).href;
  return encode(path);
}

/** The evidence as a SARIF property bag: `tags`, if present, must be a list of strings there. */
function propertyBag(evidence: Record<string, unknown>): Record<string, unknown> {
  const { tags, ...rest } = evidence;
  if (tags === undefined) return { ...evidence };
  return Array.isArray(tags) && tags.every((t) => typeof t === 'string') ? { ...rest, tags: [...new Set(tags)] } : { ...rest, evidenceTags: tags };
}

interface SarifLocation {
  physicalLocation: { artifactLocation: { uri: string; index?: number }; region?: { byteOffset: number } };
}

function fingerprint(ruleId: string, finding: Finding): string {
  // Stable across runs for the same problem: identity fields only, not counts or times.
  const ids = ['src', 'dst', 'protocol', 'dstPort', 'spi', 'initiator', 'responder', 'file', 'input', 'key', 'keyId'];
  const parts: Record<string, unknown> = {};
  for (const k of ids) if (finding.evidence[k] !== undefined) parts[k] = finding.evidence[k];
  const basis = Object.keys(parts).length > 0 ? JSON.stringify(parts) : finding.message;
  return createHash('sha256').update(`${ruleId}\n${basis}`).digest('hex').slice(0, 32);
}

function ruleFor(check: Check): Record<string, unknown> {
  const rule: Record<string, unknown> = {
    id: check.id,
    shortDescription: { text: check.title },
    fullDescription: { text: `${check.title}${check.behaviour.length > 0 ? ` (${check.behaviour.join(', ')})` : ''}` },
    defaultConfiguration: { level: sarifLevel(check.severity) },
    properties: {
      tags: [...new Set([...check.behaviour, 'security'])],
      'security-severity': SECURITY_SEVERITY[check.severity],
      severity: check.severity,
      precision: 'high',
    },
  };
  if (check.remediation) rule.help = { text: check.remediation };
  return rule;
}

export function renderSarif(report: Report): string {
  const artifactIndex = new Map<string, number>();
  const artifacts = report.inputs.map((input, i) => {
    artifactIndex.set(input.path, i);
    const artifact: Record<string, unknown> = {
      location: { uri: artifactUri(input.path) },
      length: input.bytes,
      properties: { format: input.format, linkTypes: input.linkTypes },
    };
    if (input.sha256) artifact.hashes = { 'sha-256': input.sha256 };
    return artifact;
  });

  const locationFor = (finding: Finding): SarifLocation[] | undefined => {
    const named = [finding.evidence.file, finding.evidence.input].find((v): v is string => typeof v === 'string' && v !== '' && v !== '(all)');
    const path = named ?? report.inputs[0]?.path;
    if (path === undefined) return undefined;
    const artifactLocation: { uri: string; index?: number } = { uri: artifactUri(path) };
    const index = artifactIndex.get(path);
    if (index !== undefined) artifactLocation.index = index;
    const location: SarifLocation = { physicalLocation: { artifactLocation } };
    const offset = finding.evidence.offset;
    if (named !== undefined && typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) location.physicalLocation.region = { byteOffset: offset };
    return [location];
  };

  // Rule ids are unique in SARIF; two checks sharing an id (scenario outlines) share one rule.
  const rules: Record<string, unknown>[] = [];
  const ruleIndex = new Map<string, number>();
  const results: Record<string, unknown>[] = [];
  const notifications: Record<string, unknown>[] = [];
  for (const check of report.checks) {
    if (!ruleIndex.has(check.id)) {
      ruleIndex.set(check.id, rules.length);
      rules.push(ruleFor(check));
    }
    if (check.status === 'skip') {
      notifications.push({ level: 'note', message: { text: `${check.id} not judged: ${check.findings[0]?.message ?? 'skipped'}` }, associatedRule: { id: check.id, index: ruleIndex.get(check.id) } });
      continue;
    }
    if (check.status === 'pass') continue;
    for (const finding of check.findings) {
      const severity = findingSeverity(check, finding);
      const result: Record<string, unknown> = {
        ruleId: check.id,
        ruleIndex: ruleIndex.get(check.id),
        level: sarifLevel(severity),
        message: { text: finding.message },
      };
      const locations = locationFor(finding);
      if (locations) result.locations = locations;
      result.partialFingerprints = { 'cryptgateFinding/v1': fingerprint(check.id, finding) };
      result.properties = { ...propertyBag(finding.evidence), severity, 'security-severity': SECURITY_SEVERITY[severity] };
      const waiver = finding.evidence.waiver as { reason?: unknown; approver?: unknown; expires?: unknown } | undefined;
      if (waiver && typeof waiver === 'object') {
        result.suppressions = [{ kind: 'external', status: 'accepted', justification: `${String(waiver.reason ?? '')} (approved by ${String(waiver.approver ?? '?')}, until ${String(waiver.expires ?? '?')})` }];
      }
      results.push(result);
    }
  }

  const invocation: Record<string, unknown> = {
    executionSuccessful: report.verdict !== 'error',
    endTimeUtc: report.generatedAt,
  };
  if (notifications.length > 0) invocation.toolExecutionNotifications = notifications;

  const sarif = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: report.tool.name, version: report.tool.version, semanticVersion: report.tool.version, rules } },
        invocations: [invocation],
        artifacts,
        results,
        properties: { reportSchema: report.schema, verdict: report.verdict, summary: report.summary, ...(report.context ? { context: report.context } : {}) },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
