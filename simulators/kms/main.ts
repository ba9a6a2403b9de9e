// `cryptgate kms serve [--port 4566] [--state <dir>]`: the embedded KMS on its own, like
// moto_server, for any AWS SDK or CLI to use through an endpoint URL. It prints how to
// connect, then runs until SIGINT/SIGTERM (or the given AbortSignal) and stops cleanly.
import { InputError } from '../../src/util/errors.js';
import { startEmbeddedKms } from './index.js';

export interface KmsServeOptions {
  /** Default 4566 (LocalStack's port, so existing endpoint settings work); 0 picks a free port. */
  port?: number | string;
  /** State folder; without it keys live in memory and vanish on exit. */
  state?: string;
  /** The region printed in the examples (every region is served). Default us-east-1. */
  region?: string;
  /** The default administrator account. Default 000000000000. */
  accountId?: string;
  /** Log one line per request to stderr (never bodies). */
  verbose?: boolean;
}

export interface KmsServeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Stops the server when aborted (tests; an embedding program). */
  signal?: AbortSignal;
  /** Where CRYPTGATE_KMS_STATE_PASSPHRASE is read from. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Called once the server is listening, with its endpoint. */
  onReady?: (endpoint: string) => void;
}

export const PASSPHRASE_ENV = 'CRYPTGATE_KMS_STATE_PASSPHRASE';

function parsePort(value: number | string | undefined): number {
  if (value === undefined) return 4566;
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InputError(`--port ${String(value)}: expected an integer from 0 to 65535`);
  return n;
}

/** Runs the server until a signal; resolves with the exit code (0) after a clean stop. */
export async function runKmsServe(options: KmsServeOptions = {}, io: Partial<KmsServeIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const passphrase = env[PASSPHRASE_ENV] || undefined;
  const kms = await startEmbeddedKms({
    port: parsePort(options.port),
    ...(options.state !== undefined ? { stateDir: options.state } : {}),
    ...(passphrase !== undefined ? { statePassphrase: passphrase } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.accountId !== undefined ? { accountId: options.accountId } : {}),
    ...(options.verbose ? { log: (line: string) => stderr.write(`kms: ${line}\n`) } : {}),
  });

  const { endpoint, region, accountId } = kms;
  const where = kms.stateDir
    ? `state in ${kms.stateDir} (key material encrypted under ${passphrase !== undefined ? `a key derived from $${PASSPHRASE_ENV}` : 'its master.key'})`
    : 'state in memory only (lost on exit; use --state <dir> to keep keys)';
  stdout.write(
    [
      `cryptgate embedded KMS listening on ${endpoint}`,
      `  ${where}`,
      `  callers: any access key signed with secret "test" is the administrator of account ${accountId}`,
      `  (or of the account its 12-digit access key id names); the region is the one the request is signed for`,
      '',
      'AWS CLI:',
      `  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=${region} \\`,
      `    aws --endpoint-url ${endpoint} kms create-key --description demo`,
      'JavaScript (@aws-sdk/client-kms):',
      `  new KMSClient({ endpoint: '${endpoint}', region: '${region}',`,
      `    credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })`,
      'Python (boto3):',
      `  boto3.client('kms', endpoint_url='${endpoint}', region_name='${region}',`,
      `    aws_access_key_id='test', aws_secret_access_key='test')`,
      '',
      `Faults: curl -X POST -H 'Content-Type: application/json' -d '{"throttle":{"next":2}}' ${endpoint}/_cryptgate/faults`,
      `Counters: curl ${endpoint}/_cryptgate/counters`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  io.onReady?.(endpoint);

  await new Promise<void>((resolve) => {
    const stop = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      io.signal?.removeEventListener('abort', onAbort);
      stderr.write(`${why}: stopping the embedded KMS\n`);
      resolve();
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    const onAbort = (): void => stop('aborted');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    if (io.signal?.aborted) onAbort();
    else io.signal?.addEventListener('abort', onAbort, { once: true });
  });
  await kms.stop();
  stdout.write('embedded KMS stopped\n');
  return 0;
}
