// AWS Signature Version 4, checked for real: rebuild the canonical request from what
// arrived on the wire, derive the signing key from the caller's secret and compare HMACs.
// The emulators this stands beside (LocalStack, moto) read the access key id and never
// check the signature; a harness that wants "wrong secret → refused" needs this.
// Reference: https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KmsError } from './errors.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a request whose date is more than 15 minutes from its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** The request target as received, e.g. `/` or `/?a=b`. */
  url: string;
  /** Node's `req.rawHeaders`: name, value, name, value… (repeats kept). */
  rawHeaders: string[];
  body: Buffer;
}

export interface AuthorizationHeader {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export interface VerifiedSignature {
  accessKeyId: string;
  region: string;
  /** The X-Amz-Security-Token the client sent, if any (temporary credentials). */
  sessionToken?: string;
}

const incomplete = (message: string): KmsError => new KmsError('IncompleteSignatureException', message);
const invalid = (message: string): KmsError => new KmsError('InvalidSignatureException', message);

/** The errors AWS returns for unsigned requests and unknown keys. */
export const missingToken = (): KmsError => new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
export const unrecognizedClient = (): KmsError =>
  new KmsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
export const signatureMismatch = (): KmsError =>
  invalid(
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
  );

/** Header name (lower case) → values in arrival order. */
export function headerMap(rawHeaders: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const list = map.get(name);
    if (list) list.push(rawHeaders[i + 1]!);
    else map.set(name, [rawHeaders[i + 1]!]);
  }
  return map;
}

/** Parses `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(value: string): AuthorizationHeader {
  if (!value.startsWith(ALGORITHM + ' ')) {
    throw incomplete(`Authorization header requires the ${ALGORITHM} algorithm. Authorization=${value}`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((f) => !fields.get(f));
  if (missing.length) {
    throw incomplete(missing.map((f) => `Authorization header requires '${f}' parameter.`).join(' ') + ` Authorization=${value}`);
  }
  const scope = fields.get('Credential')!.split('/');
  if (scope.length !== 5 || scope.some((s) => s === '')) {
    throw incomplete(`Credential should be scoped to a valid region, service and terminator: '${fields.get('Credential')}'.`);
  }
  const [accessKeyId, date, region, service, terminal] = scope as [string, string, string, string, string];
  if (terminal !== 'aws4_request') throw incomplete(`Credential should be scoped with a valid terminator: 'aws4_request', not '${terminal}'.`);
  if (service !== 'kms') throw incomplete(`Credential should be scoped to correct service: 'kms'.`);
  if (!/^\d{8}$/.test(date)) throw incomplete(`Credential should be scoped to a valid date: '${date}'.`);
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: fields.get('SignedHeaders')!.split(';'),
    signature: fields.get('Signature')!,
  };
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters escaped. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalPath(path: string): string {
  // Non-S3 services normalise the path and encode each segment once more (the client
  // signed the already-encoded path, encoded again).
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const joined = '/' + segments.map((s) => uriEncode(s)).join('/');
  return path.endsWith('/') && segments.length > 0 ? joined + '/' : joined;
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const k = decodeURIComponent((eq < 0 ? p : p.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, ' '));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .filter(([k]) => k !== 'X-Amz-Signature');
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

const trimValue = (v: string): string => v.trim().replace(/\s+/g, ' ');

export function canonicalRequest(req: SignedRequest, signedHeaders: string[]): string {
  const headers = headerMap(req.rawHeaders);
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const lines = signedHeaders.map((name) => `${name}:${(headers.get(name) ?? []).map(trimValue).join(',')}\n`);
  const payloadHash = createHash('sha256').update(req.body).digest('hex');
  return [req.method, canonicalPath(path), canonicalQuery(query), lines.join(''), signedHeaders.join(';'), payloadHash].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

export function signature(req: SignedRequest, auth: AuthorizationHeader, amzDate: string, secret: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const crHash = createHash('sha256').update(canonicalRequest(req, auth.signedHeaders)).digest('hex');
  const toSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${crHash}`;
  return createHmac('sha256', signingKey(secret, auth.date, auth.region, auth.service)).update(toSign).digest('hex');
}

/** `20260101T120000Z` → epoch ms, or NaN. */
function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

const amzFormat = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/**
 * Checks the request's SigV4 signature. `secretFor` returns the secret for an access key id,
 * or undefined when the key is unknown. `now` is the wall clock (the skew check must use
 * real time even when the simulator's key clock is moved forward).
 */
export function verifySignature(
  req: SignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
  now: number,
): VerifiedSignature {
  const headers = headerMap(req.rawHeaders);
  const authValue = headers.get('authorization')?.[0];
  if (authValue === undefined) throw missingToken();
  const auth = parseAuthorization(authValue);

  if (!auth.signedHeaders.includes('host')) {
    throw incomplete(`'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  const amzDate = headers.get('x-amz-date')?.[0];
  const dateHeader = headers.get('date')?.[0];
  if (amzDate === undefined && dateHeader === undefined) {
    throw incomplete(`Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${authValue}`);
  }
  const stamp = amzDate ?? amzFormat(Date.parse(dateHeader!));
  const when = parseAmzDate(stamp);
  if (Number.isNaN(when)) throw incomplete(`X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`);
  if (stamp.slice(0, 8) !== auth.date) {
    throw invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${stamp.slice(0, 8)}', from '${stamp}'.`,
    );
  }
  if (when < now - MAX_SKEW_MS) {
    throw invalid(`Signature expired: ${stamp} is now earlier than ${amzFormat(now - MAX_SKEW_MS)} (${amzFormat(now)} - 15 min.)`);
  }
  if (when > now + MAX_SKEW_MS) {
    throw invalid(`Signature not yet current: ${stamp} is still later than ${amzFormat(now + MAX_SKEW_MS)} (${amzFormat(now)} + 15 min.)`);
  }

  const secret = secretFor(auth.accessKeyId);
  if (secret === undefined) throw unrecognizedClient();
  const expected = Buffer.from(signature(req, auth, stamp, secret), 'utf8');
  const given = Buffer.from(auth.signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw signatureMismatch();

  const token = headers.get('x-amz-security-token')?.[0];
  return token === undefined
    ? { accessKeyId: auth.accessKeyId, region: auth.region }
    : { accessKeyId: auth.accessKeyId, region: auth.region, sessionToken: token };
}
