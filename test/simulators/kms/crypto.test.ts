// Encrypt, Decrypt, ReEncrypt, GenerateDataKey*: round trips, encryption context binding,
// tampering, wrong keys, key states and regions, through the real SDK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
  DisabledException,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSInvalidStateException,
  NotFoundException,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { failure, kmsClient } from './helpers.js';

let kms: EmbeddedKms;
let client: KMSClient;
let keyId: string;
let keyArn: string;

before(async () => {
  kms = await startEmbeddedKms();
  client = kmsClient(kms);
  const m = (await client.send(new CreateKeyCommand({ Description: 'CMK' }))).KeyMetadata!;
  keyId = m.KeyId!;
  keyArn = m.Arn!;
});
after(() => kms.stop());

const newKey = async (c: KMSClient = client): Promise<string> => (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
const context = { tenant: 'site-1', purpose: 'rmk' };

test('GenerateDataKey → Decrypt round trip with the encryption context', async () => {
  const dk = await client.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256', EncryptionContext: context }));
  assert.equal(dk.Plaintext?.length, 32);
  assert.equal(dk.KeyId, keyArn);
  assert.match(dk.KeyMaterialId!, /^[0-9a-f]{64}$/);
  assert.ok(!Buffer.from(dk.CiphertextBlob!).includes(Buffer.from(dk.Plaintext!)), 'the blob does not carry the key in the clear');
  // The context's order does not matter; its content does.
  const back = await client.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: { purpose: 'rmk', tenant: 'site-1' } }));
  assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
  assert.equal(back.KeyId, keyArn);
  assert.equal(back.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  assert.equal(back.KeyMaterialId, dk.KeyMaterialId);
});

test('Decrypt with a wrong, missing or extra encryption context is InvalidCiphertextException', async () => {
  const dk = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
  for (const ctx of [{ tenant: 'site-2', purpose: 'rmk' }, undefined, { ...context, extra: 'x' }]) {
    const err = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, ...(ctx ? { EncryptionContext: ctx } : {}) })));
    assert.ok(err instanceof InvalidCiphertextException, JSON.stringify(ctx));
    assert.equal(err.name, 'InvalidCiphertextException');
  }
});

test('GenerateDataKey sizes: AES_128 is 16 bytes, NumberOfBytes is honoured, exactly one of the two is required', async () => {
  const k128 = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128' }));
  assert.equal(k128.Plaintext?.length, 16);
  const k7 = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 7 }));
  assert.equal(k7.Plaintext?.length, 7);
  const both = await failure(() => client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })));
  assert.equal(both.name, 'ValidationException');
  const neither = await failure(() => client.send(new GenerateDataKeyCommand({ KeyId: keyId })));
  assert.equal(neither.name, 'ValidationException');
  const tooMany = await failure(() => client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 })));
  assert.equal(tooMany.name, 'ValidationException');
});

test('GenerateDataKeyWithoutPlaintext returns only the blob, which Decrypt opens', async () => {
  const dk = await client.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context }));
  assert.equal((dk as { Plaintext?: unknown }).Plaintext, undefined);
  const back = await client.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: context }));
  assert.equal(back.Plaintext?.length, 32);
});

test('Encrypt/Decrypt round trip; plaintext is limited to 4096 bytes', async () => {
  const text = Buffer.from('the master extract key');
  const enc = await client.send(new EncryptCommand({ KeyId: 'arn:aws:kms:us-east-1:000000000000:key/' + keyId, Plaintext: text }));
  assert.equal(enc.KeyId, keyArn);
  assert.equal(enc.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  const dec = await client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: keyId }));
  assert.equal(Buffer.from(dec.Plaintext!).toString(), text.toString());
  const big = await failure(() => client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4097) })));
  assert.equal(big.name, 'ValidationException');
  await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.alloc(4096, 1) }));
});

test('Decrypt naming another key is IncorrectKeyException', async () => {
  const other = await newKey();
  const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('x') }));
  const err = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, KeyId: other })));
  assert.ok(err instanceof IncorrectKeyException);
  assert.equal(err.message, 'The key ID in the request does not identify a CMK that can perform this operation.');
});

test('a tampered blob is InvalidCiphertextException, wherever the change is', async () => {
  const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('sixteen bytes!!!') }));
  const blob = Buffer.from(enc.CiphertextBlob!);
  // 100: ciphertext; 90: GCM tag; 75: IV; 50: key-material id (header is in the AAD).
  for (const at of [blob.length - 1, 100, 90, 75, 50]) {
    const bad = Buffer.from(blob);
    bad[at] = bad[at]! ^ 0x01;
    const err = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: bad })));
    assert.equal(err.name, 'InvalidCiphertextException', `byte ${at}`);
  }
  const foreign = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: Buffer.from('not a kms blob at all, really') })));
  assert.equal(foreign.name, 'InvalidCiphertextException');
  const truncated = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 60) })));
  assert.equal(truncated.name, 'InvalidCiphertextException');
});

test('ReEncrypt moves a ciphertext to another key and context without exposing it', async () => {
  const dest = await newKey();
  const enc = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('MEK'), EncryptionContext: context }));
  const re = await client.send(
    new ReEncryptCommand({
      CiphertextBlob: enc.CiphertextBlob,
      SourceEncryptionContext: context,
      DestinationKeyId: dest,
      DestinationEncryptionContext: { tenant: 'site-9' },
    }),
  );
  assert.equal(re.SourceKeyId, keyArn);
  assert.equal(re.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${dest}`);
  assert.equal(re.SourceEncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  const dec = await client.send(new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { tenant: 'site-9' } }));
  assert.equal(Buffer.from(dec.Plaintext!).toString(), 'MEK');
  assert.equal(dec.KeyId, re.KeyId);
  const wrongSource = await failure(() =>
    client.send(new ReEncryptCommand({ CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { tenant: 'x' }, DestinationKeyId: dest })),
  );
  assert.equal(wrongSource.name, 'InvalidCiphertextException');
});

test('a Disabled key refuses cryptography with DisabledException "<arn> is disabled."', async () => {
  const k = await newKey();
  const arn = `arn:aws:kms:us-east-1:000000000000:key/${k}`;
  const enc = await client.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') }));
  await client.send(new DisableKeyCommand({ KeyId: k }));
  const calls: [string, () => Promise<unknown>][] = [
    ['GenerateDataKey', () => client.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256' }))],
    ['Encrypt', () => client.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') }))],
    ['Decrypt', () => client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))],
  ];
  for (const [name, call] of calls) {
    const err = await failure(call);
    assert.ok(err instanceof DisabledException, name);
    assert.equal(err.name, 'DisabledException');
    assert.equal(err.message, `${arn} is disabled.`);
    assert.equal(err.$metadata?.httpStatusCode, 400);
  }
});

test('a key pending deletion refuses cryptography with KMSInvalidStateException "<arn> is pending deletion."', async () => {
  const k = await newKey();
  const arn = `arn:aws:kms:us-east-1:000000000000:key/${k}`;
  const enc = await client.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('x') }));
  await client.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 }));
  for (const call of [
    () => client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
    () => client.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256' })),
  ]) {
    const err = await failure(call);
    assert.ok(err instanceof KMSInvalidStateException);
    assert.equal(err.message, `${arn} is pending deletion.`);
  }
});

test('a key ARN in another region than the request is NotFoundException; regions keep separate keys', async () => {
  const west = kmsClient(kms, { region: 'us-west-2' });
  const err = await failure(() => west.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: 'AES_256' })));
  assert.ok(err instanceof NotFoundException);
  assert.equal(err.message, 'Invalid arn us-east-1');
  const byId = await failure(() => west.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' })));
  assert.equal(byId.name, 'NotFoundException');
  const westKey = (await west.send(new CreateKeyCommand({}))).KeyMetadata!;
  assert.equal(westKey.Arn, `arn:aws:kms:us-west-2:000000000000:key/${westKey.KeyId}`);
  const enc = await west.send(new EncryptCommand({ KeyId: westKey.KeyId, Plaintext: Buffer.from('w') }));
  const elsewhere = await failure(() => client.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
  assert.equal(elsewhere.name, 'NotFoundException');
});

test('DryRun stops after the checks with DryRunOperationException; GenerateRandom returns the bytes asked for', async () => {
  const dry = await failure(() => client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', DryRun: true })));
  assert.equal(dry.name, 'DryRunOperationException');
  const r = await client.send(new GenerateRandomCommand({ NumberOfBytes: 48 }));
  assert.equal(r.Plaintext?.length, 48);
});
