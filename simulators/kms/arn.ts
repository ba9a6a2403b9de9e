// Key ids, key ARNs and alias ARNs: how KMS names things, and how a caller's KeyId string
// (id, key ARN, alias name or alias ARN) is read. Resolution against stored keys lives in
// key-store.ts; this module only parses.
import { KmsError, notFound } from './errors.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PARTITIONS = new Set(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc']);
const KMS_ARN = /^arn:([^:]+):kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/;
/** AWS's alias-name rule: `alias/` then letters, digits, `/_-`; at most 256 characters. */
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]+$/;

export const keyArn = (region: string, accountId: string, keyId: string): string =>
  `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
export const aliasArn = (region: string, accountId: string, aliasName: string): string =>
  `arn:aws:kms:${region}:${accountId}:${aliasName}`;
export const rootArn = (accountId: string): string => `arn:aws:iam::${accountId}:root`;

/** What a KeyId parameter names, before anything is looked up. */
export type KeyRef =
  | { kind: 'key'; keyId: string; accountId?: string; region?: string }
  | { kind: 'alias'; aliasName: string; accountId?: string; region?: string };

/**
 * Reads a KeyId parameter. A key ARN in another region than the request's is refused here
 * with NotFoundException("Invalid arn <region>"), as LocalStack (copying AWS) does: a
 * regional endpoint cannot see another region's keys.
 */
export function parseKeyRef(text: string, requestRegion: string): KeyRef {
  if (text.startsWith('arn:')) {
    const m = KMS_ARN.exec(text);
    if (!m || !PARTITIONS.has(m[1]!)) throw notFound(`Invalid arn ${text}`);
    const region = m[2]!;
    if (region !== requestRegion) throw notFound(`Invalid arn ${region}`);
    if (m[4] === 'alias') return { kind: 'alias', aliasName: `alias/${m[5]!}`, accountId: m[3]!, region };
    return { kind: 'key', keyId: m[5]!, accountId: m[3]!, region };
  }
  if (text.startsWith('alias/')) return { kind: 'alias', aliasName: text };
  return { kind: 'key', keyId: text };
}

/** Throws unless `name` is a valid customer alias name (not `alias/aws/…`, which AWS reserves). */
export function checkAliasName(name: string, field = 'aliasName'): void {
  if (name.length > 256 || !ALIAS_NAME.test(name)) {
    throw new KmsError(
      'ValidationException',
      `1 validation error detected: Value '${name}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`,
    );
  }
  if (name.startsWith('alias/aws/')) {
    // AWS reserves the prefix for its managed keys.
    throw new KmsError('InvalidAliasNameException', `Alias names beginning with alias/aws/ are reserved: ${name}`);
  }
}
