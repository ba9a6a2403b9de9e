// IAM-style policy documents: parsing and statement matching. A simplified but real
// evaluator: Effect Allow/Deny; Principal "*" | {AWS: arn | [arns] | "*"} (and NotPrincipal);
// Action / NotAction with `*` and `?` wildcards, case-insensitive as IAM compares actions;
// Resource / NotResource "*", an ARN or a wildcard pattern; a small Condition subset
// (String*, Bool, Arn* operators, …IfExists, ForAnyValue/ForAllValues) over the keys KMS
// scenarios use. An unknown condition operator or key makes an Allow not apply and a Deny
// apply: failing closed, never granting by accident. authorize.ts combines key policy
// and identity policy into the decision.
import { KmsError } from './errors.js';

export type OneOrMany<T> = T | T[];
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: OneOrMany<string>; Service?: OneOrMany<string> };
  NotPrincipal?: '*' | { AWS?: OneOrMany<string>; Service?: OneOrMany<string> };
  Action?: OneOrMany<string>;
  NotAction?: OneOrMany<string>;
  Resource?: OneOrMany<string>;
  NotResource?: OneOrMany<string>;
  Condition?: Record<string, Record<string, OneOrMany<string | boolean>>>;
}
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Statement[];
}

/** What a statement's Principal is tested against. */
export interface PrincipalFacts {
  /** ARNs that name the caller directly: its role ARN and session ARN. */
  direct: string[];
  accountId: string;
}

/** How a statement's principal matched the caller. */
export type PrincipalMatch = 'direct' | 'account' | 'none';

const MAX_POLICY = 32768;
const list = <T>(v: OneOrMany<T> | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const malformed = (message: string): KmsError => new KmsError('MalformedPolicyDocumentException', message);

/** Parses and checks a key policy (Principal required) or an identity policy (no Principal). */
export function parsePolicy(text: string, kind: 'key' | 'identity' = 'key'): PolicyDocument {
  if (text.length > MAX_POLICY) {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to ${MAX_POLICY}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('The policy is not valid JSON.');
  }
  return checkPolicy(doc, kind);
}

export function checkPolicy(doc: unknown, kind: 'key' | 'identity'): PolicyDocument {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('The policy must be a JSON object.');
  const raw = (doc as { Statement?: unknown }).Statement;
  if (raw === undefined) throw malformed('The policy has no Statement.');
  const statements = Array.isArray(raw) ? raw : [raw];
  for (const s of statements as Statement[]) {
    if (typeof s !== 'object' || s === null) throw malformed('A Statement must be an object.');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`Policy contains a statement with an invalid Effect: ${String(s.Effect)}.`);
    if (s.Action === undefined && s.NotAction === undefined) throw malformed('Policy contains a statement with no Action.');
    if (kind === 'key' && s.Principal === undefined && s.NotPrincipal === undefined) {
      throw malformed('Policy contains a statement with no principal.');
    }
    for (const a of [...list(s.Action), ...list(s.NotAction)]) {
      if (typeof a !== 'string') throw malformed('Actions must be strings.');
    }
  }
  return { ...(doc as PolicyDocument), Statement: statements as Statement[] };
}

/** IAM wildcard match: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  const re = new RegExp('^' + p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 's');
  return re.test(v);
}

function principalValues(p: Statement['Principal']): { any: boolean; aws: string[] } {
  if (p === '*') return { any: true, aws: [] };
  if (p === undefined) return { any: false, aws: [] };
  const aws = list(p.AWS);
  return { any: aws.includes('*'), aws };
}

/** Whether a principal entry names the account root: `arn:aws:iam::<acct>:root` or bare `<acct>`. */
const isAccount = (value: string, accountId: string): boolean =>
  value === accountId || value === `arn:aws:iam::${accountId}:root`;

/** How the statement's Principal applies to the caller. A root principal means "this account": IAM decides. */
export function matchPrincipal(s: Statement, who: PrincipalFacts): PrincipalMatch {
  if (s.NotPrincipal !== undefined) {
    const { any, aws } = principalValues(s.NotPrincipal);
    const excluded = any || aws.some((a) => who.direct.includes(a) || isAccount(a, who.accountId));
    return excluded ? 'none' : 'direct';
  }
  const { any, aws } = principalValues(s.Principal);
  if (any || aws.some((a) => who.direct.includes(a))) return 'direct';
  if (aws.some((a) => isAccount(a, who.accountId))) return 'account';
  return 'none';
}

export function matchAction(s: Statement, action: string): boolean {
  if (s.NotAction !== undefined) return !list(s.NotAction).some((a) => wildcardMatch(a, action, true));
  return list(s.Action).some((a) => wildcardMatch(a, action, true));
}

export function matchResource(s: Statement, resource: string): boolean {
  if (s.NotResource !== undefined) return !list(s.NotResource).some((r) => wildcardMatch(r, resource));
  // A key policy statement without Resource applies to its key.
  if (s.Resource === undefined) return true;
  return list(s.Resource).some((r) => wildcardMatch(r, resource));
}

/** Request facts conditions can test: key → values (multi-valued keys have several). */
export type ConditionContext = Record<string, string[]>;

/** 'match' | 'nomatch', or 'unknown' when the condition uses something this evaluator does not model. */
export function matchCondition(s: Statement, ctx: ConditionContext): 'match' | 'nomatch' | 'unknown' {
  if (s.Condition === undefined) return 'match';
  let unknown = false;
  for (const [rawOp, tests] of Object.entries(s.Condition)) {
    for (const [rawKey, rawValues] of Object.entries(tests)) {
      const r = testOne(rawOp, rawKey, list(rawValues).map(String), ctx);
      if (r === 'nomatch') return 'nomatch';
      if (r === 'unknown') unknown = true;
    }
  }
  return unknown ? 'unknown' : 'match';
}

const KNOWN_OPS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase',
  'StringLike', 'StringNotLike', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike', 'Bool',
]);
const KNOWN_KEYS = /^(aws:PrincipalArn|aws:PrincipalAccount|aws:PrincipalType|kms:CallerAccount|kms:EncryptionContextKeys|kms:EncryptionContext:.+)$/i;

function testOne(rawOp: string, rawKey: string, wanted: string[], ctx: ConditionContext): 'match' | 'nomatch' | 'unknown' {
  let op = rawOp;
  let setOp: 'any' | 'all' | undefined;
  if (op.startsWith('ForAnyValue:')) [setOp, op] = ['any', op.slice(12)];
  else if (op.startsWith('ForAllValues:')) [setOp, op] = ['all', op.slice(13)];
  const ifExists = op.endsWith('IfExists');
  if (ifExists) op = op.slice(0, -8);
  if (!KNOWN_OPS.has(op) || !KNOWN_KEYS.test(rawKey)) return 'unknown';
  // Condition keys are case-insensitive; encryption-context values inside them are not.
  const key = Object.keys(ctx).find((k) => k.toLowerCase() === rawKey.toLowerCase());
  const present = key === undefined ? [] : ctx[key]!;

  const single = (v: string): boolean => {
    switch (op) {
      case 'StringEquals':
      case 'ArnEquals':
        return wanted.includes(v);
      case 'StringNotEquals':
      case 'ArnNotEquals':
        return !wanted.includes(v);
      case 'StringEqualsIgnoreCase':
        return wanted.some((w) => w.toLowerCase() === v.toLowerCase());
      case 'StringNotEqualsIgnoreCase':
        return !wanted.some((w) => w.toLowerCase() === v.toLowerCase());
      case 'StringLike':
      case 'ArnLike':
        return wanted.some((w) => wildcardMatch(w, v));
      case 'StringNotLike':
      case 'ArnNotLike':
        return !wanted.some((w) => wildcardMatch(w, v));
      default: // 'Bool'
        return wanted.includes(v);
    }
  };
  const negated = /Not/.test(op);

  if (setOp === 'all') return present.every((v) => single(v)) ? 'match' : 'nomatch';
  if (present.length === 0) {
    if (setOp === 'any') return 'nomatch';
    // A missing key satisfies …IfExists and the negated operators, nothing else (IAM's rule).
    return ifExists || negated ? 'match' : 'nomatch';
  }
  if (setOp === 'any') return present.some((v) => single(v)) ? 'match' : 'nomatch';
  return present.every((v) => single(v)) ? 'match' : 'nomatch';
}

/** The policy every new key gets unless CreateKey names one: the account root may do everything. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        {
          Sid: 'Enable IAM User Permissions',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${accountId}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    },
    null,
    2,
  );
}
