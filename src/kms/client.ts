// The one way cryptgate builds a KMS client, whatever the backend: @aws-sdk/client-kms with
// an endpoint override, bounded timeouts and the SDK's standard retry mode.
//
// Retries are the SDK's own ("standard" mode, exponential backoff with jitter, a retry
// quota): throttling (ThrottlingException, HTTP 429), 5xx answers, timeouts and broken
// connections are retried up to `maxAttempts` attempts in all; access errors
// (AccessDeniedException, DisabledException, NotFoundException…) are not retried at all.
// test/src/kms/client.test.ts proves each of those against the embedded KMS's fault knobs.
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';

export interface KmsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What local KMS stand-ins (the embedded KMS, moto, LocalStack) accept when no one says otherwise. */
export const TEST_CREDENTIALS: KmsCredentials = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });

/** AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the environment, when both are set. */
export function envCredentials(env: Record<string, string | undefined> = process.env): KmsCredentials | undefined {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
}

export interface KmsClientOptions {
  /** `http://127.0.0.1:4566`, `https://kms.eu-west-1.amazonaws.com`…; left out: the SDK's own endpoint for the region. */
  endpoint?: string | undefined;
  region: string;
  /** Left out: the SDK's default chain (environment, profile, instance role). */
  credentials?: KmsCredentials | undefined;
  /** Attempts in all, the first included. Default 4. */
  maxAttempts?: number | undefined;
  /** Per attempt: how long to wait for an answer before a TimeoutError (which is retried). Default 10 s. */
  timeoutMs?: number | undefined;
  /** Per attempt: how long to wait for the TCP (and TLS) connection. Default min(timeoutMs, 3 s). */
  connectTimeoutMs?: number | undefined;
  /** Replace the retry strategy (e.g. a ConfiguredRetryStrategy with a fixed backoff); keeps the SDK's classification. */
  retryStrategy?: KMSClientConfig['retryStrategy'];
}

export const DEFAULT_MAX_ATTEMPTS = 4;
export const DEFAULT_TIMEOUT_MS = 10_000;

export function kmsClient(options: KmsClientOptions): KMSClient {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts ${maxAttempts}: expected an integer ≥ 1`);
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs ${timeoutMs}: expected a positive number of milliseconds`);
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(timeoutMs, 3_000);
  return new KMSClient({
    region: options.region,
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.credentials !== undefined ? { credentials: { ...options.credentials } } : {}),
    maxAttempts,
    retryMode: 'standard',
    ...(options.retryStrategy !== undefined ? { retryStrategy: options.retryStrategy } : {}),
    requestHandler: {
      requestTimeout: timeoutMs,
      connectionTimeout: connectTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes, and waits on.
      throwOnRequestTimeout: true,
    },
  });
}
