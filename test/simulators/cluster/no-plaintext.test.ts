// No plaintext key, in any encoding, in any file the simulator writes: cluster folder
// (key store, extracts, logs, journals), backups, command output. Every key the simulator
// ever creates or unwraps (RMKs, MEKs, extract data keys, the local root) is observed through
// the test-only hook and searched for as raw bytes, hex, base64, base64url and a JSON array.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { initCluster } from '../../../simulators/cluster/index.js';
import { runSim } from '../../../src/cli/sim-command.js';
import { assertNoKeyIn, captureKeys, filesUnder, openCluster, output, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';
import { writeFileSync } from 'node:fs';

let t: TestKms;
const dirs: string[] = [];
before(async () => {
  t = await startTestKms();
});
after(async () => {
  await t.stop();
  dirs.forEach(removeDir);
});

test('a whole lifecycle through the library leaves no plaintext key anywhere', async () => {
  const keys = captureKeys();
  const dir = tempDir();
  const dst = tempDir();
  const work = tempDir();
  dirs.push(dir, dst, work);
  const out = output();
  try {
    await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
    const cmk = await t.newCmk();
    let c = await openCluster(dir, t.kms, { print: out.print });
    await c.publish('Default', 'local', { size: 200_000 });
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    await c.publish('Default', 'aws', { size: 1_100_000 });
    await c.regenerateInternalTokens();
    await c.reencryptExtracts('Default');
    await c.openExtract('Default', 'aws', { out: join(work, 'plain.bin') });
    await c.kmsStatus();
    await c.backup(join(work, 'b.tsbak'));
    c.setNodeRole('node2', { allowDecrypt: false });
    c.close();
    c = await openCluster(dir, t.kms, { print: out.print });
    await c.start();
    await c.setModeLocal();
    c.close();
    await initCluster(dst, { nodes: 1 });
    const d = await openCluster(dst, t.kms, { print: out.print });
    await d.stop();
    await d.restore(join(work, 'b.tsbak'));
    await d.start();
    await d.openExtract('Default', 'local');
    d.close();
  } finally {
    keys.stop();
  }
  const kinds = new Set(keys.keys.map((k) => k.kind));
  assert.deepEqual([...kinds].sort(), ['extract-data-key', 'local-root', 'mek', 'rmk']);
  writeFileSync(join(work, 'output.txt'), out.text());
  const files = [...filesUnder(dir), ...filesUnder(dst), join(work, 'b.tsbak'), join(work, 'output.txt')];
  assert.ok(files.some((f) => f.endsWith('.log')) && files.some((f) => f.includes('nativeapi_')));
  assertNoKeyIn(files, keys.keys);
});

test('the same through the CLI (cryptgate sim …, with its own embedded KMS in <dir>/aws-kms)', async () => {
  const keys = captureKeys();
  const dir = tempDir();
  dirs.push(dir);
  const written: string[] = [];
  try {
    const sim = (...args: string[]): Promise<number> => runSim(dir, args, {}, { write: (s) => written.push(s) });
    assert.equal(await sim('init', '--nodes', '2', '--licence', 'advanced-management'), 0);
    assert.equal(await sim('aws', 'kms', 'create-key'), 0);
    const arn = /"Arn": "([^"]+)"/.exec(written.join(''))![1]!;
    assert.equal(await sim('tabcmd', 'publish', 'Default', 'x', '--size', '300000'), 0);
    assert.equal(await sim('tsm', 'security', 'kms', 'set-mode', 'aws', '--aws-region', 'us-east-1', '--key-arn', arn), 0);
    assert.equal(await sim('tsm', 'security', 'regenerate-internal-tokens'), 0);
    assert.equal(await sim('tabcmd', 'reencryptextracts', 'Default'), 0);
    assert.equal(await sim('tabcmd', 'open', 'Default', 'x'), 0);
    assert.equal(await sim('tsm', 'security', 'kms', 'status'), 0);
    assert.equal(await sim('tsm', 'maintenance', 'backup', '-f', join(dir, 'cli.tsbak')), 0);
  } finally {
    keys.stop();
  }
  writeFileSync(join(dir, 'stdout.txt'), written.join(''));
  assert.match(written.join(''), /Status: OK/);
  assertNoKeyIn(filesUnder(dir), keys.keys);
});
