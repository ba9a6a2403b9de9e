// IKE message decoding (RFC 7296 for IKEv2, RFC 2408/2409 for IKEv1, MS-AIPS for AuthIP):
// walks the clear-text payload chain to the SA payload. Only phase 1 / IKE_SA_INIT is
// readable on the wire; everything after is encrypted (research/captures.md §3.2, §5).
// IKE packets are rare, so this code may allocate.

export const IKE_HEADER = 28;

/** One IKE SA proposal: the alternatives offered per transform type (one each when chosen). */
export interface IkeProposal {
  encryption: { id: number; keyLength?: number }[];
  prf: number[];
  integrity: number[];
  dhGroup: number[];
  /** IKEv1 only: the phase-1 hash algorithm and authentication method. */
  hash?: number[];
  authMethod?: number[];
}

export interface IkeMessage {
  version: 1 | 2;
  exchange: number;
  spiI: string;
  spiR: string;
  flags: number;
  messageId: number;
  length: number;
  /** IKEv2 R flag; for IKEv1/AuthIP, a message with SPIr set that carries an SA (the chosen transform). */
  response: boolean;
  /** IKEv1 E flag, or an IKEv2 SK payload: the rest cannot be read. */
  encrypted: boolean;
  authIp: boolean;
  /** The capture holds fewer bytes than the message length. */
  truncated: boolean;
  proposals: IkeProposal[];
  notifies: number[];
  keGroup?: number;
  /** Why the payload chain could not be walked to its end, if it could not. */
  malformed?: string;
}

const V1_SA = 1;
const V1_PROPOSAL = 2;
const V1_TRANSFORM = 3;
const V1_NOTIFY = 11;
const AUTHIP_CRYPTO = 0x85;
const V2_SA = 33;
const V2_KE = 34;
const V2_NOTIFY = 41;
const V2_SK = 46;
const V2_SKF = 53;

const EXCHANGE_AUTHIP = new Set([243, 244, 245]);

/**
 * Decodes an IKE message at buf[off, off+len); `len` is what the capture holds.
 * Returns undefined when the bytes are not an IKE header at all (so the packet is not IKE).
 */
export function decodeIke(buf: Buffer, off: number, len: number): IkeMessage | undefined {
  if (len < IKE_HEADER) return undefined;
  const version = buf[off + 17]!;
  const major = version >> 4;
  if (major !== 1 && major !== 2) return undefined;
  const length = buf.readUInt32BE(off + 24);
  if (length < IKE_HEADER) return undefined;
  const exchange = buf[off + 18]!;
  if (major === 2 && (exchange < 34 || exchange > 43)) return undefined;
  const flags = buf[off + 19]!;
  const spiI = buf.toString('hex', off, off + 8);
  const spiR = buf.toString('hex', off + 8, off + 16);
  if (/^0+$/.test(spiI)) return undefined; // the initiator's SPI is never zero
  const msg: IkeMessage = {
    version: major as 1 | 2,
    exchange,
    spiI,
    spiR,
    flags,
    messageId: buf.readUInt32BE(off + 20),
    length,
    response: false,
    encrypted: false,
    authIp: major === 1 && EXCHANGE_AUTHIP.has(exchange),
    truncated: len < length,
    proposals: [],
    notifies: [],
  };
  const end = off + Math.min(len, length);
  const first = buf[off + 16]!;
  try {
    if (major === 2) {
      msg.response = (flags & 0x20) !== 0;
      walkV2(buf, off + IKE_HEADER, end, first, msg);
    } else {
      msg.encrypted = (flags & 0x01) !== 0;
      if (!msg.encrypted) walkV1(buf, off + IKE_HEADER, end, first, msg);
      msg.response = !/^0+$/.test(spiR) && msg.proposals.length > 0;
    }
  } catch (err) {
    msg.malformed = (err as Error).message;
  }
  return msg;
}

class Malformed extends Error {}

function payloadHeader(buf: Buffer, p: number, end: number, what: string): { next: number; length: number } {
  if (p + 4 > end) throw new Malformed(`${what} header cut short`);
  const length = buf.readUInt16BE(p + 2);
  if (length < 4) throw new Malformed(`${what} length ${length} below 4`);
  if (p + length > end) throw new Malformed(`${what} length ${length} runs past the message`);
  return { next: buf[p]!, length };
}

function walkV2(buf: Buffer, p: number, end: number, next: number, msg: IkeMessage): void {
  for (let guard = 0; next !== 0 && guard < 64; guard++) {
    if (next === V2_SK || next === V2_SKF) {
      msg.encrypted = true;
      return;
    }
    const h = payloadHeader(buf, p, end, `payload ${next}`);
    if (next === V2_SA) msg.proposals = parseV2Sa(buf, p + 4, p + h.length);
    else if (next === V2_NOTIFY && h.length >= 8) msg.notifies.push(buf.readUInt16BE(p + 6));
    else if (next === V2_KE && h.length >= 6) msg.keGroup = buf.readUInt16BE(p + 4);
    next = h.next;
    p += h.length;
  }
}

function parseV2Sa(buf: Buffer, p: number, end: number): IkeProposal[] {
  const proposals: IkeProposal[] = [];
  while (p < end) {
    const h = payloadHeader(buf, p, end, 'proposal');
    if (h.length < 8) throw new Malformed('proposal shorter than 8 bytes');
    const spiSize = buf[p + 6]!;
    const count = buf[p + 7]!;
    const proposal: IkeProposal = { encryption: [], prf: [], integrity: [], dhGroup: [] };
    let t = p + 8 + spiSize;
    const pEnd = p + h.length;
    for (let i = 0; i < count; i++) {
      const th = payloadHeader(buf, t, pEnd, 'transform');
      if (th.length < 8) throw new Malformed('transform shorter than 8 bytes');
      const type = buf[t + 4]!;
      const id = buf.readUInt16BE(t + 6);
      let keyLength: number | undefined;
      for (let a = t + 8; a + 4 <= t + th.length; ) {
        const at = buf.readUInt16BE(a);
        if (at & 0x8000) {
          if ((at & 0x7fff) === 14) keyLength = buf.readUInt16BE(a + 2);
          a += 4;
        } else {
          a += 4 + buf.readUInt16BE(a + 2);
        }
      }
      if (type === 1) proposal.encryption.push(keyLength === undefined ? { id } : { id, keyLength });
      else if (type === 2) proposal.prf.push(id);
      else if (type === 3) proposal.integrity.push(id);
      else if (type === 4) proposal.dhGroup.push(id);
      t += th.length;
    }
    proposals.push(proposal);
    p += h.length;
    if (h.next === 0) break;
  }
  return proposals;
}

function walkV1(buf: Buffer, p: number, end: number, next: number, msg: IkeMessage): void {
  for (let guard = 0; next !== 0 && guard < 64; guard++) {
    const h = payloadHeader(buf, p, end, `payload ${next}`);
    if (next === AUTHIP_CRYPTO) {
      // AuthIP Crypto payload with the E flag clear: sequence number (+ optional IV), then clear payloads.
    } else if (next === V1_SA) {
      msg.proposals = parseV1Sa(buf, p + 4, p + h.length);
    } else if (next === V1_NOTIFY && h.length >= 12) {
      msg.notifies.push(buf.readUInt16BE(p + 10));
    }
    next = h.next;
    p += h.length;
  }
}

function parseV1Sa(buf: Buffer, p: number, end: number): IkeProposal[] {
  if (p + 8 > end) throw new Malformed('SA payload shorter than DOI + situation');
  const doi = buf.readUInt32BE(p);
  p += doi === 1 ? 8 : 4; // the IPsec DOI carries a 4-byte situation
  const proposals: IkeProposal[] = [];
  while (p < end) {
    const h = payloadHeader(buf, p, end, 'proposal');
    if (h.length < 8) throw new Malformed('proposal shorter than 8 bytes');
    const spiSize = buf[p + 6]!;
    const count = buf[p + 7]!;
    let t = p + 8 + spiSize;
    const pEnd = p + h.length;
    // In IKEv1 each transform is a complete suite: one proposal per transform.
    for (let i = 0; i < count && t < pEnd; i++) {
      const th = payloadHeader(buf, t, pEnd, 'transform');
      if (th.length < 8) throw new Malformed('transform shorter than 8 bytes');
      const suite: IkeProposal = { encryption: [], prf: [], integrity: [], dhGroup: [], hash: [], authMethod: [] };
      let enc: number | undefined;
      let keyLength: number | undefined;
      for (let a = t + 8; a + 4 <= t + th.length; ) {
        const at = buf.readUInt16BE(a);
        const type = at & 0x7fff;
        let value: number;
        let size = 4;
        if (at & 0x8000) {
          value = buf.readUInt16BE(a + 2);
        } else {
          const vlen = buf.readUInt16BE(a + 2);
          size = 4 + vlen;
          value = vlen >= 1 && vlen <= 4 && a + size <= t + th.length ? buf.readUIntBE(a + 4, vlen) : -1;
        }
        if (type === 1) enc = value;
        else if (type === 2) suite.hash!.push(value);
        else if (type === 3) suite.authMethod!.push(value);
        else if (type === 4) suite.dhGroup.push(value);
        else if (type === 14) keyLength = value;
        a += size;
      }
      if (enc !== undefined) suite.encryption.push(keyLength === undefined ? { id: enc } : { id: enc, keyLength });
      proposals.push(suite);
      t += th.length;
      if (th.next !== V1_TRANSFORM) break;
    }
    p += h.length;
    if (h.next !== V1_PROPOSAL) break;
  }
  return proposals;
}
