// IKE message builders (RFC 7296 IKEv2; RFC 2408/2409 IKEv1; MS-AIPS AuthIP) that put the
// real clear-text proposals on the simulated wire: the phase-1 / IKE_SA_INIT SA payloads
// are all a capture can show of a negotiation (research/captures.md §3.2, §5), so the
// checker's ipsec.ike-policy verdict rests on exactly these bytes. Later messages are
// built with an encrypted body of random bytes, as an observer would see them.
// Put a message on the wire with esp.ts's ikeInUdp (port 500, or 4500 + non-ESP marker).
import { createHash, randomBytes } from 'node:crypto';
import {
  ATTR_KEY_LENGTH, DH_PUBLIC_VALUE_BYTES, EXCHANGE, IKEV1_ATTR, PAYLOAD_V1, PAYLOAD_V2, PROTOCOL_ID, TRANSFORM_TYPE,
} from '../../src/capture/ike-ids.js';
import { ipBytes, type IpAddress } from './frames.js';
import { systemRandom, type RandomSource } from './ipsec-transforms.js';

export const IKEV1_VERSION = 0x10;
export const IKEV2_VERSION = 0x20;

/** Header flags: IKEv2 R/V/I (RFC 7296 §3.1), IKEv1 E/C/A (RFC 2408 §3.1). */
export const FLAG = { V1_ENCRYPTED: 0x01, V1_COMMIT: 0x02, V1_AUTH_ONLY: 0x04, V2_INITIATOR: 0x08, V2_VERSION: 0x10, V2_RESPONSE: 0x20 } as const;

/** A fresh, non-zero 8-byte IKE SPI (cookie): system random bytes, or the wire's seeded stream. */
export function newSpi(rnd: RandomSource = systemRandom): Buffer {
  const s = rnd.bytes(8);
  if (s.every((b) => b === 0)) s[7] = 1;
  return s;
}

// ---------------------------------------------------------------- generic message

export interface IkePayload {
  type: number;
  body: Uint8Array;
  /** IKEv2 critical bit. */
  critical?: boolean;
  /**
   * Override this payload's Next Payload field: an IKEv2 SK payload names the first
   * payload inside the encryption, not the next one outside.
   */
  next?: number;
}

export interface IkeHeader {
  spiI: Uint8Array;
  /** Default all zero (an initiator's first message). */
  spiR?: Uint8Array;
  version: number;
  exchange: number;
  flags: number;
  messageId?: number;
  /** Override the header's Next Payload (IKEv1 encrypted messages name the hidden first payload). */
  firstPayload?: number;
}

/**
 * Header + payload chain (each payload's 4-byte generic header links to the next) +
 * `tail` bytes that follow unlinked (the ciphertext of an IKEv1 E-flag message).
 */
export function ikeMessage(h: IkeHeader, payloads: IkePayload[], tail: Uint8Array = new Uint8Array(0)): Buffer {
  const parts: Buffer[] = [];
  payloads.forEach((p, i) => {
    const g = Buffer.alloc(4 + p.body.length);
    g[0] = p.next ?? payloads[i + 1]?.type ?? 0;
    g[1] = p.critical ? 0x80 : 0;
    g.writeUInt16BE(g.length, 2);
    g.set(p.body, 4);
    parts.push(g);
  });
  const hdr = Buffer.alloc(28);
  const spiI = Buffer.from(h.spiI);
  const spiR = Buffer.from(h.spiR ?? Buffer.alloc(8));
  if (spiI.length !== 8 || spiR.length !== 8) throw new Error('IKE SPIs are 8 bytes');
  spiI.copy(hdr, 0);
  spiR.copy(hdr, 8);
  hdr[16] = h.firstPayload ?? payloads[0]?.type ?? 0;
  hdr[17] = h.version;
  hdr[18] = h.exchange;
  hdr[19] = h.flags;
  hdr.writeUInt32BE((h.messageId ?? 0) >>> 0, 20);
  const msg = Buffer.concat([hdr, ...parts, tail]);
  msg.writeUInt32BE(msg.length, 24);
  return msg;
}

// ---------------------------------------------------------------- shared payload bodies

export interface IkeAttribute {
  type: number;
  /** ≤ 0xffff → TV (basic, AF=1); a larger number → 4-byte TLV; bytes → TLV. */
  value: number | Uint8Array;
  /** Force TLV even for a small number (IKEv1 "variable" attributes such as life duration). */
  variable?: boolean;
}

function attributes(list: IkeAttribute[]): Buffer {
  return Buffer.concat(list.map((a) => {
    if (typeof a.value === 'number' && a.value <= 0xffff && !a.variable) {
      const b = Buffer.alloc(4);
      b.writeUInt16BE(0x8000 | a.type, 0);
      b.writeUInt16BE(a.value, 2);
      return b;
    }
    let v: Buffer;
    if (typeof a.value === 'number') { v = Buffer.alloc(4); v.writeUInt32BE(a.value >>> 0, 0); }
    else v = Buffer.from(a.value);
    const b = Buffer.alloc(4 + v.length);
    b.writeUInt16BE(a.type & 0x7fff, 0);
    b.writeUInt16BE(v.length, 2);
    v.copy(b, 4);
    return b;
  }));
}

/** A substructure with the generic 4-byte header (proposal 2 / transform 3 links; 0 = last). */
function substructure(moreType: number, last: boolean, body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b[0] = last ? 0 : moreType;
  b.writeUInt16BE(b.length, 2);
  body.copy(b, 4);
  return b;
}

/** A key-exchange public value of the group's size (random: nothing on the wire checks it). */
export function kePublicValue(group: number): Buffer {
  return randomBytes(DH_PUBLIC_VALUE_BYTES.get(group) ?? 256);
}

export function vendorIdPayload(version: 1 | 2, vid: Uint8Array): IkePayload {
  return { type: version === 1 ? PAYLOAD_V1.VID : PAYLOAD_V2.VID, body: vid };
}

const md5 = (s: string): Buffer => createHash('md5').update(s).digest();

/** Vendor IDs seen from Windows and strongSwan peers (the MD5 of a string, as Wireshark's table). */
export const VENDOR_ID = {
  RFC3947_NAT_T: md5('RFC 3947'),
  NAT_T_DRAFT_02N: md5('draft-ietf-ipsec-nat-t-ike-02\n'),
  MS_NEGOTIATION_DISCOVERY: Buffer.from('fb1de3cdf341b7ea16b7e5be0855f120', 'hex'),
  MS_INITIAL_CONTACT: Buffer.from('26244d38eddb61b3172a36e3d0cfb819', 'hex'),
  IKE_FRAGMENTATION: Buffer.from('4048b7d56ebce88525e7de7f00d6c2d3', 'hex'),
  IKE_CGA_V1: Buffer.from('e3a5966a76379fe707228231e5ce8652', 'hex'),
  DEAD_PEER_DETECTION: Buffer.from('afcad71368a1f1c96b8696fc77570100', 'hex'),
  STRONGSWAN: md5('strongSwan'),
} as const;

/**
 * MD5("MS NT5 ISAKMPOAKLEY") plus the 4-byte Windows version (9 = Windows 8 / Server
 * 2012 and later). Without the suffix Wireshark calls the packet malformed (captures.md §5.6).
 */
export function msNt5Vid(version = 9): Buffer {
  const v = Buffer.alloc(4);
  v.writeUInt32BE(version, 0);
  return Buffer.concat([md5('MS NT5 ISAKMPOAKLEY'), v]);
}

// ---------------------------------------------------------------- IKEv2

export interface Ikev2Transform {
  type: number;
  id: number;
  /** Key Length attribute (14) in bits; ENCR_AES_CBC/CTR must carry it (RFC 7296 §3.3.5). */
  keyLength?: number;
  attributes?: IkeAttribute[];
}

export interface Ikev2Proposal {
  /** Default: position in the list, from 1. */
  number?: number;
  /** Default 1 (IKE). */
  protocol?: number;
  /** Empty for the IKE SA in IKE_SA_INIT; 4 bytes for AH/ESP. */
  spi?: Uint8Array;
  transforms: Ikev2Transform[];
}

/** The SA payload (33): proposals, each with its transforms (same type = OR, different = AND). */
export function ikev2SaPayload(proposals: Ikev2Proposal[]): IkePayload {
  const props = proposals.map((p, pi) => {
    const spi = Buffer.from(p.spi ?? Buffer.alloc(0));
    const ts = p.transforms.map((t, ti) => {
      const attrs = attributes([...(t.keyLength !== undefined ? [{ type: ATTR_KEY_LENGTH, value: t.keyLength }] : []), ...(t.attributes ?? [])]);
      const body = Buffer.alloc(4 + attrs.length);
      body[0] = t.type;
      body.writeUInt16BE(t.id, 2);
      attrs.copy(body, 4);
      return substructure(3, ti === p.transforms.length - 1, body);
    });
    const head = Buffer.from([p.number ?? pi + 1, p.protocol ?? PROTOCOL_ID.IKE, spi.length, p.transforms.length]);
    return substructure(2, pi === proposals.length - 1, Buffer.concat([head, spi, ...ts]));
  });
  return { type: PAYLOAD_V2.SA, body: Buffer.concat(props) };
}

export function ikev2KePayload(group: number, publicValue: Uint8Array = kePublicValue(group)): IkePayload {
  const body = Buffer.alloc(4 + publicValue.length);
  body.writeUInt16BE(group, 0);
  body.set(publicValue, 4);
  return { type: PAYLOAD_V2.KE, body };
}

export function ikev2NoncePayload(nonce: Uint8Array = randomBytes(32)): IkePayload {
  return { type: PAYLOAD_V2.NONCE, body: nonce };
}

export interface Ikev2Notify {
  type: number;
  data?: Uint8Array;
  /** 0 for notifications about the IKE SA being set up. */
  protocol?: number;
  spi?: Uint8Array;
}

export function ikev2NotifyPayload(n: Ikev2Notify): IkePayload {
  const spi = Buffer.from(n.spi ?? Buffer.alloc(0));
  const data = Buffer.from(n.data ?? Buffer.alloc(0));
  const body = Buffer.alloc(4 + spi.length + data.length);
  body[0] = n.protocol ?? 0;
  body[1] = spi.length;
  body.writeUInt16BE(n.type, 2);
  spi.copy(body, 4);
  data.copy(body, 4 + spi.length);
  return { type: PAYLOAD_V2.NOTIFY, body };
}

/** NAT_DETECTION_*_IP data: SHA-1(SPIi ‖ SPIr ‖ IP ‖ port) (RFC 7296 §2.23). */
export function natDetectionHash(spiI: Uint8Array, spiR: Uint8Array, ip: IpAddress, port: number): Buffer {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port, 0);
  return createHash('sha1').update(spiI).update(spiR).update(ipBytes(ip)).update(p).digest();
}

export interface Ikev2SaInitCommon {
  spiI: Uint8Array;
  dhGroup: number;
  /** Default: random bytes of the group's size. */
  kePublicValue?: Uint8Array;
  nonce?: Uint8Array;
  notifies?: Ikev2Notify[];
  vendorIds?: Uint8Array[];
}

function saInitTail(o: Ikev2SaInitCommon): IkePayload[] {
  return [
    ikev2KePayload(o.dhGroup, o.kePublicValue),
    ikev2NoncePayload(o.nonce),
    ...(o.notifies ?? []).map(ikev2NotifyPayload),
    ...(o.vendorIds ?? []).map((v) => vendorIdPayload(2, v)),
  ];
}

/** IKE_SA_INIT request: SPIr zero, I flag, message id 0; SA (several proposals), KE, Ni, [N…], [V…]. */
export function ikev2SaInitRequest(o: Ikev2SaInitCommon & { proposals: Ikev2Proposal[]; cookie?: Uint8Array }): Buffer {
  // A retry after a COOKIE notify puts that notify first (RFC 7296 §2.6).
  const cookie = o.cookie ? [ikev2NotifyPayload({ type: 16390, data: o.cookie })] : [];
  return ikeMessage(
    { spiI: o.spiI, version: IKEV2_VERSION, exchange: EXCHANGE.IKE_SA_INIT, flags: FLAG.V2_INITIATOR },
    [...cookie, ikev2SaPayload(o.proposals), ...saInitTail(o)],
  );
}

/**
 * IKE_SA_INIT response: R flag, the chosen proposal with exactly one transform of each
 * type (RFC 7296 §3.3.6), KE, Nr, [N…], [V…].
 */
export function ikev2SaInitResponse(o: Ikev2SaInitCommon & { spiR: Uint8Array; proposal: Ikev2Proposal }): Buffer {
  const types = o.proposal.transforms.map((t) => t.type);
  if (new Set(types).size !== types.length) throw new Error('a chosen IKEv2 proposal has exactly one transform per type');
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV2_VERSION, exchange: EXCHANGE.IKE_SA_INIT, flags: FLAG.V2_RESPONSE },
    [ikev2SaPayload([o.proposal]), ...saInitTail(o)],
  );
}

/**
 * An IKE_SA_INIT response that refuses: only Notify payloads, SPIr zero (no SA was
 * created). E.g. NO_PROPOSAL_CHOSEN (14), or INVALID_KE_PAYLOAD (17) with the wanted
 * group as 2-byte data (use invalidKeData).
 */
export function ikev2SaInitErrorResponse(o: { spiI: Uint8Array; notifies: Ikev2Notify[] }): Buffer {
  return ikeMessage(
    { spiI: o.spiI, version: IKEV2_VERSION, exchange: EXCHANGE.IKE_SA_INIT, flags: FLAG.V2_RESPONSE },
    o.notifies.map(ikev2NotifyPayload),
  );
}

/** INVALID_KE_PAYLOAD's data: the group the responder wants (RFC 7296 §3.10.1). */
export function invalidKeData(group: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(group, 0);
  return b;
}

/**
 * An IKE_AUTH (or any later exchange) message whose body is one SK payload (46): IV,
 * ciphertext and ICV as random bytes. `firstInner` is the hidden first payload (IDi 35
 * for an initiator's IKE_AUTH, IDr 36 for the response).
 */
export function ikev2Encrypted(o: {
  spiI: Uint8Array; spiR: Uint8Array; exchange?: number; response?: boolean; initiator?: boolean; messageId?: number; firstInner?: number; bodyLength?: number;
}): Buffer {
  const response = o.response ?? false;
  const flags = (response ? FLAG.V2_RESPONSE : 0) | ((o.initiator ?? !response) ? FLAG.V2_INITIATOR : 0);
  const body = randomBytes(o.bodyLength ?? 16 + 160 + 16); // AES-CBC IV + ciphertext + 16-byte ICV
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV2_VERSION, exchange: o.exchange ?? EXCHANGE.IKE_AUTH, flags, messageId: o.messageId ?? 1 },
    [{ type: PAYLOAD_V2.SK, body, next: o.firstInner ?? (response ? PAYLOAD_V2.IDR : PAYLOAD_V2.IDI) }],
  );
}

// ---------------------------------------------------------------- IKEv1

/** One IKEv1 phase-1 transform: a complete suite (RFC 2409 App. A values). */
export interface Ikev1Suite {
  /** 1 DES, 5 3DES, 7 AES-CBC… */
  encryption: number;
  /** Attribute 14, bits. */
  keyLength?: number;
  /** 1 MD5, 2 SHA, 4 SHA2-256, 5 SHA2-384, 6 SHA2-512. */
  hash: number;
  /** 1 pre-shared key, 3 RSA signatures… */
  authMethod: number;
  group: number;
  /** Default 1 (seconds) when lifeDuration is given. */
  lifeType?: number;
  lifeDuration?: number;
  /** Further attributes, appended. */
  extra?: IkeAttribute[];
}

function suiteAttributes(s: Ikev1Suite): IkeAttribute[] {
  const a: IkeAttribute[] = [{ type: IKEV1_ATTR.ENCRYPTION_ALGORITHM, value: s.encryption }];
  if (s.keyLength !== undefined) a.push({ type: IKEV1_ATTR.KEY_LENGTH, value: s.keyLength });
  a.push(
    { type: IKEV1_ATTR.HASH_ALGORITHM, value: s.hash },
    { type: IKEV1_ATTR.AUTHENTICATION_METHOD, value: s.authMethod },
    { type: IKEV1_ATTR.GROUP_DESCRIPTION, value: s.group },
  );
  if (s.lifeDuration !== undefined) {
    a.push({ type: IKEV1_ATTR.LIFE_TYPE, value: s.lifeType ?? 1 });
    a.push({ type: IKEV1_ATTR.LIFE_DURATION, value: s.lifeDuration, variable: true });
  }
  return [...a, ...(s.extra ?? [])];
}

/**
 * The IKEv1 SA payload body (DOI 1 IPsec, situation 1 identity-only): one ISAKMP proposal
 * whose transforms (KEY_IKE) are the alternative suites. `transformNumbers` keeps the
 * initiator's numbering in a responder's single-transform reply.
 */
export function ikev1SaBody(suites: Ikev1Suite[], transformNumbers?: number[]): Buffer {
  const ts = suites.map((s, i) => {
    const attrs = attributes(suiteAttributes(s));
    const body = Buffer.alloc(4 + attrs.length);
    body[0] = transformNumbers?.[i] ?? i + 1;
    body[1] = 1; // KEY_IKE
    attrs.copy(body, 4);
    return substructure(3, i === suites.length - 1, body);
  });
  const proposal = substructure(2, true, Buffer.concat([Buffer.from([1, 1 /* PROTO_ISAKMP */, 0, suites.length]), ...ts]));
  const head = Buffer.alloc(8);
  head.writeUInt32BE(1, 0); // DOI: IPsec
  head.writeUInt32BE(1, 4); // SIT_IDENTITY_ONLY
  return Buffer.concat([head, proposal]);
}

/** IKEv1 ID payload body (RFC 2407 §4.6.2): type 1 IPv4, 5 IPv6 (from an address), 2 FQDN (from a name). */
export function ikev1IdBody(identity: IpAddress | string, protocol = 17, port = 500): Buffer {
  let type: number;
  let data: Buffer;
  if (typeof identity === 'string' && !/^[\d.]+$/.test(identity) && !identity.includes(':')) { type = 2; data = Buffer.from(identity, 'ascii'); }
  else { data = ipBytes(identity); type = data.length === 4 ? 1 : 5; }
  const h = Buffer.alloc(4);
  h[0] = type;
  h[1] = protocol;
  h.writeUInt16BE(port, 2);
  return Buffer.concat([h, data]);
}

const vids = (list: Uint8Array[] | undefined): IkePayload[] => (list ?? []).map((v) => vendorIdPayload(1, v));

/** Main Mode message 1: SA with the offered suites (one transform each), then Vendor IDs. */
export function ikev1MainMode1(o: { spiI: Uint8Array; suites: Ikev1Suite[]; vendorIds?: Uint8Array[] }): Buffer {
  return ikeMessage(
    { spiI: o.spiI, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_MAIN_MODE, flags: 0 },
    [{ type: PAYLOAD_V1.SA, body: ikev1SaBody(o.suites) }, ...vids(o.vendorIds)],
  );
}

/** Main Mode message 2: SA with the single chosen transform (numbered as offered), then Vendor IDs. */
export function ikev1MainMode2(o: { spiI: Uint8Array; spiR: Uint8Array; suite: Ikev1Suite; transformNumber?: number; vendorIds?: Uint8Array[] }): Buffer {
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_MAIN_MODE, flags: 0 },
    [{ type: PAYLOAD_V1.SA, body: ikev1SaBody([o.suite], [o.transformNumber ?? 1]) }, ...vids(o.vendorIds)],
  );
}

/**
 * Aggressive Mode message 1: SA, KE, Ni, IDii, [VIDs]. All suites must share one group
 * (the KE is sent at once), so the KE uses the first suite's.
 */
export function ikev1Aggressive1(o: { spiI: Uint8Array; suites: Ikev1Suite[]; identity: IpAddress | string; vendorIds?: Uint8Array[] }): Buffer {
  const group = o.suites[0]?.group ?? 2;
  return ikeMessage(
    { spiI: o.spiI, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_AGGRESSIVE, flags: 0 },
    [
      { type: PAYLOAD_V1.SA, body: ikev1SaBody(o.suites) },
      { type: PAYLOAD_V1.KE, body: kePublicValue(group) },
      { type: PAYLOAD_V1.NONCE, body: randomBytes(32) },
      { type: PAYLOAD_V1.ID, body: ikev1IdBody(o.identity) },
      ...vids(o.vendorIds),
    ],
  );
}

/** Digest sizes of the IKEv1 hash algorithms, for HASH_R. */
const HASH_BYTES: ReadonlyMap<number, number> = new Map([[1, 16], [2, 20], [4, 32], [5, 48], [6, 64]]);

/** Aggressive Mode message 2: SA (chosen suite), KE, Nr, IDir, HASH_R, [VIDs]. */
export function ikev1Aggressive2(o: { spiI: Uint8Array; spiR: Uint8Array; suite: Ikev1Suite; transformNumber?: number; identity: IpAddress | string; vendorIds?: Uint8Array[] }): Buffer {
  const hashLen = HASH_BYTES.get(o.suite.hash) ?? 20;
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_AGGRESSIVE, flags: 0 },
    [
      { type: PAYLOAD_V1.SA, body: ikev1SaBody([o.suite], [o.transformNumber ?? 1]) },
      { type: PAYLOAD_V1.KE, body: kePublicValue(o.suite.group) },
      { type: PAYLOAD_V1.NONCE, body: randomBytes(32) },
      { type: PAYLOAD_V1.ID, body: ikev1IdBody(o.identity) },
      { type: PAYLOAD_V1.HASH, body: randomBytes(hashLen) },
      ...vids(o.vendorIds),
    ],
  );
}

/**
 * An IKEv1 message with the E flag: header, then ciphertext (random, whole cipher blocks).
 * The header still names the hidden first payload: ID (5) for Main Mode 5/6, HASH (8) for
 * Quick Mode and Informational.
 */
export function ikev1Encrypted(o: {
  spiI: Uint8Array; spiR: Uint8Array; exchange?: number; messageId?: number; firstPayload?: number; blocks?: number; blockSize?: number;
}): Buffer {
  const exchange = o.exchange ?? EXCHANGE.IKEV1_QUICK_MODE;
  const firstPayload = o.firstPayload ?? (exchange === EXCHANGE.IKEV1_MAIN_MODE ? PAYLOAD_V1.ID : PAYLOAD_V1.HASH);
  const messageId = o.messageId ?? (exchange === EXCHANGE.IKEV1_MAIN_MODE ? 0 : randomBytes(4).readUInt32BE(0) || 1);
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV1_VERSION, exchange, flags: FLAG.V1_ENCRYPTED, messageId, firstPayload },
    [],
    randomBytes((o.blocks ?? 6) * (o.blockSize ?? 16)),
  );
}

// ---------------------------------------------------------------- AuthIP (MS-AIPS)

/**
 * AuthIP Main Mode (exchange 243): the header's next payload is the Crypto payload (0x85),
 * clear (E flag off) in the first messages, holding a sequence number (and an IV only once
 * encryption starts); it is followed by an IKEv1-style SA payload.
 */
export function authIpMainMode(o: {
  spiI: Uint8Array; spiR?: Uint8Array; suites: Ikev1Suite[]; transformNumbers?: number[]; sequence?: number; iv?: Uint8Array; vendorIds?: Uint8Array[];
}): Buffer {
  const crypto = Buffer.alloc(4 + (o.iv?.length ?? 0));
  crypto.writeUInt32BE((o.sequence ?? 0) >>> 0, 0);
  if (o.iv) crypto.set(o.iv, 4);
  return ikeMessage(
    { spiI: o.spiI, spiR: o.spiR, version: IKEV1_VERSION, exchange: EXCHANGE.AUTHIP_MAIN_MODE, flags: 0 },
    [
      { type: PAYLOAD_V1.AUTHIP_CRYPTO, body: crypto },
      { type: PAYLOAD_V1.SA, body: ikev1SaBody(o.suites, o.transformNumbers) },
      ...vids(o.vendorIds),
    ],
  );
}

// ---------------------------------------------------------------- convenience suites

/** IKEv2 proposal from algorithm IDs (one transform each unless arrays are given). */
export function ikev2Proposal(p: {
  encr: number | number[]; keyLength?: number; prf: number | number[]; integ?: number | number[]; dh: number | number[]; number?: number;
}): Ikev2Proposal {
  const list = (x: number | number[] | undefined): number[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  return {
    ...(p.number !== undefined ? { number: p.number } : {}),
    transforms: [
      ...list(p.encr).map((id) => ({ type: TRANSFORM_TYPE.ENCR, id, ...(p.keyLength !== undefined ? { keyLength: p.keyLength } : {}) })),
      ...list(p.prf).map((id) => ({ type: TRANSFORM_TYPE.PRF, id })),
      ...list(p.integ).map((id) => ({ type: TRANSFORM_TYPE.INTEG, id })),
      ...list(p.dh).map((id) => ({ type: TRANSFORM_TYPE.DH, id })),
    ],
  };
}
