// Key lifecycle: create, describe, list, enable/disable, schedule and cancel deletion,
// description and tags.
import { randomUUID } from 'node:crypto';
import { keyArn } from '../arn.js';
import { decide } from '../authorize.js';
import { KmsError } from '../errors.js';
import { DAY_MS, newMaterial } from '../key-store.js';
import type { KeySpec, KeyUsage, KmsKey } from '../model.js';
import { epochSeconds } from '../params.js';
import { defaultKeyPolicy, parsePolicy } from '../policy.js';
import { generateKeyPair } from '../signing.js';
import { ANY_STATE, authorizeAccount, keyFor, NOT_PENDING, page, type OpContext, type Operation } from './context.js';
import { keyMetadata } from './metadata.js';

const ALL_KEY_SPECS = [
  'ECC_NIST_EDWARDS25519', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521', 'ECC_SECG_P256K1',
  'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
  'ML_KEM_1024', 'ML_KEM_512', 'ML_KEM_768', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'SM2', 'SYMMETRIC_DEFAULT',
] as const;
const ALL_KEY_USAGES = ['ENCAPSULATE_DECAPSULATE', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT', 'SIGN_VERIFY'] as const;
const ORIGINS = ['AWS_CLOUDHSM', 'AWS_KMS', 'EXTERNAL', 'EXTERNAL_KEY_STORE'] as const;

const unsupported = (what: string): KmsError =>
  new KmsError('UnsupportedOperationException', `${what} is not supported by the cryptgate embedded KMS.`);

/** The key spec / usage pairs this KMS implements, with AWS's errors for the others. */
function checkSpecAndUsage(spec: string, usage: string): { keySpec: KeySpec; keyUsage: KeyUsage } {
  const incompatible = (): KmsError => new KmsError('ValidationException', `KeyUsage ${usage} is not compatible with KeySpec ${spec}`);
  if (spec === 'SYMMETRIC_DEFAULT') {
    if (usage !== 'ENCRYPT_DECRYPT') throw incompatible();
    return { keySpec: spec, keyUsage: usage };
  }
  if (spec === 'RSA_2048') {
    if (usage === 'SIGN_VERIFY') return { keySpec: spec, keyUsage: usage };
    if (usage === 'ENCRYPT_DECRYPT') throw unsupported('RSA_2048 with KeyUsage ENCRYPT_DECRYPT');
    throw incompatible();
  }
  if (spec === 'ECC_NIST_P256') {
    if (usage === 'SIGN_VERIFY') return { keySpec: spec, keyUsage: usage };
    if (usage === 'KEY_AGREEMENT') throw unsupported('ECC_NIST_P256 with KeyUsage KEY_AGREEMENT');
    throw incompatible();
  }
  throw unsupported(`KeySpec ${spec}`);
}

/**
 * AWS's lockout safety check: a new key policy must still let the caller change the policy,
 * unless BypassPolicyLockoutSafetyCheck is set.
 */
export function lockoutCheck(ctx: OpContext, policyText: string, arn: string, accountId: string): void {
  if (ctx.params.bool('BypassPolicyLockoutSafetyCheck')) return;
  const d = decide({ caller: ctx.caller, action: 'kms:PutKeyPolicy', resource: arn, keyPolicy: parsePolicy(policyText), keyAccountId: accountId });
  if (!d.allowed) {
    throw new KmsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
}

const createKey: Operation = async (ctx) => {
  const p = ctx.params;
  authorizeAccount(ctx, 'kms:CreateKey');
  const description = p.str('Description', { max: 8192 }) ?? '';
  const spec = p.enumOf('KeySpec', ALL_KEY_SPECS) ?? p.enumOf('CustomerMasterKeySpec', ALL_KEY_SPECS) ?? 'SYMMETRIC_DEFAULT';
  const usage = p.enumOf('KeyUsage', ALL_KEY_USAGES) ?? 'ENCRYPT_DECRYPT';
  const origin = p.enumOf('Origin', ORIGINS) ?? 'AWS_KMS';
  if (origin !== 'AWS_KMS') throw unsupported(`Origin ${origin}`);
  if (p.bool('MultiRegion')) throw unsupported('A multi-Region key');
  if (p.has('CustomKeyStoreId') || p.has('XksKeyId')) throw unsupported('A key in a custom key store');
  const { keySpec, keyUsage } = checkSpecAndUsage(spec, usage);
  const tags = p.tags() ?? [];
  checkTags(tags);

  const keyId = randomUUID();
  const { accountId, region } = ctx.scope;
  const arn = keyArn(region, accountId, keyId);
  const policyText = p.str('Policy', { min: 1, max: 32768 });
  if (policyText !== undefined) {
    parsePolicy(policyText);
    lockoutCheck(ctx, policyText, arn, accountId);
  }
  // Generated before the key exists anywhere, so the await cannot expose half a key.
  const pair = keySpec === 'SYMMETRIC_DEFAULT' ? undefined : await generateKeyPair(keySpec);
  const key: KmsKey = {
    keyId,
    accountId,
    region,
    arn,
    createdAt: ctx.now,
    description,
    keyUsage,
    keySpec,
    state: 'Enabled',
    policy: policyText ?? defaultKeyPolicy(accountId),
    tags,
    rotation: { enabled: false, periodDays: 365, onDemandCount: 0 },
    materials: [],
  };
  if (pair) Object.assign(key, pair);
  else key.materials.push(newMaterial(ctx.now));
  ctx.store.addKey(key);
  ctx.changed();
  return { KeyMetadata: keyMetadata(key) };
};

function checkTags(tags: { TagKey: string; TagValue: string }[]): void {
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.TagKey.length < 1 || t.TagKey.length > 128 || t.TagValue.length > 256) {
      throw new KmsError('TagException', `Tag ${t.TagKey}: keys must be 1-128 characters and values at most 256`);
    }
    if (seen.has(t.TagKey)) throw new KmsError('TagException', `Duplicate tag key ${t.TagKey}`);
    seen.add(t.TagKey);
  }
}

const describeKey: Operation = (ctx) => ({ KeyMetadata: keyMetadata(keyFor(ctx, 'KeyId', ANY_STATE)) });

const listKeys: Operation = (ctx) => {
  authorizeAccount(ctx, 'kms:ListKeys');
  const { items, more } = page(ctx.store.keysIn(ctx.scope), ctx, { max: 1000, default: 100 });
  return { Keys: items.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), ...more };
};

const enableKey: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  if (key.state !== 'Enabled') {
    key.state = 'Enabled';
    ctx.changed();
  }
  return undefined;
};

const disableKey: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  if (key.state !== 'Disabled') {
    key.state = 'Disabled';
    ctx.changed();
  }
  return undefined;
};

const scheduleKeyDeletion: Operation = (ctx) => {
  const days = ctx.params.int('PendingWindowInDays') ?? 30;
  if (days < 7 || days > 30) {
    throw new KmsError('ValidationException', `PendingWindowInDays should be between 7 and 30, but it is ${days}`);
  }
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  key.state = 'PendingDeletion';
  key.deletionAt = ctx.now + days * DAY_MS;
  key.pendingWindowInDays = days;
  ctx.changed();
  return { KeyId: key.arn, DeletionDate: epochSeconds(key.deletionAt), KeyState: key.state, PendingWindowInDays: days };
};

const cancelKeyDeletion: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  // Not requireState: a Disabled key here is an invalid state, not a DisabledException.
  if (key.state !== 'PendingDeletion') throw new KmsError('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
  // AWS leaves a key whose deletion was cancelled Disabled: enabling it is a separate decision.
  key.state = 'Disabled';
  delete key.deletionAt;
  delete key.pendingWindowInDays;
  ctx.changed();
  return { KeyId: key.arn };
};

const updateKeyDescription: Operation = (ctx) => {
  const description = ctx.params.str('Description', { required: true, max: 8192 });
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  key.description = description;
  ctx.changed();
  return undefined;
};

const tagResource: Operation = (ctx) => {
  const tags = ctx.params.tags();
  if (!tags) throw new KmsError('ValidationException', "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  checkTags(tags);
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  for (const t of tags) {
    const existing = key.tags.find((x) => x.TagKey === t.TagKey);
    if (existing) existing.TagValue = t.TagValue;
    else key.tags.push({ ...t });
  }
  ctx.changed();
  return undefined;
};

const untagResource: Operation = (ctx) => {
  const keys = ctx.params.strList('TagKeys') ?? [];
  const key = keyFor(ctx, 'KeyId', NOT_PENDING);
  key.tags = key.tags.filter((t) => !keys.includes(t.TagKey));
  ctx.changed();
  return undefined;
};

const listResourceTags: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  const { items, more } = page(key.tags, ctx, { max: 50, default: 50 });
  return { Tags: items, ...more };
};

export const keyOperations: Record<string, Operation> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  ListKeys: listKeys,
  EnableKey: enableKey,
  DisableKey: disableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  UpdateKeyDescription: updateKeyDescription,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListResourceTags: listResourceTags,
};
