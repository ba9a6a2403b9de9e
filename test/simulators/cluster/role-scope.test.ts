// A node role's IAM policy scoped to one CMK (KMS-3): the KMS allows its actions on that key
// and refuses them on any other; unscoped, the role may use any key ("*"). The scope is kept
// in cluster.json, and a malformed one is refused with the place and what was expected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedKmsAccess, initCluster, KmsCallError, readConfig, rolePolicy, SimCluster } from '../../../simulators/cluster/index.js';
import { InputError } from '../../../src/util/errors.js';
import { removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
const dirs: string[] = [];
before(async () => {
  t = await startTestKms();
});
after(async () => {
  await t.stop();
  dirs.forEach(removeDir);
});

test('a role scoped to a CMK may use that key only; null makes it any key again', async () => {
  const [cmk, other] = [await t.newCmk(), await t.newCmk()];
  const dir = tempDir();
  dirs.push(dir);
  await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
  // Live access: each KMS client is made from cluster.json as it is now.
  const c = await SimCluster.open(dir, { kms: embeddedKmsAccess(t.kms, () => readConfig(dir).nodes, { maxAttempts: 1 }) });
  try {
    assert.equal(rolePolicy(c.clusterConfig.nodes[0]!).Statement[0]!.Resource, '*');
    for (const n of ['node1', 'node2']) c.setNodeRole(n, { kmsKeyArn: other });
    assert.deepEqual(rolePolicy(readConfig(dir).nodes[0]!).Statement, [{ Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: other }]);
    await assert.rejects(
      c.setModeAws({ region: 'us-east-1', keyArn: cmk }),
      (e: unknown) => e instanceof KmsCallError && e.failure.code === 'AccessDeniedException' && e.message.includes(`kms:GenerateDataKey on CMK ${cmk}`),
    );
    assert.equal(c.kmsStorage.mode, 'local');
    for (const n of ['node1', 'node2']) c.setNodeRole(n, { kmsKeyArn: cmk });
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    assert.equal(c.kmsStorage.mode, 'aws');
    assert.deepEqual(
      c.statusText(true).split('\n').filter((l) => /error state/.test(l)),
      [],
      'every node decrypts the RMK with its scoped role',
    );
    c.setNodeRole('node2', { kmsKeyArn: null });
    assert.equal(rolePolicy(readConfig(dir).nodes[1]!).Statement[0]!.Resource, '*');
    assert.throws(() => c.setNodeRole('node1', { kmsKeyArn: 'arn:aws:kms:us-east-1:000000000000:alias/tableau' }), (e: unknown) => e instanceof InputError && /is an alias/.test(e.message));
  } finally {
    c.close();
  }
});

test('cluster.json: a role scope that is not a key ARN is refused, naming the field', async () => {
  const dir = tempDir();
  dirs.push(dir);
  await initCluster(dir, { nodes: 1 });
  const file = join(dir, 'cluster.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { nodes: { role: Record<string, unknown> }[] };
  doc.nodes[0]!.role.kmsKeyArn = 42;
  writeFileSync(file, JSON.stringify(doc));
  assert.throws(() => readConfig(dir), (e: unknown) => e instanceof Error && /nodes\[0\]\.role\.kmsKeyArn/.test(e.message) && /a KMS key ARN/.test(e.message));
});
