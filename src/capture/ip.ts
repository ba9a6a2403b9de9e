// IPv4 and IPv6 header decoding into a reused view (no allocation per packet).
// Addresses are kept as four 32-bit words (IPv4 uses word 0) so flow tables can hash
// them without building strings.

export const IP_OK = 0;
/** Fewer bytes captured than the header needs. */
export const IP_TRUNCATED = 1;
/** The bytes are not a plausible IP header (bad version, IHL, lengths). */
export const IP_MALFORMED = 2;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_IPV6_ENCAP = 41;
export const PROTO_IPV4_ENCAP = 4;
export const PROTO_GRE = 47;
export const PROTO_ESP = 50;
export const PROTO_AH = 51;
export const PROTO_ICMPV6 = 58;
export const PROTO_NONE = 59;
export const PROTO_SCTP = 132;

const V6_EXTENSION_HEADERS = new Set([0, 43, 60, 135, 139, 140, 253, 254]);
const MAX_V6_HEADERS = 16;

export class IpView {
  af: 4 | 6 = 4;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  /** Upper-layer protocol after the IPv6 extension chain (AH is reported as 51). */
  proto = 0;
  /** IPv4 identification or IPv6 fragment identification. */
  fragId = 0;
  /** Fragment offset in bytes; non-zero means no upper-layer header here. */
  fragOffset = 0;
  moreFragments = false;
  /** Where the upper-layer header starts, and how many of its bytes the IP header covers and we captured. */
  l4Offset = 0;
  l4Length = 0;
  /** The IP packet's total length as its header claims it. */
  totalLength = 0;
  /** Bytes of the IP packet the capture actually holds. */
  capturedLength = 0;
  multicast = false;

  /** Decodes an IP header at buf[off, off+len); returns IP_OK, IP_TRUNCATED or IP_MALFORMED. */
  decode(buf: Buffer, off: number, len: number, version: number): number {
    return version === 4 ? this.decode4(buf, off, len) : this.decode6(buf, off, len);
  }

  private decode4(buf: Buffer, off: number, len: number): number {
    if (len < 20) return IP_TRUNCATED;
    const vihl = buf[off]!;
    if (vihl >> 4 !== 4) return IP_MALFORMED;
    const ihl = (vihl & 0x0f) * 4;
    if (ihl < 20) return IP_MALFORMED;
    if (len < ihl) return IP_TRUNCATED;
    const total = buf.readUInt16BE(off + 2);
    if (total < ihl) return IP_MALFORMED;
    this.af = 4;
    this.totalLength = total;
    // TSO/GRO captures can show a total length of 0 or shorter than the frame; trust the smaller.
    this.capturedLength = Math.min(len, total === 0 ? len : total);
    this.fragId = buf.readUInt16BE(off + 4);
    const frag = buf.readUInt16BE(off + 6);
    this.fragOffset = (frag & 0x1fff) * 8;
    this.moreFragments = (frag & 0x2000) !== 0;
    this.proto = buf[off + 9]!;
    this.s0 = buf.readUInt32BE(off + 12);
    this.d0 = buf.readUInt32BE(off + 16);
    this.s1 = this.s2 = this.s3 = this.d1 = this.d2 = this.d3 = 0;
    const d = this.d0 >>> 28;
    this.multicast = d === 0xe || this.d0 === 0xffffffff;
    this.l4Offset = off + ihl;
    this.l4Length = Math.max(0, this.capturedLength - ihl);
    return IP_OK;
  }

  private decode6(buf: Buffer, off: number, len: number): number {
    if (len < 40) return IP_TRUNCATED;
    if (buf[off]! >> 4 !== 6) return IP_MALFORMED;
    this.af = 6;
    const payload = buf.readUInt16BE(off + 4);
    this.totalLength = 40 + payload;
    // Jumbograms (payload length 0 with a hop-by-hop jumbo option) fall back to the captured length.
    this.capturedLength = payload === 0 ? len : Math.min(len, 40 + payload);
    this.s0 = buf.readUInt32BE(off + 8);
    this.s1 = buf.readUInt32BE(off + 12);
    this.s2 = buf.readUInt32BE(off + 16);
    this.s3 = buf.readUInt32BE(off + 20);
    this.d0 = buf.readUInt32BE(off + 24);
    this.d1 = buf.readUInt32BE(off + 28);
    this.d2 = buf.readUInt32BE(off + 32);
    this.d3 = buf.readUInt32BE(off + 36);
    this.multicast = this.d0 >>> 24 === 0xff;
    this.fragOffset = 0;
    this.moreFragments = false;
    this.fragId = 0;
    const end = off + this.capturedLength;
    let next = buf[off + 6]!;
    let p = off + 40;
    for (let i = 0; i < MAX_V6_HEADERS; i++) {
      if (next === 44) {
        if (p + 8 > end) return IP_TRUNCATED;
        const nh = buf[p]!;
        const fo = buf.readUInt16BE(p + 2);
        this.fragOffset = (fo >> 3) * 8;
        this.moreFragments = (fo & 1) === 1;
        this.fragId = buf.readUInt32BE(p + 4);
        next = nh;
        p += 8;
        // A non-first fragment carries no upper-layer header: stop walking.
        if (this.fragOffset !== 0) break;
      } else if (V6_EXTENSION_HEADERS.has(next)) {
        if (p + 2 > end) return IP_TRUNCATED;
        const hlen = (buf[p + 1]! + 1) * 8;
        next = buf[p]!;
        p += hlen;
        if (p > end) return IP_TRUNCATED;
      } else {
        break;
      }
    }
    this.proto = next;
    this.l4Offset = p;
    this.l4Length = Math.max(0, end - p);
    return IP_OK;
  }
}

/** Formats an address held as words (IPv4 in word 0). Used only when writing evidence. */
export function formatAddress(af: number, w0: number, w1: number, w2: number, w3: number): string {
  if (af === 4) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  const groups: number[] = [];
  for (const w of [w0, w1, w2, w3]) groups.push(w >>> 16, w & 0xffff);
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Parses `address` or `address/bits` (IPv4 or IPv6); without /bits the prefix is the whole
 * address. On failure says which part is wrong: the address (or a second '/'), or the prefix
 * length (with the largest the family allows).
 */
export function parseCidr(text: string): { af: 4 | 6; words: [number, number, number, number]; bits: number } | { bad: 'address' } | { bad: 'prefix'; max: number } {
  const [addr, bitsText, extra] = text.split('/');
  const parsed = parseAddress(addr ?? '');
  if (!parsed || extra !== undefined) return { bad: 'address' };
  const max = parsed.af === 4 ? 32 : 128;
  if (bitsText === undefined) return { ...parsed, bits: max };
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return { bad: 'prefix', max };
  return { ...parsed, bits: Number(bitsText) };
}

/** Parses a textual IPv4 or IPv6 address into words; undefined when it is not one. */
export function parseAddress(text: string): { af: 4 | 6; words: [number, number, number, number] } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    if (parts.some((n) => n > 255)) return undefined;
    return { af: 4, words: [((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0, 0, 0, 0] };
  }
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const part of s.split(':')) {
      if (part.includes('.')) {
        const inner = parseAddress(part);
        if (!inner || inner.af !== 4) return undefined;
        out.push(inner.words[0] >>> 16, inner.words[0] & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = toGroups(halves[0]!);
  const tail = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const g = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return {
    af: 6,
    words: [((g[0]! << 16) | g[1]!) >>> 0, ((g[2]! << 16) | g[3]!) >>> 0, ((g[4]! << 16) | g[5]!) >>> 0, ((g[6]! << 16) | g[7]!) >>> 0],
  };
}
