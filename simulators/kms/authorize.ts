// The access decision for one request: key policy and identity policy together, as AWS
// evaluates KMS requests (simplified: no grants, SCPs, boundaries or session policies).
//  1. An explicit Deny in either policy that applies to the caller wins.
//  2. Same account: allowed when the key policy allows the caller directly, or when it
//     allows the account root ("delegate to IAM") and the caller's identity policy allows.
//  3. Another account's caller needs both: the key policy names it (or its account), and
//     its own identity policy allows.
//  4. Actions on no key (CreateKey, ListKeys, ListAliases, GenerateRandom) need only the
//     identity policy.
// The AccessDeniedException text follows AWS's current wording, naming the principal, the
// action, the resource and which kind of policy was missing or denied.
import { KmsError } from './errors.js';
import type { Caller } from './callers.js';
import {
  matchAction,
  matchCondition,
  matchPrincipal,
  matchResource,
  type ConditionContext,
  type PolicyDocument,
  type PrincipalFacts,
} from './policy.js';

export interface AccessRequest {
  caller: Caller;
  /** `kms:Decrypt` etc. */
  action: string;
  /** The key ARN, or `*` for actions on no key. */
  resource: string;
  /** The key's policy; undefined for actions on no key. */
  keyPolicy?: PolicyDocument;
  /** The account that owns the key. */
  keyAccountId?: string;
  /** Extra condition facts (encryption context…). */
  context?: ConditionContext;
}

export type Decision =
  | { allowed: true }
  | { allowed: false; why: 'resource-deny' | 'identity-deny' | 'no-resource-allow' | 'no-identity-allow' };

export function conditionFacts(caller: Caller, extra: ConditionContext = {}): ConditionContext {
  return {
    'aws:PrincipalArn': [caller.roleArn ?? caller.principalArn],
    'aws:PrincipalAccount': [caller.accountId],
    'aws:PrincipalType': [caller.kind === 'role' ? 'AssumedRole' : 'Account'],
    'kms:CallerAccount': [caller.accountId],
    ...extra,
  };
}

/** Condition facts for an encryption context: each pair, and the list of its keys. */
export function encryptionContextFacts(ctx: Record<string, string> | undefined): ConditionContext {
  const out: ConditionContext = {};
  if (!ctx) return out;
  for (const [k, v] of Object.entries(ctx)) out[`kms:EncryptionContext:${k}`] = [v];
  out['kms:EncryptionContextKeys'] = Object.keys(ctx);
  return out;
}

export function decide(req: AccessRequest): Decision {
  const { caller } = req;
  const who: PrincipalFacts = {
    direct: caller.roleArn ? [caller.roleArn, caller.principalArn] : [caller.principalArn],
    accountId: caller.accountId,
  };
  const ctx = conditionFacts(caller, req.context);

  let directAllow = false;
  let delegated = false;
  let resourceDeny = false;
  for (const s of req.keyPolicy?.Statement ?? []) {
    if (!matchAction(s, req.action) || !matchResource(s, req.resource)) continue;
    const pm = matchPrincipal(s, who);
    if (pm === 'none') continue;
    const cond = matchCondition(s, ctx);
    // An unmodelled condition makes a Deny bind and an Allow not apply: fail closed.
    if (s.Effect === 'Deny') resourceDeny ||= cond !== 'nomatch';
    else if (cond === 'match') {
      if (pm === 'direct') directAllow = true;
      else delegated = true;
    }
  }

  let identityAllow = false;
  let identityDeny = false;
  for (const s of caller.identityPolicy.Statement) {
    if (!matchAction(s, req.action) || !matchResource(s, req.resource)) continue;
    const cond = matchCondition(s, ctx);
    if (s.Effect === 'Deny') identityDeny ||= cond !== 'nomatch';
    else if (cond === 'match') identityAllow = true;
  }

  if (resourceDeny) return { allowed: false, why: 'resource-deny' };
  if (identityDeny) return { allowed: false, why: 'identity-deny' };
  if (req.keyPolicy === undefined) return identityAllow ? { allowed: true } : { allowed: false, why: 'no-identity-allow' };
  if (!directAllow && !delegated) return { allowed: false, why: 'no-resource-allow' };
  const crossAccount = req.keyAccountId !== undefined && req.keyAccountId !== caller.accountId;
  if (directAllow && !crossAccount) return { allowed: true };
  return identityAllow ? { allowed: true } : { allowed: false, why: 'no-identity-allow' };
}

export function accessDeniedMessage(req: AccessRequest, why: Exclude<Decision, { allowed: true }>['why']): string {
  const head = `User: ${req.caller.principalArn} is not authorized to perform: ${req.action} on resource: ${req.resource}`;
  switch (why) {
    case 'resource-deny':
      return `${head} with an explicit deny in a resource-based policy`;
    case 'identity-deny':
      return `${head} with an explicit deny in an identity-based policy`;
    case 'no-resource-allow':
      return `${head} because no resource-based policy allows the ${req.action} action`;
    case 'no-identity-allow':
      return `${head} because no identity-based policy allows the ${req.action} action`;
  }
}

/** Throws AccessDeniedException unless the request is allowed. */
export function authorize(req: AccessRequest): void {
  const d = decide(req);
  if (!d.allowed) throw new KmsError('AccessDeniedException', accessDeniedMessage(req, d.why));
}
