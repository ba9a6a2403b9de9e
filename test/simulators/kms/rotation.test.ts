// Rotation: settings, on-demand rotation with real new material, the limit of 10, and the
// time-driven behaviour (automatic rotation, end of the deletion window) on a moved clock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  LimitExceededException,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { failure, kmsClient } from './helpers.js';

const DAY = 86_400_000;
let kms: EmbeddedKms;
let client: KMSClient;

before(async () => {
  kms = await startEmbeddedKms();
  client = kmsClient(kms);
});
after(() => kms.stop());

const newKey = async (c: KMSClient = client): Promise<string> => (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;

test('EnableKeyRotation: period 90-2560 days, default 365; GetKeyRotationStatus shows it and the next date', async () => {
  const k = await newKey();
  assert.equal((await client.send(new GetKeyRotationStatusCommand({ KeyId: k }))).KeyRotationEnabled, false);
  await client.send(new EnableKeyRotationCommand({ KeyId: k }));
  let s = await client.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.equal(s.KeyRotationEnabled, true);
  assert.equal(s.RotationPeriodInDays, 365);
  const days = (s.NextRotationDate!.getTime() - Date.now()) / DAY;
  assert.ok(days > 364.9 && days <= 365, `next rotation in ${days} days`);
  await client.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 90 }));
  s = await client.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.equal(s.RotationPeriodInDays, 90);
  for (const bad of [89, 2561]) {
    const err = await failure(() => client.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: bad })));
    assert.equal(err.name, 'ValidationException', String(bad));
  }
  await client.send(new DisableKeyRotationCommand({ KeyId: k }));
  s = await client.send(new GetKeyRotationStatusCommand({ KeyId: k }));
  assert.equal(s.KeyRotationEnabled, false);
  assert.equal(s.NextRotationDate, undefined);
});

test('RotateKeyOnDemand makes new material: old ciphertexts still decrypt, new ones use the new material', async () => {
  const k = await newKey();
  const before = await client.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256', EncryptionContext: { v: '1' } }));
  const firstMaterial = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!.CurrentKeyMaterialId!;
  assert.equal(before.KeyMaterialId, firstMaterial);
  assert.deepEqual((await client.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations, []);

  const r = await client.send(new RotateKeyOnDemandCommand({ KeyId: k }));
  assert.equal(r.KeyId, k);
  const newMaterial = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!.CurrentKeyMaterialId!;
  assert.notEqual(newMaterial, firstMaterial);

  const old = await client.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob, EncryptionContext: { v: '1' } }));
  assert.deepEqual(Buffer.from(old.Plaintext!), Buffer.from(before.Plaintext!));
  assert.equal(old.KeyMaterialId, firstMaterial);

  const after = await client.send(new GenerateDataKeyCommand({ KeyId: k, KeySpec: 'AES_256' }));
  assert.equal(after.KeyMaterialId, newMaterial);
  assert.equal((await client.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).KeyMaterialId, newMaterial);

  const rotations = (await client.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!;
  assert.equal(rotations.length, 1);
  assert.equal(rotations[0]?.KeyMaterialId, newMaterial);
  assert.equal(rotations[0]?.KeyMaterialState, 'CURRENT');
  assert.equal(rotations[0]?.RotationType, 'ON_DEMAND');
  assert.ok(rotations[0]?.RotationDate instanceof Date);
  const all = (await client.send(new ListKeyRotationsCommand({ KeyId: k, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' }))).Rotations!;
  assert.deepEqual(all.map((x) => [x.KeyMaterialId, x.KeyMaterialState]), [
    [firstMaterial, 'NON_CURRENT'],
    [newMaterial, 'CURRENT'],
  ]);
});

test('on-demand rotation stops at 10 with LimitExceededException; every generation still decrypts', async () => {
  const k = await newKey();
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < 10; i++) {
    blobs.push((await client.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from(`gen ${i}`) }))).CiphertextBlob!);
    await client.send(new RotateKeyOnDemandCommand({ KeyId: k }));
  }
  const err = await failure(() => client.send(new RotateKeyOnDemandCommand({ KeyId: k })));
  assert.ok(err instanceof LimitExceededException);
  assert.match(err.message, /on-demand rotations limit has been reached/);
  const page1 = await client.send(new ListKeyRotationsCommand({ KeyId: k, Limit: 4 }));
  assert.equal(page1.Rotations?.length, 4);
  assert.equal(page1.Truncated, true);
  const rest = await client.send(new ListKeyRotationsCommand({ KeyId: k, Marker: page1.NextMarker! }));
  assert.equal(rest.Rotations?.length, 6);
  const ids = new Set([...page1.Rotations!, ...rest.Rotations!].map((x) => x.KeyMaterialId));
  assert.equal(ids.size, 10);
  for (const [i, blob] of blobs.entries()) {
    const d = await client.send(new DecryptCommand({ CiphertextBlob: blob }));
    assert.equal(Buffer.from(d.Plaintext!).toString(), `gen ${i}`);
  }
});

test('an asymmetric key cannot rotate', async () => {
  const k = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  for (const call of [
    () => client.send(new RotateKeyOnDemandCommand({ KeyId: k })),
    () => client.send(new EnableKeyRotationCommand({ KeyId: k })),
  ]) {
    assert.equal((await failure(call)).name, 'UnsupportedOperationException');
  }
});

test('on a moved clock, automatic rotation happens when due and a key is deleted when its window ends', async () => {
  let now = Date.parse('2027-01-01T00:00:00Z');
  const sim = await startEmbeddedKms({ now: () => now });
  try {
    const c = kmsClient(sim);
    const k = await newKey(c);
    const old = await c.send(new EncryptCommand({ KeyId: k, Plaintext: Buffer.from('before') }));
    await c.send(new EnableKeyRotationCommand({ KeyId: k, RotationPeriodInDays: 90 }));
    const status = await c.send(new GetKeyRotationStatusCommand({ KeyId: k }));
    assert.equal(status.NextRotationDate?.toISOString(), '2027-04-01T00:00:00.000Z');

    now += 91 * DAY;
    const rotations = (await c.send(new ListKeyRotationsCommand({ KeyId: k }))).Rotations!;
    assert.equal(rotations.length, 1);
    assert.equal(rotations[0]?.RotationType, 'AUTOMATIC');
    assert.equal(rotations[0]?.RotationDate?.toISOString(), '2027-04-01T00:00:00.000Z');
    assert.equal((await c.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext?.length, 6);
    const next = await c.send(new GetKeyRotationStatusCommand({ KeyId: k }));
    assert.equal(next.NextRotationDate?.toISOString(), '2027-06-30T00:00:00.000Z');

    await c.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: 7 }));
    now += 6 * DAY;
    assert.equal((await c.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata?.KeyState, 'PendingDeletion');
    now += 2 * DAY;
    const gone = await failure(() => c.send(new DescribeKeyCommand({ KeyId: k })));
    assert.equal(gone.name, 'NotFoundException');
  } finally {
    await sim.stop();
  }
});
