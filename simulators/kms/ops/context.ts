// What every operation handler gets, and the steps most of them share: find the key the
// KeyId names, check the caller may do this to it, check its state and usage.
import { authorize, encryptionContextFacts } from '../authorize.js';
import type { Caller } from '../callers.js';
import { KmsError } from '../errors.js';
import { requireState, type KeyStore, type Scope } from '../key-store.js';
import type { KeyState, KeyUsage, KmsKey } from '../model.js';
import type { Params } from '../params.js';
import { parsePolicy, type ConditionContext } from '../policy.js';

export interface OpContext {
  operation: string;
  caller: Caller;
  /** The caller's account and the request's region (from the SigV4 scope). */
  scope: Scope;
  store: KeyStore;
  /** The key clock (epoch ms); may run ahead of the wall clock in simulations. */
  now: number;
  params: Params;
  /** Marks the state as changed: the server saves it before answering. */
  changed(): void;
}

/**
 * A handler returns the response members, or nothing for operations with an empty answer.
 * Only CreateKey is asynchronous (key-pair generation); the rest run to completion
 * synchronously, so two requests never interleave inside one handler's reads and writes.
 */
export type Operation = (ctx: OpContext) => Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;

/** Checks the caller may perform `action` on `key` under its key policy and identity policy. */
export function authorizeKey(ctx: OpContext, key: KmsKey, action: string, extra?: ConditionContext): void {
  authorize({
    caller: ctx.caller,
    action,
    resource: key.arn,
    keyPolicy: parsePolicy(key.policy),
    keyAccountId: key.accountId,
    ...(extra ? { context: extra } : {}),
  });
}

/** For actions on no key (CreateKey, ListKeys…): only the identity policy decides. */
export function authorizeAccount(ctx: OpContext, action: string): void {
  authorize({ caller: ctx.caller, action, resource: '*' });
}

/**
 * The usual preamble: resolve the KeyId member, authorise `kms:<Operation>` (with the
 * encryption context as condition facts), then require one of `states`.
 */
export function keyFor(
  ctx: OpContext,
  member: string,
  states: readonly KeyState[],
  opts: { action?: string; encryptionContext?: Record<string, string> } = {},
): KmsKey {
  const key = ctx.store.resolve(ctx.params.str(member, { required: true, min: 1, max: 2048 }), ctx.scope);
  authorizeKey(ctx, key, opts.action ?? `kms:${ctx.operation}`, encryptionContextFacts(opts.encryptionContext));
  requireState(key, states);
  return key;
}

export const ANY_STATE: readonly KeyState[] = ['Enabled', 'Disabled', 'PendingDeletion'];
export const NOT_PENDING: readonly KeyState[] = ['Enabled', 'Disabled'];
export const ENABLED: readonly KeyState[] = ['Enabled'];

/** InvalidKeyUsageException in LocalStack's (AWS-like) words. */
export function requireUsage(key: KmsKey, usage: KeyUsage, operation: string): void {
  if (key.keyUsage !== usage) {
    throw new KmsError('InvalidKeyUsageException', `${key.arn} key usage is ${key.keyUsage} which is not valid for ${operation}.`);
  }
}

/** DryRun: every check passed, nothing is done. */
export function dryRun(ctx: OpContext): void {
  if (ctx.params.bool('DryRun')) {
    throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.');
  }
}

/** Pages through a list with an opaque marker, as the List* operations do. */
export function page<T>(
  items: T[],
  ctx: OpContext,
  limits: { max: number; default: number },
): { items: T[]; more: Record<string, unknown> } {
  const limit = ctx.params.int('Limit', { min: 1, max: limits.max }) ?? limits.default;
  const marker = ctx.params.str('Marker', { min: 1, max: 1024 });
  let start = 0;
  if (marker !== undefined) {
    const m = /^cg1:(\d+)$/.exec(Buffer.from(marker, 'base64url').toString('utf8'));
    start = m ? Number(m[1]) : NaN;
    if (!Number.isInteger(start) || start > items.length) throw new KmsError('InvalidMarkerException', 'Invalid marker');
  }
  const slice = items.slice(start, start + limit);
  const next = start + slice.length;
  return next < items.length
    ? { items: slice, more: { NextMarker: Buffer.from(`cg1:${next}`).toString('base64url'), Truncated: true } }
    : { items: slice, more: { Truncated: false } };
}
