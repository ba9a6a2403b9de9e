// Symmetric cryptography: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
// GenerateRandom. Plaintext buffers are zeroed once their base64 is in the response.
import { randomBytes } from 'node:crypto';
import { encryptionContextFacts } from '../authorize.js';
import { KmsError, invalidCiphertext, notFound } from '../errors.js';
import { keyArn } from '../arn.js';
import { open, readHeader, seal } from '../envelope.js';
import { requireState } from '../key-store.js';
import { currentMaterial, type KmsKey } from '../model.js';
import { authorizeAccount, authorizeKey, dryRun, ENABLED, keyFor, requireUsage, type OpContext, type Operation } from './context.js';

const ENCRYPTION_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE', 'SYMMETRIC_DEFAULT'] as const;

function symmetricAlgorithm(ctx: OpContext, member: string, key: KmsKey): 'SYMMETRIC_DEFAULT' {
  const alg = ctx.params.enumOf(member, ENCRYPTION_ALGORITHMS) ?? 'SYMMETRIC_DEFAULT';
  if (alg !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${key.keySpec}.`);
  }
  return alg;
}

function sealUnder(key: KmsKey, plaintext: Buffer, context: Record<string, string> | undefined): { blob: Buffer; materialId: string } {
  const m = currentMaterial(key)!;
  return { blob: seal({ keyId: key.keyId, materialId: m.id }, m.secret, plaintext, context), materialId: m.id };
}

/**
 * The decrypting half shared by Decrypt and ReEncrypt: read the blob's header, find its key
 * (checking an explicit KeyId matches it), authorise, check state, and open it with the
 * key-material generation the blob names, so ciphertexts from before a rotation still open.
 */
function openBlob(
  ctx: OpContext,
  blobMember: string,
  contextMember: string,
  keyMember: string,
  action: string,
): { key: KmsKey; plaintext: Buffer; materialId: string } {
  const blob = ctx.params.blob(blobMember, { required: true, min: 1, max: 6144 });
  const context = ctx.params.stringMap(contextMember);
  const header = readHeader(blob);
  const named = ctx.params.str(keyMember, { min: 1, max: 2048 });
  // Our blob carries the key id, not its account: look in the caller's account first, then
  // anywhere in this region (key ids are UUIDs), so cross-account Decrypt works as on AWS.
  const key =
    ctx.store.byId(ctx.scope, header.keyId) ??
    ctx.store.allKeys().find((k) => k.region === ctx.scope.region && k.keyId === header.keyId);
  if (named !== undefined) {
    const namedKey = ctx.store.resolve(named, ctx.scope);
    if (!key || namedKey !== key) {
      throw new KmsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
  }
  if (!key) throw notFound(`Key '${keyArn(ctx.scope.region, ctx.scope.accountId, header.keyId)}' does not exist`);
  authorizeKey(ctx, key, action, encryptionContextFacts(context));
  requireState(key, ENABLED);
  requireUsage(key, 'ENCRYPT_DECRYPT', ctx.operation);
  dryRun(ctx);
  const material = key.materials.find((m) => m.id === header.materialId);
  if (!material) throw invalidCiphertext();
  return { key, plaintext: open(blob, material.secret, context), materialId: material.id };
}

/** The response's base64 is taken, then the plaintext is scrubbed. */
function b64AndScrub(buf: Buffer): string {
  const s = buf.toString('base64');
  buf.fill(0);
  return s;
}

const encrypt: Operation = (ctx) => {
  const context = ctx.params.stringMap('EncryptionContext');
  const plaintext = ctx.params.blob('Plaintext', { required: true, min: 1, max: 4096 });
  const key = keyFor(ctx, 'KeyId', ENABLED, { encryptionContext: context });
  requireUsage(key, 'ENCRYPT_DECRYPT', 'Encrypt');
  const alg = symmetricAlgorithm(ctx, 'EncryptionAlgorithm', key);
  dryRun(ctx);
  const { blob } = sealUnder(key, plaintext, context);
  plaintext.fill(0);
  return { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, EncryptionAlgorithm: alg };
};

const decrypt: Operation = (ctx) => {
  if (ctx.params.has('Recipient')) {
    throw new KmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the cryptgate embedded KMS.');
  }
  const { key, plaintext, materialId } = openBlob(ctx, 'CiphertextBlob', 'EncryptionContext', 'KeyId', 'kms:Decrypt');
  const alg = symmetricAlgorithm(ctx, 'EncryptionAlgorithm', key);
  return { KeyId: key.arn, Plaintext: b64AndScrub(plaintext), EncryptionAlgorithm: alg, KeyMaterialId: materialId };
};

const reEncrypt: Operation = (ctx) => {
  const from = openBlob(ctx, 'CiphertextBlob', 'SourceEncryptionContext', 'SourceKeyId', 'kms:ReEncryptFrom');
  try {
    const srcAlg = symmetricAlgorithm(ctx, 'SourceEncryptionAlgorithm', from.key);
    const destContext = ctx.params.stringMap('DestinationEncryptionContext');
    const dest = keyFor(ctx, 'DestinationKeyId', ENABLED, { action: 'kms:ReEncryptTo', encryptionContext: destContext });
    requireUsage(dest, 'ENCRYPT_DECRYPT', 'ReEncrypt');
    const destAlg = symmetricAlgorithm(ctx, 'DestinationEncryptionAlgorithm', dest);
    const sealed = sealUnder(dest, from.plaintext, destContext);
    return {
      CiphertextBlob: sealed.blob.toString('base64'),
      SourceKeyId: from.key.arn,
      KeyId: dest.arn,
      SourceEncryptionAlgorithm: srcAlg,
      DestinationEncryptionAlgorithm: destAlg,
      SourceKeyMaterialId: from.materialId,
      DestinationKeyMaterialId: sealed.materialId,
    };
  } finally {
    from.plaintext.fill(0);
  }
};

/** KeySpec (AES_256 / AES_128) or NumberOfBytes (1-1024): exactly one. */
function dataKeyLength(ctx: OpContext): number {
  const spec = ctx.params.enumOf('KeySpec', ['AES_256', 'AES_128'] as const);
  const n = ctx.params.int('NumberOfBytes', { min: 1, max: 1024 });
  if ((spec === undefined) === (n === undefined)) {
    throw new KmsError('ValidationException', 'Please specify either number of bytes or key spec.');
  }
  return n ?? (spec === 'AES_128' ? 16 : 32);
}

function generateDataKey(ctx: OpContext, withPlaintext: boolean): Record<string, unknown> {
  if (ctx.params.has('Recipient')) {
    throw new KmsError('UnsupportedOperationException', 'Recipient (Nitro Enclaves attestation) is not supported by the cryptgate embedded KMS.');
  }
  const length = dataKeyLength(ctx);
  const context = ctx.params.stringMap('EncryptionContext');
  const key = keyFor(ctx, 'KeyId', ENABLED, { encryptionContext: context });
  requireUsage(key, 'ENCRYPT_DECRYPT', ctx.operation);
  dryRun(ctx);
  const dataKey = randomBytes(length);
  const { blob, materialId } = sealUnder(key, dataKey, context);
  const out: Record<string, unknown> = { CiphertextBlob: blob.toString('base64'), KeyId: key.arn, KeyMaterialId: materialId };
  if (withPlaintext) out.Plaintext = dataKey.toString('base64');
  dataKey.fill(0);
  return out;
}

const generateRandom: Operation = (ctx) => {
  authorizeAccount(ctx, 'kms:GenerateRandom');
  if (ctx.params.has('CustomKeyStoreId')) {
    throw new KmsError('UnsupportedOperationException', 'Custom key stores are not supported by the cryptgate embedded KMS.');
  }
  const n = ctx.params.int('NumberOfBytes', { min: 1, max: 1024 });
  if (n === undefined) throw new KmsError('ValidationException', 'NumberOfBytes is required.');
  return { Plaintext: b64AndScrub(randomBytes(n)) };
};

export const cryptoOperations: Record<string, Operation> = {
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: (ctx) => generateDataKey(ctx, true),
  GenerateDataKeyWithoutPlaintext: (ctx) => generateDataKey(ctx, false),
  GenerateRandom: generateRandom,
};
