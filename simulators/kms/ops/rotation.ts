// Key rotation. Each rotation (automatic or on demand) adds a new key-material generation
// and keeps the old ones: new ciphertexts use the newest, old ciphertexts name theirs.
// Moto only records a rotation without changing the material; this changes it for real.
// AWS rotates on demand asynchronously; here the rotation is complete when the call returns.
import { KmsError } from '../errors.js';
import { DAY_MS, newMaterial } from '../key-store.js';
import { currentMaterial, type KmsKey } from '../model.js';
import { epochSeconds } from '../params.js';
import { ANY_STATE, ENABLED, keyFor, page, type OpContext, type Operation } from './context.js';

/** AWS's lifetime limit of on-demand rotations per key. */
export const ON_DEMAND_LIMIT = 10;

function requireSymmetric(key: KmsKey, operation: string): void {
  if (key.keySpec !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError('UnsupportedOperationException', `${key.arn} key spec is ${key.keySpec}: ${operation} supports only SYMMETRIC_DEFAULT keys.`);
  }
}

const enableKeyRotation: Operation = (ctx) => {
  const period = ctx.params.int('RotationPeriodInDays', { min: 90, max: 2560 }) ?? 365;
  const key = keyFor(ctx, 'KeyId', ENABLED);
  requireSymmetric(key, 'EnableKeyRotation');
  key.rotation.enabled = true;
  key.rotation.periodDays = period;
  key.rotation.nextRotationAt = ctx.now + period * DAY_MS;
  ctx.changed();
  return undefined;
};

const disableKeyRotation: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', ENABLED);
  requireSymmetric(key, 'DisableKeyRotation');
  key.rotation.enabled = false;
  delete key.rotation.nextRotationAt;
  ctx.changed();
  return undefined;
};

const getKeyRotationStatus: Operation = (ctx) => {
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  requireSymmetric(key, 'GetKeyRotationStatus');
  const r = key.rotation;
  return {
    KeyRotationEnabled: r.enabled,
    KeyId: key.arn,
    ...(r.enabled ? { RotationPeriodInDays: r.periodDays } : {}),
    ...(r.enabled && r.nextRotationAt !== undefined ? { NextRotationDate: epochSeconds(r.nextRotationAt) } : {}),
  };
};

const rotateKeyOnDemand: Operation = (ctx: OpContext) => {
  const key = keyFor(ctx, 'KeyId', ENABLED);
  requireSymmetric(key, 'RotateKeyOnDemand');
  if (key.rotation.onDemandCount >= ON_DEMAND_LIMIT) {
    throw new KmsError(
      'LimitExceededException',
      `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${key.arn}`,
    );
  }
  key.materials.push(newMaterial(ctx.now, 'ON_DEMAND'));
  key.rotation.onDemandCount++;
  ctx.changed();
  return { KeyId: key.keyId };
};

const listKeyRotations: Operation = (ctx) => {
  const include = ctx.params.enumOf('IncludeKeyMaterial', ['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'] as const) ?? 'ROTATIONS_ONLY';
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  requireSymmetric(key, 'ListKeyRotations');
  const current = currentMaterial(key);
  // ROTATIONS_ONLY leaves out the first material (it came from CreateKey, not a rotation).
  const materials = include === 'ALL_KEY_MATERIAL' ? key.materials : key.materials.filter((m) => m.rotationType !== undefined);
  const { items, more } = page(materials, ctx, { max: 1000, default: 100 });
  return {
    Rotations: items.map((m) => ({
      KeyId: key.keyId,
      KeyMaterialId: m.id,
      KeyMaterialState: m === current ? 'CURRENT' : 'NON_CURRENT',
      ...(m.rotationType ? { RotationDate: epochSeconds(m.createdAt), RotationType: m.rotationType } : {}),
    })),
    ...more,
  };
};

export const rotationOperations: Record<string, Operation> = {
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ListKeyRotations: listKeyRotations,
};
