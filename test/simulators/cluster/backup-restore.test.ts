// KMS-10 and KMS-11: a backup holds the RMK as the CMK's ciphertext and the MEKs wrapped;
// restoring onto a cluster in any mode needs the backup's CMK, imports its MEKs as
// decryption-only, does not migrate its RMK, and makes a new RMK and encryption MEK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { initCluster, KmsCallError } from '../../../simulators/cluster/index.js';
import { BackupReader } from '../../../simulators/cluster/backup-file.js';
import { InputError } from '../../../src/util/errors.js';
import { readBackupManifest, readKeyStore } from '../../../src/evidence/key-store.js';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { filesUnder, openCluster, ops, output, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
let cmk: string;
let src: string;
let work: string;
let backupFile: string;
let shas: Map<string, string>;
const dirs: string[] = [];
const fresh = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};

before(async () => {
  t = await startTestKms();
  cmk = await t.newCmk();
  src = fresh();
  work = fresh();
  await initCluster(src, { licence: 'advanced-management', nodes: 2 });
  const c = await openCluster(src, t.kms);
  try {
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    await c.publish('Default', 'old', { size: 70_000 });
    await c.regenerateInternalTokens();
    await c.publish('Default', 'new', { size: 1_500_000 });
    c.createSite('Finance');
    await c.publish('Finance', 'ledger', { size: 3 });
    shas = new Map();
    for (const x of c.listExtracts()) shas.set(`${x.site}/${x.name}`, (await c.openExtract(x.site, x.name)).sha256);
    backupFile = join(work, 'cluster.tsbak');
    t.kms.resetCounters();
    await c.backup(backupFile);
    assert.equal(t.kms.counters().total, 0, 'a backup opens no key');
  } finally {
    c.close();
  }
});
after(async () => {
  await t.stop();
  dirs.forEach(removeDir);
});

test('the backup holds the RMK as the CMK ciphertext, the MEKs wrapped, the CMK ARN/region and the extracts as they are', async () => {
  const b = await readBackupManifest(backupFile);
  const ks = await readKeyStore(src);
  assert.equal(b.storage.mode, 'aws');
  assert.equal(b.storage.cmkArn, cmk);
  assert.equal(b.storage.region, 'us-east-1');
  assert.equal(b.storage.rmk.wrappedBy, 'aws-kms');
  assert.equal(b.storage.rmk.id, ks.storage.rmk.id);
  assert.ok(b.storage.rmk.wrappedBytes > 32);
  assert.deepEqual(b.storage.meks.map((m) => [m.id, m.state]), ks.storage.meks.map((m) => [m.id, m.state]));
  assert.deepEqual(b.extracts.map((x) => `${x.site}/${x.name}`).sort(), ['Default/new', 'Default/old', 'Finance/ledger']);
  // The extracts' encrypted bytes are in the backup verbatim.
  const whole = readFileSync(backupFile);
  for (const f of filesUnder(join(src, 'extracts'))) assert.ok(whole.includes(readFileSync(f)), `${f} is in the backup as it is on disk`);
  if (process.platform !== 'win32') assert.equal(statSync(backupFile).mode & 0o777, 0o600);
});

test('restore onto a local-mode cluster: one Decrypt of the backup RMK; MEKs imported decryption-only; new RMK and encryption MEK; extracts readable', async () => {
  const dst = fresh();
  await initCluster(dst, { nodes: 2 }); // no licence, local mode: the restore target may be in any mode
  const out = output();
  const c = await openCluster(dst, t.kms, { print: out.print });
  try {
    await c.publish('Default', 'doomed', { size: 10 });
    await assert.rejects(c.restore(backupFile), /must be stopped before a restore: run 'tsm stop' first/);
    await c.stop();
    t.kms.resetCounters();
    await c.restore(backupFile);
    assert.deepEqual(ops(t.kms), { Decrypt: 1 });
    const b = await readBackupManifest(backupFile);
    const s = c.kmsStorage;
    assert.equal(s.mode, 'local');
    assert.notEqual(s.rmk.id, b.storage.rmk.id, 'the RMK is not migrated');
    assert.equal(s.rmk.wrappedBy, 'local-keystore');
    const imported = s.meks.filter((m) => m.importedFrom);
    assert.deepEqual(imported.map((m) => m.id), b.storage.meks.map((m) => m.id));
    assert.ok(imported.every((m) => m.state === 'decryption-only' && m.decryptOnlyAt !== null));
    for (const m of imported) {
      const orig = b.storage.meks.find((x) => x.id === m.id)!;
      assert.equal(m.createdAt, orig.createdAt);
      assert.equal(m.firstEncryptDecryptAt, orig.firstEncryptDecryptAt);
    }
    const enc = s.meks.filter((m) => m.state === 'encryption/decryption');
    assert.equal(enc.length, 1);
    assert.ok(!b.storage.meks.some((m) => m.id === enc[0]!.id), 'a new encryption MEK');
    assert.match(out.text(), /Restored 3 extracts; imported 2 master extract keys as decryption-only; new RMK [0-9a-f-]{36}; new encryption MEK [0-9a-f-]{36}\.\nRestore complete\. Run 'tsm start'/);
    assert.deepEqual(c.clusterConfig.sites, ['Default', 'Finance']);
    await c.start();
    for (const x of c.listExtracts()) assert.equal((await c.openExtract(x.site, x.name)).sha256, shas.get(`${x.site}/${x.name}`));
    assert.equal(c.listExtracts().some((x) => x.name === 'doomed'), false);
    const ev = parseKmsStatus((await c.kmsStatus()).text);
    assert.equal(ev.meks.filter((m) => m.state === 'decryption-only').length, 2);
    // Then rotate the restored extracts under this cluster's MEK.
    await c.reencryptExtracts('Default');
    await c.reencryptExtracts('Finance');
    assert.equal((await readKeyStore(dst)).notUnderEncryptionMek.length, 0);
  } finally {
    c.close();
  }
});

test('restore onto an AWS-mode cluster with its own CMK: one Decrypt (backup RMK) + one GenerateDataKey (new RMK), then one Decrypt per node at start', async () => {
  const otherCmk = await t.newCmk();
  const dst = fresh();
  await initCluster(dst, { licence: 'advanced-management', nodes: 3 });
  const c = await openCluster(dst, t.kms);
  try {
    await c.setModeAws({ region: 'us-east-1', keyArn: otherCmk });
    await c.stop();
    t.kms.resetCounters();
    await c.restore(backupFile);
    assert.deepEqual(ops(t.kms), { Decrypt: 1, GenerateDataKey: 1 });
    assert.equal(c.kmsStorage.rmk.cmkArn, otherCmk);
    t.kms.resetCounters();
    await c.start();
    assert.deepEqual(ops(t.kms), { Decrypt: 3 });
    assert.equal((await c.openExtract('Default', 'new')).sha256, shas.get('Default/new'));
  } finally {
    c.close();
  }
});

test('restore without access to the backup\'s CMK fails with a clear message (exit 3) and changes nothing', async () => {
  const dst = fresh();
  await initCluster(dst, { nodes: 2 });
  let c = await openCluster(dst, t.kms);
  await c.publish('Default', 'keep', { size: 100 });
  c.setNodeRole('node1', { allowDecrypt: false });
  await c.stop();
  c.close();
  // A failed job still takes a job id, as on TSM: compare cluster.json without the counter.
  const content = (f: string): Buffer => {
    if (!f.endsWith('cluster.json')) return readFileSync(f);
    const { nextJobId: _n, ...rest } = JSON.parse(readFileSync(f, 'utf8'));
    return Buffer.from(JSON.stringify(rest));
  };
  const snapshot = new Map(filesUnder(dst).filter((f) => !f.includes('/logs/')).map((f) => [f, content(f)]));
  c = await openCluster(dst, t.kms);
  try {
    await assert.rejects(c.restore(backupFile), (e: Error) => {
      assert.ok(e instanceof KmsCallError);
      assert.equal(e.exitCode, 3);
      assert.match(
        e.message,
        /^node1 \(role tableau-server-node1\): kms:Decrypt on RMK [0-9a-f-]{36} with CMK arn:aws:kms:us-east-1:\d+:key\/[0-9a-f-]{36} failed: AccessDeniedException: restore needs access to the backup's CMK: node1 \(role tableau-server-node1\) cannot kms:Decrypt the backup's RMK .* Nothing was changed\.$/,
      );
      return true;
    });
  } finally {
    c.close();
  }
  const after = new Map(filesUnder(dst).filter((f) => !f.includes('/logs/')).map((f) => [f, content(f)]));
  assert.deepEqual([...after.keys()].sort(), [...snapshot.keys()].sort());
  for (const [f, b] of snapshot) assert.deepEqual(after.get(f), b, `${f} unchanged`);
});

test('a damaged backup is refused by its checksum and changes nothing', async () => {
  const bad = join(work, 'damaged.tsbak');
  const data = readFileSync(backupFile);
  const fd = openSync(bad, 'w');
  writeSync(fd, data);
  closeSync(fd);
  const f2 = openSync(bad, 'r+');
  const pos = data.length - 200;
  const one = Buffer.alloc(1);
  readSync(f2, one, 0, 1, pos);
  one[0] = one[0]! ^ 0xff;
  writeSync(f2, one, 0, 1, pos);
  closeSync(f2);
  const dst = fresh();
  await initCluster(dst);
  const c = await openCluster(dst, t.kms);
  try {
    await c.publish('Default', 'keep', { size: 100 });
    await c.stop();
    const kmsBefore = readFileSync(join(dst, 'keystore', 'kms.json'));
    await assert.rejects(c.restore(bad), (e: Error) => e instanceof InputError && /checksum: expected the SHA-256 of the backup \(the file was altered or damaged\)/.test(e.message));
    assert.deepEqual(readFileSync(join(dst, 'keystore', 'kms.json')), kmsBefore);
    assert.deepEqual(c.listExtracts().map((x) => x.name), ['keep']);
    await assert.rejects(c.restore(join(work, 'nope.tsbak')), /cannot open the backup file: ENOENT/);
    await c.start();
    await assert.rejects(c.backup(backupFile), /the file exists; choose another name/);
  } finally {
    c.close();
  }
});

/** Paths this process holds open (Linux; elsewhere nothing to check). */
function openFiles(): string[] {
  try {
    return readdirSync('/proc/self/fd').flatMap((n) => {
      try {
        return [readlinkSync(`/proc/self/fd/${n}`)];
      } catch {
        return []; // closed between the two looks
      }
    });
  } catch {
    return [];
  }
}

test('a backup cut short in an extract is refused, changes nothing, and leaves no staged file open', async () => {
  const cut = join(work, 'cut.tsbak');
  copyFileSync(backupFile, cut);
  truncateSync(cut, statSync(cut).size - 100); // inside the last extract's bytes (the end entry is 43)
  const dst = fresh();
  await initCluster(dst);
  const c = await openCluster(dst, t.kms);
  try {
    await c.stop();
    const kmsBefore = readFileSync(join(dst, 'keystore', 'kms.json'));
    await assert.rejects(c.restore(cut), (e: Error) => e instanceof InputError && /: offset \d+: data: expected \d+ more bytes, the file ends first \(truncated backup\)$/.test(e.message));
    assert.deepEqual(openFiles().filter((f) => f.startsWith(dst)), [], 'the extract being staged is closed');
    assert.deepEqual(readFileSync(join(dst, 'keystore', 'kms.json')), kmsBefore);
  } finally {
    c.close();
  }
});

test('a backup that shrinks while it is read is refused with the offset, not read forever', () => {
  const shrinking = join(work, 'shrinking.tsbak');
  copyFileSync(backupFile, shrinking);
  const reader = BackupReader.open(shrinking); // its size is taken here
  try {
    truncateSync(shrinking, statSync(shrinking).size - 100);
    assert.throws(
      () => reader.readExtracts(() => ({ write() {}, done() {} })),
      (e: Error) => e instanceof InputError && e.message.startsWith(`${shrinking}: offset `) && /: offset \d+: data: expected \d+ more bytes, the file ends first \(it shrank while being read\)$/.test(e.message),
    );
  } finally {
    reader.close();
  }
});
