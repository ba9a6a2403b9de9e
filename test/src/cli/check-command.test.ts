// The CLI as a CI gate sees it: exit codes, one-line errors, report files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../../../src/util/package-info.js';
import { validateReport } from '../../../src/report/validate.js';
import type { Report } from '../../../src/report/model.js';
import { runCli } from '../../helpers/cli.js';

const root = packageRoot();
const CAPTURES = join(root, 'test/fixtures/captures/strongswan');
const NODES = '10.77.0.11,10.77.0.12,10.77.0.13';

function assertNoStack(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `a stack trace reached the user:\n${stderr}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'cg-cli-'));

test('--help teaches: commands, exit codes, examples', () => {
  const top = runCli('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /Exit codes:/);
  assert.match(top.stdout, /check/);
  const sub = runCli('check', 'capture', '--help');
  assert.equal(sub.status, 0);
  for (const id of ['ipsec.esp-only', 'ipsec.no-esp-null', 'ipsec.no-ah-only', 'ipsec.ike-policy', '--allow-truncated', '--nodes']) assert.ok(sub.stdout.includes(id), id);
});

test('usage mistakes exit 2 with one clear line', () => {
  const noFile = runCli('check', 'capture');
  assert.equal(noFile.status, 2);
  const unknown = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'), '--nodes', NODES, '--bogus');
  assert.equal(unknown.status, 2);
  const noNodes = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'));
  assert.equal(noNodes.status, 2);
  assert.match(noNodes.stderr, /no node addresses/);
  const badNode = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'), '--nodes', '10.77.0.11,10.77.0.300');
  assert.equal(badNode.status, 2);
  assert.match(badNode.stderr, /10\.77\.0\.300/);
  const missing = runCli('check', 'capture', join(tmp, 'nope.pcap'), '--nodes', NODES);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.pcap: no such file/);
  const badFormat = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'), '--nodes', NODES, '--format', 'pdf');
  assert.equal(badFormat.status, 2);
  for (const r of [noFile, unknown, noNodes, badNode, missing, badFormat]) assertNoStack(r.stderr);
});

test('exit 0 on a compliant capture, 1 on a leaking one, with the leak named in the text report', () => {
  const ok = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'), '--nodes', NODES);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^PASS/);
  const leak = runCli('check', 'capture', join(CAPTURES, 'leaking-pair.pcap'), '--nodes', NODES);
  assert.equal(leak.status, 1);
  assert.match(leak.stdout, /^FAIL/);
  assert.match(leak.stdout, /10\.77\.0\.13 → 10\.77\.0\.11:8060 \(repository/);
  assert.doesNotMatch(leak.stdout, /\x1b\[/, 'no colour when NO_COLOR is set');
});

test('several per-node files judge as one cluster; gzip is read by content', () => {
  const gz = join(tmp, 'leak.bin');
  writeFileSync(gz, gzipSync(readFileSync(join(CAPTURES, 'leaking-pair.pcap'))));
  const r = runCli('check', 'capture', join(CAPTURES, 'compliant-gcm.pcap'), gz, '--nodes', NODES, '--format', 'json');
  assert.equal(r.status, 1);
  const report = JSON.parse(r.stdout) as Report;
  validateReport(report);
  assert.equal(report.inputs.length, 2);
  assert.match(report.inputs[1]!.format, /gzip/);
  assert.match(report.inputs[1]!.sha256, /^[0-9a-f]{64}$/);
});

test('json, junit and sarif reports are written atomically with --out', () => {
  for (const format of ['json', 'junit', 'sarif']) {
    const out = join(tmp, `report.${format}`);
    const r = runCli('check', 'capture', join(CAPTURES, 'weak-ike.pcap'), '--nodes', NODES, '--format', format, '--out', out);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /FAIL .*report written to/);
    const text = readFileSync(out, 'utf8');
    if (format === 'json') validateReport(JSON.parse(text));
    if (format === 'junit') assert.match(text, /<testcase [^>]*name="ipsec\.ike-policy/);
    if (format === 'sarif') assert.equal((JSON.parse(text) as { version: string }).version, '2.1.0');
  }
});

test('a capture with no traffic between the listed nodes is bad input (exit 2), not a pass', () => {
  const r = runCli('check', 'capture', join(CAPTURES, 'compliant.pcap'), '--nodes', '192.0.2.1,192.0.2.2');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no traffic between the listed nodes/);
});

test('a capture cut mid-record exits 2 naming the offset; --allow-truncated judges the rest and says so', () => {
  const whole = readFileSync(join(CAPTURES, 'leaking-pair.pcap'));
  // Walk the records (a little-endian µs pcap from tcpdump) to cut inside the last one's data.
  let last = 24;
  for (let p = 24; p + 16 <= whole.length; p += 16 + whole.readUInt32LE(p + 8)) last = p;
  const cut = join(tmp, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, last + 16 + 4));
  const refused = runCli('check', 'capture', cut, '--nodes', NODES);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /cut\.pcap: offset \d+: packet record: expected \d+ bytes of packet data, found only \d+ bytes before end of file/);
  assertNoStack(refused.stderr);
  const judged = runCli('check', 'capture', cut, '--nodes', NODES, '--allow-truncated', '--format', 'json');
  assert.equal(judged.status, 1);
  const report = JSON.parse(judged.stdout) as Report;
  const evidence = report.checks.find((c) => c.id === 'capture.evidence')!;
  assert.ok(evidence.findings.some((f) => /Evidence incomplete/.test(f.message)));
});
