// Sign / Verify / GetPublicKey on RSA_2048 and ECC_NIST_P256 keys. Signatures are checked
// with Node's own crypto.verify against the public key KMS hands out, so they are standard.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import {
  CreateKeyCommand,
  EncryptCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  KMSInvalidSignatureException,
  type KMSClient,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { failure, kmsClient } from './helpers.js';

let kms: EmbeddedKms;
let client: KMSClient;
let rsa: string;
let ecc: string;

before(async () => {
  kms = await startEmbeddedKms();
  client = kmsClient(kms);
  rsa = (await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
  ecc = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.KeyId!;
});
after(() => kms.stop());

const message = Buffer.from('extract 42 manifest');

function nodeVerify(alg: SigningAlgorithmSpec, spki: Uint8Array, msg: Buffer, sig: Uint8Array): boolean {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const hash = /SHA_(\d+)$/.exec(alg)![1];
  const opts = alg.startsWith('RSASSA_PSS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(hash) / 8 }
    : alg.startsWith('RSASSA_PKCS1')
      ? { key, padding: constants.RSA_PKCS1_PADDING }
      : { key, dsaEncoding: 'der' as const };
  return verify(`sha${hash}`, msg, opts, sig);
}

test('GetPublicKey returns a DER SubjectPublicKeyInfo and the signing algorithms', async () => {
  const r = await client.send(new GetPublicKeyCommand({ KeyId: rsa }));
  assert.equal(r.KeySpec, 'RSA_2048');
  assert.equal(r.KeyUsage, 'SIGN_VERIFY');
  assert.ok(r.SigningAlgorithms?.includes('RSASSA_PSS_SHA_256'));
  assert.equal(createPublicKey({ key: Buffer.from(r.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength, 2048);
  const e = await client.send(new GetPublicKeyCommand({ KeyId: ecc }));
  assert.deepEqual(e.SigningAlgorithms, ['ECDSA_SHA_256']);
  assert.equal(createPublicKey({ key: Buffer.from(e.PublicKey!), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

const cases: [string, () => string, SigningAlgorithmSpec][] = [
  ['RSA', () => rsa, 'RSASSA_PSS_SHA_256'],
  ['RSA', () => rsa, 'RSASSA_PKCS1_V1_5_SHA_256'],
  ['RSA', () => rsa, 'RSASSA_PSS_SHA_512'],
  ['ECC', () => ecc, 'ECDSA_SHA_256'],
];

for (const [kind, key, alg] of cases) {
  test(`${kind} ${alg}: RAW and DIGEST signatures verify with Node crypto and with KMS Verify`, async () => {
    const spki = (await client.send(new GetPublicKeyCommand({ KeyId: key() }))).PublicKey!;
    const raw = await client.send(new SignCommand({ KeyId: key(), Message: message, MessageType: 'RAW', SigningAlgorithm: alg }));
    assert.equal(raw.SigningAlgorithm, alg);
    assert.ok(nodeVerify(alg, spki, message, raw.Signature!), 'RAW signature verifies');
    const digest = createHash(`sha${/SHA_(\d+)$/.exec(alg)![1]}`).update(message).digest();
    const dig = await client.send(new SignCommand({ KeyId: key(), Message: digest, MessageType: 'DIGEST', SigningAlgorithm: alg }));
    assert.ok(nodeVerify(alg, spki, message, dig.Signature!), 'DIGEST signature verifies over the message');

    const ok = await client.send(new VerifyCommand({ KeyId: key(), Message: message, Signature: raw.Signature, SigningAlgorithm: alg }));
    assert.equal(ok.SignatureValid, true);
    const okDigest = await client.send(new VerifyCommand({ KeyId: key(), Message: digest, MessageType: 'DIGEST', Signature: dig.Signature, SigningAlgorithm: alg }));
    assert.equal(okDigest.SignatureValid, true);

    const bad = await failure(() =>
      client.send(new VerifyCommand({ KeyId: key(), Message: Buffer.from('extract 43 manifest'), Signature: raw.Signature, SigningAlgorithm: alg })),
    );
    assert.ok(bad instanceof KMSInvalidSignatureException);
    const flipped = Buffer.from(raw.Signature!);
    flipped[10] = flipped[10]! ^ 0x40;
    const tampered = await failure(() => client.send(new VerifyCommand({ KeyId: key(), Message: message, Signature: flipped, SigningAlgorithm: alg })));
    assert.equal(tampered.name, 'KMSInvalidSignatureException');
  });
}

test('signing refuses a wrong algorithm for the key, a short digest and a symmetric key; Encrypt refuses a signing key', async () => {
  const wrongAlg = await failure(() => client.send(new SignCommand({ KeyId: ecc, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })));
  assert.equal(wrongAlg.name, 'InvalidKeyUsageException');
  const short = await failure(() =>
    client.send(new SignCommand({ KeyId: rsa, Message: Buffer.alloc(20), MessageType: 'DIGEST', SigningAlgorithm: 'RSASSA_PSS_SHA_256' })),
  );
  assert.equal(short.name, 'ValidationException');
  const sym = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const symSign = await failure(() => client.send(new SignCommand({ KeyId: sym, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })));
  assert.equal(symSign.name, 'InvalidKeyUsageException');
  const encrypt = await failure(() => client.send(new EncryptCommand({ KeyId: rsa, Plaintext: message })));
  assert.equal(encrypt.name, 'InvalidKeyUsageException');
  assert.match(encrypt.message, /key usage is SIGN_VERIFY which is not valid for Encrypt\.$/);
  const eccEncrypt = await failure(() => client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' })));
  assert.equal(eccEncrypt.name, 'ValidationException');
});
