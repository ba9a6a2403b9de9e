// Frame builders for the simulated wire: link-layer headers, IPv4/IPv6 (with options,
// extension headers and fragmentation), TCP/UDP/ICMP/ICMPv6 and AH, each returning a
// fresh Buffer whose length fields and checksums are right, so tshark (the test oracle)
// and our own capture reader see packets a real stack could have sent.
// These run per simulated packet, not on the file-writing hot path, so they may allocate.
import { randomBytes } from 'node:crypto';
import { endianness } from 'node:os';

export type MacAddress = string | Uint8Array;
export type IpAddress = string | Uint8Array;

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd } as const;

export const IPPROTO = {
  HOPOPTS: 0, ICMP: 1, IPIP: 4, TCP: 6, UDP: 17, IPV6: 41, ROUTING: 43, FRAGMENT: 44,
  ESP: 50, AH: 51, ICMPV6: 58, NONE: 59, DSTOPTS: 60,
} as const;

// ---------------------------------------------------------------- addresses, checksum

export function macBytes(mac: MacAddress): Buffer {
  if (typeof mac !== 'string') return Buffer.from(mac);
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) throw new Error(`bad MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function ipv4Bytes(addr: IpAddress): Buffer {
  if (typeof addr !== 'string') {
    if (addr.length !== 4) throw new Error(`IPv4 address must be 4 bytes, got ${addr.length}`);
    return Buffer.from(addr);
  }
  const parts = addr.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`bad IPv4 address: ${addr}`);
  return Buffer.from(parts.map(Number));
}

export function ipv6Bytes(addr: IpAddress): Buffer {
  if (typeof addr !== 'string') {
    if (addr.length !== 16) throw new Error(`IPv6 address must be 16 bytes, got ${addr.length}`);
    return Buffer.from(addr);
  }
  let text = addr.replace(/%.*$/, ''); // drop a zone id
  // An embedded dotted quad (::ffff:10.0.0.1) becomes two hex groups first.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    text = text.slice(0, v4.index) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address: ${addr}`);
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 2 && missing < 1) || (halves.length === 1 && missing !== 0)) throw new Error(`bad IPv6 address: ${addr}`);
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new Error(`bad IPv6 address: ${addr}`);
    out.writeUInt16BE(parseInt(g, 16), i * 2);
  });
  return out;
}

/** 4 or 16 bytes: a string with ':' is IPv6, a Uint8Array is taken by its length. */
export function ipBytes(addr: IpAddress): Buffer {
  if (typeof addr === 'string') return addr.includes(':') ? ipv6Bytes(addr) : ipv4Bytes(addr);
  if (addr.length === 4 || addr.length === 16) return Buffer.from(addr);
  throw new Error(`IP address must be 4 or 16 bytes, got ${addr.length}`);
}

/** One's-complement sum of 16-bit big-endian words (odd tail padded with zero), unfolded. */
function onesSum(data: Uint8Array, acc = 0): number {
  const n = data.length - (data.length & 1);
  for (let i = 0; i < n; i += 2) acc += (data[i]! << 8) | data[i + 1]!;
  if (data.length & 1) acc += data[n]! << 8;
  // Fold now and then so the running sum stays an exact small integer.
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return acc;
}

/** RFC 1071 Internet checksum over the concatenation of `parts` (each part word-aligned). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let acc = 0;
  for (const p of parts) acc = onesSum(p, acc);
  return ~acc & 0xffff;
}

/** The RFC 793 / RFC 8200 §8.1 pseudo-header that TCP, UDP and ICMPv6 checksums cover. */
export function pseudoHeader(src: IpAddress, dst: IpAddress, protocol: number, length: number): Buffer {
  const s = ipBytes(src);
  const d = ipBytes(dst);
  if (s.length !== d.length) throw new Error('source and destination address families differ');
  if (s.length === 4) {
    const p = Buffer.alloc(12);
    s.copy(p, 0); d.copy(p, 4);
    p[9] = protocol;
    p.writeUInt16BE(length, 10);
    return p;
  }
  const p = Buffer.alloc(40);
  s.copy(p, 0); d.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = protocol;
  return p;
}

// ---------------------------------------------------------------- link layers

export interface VlanTag {
  vid: number;
  pcp?: number;
  dei?: boolean;
  /** 0x8100 (C-tag) or 0x88a8 (802.1ad S-tag). Default: 0x88a8 for outer tags of a stack, 0x8100 for the innermost. */
  tpid?: number;
}

export interface EthernetOptions {
  dst: MacAddress;
  src: MacAddress;
  etherType: number;
  /** Outermost first. */
  vlans?: VlanTag[];
  /** Pad to the 60-byte minimum as a NIC would on receive (a sender-side capture is unpadded). */
  padToMinimum?: boolean;
}

export function ethernet(o: EthernetOptions, payload: Uint8Array): Buffer {
  const tags = o.vlans ?? [];
  const hdr = 14 + 4 * tags.length;
  const len = Math.max(hdr + payload.length, o.padToMinimum ? 60 : 0);
  const f = Buffer.alloc(len);
  macBytes(o.dst).copy(f, 0);
  macBytes(o.src).copy(f, 6);
  let off = 12;
  tags.forEach((t, i) => {
    if (t.vid < 0 || t.vid > 4095) throw new Error(`VLAN id out of range: ${t.vid}`);
    const tpid = t.tpid ?? (i < tags.length - 1 ? ETHERTYPE.QINQ : ETHERTYPE.VLAN);
    f.writeUInt16BE(tpid, off);
    f.writeUInt16BE(((t.pcp ?? 0) << 13) | (t.dei ? 0x1000 : 0) | t.vid, off + 2);
    off += 4;
  });
  f.writeUInt16BE(o.etherType, off);
  f.set(payload, hdr);
  return f;
}

/** Linux "cooked" capture packet types (who the packet was for). */
export const SLL_PACKET_TYPE = { HOST: 0, BROADCAST: 1, MULTICAST: 2, OTHERHOST: 3, OUTGOING: 4 } as const;
export const ARPHRD_ETHER = 1;

export interface SllOptions {
  packetType: number;
  /** EtherType of the payload. */
  protocol: number;
  /** Link-layer source address, up to 8 bytes (a MAC by default length 6). */
  linkAddress?: MacAddress;
  arphrd?: number;
}

function linkAddr(a: MacAddress | undefined): Buffer {
  const b = a === undefined ? Buffer.alloc(0) : macBytes(a);
  if (b.length > 8) throw new Error('link-layer address longer than 8 bytes');
  return b;
}

/** LINKTYPE_LINUX_SLL (113): 16-byte header. */
export function linuxSll(o: SllOptions, payload: Uint8Array): Buffer {
  const addr = linkAddr(o.linkAddress);
  const f = Buffer.alloc(16 + payload.length);
  f.writeUInt16BE(o.packetType, 0);
  f.writeUInt16BE(o.arphrd ?? ARPHRD_ETHER, 2);
  f.writeUInt16BE(addr.length, 4);
  addr.copy(f, 6);
  f.writeUInt16BE(o.protocol, 14);
  f.set(payload, 16);
  return f;
}

export interface Sll2Options extends SllOptions {
  interfaceIndex: number;
}

/** LINKTYPE_LINUX_SLL2 (276): 20-byte header, protocol first. */
export function linuxSll2(o: Sll2Options, payload: Uint8Array): Buffer {
  const addr = linkAddr(o.linkAddress);
  const f = Buffer.alloc(20 + payload.length);
  f.writeUInt16BE(o.protocol, 0);
  // bytes 2-3 reserved (must be zero)
  f.writeUInt32BE(o.interfaceIndex, 4);
  f.writeUInt16BE(o.arphrd ?? ARPHRD_ETHER, 8);
  f[10] = o.packetType;
  f[11] = addr.length;
  addr.copy(f, 12);
  f.set(payload, 20);
  return f;
}

/** BSD address families as NULL/LOOP headers carry them; IPv6's value differs per OS. */
export const AF = { INET: 2, INET6_BSD: 24, INET6_FREEBSD: 28, INET6_DARWIN: 30 } as const;

export type ByteOrder = 'le' | 'be';
export const HOST_BYTE_ORDER: ByteOrder = endianness() === 'LE' ? 'le' : 'be';

/** LINKTYPE_NULL (0): the family in the capturing host's byte order (this host's by default). */
export function bsdNull(family: number, payload: Uint8Array, byteOrder: ByteOrder = HOST_BYTE_ORDER): Buffer {
  const f = Buffer.alloc(4 + payload.length);
  if (byteOrder === 'le') f.writeUInt32LE(family, 0);
  else f.writeUInt32BE(family, 0);
  f.set(payload, 4);
  return f;
}

/** LINKTYPE_LOOP (108): like NULL but always big-endian (OpenBSD). */
export function bsdLoop(family: number, payload: Uint8Array): Buffer {
  return bsdNull(family, payload, 'be');
}

export interface ArpOptions {
  /** 1 request, 2 reply. */
  operation: number;
  senderMac: MacAddress;
  senderIp: IpAddress;
  targetMac?: MacAddress;
  targetIp: IpAddress;
}

/** An Ethernet/IPv4 ARP packet (28 bytes); wrap it with ETHERTYPE.ARP. */
export function arp(o: ArpOptions): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(ARPHRD_ETHER, 0);
  p.writeUInt16BE(ETHERTYPE.IPV4, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(o.operation, 6);
  macBytes(o.senderMac).copy(p, 8);
  ipv4Bytes(o.senderIp).copy(p, 14);
  macBytes(o.targetMac ?? '00:00:00:00:00:00').copy(p, 18);
  ipv4Bytes(o.targetIp).copy(p, 24);
  return p;
}

// ---------------------------------------------------------------- IPv4

export interface Ipv4Options {
  src: IpAddress;
  dst: IpAddress;
  protocol: number;
  ttl?: number;
  id?: number;
  tos?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** In bytes; must be a multiple of 8. */
  fragmentOffset?: number;
  /** Raw option bytes; padded with End-of-Options to a multiple of 4 (max 40). */
  options?: Uint8Array;
  /** Override the computed header checksum (to build a deliberately bad packet). */
  checksum?: number;
}

export function ipv4(o: Ipv4Options, payload: Uint8Array): Buffer {
  const p = ipv4Layout(o, payload.length, true);
  p.set(payload, p.length - payload.length);
  return p;
}

/** The header alone of the IPv4 datagram ipv4(o, payload) builds for a payload of `payloadLength` bytes. */
export function ipv4Header(o: Ipv4Options, payloadLength: number): Buffer {
  return ipv4Layout(o, payloadLength, false);
}

/** The header of a datagram with `payloadLength` bytes after it, in a buffer with room for them when `withRoom`. */
function ipv4Layout(o: Ipv4Options, payloadLength: number, withRoom: boolean): Buffer {
  const optLen = o.options ? (o.options.length + 3) & ~3 : 0;
  if (optLen > 40) throw new Error('IPv4 options longer than 40 bytes');
  const fragOff = o.fragmentOffset ?? 0;
  if (fragOff % 8 !== 0 || fragOff > 0xfff8) throw new Error(`bad fragment offset ${fragOff}`);
  const hl = 20 + optLen;
  const total = hl + payloadLength;
  if (total > 0xffff) throw new Error(`IPv4 datagram too long: ${total}`);
  const p = Buffer.alloc(withRoom ? total : hl);
  p[0] = 0x40 | (hl >> 2);
  p[1] = o.tos ?? 0;
  p.writeUInt16BE(total, 2);
  p.writeUInt16BE(o.id ?? 0, 4);
  p.writeUInt16BE((o.dontFragment ? 0x4000 : 0) | (o.moreFragments ? 0x2000 : 0) | (fragOff >> 3), 6);
  p[8] = o.ttl ?? 64;
  p[9] = o.protocol;
  ipv4Bytes(o.src).copy(p, 12);
  ipv4Bytes(o.dst).copy(p, 16);
  if (o.options) p.set(o.options, 20);
  p.writeUInt16BE(o.checksum ?? internetChecksum(p.subarray(0, hl)), 10);
  return p;
}

/** Options a router copies into every fragment: those with the copy bit (RFC 791). */
function copiedOptions(opts: Uint8Array): Buffer {
  const keep: number[] = [];
  for (let i = 0; i < opts.length; ) {
    const type = opts[i]!;
    if (type === 0) break; // end of option list
    if (type === 1) { i++; continue; } // NOP
    const len = opts[i + 1] ?? 0;
    if (len < 2 || i + len > opts.length) break;
    if (type & 0x80) keep.push(...opts.subarray(i, i + len));
    i += len;
  }
  return Buffer.from(keep);
}

/**
 * Splits an IPv4 datagram into fragments of at most `mtu` bytes (RFC 791 §3.2): payload in
 * 8-byte units, all options in the first fragment and only copied ones in the rest.
 * Works on an already-fragmented datagram too (offsets and MF carry over).
 */
export function fragmentIpv4(datagram: Uint8Array, mtu: number): Buffer[] {
  const d = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const hl = (d[0]! & 0x0f) * 4;
  const total = d.readUInt16BE(2);
  const flags = d.readUInt16BE(6);
  if (total <= mtu) return [Buffer.from(d.subarray(0, total))];
  if (flags & 0x4000) throw new Error('datagram has DF set and exceeds the MTU');
  const baseOff = (flags & 0x1fff) * 8;
  const lastHasMf = (flags & 0x2000) !== 0;
  const firstOpts = d.subarray(20, hl);
  const laterOpts = copiedOptions(firstOpts);
  const payload = d.subarray(hl, total);
  const common = {
    src: d.subarray(12, 16), dst: d.subarray(16, 20), protocol: d[9]!, ttl: d[8]!, id: d.readUInt16BE(4), tos: d[1]!,
  };
  const out: Buffer[] = [];
  for (let pos = 0; pos < payload.length; ) {
    const opts = pos === 0 ? firstOpts : laterOpts;
    const hdr = 20 + ((opts.length + 3) & ~3);
    const room = Math.floor((mtu - hdr) / 8) * 8;
    if (room <= 0) throw new Error(`MTU ${mtu} too small for the IPv4 header`);
    const n = Math.min(room, payload.length - pos);
    const last = pos + n >= payload.length;
    out.push(ipv4({
      ...common, options: opts.length ? opts : undefined, fragmentOffset: baseOff + pos, moreFragments: !last || lastHasMf,
    }, payload.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

// ---------------------------------------------------------------- IPv6

export type Ipv6ExtensionHeader =
  /** Hop-by-hop (0) or destination options (60): raw TLV options, padded with Pad1/PadN to 8n. */
  | { type: 0 | 60; options?: Uint8Array }
  /**
   * Routing (43). Type-specific data defaults to 4 reserved bytes followed by `addresses`
   * (the layout of types 0 and 2); give `data` for anything else (4 + data must be 8n).
   */
  | { type: 43; routingType?: number; segmentsLeft?: number; addresses?: IpAddress[]; data?: Uint8Array }
  /** Fragment (44): offset in bytes (multiple of 8). */
  | { type: 44; offset: number; more: boolean; id: number };

export interface Ipv6Options {
  src: IpAddress;
  dst: IpAddress;
  /** The upper-layer protocol after all extension headers. */
  nextHeader: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensions?: Ipv6ExtensionHeader[];
}

/** Pads a TLV option area so that 2 + area is a multiple of 8 (RFC 8200 §4.2). */
function padOptions(opts: Uint8Array): Buffer {
  const need = (8 - ((2 + opts.length) % 8)) % 8;
  const pad = Buffer.alloc(need);
  if (need === 1) pad[0] = 0; // Pad1
  else if (need > 1) { pad[0] = 1; pad[1] = need - 2; } // PadN
  return Buffer.concat([opts, pad]);
}

function extensionBytes(e: Ipv6ExtensionHeader, next: number): Buffer {
  switch (e.type) {
    case 0:
    case 60: {
      const body = padOptions(e.options ?? new Uint8Array(0));
      const h = Buffer.alloc(2 + body.length);
      h[0] = next;
      h[1] = h.length / 8 - 1;
      body.copy(h, 2);
      return h;
    }
    case 43: {
      const data = e.data ?? Buffer.concat([Buffer.alloc(4), ...(e.addresses ?? []).map(ipv6Bytes)]);
      if ((4 + data.length) % 8 !== 0) throw new Error('routing header length is not a multiple of 8');
      const h = Buffer.alloc(4 + data.length);
      h[0] = next;
      h[1] = h.length / 8 - 1;
      h[2] = e.routingType ?? 0;
      h[3] = e.segmentsLeft ?? 0;
      h.set(data, 4);
      return h;
    }
    case 44: {
      if (e.offset % 8 !== 0) throw new Error(`bad fragment offset ${e.offset}`);
      const h = Buffer.alloc(8);
      h[0] = next;
      h.writeUInt16BE(e.offset | (e.more ? 1 : 0), 2);
      h.writeUInt32BE(e.id >>> 0, 4);
      return h;
    }
  }
}

export function ipv6(o: Ipv6Options, payload: Uint8Array): Buffer {
  const p = ipv6Layout(o, payload.length, true);
  p.set(payload, p.length - payload.length);
  return p;
}

/** The headers alone (fixed header and extensions) of the packet ipv6(o, payload) builds for a payload of `payloadLength` bytes. */
export function ipv6Header(o: Ipv6Options, payloadLength: number): Buffer {
  return ipv6Layout(o, payloadLength, false);
}

function ipv6Layout(o: Ipv6Options, payloadLength: number, withRoom: boolean): Buffer {
  const exts = o.extensions ?? [];
  const parts = exts.map((e, i) => extensionBytes(e, exts[i + 1]?.type ?? o.nextHeader));
  const extLen = parts.reduce((s, b) => s + b.length, 0);
  const plen = extLen + payloadLength;
  if (plen > 0xffff) throw new Error('IPv6 payload too long (jumbograms are not supported)');
  const p = Buffer.alloc(40 + (withRoom ? plen : extLen));
  p.writeUInt32BE(((6 << 28) | ((o.trafficClass ?? 0) << 20) | ((o.flowLabel ?? 0) & 0xfffff)) >>> 0, 0);
  p.writeUInt16BE(plen, 4);
  p[6] = exts[0]?.type ?? o.nextHeader;
  p[7] = o.hopLimit ?? 64;
  ipv6Bytes(o.src).copy(p, 8);
  ipv6Bytes(o.dst).copy(p, 24);
  let off = 40;
  for (const b of parts) { b.copy(p, off); off += b.length; }
  return p;
}

/**
 * Splits an IPv6 packet per RFC 8200 §4.5. The per-fragment part is the IPv6 header plus
 * hop-by-hop, routing and any destination options before routing; everything after it
 * (further extension headers and the upper layer) is fragmentable, in 8-byte units.
 */
export function fragmentIpv6(packet: Uint8Array, mtu: number, id: number): Buffer[] {
  const p = Buffer.from(packet.buffer, packet.byteOffset, packet.length);
  const end = 40 + p.readUInt16BE(4);
  // Walk the chain; remember where the unfragmentable part ends and which byte names what follows it.
  let nhAt = 6;
  let unfragEnd = 40;
  let off = 40;
  let nh = p[6]!;
  while (off < end && (nh === 0 || nh === 43 || nh === 60)) {
    const len = (p[off + 1]! + 1) * 8;
    if (nh === 60) {
      // Destination options are per-fragment only when a routing header follows them.
      let look = off + len;
      let lnh = p[off]!;
      while (lnh === 60 && look < end) { lnh = p[look]!; look += (p[look + 1]! + 1) * 8; }
      if (lnh !== 43) break;
    }
    nhAt = off; // an extension header names its successor in its first byte
    unfragEnd = off + len;
    nh = p[off]!;
    off += len;
  }
  const firstFragNh = p[nhAt]!;
  const unfrag = p.subarray(0, unfragEnd);
  const rest = p.subarray(unfragEnd, end);
  const room = Math.floor((mtu - unfragEnd - 8) / 8) * 8;
  if (room <= 0) throw new Error(`MTU ${mtu} too small for the unfragmentable part`);
  const out: Buffer[] = [];
  for (let pos = 0; pos < rest.length || out.length === 0; ) {
    const n = Math.min(room, rest.length - pos);
    const last = pos + n >= rest.length;
    const f = Buffer.alloc(unfragEnd + 8 + n);
    unfrag.copy(f, 0);
    f[nhAt] = IPPROTO.FRAGMENT;
    f.writeUInt16BE(8 + n + unfragEnd - 40, 4);
    f[unfragEnd] = firstFragNh;
    f.writeUInt16BE(pos | (last ? 0 : 1), unfragEnd + 2);
    f.writeUInt32BE(id >>> 0, unfragEnd + 4);
    rest.copy(f, unfragEnd + 8, pos, pos + n);
    out.push(f);
    pos += n;
    if (n === 0) break;
  }
  return out;
}

/** IPv4 or IPv6 by the address family of `src`; `extra` passes version-specific fields. */
export function ipPacket(
  src: IpAddress, dst: IpAddress, protocol: number, payload: Uint8Array,
  extra: Partial<Omit<Ipv4Options, 'src' | 'dst' | 'protocol'>> & Partial<Omit<Ipv6Options, 'src' | 'dst' | 'nextHeader'>> = {},
): Buffer {
  if (ipBytes(src).length === 4) return ipv4({ ...extra, src, dst, protocol }, payload);
  return ipv6({ ...extra, src, dst, nextHeader: protocol }, payload);
}

// ---------------------------------------------------------------- TCP, UDP

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** Common TCP option encodings (RFC 9293, 7323, 2018). */
export const TCP_OPTION = {
  nop: (): Buffer => Buffer.from([1]),
  mss: (mss: number): Buffer => Buffer.from([2, 4, mss >> 8, mss & 0xff]),
  windowScale: (shift: number): Buffer => Buffer.from([3, 3, shift]),
  sackPermitted: (): Buffer => Buffer.from([4, 2]),
  timestamps: (value: number, echo: number): Buffer => {
    const b = Buffer.alloc(10);
    b[0] = 8; b[1] = 10;
    b.writeUInt32BE(value >>> 0, 2);
    b.writeUInt32BE(echo >>> 0, 6);
    return b;
  },
};

export interface TcpOptions {
  /** Addresses of the IP header this segment goes in: the checksum's pseudo-header. */
  src: IpAddress;
  dst: IpAddress;
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  urgent?: number;
  /** Raw option bytes, padded with End-of-Options to a multiple of 4 (max 40). */
  options?: Uint8Array;
  checksum?: number;
}

export function tcp(o: TcpOptions, payload: Uint8Array = new Uint8Array(0)): Buffer {
  const optLen = o.options ? (o.options.length + 3) & ~3 : 0;
  if (optLen > 40) throw new Error('TCP options longer than 40 bytes');
  const hl = 20 + optLen;
  const s = Buffer.alloc(hl + payload.length);
  s.writeUInt16BE(o.srcPort, 0);
  s.writeUInt16BE(o.dstPort, 2);
  s.writeUInt32BE((o.seq ?? 0) >>> 0, 4);
  s.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  s[12] = (hl / 4) << 4;
  s[13] = o.flags ?? TCP_FLAGS.ACK;
  s.writeUInt16BE(o.window ?? 65535, 14);
  s.writeUInt16BE(o.urgent ?? 0, 18);
  if (o.options) s.set(o.options, 20);
  s.set(payload, hl);
  s.writeUInt16BE(o.checksum ?? internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO.TCP, s.length), s), 16);
  return s;
}

export interface UdpOptions {
  src: IpAddress;
  dst: IpAddress;
  srcPort: number;
  dstPort: number;
  /**
   * true (default) computes it; false writes 0, "no checksum", which only IPv4 allows
   * (RFC 3948 §2.1 has ESP-in-UDP senders do that); a number overrides it.
   */
  checksum?: boolean | number;
}

export function udp(o: UdpOptions, payload: Uint8Array): Buffer {
  const d = Buffer.alloc(8 + payload.length);
  if (d.length > 0xffff) throw new Error('UDP datagram too long');
  d.writeUInt16BE(o.srcPort, 0);
  d.writeUInt16BE(o.dstPort, 2);
  d.writeUInt16BE(d.length, 4);
  d.set(payload, 8);
  let sum: number;
  if (typeof o.checksum === 'number') sum = o.checksum;
  else if (o.checksum === false) {
    if (ipBytes(o.src).length === 16) throw new Error('IPv6 UDP must carry a checksum');
    sum = 0;
  } else {
    sum = internetChecksum(pseudoHeader(o.src, o.dst, IPPROTO.UDP, d.length), d);
    if (sum === 0) sum = 0xffff; // 0 means "none" on the wire (RFC 768)
  }
  d.writeUInt16BE(sum, 6);
  return d;
}

// ---------------------------------------------------------------- ICMP, ICMPv6

export interface EchoOptions {
  reply?: boolean;
  id: number;
  seq: number;
}

/** ICMPv4 echo request (8) / reply (0); the checksum covers the ICMP message only. */
export function icmpEcho(o: EchoOptions, data: Uint8Array = new Uint8Array(0)): Buffer {
  const m = Buffer.alloc(8 + data.length);
  m[0] = o.reply ? 0 : 8;
  m.writeUInt16BE(o.id, 4);
  m.writeUInt16BE(o.seq, 6);
  m.set(data, 8);
  m.writeUInt16BE(internetChecksum(m), 2);
  return m;
}

/** Any ICMPv6 message: checksum over the pseudo-header with the given addresses. */
export function icmpv6(src: IpAddress, dst: IpAddress, type: number, code: number, body: Uint8Array): Buffer {
  const m = Buffer.alloc(4 + body.length);
  m[0] = type;
  m[1] = code;
  m.set(body, 4);
  m.writeUInt16BE(internetChecksum(pseudoHeader(src, dst, IPPROTO.ICMPV6, m.length), m), 2);
  return m;
}

export function icmpv6Echo(o: EchoOptions & { src: IpAddress; dst: IpAddress }, data: Uint8Array = new Uint8Array(0)): Buffer {
  const body = Buffer.alloc(4 + data.length);
  body.writeUInt16BE(o.id, 0);
  body.writeUInt16BE(o.seq, 2);
  body.set(data, 4);
  return icmpv6(o.src, o.dst, o.reply ? 129 : 128, 0, body);
}

/** ff02::1:ffXX:XXXX for a target address (RFC 4291 §2.7.1): where an NS is sent. */
export function solicitedNodeMulticast(target: IpAddress): Buffer {
  const a = ipv6Bytes('ff02::1:ff00:0');
  ipv6Bytes(target).copy(a, 13, 13, 16);
  return a;
}

function linkLayerOption(type: 1 | 2, mac: MacAddress): Buffer {
  const o = Buffer.alloc(8);
  o[0] = type;
  o[1] = 1; // length in units of 8 bytes
  macBytes(mac).copy(o, 2);
  return o;
}

/** Neighbour Solicitation (135); send from the host's address (hop limit 255) to the solicited-node group. */
export function icmpv6NeighborSolicitation(o: { src: IpAddress; dst: IpAddress; target: IpAddress; sourceLinkAddress?: MacAddress }): Buffer {
  const body = Buffer.concat([Buffer.alloc(4), ipv6Bytes(o.target), o.sourceLinkAddress ? linkLayerOption(1, o.sourceLinkAddress) : Buffer.alloc(0)]);
  return icmpv6(o.src, o.dst, 135, 0, body);
}

/** Neighbour Advertisement (136), with the R/S/O flags. */
export function icmpv6NeighborAdvertisement(o: {
  src: IpAddress; dst: IpAddress; target: IpAddress; router?: boolean; solicited?: boolean; override?: boolean; targetLinkAddress?: MacAddress;
}): Buffer {
  const flags = Buffer.alloc(4);
  flags[0] = (o.router ? 0x80 : 0) | (o.solicited ? 0x40 : 0) | (o.override ? 0x20 : 0);
  const body = Buffer.concat([flags, ipv6Bytes(o.target), o.targetLinkAddress ? linkLayerOption(2, o.targetLinkAddress) : Buffer.alloc(0)]);
  return icmpv6(o.src, o.dst, 136, 0, body);
}

// ---------------------------------------------------------------- AH

export interface AhOptions {
  nextHeader: number;
  spi: number;
  seq: number;
  /** The ICV bytes, or its length to fill with random bytes (default 12, HMAC-*-96). */
  icv?: Uint8Array | number;
}

/**
 * RFC 4302 Authentication Header followed by `payload`. The ICV is not computed (nothing
 * on our side verifies AH); its length must keep the header a multiple of 4 bytes
 * (IPv6 needs a multiple of 8: 12 + ICV, e.g. ICV 12 or 20, is the caller's choice).
 */
export function ah(o: AhOptions, payload: Uint8Array): Buffer {
  const icv = typeof o.icv === 'object' ? Buffer.from(o.icv) : randomBytes(o.icv ?? 12);
  const hl = 12 + icv.length;
  if (hl % 4 !== 0) throw new Error('AH length must be a multiple of 4 bytes');
  const p = Buffer.alloc(hl + payload.length);
  p[0] = o.nextHeader;
  p[1] = hl / 4 - 2;
  p.writeUInt32BE(o.spi >>> 0, 4);
  p.writeUInt32BE(o.seq >>> 0, 8);
  icv.copy(p, 12);
  p.set(payload, hl);
  return p;
}
