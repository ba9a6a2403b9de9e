// The key hierarchy in local mode and the extract format: publish/open round trips at chunk
// boundaries, streaming from a file, ids bound as AAD, tampering and truncation detected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CHUNK, initCluster, readExtractHeader, SimCluster } from '../../../simulators/cluster/index.js';
import { InputError } from '../../../src/util/errors.js';
import { readKeyStore } from '../../../src/evidence/key-store.js';
import { output, removeDir, tempDir } from './helpers.js';

let dir: string;
let c: SimCluster;
const out = output();

before(async () => {
  dir = tempDir();
  await initCluster(dir, { nodes: 2 });
  c = await SimCluster.open(dir, { print: out.print });
});
after(() => {
  c.close();
  removeDir(dir);
});

test('publish and open round-trip at every chunk boundary, each extract under the encryption MEK', async () => {
  const mek = c.kmsStorage.meks[0]!.id;
  for (const size of [0, 1, DEFAULT_CHUNK - 1, DEFAULT_CHUNK, DEFAULT_CHUNK + 1, 3 * DEFAULT_CHUNK + 17]) {
    const name = `x${size}`;
    const p = await c.publish('Default', name, { size });
    assert.equal(p.header.mekId, mek);
    assert.equal(p.header.plainSize, size);
    const outFile = join(dir, `${name}.plain`);
    const o = await c.openExtract('Default', name, { out: outFile });
    assert.equal(o.bytes, size);
    assert.equal(createHash('sha256').update(readFileSync(outFile)).digest('hex'), o.sha256);
    const chunks = Math.max(1, Math.ceil(size / DEFAULT_CHUNK));
    const headerLen = statSync(p.path).size - size - chunks * 21;
    assert.ok(headerLen > 12 && headerLen < 2048, `overhead is the header plus 21 bytes per chunk (${headerLen})`);
  }
});

test('publish --from a file streams it; open gives back the same bytes', async () => {
  const src = join(dir, 'source.bin');
  const data = randomBytes(2 * DEFAULT_CHUNK + 12345);
  writeFileSync(src, data);
  const p = await c.publish('Default', 'fromfile', { file: src });
  assert.equal(p.header.plainSize, data.length);
  const o = await c.openExtract('Default', 'fromfile', { out: join(dir, 'back.bin') });
  assert.equal(o.sha256, createHash('sha256').update(data).digest('hex'));
  assert.deepEqual(readFileSync(join(dir, 'back.bin')), data);
  assert.ok(!readFileSync(p.path).includes(data.subarray(0, 64)), 'the extract file holds no plaintext');
  assert.match(out.text(), /===== File successfully published to the server/);
  assert.match(out.text(), /Extract Default\/fromfile: 2109497 bytes, extract id [0-9a-f-]{36}, MEK [0-9a-f-]{36}, SHA-256 [0-9a-f]{64}/);
});

test('names, sites and overwrite are checked', async () => {
  await assert.rejects(c.publish('Default', '../evil', { size: 1 }), (e: Error) => e instanceof InputError && /extract name '\.\.\/evil'/.test(e.message));
  await assert.rejects(c.publish('Nowhere', 'a', { size: 1 }), /site 'Nowhere' not found: this cluster has 'Default'/);
  await c.publish('Default', 'dup', { size: 10 });
  await assert.rejects(c.publish('Default', 'dup', { size: 10 }), /already exists on site 'Default': use --overwrite/);
  await c.publish('Default', 'dup', { size: 20 }, { overwrite: true });
  assert.equal((await c.openExtract('Default', 'dup')).bytes, 20);
  await assert.rejects(c.openExtract('Default', 'missing'), /extract 'missing' not found on site 'Default'/);
  await assert.rejects(c.publish('Default', 'f', { file: join(dir, 'no-such-file') }), /--from .*no-such-file: expected a readable file/);
  c.createSite('West Coast Sales');
  await c.publish('West Coast Sales', 'w', { size: 5 });
  assert.deepEqual(c.listExtracts('West Coast Sales').map((x) => x.name), ['w']);
});

/** Flips one byte of a file at `pos`. */
function flip(file: string, pos: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, pos);
  b[0] = b[0]! ^ 0x01;
  writeSync(fd, b, 0, 1, pos);
  closeSync(fd);
}

test('a flipped body byte, a truncated file, a chunk moved to another extract: all fail authentication', async () => {
  const a = await c.publish('Default', 'tamper', { size: 2 * DEFAULT_CHUNK + 100 });
  const size = statSync(a.path).size;
  const original = readFileSync(a.path);
  flip(a.path, size - 50);
  await assert.rejects(c.openExtract('Default', 'tamper'), (e: Error) => e instanceof InputError && /chunk 2 .*authentication failed/.test(e.message));
  writeFileSync(a.path, original);
  // Cut the final chunk off: the previous chunk is not flagged final.
  truncateSync(a.path, size - 121);
  await assert.rejects(c.openExtract('Default', 'tamper'), /chunk 2: expected a chunk header, the file ends first \(truncated extract\)/);
  writeFileSync(a.path, original);
  // Trailing bytes after the final chunk.
  writeFileSync(a.path, Buffer.concat([original, Buffer.from('x')]));
  await assert.rejects(c.openExtract('Default', 'tamper'), /expected the end of the file after the final chunk/);
  writeFileSync(a.path, original);
  assert.equal((await c.openExtract('Default', 'tamper')).bytes, 2 * DEFAULT_CHUNK + 100);
  // Another extract's header on this body: the chunk AAD binds the extract id.
  const b = await c.publish('Default', 'other', { size: 2 * DEFAULT_CHUNK + 100 });
  const bytesB = readFileSync(b.path);
  const hlenA = original.readUInt32BE(8);
  const hlenB = bytesB.readUInt32BE(8);
  writeFileSync(a.path, Buffer.concat([bytesB.subarray(0, 12 + hlenB), original.subarray(12 + hlenA)]));
  await assert.rejects(c.openExtract('Default', 'tamper'), /chunk 0 .*authentication failed/);
  writeFileSync(a.path, original);
});

test('ids are bound as AAD: a MEK record renamed, or an extract header naming another MEK, does not open', async () => {
  const x = await c.publish('Default', 'bound', { size: 1000 });
  // Claim the extract's data key is under a different MEK: the data key's AAD binds the MEK id.
  await c.regenerateInternalTokens();
  const newMek = c.kmsStorage.meks.find((m) => m.state === 'encryption/decryption')!.id;
  const raw = readFileSync(x.path);
  const hlen = raw.readUInt32BE(8);
  const h = JSON.parse(raw.subarray(12, 12 + hlen).toString('utf8'));
  h.mekId = newMek;
  const hb = Buffer.from(JSON.stringify(h));
  const pre = Buffer.alloc(12);
  raw.copy(pre, 0, 0, 8);
  pre.writeUInt32BE(hb.length, 8);
  writeFileSync(x.path, Buffer.concat([pre, hb, raw.subarray(12 + hlen)]));
  await assert.rejects(c.openExtract('Default', 'bound'), /data key of extract .* under MEK .*: authentication failed/);
  writeFileSync(x.path, raw);
  assert.equal((await c.openExtract('Default', 'bound')).bytes, 1000);
  // A MEK record given another id: the MEK's AAD binds its own id and the RMK id.
  const file = join(dir, 'keystore', 'kms.json');
  const good = readFileSync(file, 'utf8');
  const s = JSON.parse(good);
  const enc = s.meks.find((m: { state: string }) => m.state === 'encryption/decryption');
  const old = s.meks.find((m: { state: string }) => m.state !== 'encryption/decryption');
  [enc.sealed, old.sealed] = [old.sealed, enc.sealed];
  writeFileSync(file, JSON.stringify(s));
  c.close();
  c = await SimCluster.open(dir, { print: out.print });
  await assert.rejects(c.publish('Default', 'swapped', { size: 1 }), /MEK .*: authentication failed/);
  writeFileSync(file, good);
  c.close();
  c = await SimCluster.open(dir, { print: out.print });
  await c.publish('Default', 'swapped', { size: 1 });
});

test('exactly one encryption MEK; the evidence reader sees every extract under a known MEK', async () => {
  const ks = await readKeyStore(dir);
  assert.equal(ks.storage.meks.filter((m) => m.state === 'encryption/decryption').length, 1);
  assert.equal(ks.underUnknownMek.length, 0);
  assert.equal(ks.extracts.length, c.listExtracts().length);
  for (const x of c.listExtracts()) assert.equal(readExtractHeader(x.path).extractId, x.header.extractId);
  if (process.platform !== 'win32') assert.equal(ks.secretFileMode, '0600');
});
