// The state folder: keys survive a restart, old ciphertexts still open, no secret is ever
// written in the clear, and a wrong or missing master key is a clear refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetPublicKeyCommand,
  ListKeyRotationsCommand,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
  SignCommand,
  VerifyCommand,
  DisableKeyCommand,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms } from '../../../simulators/kms/index.js';
import { InputError } from '../../../src/util/errors.js';
import { kmsClient } from './helpers.js';

const freshDir = (): string => mkdtempSync(join(tmpdir(), 'cryptgate-kms-'));

/** Every file in the (flat) state folder, read whole. */
function folderBytes(dir: string): { name: string; bytes: Buffer }[] {
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ name: path, bytes: readFileSync(path) }));
}

test('keys, aliases, policies, states and rotation history survive a restart; old ciphertexts still decrypt', async () => {
  const dir = freshDir();
  try {
    let kms = await startEmbeddedKms({ stateDir: dir });
    let c = kmsClient(kms);
    const key = (await c.send(new CreateKeyCommand({ Description: 'persisted' }))).KeyMetadata!;
    await c.send(new CreateAliasCommand({ AliasName: 'alias/rmk', TargetKeyId: key.KeyId }));
    const policy = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' }] });
    await c.send(new PutKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default', Policy: policy }));
    const before = await c.send(new GenerateDataKeyCommand({ KeyId: 'alias/rmk', KeySpec: 'AES_256', EncryptionContext: { a: 'b' } }));
    await c.send(new RotateKeyOnDemandCommand({ KeyId: key.KeyId }));
    const afterRotation = await c.send(new EncryptCommand({ KeyId: key.KeyId, Plaintext: Buffer.from('after') }));
    const off = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await c.send(new DisableKeyCommand({ KeyId: off }));
    const signer = (await c.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
    const pub = (await c.send(new GetPublicKeyCommand({ KeyId: signer }))).PublicKey!;
    const sig = (await c.send(new SignCommand({ KeyId: signer, Message: Buffer.from('m'), SigningAlgorithm: 'ECDSA_SHA_256' }))).Signature!;
    await kms.stop();

    kms = await startEmbeddedKms({ stateDir: dir });
    c = kmsClient(kms);
    const m = (await c.send(new DescribeKeyCommand({ KeyId: 'alias/rmk' }))).KeyMetadata!;
    assert.equal(m.Arn, key.Arn);
    assert.equal(m.Description, 'persisted');
    assert.equal((await c.send(new GetKeyPolicyCommand({ KeyId: key.KeyId, PolicyName: 'default' }))).Policy, policy);
    const old = await c.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob, EncryptionContext: { a: 'b' } }));
    assert.deepEqual(Buffer.from(old.Plaintext!), Buffer.from(before.Plaintext!));
    assert.equal(Buffer.from((await c.send(new DecryptCommand({ CiphertextBlob: afterRotation.CiphertextBlob }))).Plaintext!).toString(), 'after');
    assert.equal((await c.send(new ListKeyRotationsCommand({ KeyId: key.KeyId }))).Rotations?.length, 1);
    assert.equal((await c.send(new DescribeKeyCommand({ KeyId: off }))).KeyMetadata?.KeyState, 'Disabled');
    assert.deepEqual((await c.send(new GetPublicKeyCommand({ KeyId: signer }))).PublicKey, pub);
    const v = await c.send(new VerifyCommand({ KeyId: signer, Message: Buffer.from('m'), Signature: sig, SigningAlgorithm: 'ECDSA_SHA_256' }));
    assert.equal(v.SignatureValid, true);
    await kms.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no file in the state folder holds a data key or plaintext that passed through the KMS', async () => {
  const dir = freshDir();
  try {
    const kms = await startEmbeddedKms({ stateDir: dir });
    const c = kmsClient(kms);
    const keyId = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const secrets: Buffer[] = [];
    for (let i = 0; i < 8; i++) {
      const dk = await c.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
      secrets.push(Buffer.from(dk.Plaintext!));
      await c.send(new RotateKeyOnDemandCommand({ KeyId: keyId })); // forces saves after each data key
    }
    const marker = Buffer.from('PLAINTEXT-MARKER-7f3a9c');
    await c.send(new EncryptCommand({ KeyId: keyId, Plaintext: marker }));
    await c.send(new CreateKeyCommand({ Description: 'one more save' }));
    await kms.stop();

    const files = folderBytes(dir);
    assert.deepEqual(files.map((f) => f.name.slice(dir.length + 1)).sort(), ['kms-state.json', 'master.key']);
    for (const f of files) {
      const text = f.bytes.toString('latin1');
      for (const s of [...secrets, marker]) {
        // A leak could be raw, base64 or hex.
        for (const form of [s.toString('latin1'), s.toString('base64'), s.toString('hex'), s.subarray(0, 16).toString('base64')]) {
          assert.ok(!text.includes(form), `${f.name} holds generated secret bytes`);
        }
      }
    }
    const state = JSON.parse(readFileSync(join(dir, 'kms-state.json'), 'utf8')) as { keys: { materials: Record<string, unknown>[] }[] };
    for (const mat of state.keys[0]!.materials) {
      assert.deepEqual(Object.keys(mat).sort().filter((k) => k !== 'rotationType'), ['createdAt', 'id', 'wrapped']);
    }
    if (process.platform !== 'win32') {
      assert.equal(statSync(join(dir, 'master.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'kms-state.json')).mode & 0o777, 0o600);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wrong, missing or exposed master key, or a second server on the folder, is a clear InputError', async () => {
  const dir = freshDir();
  try {
    const kms = await startEmbeddedKms({ stateDir: dir });
    await kmsClient(kms).send(new CreateKeyCommand({}));
    await assert.rejects(startEmbeddedKms({ stateDir: dir }), (e: unknown) => e instanceof InputError && /in use by another embedded KMS/.test(e.message));
    await kms.stop();

    const keyFile = join(dir, 'master.key');
    const original = readFileSync(keyFile);
    chmodSync(keyFile, 0o644);
    if (process.platform !== 'win32') {
      await assert.rejects(startEmbeddedKms({ stateDir: dir }), (e: unknown) => e instanceof InputError && /mode 644: expected 600/.test(e.message));
    }
    rmSync(keyFile);
    writeFileSync(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });
    await assert.rejects(startEmbeddedKms({ stateDir: dir }), (e: unknown) => e instanceof InputError && /expected the key that protects/.test(e.message));
    rmSync(keyFile);
    await assert.rejects(startEmbeddedKms({ stateDir: dir }), (e: unknown) => e instanceof InputError && /master\.key: missing/.test(e.message));
    writeFileSync(keyFile, original, { mode: 0o600 });
    const again = await startEmbeddedKms({ stateDir: dir });
    await again.stop();

    const stateFile = join(dir, 'kms-state.json');
    const doc = JSON.parse(readFileSync(stateFile, 'utf8')) as { keys: { keySpec: string }[] };
    doc.keys[0]!.keySpec = 'BOGUS';
    writeFileSync(stateFile, JSON.stringify(doc));
    await assert.rejects(
      startEmbeddedKms({ stateDir: dir }),
      (e: unknown) => e instanceof InputError && e.message.startsWith(`${stateFile}: keys[0].keySpec: expected one of SYMMETRIC_DEFAULT`),
    );
    writeFileSync(stateFile, '{ not json');
    await assert.rejects(startEmbeddedKms({ stateDir: dir }), (e: unknown) => e instanceof InputError && e.message.startsWith(`${stateFile}: expected JSON`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('with a passphrase no key file is written, and the folder opens only with the same passphrase', async () => {
  const dir = freshDir();
  try {
    const kms = await startEmbeddedKms({ stateDir: dir, statePassphrase: 'correct horse battery' });
    const c = kmsClient(kms);
    const keyId = (await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await c.send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('p') }))).CiphertextBlob;
    await kms.stop();
    assert.deepEqual(readdirSync(dir), ['kms-state.json']);
    await assert.rejects(startEmbeddedKms({ stateDir: dir, statePassphrase: 'wrong horse battery' }), /wrong passphrase/);
    await assert.rejects(startEmbeddedKms({ stateDir: dir }), /protected by a passphrase/);
    const back = await startEmbeddedKms({ stateDir: dir, statePassphrase: 'correct horse battery' });
    assert.equal(Buffer.from((await kmsClient(back).send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'p');
    await back.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
