// ESP (RFC 4303) with real cryptography, so the simulated wire carries packets that a
// real peer (or tshark with the keys) could decrypt, and ESP-NULL packets that carry the
// plaintext exactly as a misconfigured SA would (research/captures.md §4):
//   - AES-256-CBC + HMAC-SHA-256-128 (RFC 3602, RFC 4868): 16-byte IV, block padding, ICV 16;
//   - AES-256-GCM with a 16-byte ICV (RFC 4106): 4-byte salt + 8-byte explicit IV, AAD = SPI‖seq;
//   - ESP-NULL (RFC 2410): no encryption, HMAC ICV of 12/16/24/32 bytes, 4-byte alignment.
// Plus the UDP encapsulation of RFC 3948 (ESP-in-UDP on 4500, the non-ESP marker for IKE,
// the 1-byte NAT keepalive). The suites are three of those ipsec-transforms.ts implements
// for negotiated SAs, which seals and opens the packets here too.
import { randomBytes } from 'node:crypto';
import { IPPROTO, ipBytes, udp, type IpAddress } from './frames.js';
import { espIvBytes, espOpen, espSeal, newEspSpi, type EspKeys } from './ipsec-transforms.js';

export type EspSuite = 'aes-cbc-hmac-sha256' | 'aes-gcm' | 'null';

/** ESP-NULL integrity by ICV length: the RFC 5879 §8.1 set, one HMAC per length. */
export type NullIcvLength = 12 | 16 | 24 | 32;
const NULL_INTEGRITY: Record<NullIcvLength, string> = { 12: 'AUTH_HMAC_SHA1_96', 16: 'AUTH_HMAC_SHA2_256_128', 24: 'AUTH_HMAC_SHA2_384_192', 32: 'AUTH_HMAC_SHA2_512_256' };

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
  const sa: EspSa = { spi: spi ?? newEspSpi(), suite };
  if (suite === 'aes-cbc-hmac-sha256') { sa.encryptionKey = randomBytes(32); sa.integrityKey = randomBytes(32); }
  else if (suite === 'aes-gcm') sa.encryptionKey = randomBytes(36);
  else { sa.integrityKey = randomBytes(32); if (icvLength !== undefined) sa.icvLength = icvLength; }
  return sa;
}

function key(k: Uint8Array | undefined, len: number, what: string): Buffer {
  if (!k || k.length !== len) throw new Error(`ESP SA needs a ${len}-byte ${what}`);
  return Buffer.from(k);
}

function integrityKey(sa: EspSa): Buffer {
  if (!sa.integrityKey) throw new Error('ESP SA needs an integrity key');
  return Buffer.from(sa.integrityKey);
}

/** The SA in ipsec-transforms' terms: ENCR_AES_CBC 256 + AUTH_HMAC_SHA2_256_128, ENCR_AES_GCM_16 256, or ENCR_NULL + an HMAC. */
function transformKeys(sa: EspSa): EspKeys {
  const none = Buffer.alloc(0);
  switch (sa.suite) {
    case 'aes-cbc-hmac-sha256':
      return { spi: sa.spi, encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', encKey: key(sa.encryptionKey, 32, 'AES-256 key'), salt: none, integKey: integrityKey(sa) };
    case 'aes-gcm': {
      const km = key(sa.encryptionKey, 36, 'AES-256-GCM key + salt');
      return { spi: sa.spi, encryption: 'ENCR_AES_GCM_16', keyLength: 256, integrity: null, encKey: km.subarray(0, 32), salt: km.subarray(32), integKey: none };
    }
    case 'null': {
      const integKey = integrityKey(sa);
      const len = sa.icvLength ?? 16;
      const integrity = NULL_INTEGRITY[len];
      if (!integrity) throw new Error(`unsupported ICV length ${len}`);
      return { spi: sa.spi, encryption: 'ENCR_NULL', keyLength: null, integrity, encKey: none, salt: none, integKey };
    }
  }
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
  const k = transformKeys(sa);
  const ivLength = espIvBytes(k);
  let iv = Buffer.alloc(0);
  if (ivLength > 0) {
    iv = o.iv ? Buffer.from(o.iv) : randomBytes(ivLength);
    if (iv.length !== ivLength) throw new Error(sa.suite === 'aes-gcm' ? 'AES-GCM explicit IV must be 8 bytes' : 'AES-CBC IV must be 16 bytes');
  }
  return espSeal(k, seq, nextHeader, payload, iv, o.extraPad);
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
  if (spi !== sa.spi >>> 0) throw new Error(`SPI 0x${spi.toString(16)} is not this SA's`);
  const k = transformKeys(sa);
  if (sa.suite === 'aes-cbc-hmac-sha256' && (p.length < 8 + 16 + 16 + 16 || (p.length - 8 - 16 - 16) % 16 !== 0)) throw new Error('bad AES-CBC ESP length');
  if (sa.suite === 'aes-gcm' && p.length < 8 + 8 + 4 + 16) throw new Error('bad AES-GCM ESP length');
  return { spi, ...espOpen(k, p) };
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
