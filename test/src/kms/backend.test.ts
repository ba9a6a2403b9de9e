// startKmsBackend: the embedded server, endpoint URLs (identified by their admin paths),
// moto_server's life cycle (with a stand-in script, so no Python is needed here; the real
// moto_server is exercised by scripts/moto/conformance.mjs in CI) and LocalStack's
// no-Docker message.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { startKmsBackend } from '../../../src/kms/backend.js';
import { AWS_CAPABILITIES, EMBEDDED_CAPABILITIES, LOCALSTACK_CAPABILITIES, MOTO_CAPABILITIES } from '../../../src/kms/capabilities.js';
import { LOCALSTACK_IMAGE } from '../../../src/kms/localstack.js';
import { EnvironmentError, InputError } from '../../../src/util/errors.js';
import { packageRoot } from '../../../src/util/package-info.js';
import { alive, closedPort, failure, gone, script } from './helpers.js';

describe('embedded', () => {
  test('starts on a free loopback port, says what it is, and stops', async () => {
    const b = await startKmsBackend('embedded', { env: {} });
    try {
      assert.equal(b.name, 'embedded');
      assert.equal(b.kind, 'embedded');
      assert.match(b.description, /^embedded KMS \(cryptgate \d+\.\d+\.\d+\)$/);
      assert.match(b.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(b.region, 'us-east-1');
      assert.deepEqual(b.capabilities, EMBEDDED_CAPABILITIES);
      assert.ok(b.embedded);
      const key = await b.client().send(new CreateKeyCommand({}));
      assert.match(key.KeyMetadata!.Arn!, /^arn:aws:kms:us-east-1:000000000000:key\//);
    } finally {
      await b.stop();
    }
    const err = await failure(() => b.client().send(new ListKeysCommand({})));
    assert.equal(err.code, 'ECONNREFUSED');
  });

  test('the region comes from --region, else AWS_REGION, else AWS_DEFAULT_REGION', async () => {
    const a = await startKmsBackend('embedded', { env: { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'ap-south-1' } });
    const b = await startKmsBackend('embedded', { env: { AWS_DEFAULT_REGION: 'ap-south-1' } });
    const c = await startKmsBackend('embedded', { env: { AWS_REGION: 'eu-central-1' }, region: 'us-west-2' });
    try {
      assert.deepEqual([a.region, b.region, c.region], ['eu-central-1', 'ap-south-1', 'us-west-2']);
      const key = await a.client().send(new CreateKeyCommand({}));
      assert.match(key.KeyMetadata!.Arn!, /^arn:aws:kms:eu-central-1:/);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
    assert.ok((await failure(() => startKmsBackend('embedded', { env: {}, region: 'Mars' }))) instanceof InputError);
  });
});

describe('bad specs', () => {
  for (const spec of ['bogus', 'ftp://127.0.0.1:21', 'http://user:secret@127.0.0.1:4566', '']) {
    test(`--kms ${JSON.stringify(spec)} is a usage error`, async () => {
      const err = await failure(() => startKmsBackend(spec, { env: {} }));
      assert.ok(err instanceof InputError, err.message);
      assert.equal(err.exitCode, 2);
    });
  }
});

function serve(handler: (path: string) => { status: number; body: string }): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    const { status, body } = handler(req.url ?? '/');
    res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/html' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe('endpoint URLs', () => {
  let kms: EmbeddedKms;
  const servers: Server[] = [];
  before(async () => {
    kms = await startEmbeddedKms();
  });
  after(async () => {
    await kms.stop();
    for (const s of servers) s.close();
  });

  test('a cryptgate kms serve endpoint is identified; AWS_* credentials from the environment sign the calls', async () => {
    const b = await startKmsBackend(`${kms.endpoint}/`, { env: { AWS_ACCESS_KEY_ID: '444455556666', AWS_SECRET_ACCESS_KEY: 'test' } });
    assert.equal(b.kind, 'embedded');
    assert.equal(b.endpoint, kms.endpoint);
    assert.equal(b.description, `endpoint ${kms.endpoint} (cryptgate embedded KMS)`);
    assert.deepEqual(b.capabilities, EMBEDDED_CAPABILITIES);
    assert.equal(b.embedded, undefined);
    kms.resetCounters();
    await b.client().send(new ListKeysCommand({}));
    assert.equal(kms.counters().byPrincipal['arn:aws:iam::444455556666:root']?.total, 1);
    await b.stop(); // attaching started nothing, so nothing stops
    await b.client().send(new ListKeysCommand({}));
  });

  test('without AWS_* credentials an endpoint gets test/test', async () => {
    const b = await startKmsBackend(kms.endpoint, { env: {} });
    kms.resetCounters();
    await b.client().send(new ListKeysCommand({}));
    assert.equal(kms.counters().byPrincipal['arn:aws:iam::000000000000:root']?.total, 1);
  });

  test('moto_server and LocalStack are identified by their admin paths; anything else is assumed AWS-like', async () => {
    const moto = await serve((p) => (p === '/moto-api/' ? { status: 200, body: '<html><title>Moto</title></html>' } : { status: 404, body: 'no' }));
    const ls = await serve((p) =>
      p === '/_localstack/health' ? { status: 200, body: '{"services":{"kms":"available"},"edition":"community","version":"4.14.0"}' } : { status: 404, body: '{}' },
    );
    const other = await serve(() => ({ status: 404, body: 'not found' }));
    servers.push(moto.server, ls.server, other.server);

    const m = await startKmsBackend(moto.endpoint, { env: {} });
    assert.equal(m.kind, 'moto');
    assert.equal(m.description, `endpoint ${moto.endpoint} (moto_server)`);
    assert.deepEqual(m.capabilities, MOTO_CAPABILITIES);

    const l = await startKmsBackend(ls.endpoint, { env: {} });
    assert.equal(l.kind, 'localstack');
    assert.equal(l.description, `endpoint ${ls.endpoint} (LocalStack 4.14.0)`);
    assert.deepEqual(l.capabilities, LOCALSTACK_CAPABILITIES);

    const o = await startKmsBackend(other.endpoint, { env: {} });
    assert.equal(o.kind, 'unidentified');
    assert.match(o.description, /unidentified KMS: capabilities assumed to be real AWS's/);
    assert.deepEqual(o.capabilities, AWS_CAPABILITIES);
  });

  test("a real AWS endpoint is not contacted to identify it; its region comes from the host name", async () => {
    const b = await startKmsBackend('https://kms.eu-west-1.amazonaws.com', { env: {} });
    assert.equal(b.kind, 'aws');
    assert.equal(b.region, 'eu-west-1');
    assert.equal(b.description, 'endpoint https://kms.eu-west-1.amazonaws.com (AWS KMS)');
    assert.deepEqual(b.capabilities, AWS_CAPABILITIES);
    const fips = await startKmsBackend('https://kms-fips.us-gov-west-1.amazonaws.com', { env: { AWS_REGION: 'us-east-1' } });
    assert.equal(fips.region, 'us-gov-west-1');
  });

  test('a closed port is an environment error (exit 3) naming the endpoint and ECONNREFUSED', async () => {
    const port = await closedPort();
    const err = await failure(() => startKmsBackend(`http://127.0.0.1:${port}`, { env: {} }));
    assert.ok(err instanceof EnvironmentError);
    assert.equal(err.message, `KMS endpoint http://127.0.0.1:${port} unreachable (ECONNREFUSED): start it, or use --kms embedded (built in) or --kms moto`);
  });

  test('ports that fetch() refuses (9, 6000) are still reached', async () => {
    const err = await failure(() => startKmsBackend('http://127.0.0.1:9', { env: {} }));
    assert.match(err.message, /unreachable \(ECONNREFUSED\)/);
  });
});

// A stand-in for moto_server: answers /moto-api/ on the -H/-p it is given, or misbehaves as FAKE_MODE says.
const FAKE_MOTO = `#!/usr/bin/env node
const http = require('node:http');
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
const host = args[args.indexOf('-H') + 1];
const port = Number(args[args.indexOf('-p') + 1]);
if (process.env.FAKE_PID_FILE) fs.writeFileSync(process.env.FAKE_PID_FILE, String(process.pid));
const mode = process.env.FAKE_MODE || 'ok';
if (mode === 'crash') {
  console.error('Traceback (most recent call last):');
  console.error("ModuleNotFoundError: No module named 'flask'");
  process.exit(1);
}
if (mode === 'ignore-term') process.on('SIGTERM', () => {});
if (mode === 'grandchild') {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  fs.writeFileSync(process.env.FAKE_CHILD_PID_FILE, String(child.pid));
}
if (mode === 'silent') setInterval(() => {}, 1000);
else http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<title>Moto</title>'); })
  .listen(port, host, () => console.error(' * Running on http://' + host + ':' + port));
`;

describe('moto life cycle (stand-in moto_server)', () => {
  const fake = script('moto_server', FAKE_MOTO);
  const dir = mkdtempSync(join(tmpdir(), 'cryptgate-moto-pids-'));
  const baseEnv = { PATH: process.env.PATH, MOTO_SERVER: fake };

  test('starts it on a free loopback port, waits until it answers, and kills it on stop()', async () => {
    const pidFile = join(dir, 'ok.pid');
    const b = await startKmsBackend('moto', { env: { ...baseEnv, FAKE_PID_FILE: pidFile } });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.equal(b.kind, 'moto');
    assert.match(b.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(b.description, `moto_server (version unknown) at ${b.endpoint}`);
    assert.deepEqual(b.capabilities, MOTO_CAPABILITIES);
    assert.ok(alive(pid));
    await b.stop();
    assert.ok(await gone(pid), 'moto_server still running after stop()');
    await b.stop(); // twice is harmless
  });

  test('a moto_server that ignores SIGTERM is killed anyway, with the children it started', async () => {
    const pidFile = join(dir, 'stubborn.pid');
    const childFile = join(dir, 'grandchild.pid');
    const stubborn = await startKmsBackend('moto', { env: { ...baseEnv, FAKE_MODE: 'ignore-term', FAKE_PID_FILE: pidFile } });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await stubborn.stop();
    assert.ok(await gone(pid));
    const parent = await startKmsBackend('moto', { env: { ...baseEnv, FAKE_MODE: 'grandchild', FAKE_CHILD_PID_FILE: childFile } });
    const child = Number(readFileSync(childFile, 'utf8'));
    assert.ok(alive(child));
    await parent.stop();
    assert.ok(await gone(child), 'a child of moto_server outlived stop()');
  });

  test('even when cryptgate itself is SIGKILLed (no hook can run), moto_server goes down with it', async () => {
    const pidFile = join(dir, 'orphan.pid');
    const backendJs = pathToFileURL(join(packageRoot(), 'dist', 'src', 'kms', 'backend.js')).href;
    const driver = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const { startKmsBackend } = await import(${JSON.stringify(backendJs)}); await startKmsBackend('moto'); console.log('up'); setInterval(() => {}, 1000);`],
      { env: { ...process.env, ...baseEnv, FAKE_PID_FILE: pidFile }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      driver.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('up') && resolve());
      driver.once('exit', (code) => reject(new Error(`driver exited early (${code})`)));
    });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(alive(pid));
    driver.kill('SIGKILL');
    assert.ok(await gone(pid), 'moto_server outlived a SIGKILLed cryptgate');
  });

  test('a moto_server that exits at once: its own words in one line, and how to reinstall', async () => {
    const err = await failure(() => startKmsBackend('moto', { env: { ...baseEnv, FAKE_MODE: 'crash' } }));
    assert.ok(err instanceof EnvironmentError);
    assert.equal(
      err.message,
      `moto_server (${fake}) exited with code 1 before answering: Traceback (most recent call last): | ModuleNotFoundError: No module named 'flask'; ` +
        "reinstall it with: python3 -m venv .venv && .venv/bin/pip install 'moto[server]' (or: bash scripts/moto/install.sh)",
    );
  });

  test('a moto_server that never answers is given up on and killed', async () => {
    const pidFile = join(dir, 'silent.pid');
    const err = await failure(() => startKmsBackend('moto', { env: { ...baseEnv, FAKE_MODE: 'silent', FAKE_PID_FILE: pidFile }, startTimeoutMs: 1500 }));
    assert.ok(err instanceof EnvironmentError);
    assert.match(err.message, /^moto_server \(.*\) did not answer on http:\/\/127\.0\.0\.1:\d+ within 2 s/);
    assert.ok(await gone(Number(readFileSync(pidFile, 'utf8'))));
  });

  test('no moto_server anywhere: where it looked and exactly how to install it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cryptgate-no-moto-'));
    const err = await failure(() => startKmsBackend('moto', { env: { PATH: empty }, motoSearchDirs: [empty] }));
    assert.ok(err instanceof EnvironmentError);
    assert.equal(
      err.message,
      `moto_server not found (looked at $MOTO_SERVER, ${join(empty, '.venv', 'bin', 'moto_server')} and PATH): ` +
        "install it with: python3 -m venv .venv && .venv/bin/pip install 'moto[server]' (or: bash scripts/moto/install.sh)",
    );
  });

  test('MOTO_SERVER pointing nowhere is an environment error, not a silent fallback', async () => {
    const err = await failure(() => startKmsBackend('moto', { env: { PATH: process.env.PATH, MOTO_SERVER: '/nonexistent/moto_server' } }));
    assert.ok(err instanceof EnvironmentError);
    assert.match(err.message, /^MOTO_SERVER=\/nonexistent\/moto_server: no executable file there/);
  });
});

describe('localstack', () => {
  test('pins the last image that starts without an auth token', () => {
    assert.equal(LOCALSTACK_IMAGE, 'localstack/localstack:4.14.0');
  });

  test('no Docker engine: says where it looked and what to use instead', async () => {
    const err = await failure(() =>
      startKmsBackend('localstack', {
        env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
        dockerProbe: () => Promise.reject(new Error('Could not find a working container runtime strategy')),
      }),
    );
    assert.ok(err instanceof EnvironmentError);
    assert.match(
      err.message,
      /^no Docker engine answers \(looked at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock, .*\/var\/run\/docker\.sock.*\): LocalStack needs Docker; use --kms embedded, --kms moto, or --kms http:\/\/… for a LocalStack you run yourself$/,
    );
  });

  test('another Docker failure is quoted in the same line', async () => {
    const err = await failure(() =>
      startKmsBackend('localstack', { env: {}, dockerProbe: () => Promise.reject(new Error('connect EACCES /var/run/docker.sock')) }),
    );
    assert.match(err.message, /^no Docker engine answers \(looked at DOCKER_HOST \(unset\), .*\) \[connect EACCES \/var\/run\/docker\.sock\]: LocalStack needs Docker/);
  });
});
