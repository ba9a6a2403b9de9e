// Asymmetric keys: Sign, Verify, GetPublicKey.
import { KmsError } from '../errors.js';
import { signingAlgorithms } from '../model.js';
import { algorithmFor, digestOf, signDigest, verifyDigest } from '../signing.js';
import { dryRun, ENABLED, keyFor, NOT_PENDING, requireUsage, type OpContext } from './context.js';
import type { Operation } from './context.js';

const SIGNING_ALGORITHMS = [
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'ED25519_PH_SHA_512', 'ED25519_SHA_512', 'ML_DSA_SHAKE_256',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512', 'SM2DSA',
] as const;

/** The shared front half of Sign and Verify: key, algorithm and the digest to sign. */
function prepare(ctx: OpContext) {
  const message = ctx.params.blob('Message', { required: true, min: 1, max: 4096 });
  const messageType = ctx.params.enumOf('MessageType', ['DIGEST', 'EXTERNAL_MU', 'RAW'] as const) ?? 'RAW';
  const algName = ctx.params.enumOf('SigningAlgorithm', SIGNING_ALGORITHMS, true)!;
  const key = keyFor(ctx, 'KeyId', ENABLED);
  requireUsage(key, 'SIGN_VERIFY', ctx.operation);
  if (messageType === 'EXTERNAL_MU') throw new KmsError('UnsupportedOperationException', 'MessageType EXTERNAL_MU is only for ML-DSA keys.');
  const alg = algorithmFor(algName, key);
  return { key, alg, algName, digest: digestOf(alg, algName, message, messageType) };
}

const sign: Operation = (ctx) => {
  const { key, alg, algName, digest } = prepare(ctx);
  dryRun(ctx);
  return { KeyId: key.arn, Signature: signDigest(alg, key.privateKey!, digest).toString('base64'), SigningAlgorithm: algName };
};

const verify: Operation = (ctx) => {
  const signature = ctx.params.blob('Signature', { required: true, min: 1, max: 6144 });
  const { key, alg, algName, digest } = prepare(ctx);
  dryRun(ctx);
  // KMS answers an invalid signature with an error, never SignatureValid: false.
  if (!verifyDigest(alg, key.privateKey!, digest, signature)) throw new KmsError('KMSInvalidSignatureException', 'The signature does not verify with this key, message and signing algorithm.');
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algName };
};

const getPublicKey: Operation = (ctx) => {
  // LocalStack notes that AWS, against its own key-state table, answers for Disabled keys too.
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  if (!key.publicKeyDer) {
    throw new KmsError('UnsupportedOperationException', `${key.arn} is a symmetric key: it has no public key.`);
  }
  return {
    KeyId: key.arn,
    PublicKey: key.publicKeyDer.toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    SigningAlgorithms: signingAlgorithms(key.keySpec),
  };
};

export const signatureOperations: Record<string, Operation> = {
  Sign: sign,
  Verify: verify,
  GetPublicKey: getPublicKey,
};
