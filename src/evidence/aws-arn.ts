// KMS key ARNs as evidence and `set-mode aws --key-arn` name them (KMS-4):
// `arn:<partition>:kms:<region>:<account>:key/<key-id>`. Reading one never throws: a finding
// or the command's error says what is wrong with it (the seed's own example has a 14-digit
// account and a key id with non-hex letters, and a reviewer should read why).

export interface KmsKeyArn {
  arn: string;
  partition: string;
  region: string;
  account: string;
  keyId: string;
}

const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc'];
/** An AWS region name (us-west-2, ap-southeast-1, us-gov-west-1): the one pattern every reader and command checks. */
export const AWS_REGION = /^([a-z]+-){2,3}\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MRK = /^mrk-[0-9a-f]{32}$/;

/** The key ARN's parts, or what is wrong with it. Pure. */
export function readKmsKeyArn(arn: string): { ok: true; value: KmsKeyArn } | { ok: false; problem: string } {
  const bad = (problem: string) => ({ ok: false as const, problem });
  const parts = arn.split(':');
  if (parts.length !== 6) return bad(`expected 6 ':'-separated parts (arn:aws:kms:<region>:<account>:key/<key-id>), found ${parts.length}`);
  const [prefix, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  if (prefix !== 'arn') return bad(`expected it to start with 'arn:', found '${prefix}:'`);
  if (!PARTITIONS.includes(partition)) return bad(`partition '${partition}': expected one of ${PARTITIONS.join(', ')}`);
  if (service !== 'kms') return bad(`service '${service}': expected 'kms'`);
  if (!AWS_REGION.test(region)) return bad(`region '${region}': expected an AWS region name such as us-west-2`);
  if (!/^\d+$/.test(account)) return bad(`account '${account}': expected exactly 12 digits`);
  if (account.length !== 12) return bad(`account '${account}' has ${account.length} digits: expected exactly 12`);
  if (resource.startsWith('alias/')) return bad(`'${resource}' is an alias: expected the key's own ARN (key/<key-id>)`);
  if (!resource.startsWith('key/')) return bad(`resource '${resource}': expected key/<key-id>`);
  const keyId = resource.slice(4);
  if (!UUID.test(keyId) && !MRK.test(keyId)) {
    const nonHex = [...new Set(keyId.replace(/-/g, '').replace(/[0-9a-f]/g, ''))];
    const notHex = nonHex.length > 0 ? `; '${nonHex.join("', '")}' ${nonHex.length === 1 ? 'is' : 'are'} not hexadecimal` : '';
    // The UUID's shape with letters that are not hexadecimal (the seed's own example): say just that.
    if (/^[^-]{8}-[^-]{4}-[^-]{4}-[^-]{4}-[^-]{12}$/.test(keyId) && notHex) return bad(`key id '${keyId}': expected 32 lowercase hexadecimal digits in 8-4-4-4-12 groups${notHex}`);
    return bad(`key id '${keyId}': expected a UUID (8-4-4-4-12 lowercase hexadecimal digits) or mrk- and 32 hexadecimal digits${notHex}`);
  }
  return { ok: true, value: { arn, partition, region, account, keyId } };
}

/** Looks like a KMS key ARN (not an alias, not a wildcard): what a cross-check compares. */
export function isKmsKeyArn(text: string): boolean {
  return /^arn:[\w-]+:kms:[^:]*:[^:]*:key\/[^*?]+$/.test(text);
}
