// `--kms localstack`: LocalStack in Docker through @testcontainers/localstack, pinned to
// localstack/localstack:4.14.0, the last image that starts without an auth token (newer
// ones exit with code 55 unless LOCALSTACK_AUTH_TOKEN is set; it is passed through when
// it is). testcontainers is imported only here and only when asked for, so the CLI starts
// fast and works where it is not installed.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import { httpGet } from './http-get.js';

export const LOCALSTACK_IMAGE = 'localstack/localstack:4.14.0';

export interface LocalstackOptions {
  env?: Record<string, string | undefined>;
  /** Default LOCALSTACK_IMAGE, or $CRYPTGATE_LOCALSTACK_IMAGE. */
  image?: string;
  /** How long the container may take to print "Ready". Default 120 s (testcontainers' own). */
  startTimeoutMs?: number;
  /** Checks that a container engine answers; throws if not. Default: testcontainers' runtime strategies. */
  dockerProbe?: () => Promise<void>;
  log?: (line: string) => void;
}

export interface LocalstackInstance {
  readonly endpoint: string;
  readonly image: string;
  /** From /_localstack/health, e.g. `4.14.0`; else the image tag. */
  readonly version: string;
  stop(): Promise<void>;
}

/** The places testcontainers looks for a Docker engine, for the error message. */
export function dockerPlacesLookedAt(env: Record<string, string | undefined> = process.env): string[] {
  const places: string[] = [];
  places.push(env['DOCKER_HOST'] ? `DOCKER_HOST=${env['DOCKER_HOST']}` : 'DOCKER_HOST (unset)');
  const props = join(homedir(), '.testcontainers.properties');
  if (existsSync(props)) places.push(props);
  places.push('/var/run/docker.sock');
  if (env['XDG_RUNTIME_DIR']) places.push(join(env['XDG_RUNTIME_DIR'], 'docker.sock'));
  places.push(join(homedir(), '.docker', 'run', 'docker.sock'), join(homedir(), '.docker', 'desktop', 'docker.sock'));
  let uid: number | undefined;
  try {
    uid = userInfo().uid;
  } catch {
    uid = undefined;
  }
  if (uid !== undefined && uid >= 0) places.push(`/run/user/${uid}/docker.sock`);
  return places;
}

export function noDockerError(places: string[], why?: string): EnvironmentError {
  return new EnvironmentError(
    `no Docker engine answers (looked at ${places.join(', ')})${why ? ` [${why}]` : ''}: LocalStack needs Docker; ` +
      'use --kms embedded, --kms moto, or --kms http://… for a LocalStack you run yourself',
  );
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 300);

function isModuleMissing(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startLocalstack(options: LocalstackOptions = {}): Promise<LocalstackInstance> {
  const env = options.env ?? process.env;
  const image = options.image ?? (env['CRYPTGATE_LOCALSTACK_IMAGE'] || LOCALSTACK_IMAGE);
  const places = dockerPlacesLookedAt(env);

  const probe =
    options.dockerProbe ??
    (async (): Promise<void> => {
      let tc: typeof import('testcontainers');
      try {
        tc = await import('testcontainers');
      } catch (err) {
        if (isModuleMissing(err)) throw new EnvironmentError('the testcontainers package is not installed: npm install testcontainers@11 @testcontainers/localstack@11');
        throw err;
      }
      await withTimeout(tc.getContainerRuntimeClient(), 20_000, 'the Docker engine');
    });
  try {
    await probe();
  } catch (err) {
    if (err instanceof EnvironmentError) throw err;
    const message = (err as Error)?.message ?? String(err);
    // testcontainers says "Could not find a working container runtime strategy" when nothing answers.
    throw noDockerError(places, /container runtime strategy/i.test(message) ? undefined : oneLine(message));
  }

  let mod: typeof import('@testcontainers/localstack');
  try {
    mod = await import('@testcontainers/localstack');
  } catch (err) {
    if (isModuleMissing(err)) throw new EnvironmentError('the @testcontainers/localstack package is not installed: npm install testcontainers@11 @testcontainers/localstack@11');
    throw err;
  }
  let container = new mod.LocalstackContainer(image);
  const token = env['LOCALSTACK_AUTH_TOKEN'];
  if (token) container = container.withEnvironment({ LOCALSTACK_AUTH_TOKEN: token });
  if (options.startTimeoutMs !== undefined) container = container.withStartupTimeout(options.startTimeoutMs);
  options.log?.(`starting ${image} through testcontainers${token ? ' (with LOCALSTACK_AUTH_TOKEN)' : ''}`);
  let started: Awaited<ReturnType<typeof container.start>>;
  try {
    started = await container.start();
  } catch (err) {
    const tag = image.split(':')[1] ?? 'latest';
    const tokenHint = !token && tag !== '4.14.0' ? '; LocalStack images after 4.14.0 need LOCALSTACK_AUTH_TOKEN' : '';
    throw new EnvironmentError(`LocalStack (${image}) did not start: ${oneLine((err as Error)?.message ?? String(err))}${tokenHint}`);
  }
  const endpoint = started.getConnectionUri();
  let version = image.split(':')[1] ?? 'unknown';
  try {
    const res = await httpGet(`${endpoint}/_localstack/health`, 5000);
    const body = JSON.parse(res.text) as { version?: unknown };
    if (typeof body.version === 'string') version = body.version;
  } catch {
    // keep the tag
  }
  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    image,
    version,
    stop() {
      stopping ??= started.stop().then(() => undefined);
      return stopping;
    },
  };
}
