// Shared by the embedded-KMS tests: a real KMSClient aimed at the server, and a way to
// capture the error a call fails with.
import assert from 'node:assert/strict';
import { KMSClient } from '@aws-sdk/client-kms';
import type { EmbeddedKms } from '../../../simulators/kms/index.js';

export interface ClientOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  maxAttempts?: number;
  requestTimeout?: number;
}

export function kmsClient(kms: EmbeddedKms, o: ClientOptions = {}): KMSClient {
  return new KMSClient({
    endpoint: kms.endpoint,
    region: o.region ?? 'us-east-1',
    credentials: {
      accessKeyId: o.accessKeyId ?? 'test',
      secretAccessKey: o.secretAccessKey ?? 'test',
      ...(o.sessionToken !== undefined ? { sessionToken: o.sessionToken } : {}),
    },
    // One attempt unless a test is about retries: errors surface at once, counters stay exact.
    maxAttempts: o.maxAttempts ?? 1,
    ...(o.requestTimeout !== undefined
      ? { requestHandler: { requestTimeout: o.requestTimeout, throwOnRequestTimeout: true } }
      : {}),
  });
}

export interface CaughtError extends Error {
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $fault?: string;
  code?: string;
  /** cryptgate's own errors (src/util/errors.ts) carry the exit code. */
  exitCode?: number;
}

/** Runs `fn`, which must fail; returns the error for the test to inspect. */
export async function failure(fn: () => Promise<unknown>): Promise<CaughtError> {
  try {
    await fn();
  } catch (err) {
    return err as CaughtError;
  }
  assert.fail('expected the call to fail');
}
