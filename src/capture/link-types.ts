// Link-layer headers: where the network-layer packet starts and what it is
// (research/captures.md §2.3; numbers from the tcpdump LINKTYPE registry).

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const NAMES: Record<number, string> = {
  [LINKTYPE_NULL]: 'NULL',
  [LINKTYPE_ETHERNET]: 'ETHERNET',
  [LINKTYPE_RAW]: 'RAW',
  [LINKTYPE_LOOP]: 'LOOP',
  [LINKTYPE_LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE_IPV4]: 'IPV4',
  [LINKTYPE_IPV6]: 'IPV6',
  [LINKTYPE_LINUX_SLL2]: 'LINUX_SLL2',
  105: 'IEEE802_11',
  127: 'IEEE802_11_RADIOTAP',
  220: 'USB_LINUX_MMAPPED',
  249: 'NETLINK',
};

export const SUPPORTED_LINK_TYPES: readonly number[] = [
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
];

export function linkTypeName(linkType: number): string {
  return NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED_LINK_TYPES.includes(linkType);
}

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** SLL/SLL2 packet types (who the packet was for). */
export const SLL_OUTGOING = 4;

/**
 * The result of peeling the link layer, written into a reused object so the hot path
 * allocates nothing. `etherType` is 0 when the frame carries no recognisable L3.
 */
export class LinkResult {
  etherType = 0;
  l3Offset = 0;
  /** SLL packet type when the link layer records it, else -1. */
  packetType = -1;
  /** True when the link layer says the frame went to a broadcast or multicast address. */
  linkMulticast = false;
  /** The capturing host's interface index (SLL2), else -1. */
  ifIndex = -1;
}

/**
 * Peels the link header at buf[off, off+len). Returns false when the link type is
 * unsupported or the frame is too short to hold its link header.
 */
export function peelLink(buf: Buffer, off: number, len: number, linkType: number, out: LinkResult): boolean {
  out.packetType = -1;
  out.linkMulticast = false;
  out.ifIndex = -1;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (len < 14) return false;
      out.linkMulticast = (buf[off]! & 1) === 1;
      let p = off + 12;
      let type = buf.readUInt16BE(p);
      // 802.1Q and 802.1ad (QinQ) tags: 4 bytes each, possibly stacked.
      while ((type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) && p + 6 <= off + len) {
        p += 4;
        type = buf.readUInt16BE(p);
      }
      if (p + 2 > off + len) return false;
      // Values ≤ 1500 are 802.3 lengths (LLC frames: STP, CDP…), not ethertypes.
      out.etherType = type > 1500 ? type : 0;
      out.l3Offset = p + 2;
      return true;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      if (len < 1) return false;
      const version = buf[off]! >> 4;
      out.etherType = version === 4 ? ETHERTYPE_IPV4 : version === 6 ? ETHERTYPE_IPV6 : 0;
      if (linkType === LINKTYPE_IPV4 && version !== 4) out.etherType = 0;
      if (linkType === LINKTYPE_IPV6 && version !== 6) out.etherType = 0;
      out.l3Offset = off;
      return true;
    }
    case LINKTYPE_LINUX_SLL: {
      if (len < 16) return false;
      out.packetType = buf.readUInt16BE(off);
      out.linkMulticast = out.packetType === 1 || out.packetType === 2;
      out.etherType = buf.readUInt16BE(off + 14);
      out.l3Offset = off + 16;
      return true;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (len < 20) return false;
      out.etherType = buf.readUInt16BE(off);
      out.packetType = buf[off + 10]!;
      out.ifIndex = buf.readInt32BE(off + 4);
      out.linkMulticast = out.packetType === 1 || out.packetType === 2;
      out.l3Offset = off + 20;
      return true;
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (len < 4) return false;
      // NULL stores the address family in the capturing host's byte order, LOOP in
      // big-endian; the family values are small, so whichever half is non-zero tells.
      let family = buf.readUInt32BE(off);
      if (linkType === LINKTYPE_NULL && (family & 0xffff) === 0) family = buf.readUInt32LE(off);
      out.etherType = family === 2 ? ETHERTYPE_IPV4 : family === 24 || family === 28 || family === 30 ? ETHERTYPE_IPV6 : 0;
      out.l3Offset = off + 4;
      return true;
    }
    default:
      return false;
  }
}
