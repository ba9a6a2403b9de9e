// One clear line for a failed KMS call: who called (node, role), what (kms:<Action>), on
// which key, and what it means — never a stack trace, never a request body. The result is
// an EnvironmentError, so the CLI exits 3 with that line.
//   node2 (role tableau-node): kms:Decrypt on arn:aws:kms:…:key/… denied: AccessDeniedException: …
//   KMS endpoint http://127.0.0.1:9 unreachable (ECONNREFUSED) while node1 ran kms:GenerateDataKey on arn:…
import { EnvironmentError } from '../util/errors.js';

export interface KmsErrorContext {
  /** The simulated (or real) node that made the call, e.g. `node2`. */
  node?: string | undefined;
  /** The IAM role it called as, e.g. `tableau-node`. */
  role?: string | undefined;
  /** Key ARN, id or alias the call named. */
  keyArn?: string | undefined;
  /** The KMS operation: `Decrypt` or `kms:Decrypt`. */
  action: string;
  /** The endpoint called; for connection errors, else taken from the error's address. */
  endpoint?: string | undefined;
  /** The client's region, named when a key is not found. */
  region?: string | undefined;
}

/** What kind of failure a KMS call met, for callers that branch on it (the probe, the steps). */
export type KmsFailureKind =
  | 'access-denied'
  | 'disabled'
  | 'invalid-state'
  | 'not-found'
  | 'incorrect-key'
  | 'invalid-ciphertext'
  | 'throttled'
  | 'server-error'
  | 'timeout'
  | 'unreachable'
  | 'credentials'
  | 'unsupported'
  | 'other';

interface ErrorFacts {
  name: string;
  message: string;
  code: string | undefined;
  status: number | undefined;
  attempts: number | undefined;
  address: string | undefined;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'CredentialsProviderError',
]);
const THROTTLING_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded', 'Throttling']);

/** Collapses a message to one line of bounded length. */
function oneLine(text: string, max = 400): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function factsOf(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) {
    return { name: 'Error', message: String(err), code: undefined, status: undefined, attempts: undefined, address: undefined };
  }
  const e = err as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    errno?: unknown;
    address?: unknown;
    port?: unknown;
    hostname?: unknown;
    errors?: unknown;
    cause?: unknown;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  let code = typeof e.code === 'string' ? e.code : undefined;
  let address: string | undefined;
  // Happy-eyeballs failures arrive as an AggregateError; a fetch failure wraps its cause.
  const inner = Array.isArray(e.errors) ? (e.errors[0] as typeof e | undefined) : (e.cause as typeof e | undefined);
  if (code === undefined && inner && typeof inner === 'object' && typeof inner.code === 'string') code = inner.code;
  const src = typeof e.address === 'string' ? e : inner && typeof inner === 'object' && typeof inner.address === 'string' ? inner : undefined;
  if (src && typeof src.address === 'string') address = typeof src.port === 'number' ? `${src.address}:${src.port}` : src.address;
  else if (typeof e.hostname === 'string') address = e.hostname;
  const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'Error';
  const message = typeof e.message === 'string' ? e.message : '';
  return { name, message, code, status: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts, address };
}

/** Classifies a failure from a KMS call (SDK error, Node system error, or anything thrown). */
export function kmsFailureKind(err: unknown): KmsFailureKind {
  const f = factsOf(err);
  if (f.name === 'AccessDeniedException' || f.name === 'AccessDenied') return 'access-denied';
  if (f.name === 'DisabledException') return 'disabled';
  if (f.name === 'KMSInvalidStateException') return 'invalid-state';
  if (f.name === 'NotFoundException') return 'not-found';
  if (f.name === 'IncorrectKeyException') return 'incorrect-key';
  if (f.name === 'InvalidCiphertextException') return 'invalid-ciphertext';
  if (THROTTLING_NAMES.has(f.name) || f.status === 429) return 'throttled';
  if (CREDENTIAL_NAMES.has(f.name)) return 'credentials';
  if (f.name === 'TimeoutError' || f.name === 'RequestTimeout' || f.name === 'RequestTimeoutException' || f.code === 'ETIMEDOUT') return 'timeout';
  if (f.code !== undefined && CONNECTION_CODES.has(f.code)) return 'unreachable';
  if (f.name === 'UnsupportedOperationException' || f.name === 'UnknownOperationException' || f.status === 501) return 'unsupported';
  if (f.status !== undefined && f.status >= 500) return 'server-error';
  return 'other';
}

/** True when the call never got a KMS answer (dead endpoint, DNS, TLS, time-out): the backend is unusable. */
export function isKmsConnectionFailure(err: unknown): boolean {
  const kind = kmsFailureKind(err);
  return kind === 'unreachable' || kind === 'timeout';
}

const normalAction = (action: string): string => (action.startsWith('kms:') ? action : `kms:${action}`);

function who(ctx: KmsErrorContext): string {
  if (ctx.node !== undefined && ctx.role !== undefined) return `${ctx.node} (role ${ctx.role})`;
  if (ctx.node !== undefined) return ctx.node;
  if (ctx.role !== undefined) return `role ${ctx.role}`;
  return 'cryptgate';
}

function endpointOf(ctx: KmsErrorContext, f: ErrorFacts): string {
  if (ctx.endpoint !== undefined) return ctx.endpoint;
  if (f.address !== undefined) return f.address;
  return `the KMS endpoint${ctx.region !== undefined ? ` for ${ctx.region}` : ''}`;
}

function attemptsNote(f: ErrorFacts): string {
  return f.attempts !== undefined && f.attempts > 1 ? ` after ${f.attempts} attempts` : '';
}

/**
 * Turns a failed KMS call into one line naming node, role, key and action, as an
 * EnvironmentError (exit 3). An EnvironmentError passed in is returned unchanged.
 */
export function describeKmsError(err: unknown, context: KmsErrorContext): EnvironmentError {
  if (err instanceof EnvironmentError) return err;
  const f = factsOf(err);
  const action = normalAction(context.action);
  const caller = who(context);
  const target = context.keyArn !== undefined ? ` on ${context.keyArn}` : '';
  const call = `${caller}: ${action}${target}`;
  // A 5xx whose body is not KMS JSON (an HTML crash page) fails the SDK's parser: say what it was.
  const crashPage = f.status !== undefined && f.status >= 500 && f.name === 'SyntaxError';
  const detail = crashPage
    ? 'an error page instead of a KMS answer (the server failed)'
    : oneLine(f.message) === ''
      ? f.name
      : `${f.name}: ${oneLine(f.message)}`;
  const line = ((): string => {
    switch (kmsFailureKind(err)) {
      case 'access-denied':
        return `${call} denied: ${detail}`;
      case 'disabled':
        return `${call} refused: the key is disabled (${detail}); enable it (EnableKey) or configure another key`;
      case 'invalid-state':
        return `${call} refused: the key's state does not allow it, e.g. pending deletion (${detail}); cancel the deletion (CancelKeyDeletion) and enable the key`;
      case 'not-found':
        return `${call} failed: no such key in this account${context.region !== undefined ? ` and region ${context.region}` : ' and region'} (${detail}); check the key ARN's account and region`;
      case 'incorrect-key':
        return `${call} failed: the ciphertext was encrypted under another key (${detail})`;
      case 'invalid-ciphertext':
        return `${call} failed: the ciphertext is damaged or its encryption context does not match (${detail})`;
      case 'throttled':
        return `${call} throttled${attemptsNote(f)} (${detail}); lower the request rate or raise the account's KMS request quota`;
      case 'credentials':
        if (f.name === 'CredentialsProviderError') return `${call} failed: no AWS credentials found (${oneLine(f.message)}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE`;
        return `${call} rejected: the KMS endpoint does not accept these credentials (${detail})`;
      case 'timeout':
        return `KMS endpoint ${endpointOf(context, f)} did not answer in time (${f.name === 'Error' ? (f.code ?? 'timeout') : f.name})${attemptsNote(f)} while ${caller} ran ${action}${target}`;
      case 'unreachable':
        return `KMS endpoint ${endpointOf(context, f)} unreachable (${f.code}) while ${caller} ran ${action}${target}`;
      case 'unsupported':
        return `${call} is not supported by this KMS (${f.status !== undefined ? `HTTP ${f.status} ` : ''}${detail})`;
      case 'server-error':
        return `KMS endpoint ${endpointOf(context, f)} failed with HTTP ${f.status}${attemptsNote(f)} while ${caller} ran ${action}${target}: ${detail}`;
      default:
        return `${call} failed: ${detail}${f.status !== undefined ? ` (HTTP ${f.status})` : ''}`;
    }
  })();
  const out = new EnvironmentError(line);
  (out as { cause?: unknown }).cause = err;
  return out;
}
