// ESP (RFC 4303) with real cryptography, so the simulated wire carries packets that a
// real peer (or tshark with the keys) could decrypt, and ESP-NULL packets that carry the
// plaintext exactly as a misconfigured SA would (research/captures.md §4):
//   - AES-256-CBC + HMAC-SHA-256-128 (RFC 3602, RFC 4868): 16-byte IV, block padding, ICV 16;
//   - AES-256-GCM with a 16-byte ICV (RFC 4106): 4-byte salt + 8-byte explicit IV, AAD = SPI‖seq;
//   - ESP-NULL (RFC 2410): no encryption, HMAC ICV of 12/16/24/32 bytes, 4-byte alignment.
// Plus the UDP encapsulation of RFC 3948 (ESP-in-UDP on 4500, the non-ESP marker for IKE,
// the 1-byte NAT keepalive). Only Node's crypto is used.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { IPPROTO, ipBytes, udp, type IpAddress } from './frames.js';

export type EspSuite = 'aes-cbc-hmac-sha256' | 'aes-gcm' | 'null';

/** ESP-NULL integrity by ICV length: the RFC 5879 §8.1 set, one HMAC per length. */
export type NullIcvLength = 12 | 16 | 24 | 32;
const HMAC_FOR_ICV: Record<NullIcvLength, string> = { 12: 'sha1', 16: 'sha256', 24: 'sha384', 32: 'sha512' };

export interface EspSa {
  spi: number;
  suite: EspSuite;
  /** aes-cbc-hmac-sha256: 32 bytes. aes-gcm: 36 bytes, key then 4-byte salt (RFC 4106 §8.1). null: unused. */
  encryptionKey?: Uint8Array;
  /** HMAC key for aes-cbc-hmac-sha256 and null (32 bytes is usual; any length works). */
  integrityKey?: Uint8Array;
  /** ESP-NULL only: 12 HMAC-SHA1-96, 16 HMAC-SHA-256-128 (default), 24 HMAC-SHA-384-192, 32 HMAC-SHA-512-256. */
  icvLength?: NullIcvLength;
}

/** A fresh SA with random keys and (unless given) a random SPI ≥ 256 (0-255 are reserved). */
export function newEspSa(suite: EspSuite, spi?: number, icvLength?: NullIcvLength): EspSa {
  const sa: EspSa = { spi: spi ?? 256 + randomBytes(4).readUInt32BE(0) % (0xffffffff - 256), suite };
  if (suite === 'aes-cbc-hmac-sha256') { sa.encryptionKey = randomBytes(32); sa.integrityKey = randomBytes(32); }
  else if (suite === 'aes-gcm') sa.encryptionKey = randomBytes(36);
  else { sa.integrityKey = randomBytes(32); if (icvLength !== undefined) sa.icvLength = icvLength; }
  return sa;
}

function icvLength(sa: EspSa): number {
  return sa.suite === 'null' ? (sa.icvLength ?? 16) : 16;
}

function key(k: Uint8Array | undefined, len: number, what: string): Buffer {
  if (!k || k.length !== len) throw new Error(`ESP SA needs a ${len}-byte ${what}`);
  return Buffer.from(k);
}

function hmacIcv(sa: EspSa, data: Uint8Array, len: number): Buffer {
  if (!sa.integrityKey) throw new Error('ESP SA needs an integrity key');
  const alg = sa.suite === 'null' ? HMAC_FOR_ICV[len as NullIcvLength] : 'sha256';
  if (!alg) throw new Error(`unsupported ICV length ${len}`);
  return createHmac(alg, sa.integrityKey).update(data).digest().subarray(0, len);
}

/** The plaintext trailer part: payload, pad 1,2,…,N, pad length, next header, aligned to `align`. */
function withTrailer(payload: Uint8Array, nextHeader: number, align: number, extraPad: number): Buffer {
  let padLen = (align - ((payload.length + 2) % align)) % align;
  padLen += extraPad;
  if (padLen > 255) throw new Error('ESP padding longer than 255 bytes');
  const b = Buffer.alloc(payload.length + padLen + 2);
  b.set(payload, 0);
  for (let i = 1; i <= padLen; i++) b[payload.length + i - 1] = i; // RFC 4303 §2.4 default pad
  b[payload.length + padLen] = padLen;
  b[payload.length + padLen + 1] = nextHeader;
  return b;
}

export interface EspOptions {
  /** CBC: 16 bytes; GCM: 8 bytes. Default random (GCM needs uniqueness, random 64 bits is fine here). */
  iv?: Uint8Array;
  /** Extra padding beyond alignment, a multiple of the alignment (hides the length, RFC 4303 §2.4). */
  extraPad?: number;
}

/**
 * The ESP packet (SPI through ICV) carrying `payload` with `nextHeader`. Wrap it in IPv4 or
 * IPv6 with protocol 50, or in UDP with espInUdp.
 */
export function espEncapsulate(sa: EspSa, seq: number, nextHeader: number, payload: Uint8Array, o: EspOptions = {}): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(sa.spi >>> 0, 0);
  head.writeUInt32BE(seq >>> 0, 4);
  switch (sa.suite) {
    case 'aes-cbc-hmac-sha256': {
      const k = key(sa.encryptionKey, 32, 'AES-256 key');
      const iv = o.iv ? Buffer.from(o.iv) : randomBytes(16);
      if (iv.length !== 16) throw new Error('AES-CBC IV must be 16 bytes');
      const plain = withTrailer(payload, nextHeader, 16, o.extraPad ?? 0);
      const c = createCipheriv('aes-256-cbc', k, iv).setAutoPadding(false);
      const body = Buffer.concat([head, iv, c.update(plain), c.final()]);
      return Buffer.concat([body, hmacIcv(sa, body, 16)]);
    }
    case 'aes-gcm': {
      const km = key(sa.encryptionKey, 36, 'AES-256-GCM key + salt');
      const iv = o.iv ? Buffer.from(o.iv) : randomBytes(8);
      if (iv.length !== 8) throw new Error('AES-GCM explicit IV must be 8 bytes');
      // GCM is a stream mode: block size 1, but the trailer still ends on a 4-byte boundary.
      const plain = withTrailer(payload, nextHeader, 4, o.extraPad ?? 0);
      const c = createCipheriv('aes-256-gcm', km.subarray(0, 32), Buffer.concat([km.subarray(32), iv]), { authTagLength: 16 });
      c.setAAD(head);
      const ct = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([head, iv, ct, c.getAuthTag()]);
    }
    case 'null': {
      const len = icvLength(sa);
      const body = Buffer.concat([head, withTrailer(payload, nextHeader, 4, o.extraPad ?? 0)]);
      return Buffer.concat([body, hmacIcv(sa, body, len)]);
    }
  }
}

/** Transport mode: the payload is an upper-layer segment (TCP 6, UDP 17, ICMP 1, ICMPv6 58…). */
export function espTransport(sa: EspSa, seq: number, protocol: number, segment: Uint8Array, o?: EspOptions): Buffer {
  return espEncapsulate(sa, seq, protocol, segment, o);
}

/** Tunnel mode: the payload is a whole inner IP packet; next header 4 or 41 from its version. */
export function espTunnel(sa: EspSa, seq: number, innerPacket: Uint8Array, o?: EspOptions): Buffer {
  const version = (innerPacket[0] ?? 0) >> 4;
  if (version !== 4 && version !== 6) throw new Error(`inner packet is not IPv4/IPv6 (version ${version})`);
  return espEncapsulate(sa, seq, version === 4 ? IPPROTO.IPIP : IPPROTO.IPV6, innerPacket, o);
}

export interface EspOpened {
  spi: number;
  seq: number;
  nextHeader: number;
  padLength: number;
  payload: Buffer;
}

/**
 * Verifies and opens an ESP packet (SPI through ICV) of `sa`: the counterpart that proves
 * our frames are real. Throws on a wrong SPI, a bad ICV/tag or bad padding.
 */
export function espDecrypt(sa: EspSa, packet: Uint8Array): EspOpened {
  const p = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  if (p.length < 8) throw new Error('ESP packet shorter than its header');
  const spi = p.readUInt32BE(0);
  const seq = p.readUInt32BE(4);
  if (spi !== sa.spi >>> 0) throw new Error(`SPI 0x${spi.toString(16)} is not this SA's`);
  let plain: Buffer;
  switch (sa.suite) {
    case 'aes-cbc-hmac-sha256': {
      const k = key(sa.encryptionKey, 32, 'AES-256 key');
      if (p.length < 8 + 16 + 16 + 16 || (p.length - 8 - 16 - 16) % 16 !== 0) throw new Error('bad AES-CBC ESP length');
      const body = p.subarray(0, p.length - 16);
      if (!timingSafeEqual(hmacIcv(sa, body, 16), p.subarray(p.length - 16))) throw new Error('ESP ICV mismatch');
      const d = createDecipheriv('aes-256-cbc', k, p.subarray(8, 24)).setAutoPadding(false);
      plain = Buffer.concat([d.update(p.subarray(24, p.length - 16)), d.final()]);
      break;
    }
    case 'aes-gcm': {
      const km = key(sa.encryptionKey, 36, 'AES-256-GCM key + salt');
      if (p.length < 8 + 8 + 4 + 16) throw new Error('bad AES-GCM ESP length');
      const d = createDecipheriv('aes-256-gcm', km.subarray(0, 32), Buffer.concat([km.subarray(32), p.subarray(8, 16)]), { authTagLength: 16 });
      d.setAAD(p.subarray(0, 8));
      d.setAuthTag(p.subarray(p.length - 16));
      plain = Buffer.concat([d.update(p.subarray(16, p.length - 16)), d.final()]); // final() throws on a bad tag
      break;
    }
    case 'null': {
      const len = icvLength(sa);
      const body = p.subarray(0, p.length - len);
      if (!timingSafeEqual(hmacIcv(sa, body, len), p.subarray(p.length - len))) throw new Error('ESP ICV mismatch');
      plain = Buffer.from(p.subarray(8, p.length - len));
      break;
    }
  }
  const nextHeader = plain[plain.length - 1]!;
  const padLength = plain[plain.length - 2]!;
  const end = plain.length - 2 - padLength;
  if (end < 0) throw new Error('ESP pad length exceeds the payload');
  for (let i = 1; i <= padLength; i++) if (plain[end + i - 1] !== i) throw new Error('ESP padding is not 1, 2, …, N');
  return { spi, seq, nextHeader, padLength, payload: plain.subarray(0, end) };
}

// ---------------------------------------------------------------- RFC 3948 UDP encapsulation

export const IKE_PORT = 500;
export const NAT_T_PORT = 4500;

export interface UdpEndpoints {
  src: IpAddress;
  dst: IpAddress;
  srcPort?: number;
  dstPort?: number;
}

/**
 * ESP-in-UDP (RFC 3948 §2.1), default ports 4500/4500. IPv4 senders SHOULD send a zero UDP
 * checksum, and we do; IPv6 requires one, so it is computed there.
 */
export function espInUdp(e: UdpEndpoints, esp: Uint8Array): Buffer {
  if (esp.length >= 4 && esp[0] === 0 && esp[1] === 0 && esp[2] === 0 && esp[3] === 0) throw new Error('SPI 0 would read as the non-ESP marker');
  const v6 = ipBytes(e.src).length === 16;
  return udp({ src: e.src, dst: e.dst, srcPort: e.srcPort ?? NAT_T_PORT, dstPort: e.dstPort ?? NAT_T_PORT, checksum: v6 }, esp);
}

/** The 4 zero bytes that tell IKE from ESP on port 4500 (RFC 3948 §2.2), followed by the IKE message. */
export function withNonEspMarker(ikeMessage: Uint8Array): Buffer {
  return Buffer.concat([Buffer.alloc(4), ikeMessage]);
}

/** IKE on UDP: port 500 as is, or port 4500 behind the non-ESP marker when `natT`. */
export function ikeInUdp(e: UdpEndpoints & { natT?: boolean }, ikeMessage: Uint8Array): Buffer {
  const port = e.natT ? NAT_T_PORT : IKE_PORT;
  return udp({ src: e.src, dst: e.dst, srcPort: e.srcPort ?? port, dstPort: e.dstPort ?? port }, e.natT ? withNonEspMarker(ikeMessage) : ikeMessage);
}

/** The NAT-keepalive (RFC 3948 §2.3): one 0xFF byte on 4500, checksum computed. */
export function natKeepalive(e: UdpEndpoints): Buffer {
  return udp({ src: e.src, dst: e.dst, srcPort: e.srcPort ?? NAT_T_PORT, dstPort: e.dstPort ?? NAT_T_PORT }, Uint8Array.of(0xff));
}
