// Key-store files and extract headers as evidence, read without any key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCluster, SimCluster } from '../../../simulators/cluster/index.js';
import { parseExtractHeader, parseKmsStorage, readBackupManifest, readExtractHeaderEvidence, readKeyStore } from '../../../src/evidence/key-store.js';
import { FormatError, InputError } from '../../../src/util/errors.js';

let dir: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cg-ks-'));
  await initCluster(join(dir, 'c'), { nodes: 2 });
  const c = await SimCluster.open(join(dir, 'c'));
  try {
    await c.publish('Default', 'one', { size: 100 });
    await c.regenerateInternalTokens();
    await c.publish('Default', 'two', { size: 2_000_000 });
    await c.backup(join(dir, 'b.tsbak'));
  } finally {
    c.close();
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('which MEK each extract is under, the MEK states, how the RMK is wrapped, the secret\'s permissions', async () => {
  const ks = await readKeyStore(join(dir, 'c'));
  assert.equal(ks.storage.mode, 'local');
  assert.equal(ks.storage.rmk.wrappedBy, 'local-keystore');
  assert.equal(ks.storage.rmk.wrappedBytes, 32);
  assert.equal(ks.storage.rmk.localRootId, ks.localKeystore!.rootId);
  assert.deepEqual(ks.storage.meks.map((m) => m.state), ['decryption-only', 'encryption/decryption']);
  const [old, cur] = ks.storage.meks;
  assert.deepEqual(ks.extracts.map((x) => [x.name, x.mekId, x.plainSize]), [['one', old!.id, 100], ['two', cur!.id, 2_000_000]]);
  assert.deepEqual(ks.extractsByMek, { [old!.id]: 1, [cur!.id]: 1 });
  assert.deepEqual(ks.notUnderEncryptionMek.map((x) => x.name), ['one']);
  assert.deepEqual(ks.underUnknownMek, []);
  if (process.platform !== 'win32') assert.equal(ks.secretFileMode, '0600');
  await assert.rejects(readKeyStore(join(dir, 'none')), (e: Error) => e instanceof InputError && e.message === `${join(dir, 'none', 'keystore', 'kms.json')}: cannot read the KMS storage: no such file`);
  const h = await readExtractHeaderEvidence(ks.extracts[1]!.file);
  assert.equal(h.fileBytes, readFileSync(ks.extracts[1]!.file).length);
  assert.equal(h.cipher, 'AES-256-GCM');
});

test('a backup manifest as evidence', async () => {
  const b = await readBackupManifest(join(dir, 'b.tsbak'));
  assert.equal(b.storage.meks.length, 2);
  assert.deepEqual(b.extracts.map((x) => x.name), ['one', 'two']);
  await assert.rejects(readBackupManifest(join(dir, 'c', 'cluster.json')), (e: Error) => e instanceof FormatError && /offset 0: magic: expected "CGTSBAK\\x01"/.test(e.message));
});

test('malformed key-store files are FormatErrors naming the file and the field', () => {
  const good = JSON.parse(readFileSync(join(dir, 'c', 'keystore', 'kms.json'), 'utf8'));
  const bad = (doc: unknown, re: RegExp): void => {
    assert.throws(() => parseKmsStorage(typeof doc === 'string' ? doc : JSON.stringify(doc), 'k.json'), (e: Error) => e instanceof FormatError && e instanceof InputError && re.test(e.message));
  };
  bad('{', /^k\.json: offset 0: document: expected JSON/);
  bad({ ...good, format: 'x' }, /format: expected "cryptgate\/kms-storage@1", found "x"/);
  bad({ ...good, mode: 'azure' }, /mode: expected aws or local, found "azure"/);
  bad({ ...good, meks: [{ ...good.meks[0], state: 'sleeping' }] }, /meks\[0\]\.state: expected encryption\/decryption or decryption-only/);
  bad({ ...good, rmk: { ...good.rmk, wrappedBy: 'aws-kms', blob: '' } }, /rmk\.blob: expected the CMK ciphertext/);
  assert.deepEqual(parseKmsStorage(`\uFEFF${JSON.stringify(good)}`, 'k.json').meks.length, 2);
});

test('extract headers: magic, length, JSON, fields; a short read asks for more', async () => {
  const file = readFileSync(join(dir, 'c', 'extracts', 'Default', 'one.hyper'));
  const r = parseExtractHeader(file.subarray(0, 20), 'x.hyper', file.length);
  assert.ok('need' in r && r.need > 20);
  const full = parseExtractHeader(file, 'x.hyper', file.length);
  assert.ok(!('need' in full));
  assert.throws(() => parseExtractHeader(Buffer.from('not an extract at all'), 'x.hyper', 21), /x\.hyper: offset 0: magic: expected "CGHYPER\\x01"/);
  const broken = Buffer.from(file);
  broken.writeUInt32BE(0, 8);
  assert.throws(() => parseExtractHeader(broken, 'x.hyper', broken.length), /offset 8: header length: expected 1 to 65536, found 0/);
  const hlen = file.readUInt32BE(8);
  const h = JSON.parse(file.subarray(12, 12 + hlen).toString());
  delete h.wrappedDataKey;
  const hb = Buffer.from(JSON.stringify(h));
  const pre = Buffer.alloc(12);
  file.copy(pre, 0, 0, 8);
  pre.writeUInt32BE(hb.length, 8);
  assert.throws(() => parseExtractHeader(Buffer.concat([pre, hb]), 'x.hyper', 0), /header\.wrappedDataKey: expected \{iv, tag, ct\}/);
  writeFileSync(join(dir, 'short.hyper'), Buffer.concat([pre, hb.subarray(0, 5)]));
  await assert.rejects(readExtractHeaderEvidence(join(dir, 'short.hyper')), /short\.hyper: offset 12: header: expected \d+ bytes, found the file ends at 17/);
});
