// Fault knobs seen through the SDK's own retry behaviour, and the counters that prove it.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, DecryptCommand, EncryptCommand, GenerateDataKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { Faults } from '../../../simulators/kms/faults.js';
import { InputError } from '../../../src/util/errors.js';
import { failure, kmsClient } from './helpers.js';

let kms: EmbeddedKms;
let keyId: string;

before(async () => {
  kms = await startEmbeddedKms();
  keyId = (await kmsClient(kms).send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
});
after(() => kms.stop());
beforeEach(() => {
  kms.clearFaults();
  kms.resetCounters();
});

test('throttling is retried by the SDK: throttle the next 2, maxAttempts 3 → success after 3 requests', async () => {
  kms.setFaults({ throttle: { next: 2 } });
  const c = kmsClient(kms, { maxAttempts: 3 });
  const dk = await c.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
  assert.equal(dk.Plaintext?.length, 32);
  assert.equal(dk.$metadata.attempts, 3);
  const counters = kms.counters();
  assert.equal(counters.byOperation['GenerateDataKey'], 3);
  assert.equal(counters.faults.throttled, 2);
  assert.equal(counters.byPrincipal['arn:aws:iam::000000000000:root']?.byOperation['GenerateDataKey'], 3);
});

test('with fewer attempts than throttled requests the caller sees ThrottlingException and AWS’s message', async () => {
  kms.setFaults({ throttle: { next: 5 } });
  const err = await failure(() => kmsClient(kms, { maxAttempts: 2 }).send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
  assert.equal(err.name, 'ThrottlingException');
  assert.equal(err.message, 'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.');
  assert.equal(err.$metadata?.httpStatusCode, 400);
  assert.equal(err.$metadata?.attempts, 2);
  assert.equal(kms.counters().byOperation['GenerateDataKey'], 2);
});

test('AccessDeniedException is not retried: one request on the counter', async () => {
  kms.addRoleCredentials('AKIDNOBODY', 'nobody-secret', 'nobody');
  const c = kmsClient(kms, { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'nobody-secret', maxAttempts: 3 });
  const err = await failure(() => c.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
  assert.equal(err.name, 'AccessDeniedException');
  assert.equal(err.$metadata?.attempts, 1);
  const counters = kms.counters();
  assert.equal(counters.byOperation['GenerateDataKey'], 1);
  assert.equal(counters.byPrincipal['arn:aws:sts::000000000000:assumed-role/nobody/AKIDNOBODY']?.total, 1);
});

test('a hung request makes the client time out with TimeoutError', async () => {
  kms.setFaults({ hang: { next: 1 } });
  const c = kmsClient(kms, { maxAttempts: 1, requestTimeout: 300 });
  const err = await failure(() => c.send(new ListKeysCommand({})));
  assert.equal(err.name, 'TimeoutError');
  assert.equal(kms.counters().faults.hangs, 1);
  // The hang was for one request only.
  await c.send(new ListKeysCommand({}));
});

test('outages: 500 KMSInternalException is retried to success; 503 surfaces as ServiceUnavailableException', async () => {
  kms.setFaults({ outage: { next: 1, status: 500 } });
  const ok = await kmsClient(kms, { maxAttempts: 2 }).send(new ListKeysCommand({}));
  assert.equal(ok.$metadata.attempts, 2);
  assert.equal(kms.counters().faults.outages, 1);

  kms.setFaults({ outage: { next: 1, status: 503 } });
  const err = await failure(() => kmsClient(kms).send(new ListKeysCommand({})));
  assert.equal(err.name, 'ServiceUnavailableException');
  assert.equal(err.$metadata?.httpStatusCode, 503);
  assert.equal(err.$fault, 'server');
});

test('faults can target operations, and counters count each operation and caller', async () => {
  kms.setFaults({ outage: { next: 1, operations: ['Decrypt'] } });
  const c = kmsClient(kms);
  const blob = (await c.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }))).CiphertextBlob;
  const err = await failure(() => c.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.equal(err.name, 'KMSInternalException');
  await c.send(new DecryptCommand({ CiphertextBlob: blob }));
  await kmsClient(kms, { accessKeyId: '444455556666' }).send(new ListKeysCommand({}));
  const counters = kms.counters();
  assert.deepEqual(counters.byOperation, { Encrypt: 1, Decrypt: 2, ListKeys: 1 });
  assert.equal(counters.total, 4);
  assert.deepEqual(counters.byPrincipal['arn:aws:iam::444455556666:root'], { total: 1, byOperation: { ListKeys: 1 } });
  kms.resetCounters();
  assert.equal(kms.counters().total, 0);
});

test('the admin API sets faults and reads and resets counters over HTTP', async () => {
  const set = await fetch(`${kms.endpoint}/_cryptgate/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ throttle: { next: 1 }, latencyMs: 1 }),
  });
  assert.equal(set.status, 200);
  assert.deepEqual(((await set.json()) as { throttle: unknown }).throttle, { next: 1 });
  const err = await failure(() => kmsClient(kms).send(new ListKeysCommand({})));
  assert.equal(err.name, 'ThrottlingException');

  const counters = (await (await fetch(`${kms.endpoint}/_cryptgate/counters`)).json()) as { byOperation: Record<string, number> };
  assert.equal(counters.byOperation['ListKeys'], 1);
  const reset = await fetch(`${kms.endpoint}/_cryptgate/counters`, { method: 'DELETE' });
  assert.equal(((await reset.json()) as { total: number }).total, 0);

  const bad = await fetch(`${kms.endpoint}/_cryptgate/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ hang: { next: 0 } }),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /^faults\.hang\.next: expected an integer ≥ 1/);
  const form = await fetch(`${kms.endpoint}/_cryptgate/faults`, { method: 'POST', body: '{"hang":{"next":1}}' });
  assert.equal(form.status, 415, 'a body without a JSON content type (what a web page can send) is refused');
  const cleared = (await (await fetch(`${kms.endpoint}/_cryptgate/faults`, { method: 'DELETE' })).json()) as Record<string, unknown>;
  assert.deepEqual(cleared, { latencyMs: 0, throttle: null, outage: null, hang: null });
});

test('throttling every Nth request, or by a seeded probability, is repeatable', () => {
  const f = new Faults();
  f.set({ throttle: { everyNth: 3 } });
  assert.deepEqual(
    Array.from({ length: 7 }, () => f.decide('Decrypt').kind),
    ['none', 'none', 'throttle', 'none', 'none', 'throttle', 'none'],
  );
  const run = (seed: number): string[] => {
    const g = new Faults();
    g.set({ throttle: { probability: 0.5, seed } });
    return Array.from({ length: 32 }, () => g.decide('Decrypt').kind);
  };
  assert.deepEqual(run(42), run(42));
  assert.notDeepEqual(run(42), run(43));
  const hits = run(42).filter((k) => k === 'throttle').length;
  assert.ok(hits > 4 && hits < 28, `${hits} of 32 throttled at p=0.5`);
  assert.throws(() => f.set({ throttle: { probability: 2 } }), InputError);
  assert.throws(() => f.set({ nonsense: 1 } as never), InputError);
});
