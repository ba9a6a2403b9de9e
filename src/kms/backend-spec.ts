// The words for `--kms` and the check of what a user typed, in a module of their own so the
// CLI can show them in --help and refuse a mistyped backend before anything runs, without
// loading the backends (and the AWS SDK under them).
import { InputError } from '../util/errors.js';

export const BACKEND_SPEC_HELP = 'embedded, moto, localstack, or an http(s):// endpoint URL';

const NAMED_BACKENDS: readonly string[] = ['embedded', 'moto', 'localstack'];

/** `spec` as an endpoint URL: InputError (exit 2) unless it is http(s) without credentials in it. */
export function endpointUrl(spec: string): URL {
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw new InputError(`--kms ${spec}: expected ${BACKEND_SPEC_HELP}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`--kms ${spec}: expected ${BACKEND_SPEC_HELP}`);
  if (url.username || url.password) throw new InputError(`--kms ${spec}: credentials do not belong in the URL; use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY`);
  return url;
}

/** A usage mistake in --kms is exit 2 before anything starts (a backend that will not start is exit 3, later). */
export function checkBackendSpec(spec: string): void {
  const trimmed = spec.trim();
  if (!NAMED_BACKENDS.includes(trimmed)) endpointUrl(trimmed);
}
