// `cryptgate sim <dir> …` as a user runs it: a separate process per command, its own
// embedded KMS in <dir>/aws-kms, output shaped like tsm/tabcmd, exit codes per DESIGN.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { startEmbeddedKms } from '../../../simulators/kms/index.js';
import { removeDir, tempDir } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../../bin/cryptgate.js', import.meta.url));
let dir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sim(...args: string[]): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, 'sim', ...args], { env: { ...process.env, NO_COLOR: '1' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 99) : 0;
      res({ code, stdout, stderr });
    });
  });
}

before(() => {
  dir = tempDir();
});
after(() => removeDir(dir));

test('init, a CMK, the multi-node pitfall and the fallback, all from the command line', async () => {
  let r = await sim(dir, 'init', '--nodes', '2', '--licence', 'advanced-management', '--region', 'us-east-1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Initialized a 2-node cluster in .* \(licence advanced-management, platform ec2, region us-east-1, KMS mode local\)\.\n/);

  r = await sim(dir, 'aws', 'kms', 'create-key', '--description', 'tableau');
  assert.equal(r.code, 0, r.stderr);
  const arn = (JSON.parse(r.stdout) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
  assert.match(arn, /^arn:aws:kms:us-east-1:000000000000:key\/[0-9a-f-]{36}$/);

  r = await sim(dir, 'tabcmd', 'publish', 'Default', 'sales', '--size', '1500000');
  assert.equal(r.code, 0, r.stderr);

  // The seed's own example: exit 2, one line naming the bad part.
  r = await sim(dir, 'tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-west-2', '--key-arn', 'arn:aws:kms:us-west-2:867530990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^cryptgate: --key-arn .*: key id '1abc23de-fg45-6hij-7k89-1l0mn1234567': expected 32 lowercase hexadecimal digits/);

  r = await sim(dir, 'node', 'set-role', 'node2', '--kms-key-arn', 'arn:aws:kms:us-east-1:000000000000:alias/tableau');
  assert.equal(r.code, 2, 'a role is scoped to a key ARN, not an alias');
  assert.match(r.stderr, /alias/);
  r = await sim(dir, 'node', 'set-role', 'node2', '--kms-key-arn', arn);
  assert.equal(r.stdout, `node2: role tableau-server-node2; kms:GenerateDataKey allowed; kms:Decrypt allowed; on ${arn}\n`);
  r = await sim(dir, 'node', 'set-role', 'node2', '--decrypt', 'deny', '--kms-key-arn', 'any');
  assert.equal(r.stdout, 'node2: role tableau-server-node2; kms:GenerateDataKey allowed; kms:Decrypt denied; on any key ("*")\n');

  r = await sim('--show-kms-requests', dir, 'tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Job id is '\d+', timeout is 30 minutes\.\n/);
  assert.match(r.stdout, /node2: vizqlserver, backgrounder, dataserver/);
  assert.match(r.stderr, /^KMS requests: 4 \(DescribeKey=1 GenerateDataKey=1 Decrypt=2\)$/m);

  r = await sim('--show-kms-requests', dir, 'tsm', 'security', 'kms', 'status');
  assert.equal(r.code, 0);
  const st = parseKmsStatus(r.stdout);
  assert.equal(st.ok, true);
  assert.equal(st.cmkArn, arn);
  assert.match(r.stderr, /KMS requests: 1 \(Decrypt=1\)/);

  r = await sim(dir, 'tsm', 'status', '-v');
  assert.match(r.stdout, /^Status: DEGRADED\n/);
  assert.match(r.stdout, /'Tableau Server Backgrounder 0' is in an error state\. cannot open KMS storage: node2 \(role tableau-server-node2\): kms:Decrypt .*AccessDeniedException/);

  // One-shot process: the backgrounder on node1 reads the RMK once.
  r = await sim('--show-kms-requests', dir, 'tabcmd', 'reencryptextracts', 'Default');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Scheduling extracts on site Default to be reencrypted\.\.\.\nJob queued\nJob \d+ finished: SUCCESS/);
  assert.match(r.stderr, /KMS requests: 1 \(Decrypt=1\)/);

  r = await sim(dir, 'tsm', 'security', 'kms', 'set-mode', 'local');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Successfully started Tableau Server\./);
  r = await sim(dir, 'tabcmd', 'open', 'Default', 'sales', '--out', join(dir, 'sales.bin'));
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Extract Default\/sales: 1500000 bytes/);
});

test('a disabled CMK: status prints the error and exits 3; backend trouble names node, role, key and action', async () => {
  let r = await sim(dir, 'aws', 'kms', 'create-key');
  const arn = (JSON.parse(r.stdout) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
  await sim(dir, 'node', 'set-role', 'node2', '--decrypt', 'allow');
  r = await sim(dir, 'tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn);
  assert.equal(r.code, 0, r.stderr);
  r = await sim(dir, 'aws', 'kms', 'disable-key', '--key-id', arn);
  assert.equal(r.code, 0, r.stderr);
  r = await sim(dir, 'tsm', 'security', 'kms', 'status');
  assert.equal(r.code, 3);
  assert.match(r.stdout, /\nStatus: ERROR: node1 \(role tableau-server-node1\): kms:Decrypt on RMK .* failed: DisabledException: .* is disabled\.\n$/);
  r = await sim(dir, 'tsm', 'security', 'regenerate-internal-tokens');
  assert.equal(r.code, 3);
  assert.match(r.stderr, /^cryptgate: node1 \(role tableau-server-node1\): kms:Decrypt on RMK [0-9a-f-]{36} with CMK arn:aws:kms:.* failed: DisabledException/);
  r = await sim(dir, 'aws', 'kms', 'enable-key', '--key-id', arn);
  assert.equal(r.code, 0);
});

test('usage mistakes are exit 2 with one line', async () => {
  let r = await sim(join(dir, 'nowhere'), 'tsm', 'status');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not a simulated cluster \(no cluster\.json\); run 'cryptgate sim .* init' first/);
  r = await sim(dir, 'bogus');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'bogus'/);
  r = await sim(dir, 'tsm', 'maintenance', 'restore');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /required option '-f, --file <file>' not specified/);
  r = await sim(dir, 'tabcmd', 'publish', 'Default', 'x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /publish: give --size <bytes> or --from <file>/);
  r = await sim(dir, 'tabcmd', 'reencryptextracts', 'Nope');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /site 'Nope' not found/);
  r = await sim(dir, 'node', 'set-role', 'node2', '--decrypt', 'maybe');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--decrypt maybe: expected one of allow, deny/);
  r = await sim('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /tsm security kms set-mode aws --aws-region R --key-arn ARN/);
});

// ---- KMS trouble from the command line: one line naming node, role, key and action; exit 3.

/** A cluster in AWS mode on its own embedded KMS (<dir>/aws-kms), with one extract; shared by the tests below, each leaves it healthy. */
let shared: Promise<{ d: string; arn: string }> | undefined;
const awsCluster = (): Promise<{ d: string; arn: string }> => (shared ??= makeAwsCluster());
async function makeAwsCluster(): Promise<{ d: string; arn: string }> {
  const d = tempDir();
  extraDirs.push(d);
  ok(await sim(d, 'init', '--nodes', '2', '--licence', 'advanced-management'));
  const r = ok(await sim(d, 'aws', 'kms', 'create-key'));
  const arn = (JSON.parse(r.stdout) as { KeyMetadata: { Arn: string } }).KeyMetadata.Arn;
  ok(await sim(d, 'tabcmd', 'publish', 'Default', 'sales', '--size', '2500000'));
  ok(await sim(d, 'tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn));
  return { d, arn };
}
const extraDirs: string[] = [];
function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r;
}
after(() => extraDirs.forEach(removeDir));

/** stderr without the --show-kms-requests line. */
const errorLines = (r: Run): string[] => r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('KMS requests:'));
const RMK = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('a role without kms:Decrypt (or kms:GenerateDataKey): one line naming node, role, key and action, exit 3, one request (not retried), nothing changed', async () => {
  const { d, arn } = await awsCluster();
  const kmsJson = join(d, 'keystore', 'kms.json');
  const before = readFileSync(kmsJson);
  ok(await sim(d, 'node', 'set-role', 'node1', '--decrypt', 'deny'));

  let r = await sim('--show-kms-requests', d, 'tsm', 'security', 'regenerate-internal-tokens');
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(
    errorLines(r)[0]!,
    new RegExp(
      `^cryptgate: node1 \\(role tableau-server-node1\\): kms:Decrypt on RMK ${RMK} with CMK ${esc(arn)} failed: AccessDeniedException: ` +
        `User: arn:aws:sts::000000000000:assumed-role/tableau-server-node1/\\S+ is not authorized to perform: kms:Decrypt on resource: ${esc(arn)}`,
    ),
  );
  assert.match(r.stderr, /^KMS requests: 1 \(Decrypt=1\)$/m, 'access errors are not retried');
  assert.deepEqual(readFileSync(kmsJson), before);

  r = await sim(d, 'tabcmd', 'reencryptextracts', 'Default');
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, new RegExp(`^cryptgate: node1 \\(role tableau-server-node1\\): kms:Decrypt on RMK ${RMK} with CMK ${esc(arn)} failed: AccessDeniedException`));
  assert.match(r.stdout, /\nJob \d+ finished: FAILED: node1 \(role tableau-server-node1\): kms:Decrypt .* \(0 re-encrypted before the failure; rerun to resume\)\n$/);

  // The other half of KMS-3: GenerateDataKey denied, on the CMK this time.
  ok(await sim(d, 'node', 'set-role', 'node1', '--decrypt', 'allow', '--generate-data-key', 'deny'));
  r = await sim('--show-kms-requests', d, 'tsm', 'security', 'regenerate-internal-tokens');
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, new RegExp(`^cryptgate: node1 \\(role tableau-server-node1\\): kms:GenerateDataKey on CMK ${esc(arn)} failed: AccessDeniedException: .*not authorized to perform: kms:GenerateDataKey`));
  assert.match(r.stderr, /^KMS requests: 2 \(Decrypt=1 GenerateDataKey=1\)$/m);
  assert.deepEqual(readFileSync(kmsJson), before, 'the RMK and MEKs are replaced in one write, after GenerateDataKey succeeded');

  // Granted again: the same commands finish, and the interrupted job resumes.
  ok(await sim(d, 'node', 'set-role', 'node1', '--generate-data-key', 'allow'));
  ok(await sim(d, 'tsm', 'security', 'regenerate-internal-tokens'));
  r = await sim(d, 'tabcmd', 'reencryptextracts', 'Default');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /SUCCESS: 1 extract on site Default re-encrypted under MEK .* \(resumed an interrupted run\)/);
});

test('a dead KMS endpoint: one line naming node, role, key, action and endpoint, exit 3, after the retries; nothing changed', async () => {
  const { d, arn } = await awsCluster();
  const dead = await closedPort();
  const url = `http://127.0.0.1:${dead}`;
  const kmsJson = join(d, 'keystore', 'kms.json');
  const before = readFileSync(kmsJson);
  const line = (action: string, key: string): RegExp =>
    new RegExp(`^cryptgate: node1 \\(role tableau-server-node1\\): ${action} on ${key} failed: ECONNREFUSED: KMS endpoint ${esc(url)} unreachable after 3 attempts \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${dead}\\)$`);

  let r = await sim('--kms-endpoint', url, d, 'tsm', 'security', 'regenerate-internal-tokens');
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, line('kms:Decrypt', `RMK ${RMK} with CMK ${esc(arn)}`));
  assert.deepEqual(readFileSync(kmsJson), before);

  r = await sim('--kms-endpoint', url, d, 'tabcmd', 'reencryptextracts', 'Default');
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, line('kms:Decrypt', `RMK ${RMK} with CMK ${esc(arn)}`));

  r = await sim('--kms-endpoint', url, d, 'tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn);
  assert.equal(r.code, 3);
  assert.equal(errorLines(r).length, 1, r.stderr);
  assert.match(errorLines(r)[0]!, line('kms:DescribeKey', `CMK ${esc(arn)}`));

  r = await sim('--kms-endpoint', url, d, 'tsm', 'security', 'kms', 'status');
  assert.equal(r.code, 3);
  assert.match(r.stdout, new RegExp(`\\nStatus: ERROR: node1 \\(role tableau-server-node1\\): kms:Decrypt on RMK ${RMK} with CMK ${esc(arn)} failed: ECONNREFUSED: KMS endpoint ${esc(url)} unreachable after 3 attempts`));
  assert.deepEqual(readFileSync(kmsJson), before);

  // The cluster's own KMS again: the interrupted job resumes and finishes.
  r = await sim(d, 'tabcmd', 'reencryptextracts', 'Default');
  assert.equal(r.code, 0, r.stderr);
});

test('throttling and 5xx answers are retried: the command succeeds, every attempt counted at the KMS', async () => {
  const { d } = await awsCluster();
  // Serve the cluster's KMS state from this process, where the fault knobs are.
  const kms = await startEmbeddedKms({ port: 0, stateDir: join(d, 'aws-kms') });
  try {
    for (const faults of [{ throttle: { next: 2 } }, { outage: { next: 2, status: 500 as const } }, { outage: { next: 2, status: 503 as const } }]) {
      kms.clearFaults();
      kms.resetCounters();
      kms.setFaults(faults);
      const r = await sim('--kms-endpoint', kms.endpoint, d, 'tsm', 'security', 'kms', 'status');
      assert.equal(r.code, 0, `${JSON.stringify(faults)}: ${r.stderr}`);
      assert.match(r.stdout, /\nStatus: OK\n$/);
      const k = kms.counters();
      assert.deepEqual(k.byOperation, { Decrypt: 3 }, JSON.stringify(faults));
      assert.equal(k.faults.throttled + k.faults.outages, 2);
    }
    // More failures than attempts: exit 3, one line that says the endpoint kept failing.
    kms.resetCounters();
    kms.setFaults({ throttle: { next: 50 } });
    const r = await sim('--kms-endpoint', kms.endpoint, d, 'tsm', 'security', 'regenerate-internal-tokens');
    assert.equal(r.code, 3);
    assert.equal(errorLines(r).length, 1, r.stderr);
    assert.match(errorLines(r)[0]!, new RegExp(`^cryptgate: node1 \\(role tableau-server-node1\\): kms:Decrypt on RMK ${RMK} with CMK \\S+ failed: ThrottlingException: .*\\(KMS endpoint ${esc(kms.endpoint)} still failing after 3 attempts\\)$`));
    assert.equal(kms.counters().byOperation.Decrypt, 3);
  } finally {
    await kms.stop();
  }
});

/** A loopback port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => res(port));
    });
  });
}
