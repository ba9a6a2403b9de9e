// The rows of README.md's "KMS request counts" table (AWS mode, running cluster) that the
// KMS-9 tests (rotation.test.ts: regenerate, reencryptextracts), aws-mode.test.ts (set-mode
// aws, kms status) and backup-restore.test.ts (backup, restore) do not already pin, counted at
// the embedded KMS per operation and per signing role.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initCluster, type SimCluster } from '../../../simulators/cluster/index.js';
import { openCluster, ops, opsByRole, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
let dir: string;
let c: SimCluster;
const ROLES = ['tableau-server-node1', 'tableau-server-node2', 'tableau-server-node3'];

before(async () => {
  t = await startTestKms();
  dir = tempDir();
  await initCluster(dir, { licence: 'advanced-management', nodes: 3 });
  c = await openCluster(dir, t.kms);
  await c.setModeAws({ region: 'us-east-1', keyArn: await t.newCmk() });
  await c.publish('Default', 'seed', { size: 3 * 1024 * 1024 + 5 });
});
after(async () => {
  c.close();
  await t.stop();
  removeDir(dir);
});

/** The requests `fn` makes, by operation and by role. */
async function counted(fn: () => Promise<unknown> | unknown): Promise<{ byOp: Record<string, number>; byRole: Record<string, Record<string, number>> }> {
  t.kms.resetCounters();
  await fn();
  return { byOp: ops(t.kms), byRole: opsByRole(t.kms) };
}

test('tsm start: one Decrypt per node, each signed by that node\'s own role', async () => {
  const r = await counted(() => c.start());
  assert.deepEqual(r.byOp, { Decrypt: 3 });
  assert.deepEqual(r.byRole, Object.fromEntries(ROLES.map((role) => [role, { Decrypt: 1 }])));
});

test('running cluster: publish, open, tsm status and tsm stop make no KMS request', async () => {
  assert.deepEqual((await counted(() => c.publish('Default', 'more', { size: 2 * 1024 * 1024 }))).byOp, {});
  assert.deepEqual((await counted(() => c.openExtract('Default', 'seed'))).byOp, {});
  assert.deepEqual((await counted(() => c.statusText(true))).byOp, {});
  assert.deepEqual((await counted(() => c.stop())).byOp, {});
});

test('set-mode local from AWS on a running cluster: none (node1 holds the RMK), and none after', async () => {
  await c.start();
  const r = await counted(async () => {
    await c.setModeLocal();
    await c.regenerateInternalTokens();
    await c.reencryptExtracts('Default');
    await c.kmsStatus();
  });
  assert.deepEqual(r.byOp, {});
  assert.equal(c.kmsStorage.mode, 'local');
});
