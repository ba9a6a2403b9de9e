// KMS backends behind one client code path (@aws-sdk/client-kms with an endpoint override):
//   embedded    cryptgate's own KMS in this process on a free loopback port (the default)
//   moto        moto_server started from a venv on a free loopback port (./moto.ts)
//   localstack  LocalStack 4.14.0 in Docker through testcontainers (./localstack.ts)
//   <url>       any http(s):// endpoint: a running moto_server, LocalStack, `cryptgate kms
//               serve`, or real AWS (https://kms.<region>.amazonaws.com)
// Each says what it is (`description`, which every report carries) and what it can
// reproduce of real KMS (`capabilities`, research/kms.md §6; checked by `cryptgate kms probe`).
import type { KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../simulators/kms/index.js';
import { EnvironmentError, InputError } from '../util/errors.js';
import { toolInfo } from '../util/package-info.js';
import {
  AWS_CAPABILITIES,
  EMBEDDED_CAPABILITIES,
  LOCALSTACK_CAPABILITIES,
  MOTO_CAPABILITIES,
  type KmsCapabilities,
} from './capabilities.js';
import { endpointUrl } from './backend-spec.js';
import { envCredentials, kmsClient, TEST_CREDENTIALS, type KmsCredentials } from './client.js';
import { kmsFailureKind } from './errors.js';
import { httpGet } from './http-get.js';
import { startLocalstack } from './localstack.js';
import { startMotoServer } from './moto.js';
import { AWS_REGION } from '../evidence/aws-arn.js';

/** `embedded`, `moto`, `localstack`, or an endpoint URL. */
export type KmsBackendName = 'embedded' | 'moto' | 'localstack' | (string & {});

/** What actually answers: an endpoint URL is identified when it can be. */
export type KmsBackendKind = 'embedded' | 'moto' | 'localstack' | 'aws' | 'unidentified';

export interface KmsBackend {
  readonly name: KmsBackendName;
  readonly kind: KmsBackendKind;
  /** e.g. "embedded KMS (cryptgate 0.1.0)", "moto_server 5.2.5 at http://127.0.0.1:40121". */
  readonly description: string;
  readonly endpoint: string;
  readonly region: string;
  readonly capabilities: Readonly<KmsCapabilities>;
  /** A client for this backend; without credentials: the backend's default caller (see startKmsBackend). */
  client(credentials?: KmsCredentials): KMSClient;
  /** Stops what this backend started (embedded server, moto_server, container); attaching to a URL starts nothing. */
  stop(): Promise<void>;
  /** The in-process server (fault knobs, counters, role credentials) when `embedded`. */
  readonly embedded?: EmbeddedKms;
}

export interface KmsBackendOptions {
  /** Default: $AWS_REGION, $AWS_DEFAULT_REGION, the region in an AWS endpoint's host name, else us-east-1. */
  region?: string | undefined;
  /** Where AWS_*, MOTO_SERVER, LOCALSTACK_AUTH_TOKEN… are read. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Client retries: attempts in all. Default 4. */
  maxAttempts?: number | undefined;
  /** Client: per-attempt time-out in ms. Default 10 s. */
  timeoutMs?: number | undefined;
  /** moto_server / LocalStack start-up limit in ms. */
  startTimeoutMs?: number | undefined;
  /** embedded: keep keys in this folder. */
  stateDir?: string | undefined;
  /** embedded: the administrator account. Default 000000000000. */
  accountId?: string | undefined;
  /** moto: folders whose .venv/bin/moto_server is tried. */
  motoSearchDirs?: string[] | undefined;
  /** localstack: the image. Default localstack/localstack:4.14.0. */
  localstackImage?: string | undefined;
  /** localstack: replaces the Docker check (tests). */
  dockerProbe?: (() => Promise<void>) | undefined;
  log?: ((line: string) => void) | undefined;
}

function regionFor(options: KmsBackendOptions, env: Record<string, string | undefined>, hostRegion?: string): string {
  const region = options.region ?? hostRegion ?? (env['AWS_REGION'] || undefined) ?? (env['AWS_DEFAULT_REGION'] || undefined) ?? 'us-east-1';
  if (!AWS_REGION.test(region)) throw new InputError(`region ${region}: expected a region name such as us-east-1`);
  return region;
}

/**
 * Runs `use` with a client of a backend started for one job (signing or verifying a report),
 * then destroys the client and stops the backend, whatever happens. The region defaults to
 * the one in `keyId` when that is a key ARN.
 */
export async function withKmsClient<T>(
  spec: string,
  o: { keyId?: string | undefined; region?: string | undefined; stateDir?: string | undefined },
  use: (client: KMSClient, backend: KmsBackend) => Promise<T>,
): Promise<T> {
  const region = o.region ?? (o.keyId !== undefined ? /^arn:[\w-]+:kms:([a-z0-9-]+):/.exec(o.keyId)?.[1] : undefined);
  const backend = await startKmsBackend(spec, { stateDir: o.stateDir, region });
  try {
    const client = backend.client();
    try {
      return await use(client, backend);
    } finally {
      client.destroy();
    }
  } finally {
    await backend.stop();
  }
}

/** Starts (or attaches to) a KMS backend. InputError for a bad spec (exit 2), EnvironmentError when it cannot be started or reached (exit 3). */
export async function startKmsBackend(spec: string, options: KmsBackendOptions = {}): Promise<KmsBackend> {
  const env = options.env ?? process.env;
  const trimmed = spec.trim();
  const clientOpts = { maxAttempts: options.maxAttempts, timeoutMs: options.timeoutMs };
  const make = (endpoint: string, region: string, fallback: KmsCredentials | undefined) => (credentials?: KmsCredentials) =>
    kmsClient({ endpoint, region, credentials: credentials ?? fallback, ...clientOpts });

  switch (trimmed) {
    case 'embedded': {
      const region = regionFor(options, env);
      const kms = await startEmbeddedKms({
        port: 0,
        region,
        ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
        ...(options.accountId !== undefined ? { accountId: options.accountId } : {}),
      });
      return {
        name: 'embedded',
        kind: 'embedded',
        description: `embedded KMS (cryptgate ${toolInfo().version})`,
        endpoint: kms.endpoint,
        region,
        capabilities: EMBEDDED_CAPABILITIES,
        client: make(kms.endpoint, region, TEST_CREDENTIALS),
        stop: () => kms.stop(),
        embedded: kms,
      };
    }
    case 'moto': {
      const region = regionFor(options, env);
      const moto = await startMotoServer({
        env,
        ...(options.motoSearchDirs !== undefined ? { searchDirs: options.motoSearchDirs } : {}),
        ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
        ...(options.log !== undefined ? { log: options.log } : {}),
      });
      return {
        name: 'moto',
        kind: 'moto',
        description: `moto_server ${moto.version ?? '(version unknown)'} at ${moto.endpoint}`,
        endpoint: moto.endpoint,
        region,
        capabilities: MOTO_CAPABILITIES,
        client: make(moto.endpoint, region, TEST_CREDENTIALS),
        stop: () => moto.stop(),
      };
    }
    case 'localstack': {
      const region = regionFor(options, env);
      const ls = await startLocalstack({
        env,
        ...(options.localstackImage !== undefined ? { image: options.localstackImage } : {}),
        ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
        ...(options.dockerProbe !== undefined ? { dockerProbe: options.dockerProbe } : {}),
        ...(options.log !== undefined ? { log: options.log } : {}),
      });
      return {
        name: 'localstack',
        kind: 'localstack',
        description: `LocalStack ${ls.version} (testcontainers)`,
        endpoint: ls.endpoint,
        region,
        capabilities: LOCALSTACK_CAPABILITIES,
        client: make(ls.endpoint, region, TEST_CREDENTIALS),
        stop: () => ls.stop(),
      };
    }
    default:
      return attachEndpoint(trimmed, options, env, clientOpts);
  }
}

const AWS_HOST = /^kms(?:-fips)?\.([a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|api\.aws)$/;

async function attachEndpoint(
  spec: string,
  options: KmsBackendOptions,
  env: Record<string, string | undefined>,
  clientOpts: { maxAttempts: number | undefined; timeoutMs: number | undefined },
): Promise<KmsBackend> {
  const url = endpointUrl(spec);
  const endpoint = url.origin + (url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''));
  const awsHost = AWS_HOST.exec(url.hostname);
  const region = regionFor(options, env, awsHost?.[1]);
  const identity = awsHost
    ? { kind: 'aws' as const, label: 'AWS KMS', capabilities: AWS_CAPABILITIES }
    : await identify(endpoint);
  // Real AWS: the SDK's own chain (environment, profile, instance role) when the environment has no keys.
  const fallback = envCredentials(env) ?? (identity.kind === 'aws' ? undefined : TEST_CREDENTIALS);
  return {
    name: spec,
    kind: identity.kind,
    description: `endpoint ${endpoint} (${identity.label})`,
    endpoint,
    region,
    capabilities: identity.capabilities,
    client: (credentials?: KmsCredentials) => kmsClient({ endpoint, region, credentials: credentials ?? fallback, ...clientOpts }),
    stop: () => Promise.resolve(),
  };
}

interface Identity {
  kind: KmsBackendKind;
  label: string;
  capabilities: Readonly<KmsCapabilities>;
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const { status, text } = await httpGet(url, 5000);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, body };
}

/**
 * Which KMS answers at `endpoint`, from the admin paths each emulator has:
 * cryptgate's /_cryptgate/health, LocalStack's /_localstack/health, moto's /moto-api/.
 * Connection failures are EnvironmentErrors (the backend cannot be reached).
 */
export async function identify(endpoint: string): Promise<Identity> {
  let first;
  try {
    first = await getJson(`${endpoint}/_cryptgate/health`);
  } catch (err) {
    const kind = kmsFailureKind(err);
    const code = kind === 'timeout' ? 'no answer within 5 s' : ((err as { code?: string }).code ?? (err as Error).message);
    throw new EnvironmentError(`KMS endpoint ${endpoint} unreachable (${code}): start it, or use --kms embedded (built in) or --kms moto`);
  }
  if (first.status === 200 && (first.body as { status?: unknown })?.status === 'ok') {
    return { kind: 'embedded', label: 'cryptgate embedded KMS', capabilities: EMBEDDED_CAPABILITIES };
  }
  try {
    const ls = await getJson(`${endpoint}/_localstack/health`);
    const body = ls.body as { version?: unknown; services?: unknown } | undefined;
    if (ls.status === 200 && body && typeof body === 'object' && 'services' in body) {
      const version = typeof body.version === 'string' ? ` ${body.version}` : '';
      return { kind: 'localstack', label: `LocalStack${version}`, capabilities: LOCALSTACK_CAPABILITIES };
    }
    const moto = await httpGet(`${endpoint}/moto-api/`, 5000);
    if (moto.status === 200 && /moto/i.test(moto.text)) return { kind: 'moto', label: 'moto_server', capabilities: MOTO_CAPABILITIES };
  } catch {
    // answered once already: treat as unidentified
  }
  return {
    kind: 'unidentified',
    label: "unidentified KMS: capabilities assumed to be real AWS's; `cryptgate kms probe` shows what it does",
    capabilities: AWS_CAPABILITIES,
  };
}
