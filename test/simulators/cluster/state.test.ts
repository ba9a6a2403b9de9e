// Cluster state in a folder: init, cluster.json, the lock, atomic writes, malformed state.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initCluster, SimCluster, SERVICES } from '../../../simulators/cluster/index.js';
import { InputError } from '../../../src/util/errors.js';
import { output, removeDir, tempDir } from './helpers.js';

const dirs: string[] = [];
const fresh = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
after(() => dirs.forEach(removeDir));

test('init writes cluster.json: nodes, initial node, roles, services, licence, sites; KMS local', async () => {
  const dir = fresh();
  const c = await initCluster(dir, { nodes: 3, licence: 'advanced-management', platform: 'ec2', region: 'us-west-2' });
  const onDisk = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'));
  assert.deepEqual(onDisk, c);
  assert.equal(c.format, 'cryptgate/cluster@1');
  assert.deepEqual(c.nodes.map((n) => n.name), ['node1', 'node2', 'node3']);
  assert.equal(c.initialNode, 'node1');
  assert.deepEqual(c.nodes.map((n) => n.adminController), [true, false, false]);
  for (const n of c.nodes) {
    assert.equal(n.platform, 'ec2');
    assert.deepEqual(n.role, { name: `tableau-server-${n.name}`, allowsGenerateDataKey: true, allowsDecrypt: true });
    assert.deepEqual(Object.keys(n.services).sort(), [...SERVICES].sort());
    for (const s of SERVICES) assert.equal(n.services[s].state, 'Running');
  }
  assert.equal(c.licence, 'advanced-management');
  assert.equal(c.region, 'us-west-2');
  assert.deepEqual(c.sites, ['Default']);
  const kms = JSON.parse(readFileSync(join(dir, 'keystore', 'kms.json'), 'utf8'));
  assert.equal(kms.mode, 'local');
  assert.equal(kms.rmk.wrappedBy, 'local-keystore');
  assert.equal(kms.meks.length, 1);
  assert.equal(kms.meks[0].state, 'encryption/decryption');
  if (process.platform !== 'win32') {
    assert.equal(statSync(join(dir, 'keystore', 'cluster.secret')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'keystore', 'kms.json')).mode & 0o777, 0o600);
  }
  assert.ok(existsSync(join(dir, 'extracts', 'Default')));
  // No temp files left behind, no lock held.
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('tmp') || n.endsWith('.lock')), []);
});

test('defaults: one node, no licence, ec2, us-east-1', async () => {
  const c = await initCluster(fresh());
  assert.equal(c.nodes.length, 1);
  assert.equal(c.licence, 'none');
  assert.equal(c.nodes[0]!.platform, 'ec2');
  assert.equal(c.region, 'us-east-1');
});

test('init refuses a cluster folder, a folder with other files, and bad options', async () => {
  const dir = fresh();
  await initCluster(dir);
  await assert.rejects(initCluster(dir), (e: Error) => e instanceof InputError && /already a simulated cluster/.test(e.message));
  const other = fresh();
  writeFileSync(join(other, 'notes.txt'), 'mine');
  await assert.rejects(initCluster(other), (e: Error) => e instanceof InputError && /expected an empty folder.*notes\.txt/.test(e.message));
  await assert.rejects(initCluster(fresh(), { nodes: 0 }), /--nodes 0: expected a whole number from 1 to 64/);
  await assert.rejects(initCluster(fresh(), { region: 'Mars' }), /--region 'Mars': expected an AWS region name/);
  await assert.rejects(initCluster(fresh(), { licence: 'gold' as never }), /--licence gold: expected one of advanced-management, none/);
});

test('an init killed before cluster.json was written can be run again', async () => {
  const dir = fresh();
  // What a killed init leaves: a keystore, no cluster.json.
  mkdirSync(join(dir, 'keystore'));
  writeFileSync(join(dir, 'keystore', 'cluster.secret'), Buffer.alloc(32, 1));
  writeFileSync(join(dir, 'keystore', '.kms.json.123.abcd.cg-tmp'), 'half');
  await initCluster(dir, { nodes: 2 });
  const c = await SimCluster.open(dir);
  c.close();
});

test('one command at a time: the lock refuses a second opener, and a dead process\'s lock is taken over', async () => {
  const dir = fresh();
  await initCluster(dir);
  const a = await SimCluster.open(dir);
  await assert.rejects(SimCluster.open(dir), (e: Error) => e instanceof InputError && /another command is running on this cluster \(pid \d+\)/.test(e.message));
  a.close();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(join(dir, 'cluster.lock'), String(dead));
  const b = await SimCluster.open(dir);
  b.close();
  assert.equal(existsSync(join(dir, 'cluster.lock')), false);
});

test('malformed state is one clear line naming the file and the field', async () => {
  const dir = fresh();
  await initCluster(dir, { nodes: 2 });
  const file = join(dir, 'cluster.json');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, good.replace('"Running"', '"Sleeping"'));
  await assert.rejects(SimCluster.open(dir), (e: Error) => e instanceof InputError && e.message === `${file}: nodes[0].services.gateway.state: expected Running, Error or Stopped`);
  writeFileSync(file, '{ not json');
  await assert.rejects(SimCluster.open(dir), (e: Error) => e instanceof InputError && e.message.startsWith(`${file}: expected JSON:`));
  writeFileSync(file, good);
  const kmsFile = join(dir, 'keystore', 'kms.json');
  const storage = JSON.parse(readFileSync(kmsFile, 'utf8'));
  storage.meks[0].state = 'decryption-only';
  writeFileSync(kmsFile, JSON.stringify(storage));
  await assert.rejects(SimCluster.open(dir), (e: Error) => e instanceof InputError && e.message === `${kmsFile}: expected exactly one encryption/decryption MEK, found 0`);
  await assert.rejects(SimCluster.open(fresh()), /not a simulated cluster \(no cluster\.json\)/);
});

test('tsm stop / start / status -v', async () => {
  const dir = fresh();
  await initCluster(dir, { nodes: 2 });
  const out = output();
  const c = await SimCluster.open(dir, { print: out.print });
  try {
    assert.equal(c.statusText(), 'Status: RUNNING\n');
    await c.stop();
    assert.match(out.text(), /Job id is '\d+', timeout is 30 minutes\.\nStopping Tableau Server\.\.\.\nSuccessfully stopped Tableau Server\./);
    assert.equal(c.statusText(), 'Status: STOPPED\n');
    assert.match(c.statusText(true), /node2: node2\.ec2\.internal\n {4}Status: STOPPED\n {4}'Tableau Server Gateway 0' is stopped\./);
    await assert.rejects(c.publish('Default', 'x', { size: 1 }), /Tableau Server is stopped: run 'tsm start' first/);
    await c.start();
    assert.match(out.text(), /Successfully started Tableau Server\./);
    const v = c.statusText(true);
    assert.match(v, /^Status: RUNNING\n\nnode1: node1\.ec2\.internal\n {4}Status: RUNNING\n {4}'Tableau Server Administration Controller 0' is running\.\n/);
    assert.equal((v.match(/is running\./g) ?? []).length, 6 * 2 + 1);
  } finally {
    c.close();
  }
  assert.equal(JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')).server, 'running');
});
