// The nodes' KMS clients survive what a real KMS does under load (src/kms/client.ts: the SDK's
// standard retries, a bounded wait per attempt): throttling, 5xx answers and hung requests are
// retried, each attempt counted at the embedded KMS through its fault knobs; when the
// failures outlast the attempts, the command fails with one line naming node, role, key and
// action (exit 3), and the key store is unchanged; so does a data key of the wrong size.
// (AccessDenied and a dead endpoint through the CLI: cli.test.ts.)
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { embeddedKmsAccess, initCluster, KmsCallError, readConfig, SimCluster, type KmsAccess } from '../../../simulators/cluster/index.js';
import { EnvironmentError } from '../../../src/util/errors.js';
import { ops, removeDir, startTestKms, tempDir, type TestKms } from './helpers.js';

let t: TestKms;
let dir: string;
let cmk: string;
let c: SimCluster;
const TIMEOUT_MS = 250;

before(async () => {
  t = await startTestKms();
  cmk = await t.newCmk();
  dir = tempDir();
  await initCluster(dir, { licence: 'advanced-management', nodes: 2 });
  c = await SimCluster.open(dir, { kms: embeddedKmsAccess(t.kms, readConfig(dir).nodes, { maxAttempts: 3, timeoutMs: TIMEOUT_MS }) });
  await c.setModeAws({ region: 'us-east-1', keyArn: cmk });
  await c.publish('Default', 'x', { size: 1000 });
});
after(async () => {
  c.close();
  await t.stop();
  removeDir(dir);
});
beforeEach(() => {
  t.kms.clearFaults();
  t.kms.resetCounters();
});

test('throttling, HTTP 500 and 503 on Decrypt: retried, kms status OK, three requests each', async () => {
  for (const f of [{ throttle: { next: 2 } }, { outage: { next: 2, status: 500 as const } }, { outage: { next: 2, status: 503 as const } }]) {
    t.kms.resetCounters();
    t.kms.setFaults(f);
    const st = await c.kmsStatus();
    assert.ok(st.ok, `${JSON.stringify(f)}: ${st.error}`);
    assert.deepEqual(ops(t.kms), { Decrypt: 3 }, JSON.stringify(f));
  }
});

test('hung requests are timed out and retried: regenerate-internal-tokens finishes after two hung GenerateDataKey attempts', async () => {
  await c.start();
  t.kms.resetCounters();
  t.kms.setFaults({ hang: { next: 2, operations: ['GenerateDataKey'] } });
  const rmk = c.kmsStorage.rmk.id;
  await c.regenerateInternalTokens();
  assert.notEqual(c.kmsStorage.rmk.id, rmk);
  assert.deepEqual(ops(t.kms), { GenerateDataKey: 3, Decrypt: 2 });
  assert.equal(t.kms.counters().faults.hangs, 2);
});

test('failures that outlast the attempts: one line naming node, role, key, action and what the endpoint did; exit 3; nothing changed', async () => {
  const kmsJson = join(dir, 'keystore', 'kms.json');
  const cases = [
    { faults: { hang: { next: 10, operations: ['GenerateDataKey'] } }, says: `ETIMEDOUT: KMS endpoint ${t.kms.endpoint} did not answer in time after 3 attempts \\(.*requestTimeout` },
    { faults: { throttle: { next: 10, operations: ['GenerateDataKey'] } }, says: `ThrottlingException: .*\\(KMS endpoint ${t.kms.endpoint} still failing after 3 attempts\\)` },
    { faults: { outage: { next: 10, status: 503 as const, operations: ['GenerateDataKey'] } }, says: `ServiceUnavailableException: .*\\(KMS endpoint ${t.kms.endpoint} still failing after 3 attempts\\)` },
  ];
  for (const k of cases) {
    await c.start();
    t.kms.clearFaults();
    t.kms.resetCounters();
    t.kms.setFaults(k.faults);
    const before = readFileSync(kmsJson);
    await assert.rejects(c.regenerateInternalTokens(), (e: Error) => {
      assert.ok(e instanceof KmsCallError, e.message);
      assert.equal(e.exitCode, 3);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, new RegExp(`^node1 \\(role tableau-server-node1\\): kms:GenerateDataKey on CMK ${cmk.replace(/[/.]/g, '\\$&')} failed: ${k.says}`));
      return true;
    });
    assert.equal(ops(t.kms).GenerateDataKey, 3, JSON.stringify(k.faults));
    assert.deepEqual(readFileSync(kmsJson), before);
  }
  t.kms.clearFaults();
  await c.start();
  assert.ok((await c.kmsStatus()).ok);
});

test('a GenerateDataKey answer holding a data key of the wrong size: set-mode, regenerate and restore each refuse it with one line; nothing changed', async () => {
  const d = tempDir();
  const elsewhere = tempDir();
  try {
    await initCluster(d, { licence: 'advanced-management', nodes: 1 });
    const base = embeddedKmsAccess(t.kms, readConfig(d).nodes, { maxAttempts: 1 });
    let keep = 32; // bytes of each GenerateDataKey plaintext the node's client passes on
    const access: KmsAccess = {
      ...base,
      clientFor(node, region) {
        const k = base.clientFor(node, region);
        k.middlewareStack.add(
          (next, context) => async (args) => {
            const r = await next(args);
            const out = r.output as { Plaintext?: Uint8Array };
            if (context.commandName === 'GenerateDataKeyCommand' && out.Plaintext) out.Plaintext = out.Plaintext.subarray(0, keep);
            return r;
          },
          { step: 'initialize' },
        );
        return k;
      },
    };
    const s = await SimCluster.open(d, { kms: access });
    try {
      const kmsJson = join(d, 'keystore', 'kms.json');
      const short = (e: Error): boolean => {
        assert.ok(e instanceof EnvironmentError, e.message);
        assert.equal(e.message, `node1 (role tableau-server-node1): kms:GenerateDataKey on CMK ${cmk} returned 16 bytes, expected 32`);
        return true;
      };
      keep = 16;
      let before = readFileSync(kmsJson);
      await assert.rejects(s.setModeAws({ region: 'us-east-1', keyArn: cmk }), short);
      assert.deepEqual(readFileSync(kmsJson), before);
      keep = 32;
      await s.setModeAws({ region: 'us-east-1', keyArn: cmk });
      const backup = join(elsewhere, 'b.tsbak');
      await s.backup(backup);

      keep = 16;
      before = readFileSync(kmsJson);
      await assert.rejects(s.regenerateInternalTokens(), short);
      assert.deepEqual(readFileSync(kmsJson), before);
      await s.stop();
      await assert.rejects(s.restore(backup), short);
      assert.deepEqual(readFileSync(kmsJson), before);
    } finally {
      s.close();
    }
  } finally {
    removeDir(d);
    removeDir(elsewhere);
  }
});
