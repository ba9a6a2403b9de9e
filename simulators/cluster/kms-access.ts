// How the simulated nodes reach AWS KMS. The simulator does not pick a backend: it is handed
// a KmsAccess (tests build one on the embedded KMS; the CLI builds one from cluster.json;
// src/kms backends can adapt theirs), and asks it for one KMSClient per node, signing as
// that node's instance role, so the KMS decides per role exactly as AWS would (KMS-3, KMS-8).
import { randomBytes } from 'node:crypto';
import type { KMSClient } from '@aws-sdk/client-kms';
import { kmsClient } from '../../src/kms/client.js';
import { kmsFailureKind } from '../../src/kms/errors.js';
import { InputError } from '../../src/util/errors.js';
import type { EmbeddedKms, PolicyDocument } from '../kms/index.js';
import type { NodeConfig } from './model.js';
import { readKmsKeyArn, type KmsKeyArn } from '../../src/evidence/aws-arn.js';

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

/**
 * The IAM policy a node's role carries, from its cluster.json flags: the allowed actions on
 * the CMK the role is scoped to (KMS-3), or on any key ("*") while it is scoped to none.
 */
export function rolePolicy(node: NodeConfig): PolicyDocument {
  const actions: string[] = [];
  if (node.role.allowsGenerateDataKey) actions.push('kms:GenerateDataKey');
  if (node.role.allowsDecrypt) actions.push('kms:Decrypt');
  return { Version: '2012-10-17', Statement: actions.length ? [{ Effect: 'Allow', Action: actions, Resource: node.role.kmsKeyArn ?? '*' }] : [] };
}

/**
 * How the nodes' clients behave: src/kms/client.ts's one client, the SDK's standard retries
 * (throttling, 5xx, time-outs and broken connections are retried with backoff; access
 * errors are not) and a bounded wait per attempt, so a hung KMS fails instead of hanging.
 */
export interface EmbeddedAccessOptions {
  /** SDK attempts per call, the first included. Default 3. */
  maxAttempts?: number;
  /** Per attempt: how long to wait for an answer. Default 10 s (src/kms/client.ts). */
  timeoutMs?: number;
}

/**
 * A KmsAccess on an embedded KMS: one access key per node, mapped to the node's role with
 * the IAM policy its cluster.json flags describe. Credentials are made fresh each time (they
 * are configuration of this process, never written anywhere). Given a list, the roles are
 * fixed when the access is made (call again after a node's role changes); given a function
 * (e.g. `() => readConfig(dir).nodes`), each new client looks the node up again and maps a
 * fresh access key when its role or policy changed, so `SimCluster.setNodeRole` takes effect
 * at the node's next KMS call on a cluster kept open.
 */
export function embeddedKmsAccess(kms: EmbeddedKms, nodes: readonly NodeConfig[] | (() => readonly NodeConfig[]), o: EmbeddedAccessOptions = {}): KmsAccess {
  const creds = new Map<string, { signature: string; accessKeyId: string; secretAccessKey: string }>();
  const register = (n: NodeConfig): { accessKeyId: string; secretAccessKey: string } => {
    const policy = rolePolicy(n);
    const signature = `${n.role.name}\0${JSON.stringify(policy)}`;
    const known = creds.get(n.name);
    if (known && known.signature === signature) return known;
    const accessKeyId = `AKIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString('base64');
    kms.addRoleCredentials(accessKeyId, secretAccessKey, n.role.name, policy, { sessionName: `i-${randomBytes(8).toString('hex').slice(0, 17)}` });
    const entry = { signature, accessKeyId, secretAccessKey };
    creds.set(n.name, entry);
    return entry;
  };
  const live = typeof nodes === 'function' ? nodes : undefined;
  if (!live) for (const n of nodes as readonly NodeConfig[]) register(n);
  return {
    endpoint: kms.endpoint,
    region: kms.region,
    clientFor(node, region) {
      const n = live?.().find((x) => x.name === node.name);
      const c = n ? register(n) : creds.get(node.name);
      if (!c) throw new InputError(`node ${node.name}: no KMS credentials were set up for it`);
      return kmsClient({ endpoint: kms.endpoint, region: region ?? kms.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, maxAttempts: o.maxAttempts ?? 3, timeoutMs: o.timeoutMs });
    },
  };
}

/** A KmsAccess on any endpoint, every node signing with the same credentials (the endpoint's policy decides). */
export function endpointKmsAccess(url: string, region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, o: EmbeddedAccessOptions = {}): KmsAccess {
  return {
    endpoint: url,
    region,
    clientFor: (_node, r) => kmsClient({ endpoint: url, region: r ?? region, credentials, maxAttempts: o.maxAttempts ?? 3, timeoutMs: o.timeoutMs }),
  };
}

/** What a failed KMS call said, the way logs and messages need it. */
export interface KmsFailure {
  code: string;
  message: string;
  status?: number;
  requestId?: string;
}

/**
 * The code and one-line message of a failed call. When no KMS answered (connection refused,
 * DNS, time-out) or it kept failing (throttling, 5xx after the retries), the message says so
 * and names `endpoint`: "KMS endpoint http://127.0.0.1:9 unreachable after 3 attempts (…)".
 */
export function describeKmsError(err: unknown, endpoint?: string): KmsFailure {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number } };
  const net = e?.code && /^E[A-Z]+$/.test(e.code) ? e.code : undefined;
  const raw = (e?.message || String(err)).replace(/[\r\n]+/g, ' ');
  const where = `KMS endpoint${endpoint ? ` ${endpoint}` : ''}`;
  const tries = (e?.$metadata?.attempts ?? 1) > 1 ? ` after ${e!.$metadata!.attempts} attempts` : '';
  const kind = kmsFailureKind(err);
  const message =
    kind === 'unreachable'
      ? `${where} unreachable${tries} (${raw})`
      : kind === 'timeout'
        ? `${where} did not answer in time${tries} (${raw || 'timed out'})`
        : kind === 'throttled' || kind === 'server-error'
          ? `${raw}${tries ? ` (${where} still failing${tries})` : ''}`
          : raw;
  return {
    code: net ?? (e?.name && e.name !== 'Error' ? e.name : 'UnknownError'),
    message,
    ...(e?.$metadata?.httpStatusCode !== undefined ? { status: e.$metadata.httpStatusCode } : {}),
    ...(e?.$metadata?.requestId !== undefined ? { requestId: e.$metadata.requestId } : {}),
  };
}

// --- the CMK ARN, checked part by part (KMS-4) ---

/** Parses `arn:aws:kms:<region>:<12 digits>:key/<uuid>`; an InputError names the first bad part. */
export function parseCmkArn(arn: string): KmsKeyArn {
  const r = readKmsKeyArn(arn);
  if (!r.ok) throw new InputError(`--key-arn ${arn}: ${r.problem}`);
  return r.value;
}
