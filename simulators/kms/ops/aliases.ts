// Aliases: friendly names (`alias/…`) that every KeyId parameter accepts.
import { aliasArn, checkAliasName } from '../arn.js';
import { KmsError } from '../errors.js';
import { requireState } from '../key-store.js';
import type { KmsAlias, KmsKey } from '../model.js';
import { epochSeconds } from '../params.js';
import { ANY_STATE, authorizeAccount, authorizeKey, NOT_PENDING, page, type OpContext, type Operation } from './context.js';

/** TargetKeyId must name a key (id or key ARN) in the caller's account, never another alias. */
function targetKey(ctx: OpContext): KmsKey {
  const target = ctx.params.str('TargetKeyId', { required: true, min: 1, max: 2048 });
  if (target.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(target)) {
    throw new KmsError('ValidationException', `TargetKeyId ${target} is an alias: an alias must point to a key id or key ARN`);
  }
  const key = ctx.store.resolve(target, ctx.scope);
  if (key.accountId !== ctx.scope.accountId) {
    throw new KmsError('ValidationException', 'The alias and the KMS key it is mapped to must be in the same AWS account and the same Region.');
  }
  return key;
}

const createAlias: Operation = (ctx) => {
  const name = ctx.params.str('AliasName', { required: true, min: 1, max: 256 });
  checkAliasName(name);
  const key = targetKey(ctx);
  authorizeKey(ctx, key, 'kms:CreateAlias');
  if (ctx.store.getAlias(ctx.scope, name)) {
    throw new KmsError('AlreadyExistsException', `An alias with the name ${aliasArn(ctx.scope.region, ctx.scope.accountId, name)} already exists`);
  }
  requireState(key, NOT_PENDING);
  ctx.store.putAlias({ aliasName: name, accountId: ctx.scope.accountId, region: ctx.scope.region, targetKeyId: key.keyId, createdAt: ctx.now, updatedAt: ctx.now });
  ctx.changed();
  return undefined;
};

const deleteAlias: Operation = (ctx) => {
  const name = ctx.params.str('AliasName', { required: true, min: 1, max: 256 });
  const alias = ctx.store.requireAlias(ctx.scope, name);
  const key = ctx.store.byId(ctx.scope, alias.targetKeyId);
  if (key) authorizeKey(ctx, key, 'kms:DeleteAlias');
  ctx.store.deleteAlias(alias);
  ctx.changed();
  return undefined;
};

const updateAlias: Operation = (ctx) => {
  const name = ctx.params.str('AliasName', { required: true, min: 1, max: 256 });
  checkAliasName(name);
  const alias = ctx.store.requireAlias(ctx.scope, name);
  const next = targetKey(ctx);
  const current = ctx.store.byId(ctx.scope, alias.targetKeyId);
  // AWS asks for permission on both keys: the one the alias leaves and the one it joins.
  if (current) authorizeKey(ctx, current, 'kms:UpdateAlias');
  authorizeKey(ctx, next, 'kms:UpdateAlias');
  requireState(next, NOT_PENDING);
  if (current && (current.keySpec !== next.keySpec || current.keyUsage !== next.keyUsage)) {
    throw new KmsError(
      'ValidationException',
      `${next.arn} is not the same type of key as ${current.arn}: an alias may only move between keys of the same key spec and key usage`,
    );
  }
  alias.targetKeyId = next.keyId;
  alias.updatedAt = ctx.now;
  ctx.changed();
  return undefined;
};

const listAliases: Operation = (ctx) => {
  authorizeAccount(ctx, 'kms:ListAliases');
  let aliases: KmsAlias[] = ctx.store.aliasesIn(ctx.scope);
  const keyText = ctx.params.str('KeyId', { min: 1, max: 2048 });
  if (keyText !== undefined) {
    const key = ctx.store.resolve(keyText, ctx.scope);
    requireState(key, ANY_STATE);
    aliases = aliases.filter((a) => a.targetKeyId === key.keyId);
  }
  const { items, more } = page(aliases, ctx, { max: 100, default: 50 });
  return {
    Aliases: items.map((a) => ({
      AliasName: a.aliasName,
      AliasArn: aliasArn(a.region, a.accountId, a.aliasName),
      TargetKeyId: a.targetKeyId,
      CreationDate: epochSeconds(a.createdAt),
      LastUpdatedDate: epochSeconds(a.updatedAt),
    })),
    ...more,
  };
};

export const aliasOperations: Record<string, Operation> = {
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
  UpdateAlias: updateAlias,
  ListAliases: listAliases,
};
