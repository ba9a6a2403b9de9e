// Who is calling: the access key in a well-signed request maps to a caller.
//
// The rule (the same one LocalStack and moto follow, plus a real signature check):
//  - An access key listed in the table with a `roleName` acts as that IAM role, as an
//    assumed-role session: `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. Its key
//    policy and its IAM policy decide what it may do.
//  - An access key listed without a role is the account's administrator.
//  - Any other access key is accepted only when signed with `anyAccessKeySecret` (default
//    "test", the secret LocalStack's docs use) and then acts as the administrator of its
//    account: the access key id itself when it is 12 digits (LocalStack's rule, handy for
//    cross-account scenarios), the server's default account (000000000000) otherwise.
//    Set `anyAccessKeySecret: null` to refuse unknown keys (UnrecognizedClientException).
//  - The administrator behaves like an IAM principal with AdministratorAccess: its identity
//    policy allows everything, so the key policy still decides (an explicit Deny binds it,
//    and a key policy that no longer names the account locks it out, as on AWS).
// Credentials are configuration, never state: they are not written to the state folder.
import { rootArn } from './arn.js';
import { InputError } from '../../src/util/errors.js';
import { KmsError } from './errors.js';
import { checkPolicy, parsePolicy, type PolicyDocument } from './policy.js';

export interface AccessKeyEntry {
  secretAccessKey: string;
  /** Defaults to the server's account. */
  accountId?: string;
  /** Absent: the account administrator. */
  roleName?: string;
  /** The assumed-role session name; defaults to the access key id. */
  sessionName?: string;
  /** The role's attached (identity) policies, as one document. */
  iamPolicy?: PolicyDocument | string;
  /** When set, requests must carry this X-Amz-Security-Token (temporary credentials). */
  sessionToken?: string;
}

export interface CredentialOptions {
  /** The secret that signs for any access key not listed; null refuses unlisted keys. Default "test". */
  anyAccessKeySecret?: string | null;
  accessKeys?: Record<string, AccessKeyEntry>;
}

export interface Caller {
  kind: 'admin' | 'role';
  accessKeyId: string;
  accountId: string;
  /** The principal as AWS names it in AccessDenied messages and CloudTrail. */
  principalArn: string;
  /** `arn:aws:iam::<acct>:role/<name>` for role callers (what key policies name). */
  roleArn?: string;
  roleName?: string;
  /** The caller's identity policy; the administrator's allows everything. */
  identityPolicy: PolicyDocument;
}

const ADMIN_POLICY: PolicyDocument = { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const ACCOUNT = /^\d{12}$/;

export class CallerTable {
  private readonly keys = new Map<string, AccessKeyEntry>();
  private readonly anySecret: string | null;

  constructor(
    private readonly defaultAccount: string,
    options: CredentialOptions = {},
  ) {
    if (!ACCOUNT.test(defaultAccount)) throw new InputError(`account id ${defaultAccount}: expected exactly 12 digits`);
    this.anySecret = options.anyAccessKeySecret === undefined ? 'test' : options.anyAccessKeySecret;
    for (const [id, entry] of Object.entries(options.accessKeys ?? {})) this.add(id, entry);
  }

  add(accessKeyId: string, entry: AccessKeyEntry): void {
    if (!accessKeyId || /[/\s]/.test(accessKeyId)) throw new InputError(`access key id '${accessKeyId}': expected no '/' or spaces`);
    if (!entry.secretAccessKey) throw new InputError(`access key ${accessKeyId}: expected a non-empty secret`);
    if (entry.accountId !== undefined && !ACCOUNT.test(entry.accountId)) {
      throw new InputError(`access key ${accessKeyId}: account id ${entry.accountId}: expected exactly 12 digits`);
    }
    if (entry.roleName !== undefined && !/^[\w+=,.@-]{1,64}$/.test(entry.roleName)) {
      throw new InputError(`access key ${accessKeyId}: role name '${entry.roleName}': expected 1-64 of [A-Za-z0-9+=,.@_-]`);
    }
    if (entry.iamPolicy !== undefined) {
      // Checked once here, so a bad role policy is the caller's mistake now, not a 400 on every request.
      try {
        const doc = typeof entry.iamPolicy === 'string' ? parsePolicy(entry.iamPolicy, 'identity') : checkPolicy(entry.iamPolicy, 'identity');
        entry = { ...entry, iamPolicy: doc };
      } catch (err) {
        if (err instanceof KmsError) throw new InputError(`access key ${accessKeyId}: IAM policy: ${err.message}`);
        throw err;
      }
    }
    this.keys.set(accessKeyId, entry);
  }

  /** The secret a request signed by this access key must use, or undefined if it is unknown. */
  secretFor(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId)?.secretAccessKey ?? this.anySecret ?? undefined;
  }

  /** Whether a session token on the request is acceptable for this key. */
  sessionTokenOk(accessKeyId: string, token: string | undefined): boolean {
    const required = this.keys.get(accessKeyId)?.sessionToken;
    return required === undefined || required === token;
  }

  /** The caller behind a verified access key. */
  callerFor(accessKeyId: string): Caller {
    const entry = this.keys.get(accessKeyId);
    const accountId = entry?.accountId ?? (entry === undefined && ACCOUNT.test(accessKeyId) ? accessKeyId : this.defaultAccount);
    if (!entry?.roleName) {
      return { kind: 'admin', accessKeyId, accountId, principalArn: rootArn(accountId), identityPolicy: ADMIN_POLICY };
    }
    const session = entry.sessionName ?? accessKeyId;
    const iam = entry.iamPolicy as PolicyDocument | undefined; // parsed by add()
    return {
      kind: 'role',
      accessKeyId,
      accountId,
      roleName: entry.roleName,
      roleArn: `arn:aws:iam::${accountId}:role/${entry.roleName}`,
      principalArn: `arn:aws:sts::${accountId}:assumed-role/${entry.roleName}/${session}`,
      identityPolicy: iam ?? { Statement: [] },
    };
  }
}
