// How the simulated nodes reach AWS KMS. The simulator does not pick a backend: it is handed
// a KmsAccess (tests build one on the embedded KMS; the CLI builds one from cluster.json;
// src/kms backends can adapt theirs), and asks it for one KMSClient per node, signing as
// that node's instance role, so the KMS decides per role exactly as AWS would (KMS-3, KMS-8).
import { randomBytes } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { InputError } from '../../src/util/errors.js';
import type { EmbeddedKms, PolicyDocument } from '../kms/index.js';
import type { NodeConfig } from './model.js';

export interface KmsNodeIdentity {
  name: string;
  roleName: string;
}

export interface KmsAccess {
  /** Where KMS answers (for messages and logs). */
  endpoint: string;
  /** The default region clients are made for. */
  region: string;
  /**
   * A client that signs as `node`'s instance role. `region`, when given, is the region a
   * command names (set-mode's --aws-region, a backup's CMK region); an access serving one
   * region may ignore it.
   */
  clientFor(node: KmsNodeIdentity, region?: string): KMSClient;
}

/** The IAM policy a node's role carries, from its cluster.json flags. */
export function rolePolicy(node: NodeConfig): PolicyDocument {
  const actions: string[] = [];
  if (node.role.allowsGenerateDataKey) actions.push('kms:GenerateDataKey');
  if (node.role.allowsDecrypt) actions.push('kms:Decrypt');
  return { Version: '2012-10-17', Statement: actions.length ? [{ Effect: 'Allow', Action: actions, Resource: '*' }] : [] };
}

export interface EmbeddedAccessOptions {
  /** SDK attempts per call (default 3: throttling and 5xx are retried, access errors are not). */
  maxAttempts?: number;
}

/**
 * A KmsAccess on an embedded KMS: one access key per node, mapped to the node's role with
 * the IAM policy its cluster.json flags describe. Credentials are made fresh each time (they
 * are configuration of this process, never written anywhere). Call again after a node's role
 * changes.
 */
export function embeddedKmsAccess(kms: EmbeddedKms, nodes: readonly NodeConfig[], o: EmbeddedAccessOptions = {}): KmsAccess {
  const creds = new Map<string, { accessKeyId: string; secretAccessKey: string }>();
  for (const n of nodes) {
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    kms.addRoleCredentials(accessKeyId, secretAccessKey, n.role.name, rolePolicy(n), { sessionName: `i-${randomBytes(8).toString('hex').slice(0, 17)}` });
    creds.set(n.name, { accessKeyId, secretAccessKey });
  }
  return {
    endpoint: kms.endpoint,
    region: kms.region,
    clientFor(node, region) {
      const c = creds.get(node.name);
      if (!c) throw new InputError(`node ${node.name}: no KMS credentials were set up for it`);
      return new KMSClient({ endpoint: kms.endpoint, region: region ?? kms.region, credentials: c, maxAttempts: o.maxAttempts ?? 3 });
    },
  };
}

/** A KmsAccess on any endpoint, every node signing with the same credentials (the endpoint's policy decides). */
export function endpointKmsAccess(url: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): KmsAccess {
  return {
    endpoint: url,
    region,
    clientFor: (_node, r) => new KMSClient({ endpoint: url, region: r ?? region, credentials, maxAttempts: 3 }),
  };
}

/** What a failed KMS call said, the way logs and messages need it. */
export interface KmsFailure {
  code: string;
  message: string;
  status?: number;
  requestId?: string;
}

export function describeKmsError(err: unknown): KmsFailure {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  const net = e?.code && /^E[A-Z]+$/.test(e.code) ? e.code : undefined;
  return {
    code: net ?? (e?.name && e.name !== 'Error' ? e.name : 'UnknownError'),
    message: (e?.message || String(err)).replace(/[\r\n]+/g, ' '),
    ...(e?.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
    ...(e?.$metadata?.requestId !== undefined ? { requestId: e.$metadata.requestId } : {}),
  };
}

// --- the CMK ARN, checked part by part (KMS-4) ---

const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc'];
const REGION = /^([a-z]+-){2,3}\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MRK = /^mrk-[0-9a-f]{32}$/;

export interface CmkArn {
  arn: string;
  partition: string;
  region: string;
  account: string;
  keyId: string;
}

/** Parses `arn:aws:kms:<region>:<12 digits>:key/<uuid>`; an InputError names the first bad part. */
export function parseCmkArn(arn: string): CmkArn {
  const bad = (why: string): never => {
    throw new InputError(`--key-arn ${arn}: ${why}`);
  };
  const parts = arn.split(':');
  if (parts.length !== 6) bad(`expected 6 ':'-separated parts (arn:aws:kms:<region>:<account>:key/<key-id>), found ${parts.length}`);
  const [prefix, partition, service, region, account, resource] = parts as [string, string, string, string, string, string];
  if (prefix !== 'arn') bad(`expected it to start with 'arn:', found '${prefix}:'`);
  if (!PARTITIONS.includes(partition)) bad(`partition '${partition}': expected one of ${PARTITIONS.join(', ')}`);
  if (service !== 'kms') bad(`service '${service}': expected 'kms'`);
  if (!REGION.test(region)) bad(`region '${region}': expected an AWS region name such as us-west-2`);
  if (!/^\d+$/.test(account)) bad(`account '${account}': expected exactly 12 digits`);
  if (account.length !== 12) bad(`account '${account}' has ${account.length} digits: expected exactly 12`);
  if (resource.startsWith('alias/')) bad(`'${resource}' is an alias: expected a key ARN (key/<key-id>); Tableau needs the key's own ARN`);
  if (!resource.startsWith('key/')) bad(`resource '${resource}': expected key/<key-id>`);
  const keyId = resource.slice(4);
  if (!UUID.test(keyId) && !MRK.test(keyId)) {
    const shape = /^[^-]{8}-[^-]{4}-[^-]{4}-[^-]{4}-[^-]{12}$/.test(keyId);
    const nonHex = [...new Set(keyId.replace(/-/g, '').replace(/[0-9a-f]/g, ''))];
    if (shape && nonHex.length > 0) {
      bad(`key id '${keyId}': expected 32 lowercase hexadecimal digits in 8-4-4-4-12 groups; '${nonHex.join("', '")}' ${nonHex.length === 1 ? 'is' : 'are'} not hexadecimal`);
    }
    bad(`key id '${keyId}': expected a UUID (8-4-4-4-12 lowercase hexadecimal digits) or mrk- and 32 hexadecimal digits`);
  }
  return { arn, partition, region, account, keyId };
}
