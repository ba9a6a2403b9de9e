// `cryptgate kms …` as a user runs it: the built CLI in a child process, exit codes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../src/util/package-info.js';
import { closedPort } from './helpers.js';

const BIN = join(packageRoot(), 'bin', 'cryptgate.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function cryptgate(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('kms probe --kms embedded: prints the table, exit 0', async () => {
  const r = await cryptgate(['kms', 'probe', '--kms', 'embedded']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^KMS probe: embedded KMS \(cryptgate \d+\.\d+\.\d+\)$/m);
  assert.match(r.stdout, /^behaviour +\| expected \(real AWS\) +\| this backend +\| reproducible\?$/m);
  assert.match(r.stdout, /The declared capabilities match what this backend did\./);
  assert.equal(r.stderr, '');
});

test('kms probe --format json --strict: machine-readable, exit 0 when the declarations hold', async () => {
  const r = await cryptgate(['kms', 'probe', '--format', 'json', '--strict']);
  assert.equal(r.code, 0, r.stderr);
  const probe = JSON.parse(r.stdout) as { backend: { kind: string }; mismatches: unknown[]; rows: unknown[] };
  assert.equal(probe.backend.kind, 'embedded');
  assert.deepEqual(probe.mismatches, []);
  assert.equal(probe.rows.length, 13);
});

test('kms probe against a dead endpoint: one line, exit 3', async () => {
  const port = await closedPort();
  const r = await cryptgate(['kms', 'probe', '--kms', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 3);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `cryptgate: KMS endpoint http://127.0.0.1:${port} unreachable (ECONNREFUSED): start it, or use --kms embedded (built in) or --kms moto\n`);
});

test('kms probe --kms moto without moto_server: install instructions, exit 3', async () => {
  const r = await cryptgate(['kms', 'probe', '--kms', 'moto'], { MOTO_SERVER: '/nonexistent/moto_server' });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /cryptgate: MOTO_SERVER=\/nonexistent\/moto_server: no executable file there; .*pip install 'moto\[server\]'/);
});

test('kms probe with a bad --kms or --timeout: exit 2', async () => {
  const bad = await cryptgate(['kms', 'probe', '--kms', 'mystery']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'cryptgate: --kms mystery: expected embedded, moto, localstack, or an http(s):// endpoint URL\n');
  const t = await cryptgate(['kms', 'probe', '--timeout', 'soon']);
  assert.equal(t.code, 2);
  assert.match(t.stderr, /--timeout soon: expected a positive number of milliseconds/);
});

test('kms serve --help teaches endpoint use, environment and the admin API', async () => {
  const r = await cryptgate(['kms', 'serve', '--help']);
  assert.equal(r.code, 0);
  for (const needle of ['--endpoint-url http://127.0.0.1:4566', 'AWS_ACCESS_KEY_ID=test', 'AWS_ENDPOINT_URL_KMS', '/_cryptgate/faults', '/_cryptgate/counters', 'CRYPTGATE_KMS_STATE_PASSPHRASE', '--state <dir>']) {
    assert.ok(r.stdout.includes(needle), `help lacks ${needle}`);
  }
});

test('kms serve runs until SIGTERM, and kms probe works against it by URL', async () => {
  const child = spawn(process.execPath, [BIN, 'kms', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code}): ${out}`)));
  });
  try {
    const r = await cryptgate(['kms', 'probe', '--kms', endpoint]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`KMS probe: endpoint ${endpoint} (cryptgate embedded KMS)`));
    assert.match(r.stdout, /Fault knobs and request counters \(harness, not AWS\) +\| — \(AWS has none\) +\| yes/);
  } finally {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
