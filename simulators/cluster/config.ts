// cluster.json: reading (with a clear line for every malformed field), writing (atomic),
// and the shape of a new cluster.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { writeFileAtomic } from './fs-safe.js';
import {
  CLUSTER_FORMAT,
  LAYOUT,
  LICENCES,
  PLATFORMS,
  SERVICES,
  type ClusterConfig,
  type KmsBackendConfig,
  type Licence,
  type NodeConfig,
  type Platform,
  type ServiceName,
  type ServiceStatus,
} from './model.js';
import { AWS_REGION } from '../../src/evidence/aws-arn.js';

/** Site and extract names: what a folder/file name can safely carry on every platform. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.()-]{0,99}$/;
const ROLE = /^[\w+=,.@-]{1,64}$/;

export function checkName(kind: 'site' | 'extract', name: string): void {
  if (!NAME.test(name) || name.endsWith('.') || name.endsWith(' ')) {
    throw new InputError(
      `${kind} name '${name}': expected 1-100 letters, digits, spaces or _ . ( ) -, starting with a letter or digit and not ending with '.' or a space`,
    );
  }
}

export function checkRegion(region: string, what = 'region'): void {
  if (!AWS_REGION.test(region) || region.length > 32) throw new InputError(`${what} '${region}': expected an AWS region name such as us-west-2`);
}

export function checkRoleName(role: string): void {
  if (!ROLE.test(role)) throw new InputError(`role name '${role}': expected 1-64 of A-Z a-z 0-9 + = , . @ _ -`);
}

export interface InitOptions {
  nodes?: number;
  licence?: Licence;
  platform?: Platform;
  region?: string;
  /** Role name per node; default `tableau-server-node<N>`. A single string names one role for all nodes. */
  roleName?: string;
  /** Whether the role policies allow GenerateDataKey / Decrypt on the CMK (default both). */
  allowGenerateDataKey?: boolean;
  allowDecrypt?: boolean;
  /** Where the CLI reaches AWS KMS; default an embedded KMS kept in `<dir>/aws-kms`. */
  kmsBackend?: KmsBackendConfig;
}

function service(state: ServiceStatus['state']): ServiceStatus {
  return { state };
}

export function newClusterConfig(o: InitOptions, now: Date): ClusterConfig {
  const n = o.nodes ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InputError(`--nodes ${n}: expected a whole number from 1 to 64`);
  const licence = o.licence ?? 'none';
  if (!LICENCES.includes(licence)) throw new InputError(`--licence ${licence}: expected one of ${LICENCES.join(', ')}`);
  const platform = o.platform ?? 'ec2';
  if (!PLATFORMS.includes(platform)) throw new InputError(`--platform ${platform}: expected one of ${PLATFORMS.join(', ')}`);
  const region = o.region ?? 'us-east-1';
  checkRegion(region, '--region');
  if (o.roleName !== undefined) checkRoleName(o.roleName);
  const nodes: NodeConfig[] = [];
  for (let i = 1; i <= n; i++) {
    const services = Object.fromEntries(SERVICES.map((s) => [s, service('Running')])) as Record<ServiceName, ServiceStatus>;
    nodes.push({
      name: `node${i}`,
      platform,
      role: {
        name: o.roleName ?? `tableau-server-node${i}`,
        allowsGenerateDataKey: o.allowGenerateDataKey ?? true,
        allowsDecrypt: o.allowDecrypt ?? true,
      },
      adminController: i === 1,
      services,
    });
  }
  return {
    format: CLUSTER_FORMAT,
    clusterId: randomUUID(),
    createdAt: isoSeconds(now),
    licence,
    region,
    initialNode: 'node1',
    nodes,
    sites: ['Default'],
    server: 'running',
    nextJobId: 1,
    kmsBackend: o.kmsBackend ?? { kind: 'embedded', stateDir: LAYOUT.defaultKmsState },
  };
}

/** `2019-05-29T23:46:54Z`, the form `tsm security kms status` shows. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function configPath(dir: string): string {
  return join(dir, LAYOUT.cluster);
}

export function writeConfig(dir: string, config: ClusterConfig): void {
  writeFileAtomic(configPath(dir), `${JSON.stringify(config, null, 2)}\n`, 0o644);
}

export function readConfig(dir: string): ClusterConfig {
  const file = configPath(dir);
  if (!existsSync(file)) throw new InputError(`${dir}: not a simulated cluster (no ${LAYOUT.cluster}); run 'cryptgate sim ${dir} init' first`);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file}: expected JSON: ${(err as Error).message}`);
  }
  return checkConfig(file, doc);
}

function fail(file: string, field: string, expected: string): never {
  throw new InputError(`${file}: ${field}: expected ${expected}`);
}

function checkConfig(file: string, doc: unknown): ClusterConfig {
  const c = doc as Partial<ClusterConfig> | null;
  if (!c || typeof c !== 'object') fail(file, '(document)', 'a JSON object');
  if (c.format !== CLUSTER_FORMAT) fail(file, 'format', `"${CLUSTER_FORMAT}"`);
  if (typeof c.clusterId !== 'string') fail(file, 'clusterId', 'a string');
  if (!LICENCES.includes(c.licence as Licence)) fail(file, 'licence', LICENCES.join(' or '));
  if (typeof c.region !== 'string' || !AWS_REGION.test(c.region)) fail(file, 'region', 'an AWS region name');
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) fail(file, 'nodes', 'a non-empty array');
  c.nodes.forEach((n, i) => {
    const at = `nodes[${i}]`;
    if (typeof n?.name !== 'string') fail(file, `${at}.name`, 'a string');
    if (!PLATFORMS.includes(n.platform)) fail(file, `${at}.platform`, PLATFORMS.join(', '));
    if (typeof n.role?.name !== 'string' || typeof n.role.allowsDecrypt !== 'boolean' || typeof n.role.allowsGenerateDataKey !== 'boolean') {
      fail(file, `${at}.role`, '{name, allowsGenerateDataKey, allowsDecrypt}');
    }
    if (n.role.kmsKeyArn !== undefined && (typeof n.role.kmsKeyArn !== 'string' || !n.role.kmsKeyArn.startsWith('arn:'))) fail(file, `${at}.role.kmsKeyArn`, 'a KMS key ARN');
    for (const s of SERVICES) {
      const st = n.services?.[s]?.state;
      if (st !== 'Running' && st !== 'Error' && st !== 'Stopped') fail(file, `${at}.services.${s}.state`, 'Running, Error or Stopped');
    }
  });
  if (typeof c.initialNode !== 'string' || !c.nodes.some((n) => n.name === c.initialNode)) fail(file, 'initialNode', 'the name of a node');
  if (!Array.isArray(c.sites) || c.sites.some((s) => typeof s !== 'string')) fail(file, 'sites', 'an array of site names');
  if (c.server !== 'running' && c.server !== 'stopped') fail(file, 'server', 'running or stopped');
  if (!Number.isInteger(c.nextJobId)) fail(file, 'nextJobId', 'an integer');
  const b = c.kmsBackend;
  if (!b || !((b.kind === 'embedded' && typeof b.stateDir === 'string') || (b.kind === 'endpoint' && typeof b.url === 'string'))) {
    fail(file, 'kmsBackend', '{kind:"embedded",stateDir} or {kind:"endpoint",url}');
  }
  return c as ClusterConfig;
}
