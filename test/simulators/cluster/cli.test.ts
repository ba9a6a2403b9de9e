// `cryptgate sim <dir> …` as a user runs it: a separate process per command, its own
// embedded KMS in <dir>/aws-kms, output shaped like tsm/tabcmd, exit codes per DESIGN.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
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

  r = await sim(dir, 'node', 'set-role', 'node2', '--decrypt', 'deny');
  assert.equal(r.stdout, 'node2: role tableau-server-node2; kms:GenerateDataKey allowed; kms:Decrypt denied\n');

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
