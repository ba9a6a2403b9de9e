// Sign and Verify for the asymmetric keys. KMS accepts either the message (RAW) or its
// digest (DIGEST). Node's crypto.sign always hashes its input and has no "pre-hashed" mode,
// so both paths go through the digest: RAW is hashed first, then the digest is signed with
// the raw RSA / EC primitives Node does expose. The results are standard signatures; the
// tests check them with crypto.verify against GetPublicKey's key.
//  - RSASSA-PKCS1-v1_5: DigestInfo || digest, then privateEncrypt with PKCS#1 type-1 padding.
//  - RSASSA-PSS (MGF1 with the same hash, salt length = hash length, as KMS uses): EMSA-PSS
//    encoding (RFC 8017 §9.1), then the bare RSA operation (privateEncrypt, no padding).
//  - ECDSA P-256: r = x(kG) mod n with kG computed by Node's ECDH (a scalar multiplication of
//    the base point), s = k⁻¹(z + r·d) mod n, DER-encoded. Verification can use the private
//    scalar because KMS verifies server-side: u1·G + u2·Q = (u1 + u2·d)·G.
import {
  constants,
  createECDH,
  createHash,
  createPublicKey,
  generateKeyPair as generateKeyPairCb,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { KmsError } from './errors.js';
import type { KeySpec } from './model.js';

type Hash = 'sha256' | 'sha384' | 'sha512';
interface Algorithm {
  scheme: 'PKCS1' | 'PSS' | 'ECDSA';
  hash: Hash;
  spec: KeySpec;
}

const ALGORITHMS: Record<string, Algorithm> = {
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: 'PKCS1', hash: 'sha256', spec: 'RSA_2048' },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: 'PKCS1', hash: 'sha384', spec: 'RSA_2048' },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: 'PKCS1', hash: 'sha512', spec: 'RSA_2048' },
  RSASSA_PSS_SHA_256: { scheme: 'PSS', hash: 'sha256', spec: 'RSA_2048' },
  RSASSA_PSS_SHA_384: { scheme: 'PSS', hash: 'sha384', spec: 'RSA_2048' },
  RSASSA_PSS_SHA_512: { scheme: 'PSS', hash: 'sha512', spec: 'RSA_2048' },
  ECDSA_SHA_256: { scheme: 'ECDSA', hash: 'sha256', spec: 'ECC_NIST_P256' },
};
export const SIGNING_ALGORITHM_NAMES = Object.keys(ALGORITHMS);

const HASH_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
// DER DigestInfo prefixes, RFC 8017 §9.2 note 1.
const DIGEST_INFO: Record<Hash, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/**
 * New key pair for an asymmetric KMS key. Asynchronous: an RSA-2048 key takes a few hundred
 * milliseconds, which must not stall the requests other clients have in flight.
 */
export function generateKeyPair(spec: Exclude<KeySpec, 'SYMMETRIC_DEFAULT'>): Promise<{ privateKey: KeyObject; publicKeyDer: Buffer }> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (err) reject(err);
      else resolve({ privateKey, publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }) });
    };
    if (spec === 'RSA_2048') generateKeyPairCb('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, done);
    else generateKeyPairCb('ec', { namedCurve: 'prime256v1' }, done);
  });
}

/** Looks up an algorithm and checks it fits the key, as KMS does before signing. */
export function algorithmFor(name: string, key: { keySpec: KeySpec; arn: string }): Algorithm {
  const alg = ALGORITHMS[name];
  if (!alg || alg.spec !== key.keySpec) {
    throw new KmsError('InvalidKeyUsageException', `Algorithm ${name} is incompatible with key spec ${key.keySpec}.`);
  }
  return alg;
}

/** The digest to sign: the message hashed (RAW), or the message itself, which must be a digest of the right length. */
export function digestOf(alg: Algorithm, algorithmName: string, message: Buffer, messageType: 'RAW' | 'DIGEST'): Buffer {
  if (messageType === 'RAW') return createHash(alg.hash).update(message).digest();
  if (message.length !== HASH_LEN[alg.hash]) {
    throw new KmsError('ValidationException', `Digest is invalid length for algorithm ${algorithmName}.`);
  }
  return message;
}

export function signDigest(alg: Algorithm, privateKey: KeyObject, digest: Buffer): Buffer {
  if (alg.scheme === 'PKCS1') {
    return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[alg.hash], digest]));
  }
  if (alg.scheme === 'PSS') {
    const modBits = modulusBits(privateKey);
    const em = pssEncode(alg.hash, digest, modBits - 1);
    // RSA_NO_PADDING wants exactly k bytes; EM is one byte shorter when modBits-1 is a multiple of 8.
    const k = Math.ceil(modBits / 8);
    return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(k - em.length), em]));
  }
  return ecdsaSign(privateKey, digest);
}

export function verifyDigest(alg: Algorithm, privateKey: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const publicKey = createPublicKey(privateKey);
  const k = Math.ceil(modulusBits(privateKey) / 8);
  try {
    if (alg.scheme === 'PKCS1') {
      if (signature.length !== k) return false;
      const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
      const expected = Buffer.concat([DIGEST_INFO[alg.hash], digest]);
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    if (alg.scheme === 'PSS') {
      if (signature.length !== k) return false;
      const modBits = modulusBits(privateKey);
      const m = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
      const emLen = Math.ceil((modBits - 1) / 8);
      if (m.length - emLen === 1 && m[0] !== 0) return false;
      return pssVerify(alg.hash, digest, m.subarray(m.length - emLen), modBits - 1);
    }
    return ecdsaVerify(privateKey, digest, signature);
  } catch {
    // A signature of the wrong size or value for the key: not a signature by this key.
    return false;
  }
}

function modulusBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 256;
}

// ---- EMSA-PSS (RFC 8017 §9.1) ------------------------------------------------------------

function mgf1(hash: Hash, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0, have = 0; have < length; i++) {
    counter.writeUInt32BE(i);
    const block = createHash(hash).update(seed).update(counter).digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

function pssEncode(hash: Hash, mHash: Buffer, emBits: number): Buffer {
  const hLen = HASH_LEN[hash];
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(sLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - sLen - hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, h, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] = db[i]! ^ mask[i]!;
  db[0] = db[0]! & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([db, h, Buffer.from([0xbc])]);
}

function pssVerify(hash: Hash, mHash: Buffer, em: Buffer, emBits: number): boolean {
  const hLen = HASH_LEN[hash];
  const sLen = hLen;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + sLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;
  const mask = mgf1(hash, h, maskedDb.length);
  const db = Buffer.alloc(maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i] = maskedDb[i]! ^ mask[i]!;
  db[0] = db[0]! & topMask;
  const psLen = emLen - hLen - sLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 1) return false;
  const salt = db.subarray(db.length - sLen);
  const h2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(h, h2);
}

// ---- ECDSA over P-256 with a given digest ----------------------------------------------------

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (b: Buffer): bigint => (b.length === 0 ? 0n : BigInt('0x' + b.toString('hex')));
const to32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}
/** n is prime, so a⁻¹ = a^(n-2) mod n. */
const invN = (a: bigint): bigint => modPow(a, P256_N - 2n, P256_N);

/** x-coordinate of t·G, computed by OpenSSL through ECDH (the public key of private scalar t). */
function baseMultX(t: bigint): bigint {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(to32(t));
  const point = ecdh.getPublicKey(); // 0x04 || X || Y
  return toBig(point.subarray(1, 33));
}

function privateScalar(key: KeyObject): bigint {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new Error('EC private key without d');
  return toBig(Buffer.from(jwk.d, 'base64url'));
}

/** z: the digest as an integer, its leftmost 256 bits (P-256's order has 256 bits). */
const digestInt = (digest: Buffer): bigint => toBig(digest.subarray(0, 32));

function ecdsaSign(key: KeyObject, digest: Buffer): Buffer {
  const d = privateScalar(key);
  const z = digestInt(digest);
  for (;;) {
    // 48 random bytes reduced mod n: the bias is below 2^-128.
    const k = mod(toBig(randomBytes(48)), P256_N - 1n) + 1n;
    const r = mod(baseMultX(k), P256_N);
    if (r === 0n) continue;
    const s = mod(invN(k) * (z + r * d), P256_N);
    if (s === 0n) continue;
    return derSignature(r, s);
  }
}

function ecdsaVerify(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const parsed = parseDerSignature(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  if (r < 1n || r >= P256_N || s < 1n || s >= P256_N) return false;
  const d = privateScalar(key);
  const w = invN(s);
  const u1 = mod(digestInt(digest) * w, P256_N);
  const u2 = mod(r * w, P256_N);
  const t = mod(u1 + u2 * d, P256_N);
  if (t === 0n) return false; // the point at infinity
  return mod(baseMultX(t), P256_N) === r;
}

function derInt(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  let b = Buffer.from(hex, 'hex');
  // DER integers are signed: a leading 1 bit needs a 0x00 in front.
  if (b[0]! >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return Buffer.concat([Buffer.from([0x02, b.length]), b]);
}

function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInt(r), derInt(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Strict DER: SEQUENCE { INTEGER r, INTEGER s } with short lengths (P-256 signatures fit). */
function parseDerSignature(sig: Buffer): { r: bigint; s: bigint } | undefined {
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1] !== sig.length - 2) return undefined;
  let at = 2;
  const ints: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    if (sig[at] !== 0x02) return undefined;
    const len = sig[at + 1];
    if (len === undefined || len === 0 || len > 33 || at + 2 + len > sig.length) return undefined;
    const bytes = sig.subarray(at + 2, at + 2 + len);
    if (bytes[0]! >= 0x80) return undefined; // negative
    if (len > 1 && bytes[0] === 0 && bytes[1]! < 0x80) return undefined; // not minimal
    ints.push(toBig(bytes));
    at += 2 + len;
  }
  if (at !== sig.length) return undefined;
  return { r: ints[0]!, s: ints[1]! };
}
