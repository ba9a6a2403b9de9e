// AWS KMS mode (KMS-2, -3, -4, -6, -7, -8) against the embedded KMS, each node signing as its
// own instance role. Request counts come from the KMS's own counters.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DisableKeyCommand, EnableKeyCommand } from '@aws-sdk/client-kms';
import { initCluster, KmsCallError, parseCmkArn, SimCluster } from '../../../simulators/cluster/index.js';
import { EnvironmentError, InputError } from '../../../src/util/errors.js';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { readTableauLogFolder } from '../../../src/evidence/tableau-logs.js';
import { openCluster, ops, output, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
const dirs: string[] = [];
const fresh = (): string => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
before(async () => {
  t = await startTestKms();
});
after(async () => {
  await t.stop();
  dirs.forEach(removeDir);
});

const SEED_ARN = 'arn:aws:kms:us-west-2:867530990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567';

test('the CMK ARN is checked part by part; the seed\'s own examples are rejected, naming the bad part', () => {
  const msg = (arn: string): string => {
    try {
      parseCmkArn(arn);
    } catch (e) {
      assert.ok(e instanceof InputError);
      return e.message;
    }
    return 'accepted';
  };
  assert.equal(
    msg(SEED_ARN),
    `--key-arn ${SEED_ARN}: key id '1abc23de-fg45-6hij-7k89-1l0mn1234567': expected 32 lowercase hexadecimal digits in 8-4-4-4-12 groups; 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n' are not hexadecimal`,
  );
  assert.match(msg('arn:aws:kms:us-west-2:86753099990073:key/1abc23de-1234-4567-89ab-123456789012'), /account '86753099990073' has 14 digits: expected exactly 12$/);
  assert.match(msg('arn:aws:kms:us-west-2:8675309900:key/1abc23de-1234-4567-89ab-123456789012'), /has 10 digits/);
  assert.match(msg('arn:aws:s3:us-west-2:867530990073:key/1abc23de-1234-4567-89ab-123456789012'), /service 's3': expected 'kms'/);
  assert.match(msg('arn:aws:kms:uswest2:867530990073:key/1abc23de-1234-4567-89ab-123456789012'), /region 'uswest2': expected an AWS region name/);
  assert.match(msg('arn:aws:kms:us-west-2:867530990073:alias/tableau'), /is an alias: expected the key's own ARN/);
  assert.match(msg('arn:aws:kms:us-west-2:867530990073:key/1234'), /key id '1234': expected a UUID/);
  assert.match(msg('1abc23de-1234-4567-89ab-123456789012'), /expected 6 ':'-separated parts/);
  assert.equal(msg('arn:aws:kms:us-west-2:867530990073:key/1abc23de-1234-4567-89ab-123456789012'), 'accepted');
  assert.equal(msg('arn:aws:kms:us-west-2:867530990073:key/mrk-1234abcd12ab34cd56ef1234567890ab'), 'accepted');
});

test('set-mode aws needs Advanced Management, EC2, a valid ARN whose region matches; nothing changes otherwise', async () => {
  const cmk = await t.newCmk();
  const noLicence = fresh();
  await initCluster(noLicence);
  let c = await openCluster(noLicence, t.kms);
  await assert.rejects(c.setModeAws({ region: 'us-east-1', keyArn: cmk }), (e: Error) => e instanceof InputError && /needs the Advanced Management licence; this cluster is licensed 'none'/.test(e.message));
  c.close();
  const onPrem = fresh();
  await initCluster(onPrem, { licence: 'advanced-management', platform: 'on-prem', nodes: 2 });
  c = await openCluster(onPrem, t.kms);
  await assert.rejects(c.setModeAws({ region: 'us-east-1', keyArn: cmk }), /needs Tableau Server deployed on AWS EC2; node1 runs on on-prem, node2 runs on on-prem/);
  c.close();
  const dir = fresh();
  await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
  const before = readFileSync(join(dir, 'keystore', 'kms.json'));
  c = await openCluster(dir, t.kms);
  t.kms.resetCounters();
  await assert.rejects(c.setModeAws({ region: 'us-west-2', keyArn: SEED_ARN }), /is not hexadecimal|are not hexadecimal/);
  await assert.rejects(c.setModeAws({ region: 'us-west-2', keyArn: cmk }), /--aws-region us-west-2 does not match the region in --key-arn \(us-east-1\)/);
  c.close();
  assert.equal(t.kms.counters().total, 0, 'input checks come before any KMS request');
  assert.deepEqual(readFileSync(join(dir, 'keystore', 'kms.json')), before);
});

test('set-mode aws: RMK = GenerateDataKey, stored only as the CMK ciphertext; one DescribeKey + one GenerateDataKey + one Decrypt per node', async () => {
  const cmk = await t.newCmk();
  const dir = fresh();
  await initCluster(dir, { licence: 'advanced-management', nodes: 3 });
  const out = output();
  const c = await openCluster(dir, t.kms, { print: out.print });
  try {
    await c.publish('Default', 'before-aws', { size: 5000 });
    const mekBefore = c.kmsStorage.meks[0]!.id;
    t.kms.resetCounters();
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    assert.deepEqual(ops(t.kms), { DescribeKey: 1, GenerateDataKey: 1, Decrypt: 3 });
    const perNode = t.kms.counters().byPrincipal;
    for (const n of ['node1', 'node2', 'node3']) {
      const p = Object.entries(perNode).find(([arn]) => arn.includes(`assumed-role/tableau-server-${n}/`));
      assert.ok(p, `${n} called KMS as its own role`);
      assert.equal(p[1].byOperation.Decrypt, 1);
    }
    const s = c.kmsStorage;
    assert.equal(s.mode, 'aws');
    assert.deepEqual(s.aws, { cmkArn: cmk, region: 'us-east-1' });
    assert.equal(s.rmk.wrappedBy, 'aws-kms');
    assert.ok(s.rmk.blob && !s.rmk.sealed);
    assert.equal(s.meks.length, 1);
    assert.equal(s.meks[0]!.id, mekBefore, 'the MEKs are re-wrapped, not replaced');
    assert.equal(s.meks[0]!.rmkId, s.rmk.id);
    assert.match(out.text(), /Setting the KMS mode to AWS with CMK .* in us-east-1\.\.\.\nStopping Tableau Server\.\.\.\nStarting Tableau Server\.\.\.\nSuccessfully started Tableau Server\./);
    assert.equal((await c.openExtract('Default', 'before-aws')).bytes, 5000);

    // Status: what the initial node sees (one Decrypt).
    t.kms.resetCounters();
    const st = await c.kmsStatus();
    assert.deepEqual(ops(t.kms), { Decrypt: 1 });
    assert.ok(st.ok);
    const ev = parseKmsStatus(st.text);
    assert.equal(ev.mode, 'aws');
    assert.equal(ev.cmkArn, cmk);
    assert.equal(ev.region, 'us-east-1');
    assert.equal(ev.rmkId, s.rmk.id);
    assert.deepEqual(ev.meks.map((m) => [m.id, m.state, m.createdAt, m.firstEncryptDecryptAt, m.decryptOnlyAt]), [[mekBefore, 'encryption/decryption', s.meks[0]!.createdAt, s.meks[0]!.firstEncryptDecryptAt, null]]);
    assert.equal(ev.checkedOn, 'node1');

    // KMS-7: the logs say it, per node.
    const logs = await readTableauLogFolder(join(dir, 'logs'));
    for (const n of ['node1', 'node2', 'node3']) {
      const decrypted = logs.events.filter((e) => e.node === n && e.service === 'vizqlserver' && e.kind === 'rmk-decrypted' && e.rmkId === s.rmk.id);
      assert.equal(decrypted.length, 1, `${n}: one "Decrypted RMK with ID … using CMK with ARN …"`);
      assert.equal(decrypted[0]!.cmkArn, cmk);
      assert.ok(logs.events.some((e) => e.node === n && e.kind === 'rmk-in-use' && e.rmkId === s.rmk.id && e.file.endsWith('.log')));
    }
    const vizql = readFileSync(join(dir, 'logs', 'node2', 'vizqlserver_node2-0.log'), 'utf8');
    assert.match(vizql, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \+0000 \(,,,,,:,-\) main vizqlserver: INFO {2}com\.tableausoftware\.security\.kms\.aws\.AwsKmsEncryptionEnvelopeAccessor - Decrypted RMK with ID [0-9a-f-]{36} using CMK with ARN arn:aws:kms:/m);
    assert.match(vizql, /AwsKmsEncryptionEnvelope - Using RMK with ID [0-9a-f-]{36} to decrypt KMS storage$/m);
  } finally {
    c.close();
  }
});

test('KMS-8: node2\'s role cannot Decrypt: its KMS services go to Error and log the AWS error, yet status on node1 says OK; set-mode local recovers', async () => {
  const cmk = await t.newCmk();
  const dir = fresh();
  await initCluster(dir, { licence: 'advanced-management', nodes: 3 });
  let c = await openCluster(dir, t.kms);
  await c.publish('Default', 'sales', { size: 10_000 });
  c.setNodeRole('node2', { allowDecrypt: false });
  c.close();
  const out = output();
  c = await openCluster(dir, t.kms, { print: out.print }); // new credentials with node2's new policy
  try {
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    assert.match(out.text(), /Tableau Server started, but some services are in an error state:\n {2}node2: vizqlserver, backgrounder, dataserver\nRun 'tsm status -v' for details\./);
    const cfg = c.clusterConfig;
    const node2 = cfg.nodes.find((n) => n.name === 'node2')!;
    assert.equal(node2.services.vizqlserver.state, 'Error');
    assert.equal(node2.services.backgrounder.state, 'Error');
    assert.equal(node2.services.dataserver.state, 'Error');
    assert.equal(node2.services.gateway.state, 'Running');
    assert.match(node2.services.vizqlserver.message!, /node2 \(role tableau-server-node2\): kms:Decrypt on RMK [0-9a-f-]{36} with CMK arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36} failed: AccessDeniedException: User: arn:aws:sts::\d{12}:assumed-role\/tableau-server-node2\/\S+ is not authorized to perform: kms:Decrypt/);
    for (const n of ['node1', 'node3']) {
      assert.ok(Object.values(cfg.nodes.find((x) => x.name === n)!.services).every((s) => s.state === 'Running'));
    }
    const st = await c.kmsStatus();
    assert.equal(st.ok, true, 'status only reports on the initial node');
    assert.match(st.text, /\nStatus: OK\n$/);
    assert.match(c.statusText(), /^Status: DEGRADED/);
    assert.match(c.statusText(true), /node2: node2\.ec2\.internal\n {4}Status: DEGRADED\n(.*\n)*? {4}'Tableau Server VizQL Server 0' is in an error state\./);
    const logs = await readTableauLogFolder(join(dir, 'logs'));
    const errs = logs.events.filter((e) => e.kind === 'cmk-error' && e.node === 'node2' && e.file.endsWith('.log'));
    assert.ok(errs.length >= 2, 'vizqlserver and backgrounder logs on node2 carry the error');
    for (const e of errs) {
      assert.equal(e.errorCode, 'AccessDeniedException');
      assert.equal(e.cmkArn, cmk);
      assert.equal(e.rmkId, c.kmsStorage.rmk.id);
    }
    assert.ok(logs.events.some((e) => e.kind === 'service-failed' && e.node === 'node2'));
    assert.ok(!logs.events.some((e) => e.kind === 'cmk-error' && e.node !== 'node2'));
    // Jobs still run on the healthy nodes.
    assert.equal((await c.openExtract('Default', 'sales')).bytes, 10_000);

    await c.setModeLocal();
    assert.equal(c.kmsStorage.mode, 'local');
    assert.ok(c.clusterConfig.nodes.every((n) => Object.values(n.services).every((s) => s.state === 'Running')));
    assert.equal((await c.openExtract('Default', 'sales')).bytes, 10_000);
    const ev = parseKmsStatus((await c.kmsStatus()).text);
    assert.equal(ev.mode, 'local');
    assert.equal(ev.cmkArn, null);
    assert.ok(ev.ok);
  } finally {
    c.close();
  }
});

test('a disabled CMK: set-mode fails naming node, role, key and action (exit 3) and changes nothing; status reports the error', async () => {
  const cmk = await t.newCmk();
  const dir = fresh();
  await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
  const c = await openCluster(dir, t.kms);
  try {
    await t.admin.send(new DisableKeyCommand({ KeyId: cmk }));
    const before = readFileSync(join(dir, 'keystore', 'kms.json'));
    await assert.rejects(c.setModeAws({ region: 'us-east-1', keyArn: cmk }), (e: Error) => {
      assert.ok(e instanceof KmsCallError && e instanceof EnvironmentError);
      assert.equal(e.exitCode, 3);
      assert.equal(e.node, 'node1');
      assert.equal(e.role, 'tableau-server-node1');
      assert.equal(e.action, 'kms:GenerateDataKey');
      assert.equal(e.failure.code, 'DisabledException');
      assert.equal(e.message, `node1 (role tableau-server-node1): kms:GenerateDataKey on CMK ${cmk} failed: DisabledException: ${cmk} is disabled.`);
      return true;
    });
    assert.deepEqual(readFileSync(join(dir, 'keystore', 'kms.json')), before);
    assert.equal(c.kmsStorage.mode, 'local');

    await t.admin.send(new EnableKeyCommand({ KeyId: cmk }));
    await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
    await t.admin.send(new DisableKeyCommand({ KeyId: cmk }));
    const st = await c.kmsStatus();
    assert.equal(st.ok, false);
    const ev = parseKmsStatus(st.text);
    assert.equal(ev.ok, false);
    assert.match(ev.error!, /node1 \(role tableau-server-node1\): kms:Decrypt on RMK .* failed: DisabledException/);
    // Restart with the key disabled: every node's KMS services fail.
    await c.start();
    assert.ok(c.clusterConfig.nodes.every((n) => n.services.backgrounder.state === 'Error'));
    await assert.rejects(c.reencryptExtracts('Default'), (e: Error) => e instanceof EnvironmentError && /no backgrounder is running on any node: node1: Error/.test(e.message));
    await t.admin.send(new EnableKeyCommand({ KeyId: cmk }));
    await c.start();
    assert.ok((await c.kmsStatus()).ok);
  } finally {
    c.close();
  }
});

test('no KMS access given: AWS mode says so (exit 3) instead of crashing', async () => {
  const cmk = await t.newCmk();
  const dir = fresh();
  await initCluster(dir, { licence: 'advanced-management' });
  const c = await SimCluster.open(dir);
  try {
    await assert.rejects(c.setModeAws({ region: 'us-east-1', keyArn: cmk }), (e: Error) => e instanceof EnvironmentError && /node1 \(role tableau-server-node1\): no AWS KMS access was given/.test(e.message));
  } finally {
    c.close();
  }
});
