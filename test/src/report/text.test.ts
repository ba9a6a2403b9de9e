import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceLine, proofLine, renderText, terminalSafe } from '../../../src/report/text.js';
import { summarise, verdictOf, type Check } from '../../../src/report/model.js';
import { passingReport, sampleChecks, sampleReport } from './sample-report.js';

const ANSI = /\u001b\[/;

test('the verdict comes first, with the counts', () => {
  const lines = renderText(sampleReport(), { color: false }).split('\n');
  assert.equal(lines[0], 'ERROR  1 passed, 1 failed, 1 errored, 1 skipped (4 checks)');
  assert.match(renderText(passingReport(), { color: false }).split('\n')[0]!, /^PASS {2}1 passed, 0 failed/);
});

test('findings are listed worst first: the critical one before the info one, even when it came later', () => {
  const text = renderText(sampleReport(), { color: false });
  const critical = text.indexOf('CRITICAL ipsec.esp-only [IPSEC-5, IPSEC-6]  Plaintext between nodes');
  const medium = text.indexOf('MEDIUM   capture.evidence [IPSEC-5]');
  const info = text.indexOf('INFO     ipsec.esp-only [IPSEC-5, IPSEC-6]  Traffic with a non-node endpoint');
  assert.ok(critical > 0 && medium > 0 && info > 0, text);
  assert.ok(critical < medium && medium < info, text);
  assert.ok(text.indexOf('Findings, worst first: 1 critical, 1 medium, 1 info') < critical);
});

test('each finding is one line with its key evidence', () => {
  const line = renderText(sampleReport(), { color: false })
    .split('\n')
    .find((l) => l.includes('Plaintext between nodes'))!;
  assert.match(line, /\{src=10\.0\.0\.11 dst=10\.0\.0\.12 protocol=tcp dstPort=8060 service="repository \(PostgreSQL\)" packets=120 bytes=49152/);
});

test('no ANSI codes when colour is off; colour when asked', () => {
  assert.doesNotMatch(renderText(sampleReport(), { color: false }), ANSI);
  const coloured = renderText(sampleReport(), { color: true });
  assert.match(coloured, ANSI);
  // Colour only decorates: stripping it gives the plain text back.
  assert.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ''), renderText(sampleReport(), { color: false }));
});

test('passed checks show a one-line proof from observed; skipped and errored say why; failed say how to fix', () => {
  const text = renderText(sampleReport(), { color: false });
  assert.match(text, /✓ ipsec\.no-esp-null \[IPSEC-4\] {2}ESP between nodes encrypts .* proof: 2 node pairs: flows=4 encrypted=4 espNull=0 unsure=0 packets=1000/);
  assert.match(text, /- SKIP {2}ipsec\.ike-policy \[IPSEC-3\].*\n\s+why: No IKE SA negotiation/);
  assert.match(text, /! ERROR capture\.evidence.*\n\s+why: Evidence incomplete/);
  assert.match(text, /✗ FAIL {2}ipsec\.esp-only.*\n\s+fix: Add or fix the server-to-server/);
});

test('inputs are listed last with size, format and digest', () => {
  const text = renderText(sampleReport(), { color: false });
  const inputs = text.slice(text.indexOf('Inputs:'));
  assert.match(inputs, /captures\/switch\.pcapng {2}pcapng {2}878\.9 KiB {2}sha256 a3f1c2d4/);
  assert.match(inputs, /captures\/node2\.pcap {2}pcap \(microsecond\) {2}24 B {2}sha256 not computed {2}link types 1,113/);
  assert.ok(text.indexOf('Inputs:') > text.indexOf('Passed:'));
});

test('long lists are capped with a pointer to the JSON report', () => {
  const checks = sampleChecks();
  const esp = checks[0]!;
  for (let i = 0; i < 40; i++) {
    esp.findings.push({ message: `Plaintext between nodes #${i}`, evidence: { src: '10.0.0.11', dst: '10.0.0.13', dstPort: 9000 + i } });
  }
  const report = sampleReport(checks);
  const text = renderText(report, { color: false, maxFindings: 10 });
  const findingLines = text.split('\n').filter((l) => /^ {2}(CRITICAL|MEDIUM|INFO) /.test(l));
  assert.equal(findingLines.length, 10);
  assert.match(text, /\n {2}… and 33 more \(see --format json\)\n/);
  // The default cap applies too.
  assert.match(renderText(report, { color: false }), /… and 18 more \(see --format json\)/);
  const many = sampleReport();
  many.inputs = Array.from({ length: 25 }, (_, i) => ({ path: `n${i}.pcap`, sha256: '', bytes: 24, format: 'pcap', linkTypes: [1] }));
  assert.match(renderText(many, { color: false }), /n19\.pcap.*\n {2}… and 5 more \(see --format json\)\n$/);
});

test('hostile evidence cannot drive the terminal: escapes and bidi overrides become visible', () => {
  const checks = sampleChecks();
  checks[0]!.findings[1]!.message = 'Plaintext \u001b[2J\u001b]0;pwned\u0007 between nodes \u202eevil';
  checks[0]!.findings[1]!.evidence.service = 'x\u009b31mred';
  const text = renderText(sampleReport(checks), { color: false });
  assert.doesNotMatch(text, ANSI);
  assert.doesNotMatch(text, /[\u0007\u009b\u202e]/);
  assert.match(text, /Plaintext \\x1b\[2J\\x1b\]0;pwned\\x07 between nodes \\u202eevil/);
  assert.match(text, /service=x\\x9b31mred/);
  assert.equal(terminalSafe('a\tb'), 'a b');
});

test('a multi-line message stays on one line and says how much was left out', () => {
  const checks = sampleChecks();
  checks[3]!.findings[0]!.message = 'AssertionError: expected ESP\n  at step 1\n  at step 2';
  const text = renderText(sampleReport(checks), { color: false });
  assert.match(text, /capture\.evidence \[IPSEC-5\] {2}AssertionError: expected ESP \(\+2 more lines\)/);
});

test('proofLine sums counters, keeps agreed values and prefers a totals row', () => {
  assert.equal(
    proofLine([
      { initiator: '10.0.0.11', responder: '10.0.0.12', ikeVersion: 2, encryption: 'ENCR_AES_CBC', keyLength: 256, dhGroup: 14 },
      { initiator: '10.0.0.12', responder: '10.0.0.13', ikeVersion: 2, encryption: 'ENCR_AES_CBC', keyLength: 256, dhGroup: 14 },
    ]),
    '2 IKE SAs: ikeVersion=2 encryption=ENCR_AES_CBC keyLength=256 dhGroup=14',
  );
  const evidence = sampleChecks()[3]!.observed;
  assert.match(proofLine(evidence), /^1 file: format=pcapng compressed=false packets=1030 bytes=900000/);
  assert.equal(proofLine([]), 'no observations recorded');
});

test('evidenceLine puts the key fields first and skips nested values and nulls', () => {
  assert.equal(
    evidenceLine({ bytes: 10, extra: { a: 1 }, dstPort: null, dst: 'b', src: 'a', note: 'two words', waiver: { reason: 'x' } }),
    'src=a dst=b bytes=10 note="two words"',
  );
});

test('a report with no findings and no inputs still reads cleanly', () => {
  const checks: Check[] = [{ id: 'kms.rotation', title: 'Keys rotate', behaviour: [], status: 'pass', severity: 'high', findings: [], observed: [] }];
  const report = { ...sampleReport(checks), inputs: [], verdict: verdictOf(checks), summary: summarise(checks) };
  const text = renderText(report, { color: false });
  assert.doesNotMatch(text, /Findings/);
  assert.match(text, /✓ kms\.rotation {2}Keys rotate {2}proof: no observations recorded/);
  assert.match(text, /Inputs:\n {2}\(none\)\n$/);
});
