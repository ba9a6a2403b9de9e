// Structural ESP-NULL detection (RFC 5879, the approach of Wireshark's esp_null_heur;
// research/captures.md §4). Only the phase-1 proposal is visible on the wire, so whether
// ESP actually encrypts can only be judged from the ESP packets themselves. Entropy is
// not used: it misfires on small packets and on ESP-NULL carrying TLS.

/** The packet's trailer and inner header parse as an unencrypted ESP payload. */
export const ESP_LOOKS_NULL = 1;
/** No ICV length gives a valid trailer and inner header: the payload is encrypted. */
export const ESP_LOOKS_ENCRYPTED = 2;
/** The capture does not hold the whole packet (snaplen), so the trailer cannot be seen. */
export const ESP_UNJUDGED = 3;

/** ICV lengths of RFC 5879 §8.1, shortest first. */
const ICV_LENGTHS = [12, 16, 24, 32];
const ESP_HEADER = 8;

/** Result details of the last classify() call that looked NULL. */
export class EspNullProbe {
  icvLength = 0;
  ivLength = 0;
  nextHeader = 0;

  /** Classifies one ESP packet at buf[off, off+len) (from the SPI to the end of the ICV). */
  classify(buf: Buffer, off: number, len: number, complete: boolean): number {
    if (!complete) return ESP_UNJUDGED;
    for (const icv of ICV_LENGTHS) {
      if (this.tryLayout(buf, off, len, 0, icv)) return ESP_LOOKS_NULL;
    }
    // ENCR_NULL_AUTH_AES_GMAC: 8-byte IV, 16-byte ICV.
    if (this.tryLayout(buf, off, len, 8, 16)) return ESP_LOOKS_NULL;
    return ESP_LOOKS_ENCRYPTED;
  }

  private tryLayout(buf: Buffer, off: number, len: number, iv: number, icv: number): boolean {
    const trailer = off + len - icv - 2;
    const payloadStart = off + ESP_HEADER + iv;
    if (trailer < payloadStart) return false;
    const padLength = buf[trailer]!;
    const nextHeader = buf[trailer + 1]!;
    if (payloadStart + padLength > trailer) return false;
    // RFC 4303 §2.4 default padding: 1, 2, 3, …
    const padStart = trailer - padLength;
    for (let i = 0; i < padLength; i++) {
      if (buf[padStart + i] !== i + 1) return false;
    }
    if (!innerLooksValid(buf, payloadStart, padStart - payloadStart, nextHeader)) return false;
    this.icvLength = icv;
    this.ivLength = iv;
    this.nextHeader = nextHeader;
    return true;
  }
}

const ICMPV6_TYPES = new Set([1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143]);

/** Does buf[p, p+n) look like a header of protocol `nh` that exactly fills n bytes? */
function innerLooksValid(buf: Buffer, p: number, n: number, nh: number): boolean {
  switch (nh) {
    case 17: // UDP: its length field covers exactly the inner bytes
      return n >= 8 && buf.readUInt16BE(p + 4) === n;
    case 6: {
      // TCP: data offset 5..15 that fits, reserved bits clear
      if (n < 20) return false;
      const doff = buf[p + 12]! >> 4;
      return doff >= 5 && doff * 4 <= n && (buf[p + 12]! & 0x0e) === 0;
    }
    case 4: {
      if (n < 20) return false;
      const vihl = buf[p]!;
      return vihl >> 4 === 4 && (vihl & 0x0f) >= 5 && buf.readUInt16BE(p + 2) === n;
    }
    case 41:
      return n >= 40 && buf[p]! >> 4 === 6 && buf.readUInt16BE(p + 4) + 40 === n;
    case 1:
      // ICMP: its checksum covers no addresses, so it survives NAT and is a strong signal.
      return n >= 8 && onesComplementSum(buf, p, n) === 0xffff;
    case 58:
      return n >= 8 && ICMPV6_TYPES.has(buf[p]!) && buf[p + 1]! <= 7;
    case 47:
      return n >= 4 && (buf[p + 1]! & 0x07) === 0;
    case 132:
      return n >= 12;
    default:
      return false;
  }
}

function onesComplementSum(buf: Buffer, p: number, n: number): number {
  let sum = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += buf.readUInt16BE(p + i);
  if (i < n) sum += buf[p + i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
