// KMS-9: CMK rotation needs no reconfiguration; regenerate-internal-tokens makes a new RMK and
// a new encryption MEK (older MEKs decrypt-only); reencryptextracts moves every extract under
// the new MEK, streamed, with zero KMS requests on a running cluster.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { DEFAULT_CHUNK, initCluster, type SimCluster } from '../../../simulators/cluster/index.js';
import { readKeyStore } from '../../../src/evidence/key-store.js';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { readTableauLogFolder } from '../../../src/evidence/tableau-logs.js';
import { openCluster, ops, opsByRole, output, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
let dir: string;
let cmk: string;
let c: SimCluster;
const out = output();
const NODES = 3;

before(async () => {
  t = await startTestKms();
  cmk = await t.newCmk();
  dir = tempDir();
  await initCluster(dir, { licence: 'advanced-management', nodes: NODES });
  c = await openCluster(dir, t.kms, { print: out.print });
  await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
  c.createSite('Marketing');
  for (const [site, name, size] of [
    ['Default', 'a', 0],
    ['Default', 'b', 1234],
    ['Default', 'c', 2 * DEFAULT_CHUNK + 7],
    ['Marketing', 'm', 4096],
  ] as const) {
    await c.publish(site, name, { size });
  }
});
after(async () => {
  c.close();
  await t.stop();
  removeDir(dir);
});

test('CMK rotation changes nothing Tableau-side: same ARN and region, the RMK still decrypts', async () => {
  const before = c.kmsStorage;
  await t.admin.send(new RotateKeyOnDemandCommand({ KeyId: cmk }));
  await c.start();
  assert.deepEqual(c.kmsStorage, before);
  assert.ok((await c.kmsStatus()).ok);
});

test('regenerate-internal-tokens: exactly one GenerateDataKey and one Decrypt per node; new RMK and MEK; old MEK decrypt-only', async () => {
  const before = c.kmsStorage;
  const oldMek = before.meks[0]!;
  await c.start(); // a running server: the initial node holds the RMK
  t.kms.resetCounters();
  await c.regenerateInternalTokens();
  assert.deepEqual(ops(t.kms), { GenerateDataKey: 1, Decrypt: NODES });
  // Who made them: the initial node generates the new RMK; every node's own role decrypts it once at restart.
  assert.deepEqual(opsByRole(t.kms), {
    'tableau-server-node1': { GenerateDataKey: 1, Decrypt: 1 },
    'tableau-server-node2': { Decrypt: 1 },
    'tableau-server-node3': { Decrypt: 1 },
  });
  const after = c.kmsStorage;
  assert.notEqual(after.rmk.id, before.rmk.id);
  assert.notEqual(after.rmk.blob, before.rmk.blob);
  assert.equal(after.aws?.cmkArn, cmk);
  assert.equal(after.meks.length, 2);
  const enc = after.meks.filter((m) => m.state === 'encryption/decryption');
  assert.equal(enc.length, 1);
  assert.notEqual(enc[0]!.id, oldMek.id);
  const old = after.meks.find((m) => m.id === oldMek.id)!;
  assert.equal(old.state, 'decryption-only');
  assert.equal(old.createdAt, oldMek.createdAt);
  assert.equal(old.firstEncryptDecryptAt, oldMek.firstEncryptDecryptAt);
  assert.ok(old.decryptOnlyAt);
  for (const m of after.meks) assert.equal(m.rmkId, after.rmk.id, 'every MEK re-wrapped under the new RMK');
  const ev = parseKmsStatus((await c.kmsStatus()).text);
  assert.equal(ev.rmkId, after.rmk.id);
  assert.deepEqual(ev.meks.map((m) => m.state), ['decryption-only', 'encryption/decryption']);
  assert.equal(ev.meks[0]!.decryptOnlyAt, old.decryptOnlyAt);
  // Old extracts still open (decrypt-only MEK), new ones go under the new MEK.
  assert.equal((await c.openExtract('Default', 'b')).header.mekId, oldMek.id);
  const fresh = await c.publish('Default', 'new', { size: 10 });
  assert.equal(fresh.header.mekId, enc[0]!.id);
});

test('reencryptextracts: every extract of the site under the encryption MEK, zero KMS requests, other sites untouched', async () => {
  const enc = c.kmsStorage.meks.find((m) => m.state === 'encryption/decryption')!.id;
  const before = await readKeyStore(dir);
  assert.ok(before.notUnderEncryptionMek.length >= 4);
  const shaBefore = new Map<string, string>();
  for (const x of c.listExtracts()) shaBefore.set(`${x.site}/${x.name}`, (await c.openExtract(x.site, x.name)).sha256);
  out.lines.length = 0;
  t.kms.resetCounters();
  const r = await c.reencryptExtracts('Default');
  const k = t.kms.counters();
  assert.equal(k.total, 0, 'reencryptextracts makes no KMS request on a running cluster');
  assert.deepEqual([k.byOperation, k.byPrincipal], [{}, {}]);
  assert.equal(r.reencrypted, 3);
  assert.equal(r.alreadyCurrent, 1);
  assert.equal(r.mekId, enc);
  assert.deepEqual(out.lines.slice(0, 2), ['Scheduling extracts on site Default to be reencrypted...', 'Job queued']);
  assert.match(out.lines[2]!, /^Job \d+ finished: SUCCESS: 3 extracts on site Default re-encrypted under MEK [0-9a-f-]{36}, 1 already under it$/);
  const ks = await readKeyStore(dir);
  assert.deepEqual(ks.notUnderEncryptionMek.map((x) => `${x.site}/${x.name}`), ['Marketing/m']);
  for (const x of c.listExtracts()) {
    const o = await c.openExtract(x.site, x.name);
    assert.equal(o.sha256, shaBefore.get(`${x.site}/${x.name}`) ?? o.sha256, `${x.site}/${x.name} holds the same data`);
    const prev = before.extracts.find((e) => e.name === x.name && e.site === x.site);
    if (prev && x.site === 'Default') {
      assert.equal(x.header.extractId, prev.extractId, 'the extract keeps its identity');
      assert.notEqual(x.header.wrappedDataKey.ct, undefined);
    }
  }
  await c.reencryptExtracts('Marketing');
  assert.equal((await readKeyStore(dir)).notUnderEncryptionMek.length, 0);
  // Evidence: the backgrounder log shows the job and each re-encryption.
  const logs = await readTableauLogFolder(join(dir, 'logs'));
  const re = logs.events.filter((e) => e.kind === 'extract-reencrypted');
  assert.equal(re.filter((e) => e.mekId === enc).length, 4);
  assert.ok(re.every((e) => e.service === 'backgrounder' && e.fromMekId && e.fromMekId !== e.mekId));
  assert.ok(logs.events.some((e) => e.kind === 'reencrypt-job-finished' && e.result === 'SUCCESS' && e.site === 'Default'));
  // A second run has nothing to do.
  const again = await c.reencryptExtracts('Default');
  assert.equal(again.reencrypted, 0);
});

test('a fresh process (empty service memory, like each CLI call): the backgrounder decrypts the RMK once, then no more', async () => {
  await c.regenerateInternalTokens();
  c.close();
  c = await openCluster(dir, t.kms, { print: out.print });
  t.kms.resetCounters();
  await c.reencryptExtracts('Default');
  assert.deepEqual(ops(t.kms), { Decrypt: 1 });
  t.kms.resetCounters();
  await c.reencryptExtracts('Marketing');
  await c.publish('Default', 'later', { size: 1 });
  assert.equal(t.kms.counters().total, 0);
  // regenerate in a fresh process: one extra Decrypt for the initial node to read the old RMK.
  c.close();
  c = await openCluster(dir, t.kms, { print: out.print });
  t.kms.resetCounters();
  await c.regenerateInternalTokens();
  assert.deepEqual(ops(t.kms), { GenerateDataKey: 1, Decrypt: NODES + 1 });
  assert.deepEqual(opsByRole(t.kms)['tableau-server-node1'], { GenerateDataKey: 1, Decrypt: 2 }, 'node1: the old RMK, then the new one at restart');
});

test('regenerate and reencrypt in local mode: no KMS at all', async () => {
  const d = tempDir();
  try {
    await initCluster(d, { nodes: 2 });
    const lc = await openCluster(d, t.kms);
    try {
      await lc.publish('Default', 'x', { size: 3000 });
      // Over 32 MiB: the re-encryption's background fdatasyncs run on the way.
      await lc.publish('Default', 'y', { size: 40 * DEFAULT_CHUNK + 3 });
      const shaY = (await lc.openExtract('Default', 'y')).sha256;
      t.kms.resetCounters();
      const rmk = lc.kmsStorage.rmk.id;
      await lc.regenerateInternalTokens();
      const r = await lc.reencryptExtracts('Default');
      assert.equal(t.kms.counters().total, 0);
      assert.notEqual(lc.kmsStorage.rmk.id, rmk);
      assert.equal(r.reencrypted, 2);
      assert.equal((await lc.openExtract('Default', 'x')).bytes, 3000);
      const y = await lc.openExtract('Default', 'y');
      assert.deepEqual([y.bytes, y.sha256, y.header.mekId], [40 * DEFAULT_CHUNK + 3, shaY, r.mekId]);
    } finally {
      lc.close();
    }
  } finally {
    removeDir(d);
  }
});

test('a damaged extract fails the job (logged FAILED, journal kept); after repair a rerun resumes the same job and finishes', async () => {
  const d = tempDir();
  try {
    await initCluster(d);
    const out2 = output();
    const lc = await openCluster(d, undefined, { print: out2.print });
    try {
      await lc.publish('Default', 'a', { size: 100 });
      await lc.publish('Default', 'b', { size: 100 });
      await lc.regenerateInternalTokens();
      const b = lc.listExtracts('Default').find((x) => x.name === 'b')!;
      const good = readFileSync(b.path);
      const bad = Buffer.from(good);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
      writeFileSync(b.path, bad);
      await assert.rejects(lc.reencryptExtracts('Default'), /b\.hyper: chunk 0: authentication failed/);
      assert.match(out2.text(), /Job (\d+) finished: FAILED: .*authentication failed.* \(1 re-encrypted before the failure; rerun to resume\)/);
      const jobId = /Job (\d+) finished: FAILED/.exec(out2.text())![1];
      assert.ok(existsSync(join(d, 'jobs', 'reencrypt-Default.json')));
      const logs = await readTableauLogFolder(join(d, 'logs'));
      assert.ok(logs.events.some((e) => e.kind === 'reencrypt-job-finished' && e.result === 'FAILED' && e.jobId === jobId));
      writeFileSync(b.path, good);
      const r = await lc.reencryptExtracts('Default');
      assert.deepEqual([r.resumed, String(r.jobId), r.reencrypted, r.alreadyCurrent], [true, jobId, 1, 1]);
      assert.ok(!existsSync(join(d, 'jobs', 'reencrypt-Default.json')));
    } finally {
      lc.close();
    }
  } finally {
    removeDir(d);
  }
});
