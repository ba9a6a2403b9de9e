// AWS policy evidence for KMS-3 ("every node's instance role, and the CMK key policy, allow
// exactly kms:GenerateDataKey and kms:Decrypt on that CMK for that role"), read from what an
// auditor exports with the AWS CLI, told apart by shape:
//   aws kms get-key-policy --key-id K --policy-name default   {"Policy": "<json text>", "PolicyName"}
//   aws kms describe-key --key-id K                           {"KeyMetadata": {"Arn", "KeyState", …}}
//   aws iam get-role-policy --role-name R --policy-name P     {"RoleName", "PolicyName", "PolicyDocument"}
//   aws iam get-account-authorization-details                 {"RoleDetailList": […], "Policies": […]}
//   a bare policy document                                     {"Version", "Statement"} (a key policy
//                                                             when its statements name a Principal)
// A key policy export may name its key (`"KeyArn"`/`"KeyId"` beside `"Policy"`, e.g. from
// `jq`); the CLI's own output does not. Parsing is pure; the rules judge.
import { describeJson, isObject, JsonFormatError, ptr } from './json-doc.js';

export interface PolicyStatement {
  /** Position in the document's Statement list (0-based). */
  index: number;
  sid: string | null;
  effect: 'Allow' | 'Deny';
  /** `'*'` for everyone; otherwise principal strings by type (AWS, Service, Federated…); null when absent (identity policies). */
  principal: '*' | Record<string, string[]> | null;
  notPrincipal: '*' | Record<string, string[]> | null;
  action: string[] | null;
  notAction: string[] | null;
  resource: string[] | null;
  notResource: string[] | null;
  condition: boolean;
}

export interface PolicyDocument {
  version: string | null;
  statements: PolicyStatement[];
}

export interface KeyPolicyEvidence {
  kind: 'key-policy';
  file: string;
  /** The key the export names, when it does. */
  keyArn: string | null;
  policyName: string | null;
  document: PolicyDocument;
}

export interface RolePolicyEvidence {
  kind: 'role-policy';
  file: string;
  /** null when the export does not say (a bare identity policy document). */
  roleName: string | null;
  roleArn: string | null;
  policyName: string | null;
  /** inline (get-role-policy, RolePolicyList) or managed (an attached policy's default version). */
  source: 'inline' | 'managed' | 'document';
  document: PolicyDocument;
  /** JSON pointer of the document inside the file. */
  pointer: string;
}

export interface KeyMetadataEvidence {
  kind: 'key-metadata';
  file: string;
  arn: string;
  keyId: string | null;
  keyState: string | null;
  keyUsage: string | null;
  keySpec: string | null;
  enabled: boolean | null;
  keyManager: string | null;
}

export type AwsPolicyEvidence = KeyPolicyEvidence | RolePolicyEvidence | KeyMetadataEvidence;

/** What shape a parsed JSON document has, or undefined when it is none of ours. Pure. */
export function awsPolicyShape(doc: unknown): 'key-policy' | 'role-policy' | 'key-metadata' | 'authorization-details' | 'policy-document' | undefined {
  if (!isObject(doc)) return undefined;
  if (typeof doc.Policy === 'string') return 'key-policy';
  if (isObject(doc.KeyMetadata)) return 'key-metadata';
  if (typeof doc.RoleName === 'string' && 'PolicyDocument' in doc) return 'role-policy';
  if (Array.isArray(doc.RoleDetailList)) return 'authorization-details';
  if ('Statement' in doc && ('Version' in doc || Array.isArray(doc.Statement) || isObject(doc.Statement))) return 'policy-document';
  return undefined;
}

function stringList(file: string, at: string, v: unknown, what: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  throw new JsonFormatError(file, at, `${what}: a string or a non-empty list of strings`, describeJson(v));
}

function principalOf(file: string, at: string, v: unknown): '*' | Record<string, string[]> {
  if (v === '*') return '*';
  if (isObject(v)) {
    const out: Record<string, string[]> = {};
    for (const [type, value] of Object.entries(v)) out[type] = stringList(file, ptr(at, type), value, `${type} principals`);
    if (Object.keys(out).length === 0) throw new JsonFormatError(file, at, 'a principal: "*" or {"AWS": "arn:aws:iam::<account>:role/<name>"}', 'an empty object');
    // {"AWS": "*"} is everyone too.
    if (Object.values(out).some((list) => list.includes('*'))) return '*';
    return out;
  }
  throw new JsonFormatError(file, at, 'a principal: "*" or {"AWS": "arn:aws:iam::<account>:role/<name>"}', describeJson(v));
}

/** Reads an IAM/KMS policy document; `at` is its JSON pointer inside `file`. */
export function parsePolicyDocument(doc: unknown, file: string, at = ''): PolicyDocument {
  if (!isObject(doc)) throw new JsonFormatError(file, at, 'a policy document {"Version": "2012-10-17", "Statement": [...]}', describeJson(doc));
  const version = doc.Version === undefined ? null : doc.Version;
  if (version !== null && typeof version !== 'string') throw new JsonFormatError(file, ptr(at, 'Version'), 'a version string such as "2012-10-17"', describeJson(version));
  const raw = doc.Statement;
  const list = Array.isArray(raw) ? raw : isObject(raw) ? [raw] : undefined;
  if (!list) throw new JsonFormatError(file, ptr(at, 'Statement'), 'a statement object or a list of statements', describeJson(raw));
  const statements = list.map((s, i): PolicyStatement => {
    const sat = Array.isArray(raw) ? ptr(ptr(at, 'Statement'), i) : ptr(at, 'Statement');
    if (!isObject(s)) throw new JsonFormatError(file, sat, 'a statement object', describeJson(s));
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new JsonFormatError(file, ptr(sat, 'Effect'), '"Allow" or "Deny"', describeJson(s.Effect));
    if (s.Action === undefined && s.NotAction === undefined) throw new JsonFormatError(file, ptr(sat, 'Action'), 'Action or NotAction', 'neither');
    return {
      index: i,
      sid: typeof s.Sid === 'string' ? s.Sid : null,
      effect: s.Effect,
      principal: s.Principal === undefined ? null : principalOf(file, ptr(sat, 'Principal'), s.Principal),
      notPrincipal: s.NotPrincipal === undefined ? null : principalOf(file, ptr(sat, 'NotPrincipal'), s.NotPrincipal),
      action: s.Action === undefined ? null : stringList(file, ptr(sat, 'Action'), s.Action, 'actions'),
      notAction: s.NotAction === undefined ? null : stringList(file, ptr(sat, 'NotAction'), s.NotAction, 'actions'),
      resource: s.Resource === undefined ? null : stringList(file, ptr(sat, 'Resource'), s.Resource, 'resources'),
      notResource: s.NotResource === undefined ? null : stringList(file, ptr(sat, 'NotResource'), s.NotResource, 'resources'),
      condition: isObject(s.Condition) && Object.keys(s.Condition).length > 0,
    };
  });
  return { version, statements };
}

/** A policy document given inline or as (URL-encoded, as IAM returns it) JSON text. */
function documentValue(v: unknown, file: string, at: string): PolicyDocument {
  if (typeof v === 'string') {
    let text = v;
    if (/^%7B/i.test(text.trim())) {
      try {
        text = decodeURIComponent(text);
      } catch {
        throw new JsonFormatError(file, at, 'a policy document (JSON, or URL-encoded JSON as IAM returns it)', 'text that is not URL-encoded JSON');
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new JsonFormatError(file, at, 'a policy document as JSON text', `text that is not JSON (${(err as Error).message})`);
    }
    return parsePolicyDocument(parsed, file, at);
  }
  return parsePolicyDocument(v, file, at);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Reads a parsed JSON document of one of the shapes above; InputError (exit 2) naming the place when it is malformed. */
export function readAwsPolicyEvidence(doc: unknown, file: string): AwsPolicyEvidence[] {
  const shape = awsPolicyShape(doc);
  const d = doc as Record<string, unknown>;
  switch (shape) {
    case 'key-policy': {
      const keyArn = str(d.KeyArn) ?? (str(d.KeyId)?.startsWith('arn:') ? str(d.KeyId) : null);
      return [{ kind: 'key-policy', file, keyArn, policyName: str(d.PolicyName), document: documentValue(d.Policy, file, '/Policy') }];
    }
    case 'key-metadata': {
      const m = d.KeyMetadata as Record<string, unknown>;
      const arn = str(m.Arn);
      if (!arn) throw new JsonFormatError(file, '/KeyMetadata/Arn', 'the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>)', describeJson(m.Arn));
      return [
        {
          kind: 'key-metadata',
          file,
          arn,
          keyId: str(m.KeyId),
          keyState: str(m.KeyState),
          keyUsage: str(m.KeyUsage),
          keySpec: str(m.KeySpec) ?? str(m.CustomerMasterKeySpec),
          enabled: typeof m.Enabled === 'boolean' ? m.Enabled : null,
          keyManager: str(m.KeyManager),
        },
      ];
    }
    case 'role-policy':
      return [
        {
          kind: 'role-policy',
          file,
          roleName: str(d.RoleName),
          roleArn: null,
          policyName: str(d.PolicyName),
          source: 'inline',
          document: documentValue(d.PolicyDocument, file, '/PolicyDocument'),
          pointer: '/PolicyDocument',
        },
      ];
    case 'authorization-details':
      return authorizationDetails(d, file);
    case 'policy-document': {
      const document = parsePolicyDocument(d, file);
      if (document.statements.some((s) => s.principal !== null || s.notPrincipal !== null)) return [{ kind: 'key-policy', file, keyArn: null, policyName: null, document }];
      return [{ kind: 'role-policy', file, roleName: null, roleArn: null, policyName: null, source: 'document', document, pointer: '' }];
    }
    default:
      throw new JsonFormatError(file, '', 'an AWS policy export (get-key-policy, describe-key, get-role-policy, get-account-authorization-details or a policy document)', describeJson(doc));
  }
}

/** Roles' inline policies and the default versions of their attached managed policies. */
function authorizationDetails(d: Record<string, unknown>, file: string): AwsPolicyEvidence[] {
  const managed = new Map<string, { document: unknown; at: string }>();
  const policies = Array.isArray(d.Policies) ? d.Policies : [];
  policies.forEach((p: unknown, i) => {
    if (!isObject(p) || typeof p.Arn !== 'string' || !Array.isArray(p.PolicyVersionList)) return;
    const versions = p.PolicyVersionList as unknown[];
    const j = versions.findIndex((v) => isObject(v) && (v.IsDefaultVersion === true || v.VersionId === p.DefaultVersionId));
    if (j >= 0) managed.set(p.Arn, { document: (versions[j] as Record<string, unknown>).Document, at: `/Policies/${i}/PolicyVersionList/${j}/Document` });
  });
  const out: AwsPolicyEvidence[] = [];
  (d.RoleDetailList as unknown[]).forEach((r, i) => {
    const at = `/RoleDetailList/${i}`;
    if (!isObject(r) || typeof r.RoleName !== 'string') throw new JsonFormatError(file, `${at}/RoleName`, 'the role name', describeJson(isObject(r) ? r.RoleName : r));
    const roleArn = str(r.Arn);
    const inline = Array.isArray(r.RolePolicyList) ? r.RolePolicyList : [];
    inline.forEach((p: unknown, j) => {
      const pat = `${at}/RolePolicyList/${j}`;
      if (!isObject(p)) throw new JsonFormatError(file, pat, 'an inline policy {PolicyName, PolicyDocument}', describeJson(p));
      out.push({ kind: 'role-policy', file, roleName: r.RoleName as string, roleArn, policyName: str(p.PolicyName), source: 'inline', document: documentValue(p.PolicyDocument, file, `${pat}/PolicyDocument`), pointer: `${pat}/PolicyDocument` });
    });
    const attached = Array.isArray(r.AttachedManagedPolicies) ? r.AttachedManagedPolicies : [];
    attached.forEach((a: unknown, j) => {
      if (!isObject(a) || typeof a.PolicyArn !== 'string') throw new JsonFormatError(file, `${at}/AttachedManagedPolicies/${j}/PolicyArn`, 'the attached policy ARN', describeJson(isObject(a) ? a.PolicyArn : a));
      const m = managed.get(a.PolicyArn);
      // An AWS-managed policy is not in the export's Policies list unless asked for (--filter AWSManagedPolicy).
      if (!m) {
        out.push({ kind: 'role-policy', file, roleName: r.RoleName as string, roleArn, policyName: str(a.PolicyName) ?? a.PolicyArn, source: 'managed', document: { version: null, statements: [] }, pointer: `${at}/AttachedManagedPolicies/${j}` });
        return;
      }
      out.push({ kind: 'role-policy', file, roleName: r.RoleName as string, roleArn, policyName: str(a.PolicyName) ?? a.PolicyArn, source: 'managed', document: documentValue(m.document, file, m.at), pointer: m.at });
    });
  });
  return out;
}

// ---------------------------------------------------------------- evaluation helpers (pure)

/** IAM glob: `*` any run, `?` one character; actions compare case-insensitively. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  if (!p.includes('*') && !p.includes('?')) return p === v;
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(v);
}

/** Every KMS API action (the ones a least-privilege review talks about). */
export const KMS_ACTIONS: readonly string[] = [
  'kms:CancelKeyDeletion', 'kms:ConnectCustomKeyStore', 'kms:CreateAlias', 'kms:CreateCustomKeyStore', 'kms:CreateGrant', 'kms:CreateKey',
  'kms:Decrypt', 'kms:DeleteAlias', 'kms:DeleteCustomKeyStore', 'kms:DeleteImportedKeyMaterial', 'kms:DeriveSharedSecret', 'kms:DescribeCustomKeyStores',
  'kms:DescribeKey', 'kms:DisableKey', 'kms:DisableKeyRotation', 'kms:DisconnectCustomKeyStore', 'kms:EnableKey', 'kms:EnableKeyRotation',
  'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyPair', 'kms:GenerateDataKeyPairWithoutPlaintext', 'kms:GenerateDataKeyWithoutPlaintext',
  'kms:GenerateMac', 'kms:GenerateRandom', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:GetParametersForImport', 'kms:GetPublicKey',
  'kms:ImportKeyMaterial', 'kms:ListAliases', 'kms:ListGrants', 'kms:ListKeyPolicies', 'kms:ListKeyRotations', 'kms:ListKeys',
  'kms:ListResourceTags', 'kms:ListRetirableGrants', 'kms:PutKeyPolicy', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:ReplicateKey',
  'kms:RetireGrant', 'kms:RevokeGrant', 'kms:RotateKeyOnDemand', 'kms:ScheduleKeyDeletion', 'kms:Sign', 'kms:TagResource',
  'kms:UntagResource', 'kms:UpdateAlias', 'kms:UpdateCustomKeyStore', 'kms:UpdateKeyDescription', 'kms:UpdatePrimaryRegion', 'kms:Verify', 'kms:VerifyMac',
];

/** The two actions Tableau needs on its CMK (KMS-3). */
export const REQUIRED_KMS_ACTIONS: readonly string[] = ['kms:GenerateDataKey', 'kms:Decrypt'];

export function statementCoversAction(s: PolicyStatement, action: string): boolean {
  if (s.action) return s.action.some((a) => globMatch(a, action, true));
  return !(s.notAction ?? []).some((a) => globMatch(a, action, true));
}

/** Does the statement apply to `resource`? `null` resource: any key (the CMK is unknown). */
export function statementCoversResource(s: PolicyStatement, resource: string | null): boolean {
  if (s.resource) return resource === null ? s.resource.some((r) => r === '*' || /^arn:[^:]+:kms:/.test(r) || r.includes('*')) : s.resource.some((r) => globMatch(r, resource));
  if (s.notResource) return resource === null ? true : !s.notResource.some((r) => globMatch(r, resource));
  // Key policies leave Resource out or say "*": it means this key.
  return true;
}

/** Role ARN parts: `arn:aws:iam::<account>:role/<path/><name>`, or an STS assumed-role session. */
export function roleNameOfArn(arn: string): string | null {
  const m = /^arn:[\w-]+:iam::\d{12}:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn) ?? /^arn:[\w-]+:sts::\d{12}:assumed-role\/([\w+=,.@-]+)\/.+$/.exec(arn);
  return m ? m[1]! : null;
}

/** Does a key-policy principal name this role (by ARN, path-insensitive, or as an assumed-role session)? */
export function principalNamesRole(principal: PolicyStatement['principal'], roleName: string): boolean {
  if (principal === null) return false;
  if (principal === '*') return true;
  return (principal.AWS ?? []).some((p) => roleNameOfArn(p) === roleName || (p.includes('*') && /:role\//.test(p) && globMatch(p.replace(/^.*:role\/(?:.*\/)?/, ''), roleName)));
}

/** Account-root principals (`arn:aws:iam::<acct>:root` or a bare account id): the statement that delegates to IAM. */
export function principalIsAccountRoot(principal: PolicyStatement['principal']): boolean {
  if (principal === null || principal === '*') return false;
  return (principal.AWS ?? []).some((p) => /^arn:[\w-]+:iam::\d{12}:root$/.test(p) || /^\d{12}$/.test(p));
}
