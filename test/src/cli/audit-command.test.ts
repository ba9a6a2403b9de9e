// `cryptgate audit` and `cryptgate verify` as a CI pipeline runs them: exit codes, one-line
// errors, report and signature files, against a KMS reached over its wire protocol.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { packageRoot } from '../../../src/util/package-info.js';
import { validateReport } from '../../../src/report/validate.js';
import { freeLoopbackPort } from '../../../src/kms/moto.js';
import type { Report } from '../../../src/report/model.js';
import { CAPTURE_NODES, writeEvidenceFolder } from '../../helpers/audit-evidence.js';

const CLI = join(packageRoot(), 'bin/cryptgate.js');
const tmp = mkdtempSync(join(tmpdir(), 'cg-audit-cli-'));
let kms: EmbeddedKms;
let signingKey: string;

/** Runs the CLI without blocking this process (the embedded KMS it talks to lives here). */
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const noStack = (s: string): void => assert.doesNotMatch(s, /^\s+at /m, s);

before(async () => {
  kms = await startEmbeddedKms({ port: 0 });
  const client = new KMSClient({ endpoint: kms.endpoint, region: kms.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  signingKey = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'audit reports' }))).KeyMetadata!.Arn!;
  client.destroy();
});

after(async () => {
  await kms.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test('audit → exit 1 on the KMS-8 pitfall; signed report verifies (0), tampered report is caught (1)', async () => {
  const ev = join(tmp, 'ev1');
  writeEvidenceFolder(ev);
  const out = join(tmp, 'out', 'audit.json');
  const r = await run('audit', ev, '--nodes', CAPTURE_NODES.join(','), '--now', '2024-06-01', '--format', 'json', '--out', out, '--sign', signingKey, '--kms', kms.endpoint);
  assert.equal(r.status, 1, r.stderr);
  noStack(r.stderr);
  assert.match(r.stderr, /gate FAIL \(failOn: low\): 1 finding\(s\) at or above low; worst: \[high\] kms\.node-reach: node3 cannot reach the CMK/);
  assert.match(r.stderr, /signed .*audit\.json with arn:aws:kms:.* \(ECDSA_SHA_256, endpoint http:\/\/127\.0\.0\.1:\d+ \(cryptgate embedded KMS\)\)/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
  validateReport(report);
  assert.equal(report.verdict, 'fail');
  assert.equal(report.inputs.length, 10);
  assert.ok(report.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256)));
  assert.ok(existsSync(`${out}.sig.json`));

  const ok = await run('verify', out, '--kms', kms.endpoint);
  assert.equal(ok.status, 0, ok.stderr + ok.stdout);
  assert.match(ok.stdout, /^OK: .*audit\.json is the report signed at .* by arn:aws:kms:[^ ]+ \(ECDSA_SHA_256\)/);

  report.verdict = 'pass';
  writeFileSync(out, JSON.stringify(report, null, 2));
  const bad = await run('verify', out, '--kms', kms.endpoint);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^TAMPERED: .*audit\.json changed since it was signed/);
});

test('verify: no signature file is bad input (2); an unreachable KMS is exit 3', async () => {
  const report = join(tmp, 'lonely.json');
  writeFileSync(report, '{}');
  const missing = await run('verify', report);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /lonely\.json\.sig\.json: cannot read the signature file: no such file/);
  noStack(missing.stderr);
  const ev = join(tmp, 'ev-sign');
  writeEvidenceFolder(ev, { node3Refused: false });
  const out = join(tmp, 'signed.html');
  const signed = await run('audit', ev, '--nodes', CAPTURE_NODES.join(','), '--format', 'html', '--out', out, '--sign', signingKey, '--kms', kms.endpoint);
  assert.equal(signed.status, 0, signed.stderr);
  const port = await freeLoopbackPort();
  const down = await run('verify', out, '--kms', `http://127.0.0.1:${port}`);
  assert.equal(down.status, 3, down.stderr);
  assert.match(down.stderr, /unreachable/);
  noStack(down.stderr);
  const up = await run('verify', out, '--kms', kms.endpoint);
  assert.equal(up.status, 0, up.stderr + up.stdout);
});

test('audit: a clean folder passes (0); failOn critical lets a high finding through with a note (0); --sign without --out is usage (2)', async () => {
  const clean = join(tmp, 'ev-clean');
  writeEvidenceFolder(clean, { node3Refused: false });
  const ok = await run('audit', clean, '--nodes', CAPTURE_NODES.join(','));
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^PASS {2}/);

  const pitfall = join(tmp, 'ev-pitfall');
  writeEvidenceFolder(pitfall);
  const policy = join(tmp, 'lenient.yaml');
  writeFileSync(policy, `failOn: critical\nnodes: [${CAPTURE_NODES.join(', ')}]\n`);
  const lenient = await run('audit', pitfall, '--policy', policy);
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.match(lenient.stderr, /gate PASS \(failOn: critical\): 1 finding\(s\) below the threshold are reported but do not break the gate/);
  assert.match(lenient.stdout, /^FAIL {2}/, 'the report stays honest');

  const noOut = await run('audit', pitfall, '--sign', signingKey);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--sign needs --out <file>/);
});

test('audit: an empty folder is nothing to judge (2); malformed evidence is 2 with file, line and expectation', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  const none = await run('audit', empty);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /nothing to judge in .*empty: no recognised evidence/);
  assert.match(none.stdout, /^ERROR {2}/);

  const broken = join(tmp, 'broken');
  writeEvidenceFolder(broken, { capture: false });
  writeFileSync(join(broken, 'iam', 'role2.json'), '{"RoleName": "tableau-node2", "PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Permit", "Action": "kms:Decrypt"}]}}');
  const r = await run('audit', broken);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'cryptgate: iam/role2.json: /PolicyDocument/Statement/0/Effect: expected "Allow" or "Deny", found "Permit"');
});
