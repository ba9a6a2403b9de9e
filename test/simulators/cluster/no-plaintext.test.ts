// No plaintext key, in any encoding, in any file the simulator writes: cluster folder
// (key store, extracts, logs, journals), the embedded KMS's state folder, backups, status
// text and command output. Every key the simulator ever creates or unwraps (RMKs, MEKs,
// extract data keys, the local root) is observed through the test-only hook and searched for
// whole and by halves, raw and in hex, base64 (padded or not), base64url, a JSON byte array
// and Buffer-inspect / colon-separated hex (helpers.ts `encodings`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { RotateKeyOnDemandCommand } from '@aws-sdk/client-kms';
import { initCluster } from '../../../simulators/cluster/index.js';
import { runSim } from '../../../src/cli/sim-command.js';
import { assertNoKeyIn, captureKeys, encodings, filesUnder, openCluster, output, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
let kmsState: string;
const dirs: string[] = [];
before(async () => {
  kmsState = tempDir('cg-kms-state-');
  dirs.push(kmsState);
  t = await startTestKms({ stateDir: kmsState });
});
after(async () => {
  await t.stop();
  dirs.forEach(removeDir);
});

test('the scan finds a key in every encoding it claims to check', () => {
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const d = tempDir();
  dirs.push(d);
  for (const [i, e] of encodings(key).entries()) {
    const f = join(d, `leak-${i}.txt`);
    writeFileSync(f, Buffer.concat([Buffer.from('2026-11-23 INFO key='), e, Buffer.from('\n')]));
    assert.throws(() => assertNoKeyIn([f], [{ kind: 'rmk', id: 'x', bytes: key }]), /contains plaintext rmk x/, `encoding ${i}: ${e.toString('latin1')}`);
  }
});

test('a whole lifecycle through the library leaves no plaintext key anywhere', async () => {
  const keys = captureKeys();
  const dir = tempDir();
  const dst = tempDir();
  const dstAws = tempDir();
  const work = tempDir();
  dirs.push(dir, dst, dstAws, work);
  const out = output();
  const shown: string[] = []; // status text a person would read
  try {
    await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
    const cmk = await t.newCmk();
    let c = await openCluster(dir, t.kms, { print: out.print });
    await c.publish('Default', 'local', { size: 200_000 });
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    await c.publish('Default', 'aws', { size: 1_100_000 });
    await t.admin.send(new RotateKeyOnDemandCommand({ KeyId: cmk })); // CMK rotation (KMS-9)
    await c.start();
    await c.regenerateInternalTokens();
    await c.reencryptExtracts('Default');
    await c.openExtract('Default', 'aws', { out: join(work, 'plain.bin') });
    shown.push((await c.kmsStatus()).text, c.statusText(true));
    await c.backup(join(work, 'b.tsbak'));
    c.setNodeRole('node2', { allowDecrypt: false }); // KMS-8: node2's services log the AWS error
    c.close();
    c = await openCluster(dir, t.kms, { print: out.print });
    await c.start();
    shown.push(c.statusText(true));
    await c.setModeLocal();
    shown.push((await c.kmsStatus()).text);
    c.close();
    // Restore into a local-mode cluster and into an AWS-mode one (KMS-11).
    await initCluster(dst, { nodes: 1 });
    const d = await openCluster(dst, t.kms, { print: out.print });
    await d.stop();
    await d.restore(join(work, 'b.tsbak'));
    await d.start();
    await d.openExtract('Default', 'local');
    shown.push((await d.kmsStatus()).text);
    d.close();
    await initCluster(dstAws, { nodes: 2, licence: 'advanced-management' });
    const e = await openCluster(dstAws, t.kms, { print: out.print });
    await e.setModeAws({ region: 'us-east-1', keyArn: cmk });
    await e.stop();
    await e.restore(join(work, 'b.tsbak'));
    await e.start();
    await e.reencryptExtracts('Default');
    shown.push((await e.kmsStatus()).text);
    e.close();
  } finally {
    keys.stop();
  }
  const kinds = new Set(keys.keys.map((k) => k.kind));
  assert.deepEqual([...kinds].sort(), ['extract-data-key', 'local-root', 'mek', 'rmk']);
  writeFileSync(join(work, 'output.txt'), `${out.text()}\n${shown.join('\n')}`);
  const files = [...filesUnder(dir), ...filesUnder(dst), ...filesUnder(dstAws), ...filesUnder(kmsState), join(work, 'b.tsbak'), join(work, 'output.txt')];
  // The scan really covers each kind of evidence.
  for (const [what, re] of [
    ['a Java-style log', /vizqlserver_node\d-0\.log$/],
    ['a backgrounder log', /backgrounder_node\d-0\.log$/],
    ['a nativeapi log', /nativeapi_/],
    ['the key store', /keystore\/kms\.json$/],
    ['the local keystore', /local-keystore\.json$/],
    ['an extract', /\.hyper$/],
    ['the embedded KMS state', /kms-state\.json$/],
  ] as const) {
    assert.ok(files.some((f) => re.test(f)), `no ${what} among the scanned files`);
  }
  assert.match(shown.join('\n'), /Status: OK/);
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
    assert.equal(await sim('aws', 'kms', 'rotate-key-on-demand', '--key-id', arn), 0);
    assert.equal(await sim('tsm', 'security', 'regenerate-internal-tokens'), 0);
    assert.equal(await sim('tabcmd', 'reencryptextracts', 'Default'), 0);
    assert.equal(await sim('tabcmd', 'open', 'Default', 'x'), 0);
    assert.equal(await sim('tsm', 'security', 'kms', 'status'), 0);
    assert.equal(await sim('tsm', 'status', '-v'), 0);
    assert.equal(await sim('tsm', 'maintenance', 'backup', '-f', join(dir, 'cli.tsbak')), 0);
    assert.equal(await sim('tsm', 'security', 'kms', 'set-mode', 'local'), 0);
    assert.equal(await sim('tsm', 'stop'), 0);
    assert.equal(await sim('tsm', 'maintenance', 'restore', '-f', join(dir, 'cli.tsbak')), 0);
    assert.equal(await sim('tsm', 'start'), 0);
    assert.equal(await sim('tabcmd', 'reencryptextracts', 'Default'), 0);
    assert.equal(await sim('tsm', 'security', 'kms', 'status'), 0);
  } finally {
    keys.stop();
  }
  writeFileSync(join(dir, 'stdout.txt'), written.join(''));
  assert.match(written.join(''), /Status: OK/);
  const files = filesUnder(dir);
  assert.ok(files.some((f) => f.includes('/aws-kms/')), 'the CLI embedded KMS state is scanned');
  assertNoKeyIn(files, keys.keys);
});
