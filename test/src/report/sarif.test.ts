import { test } from 'node:test';
import assert from 'node:assert/strict';
import { artifactUri, renderSarif, sarifLevel, SECURITY_SEVERITY } from '../../../src/report/sarif.js';
import { CAPTURE, CAPTURE_SHA, passingReport, sampleChecks, sampleReport } from './sample-report.js';

type Json = Record<string, any>;

function run(report = sampleReport()): Json {
  const sarif = JSON.parse(renderSarif(report)) as Json;
  assert.equal(sarif.$schema, 'https://json.schemastore.org/sarif-2.1.0.json');
  assert.equal(sarif.version, '2.1.0');
  assert.equal(sarif.runs.length, 1);
  const r = sarif.runs[0] as Json;
  // Cross-references must hold: every result names a rule by id and index, every location an artifact.
  for (const result of r.results as Json[]) {
    assert.equal(r.tool.driver.rules[result.ruleIndex].id, result.ruleId);
    assert.ok(['error', 'warning', 'note'].includes(result.level));
    assert.ok(result.message.text.length > 0);
    for (const loc of result.locations ?? []) {
      const al = loc.physicalLocation.artifactLocation;
      if (al.index !== undefined) assert.equal(r.artifacts[al.index].location.uri, al.uri);
    }
  }
  return r;
}

test('the driver names the tool and its version, with no informationUri', () => {
  const driver = run().tool.driver;
  assert.equal(driver.name, 'cryptgate');
  assert.equal(driver.version, '0.1.0');
  assert.equal('informationUri' in driver, false);
});

test('rules are the checks, passing ones included; results are the findings of checks that did not pass', () => {
  const r = run();
  assert.deepEqual(r.tool.driver.rules.map((rule: Json) => rule.id), ['ipsec.esp-only', 'ipsec.no-esp-null', 'ipsec.ike-policy', 'capture.evidence']);
  // esp-only (fail) has 2 findings, capture.evidence (error) 1; the pass and the skip have none.
  assert.equal(r.results.length, 3);
  assert.deepEqual(r.results.map((x: Json) => x.ruleId), ['ipsec.esp-only', 'ipsec.esp-only', 'capture.evidence']);
  assert.equal(run(passingReport()).results.length, 0);
  assert.equal(run(passingReport()).tool.driver.rules.length, 1);
});

test('each rule carries title, remediation as help, behaviour ids as tags and a numeric security-severity', () => {
  const [esp, , ike, evidence] = run().tool.driver.rules as Json[];
  assert.equal(esp!.shortDescription.text, 'All traffic between cluster nodes travels inside IPsec ESP');
  assert.match(esp!.help.text, /^Add or fix the server-to-server/);
  assert.deepEqual(esp!.properties.tags, ['IPSEC-5', 'IPSEC-6', 'security']);
  assert.equal(esp!.properties['security-severity'], '9.5');
  assert.equal(ike!.properties['security-severity'], '8.0');
  assert.equal(evidence!.properties['security-severity'], '5.5');
  assert.equal(Number(esp!.properties['security-severity']), 9.5);
  assert.equal('help' in ike!, false, 'no remediation, no help');
  assert.deepEqual(SECURITY_SEVERITY, { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' });
});

test('levels follow the finding severity: critical/high → error, medium → warning, low/info → note', () => {
  const levels = run().results.map((x: Json) => `${x.properties.severity}:${x.level}`);
  assert.deepEqual(levels, ['info:note', 'critical:error', 'medium:warning']);
  assert.deepEqual((['critical', 'high', 'medium', 'low', 'info'] as const).map(sarifLevel), ['error', 'error', 'warning', 'note', 'note']);
});

test('a result points at the evidence file it names, else the first input; properties are the evidence', () => {
  const checks = sampleChecks();
  checks[3]!.findings[0]!.evidence.file = 'captures/node2.pcap';
  const r = run(sampleReport(checks));
  const plaintext = r.results[1] as Json;
  assert.equal(plaintext.message.text.startsWith('Plaintext between nodes'), true);
  assert.deepEqual(plaintext.locations, [{ physicalLocation: { artifactLocation: { uri: CAPTURE, index: 0 } } }]);
  assert.equal(plaintext.properties.src, '10.0.0.11');
  assert.equal(plaintext.properties.dstPort, 8060);
  assert.equal(plaintext.properties.service, 'repository (PostgreSQL)');
  const truncated = r.results[2] as Json;
  assert.deepEqual(truncated.locations, [{ physicalLocation: { artifactLocation: { uri: 'captures/node2.pcap', index: 1 }, region: { byteOffset: 4096 } } }]);
});

test('artifacts are the inputs with their sha-256 (absent when not computed)', () => {
  const artifacts = run().artifacts as Json[];
  assert.equal(artifacts.length, 2);
  assert.deepEqual(artifacts[0], { location: { uri: CAPTURE }, length: 900000, properties: { format: 'pcapng', linkTypes: [1] }, hashes: { 'sha-256': CAPTURE_SHA } });
  assert.equal('hashes' in artifacts[1]!, false);
});

test('a waived finding is a result with an accepted suppression; a skipped check is a notification', () => {
  const checks = sampleChecks();
  checks[0]!.findings[1]!.severity = 'info';
  checks[0]!.findings[1]!.evidence.waiver = { reason: 'migration window', approver: 'sec-team', expires: '2026-12-31' };
  const r = run(sampleReport(checks));
  const waived = r.results[1] as Json;
  assert.equal(waived.level, 'note');
  assert.deepEqual(waived.suppressions, [{ kind: 'external', status: 'accepted', justification: 'migration window (approved by sec-team, until 2026-12-31)' }]);
  const notes = r.invocations[0].toolExecutionNotifications as Json[];
  assert.equal(notes.length, 1);
  assert.equal(notes[0]!.associatedRule.id, 'ipsec.ike-policy');
});

test('fingerprints are stable across runs for the same flow and differ between flows', () => {
  const a = run().results as Json[];
  const checks = sampleChecks();
  checks[0]!.findings[1]!.evidence.packets = 999; // more packets, same flow
  const b = run(sampleReport(checks)).results as Json[];
  assert.equal(a[1]!.partialFingerprints['cryptgateFinding/v1'], b[1]!.partialFingerprints['cryptgateFinding/v1']);
  assert.notEqual(a[0]!.partialFingerprints['cryptgateFinding/v1'], a[1]!.partialFingerprints['cryptgateFinding/v1']);
});

test('checks sharing an id (scenario outlines) share one rule', () => {
  const checks = sampleChecks();
  checks.push({ ...structuredClone(checks[0]!), title: 'same id again' });
  const r = run(sampleReport(checks));
  assert.equal(r.tool.driver.rules.length, 4);
  assert.equal(r.results.length, 5);
});

test('without any input or file evidence a result has no location rather than a made-up one', () => {
  const report = sampleReport();
  report.inputs = [];
  const r = run(report);
  assert.equal(r.results[1].locations, undefined);
  assert.equal(r.artifacts.length, 0);
});

test('artifact URIs: relative paths stay relative with /, absolute ones become file URLs', () => {
  assert.equal(artifactUri('caps/a b#1.pcap'), 'caps/a%20b%231.pcap');
  assert.equal(artifactUri('caps\\win.pcap'), 'caps/win.pcap');
  assert.equal(artifactUri('/var/caps/x.pcap'), 'file:///var/caps/x.pcap');
  assert.equal(artifactUri('C:\\caps\\x y.pcap'), 'file:///C:/caps/x%20y.pcap');
});
