// Tamper-evident reports: a detached signature made by an asymmetric KMS key (KMS Sign /
// Verify, so any KMS backend works and the private key never leaves it). What is signed is
// the report's canonical bytes: for a JSON report, its canonical JSON (keys sorted, no
// white space: RFC 8785's form for the values a report holds), so re-indenting the file
// does not break the signature but changing any value does; for any other format, the
// file's exact bytes. The KMS signs a digest (MessageType DIGEST), so the report's size
// does not matter.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { GetPublicKeyCommand, SignCommand, VerifyCommand, type KMSClient, type SigningAlgorithmSpec } from '@aws-sdk/client-kms';
import { describeKmsError, kmsFailureKind } from '../kms/errors.js';
import { EnvironmentError, FormatError, fsReason, InputError } from '../util/errors.js';

export const SIGNATURE_FORMAT = 'cryptgate/signature@1';

export type Canonicalization = 'json-canonical' | 'bytes';

export interface SignatureFile {
  format: typeof SIGNATURE_FORMAT;
  /** The report's file name (the signature sits beside it). */
  report: string;
  canonicalization: Canonicalization;
  digestAlgorithm: 'SHA-256' | 'SHA-384' | 'SHA-512';
  /** Hex digest of the canonical bytes. */
  digest: string;
  keyId: string;
  signingAlgorithm: SigningAlgorithmSpec;
  /** Base64. */
  signature: string;
  /** Base64 DER (SubjectPublicKeyInfo) of the signing key, for verifying without KMS. */
  publicKey: string | null;
  signedAt: string;
  /** Which KMS signed (e.g. "embedded KMS (cryptgate 0.1.0)"). */
  kms: string;
}

/** Canonical JSON: object keys sorted by code unit, no insignificant white space. Pure. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** What gets digested: canonical JSON for a JSON document, else the bytes. Throws FormatError when `json` text is not JSON. */
export function canonicalBytes(content: Buffer, canonicalization: Canonicalization, file = 'report'): Buffer {
  if (canonicalization === 'bytes') return content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new FormatError(file, 0, 'report', 'the signed JSON report', `text that is not JSON (${(err as Error).message})`);
  }
  return Buffer.from(canonicalJson(parsed), 'utf8');
}

/** JSON reports are canonicalised; everything else is signed byte for byte. */
export function canonicalizationFor(content: Buffer): Canonicalization {
  const text = content.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('{')) return 'bytes';
  try {
    JSON.parse(content.toString('utf8').replace(/^\uFEFF/, ''));
    return 'json-canonical';
  } catch {
    return 'bytes';
  }
}

const PREFERRED: readonly SigningAlgorithmSpec[] = [
  'ECDSA_SHA_256', 'RSASSA_PSS_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_256', 'ECDSA_SHA_384', 'RSASSA_PSS_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_384', 'ECDSA_SHA_512', 'RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_512',
];

function digestOf(algorithm: SigningAlgorithmSpec): { name: 'sha256' | 'sha384' | 'sha512'; label: SignatureFile['digestAlgorithm'] } {
  if (algorithm.endsWith('_384')) return { name: 'sha384', label: 'SHA-384' };
  if (algorithm.endsWith('_512')) return { name: 'sha512', label: 'SHA-512' };
  return { name: 'sha256', label: 'SHA-256' };
}

/** Signs the report file's canonical bytes with `keyId`; returns the signature document (the caller writes it). */
export async function signReport(reportPath: string, client: KMSClient, keyId: string, kmsDescription: string, now = new Date()): Promise<SignatureFile> {
  const content = readFileSync(reportPath);
  const canonicalization = canonicalizationFor(content);
  const bytes = canonicalBytes(content, canonicalization, reportPath);
  let pub;
  try {
    pub = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  } catch (err) {
    if (kmsFailureKind(err) === 'unsupported' || (err as { name?: string }).name === 'UnsupportedOperationException') {
      throw new InputError(`--sign ${keyId}: a symmetric key cannot sign: use an asymmetric signing key (aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY)`);
    }
    throw describeKmsError(err, { action: 'GetPublicKey', keyArn: keyId });
  }
  if (pub.KeyUsage !== 'SIGN_VERIFY') throw new InputError(`--sign ${keyId}: key usage is ${pub.KeyUsage ?? 'unknown'}: expected a SIGN_VERIFY key (aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY)`);
  const algorithm = PREFERRED.find((a) => pub.SigningAlgorithms?.includes(a));
  if (!algorithm) throw new InputError(`--sign ${keyId}: its signing algorithms (${(pub.SigningAlgorithms ?? []).join(', ') || 'none'}) include none cryptgate uses (ECDSA or RSA with SHA-2)`);
  const dg = digestOf(algorithm);
  const digest = createHash(dg.name).update(bytes).digest();
  let signed;
  try {
    signed = await client.send(new SignCommand({ KeyId: keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: algorithm }));
  } catch (err) {
    throw describeKmsError(err, { action: 'Sign', keyArn: keyId });
  }
  return {
    format: SIGNATURE_FORMAT,
    report: basename(reportPath),
    canonicalization,
    digestAlgorithm: dg.label,
    digest: digest.toString('hex'),
    keyId: signed.KeyId ?? pub.KeyId ?? keyId,
    signingAlgorithm: algorithm,
    signature: Buffer.from(signed.Signature!).toString('base64'),
    publicKey: pub.PublicKey ? Buffer.from(pub.PublicKey).toString('base64') : null,
    signedAt: now.toISOString(),
    kms: kmsDescription,
  };
}

/** Reads and checks a signature file's shape; FormatError (exit 2) naming the field. */
export function readSignatureFile(path: string): SignatureFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === 'ENOENT' ? ' (sign the report with `cryptgate audit … --out <report> --sign <key>`, or pass --signature)' : '';
    throw new InputError(`${path}: cannot read the signature file: ${fsReason(err)}${hint}`);
  }
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw new FormatError(path, 0, 'signature file', 'JSON', (err as Error).message);
  }
  const need = (field: string, ok: boolean, expected: string): void => {
    if (!ok) throw new FormatError(path, 0, field, expected, JSON.stringify(d?.[field]));
  };
  need('format', d?.format === SIGNATURE_FORMAT, `"${SIGNATURE_FORMAT}"`);
  need('canonicalization', d.canonicalization === 'json-canonical' || d.canonicalization === 'bytes', '"json-canonical" or "bytes"');
  need('digestAlgorithm', ['SHA-256', 'SHA-384', 'SHA-512'].includes(d.digestAlgorithm as string), 'SHA-256, SHA-384 or SHA-512');
  need('digest', typeof d.digest === 'string' && /^[0-9a-f]{64,128}$/.test(d.digest), 'a hex digest');
  need('keyId', typeof d.keyId === 'string' && d.keyId !== '', 'the signing key id or ARN');
  need('signingAlgorithm', PREFERRED.includes(d.signingAlgorithm as SigningAlgorithmSpec), `one of ${PREFERRED.join(', ')}`);
  need('signature', typeof d.signature === 'string' && /^[A-Za-z0-9+/]+=*$/.test(d.signature), 'a base64 signature');
  return d as unknown as SignatureFile;
}

export type VerifyOutcome = { ok: true; keyId: string; algorithm: string } | { ok: false; reason: string };

/**
 * Checks a report against its signature: first the digest of its canonical bytes (a changed
 * report fails here, without asking KMS), then the signature with KMS Verify (a forged or
 * edited signature file fails there). KMS problems are EnvironmentErrors (exit 3).
 */
export async function verifyReport(reportPath: string, sig: SignatureFile, client: KMSClient): Promise<VerifyOutcome> {
  let content: Buffer;
  try {
    content = readFileSync(reportPath);
  } catch (err) {
    throw new InputError(`${reportPath}: cannot read the report: ${fsReason(err)}`);
  }
  let bytes: Buffer;
  try {
    bytes = canonicalBytes(content, sig.canonicalization, reportPath);
  } catch (err) {
    return { ok: false, reason: `${reportPath} is no longer the JSON report that was signed (${(err as Error).message})` };
  }
  const dg = digestOf(sig.signingAlgorithm);
  const digest = createHash(dg.name).update(bytes).digest();
  if (digest.toString('hex') !== sig.digest) {
    return { ok: false, reason: `${reportPath} changed since it was signed: its ${dg.label} is ${digest.toString('hex')}, the signature covers ${sig.digest}` };
  }
  try {
    const r = await client.send(new VerifyCommand({ KeyId: sig.keyId, Message: digest, MessageType: 'DIGEST', Signature: Buffer.from(sig.signature, 'base64'), SigningAlgorithm: sig.signingAlgorithm }));
    if (r.SignatureValid !== true) return { ok: false, reason: `KMS says the signature does not match (key ${sig.keyId})` };
    return { ok: true, keyId: r.KeyId ?? sig.keyId, algorithm: sig.signingAlgorithm };
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'KMSInvalidSignatureException') return { ok: false, reason: `the signature does not verify with key ${sig.keyId}: the signature file was altered, or it signs another report` };
    const e = describeKmsError(err, { action: 'Verify', keyArn: sig.keyId });
    throw new EnvironmentError(e.message);
  }
}
