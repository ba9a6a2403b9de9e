// `cryptgate run` as a CI gate sees it: exit codes for a bad backend spec (2), a backend that
// cannot be started (3), a run in which nothing could be judged (3); report files naming the
// backend and carrying the per-backend conformance table. Small tag selections keep it quick.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedKms } from '../../../simulators/kms/index.js';
import { freeLoopbackPort } from '../../../src/kms/moto.js';
import type { Report } from '../../../src/report/model.js';
import { validateReport } from '../../../src/report/validate.js';
import { packageRoot } from '../../../src/util/package-info.js';

const CLI = join(packageRoot(), 'bin/cryptgate.js');
const tmp = mkdtempSync(join(tmpdir(), 'cg-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Asynchronous, so a KMS served by this process can answer the child. */
function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function report(dir: string): Report {
  const r = JSON.parse(readFileSync(join(dir, 'cryptgate.json'), 'utf8')) as Report;
  validateReport(r);
  return r;
}

test('--kms with something that is no backend is a usage error (exit 2), before anything runs', async () => {
  const r = await run('run', '--kms', 'motto', '--report-dir', join(tmp, 'bad'));
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'cryptgate: --kms motto: expected embedded, moto, localstack, or an http(s):// endpoint URL');
  assert.equal(existsSync(join(tmp, 'bad', 'cryptgate.json')), false);
});

test('a KMS backend that cannot be reached is exit 3 with one line; the report says which backend failed', async () => {
  const url = `http://127.0.0.1:${await freeLoopbackPort()}`;
  const dir = join(tmp, 'dead');
  const r = await run('run', '--kms', url, '--tags', '@KMS-1', '--report-dir', dir);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, new RegExp(`^cryptgate: KMS backend ${url} could not be started: KMS endpoint ${url} unreachable \\(ECONNREFUSED\\)`, 'm'));
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  const rep = report(dir);
  assert.deepEqual((rep.context as { kmsBackend: unknown }).kmsBackend, { name: url, failure: `KMS endpoint ${url} unreachable (ECONNREFUSED): start it, or use --kms embedded (built in) or --kms moto` });
  assert.ok(rep.checks.length > 0 && rep.checks.every((c) => c.status === 'fail'));
});

test('embedded: the report names the backend, the conformance table is written, each scenario leaves its evidence', async () => {
  const dir = join(tmp, 'embedded');
  const r = await run('run', '--tags', '@KMS-1', '--report-dir', dir);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const rep = report(dir);
  const ctx = rep.context as { kmsBackend: { kind: string; description: string }; conformance: { rows: { behaviour: string; status: string }[] } };
  assert.equal(ctx.kmsBackend.kind, 'embedded');
  assert.match(ctx.kmsBackend.description, /^embedded KMS \(cryptgate /);
  assert.ok(rep.checks.every((c) => c.status === 'pass' && c.behaviour.includes('KMS-1')));
  assert.deepEqual(ctx.conformance.rows.find((x) => x.behaviour === 'KMS-1')?.status, 'pass');
  const table = readFileSync(join(dir, 'conformance.txt'), 'utf8');
  assert.match(table, /^KMS conformance on embedded KMS \(cryptgate /);
  assert.ok(r.stdout.includes(table.trimEnd()), 'the table is printed too');
  for (const c of rep.checks) assert.ok(existsSync(join(dir, 'evidence', c.id, 'commands')), `no evidence folder for ${c.id}`);
});

test('a run in which every scenario is not reproducible on the backend judges nothing: verdict error, exit 3', async () => {
  // The embedded KMS served on an endpoint: the nodes cannot sign as separate roles through it.
  const kms = await startEmbeddedKms({ port: 0 });
  try {
    const dir = join(tmp, 'served');
    const r = await run('run', '--kms', kms.endpoint, '--tags', '@needs-node-roles and @KMS-8', '--report-dir', dir);
    assert.equal(r.status, 3, r.stdout + r.stderr);
    assert.match(r.stderr, /^cryptgate: nothing was judged: every selected scenario was skipped or is not reproducible here \(KMS backend http:\/\/127\.0\.0\.1:\d+\)$/m);
    const rep = report(dir);
    assert.equal(rep.verdict, 'error');
    assert.ok(rep.checks.length > 0);
    for (const c of rep.checks) {
      assert.equal(c.status, 'skip');
      assert.match(c.findings[0]!.message, /^not reproducible on http:\/\/127\.0\.0\.1:\d+: the nodes cannot sign as separate IAM instance roles there/);
    }
    assert.match(readFileSync(join(dir, 'conformance.txt'), 'utf8'), /\nKMS-8 +not reproducible /);
  } finally {
    await kms.stop();
  }
});
