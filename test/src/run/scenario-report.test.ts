// The message stream → compliance report mapping: behaviour ids and severity from tags, the
// not-reproducible marker turning a scenario into "skip" (never "pass"), outline rows with
// unique ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateReport } from '../../../src/report/validate.js';
import { REPORT_SCHEMA_ID, summarise, verdictOf, type Check } from '../../../src/report/model.js';
import {
  FINDING_MEDIA_TYPE,
  isNotReproducible,
  NOT_REPRODUCIBLE_MEDIA_TYPE,
  OBSERVED_MEDIA_TYPE,
  ScenarioReportBuilder,
  scenarioId,
  type Envelope,
} from '../../../src/run/scenario-report.js';

interface Fake {
  name: string;
  tags: string[];
  steps: string[];
  attachments?: { mediaType: string; body: unknown }[];
  uri?: string;
}

/** The envelopes cucumber emits for scenarios run in order (pickle, testCase, started, steps, attachments, finished). */
function stream(scenarios: Fake[]): Envelope[] {
  const out: Envelope[] = [];
  scenarios.forEach((s, i) => {
    out.push({ pickle: { id: `p${i}`, name: s.name, uri: s.uri ?? 'features/kms/status.feature', tags: s.tags.map((name) => ({ name })) } });
    out.push({ testCase: { id: `t${i}`, pickleId: `p${i}` } });
  });
  scenarios.forEach((s, i) => {
    out.push({ testCaseStarted: { id: `s${i}`, testCaseId: `t${i}` } });
    for (const a of s.attachments ?? []) out.push({ attachment: { testCaseStartedId: `s${i}`, mediaType: a.mediaType, body: JSON.stringify(a.body) } });
    for (const st of s.steps) out.push({ testStepFinished: { testCaseStartedId: `s${i}`, testStepResult: { status: st, ...(st === 'FAILED' ? { message: 'AssertionError: boom' } : {}) } } });
    out.push({ testCaseFinished: { testCaseStartedId: `s${i}` } });
  });
  return out;
}

function build(scenarios: Fake[]): Check[] {
  const b = new ScenarioReportBuilder();
  for (const e of stream(scenarios)) b.add(e);
  return b.checks();
}

const marker = { mediaType: NOT_REPRODUCIBLE_MEDIA_TYPE, body: { backend: 'moto', why: 'it ignores disabled keys', tag: '@needs-disabled-keys' } };

test('a scenario maps to one check with its behaviour ids, severity and observations', () => {
  const [c] = build([{ name: 'Status shows the CMK', tags: ['@kms', '@KMS-6', '@KMS-8', '@critical'], steps: ['PASSED', 'PASSED'], attachments: [{ mediaType: OBSERVED_MEDIA_TYPE, body: { statusLine: 'Status: OK' } }] }]);
  assert.equal(c!.id, 'kms/status/status-shows-the-cmk');
  assert.deepEqual(c!.behaviour, ['KMS-6', 'KMS-8']);
  assert.equal(c!.severity, 'critical');
  assert.equal(c!.status, 'pass');
  assert.deepEqual(c!.observed, [{ statusLine: 'Status: OK' }]);
});

test('a not-reproducible marker makes the scenario "skip" with the message "not reproducible on <backend>: <why>", never a pass', () => {
  // The Before hook attaches the marker and returns 'skipped': every step is SKIPPED.
  const [skipped, passedAfterMarker] = build([
    { name: 'Disabled CMK', tags: ['@KMS-6', '@high'], steps: ['SKIPPED', 'SKIPPED', 'SKIPPED'], attachments: [marker] },
    // A step may mark it mid-scenario (earlier steps passed, the rest skipped): still not a pass.
    { name: 'Rotation history', tags: ['@KMS-9'], steps: ['PASSED', 'PASSED', 'SKIPPED'], attachments: [marker] },
  ]);
  for (const c of [skipped!, passedAfterMarker!]) {
    assert.equal(c.status, 'skip');
    assert.equal(c.findings[0]!.message, 'not reproducible on moto: it ignores disabled keys');
    assert.deepEqual(c.findings[0]!.evidence, { notReproducible: true, backend: 'moto', requirement: '@needs-disabled-keys' });
    assert.ok(isNotReproducible(c));
  }
});

test('a failure before the marker stays a failure', () => {
  const [c] = build([{ name: 'x', tags: [], steps: ['PASSED', 'FAILED', 'SKIPPED'], attachments: [marker] }]);
  assert.equal(c!.status, 'fail');
  assert.ok(c!.findings.some((f) => f.message.startsWith('AssertionError: boom')));
  assert.equal(isNotReproducible(c!), false);
});

test('a skip for another reason is not "not reproducible"', () => {
  const [c] = build([{ name: 'x', tags: [], steps: ['SKIPPED'] }]);
  assert.equal(c!.status, 'skip');
  assert.equal(isNotReproducible(c!), false);
});

test('outline rows sharing a name get distinct ids, in run order', () => {
  const checks = build([
    { name: 'Refused (<case>)', tags: [], steps: ['PASSED'] },
    { name: 'Refused (<case>)', tags: [], steps: ['PASSED'] },
    { name: 'Other', tags: [], steps: ['PASSED'] },
  ]);
  assert.deepEqual(
    checks.map((c) => c.id),
    ['kms/status/refused-case', 'kms/status/refused-case-2', 'kms/status/other'],
  );
  assert.equal(scenarioId('/abs/path/features/kms/multi-node.feature', 'Node 2’s role: OK!'), 'kms/multi-node/node-2-s-role-ok');
});

test('findings attached by steps are kept; a report of such checks passes the schema', () => {
  const checks = build([
    { name: 'a', tags: ['@KMS-1'], steps: ['PASSED'], attachments: [{ mediaType: FINDING_MEDIA_TYPE, body: { message: 'worth a look', severity: 'info', evidence: { x: 1 } } }] },
    { name: 'b', tags: ['@KMS-2'], steps: ['SKIPPED'], attachments: [marker] },
  ]);
  assert.equal(checks[0]!.findings[0]!.message, 'worth a look');
  const report = { schema: REPORT_SCHEMA_ID, tool: { name: 'cryptgate', version: '0' }, generatedAt: '2026-01-01T00:00:00Z', verdict: verdictOf(checks), inputs: [], checks, summary: summarise(checks) };
  validateReport(report);
  assert.equal(report.verdict, 'pass');
  assert.deepEqual(report.summary, { pass: 1, fail: 0, error: 0, skip: 1 });
});
