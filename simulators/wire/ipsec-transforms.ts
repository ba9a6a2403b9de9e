// ESP (RFC 4303) and AH (RFC 4302) for whatever child SA suite two nodes negotiated, with
// real cryptography from Node's crypto: AES-CBC 128/192/256 (RFC 3602), 3DES and DES-CBC
// (RFC 2451; DES as EDE3 with three equal keys, which is exactly single DES, because
// OpenSSL 3 ships DES only in its legacy provider), AES-GCM with a 16-byte ICV (RFC 4106),
// NULL encryption (RFC 2410) and AES-GMAC integrity (RFC 4543); HMAC-MD5-96, HMAC-SHA1-96,
// HMAC-SHA-256-128, HMAC-SHA-384-192 and HMAC-SHA-512-256 (RFC 2403, 2404, 4868). This
// module follows the negotiated proposal; esp.ts names the fixed AES-256 and ESP-NULL
// suites the capture tests use and seals them here too.
// Keys and IVs come from the caller (a seeded stream on the simulated wire), so a seed
// reproduces every byte; the open/verify functions prove the frames are genuine.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual, type CipherGCMTypes } from 'node:crypto';
import type { IanaChildSuite } from '../../src/ipsec/iana.js';
import { IPPROTO } from './frames.js';

/** Bytes source for keys and IVs (SeededRandom, or crypto.randomBytes wrapped). */
export interface RandomSource {
  bytes(n: number): Buffer;
}

/** The system's random bytes, for callers that need no reproducibility. */
export const systemRandom: RandomSource = { bytes: (n) => randomBytes(n) };

/** A random ESP/AH SPI ≥ 256 (0-255 are reserved, RFC 4303 §2.1). */
export function newEspSpi(rnd: RandomSource = systemRandom): number {
  return 256 + (rnd.bytes(4).readUInt32BE(0) % (0xffffffff - 256));
}

interface CipherSpec {
  /** OpenSSL name; null for ENCR_NULL. */
  name: string | null;
  keyBytes: number;
  ivBytes: number;
  /** Payload alignment: the cipher's block size, or 4 for stream/AEAD/NULL. */
  align: number;
  aead: boolean;
  /** DES: the 8-byte key is repeated three times for EDE3. */
  singleDes?: boolean;
}

function cipherSpec(encr: string | null, keyLength: number | null): CipherSpec {
  switch (encr) {
    case 'ENCR_AES_CBC': return { name: `aes-${keyLength ?? 128}-cbc`, keyBytes: (keyLength ?? 128) / 8, ivBytes: 16, align: 16, aead: false };
    case 'ENCR_3DES': return { name: 'des-ede3-cbc', keyBytes: 24, ivBytes: 8, align: 8, aead: false };
    case 'ENCR_DES': return { name: 'des-ede3-cbc', keyBytes: 8, ivBytes: 8, align: 8, aead: false, singleDes: true };
    case 'ENCR_AES_GCM_16': return { name: `aes-${keyLength ?? 128}-gcm`, keyBytes: (keyLength ?? 128) / 8, ivBytes: 8, align: 4, aead: true };
    case 'ENCR_NULL': case null: return { name: null, keyBytes: 0, ivBytes: 0, align: 4, aead: false };
    default: throw new Error(`no ESP implementation for ${encr}`);
  }
}

interface IntegSpec {
  /** HMAC digest, or 'gmac' for AES-GMAC. */
  kind: string;
  keyBytes: number;
  icvBytes: number;
  /** AES key size for GMAC. */
  gmacBits?: number;
}

function integSpec(integ: string | null): IntegSpec | null {
  switch (integ) {
    case null: case 'NONE': return null;
    case 'AUTH_HMAC_MD5_96': return { kind: 'md5', keyBytes: 16, icvBytes: 12 };
    case 'AUTH_HMAC_SHA1_96': return { kind: 'sha1', keyBytes: 20, icvBytes: 12 };
    case 'AUTH_HMAC_SHA2_256_128': return { kind: 'sha256', keyBytes: 32, icvBytes: 16 };
    case 'AUTH_HMAC_SHA2_384_192': return { kind: 'sha384', keyBytes: 48, icvBytes: 24 };
    case 'AUTH_HMAC_SHA2_512_256': return { kind: 'sha512', keyBytes: 64, icvBytes: 32 };
    case 'AUTH_AES_128_GMAC': return { kind: 'gmac', keyBytes: 16, icvBytes: 16, gmacBits: 128 };
    case 'AUTH_AES_192_GMAC': return { kind: 'gmac', keyBytes: 24, icvBytes: 16, gmacBits: 192 };
    case 'AUTH_AES_256_GMAC': return { kind: 'gmac', keyBytes: 32, icvBytes: 16, gmacBits: 256 };
    default: throw new Error(`no integrity implementation for ${integ}`);
  }
}

/** One direction's ESP SA: SPI, suite and keys. */
export interface EspKeys {
  spi: number;
  encryption: string | null;
  keyLength: number | null;
  integrity: string | null;
  encKey: Buffer;
  /** GCM / GMAC salt (RFC 4106 §8.1), 4 bytes. */
  salt: Buffer;
  integKey: Buffer;
}

export function newEspKeys(suite: IanaChildSuite, spi: number, rnd: RandomSource): EspKeys {
  const c = cipherSpec(suite.espEncryption, suite.espKeyLength);
  const i = c.aead ? null : integSpec(suite.espIntegrity);
  return {
    spi,
    encryption: suite.espEncryption,
    keyLength: suite.espKeyLength,
    integrity: c.aead ? null : suite.espIntegrity,
    encKey: rnd.bytes(c.keyBytes),
    salt: rnd.bytes(c.aead || i?.kind === 'gmac' ? 4 : 0),
    integKey: rnd.bytes(i?.keyBytes ?? 0),
  };
}

/** How many bytes of IV this SA's packets carry (the caller draws them). */
export function espIvBytes(k: EspKeys): number {
  const c = cipherSpec(k.encryption, k.keyLength);
  if (c.name === null && integSpec(k.integrity)?.kind === 'gmac') return 8;
  return c.ivBytes;
}

function desKey(c: CipherSpec, key: Buffer): Buffer {
  return c.singleDes ? Buffer.concat([key, key, key]) : key;
}

function hmac(kind: string, key: Buffer, parts: Uint8Array[], len: number): Buffer {
  const h = createHmac(kind, key);
  for (const p of parts) h.update(p);
  return h.digest().subarray(0, len);
}

/** AES-GMAC (RFC 4543): a GCM tag over `aad` with no plaintext. */
function gmac(bits: number, key: Buffer, salt: Buffer, iv: Buffer, aad: Uint8Array[]): Buffer {
  const g = createCipheriv(`aes-${bits}-gcm` as CipherGCMTypes, key, Buffer.concat([salt, iv]), { authTagLength: 16 });
  for (const a of aad) g.setAAD(Buffer.from(a.buffer, a.byteOffset, a.length));
  g.final();
  return g.getAuthTag();
}

/**
 * The ESP packet (SPI through ICV) carrying `payload` with `nextHeader` (a transport-mode
 * segment and its protocol, or a whole inner IP packet in tunnel mode). `iv` must be
 * espIvBytes(k) long. `extraPad`: padding beyond the alignment, a multiple of it (hides the
 * length, RFC 4303 §2.4).
 */
export function espSeal(k: EspKeys, seq: number, nextHeader: number, payload: Uint8Array, iv: Buffer, extraPad = 0): Buffer {
  const c = cipherSpec(k.encryption, k.keyLength);
  const integ = c.aead ? null : integSpec(k.integrity);
  // One buffer for the whole packet: header, IV, (cipher)text with trailer, ICV.
  const padLen = ((c.align - ((payload.length + 2) % c.align)) % c.align) + extraPad;
  if (padLen > 255) throw new Error('ESP padding longer than 255 bytes');
  const clearLen = payload.length + padLen + 2;
  const icvLen = c.aead ? 16 : (integ?.icvBytes ?? 0);
  const out = Buffer.allocUnsafe(8 + iv.length + clearLen + icvLen);
  out.writeUInt32BE(k.spi >>> 0, 0);
  out.writeUInt32BE(seq >>> 0, 4);
  iv.copy(out, 8);
  const bodyStart = 8 + iv.length;
  // The clear text with its trailer (RFC 4303 §2.4 default padding 1, 2, …), laid out in place.
  out.set(payload, bodyStart);
  for (let i = 0; i < padLen; i++) out[bodyStart + payload.length + i] = i + 1;
  out[bodyStart + clearLen - 2] = padLen;
  out[bodyStart + clearLen - 1] = nextHeader;
  const clear = out.subarray(bodyStart, bodyStart + clearLen);
  if (c.aead) {
    // GCM: AAD = SPI ‖ sequence number; nonce = salt ‖ explicit IV.
    const g = createCipheriv(c.name as CipherGCMTypes, k.encKey, Buffer.concat([k.salt, iv]), { authTagLength: 16 });
    g.setAAD(out.subarray(0, 8));
    const ct = g.update(clear);
    g.final();
    ct.copy(out, bodyStart);
    g.getAuthTag().copy(out, bodyStart + clearLen);
    return out;
  }
  if (c.name !== null) {
    const e = createCipheriv(c.name, desKey(c, k.encKey), iv).setAutoPadding(false);
    const ct = e.update(clear);
    e.final();
    ct.copy(out, bodyStart);
  }
  if (!integ) return out;
  const body = out.subarray(0, bodyStart + clearLen);
  const icv = integ.kind === 'gmac'
    ? gmac(integ.gmacBits!, k.integKey, k.salt, iv, [body])
    : hmac(integ.kind, k.integKey, [body], integ.icvBytes);
  icv.copy(out, bodyStart + clearLen);
  return out;
}

/** Verifies and opens an ESP packet of `k` (the check that the simulated frames are real). */
export function espOpen(k: EspKeys, packet: Uint8Array): { seq: number; nextHeader: number; padLength: number; payload: Buffer } {
  const p = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  const c = cipherSpec(k.encryption, k.keyLength);
  const integ = c.aead ? null : integSpec(k.integrity);
  if (p.readUInt32BE(0) !== k.spi >>> 0) throw new Error('SPI is not this SA\'s');
  const seq = p.readUInt32BE(4);
  const ivLen = espIvBytes(k);
  const iv = p.subarray(8, 8 + ivLen);
  let plain: Buffer;
  if (c.aead) {
    const d = createDecipheriv(c.name as CipherGCMTypes, k.encKey, Buffer.concat([k.salt, iv]), { authTagLength: 16 });
    d.setAAD(p.subarray(0, 8));
    d.setAuthTag(p.subarray(p.length - 16));
    plain = Buffer.concat([d.update(p.subarray(8 + ivLen, p.length - 16)), d.final()]);
  } else {
    const icvLen = integ?.icvBytes ?? 0;
    const body = p.subarray(0, p.length - icvLen);
    if (integ) {
      const want = integ.kind === 'gmac'
        ? gmac(integ.gmacBits!, k.integKey, k.salt, Buffer.from(iv), [body])
        : hmac(integ.kind, k.integKey, [body], integ.icvBytes);
      if (!timingSafeEqual(want, p.subarray(p.length - icvLen))) throw new Error('ESP ICV mismatch');
    }
    const ct = body.subarray(8 + ivLen);
    if (c.name === null) plain = Buffer.from(ct);
    else {
      const d = createDecipheriv(c.name, desKey(c, k.encKey), iv).setAutoPadding(false);
      plain = Buffer.concat([d.update(ct), d.final()]);
    }
  }
  const nextHeader = plain[plain.length - 1]!;
  const padLen = plain[plain.length - 2]!;
  const end = plain.length - 2 - padLen;
  if (end < 0) throw new Error('ESP pad length exceeds the payload');
  for (let i = 1; i <= padLen; i++) if (plain[end + i - 1] !== i) throw new Error('ESP padding is not 1, 2, …, N');
  return { seq, nextHeader, padLength: padLen, payload: plain.subarray(0, end) };
}

// ---------------------------------------------------------------- AH

export interface AhKeys {
  spi: number;
  integrity: string;
  key: Buffer;
  salt: Buffer;
}

export function newAhKeys(suite: IanaChildSuite, spi: number, rnd: RandomSource): AhKeys {
  const i = integSpec(suite.ahIntegrity);
  if (!i) throw new Error('AH needs an integrity algorithm');
  return { spi, integrity: suite.ahIntegrity!, key: rnd.bytes(i.keyBytes), salt: rnd.bytes(i.kind === 'gmac' ? 4 : 0) };
}

/** The ICV field's length: GMAC carries its 8-byte IV there (RFC 4543 §3.2); padded so AH stays 32-bit (IPv4) / 64-bit (IPv6) aligned. */
function ahIcvField(integ: IntegSpec, v6: boolean): number {
  const raw = integ.icvBytes + (integ.kind === 'gmac' ? 8 : 0);
  const align = v6 ? 8 : 4;
  return raw + ((align - ((12 + raw) % align)) % align);
}

/**
 * A whole IP packet (IPv4 or IPv6, no options or extension headers) protected by AH in
 * transport mode: `ipHeader` is the packet's IP header with its protocol/next header and
 * length already set for AH + payload. The ICV covers the header with its mutable fields
 * zeroed (RFC 4302 §3.3.3.1), the AH header with a zero ICV, and the payload.
 */
export function ahSeal(k: AhKeys, seq: number, ipHeader: Buffer, nextHeader: number, payload: Uint8Array, gmacIv?: Buffer): Buffer {
  const integ = integSpec(k.integrity)!;
  const v6 = ipHeader[0]! >> 4 === 6;
  const field = ahIcvField(integ, v6);
  const ahLen = 12 + field;
  const ah = Buffer.alloc(ahLen);
  ah[0] = nextHeader;
  ah[1] = ahLen / 4 - 2;
  ah.writeUInt32BE(k.spi >>> 0, 4);
  ah.writeUInt32BE(seq >>> 0, 8);
  const zeroed = Buffer.from(ipHeader);
  if (v6) {
    zeroed[1] = 0; zeroed[2] = 0; zeroed[3] = 0; zeroed[0] = 0x60; // traffic class, flow label
    zeroed[7] = 0; // hop limit
  } else {
    zeroed[1] = 0; // TOS
    zeroed.writeUInt16BE(0, 6); // flags, fragment offset
    zeroed[8] = 0; // TTL
    zeroed.writeUInt16BE(0, 10); // header checksum
  }
  let icv: Buffer;
  if (integ.kind === 'gmac') {
    const iv = gmacIv ?? Buffer.alloc(8);
    iv.copy(ah, 12);
    icv = Buffer.concat([iv, gmac(integ.gmacBits!, k.key, k.salt, iv, [zeroed, ah, payload])]);
  } else {
    icv = hmac(integ.kind, k.key, [zeroed, ah, payload], integ.icvBytes);
  }
  icv.copy(ah, 12);
  return Buffer.concat([ipHeader, ah, payload]);
}

/** Bytes AH adds for these keys (to size the IP header before sealing). */
export function ahLength(k: AhKeys, v6: boolean): number {
  return 12 + ahIcvField(integSpec(k.integrity)!, v6);
}

/** Verifies the ICV of an AH packet built by ahSeal (IPv4 without options, or IPv6 without extensions). */
export function ahVerify(k: AhKeys, packet: Uint8Array): { nextHeader: number; payload: Buffer } {
  const p = Buffer.from(packet);
  const v6 = p[0]! >> 4 === 6;
  const hl = v6 ? 40 : (p[0]! & 0x0f) * 4;
  if ((v6 ? p[6] : p[9]) !== IPPROTO.AH) throw new Error('not an AH packet');
  const ahLen = (p[hl + 1]! + 2) * 4;
  const nextHeader = p[hl]!;
  const integ = integSpec(k.integrity)!;
  const got = Buffer.from(p.subarray(hl + 12, hl + ahLen));
  const rebuilt = ahSeal(k, p.readUInt32BE(hl + 8), p.subarray(0, hl), nextHeader, p.subarray(hl + ahLen), integ.kind === 'gmac' ? got.subarray(0, 8) : undefined);
  if (!timingSafeEqual(rebuilt.subarray(hl + 12, hl + ahLen), got)) throw new Error('AH ICV mismatch');
  return { nextHeader, payload: p.subarray(hl + ahLen) };
}
