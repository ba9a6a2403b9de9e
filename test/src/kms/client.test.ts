// Retries are the SDK's standard mode; these tests prove the classification the client
// relies on against the embedded KMS's fault knobs, counting every attempt at the server.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, GenerateDataKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startKmsBackend, type KmsBackend } from '../../../src/kms/backend.js';
import { DEFAULT_MAX_ATTEMPTS, kmsClient } from '../../../src/kms/client.js';
import { failure } from './helpers.js';

let backend: KmsBackend;
let keyArn: string;

before(async () => {
  backend = await startKmsBackend('embedded', { env: {} });
  keyArn = (await backend.client().send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});
after(() => backend.stop());
beforeEach(() => {
  backend.embedded!.clearFaults();
  backend.embedded!.resetCounters();
});

test('the default client makes up to 4 attempts', () => {
  assert.equal(DEFAULT_MAX_ATTEMPTS, 4);
});

test('throttling is retried with backoff: throttle the next 2 → success, 3 requests counted', async () => {
  backend.embedded!.setFaults({ throttle: { next: 2 } });
  const out = await backend.client().send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' }));
  assert.equal(out.Plaintext?.length, 32);
  assert.equal(out.$metadata.attempts, 3);
  const counters = backend.embedded!.counters();
  assert.equal(counters.byOperation['GenerateDataKey'], 3);
  assert.equal(counters.faults.throttled, 2);
});

test('throttling beyond the attempts surfaces ThrottlingException after exactly 4 requests', async () => {
  backend.embedded!.setFaults({ throttle: { next: 10 } });
  const err = await failure(() => backend.client().send(new ListKeysCommand({})));
  assert.equal(err.name, 'ThrottlingException');
  assert.equal(err.$metadata?.attempts, 4);
  assert.equal(backend.embedded!.counters().byOperation['ListKeys'], 4);
});

test('AccessDeniedException is not retried: 1 request', async () => {
  backend.embedded!.addRoleCredentials('AKIDNOPERMS0001', 'secret-1', 'no-permissions');
  const c = backend.client({ accessKeyId: 'AKIDNOPERMS0001', secretAccessKey: 'secret-1' });
  const err = await failure(() => c.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' })));
  assert.equal(err.name, 'AccessDeniedException');
  assert.equal(err.$metadata?.attempts, 1);
  assert.equal(backend.embedded!.counters().byOperation['GenerateDataKey'], 1);
});

test('a hung endpoint gives TimeoutError after 4 attempts, each timed out', async () => {
  backend.embedded!.setFaults({ hang: { next: 4 } });
  const c = kmsClient({ endpoint: backend.endpoint, region: backend.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, timeoutMs: 300 });
  const err = await failure(() => c.send(new ListKeysCommand({})));
  assert.equal(err.name, 'TimeoutError');
  assert.equal(err.$metadata?.attempts, 4);
  const counters = backend.embedded!.counters();
  assert.equal(counters.faults.hangs, 4);
  assert.equal(counters.byOperation['ListKeys'], 4);
  c.destroy();
});

test('a hang on the first attempt only is retried to success', async () => {
  backend.embedded!.setFaults({ hang: { next: 1 } });
  const c = kmsClient({ endpoint: backend.endpoint, region: backend.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, timeoutMs: 300 });
  const out = await c.send(new ListKeysCommand({}));
  assert.equal(out.$metadata.attempts, 2);
  c.destroy();
});

test('a 503 outage for the next 2 requests is retried to success (3 requests)', async () => {
  backend.embedded!.setFaults({ outage: { next: 2, status: 503 } });
  const out = await backend.client().send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' }));
  assert.equal(out.$metadata.attempts, 3);
  assert.equal(backend.embedded!.counters().byOperation['GenerateDataKey'], 3);
  assert.equal(backend.embedded!.counters().faults.outages, 2);
});

test('a 500 KMSInternalException is retried too', async () => {
  backend.embedded!.setFaults({ outage: { next: 1, status: 500 } });
  const out = await backend.client().send(new ListKeysCommand({}));
  assert.equal(out.$metadata.attempts, 2);
});

test('DisabledException is not retried', async () => {
  const key = (await backend.client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const { DisableKeyCommand } = await import('@aws-sdk/client-kms');
  await backend.client().send(new DisableKeyCommand({ KeyId: key }));
  backend.embedded!.resetCounters();
  const err = await failure(() => backend.client().send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256' })));
  assert.equal(err.name, 'DisabledException');
  assert.equal(err.$metadata?.attempts, 1);
  assert.equal(backend.embedded!.counters().byOperation['GenerateDataKey'], 1);
});

test('maxAttempts and timeoutMs are validated', () => {
  assert.throws(() => kmsClient({ region: 'us-east-1', maxAttempts: 0 }), RangeError);
  assert.throws(() => kmsClient({ region: 'us-east-1', timeoutMs: 0 }), RangeError);
});
