// Key policies: each key has exactly one, named "default".
import { KmsError } from '../errors.js';
import { parsePolicy } from '../policy.js';
import { ANY_STATE, keyFor, type Operation } from './context.js';
import { lockoutCheck } from './keys.js';

const policyName = (name: string | undefined): string => name ?? 'default';

const getKeyPolicy: Operation = (ctx) => {
  const name = policyName(ctx.params.str('PolicyName', { min: 1, max: 128 }));
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  if (name !== 'default') throw new KmsError('NotFoundException', 'No such policy exists');
  return { Policy: key.policy, PolicyName: name };
};

const putKeyPolicy: Operation = (ctx) => {
  const name = policyName(ctx.params.str('PolicyName', { min: 1, max: 128 }));
  const text = ctx.params.str('Policy', { required: true, min: 1, max: 32768 });
  const key = keyFor(ctx, 'KeyId', ANY_STATE);
  if (name !== 'default') throw new KmsError('UnsupportedOperationException', 'Only default policy is supported');
  parsePolicy(text);
  lockoutCheck(ctx, text, key.arn, key.accountId);
  key.policy = text;
  ctx.changed();
  return undefined;
};

const listKeyPolicies: Operation = (ctx) => {
  keyFor(ctx, 'KeyId', ANY_STATE);
  return { PolicyNames: ['default'], Truncated: false };
};

export const policyOperations: Record<string, Operation> = {
  GetKeyPolicy: getKeyPolicy,
  PutKeyPolicy: putKeyPolicy,
  ListKeyPolicies: listKeyPolicies,
};
