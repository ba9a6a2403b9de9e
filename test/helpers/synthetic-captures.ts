// Synthetic captures for edge cases: each made with the simulator's writers and frame
// builders, named by what it exercises, small (< 8 KiB: they seed the fuzz test) and
// byte-for-byte deterministic (keys, IVs, nonces, SPIs all come from a seeded PRNG, so a
// fuzz failure replays). `malformedCaptures()` builds the broken files the reader must
// refuse, each with the offset and field its error must name.
//
// Addresses: nodes 10.77.0.11-13 and 2001:db8:77::11-12; 198.51.100.0/24 and
// 203.0.113.0/24 are outside the cluster.
import {
  espInUdp, espTransport, espTunnel, ikeInUdp, natKeepalive, type EspSa, type NullIcvLength,
} from '../../simulators/wire/esp.js';
import {
  AF, ETHERTYPE, IPPROTO, SLL_PACKET_TYPE, TCP_FLAGS, ah, arp, bsdLoop, bsdNull, ethernet, fragmentIpv4, fragmentIpv6, icmpEcho,
  icmpv6NeighborAdvertisement, internetChecksum, icmpv6NeighborSolicitation, ipPacket, ipv4, ipv6, linuxSll, linuxSll2,
  solicitedNodeMulticast, tcp, udp, type Ipv6ExtensionHeader, type VlanTag,
} from '../../simulators/wire/frames.js';
import {
  FLAG, IKEV1_VERSION, IKEV2_VERSION, VENDOR_ID, authIpMainMode, ikeMessage, ikev1MainMode1, ikev1MainMode2, ikev1SaBody,
  ikev1IdBody, ikev2Proposal, ikev2SaInitErrorResponse, ikev2SaInitRequest, ikev2SaInitResponse, invalidKeData, msNt5Vid,
  type Ikev1Suite, type Ikev2Proposal,
} from '../../simulators/wire/ike.js';
import {
  BLOCK, EPB_INBOUND, EPB_OUTBOUND, OPT, PcapngWriter, PcapWriter, pcapFileHeader, pcapngBlock, pcapngSectionHeader,
  pcapRecordHeader, type ByteOrder,
} from '../../simulators/wire/pcap-writer.js';
import { DH_PUBLIC_VALUE_BYTES, ENCR, EXCHANGE, INTEG, NOTIFY, PAYLOAD_V1, PAYLOAD_V2, PRF } from '../../src/capture/ike-ids.js';

export interface SyntheticCapture {
  name: string;
  bytes: Buffer;
  /** The cluster's nodes for judging this capture (IPs or CIDRs). */
  nodes?: string[];
  notes?: string;
  /** Link types the file declares (sorted): what the reader must report. */
  linkTypes?: number[];
}

export interface MalformedCapture {
  name: string;
  bytes: Buffer;
  /** The byte offset the error message must name. */
  expectOffset: number;
  /** The field the error message must name. */
  expectField: RegExp;
  /**
   * Cut short mid-record: with allowTruncated the reader returns the complete records
   * (`packets` of them) and reports `expectOffset` as where the evidence stops.
   */
  truncated?: { packets: number };
  /** Only the classifier (not the reader alone) refuses it: an unsupported link type. */
  refusedByAnalyzer?: boolean;
  notes?: string;
}

// ---------------------------------------------------------------- addresses, time

export const N1 = '10.77.0.11';
export const N2 = '10.77.0.12';
export const N3 = '10.77.0.13';
export const V6N1 = '2001:db8:77::11';
export const V6N2 = '2001:db8:77::12';
export const OUT1 = '198.51.100.7';
export const OUT2 = '203.0.113.9';
export const NODES = [N1, N2, N3];
export const NODES_V6 = [V6N1, V6N2];
/** First timestamp of every capture: 2025-11-13T02:13:20Z. */
export const T0 = 1_763_000_000;

const MACS = new Map<string, string>([
  [N1, '02:00:00:77:00:11'], [N2, '02:00:00:77:00:12'], [N3, '02:00:00:77:00:13'],
  [V6N1, '02:00:00:77:00:11'], [V6N2, '02:00:00:77:00:12'],
]);
const OTHER_MAC = '02:00:00:99:99:99';
const macOf = (ip: string): string => MACS.get(ip) ?? OTHER_MAC;

/** Deterministic bytes (xorshift32 seeded by `seed`): keys, IVs, nonces, payloads. */
export function detBytes(n: number, seed: number): Buffer {
  let x = (seed * 2654435761) >>> 0 || 0x9e3779b9;
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Printable deterministic payload (so nothing looks like a protocol header by accident). */
function text(n: number, seed: number): Buffer {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz ';
  return Buffer.from([...detBytes(n, seed)].map((v) => alphabet.charCodeAt(v % alphabet.length)));
}

/** A packet at `ms` milliseconds (fractions allowed) after T0. */
interface Pkt {
  data: Buffer;
  ms: number;
}

const at = (ms: number, data: Buffer): Pkt => ({ data, ms });

function split(ms: number): { sec: number; us: number; ns: number } {
  const totalNs = Math.round(ms * 1e6);
  const sec = Math.floor(totalNs / 1e9);
  const ns = totalNs - sec * 1e9;
  return { sec: T0 + sec, us: Math.floor(ns / 1000), ns };
}

// ---------------------------------------------------------------- L3/L4 builders

const isV6 = (a: string): boolean => a.includes(':');

function tcpIp(src: string, dst: string, sport: number, dport: number, payload: Buffer, flags: number = TCP_FLAGS.ACK | TCP_FLAGS.PSH, seq = 1000): Buffer {
  return ipPacket(src, dst, IPPROTO.TCP, tcp({ src, dst, srcPort: sport, dstPort: dport, flags, seq, ack: flags & TCP_FLAGS.ACK ? 5000 : 0 }, payload), isV6(src) ? {} : { id: (sport ^ dport ^ seq) & 0xffff });
}

function udpIp(src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  return ipPacket(src, dst, IPPROTO.UDP, udp({ src, dst, srcPort: sport, dstPort: dport }, payload));
}

function cbcSa(spi: number): EspSa {
  return { spi, suite: 'aes-cbc-hmac-sha256', encryptionKey: detBytes(32, spi), integrityKey: detBytes(32, spi + 1) };
}
function gcmSa(spi: number): EspSa {
  return { spi, suite: 'aes-gcm', encryptionKey: detBytes(36, spi) };
}
function nullSa(spi: number, icv: NullIcvLength): EspSa {
  return { spi, suite: 'null', integrityKey: detBytes(32, spi), icvLength: icv };
}

function ivFor(sa: EspSa, seq: number): Buffer | undefined {
  if (sa.suite === 'aes-cbc-hmac-sha256') return detBytes(16, sa.spi ^ (seq * 7919));
  if (sa.suite === 'aes-gcm') return detBytes(8, sa.spi ^ (seq * 7919));
  return undefined;
}

/** The ESP packet (SPI..ICV) carrying an upper-layer segment in transport mode. */
function espBody(sa: EspSa, seq: number, proto: number, segment: Buffer): Buffer {
  const iv = ivFor(sa, seq);
  return espTransport(sa, seq, proto, segment, iv ? { iv } : {});
}

/** An IP packet carrying ESP (transport mode) around a TCP segment src→dst. */
function espTcp(sa: EspSa, seq: number, src: string, dst: string, sport: number, dport: number, payload: Buffer): Buffer {
  return ipPacket(src, dst, IPPROTO.ESP, espBody(sa, seq, IPPROTO.TCP, tcp({ src, dst, srcPort: sport, dstPort: dport, seq: seq * 100 }, payload)));
}

/** ESP-in-UDP (RFC 3948) around a TCP segment. */
function espUdpTcp(sa: EspSa, seq: number, src: string, dst: string, payload: Buffer, sport = 4500, dport = 4500): Buffer {
  const esp = espBody(sa, seq, IPPROTO.TCP, tcp({ src, dst, srcPort: 40000 + seq, dstPort: 45443, seq }, payload));
  return ipPacket(src, dst, IPPROTO.UDP, espInUdp({ src, dst, srcPort: sport, dstPort: dport }, esp));
}

// ---------------------------------------------------------------- link layers

function eth(ip: Buffer, o: { vlans?: VlanTag[]; dstMac?: string; srcMac?: string } = {}): Buffer {
  const v6 = ip[0]! >> 4 === 6;
  const src = v6 ? formatV6(ip.subarray(8, 24)) : `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const dst = v6 ? formatV6(ip.subarray(24, 40)) : `${ip[16]}.${ip[17]}.${ip[18]}.${ip[19]}`;
  return ethernet({
    src: o.srcMac ?? macOf(src), dst: o.dstMac ?? macOf(dst), etherType: v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4, ...(o.vlans ? { vlans: o.vlans } : {}),
  }, ip);
}

function formatV6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

// ---------------------------------------------------------------- file writers

function pcapOf(packets: Pkt[], o: { linkType?: number; nanoseconds?: boolean; byteOrder?: ByteOrder; snaplen?: number; link?: (p: Buffer) => Buffer } = {}): Buffer {
  const w = new PcapWriter({ linkType: o.linkType ?? 1, nanoseconds: o.nanoseconds ?? false, byteOrder: o.byteOrder ?? 'le', ...(o.snaplen !== undefined ? { snaplen: o.snaplen } : {}) });
  const link = o.link ?? ((o.linkType ?? 1) === 1 ? (p: Buffer) => eth(p) : (p: Buffer) => p);
  for (const p of packets) {
    const t = split(p.ms);
    const data = link(p.data);
    w.writePacket(data, t.sec, o.nanoseconds ? t.ns : t.us);
  }
  return Buffer.from(w.toBuffer());
}

function pcapngOf(packets: Pkt[], o: { byteOrder?: ByteOrder; linkType?: number; link?: (p: Buffer) => Buffer; tsresol?: number } = {}): Buffer {
  const w = new PcapngWriter({ byteOrder: o.byteOrder ?? 'le', userAppl: 'cryptgate synthetic' });
  const iface = w.addInterface({ linkType: o.linkType ?? 1, name: 'eth0', ...(o.tsresol !== undefined ? { tsresol: o.tsresol } : {}) });
  const link = o.link ?? ((o.linkType ?? 1) === 1 ? (p: Buffer) => eth(p) : (p: Buffer) => p);
  for (const p of packets) {
    const t = split(p.ms);
    w.writePacket(iface, link(p.data), t.sec, t.ns);
  }
  return Buffer.from(w.toBuffer());
}

// ---------------------------------------------------------------- traffic recipes

/** A compliant exchange: 3 ESP (AES-CBC) packets each way between N1 and N2. */
function compliantEsp(startMs: number, spiBase = 0x1000): Pkt[] {
  const out: Pkt[] = [];
  const a = cbcSa(spiBase + 1);
  const b = cbcSa(spiBase + 2);
  for (let i = 1; i <= 3; i++) {
    out.push(at(startMs + i * 10, espTcp(a, i, N1, N2, 50100, 8060, text(40 + i * 13, spiBase + i))));
    out.push(at(startMs + i * 10 + 2, espTcp(b, i, N2, N1, 8060, 50100, text(20 + i * 7, spiBase + 100 + i))));
  }
  return out;
}

/**
 * One clear TCP SYN N1:50200 → N2:8060, then two ESP-GCM packets: a probe that the link
 * layer was peeled. The SYN comes first, so no ESP packet can explain it as a copy.
 */
function linkProbe(src = N1, dst = N2): Pkt[] {
  const sa = gcmSa(isV6(src) ? 0x6601 : 0x4401);
  return [
    at(0, tcpIp(src, dst, 50200, 8060, Buffer.alloc(0), TCP_FLAGS.SYN, 777)),
    at(1.5, espTcp(sa, 1, src, dst, 50300, 8850, text(64, 1))),
    at(3.25, espTcp(sa, 2, src, dst, 50300, 8850, text(90, 2))),
  ];
}

// IKE ---------------------------------------------------------------------------------

const spi8 = (seed: number): Buffer => {
  const b = detBytes(8, seed);
  b[0] = b[0]! | 0x80; // never all zero
  return b;
};

const ke = (group: number, seed: number): Buffer => detBytes(DH_PUBLIC_VALUE_BYTES.get(group) ?? 256, seed);

const STRONG_V2 = ikev2Proposal({ encr: ENCR.ENCR_AES_CBC, keyLength: 256, prf: PRF.PRF_HMAC_SHA2_256, integ: INTEG.AUTH_HMAC_SHA2_256_128, dh: 14 });
const GCM_V2 = ikev2Proposal({ encr: ENCR.ENCR_AES_GCM_16, keyLength: 256, prf: PRF.PRF_HMAC_SHA2_384, dh: 19 });
const WEAK_V2 = ikev2Proposal({ encr: ENCR.ENCR_3DES, prf: PRF.PRF_HMAC_SHA1, integ: INTEG.AUTH_HMAC_SHA1_96, dh: 2 });

function numbered(p: Ikev2Proposal, n: number): Ikev2Proposal {
  return { ...p, number: n };
}

/** The SK-payload message of an IKE_AUTH (deterministic stand-in for ikev2Encrypted). */
function ikev2Auth(spiI: Buffer, spiR: Buffer, response: boolean, seed: number): Buffer {
  return ikeMessage(
    { spiI, spiR, version: IKEV2_VERSION, exchange: EXCHANGE.IKE_AUTH, flags: response ? FLAG.V2_RESPONSE : FLAG.V2_INITIATOR, messageId: 1 },
    [{ type: PAYLOAD_V2.SK, body: detBytes(16 + 160 + 16, seed), next: response ? PAYLOAD_V2.IDR : PAYLOAD_V2.IDI }],
  );
}

function ikeUdp(src: string, dst: string, msg: Buffer, natT = false): Buffer {
  return ipPacket(src, dst, IPPROTO.UDP, ikeInUdp({ src, dst, natT }, msg));
}

function ikev2Negotiation(seed: number, offered: Ikev2Proposal[], chosen: Ikev2Proposal, group: number, initiator = N1, responder = N2): Pkt[] {
  const spiI = spi8(seed);
  const spiR = spi8(seed + 1);
  const req = ikev2SaInitRequest({ spiI, dhGroup: group, kePublicValue: ke(group, seed + 2), nonce: detBytes(32, seed + 3), proposals: offered });
  const resp = ikev2SaInitResponse({ spiI, spiR, dhGroup: group, kePublicValue: ke(group, seed + 4), nonce: detBytes(32, seed + 5), proposal: chosen });
  return [
    at(0, ikeUdp(initiator, responder, req)),
    at(4, ikeUdp(responder, initiator, resp)),
    at(9, ikeUdp(initiator, responder, ikev2Auth(spiI, spiR, false, seed + 6))),
    at(13, ikeUdp(responder, initiator, ikev2Auth(spiI, spiR, true, seed + 7))),
  ];
}

const AES256_SHA256_G14: Ikev1Suite = { encryption: 7, keyLength: 256, hash: 4, authMethod: 1, group: 14, lifeDuration: 28800 };
const AES128_SHA1_G14: Ikev1Suite = { encryption: 7, keyLength: 128, hash: 2, authMethod: 1, group: 14, lifeDuration: 28800 };
const TDES_SHA_G2: Ikev1Suite = { encryption: 5, hash: 2, authMethod: 1, group: 2, lifeDuration: 28800 };

/** Main mode 1-6 where 1-4 are clear (SA, then KE/nonce/NAT-D) and 5-6 encrypted. */
function ikev1MainMode(seed: number, offered: Ikev1Suite[], chosenIndex: number, initiator = N1, responder = N2): Pkt[] {
  const spiI = spi8(seed);
  const spiR = spi8(seed + 1);
  const chosen = offered[chosenIndex]!;
  const m1 = ikev1MainMode1({ spiI, suites: offered, vendorIds: [msNt5Vid(9), VENDOR_ID.RFC3947_NAT_T] });
  const m2 = ikev1MainMode2({ spiI, spiR, suite: chosen, transformNumber: chosenIndex + 1, vendorIds: [VENDOR_ID.RFC3947_NAT_T] });
  const keNonce = (s: number): Buffer => ikeMessage(
    { spiI, spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_MAIN_MODE, flags: 0 },
    [{ type: PAYLOAD_V1.KE, body: ke(chosen.group, s) }, { type: PAYLOAD_V1.NONCE, body: detBytes(32, s + 1) }],
  );
  const enc = (s: number): Buffer => ikeMessage(
    { spiI, spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_MAIN_MODE, flags: FLAG.V1_ENCRYPTED, firstPayload: PAYLOAD_V1.ID },
    [], detBytes(64, s),
  );
  return [
    at(0, ikeUdp(initiator, responder, m1)),
    at(3, ikeUdp(responder, initiator, m2)),
    at(6, ikeUdp(initiator, responder, keNonce(seed + 10))),
    at(9, ikeUdp(responder, initiator, keNonce(seed + 20))),
    at(12, ikeUdp(initiator, responder, enc(seed + 30))),
    at(15, ikeUdp(responder, initiator, enc(seed + 40))),
  ];
}

/** Aggressive mode 1+2, built from the generic message builder with fixed KE/nonce bytes. */
function ikev1Aggressive(seed: number, suite: Ikev1Suite): Pkt[] {
  const spiI = spi8(seed);
  const spiR = spi8(seed + 1);
  const m1 = ikeMessage({ spiI, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_AGGRESSIVE, flags: 0 }, [
    { type: PAYLOAD_V1.SA, body: ikev1SaBody([suite]) },
    { type: PAYLOAD_V1.KE, body: ke(suite.group, seed + 2) },
    { type: PAYLOAD_V1.NONCE, body: detBytes(32, seed + 3) },
    { type: PAYLOAD_V1.ID, body: ikev1IdBody(N1) },
  ]);
  const m2 = ikeMessage({ spiI, spiR, version: IKEV1_VERSION, exchange: EXCHANGE.IKEV1_AGGRESSIVE, flags: 0 }, [
    { type: PAYLOAD_V1.SA, body: ikev1SaBody([suite], [1]) },
    { type: PAYLOAD_V1.KE, body: ke(suite.group, seed + 4) },
    { type: PAYLOAD_V1.NONCE, body: detBytes(32, seed + 5) },
    { type: PAYLOAD_V1.ID, body: ikev1IdBody(N2) },
    { type: PAYLOAD_V1.HASH, body: detBytes(20, seed + 6) },
  ]);
  return [at(0, ikeUdp(N1, N2, m1)), at(5, ikeUdp(N2, N1, m2))];
}

// ---------------------------------------------------------------- the captures

function formatCaptures(): SyntheticCapture[] {
  const traffic = [...ikev2Negotiation(11, [STRONG_V2], STRONG_V2, 14), ...compliantEsp(20)];
  const out: SyntheticCapture[] = [];
  out.push({ name: 'pcap-usec-le-ethernet', bytes: pcapOf(traffic), nodes: NODES, linkTypes: [1], notes: 'classic pcap, µs, little-endian; IKEv2 + ESP between nodes: compliant' });
  // Nanosecond fractions with digits below the microsecond.
  const nsTraffic = traffic.map((p, i) => at(p.ms + (i * 137) / 1e6, p.data));
  out.push({ name: 'pcap-nsec-be-ethernet', bytes: pcapOf(nsTraffic, { nanoseconds: true, byteOrder: 'be' }), nodes: NODES, linkTypes: [1], notes: 'classic pcap, ns, big-endian' });
  out.push({ name: 'pcapng-le-ethernet', bytes: pcapngOf(nsTraffic), nodes: NODES, linkTypes: [1], notes: 'pcapng little-endian, default µs resolution' });
  out.push({ name: 'pcapng-be-ethernet', bytes: pcapngOf(nsTraffic, { byteOrder: 'be', tsresol: 9 }), nodes: NODES, linkTypes: [1], notes: 'pcapng big-endian, if_tsresol 9' });

  {
    // Two sections of different byte order (as `cat a.pcapng b.pcapng` makes); interface ids restart.
    const w = new PcapngWriter({ byteOrder: 'le', comment: 'section 1 (LE)' });
    const e = w.addInterface({ linkType: 1, name: 'eth0' });
    for (const p of compliantEsp(0)) { const t = split(p.ms); w.writePacket(e, eth(p.data), t.sec, t.ns); }
    w.startSection({ byteOrder: 'be', comment: 'section 2 (BE)' });
    const r = w.addInterface({ linkType: 101, name: 'raw0' });
    const l = w.addInterface({ linkType: 1, name: 'eth1', tsresol: 9 });
    const leak = tcpIp(N2, N3, 50400, 27000, text(30, 3));
    for (const [i, p] of linkProbe(N1, N3).entries()) { const t = split(100 + p.ms); w.writePacket(i === 1 ? l : r, i === 1 ? eth(p.data) : p.data, t.sec, t.ns); }
    const t = split(120.000123);
    w.writePacket(l, eth(leak), t.sec, t.ns);
    out.push({ name: 'pcapng-two-sections-le-be', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1, 101], notes: 'LE section with Ethernet, then a BE section with RAW and Ethernet interfaces; plaintext N1→N3:8060 and N2→N3:27000' });
  }
  {
    // Simple Packet Blocks: interface 0, no timestamp; one cut by the interface snaplen.
    const w = new PcapngWriter({ byteOrder: 'le' });
    const e = w.addInterface({ linkType: 1, snaplen: 150 });
    const pk = compliantEsp(0);
    const t = split(pk[0]!.ms);
    w.writePacket(e, eth(pk[0]!.data), t.sec, t.ns);
    for (const p of pk.slice(1)) w.writeSimplePacket(eth(p.data));
    w.writeSimplePacket(eth(tcpIp(N1, N2, 50500, 8850, text(201, 5))));
    out.push({ name: 'pcapng-simple-packet-blocks', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'one EPB then SPBs (no timestamps), interface snaplen 150 cuts some' });
  }
  {
    const w = new PcapngWriter({ byteOrder: 'be' });
    const e = w.addInterface({ linkType: 1, tsresol: 6 });
    for (const [i, p] of [...compliantEsp(0), at(80, tcpIp(N3, N1, 50600, 8850, text(10, 6)))].entries()) {
      w.writeObsoletePacket(e, eth(p.data), { seconds: split(p.ms).sec, nanoseconds: split(p.ms).ns }, { drops: i, flags: i % 2 ? EPB_INBOUND : EPB_OUTBOUND, ...(i === 0 ? { comment: 'obsolete packet block' } : {}) });
    }
    out.push({ name: 'pcapng-obsolete-packet-block', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'type-2 Packet Blocks (16-bit interface id and drops), BE' });
  }
  {
    // Blocks a reader must skip by length: NRB, ISB, DSB, custom (copyable and not), local-use, journal.
    const w = new PcapngWriter({ byteOrder: 'le', hardware: 'synthetic', os: 'none' });
    // NRB: one ipv4 record (address + NUL-terminated name, padded to 4), then nrb_record_end.
    const nrb = Buffer.alloc(4 + 16 + 4);
    nrb.writeUInt16LE(1, 0);
    nrb.writeUInt16LE(4 + 10, 2);
    Buffer.from([10, 77, 0, 11]).copy(nrb, 4);
    nrb.write('node1.lan\0', 8, 'latin1');
    w.writeBlock(BLOCK.NRB, nrb);
    const e = w.addInterface({ linkType: 1, name: 'eth0' });
    const pk = compliantEsp(0);
    pk.forEach((p, i) => {
      const t = split(p.ms);
      w.writePacket(e, eth(p.data), t.sec, t.ns);
      if (i === 1) w.writeCustomBlock(32473, Buffer.from('custom copyable'), true);
      if (i === 2) w.writeCustomBlock(32473, Buffer.from('custom not copyable'), false);
      if (i === 3) w.writeBlock(0x80000123, detBytes(21, 9)); // local use
      if (i === 4) w.writeBlock(9, Buffer.from('__REALTIME_TIMESTAMP=1\nMESSAGE=hello\n\n')); // systemd journal export
    });
    const isb = Buffer.alloc(12);
    const end = split(200);
    isb.writeUInt32LE(0, 0);
    isb.writeUInt32LE(Math.floor((end.sec * 1e6) / 2 ** 32), 4);
    isb.writeUInt32LE((end.sec * 1e6 + end.us) % 2 ** 32, 8);
    w.writeBlock(BLOCK.ISB, isb, [{ code: 4, value: 6n }, { code: 5, value: 0n }]);
    out.push({ name: 'pcapng-unknown-and-custom-blocks', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'NRB, ISB, custom 0x0BAD/0x40000BAD, local-use 0x80000123 and journal (9) blocks between packets' });
  }
  {
    // if_tsresol: decimal (ns, ms) and binary (2^-20, 2^-10).
    const w = new PcapngWriter({ byteOrder: 'le' });
    const ifs = [w.addInterface({ linkType: 1, tsresol: 9 }), w.addInterface({ linkType: 1, tsresol: 3 }), w.addInterface({ linkType: 1, tsresol: 0x80 | 20 }), w.addInterface({ linkType: 1, tsresol: 0x80 | 10 })];
    compliantEsp(0).forEach((p, i) => {
      const iface = ifs[i % ifs.length]!;
      const t = split(p.ms + i * 0.000321);
      // The writer floors to the unit; the expected time is what the file holds (tshark reads it).
      w.writePacket(iface, eth(p.data), t.sec, t.ns);
    });
    out.push({ name: 'pcapng-if-tsresol', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'four interfaces with if_tsresol 9, 3, 2^-20 and 2^-10' });
  }
  {
    // if_tsoffset: small timestamps plus an offset of T0 (or T0 - 1 h) seconds.
    const w = new PcapngWriter({ byteOrder: 'be' });
    const a = w.addInterface({ linkType: 1, tsoffset: BigInt(T0), tsresol: 9 });
    const b = w.addInterface({ linkType: 1, tsoffset: BigInt(T0 - 3600) });
    compliantEsp(0).forEach((p, i) => {
      const t = split(p.ms);
      w.writePacket(i % 2 ? b : a, eth(p.data), t.sec, t.ns);
    });
    out.push({ name: 'pcapng-if-tsoffset', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'if_tsoffset T0 (ns units) and T0-3600 (µs units)' });
  }
  {
    // EPB options: direction flags, comment, drop count, packet id, queue, verdict.
    const w = new PcapngWriter({ byteOrder: 'le' });
    const e = w.addInterface({ linkType: 1 });
    compliantEsp(0).forEach((p, i) => {
      const t = split(p.ms);
      w.writeEnhancedPacket(e, eth(p.data), { seconds: t.sec, nanoseconds: t.ns }, {
        flags: (i % 2 ? EPB_INBOUND : EPB_OUTBOUND) | (i === 2 ? 0x00010000 : 0),
        ...(i === 0 ? { comment: 'PID=4 TID=1234' } : {}),
        dropCount: BigInt(i),
        packetId: BigInt(1000 + i),
        queue: i,
        ...(i === 3 ? { options: [{ code: OPT.EPB_VERDICT, value: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 1]) }] } : {}),
      });
    });
    out.push({ name: 'pcapng-epb-options', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'EPBs with epb_flags in/out (+ a link-layer error bit), comment, dropcount, packetid, queue, verdict' });
  }
  {
    const w = new PcapWriter({ linkType: 1 });
    out.push({ name: 'pcap-no-packets', bytes: Buffer.from(w.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'a file header and nothing else' });
    const g = new PcapngWriter({ byteOrder: 'le' });
    g.addInterface({ linkType: 1 });
    out.push({ name: 'pcapng-no-packets', bytes: Buffer.from(g.toBuffer()), nodes: NODES, linkTypes: [1], notes: 'an SHB and an IDB, no packets' });
  }
  {
    // Absurd header snaplens: readers must not trust them.
    const zero = Buffer.from(pcapOf(compliantEsp(0)));
    zero.writeUInt32LE(0, 16);
    out.push({ name: 'pcap-snaplen-zero', bytes: zero, nodes: NODES, linkTypes: [1], notes: 'header snaplen 0' });
    const huge = Buffer.from(pcapOf(compliantEsp(0)));
    huge.writeUInt32LE(0xffffffff, 16);
    out.push({ name: 'pcap-snaplen-4g', bytes: huge, nodes: NODES, linkTypes: [1], notes: 'header snaplen 0xffffffff' });
  }
  return out;
}

function linkCaptures(): SyntheticCapture[] {
  const out: SyntheticCapture[] = [];
  const probe = linkProbe();
  out.push({ name: 'ethernet-8021q', bytes: pcapOf(probe, { link: (p) => eth(p, { vlans: [{ vid: 77, pcp: 3 }] }) }), nodes: NODES, linkTypes: [1], notes: 'one 802.1Q tag' });
  out.push({ name: 'ethernet-qinq', bytes: pcapOf(probe, { link: (p) => eth(p, { vlans: [{ vid: 100, tpid: ETHERTYPE.QINQ }, { vid: 77 }] }) }), nodes: NODES, linkTypes: [1], notes: '802.1ad S-tag over an 802.1Q C-tag' });
  const v6probe = linkProbe(V6N1, V6N2).map((p) => at(p.ms + 10, p.data));
  out.push({ name: 'raw-101', bytes: pcapOf([...probe, ...v6probe], { linkType: 101 }), nodes: [...NODES, ...NODES_V6], linkTypes: [101], notes: 'LINKTYPE_RAW, IPv4 and IPv6' });
  out.push({ name: 'ipv4-228', bytes: pcapngOf(probe, { linkType: 228 }), nodes: NODES, linkTypes: [228], notes: 'LINKTYPE_IPV4 in pcapng' });
  out.push({ name: 'ipv6-229', bytes: pcapngOf(v6probe, { linkType: 229, byteOrder: 'be' }), nodes: NODES_V6, linkTypes: [229], notes: 'LINKTYPE_IPV6 in BE pcapng' });
  const sllType = (p: Buffer): number => (p[0]! >> 4 === 6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4);
  out.push({
    name: 'linux-sll-113',
    bytes: pcapOf([...probe, ...v6probe], { linkType: 113, link: (p) => linuxSll({ packetType: SLL_PACKET_TYPE.HOST, protocol: sllType(p), linkAddress: '02:00:00:77:00:11' }, p) }),
    nodes: [...NODES, ...NODES_V6], linkTypes: [113], notes: 'Linux cooked v1, IPv4 and IPv6',
  });
  out.push({
    name: 'linux-sll2-276',
    bytes: pcapOf([...probe, ...v6probe], { linkType: 276, link: (p) => linuxSll2({ packetType: SLL_PACKET_TYPE.HOST, protocol: sllType(p), interfaceIndex: 2, linkAddress: '02:00:00:77:00:12' }, p) }),
    nodes: [...NODES, ...NODES_V6], linkTypes: [276], notes: 'Linux cooked v2 (capture -i any), IPv4 and IPv6',
  });
  const v6families = [AF.INET6_BSD, AF.INET6_FREEBSD, AF.INET6_DARWIN];
  let n = 0;
  out.push({
    name: 'null-0-host-order',
    bytes: pcapOf([...probe, ...v6probe], { linkType: 0, link: (p) => bsdNull(p[0]! >> 4 === 6 ? v6families[n++ % 3]! : AF.INET, p) }),
    nodes: [...NODES, ...NODES_V6], linkTypes: [0], notes: 'BSD loopback, AF in the writing host\'s byte order (IPv6 as 24, 28 and 30)',
  });
  let m = 0;
  out.push({
    name: 'loop-108',
    bytes: pcapOf([...probe, ...v6probe], { linkType: 108, link: (p) => bsdLoop(p[0]! >> 4 === 6 ? v6families[m++ % 3]! : AF.INET, p) }),
    nodes: [...NODES, ...NODES_V6], linkTypes: [108], notes: 'OpenBSD loopback, AF big-endian',
  });
  return out;
}

function ipv6ExtensionCapture(): SyntheticCapture {
  const hbh: Ipv6ExtensionHeader = { type: 0, options: Buffer.from([0x05, 0x02, 0x00, 0x00]) }; // router alert
  const rt: Ipv6ExtensionHeader = { type: 43, routingType: 0, segmentsLeft: 0, addresses: [V6N2] };
  const dst: Ipv6ExtensionHeader = { type: 60, options: Buffer.from([0x01, 0x02, 0x00, 0x00]) }; // PadN
  const atomic: Ipv6ExtensionHeader = { type: 44, offset: 0, more: false, id: 0x0e0e0e0e };
  const seg = (sport: number, dport: number, payload: Buffer, src = V6N1, d = V6N2): Buffer => tcp({ src, dst: d, srcPort: sport, dstPort: dport, seq: 1 }, payload);
  const sa = cbcSa(0x6611);
  const pk: Pkt[] = [
    at(0, ipv6({ src: V6N1, dst: V6N2, nextHeader: IPPROTO.TCP, extensions: [hbh, rt, dst] }, seg(50700, 8850, text(50, 7)))),
    at(1, ipv6({ src: V6N1, dst: V6N2, nextHeader: IPPROTO.TCP, extensions: [dst, atomic] }, seg(50700, 8850, text(20, 8)))),
    at(2, ipv6({ src: V6N2, dst: V6N1, nextHeader: IPPROTO.TCP, extensions: [hbh] }, seg(8850, 50700, text(10, 9), V6N2, V6N1))),
    at(3, ipv6({ src: V6N1, dst: V6N2, nextHeader: IPPROTO.ESP, extensions: [hbh, dst] }, espBody(sa, 1, IPPROTO.TCP, seg(50800, 8060, text(60, 10))))),
    at(4, ipv6({ src: V6N1, dst: V6N2, nextHeader: IPPROTO.ESP, extensions: [rt] }, espBody(sa, 2, IPPROTO.TCP, seg(50800, 8060, text(61, 11))))),
    at(5, ipv6({ src: V6N1, dst: V6N2, nextHeader: IPPROTO.ESP, extensions: [atomic] }, espBody(sa, 3, IPPROTO.TCP, seg(50800, 8060, text(62, 12))))),
  ];
  return { name: 'ipv6-extension-headers', bytes: pcapOf(pk), nodes: NODES_V6, linkTypes: [1], notes: 'hop-by-hop, routing (type 0, segments left 0), destination options and an atomic fragment header before TCP (clear, 8850) and ESP' };
}

function fragmentCaptures(): SyntheticCapture[] {
  const out: SyntheticCapture[] = [];
  {
    const pk: Pkt[] = [];
    // 1. TCP 8060 N1→N2, 3 fragments in order.
    const big = tcpIp(N1, N2, 51000, 8060, text(600, 20), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 1);
    fragmentIpv4(withId(big, 0x1111), 296).forEach((f, i) => pk.push(at(i, f)));
    // 2. TCP 27000 N2→N3, fragments in reverse order (the first fragment last).
    const rev = tcpIp(N2, N3, 51001, 27000, text(500, 21), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 2);
    fragmentIpv4(withId(rev, 0x2222), 296).reverse().forEach((f, i) => pk.push(at(10 + i, f)));
    // 3. ESP-in-UDP N1→N3 (AES-CBC), fragmented, in order; 4. the same, non-first fragment first.
    const e1 = espUdpTcp(cbcSa(0x3301), 1, N1, N3, text(500, 22));
    fragmentIpv4(withId(e1, 0x3333), 296).forEach((f, i) => pk.push(at(20 + i, f)));
    const e2 = espUdpTcp(cbcSa(0x3301), 2, N1, N3, text(480, 23));
    const f2 = fragmentIpv4(withId(e2, 0x3334), 296);
    [f2[1]!, f2[0]!, ...f2.slice(2)].forEach((f, i) => pk.push(at(30 + i, f)));
    // 5. plain ESP (protocol 50) N3→N1, fragmented, non-first fragment first.
    const e3 = espTcp(gcmSa(0x3302), 1, N3, N1, 8060, 51002, text(450, 24));
    const f3 = fragmentIpv4(withId(e3, 0x3335), 296);
    [...f3.slice(1), f3[0]!].forEach((f, i) => pk.push(at(40 + i, f)));
    out.push({ name: 'ipv4-fragments', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'IPv4 fragments: clear TCP 8060 (in order) and 27000 (reversed), ESP-in-UDP (in order and non-first first), ESP (first fragment last)' });
  }
  {
    const pk: Pkt[] = [];
    const big = tcpIp(V6N1, V6N2, 52000, 8060, text(600, 30), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 1);
    fragmentIpv6(big, 400, 0x1001).forEach((f, i) => pk.push(at(i, f)));
    const rev = tcpIp(V6N2, V6N1, 52001, 27000, text(500, 31), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 2);
    fragmentIpv6(rev, 400, 0x1002).reverse().forEach((f, i) => pk.push(at(10 + i, f)));
    const e1 = espUdpTcp(gcmSa(0x6601), 1, V6N1, V6N2, text(500, 32));
    const f1 = fragmentIpv6(e1, 400, 0x1003);
    [f1[1]!, f1[0]!, ...f1.slice(2)].forEach((f, i) => pk.push(at(20 + i, f)));
    const e2 = ipv6({ src: V6N2, dst: V6N1, nextHeader: IPPROTO.ESP }, espBody(gcmSa(0x6602), 1, IPPROTO.TCP, tcp({ src: V6N2, dst: V6N1, srcPort: 8060, dstPort: 52002 }, text(520, 33))));
    fragmentIpv6(e2, 400, 0x1004).forEach((f, i) => pk.push(at(30 + i, f)));
    out.push({ name: 'ipv6-fragments', bytes: pcapOf(pk), nodes: NODES_V6, linkTypes: [1], notes: 'IPv6 fragments: clear TCP 8060 and (reversed) 27000, ESP-in-UDP with a non-first fragment first, ESP in order' });
  }
  return out;
}

/** Rewrites an IPv4 header's identification (and checksum). */
function withId(p: Buffer, id: number): Buffer {
  const c = Buffer.from(p);
  c.writeUInt16BE(id, 4);
  c.writeUInt16BE(0, 10);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += c.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  c.writeUInt16BE(~sum & 0xffff, 10);
  return c;
}

function ikeCaptures(): SyntheticCapture[] {
  const out: SyntheticCapture[] = [];
  const tail = (ms: number): Pkt[] => compliantEsp(ms, 0x2000);
  out.push({ name: 'ikev2-sa-init-strong', bytes: pcapOf([...ikev2Negotiation(101, [numbered(STRONG_V2, 1), numbered(GCM_V2, 2)], numbered(STRONG_V2, 1), 14), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv2 IKE_SA_INIT offering AES-CBC-256 and AES-GCM-16-256; AES-CBC-256/SHA2-256/group 14 chosen; IKE_AUTH; ESP' });
  out.push({ name: 'ikev2-sa-init-gcm', bytes: pcapOf([...ikev2Negotiation(111, [GCM_V2], GCM_V2, 19, N2, N3), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv2 AES-GCM-16-256 (no integrity transform), PRF SHA2-384, group 19' });
  out.push({ name: 'ikev2-sa-init-weak', bytes: pcapOf([...ikev2Negotiation(121, [WEAK_V2, numbered(STRONG_V2, 2)], WEAK_V2, 2), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv2 3DES/HMAC-SHA1-96/PRF-SHA1/group 2 chosen: weak' });
  {
    const spiI = spi8(131);
    const req = ikev2SaInitRequest({ spiI, dhGroup: 2, kePublicValue: ke(2, 132), nonce: detBytes(32, 133), proposals: [WEAK_V2] });
    const resp = ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.NO_PROPOSAL_CHOSEN }] });
    out.push({ name: 'ikev2-no-proposal-chosen', bytes: pcapOf([at(0, ikeUdp(N1, N3, req)), at(2, ikeUdp(N3, N1, resp)), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKE_SA_INIT refused with NO_PROPOSAL_CHOSEN' });
  }
  {
    // INVALID_KE_PAYLOAD: the initiator guessed group 19, the responder wants 14; retry with the same SPIi.
    const spiI = spi8(141);
    const spiR = spi8(142);
    const offer = [ikev2Proposal({ encr: ENCR.ENCR_AES_CBC, keyLength: 256, prf: PRF.PRF_HMAC_SHA2_256, integ: INTEG.AUTH_HMAC_SHA2_256_128, dh: [19, 14] })];
    const req1 = ikev2SaInitRequest({ spiI, dhGroup: 19, kePublicValue: ke(19, 143), nonce: detBytes(32, 144), proposals: offer });
    const refuse = ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.INVALID_KE_PAYLOAD, data: invalidKeData(14) }] });
    const req2 = ikev2SaInitRequest({ spiI, dhGroup: 14, kePublicValue: ke(14, 145), nonce: detBytes(32, 146), proposals: offer });
    const resp = ikev2SaInitResponse({ spiI, spiR, dhGroup: 14, kePublicValue: ke(14, 147), nonce: detBytes(32, 148), proposal: STRONG_V2 });
    out.push({
      name: 'ikev2-invalid-ke-retry',
      bytes: pcapOf([at(0, ikeUdp(N2, N1, req1)), at(2, ikeUdp(N1, N2, refuse)), at(5, ikeUdp(N2, N1, req2)), at(8, ikeUdp(N1, N2, resp)), ...tail(30)]),
      nodes: NODES, linkTypes: [1], notes: 'INVALID_KE_PAYLOAD (wants 14), then the retry negotiates AES-CBC-256/SHA2-256/group 14',
    });
  }
  out.push({ name: 'ikev1-main-mode-strong', bytes: pcapOf([...ikev1MainMode(151, [AES256_SHA256_G14, TDES_SHA_G2], 0), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv1 main mode offering AES-256/SHA2-256/14 and 3DES/SHA/2; AES chosen' });
  out.push({ name: 'ikev1-main-mode-weak', bytes: pcapOf([...ikev1MainMode(161, [AES256_SHA256_G14, TDES_SHA_G2], 1, N3, N2), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv1 main mode; 3DES/SHA/group 2 chosen: weak' });
  out.push({ name: 'ikev1-aggressive', bytes: pcapOf([...ikev1Aggressive(171, AES128_SHA1_G14), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'IKEv1 aggressive mode AES-128/SHA/group 14: key length and hash too weak' });
  {
    const spiI = spi8(181);
    const spiR = spi8(182);
    const m1 = authIpMainMode({ spiI, suites: [AES256_SHA256_G14, AES128_SHA1_G14], sequence: 0, vendorIds: [msNt5Vid(9)] });
    const m2 = authIpMainMode({ spiI, spiR, suites: [AES256_SHA256_G14], transformNumbers: [1], sequence: 0, vendorIds: [msNt5Vid(9)] });
    out.push({ name: 'authip-main-mode-243', bytes: pcapOf([at(0, ikeUdp(N1, N2, m1)), at(3, ikeUdp(N2, N1, m2)), ...tail(30)]), nodes: NODES, linkTypes: [1], notes: 'AuthIP main mode (exchange 243, Crypto payload 0x85) request and response' });
  }
  return out;
}

function espCaptures(): SyntheticCapture[] {
  const out: SyntheticCapture[] = [];
  const flows = (mk: (spi: number) => EspSa, spiA: number, spiB: number, src = N1, dst = N2): Pkt[] => {
    const a = mk(spiA);
    const b = mk(spiB);
    const pk: Pkt[] = [];
    for (let i = 1; i <= 5; i++) {
      pk.push(at(i * 10, espTcp(a, i, src, dst, 50900, 45443, text(17 * i + 3, spiA + i))));
      pk.push(at(i * 10 + 1, espTcp(b, i, dst, src, 45443, 50900, text(11 * i, spiB + i))));
    }
    return pk;
  };
  out.push({ name: 'esp-aes-cbc-hmac-sha256', bytes: pcapOf(flows(cbcSa, 0x5101, 0x5102)), nodes: NODES, linkTypes: [1], notes: 'real AES-256-CBC + HMAC-SHA-256-128 ESP both ways' });
  out.push({ name: 'esp-aes-gcm', bytes: pcapOf(flows(gcmSa, 0x5201, 0x5202, N2, N3)), nodes: NODES, linkTypes: [1], notes: 'real AES-256-GCM ESP both ways' });

  // ESP-NULL: every ICV length of RFC 5879, each with a different inner protocol.
  const nullFlows = (icv: NullIcvLength, spiA: number, inner: (seq: number, src: string, dst: string) => [number, Buffer], tunnel = false): Pkt[] => {
    const pk: Pkt[] = [];
    const a = nullSa(spiA, icv);
    const b = nullSa(spiA + 1, icv);
    for (let i = 1; i <= 5; i++) {
      for (const [sa, src, dst, d] of [[a, N1, N2, 0], [b, N2, N1, 1]] as const) {
        const [proto, segment] = inner(i, src, dst);
        const esp = tunnel ? espTunnel(sa, i, segment) : espTransport(sa, i, proto, segment);
        pk.push(at(i * 10 + d, ipPacket(src, dst, IPPROTO.ESP, esp)));
      }
    }
    return pk;
  };
  out.push({
    name: 'esp-null-icv12-tcp',
    bytes: pcapOf(nullFlows(12, 0x5301, (i, s, d) => [IPPROTO.TCP, tcp({ src: s, dst: d, srcPort: 46000 + (s === N1 ? 0 : 1), dstPort: 46000 + (s === N1 ? 1 : 0), seq: i }, text(30 + i, 0x5301 + i))])),
    nodes: NODES, linkTypes: [1], notes: 'ESP-NULL, HMAC-SHA1-96 (ICV 12), transport TCP',
  });
  out.push({
    name: 'esp-null-icv16-udp',
    bytes: pcapOf(nullFlows(16, 0x5311, (i, s, d) => [IPPROTO.UDP, udp({ src: s, dst: d, srcPort: 46010, dstPort: 46011 }, text(25 + 3 * i, 0x5311 + i))])),
    nodes: NODES, linkTypes: [1], notes: 'ESP-NULL, HMAC-SHA-256-128 (ICV 16), transport UDP',
  });
  out.push({
    name: 'esp-null-icv24-icmp',
    bytes: pcapOf(nullFlows(24, 0x5321, (i) => [IPPROTO.ICMP, icmpEcho({ id: 0x77, seq: i, reply: false }, text(32, 0x5321 + i))])),
    nodes: NODES, linkTypes: [1], notes: 'ESP-NULL, HMAC-SHA-384-192 (ICV 24), transport ICMP echo',
  });
  out.push({
    name: 'esp-null-icv32-tunnel-ipv4',
    bytes: pcapOf(nullFlows(32, 0x5331, (i, s) => {
      const inner = s === N1 ? ['192.168.11.5', '192.168.12.6'] as const : ['192.168.12.6', '192.168.11.5'] as const;
      return [IPPROTO.IPIP, ipv4({ src: inner[0], dst: inner[1], protocol: IPPROTO.TCP, id: i }, tcp({ src: inner[0], dst: inner[1], srcPort: 46020, dstPort: 46021, seq: i }, text(40 + i, 0x5331 + i)))];
    }, true)),
    nodes: NODES, linkTypes: [1], notes: 'ESP-NULL, HMAC-SHA-512-256 (ICV 32), tunnel mode with an inner IPv4/TCP packet',
  });
  {
    // ESP-in-UDP on 4500: IKE on 4500 behind the non-ESP marker, ESP both ways, NAT keepalives.
    const spiI = spi8(191);
    const spiR = spi8(192);
    const req = ikev2SaInitRequest({ spiI, dhGroup: 14, kePublicValue: ke(14, 193), nonce: detBytes(32, 194), proposals: [STRONG_V2], notifies: [{ type: NOTIFY.NAT_DETECTION_SOURCE_IP, data: detBytes(20, 195) }] });
    const resp = ikev2SaInitResponse({ spiI, spiR, dhGroup: 14, kePublicValue: ke(14, 196), nonce: detBytes(32, 197), proposal: STRONG_V2 });
    const pk: Pkt[] = [
      at(0, ikeUdp(N1, N2, req)),
      at(2, ikeUdp(N2, N1, resp)),
      at(4, ikeUdp(N1, N2, ikev2Auth(spiI, spiR, false, 198), true)),
      at(6, ikeUdp(N2, N1, ikev2Auth(spiI, spiR, true, 199), true)),
    ];
    const a = gcmSa(0x5401);
    const b = gcmSa(0x5402);
    for (let i = 1; i <= 4; i++) {
      pk.push(at(10 + i * 5, espUdpTcp(a, i, N1, N2, text(30 + i, 0x5401 + i))));
      pk.push(at(11 + i * 5, espUdpTcp(b, i, N2, N1, text(20 + i, 0x5402 + i), 4500, 4500)));
    }
    pk.push(at(40, ipPacket(N1, N2, IPPROTO.UDP, natKeepalive({ src: N1, dst: N2 }))));
    pk.push(at(41, ipPacket(N2, N1, IPPROTO.UDP, natKeepalive({ src: N2, dst: N1, srcPort: 61000 }))));
    out.push({ name: 'esp-in-udp-4500', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'IKE_SA_INIT on 500, IKE_AUTH on 4500 (non-ESP marker), ESP-in-UDP both ways, NAT keepalives (one from a NATed port)' });
  }
  {
    // ESP-NULL inside UDP 4500 (RFC 5879 §7): must be found after the UDP header too.
    const pk: Pkt[] = [];
    const a = nullSa(0x5501, 16);
    for (let i = 1; i <= 5; i++) {
      const esp = espTransport(a, i, IPPROTO.UDP, udp({ src: N1, dst: N3, srcPort: 46030, dstPort: 46031 }, text(20 + i, 0x5501 + i)));
      pk.push(at(i * 10, ipPacket(N1, N3, IPPROTO.UDP, espInUdp({ src: N1, dst: N3 }, esp))));
    }
    out.push({ name: 'esp-null-in-udp-4500', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'ESP-NULL (ICV 16, inner UDP) encapsulated in UDP 4500' });
  }
  {
    // AH alone (integrity only) and AH wrapping ESP.
    const pk: Pkt[] = [];
    for (let i = 1; i <= 3; i++) {
      const seg = tcp({ src: N1, dst: N2, srcPort: 50950, dstPort: 8060, seq: i }, text(30, 0x5601 + i));
      pk.push(at(i * 10, ipPacket(N1, N2, IPPROTO.AH, ah({ nextHeader: IPPROTO.TCP, spi: 0x5601, seq: i, icv: detBytes(12, 0x5601 + i) }, seg))));
      const back = icmpEcho({ id: 9, seq: i, reply: true }, text(16, i));
      pk.push(at(i * 10 + 1, ipPacket(N2, N1, IPPROTO.AH, ah({ nextHeader: IPPROTO.ICMP, spi: 0x5602, seq: i, icv: detBytes(12, 0x5602 + i) }, back))));
    }
    out.push({ name: 'ah-only', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'AH without ESP: TCP 8060 N1→N2 and ICMP N2→N1' });
    const pw: Pkt[] = [];
    const sa = cbcSa(0x5701);
    const sb = cbcSa(0x5702);
    for (let i = 1; i <= 3; i++) {
      const e1 = espBody(sa, i, IPPROTO.TCP, tcp({ src: N1, dst: N2, srcPort: 50960, dstPort: 8060, seq: i }, text(30, 0x5701 + i)));
      pw.push(at(i * 10, ipPacket(N1, N2, IPPROTO.AH, ah({ nextHeader: IPPROTO.ESP, spi: 0x5703, seq: i, icv: detBytes(12, 0x5703 + i) }, e1))));
      const e2 = espBody(sb, i, IPPROTO.TCP, tcp({ src: N2, dst: N1, srcPort: 8060, dstPort: 50960, seq: i }, text(20, 0x5702 + i)));
      pw.push(at(i * 10 + 1, ipPacket(N2, N1, IPPROTO.AH, ah({ nextHeader: IPPROTO.ESP, spi: 0x5704, seq: i, icv: detBytes(12, 0x5704 + i) }, e2))));
    }
    out.push({ name: 'ah-with-esp', bytes: pcapOf(pw), nodes: NODES, linkTypes: [1], notes: 'AH wrapping ESP (AES-CBC) both ways: compliant' });
  }
  {
    // Snaplen 96: ESP trailers and IKE proposals cut off.
    const pk = [...ikev2Negotiation(201, [STRONG_V2], STRONG_V2, 14), ...compliantEsp(30, 0x5800)];
    out.push({ name: 'snaplen-96-ike-esp', bytes: pcapOf(pk, { snaplen: 96 }), nodes: NODES, linkTypes: [1], notes: 'snaplen 96: IKE SA payloads and ESP trailers cut, so unreadable / unjudged' });
  }
  return out;
}

function trafficCaptures(): SyntheticCapture[] {
  const out: SyntheticCapture[] = [];
  {
    // Clear TCP on the analytics server's ports between nodes, beside compliant ESP.
    const pk: Pkt[] = [...compliantEsp(0, 0x6000)];
    const convo = (t: number, c: string, s: string, cport: number, sport: number, seed: number): void => {
      pk.push(at(t, tcpIp(c, s, cport, sport, Buffer.alloc(0), TCP_FLAGS.SYN, 100)));
      pk.push(at(t + 0.5, tcpIp(s, c, sport, cport, Buffer.alloc(0), TCP_FLAGS.SYN | TCP_FLAGS.ACK, 900)));
      pk.push(at(t + 1, tcpIp(c, s, cport, sport, Buffer.alloc(0), TCP_FLAGS.ACK, 101)));
      pk.push(at(t + 2, tcpIp(c, s, cport, sport, text(120, seed), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 101)));
      pk.push(at(t + 3.25, tcpIp(s, c, sport, cport, text(333, seed + 1), TCP_FLAGS.ACK | TCP_FLAGS.PSH, 901)));
    };
    convo(100, N1, N2, 50123, 8060, 1);
    convo(200, N3, N1, 49999, 8850, 2);
    convo(300, N2, N3, 60001, 27000, 3);
    pk.push(at(400.123456, tcpIp(N1, N2, 50123, 8060, text(10, 4), TCP_FLAGS.FIN | TCP_FLAGS.ACK, 221)));
    pk.sort((a, b) => a.ms - b.ms);
    out.push({ name: 'plaintext-tcp-8060-8850-27000', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'clear TCP N1→N2:8060, N3→N1:8850, N2→N3:27000 beside ESP' });
  }
  {
    // Control traffic: ARP, ND, multicast, broadcast (limited and directed), beside ESP.
    const arpReq = ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: macOf(N1), etherType: ETHERTYPE.ARP }, arp({ operation: 1, senderMac: macOf(N1), senderIp: N1, targetIp: N2 }));
    const arpRep = ethernet({ dst: macOf(N1), src: macOf(N2), etherType: ETHERTYPE.ARP }, arp({ operation: 2, senderMac: macOf(N2), senderIp: N2, targetMac: macOf(N1), targetIp: N1 }));
    const snm = solicitedNodeMulticast(V6N2);
    const ns = ipv6({ src: V6N1, dst: snm, nextHeader: IPPROTO.ICMPV6, hopLimit: 255 }, icmpv6NeighborSolicitation({ src: V6N1, dst: snm, target: V6N2, sourceLinkAddress: macOf(V6N1) }));
    const na = ipv6({ src: V6N2, dst: V6N1, nextHeader: IPPROTO.ICMPV6, hopLimit: 255 }, icmpv6NeighborAdvertisement({ src: V6N2, dst: V6N1, target: V6N2, solicited: true, override: true, targetLinkAddress: macOf(V6N2) }));
    const mdns = udpIp(N1, '224.0.0.251', 5353, 5353, text(40, 1));
    const mdns6 = udpIp(V6N1, 'ff02::fb', 5353, 5353, text(40, 2));
    const report = Buffer.from([0x16, 0, 0, 0, 224, 0, 0, 251]); // IGMPv2 membership report
    report.writeUInt16BE(internetChecksum(report), 2);
    const igmp = ipv4({ src: N2, dst: '224.0.0.251', protocol: 2, ttl: 1 }, report);
    const bcast = udpIp(N3, '255.255.255.255', 68, 67, text(60, 3));
    const directed = udpIp(N1, '10.77.0.255', 137, 137, text(50, 4));
    const pk: Pkt[] = [...compliantEsp(0, 0x6100)];
    const frames: Buffer[] = [
      arpReq, arpRep,
      eth(ns, { dstMac: '33:33:ff:77:00:12' }), eth(na),
      eth(mdns, { dstMac: '01:00:5e:00:00:fb' }), eth(mdns6, { dstMac: '33:33:00:00:00:fb' }), eth(igmp, { dstMac: '01:00:5e:00:00:fb' }),
      eth(bcast, { dstMac: 'ff:ff:ff:ff:ff:ff' }), eth(directed, { dstMac: 'ff:ff:ff:ff:ff:ff' }),
    ];
    const all: Pkt[] = [...pk.map((p) => ({ ms: p.ms, data: eth(p.data) })), ...frames.map((f, i) => ({ ms: 100 + i, data: f }))];
    out.push({ name: 'control-arp-nd-multicast-broadcast', bytes: pcapOf(all, { link: (f) => f }), nodes: ['10.77.0.0/24', ...NODES_V6], linkTypes: [1], notes: 'ARP, IPv6 NS/NA, mDNS (v4/v6), IGMP, limited and directed broadcast beside ESP; nodes given as a /24' });
  }
  {
    // Traffic with non-nodes: node ↔ outside (info) and outside ↔ outside (not judged), beside ESP.
    const pk: Pkt[] = [...compliantEsp(0, 0x6200)];
    pk.push(at(100, tcpIp(OUT1, N1, 55555, 443, text(80, 1))));
    pk.push(at(101, tcpIp(N1, OUT1, 443, 55555, text(300, 2))));
    pk.push(at(102, tcpIp(OUT2, N1, 40000, 443, text(80, 3))));
    pk.push(at(103, tcpIp(N2, OUT1, 51515, 53, text(30, 4))));
    pk.push(at(104, udpIp(OUT1, OUT2, 5000, 5001, text(30, 5))));
    out.push({ name: 'non-node-traffic', bytes: pcapOf(pk), nodes: NODES, linkTypes: [1], notes: 'clients outside the cluster on 443 to N1, N2 to an outside DNS port, outside-to-outside UDP; ESP between nodes' });
  }
  {
    const pk: Pkt[] = [
      at(0, tcpIp(OUT1, N1, 55555, 443, text(80, 1))),
      at(1, tcpIp(N1, OUT1, 443, 55555, text(80, 2))),
    ];
    const arpReq = ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: macOf(N1), etherType: ETHERTYPE.ARP }, arp({ operation: 1, senderMac: macOf(N1), senderIp: N1, targetIp: N2 }));
    const all: Pkt[] = [...pk.map((p) => ({ ms: p.ms, data: eth(p.data) })), { ms: 5, data: arpReq }];
    out.push({ name: 'no-inter-node-traffic', bytes: pcapOf(all, { link: (f) => f }), nodes: NODES, linkTypes: [1], notes: 'only a node with an outside client, and ARP: nothing between nodes' });
  }
  out.push(decryptedCopiesEthernet(), decryptedCopiesSll2());
  return out;
}

/**
 * Decrypted copies on a plain Ethernet capture (no host metadata): a copy is proven only
 * as the very next packet after its ESP packet (same direction, within 1 ms, 30-120 bytes
 * smaller). Proven: 3 copies on 8060 and 1 on 8062. Leaks: 8850 (no ESP before), 27000
 * (2 ms after its ESP), 8061 (ESP the other way), 8000 (bigger than its ESP could carry),
 * 8062 (a second clear packet after one ESP), 8063 (an ARP frame between ESP and clear).
 */
function decryptedCopiesEthernet(): SyntheticCapture {
  const sa = cbcSa(0x6301);
  const back = cbcSa(0x6302);
  const frames: Pkt[] = [];
  let seq = 1;
  const push = (ms: number, ip: Buffer): void => { frames.push({ ms, data: eth(ip) }); };
  const seg = (sport: number, dport: number, payload: Buffer): Buffer => tcp({ src: N1, dst: N2, srcPort: sport, dstPort: dport, seq }, payload);
  const esp = (ms: number, segment: Buffer): void => push(ms, ipPacket(N1, N2, IPPROTO.ESP, espBody(sa, seq++, IPPROTO.TCP, segment)));
  const clear = (ms: number, segment: Buffer): void => push(ms, ipPacket(N1, N2, IPPROTO.TCP, segment, { id: seq }));
  const copyOf = (ms: number, sport: number, dport: number, payload: Buffer, delayMs = 0.2): void => {
    const s = seg(sport, dport, payload);
    esp(ms, s);
    clear(ms + delayMs, s);
  };
  copyOf(0, 50001, 8060, text(100, 1));
  copyOf(100, 50001, 8060, text(120, 2));
  copyOf(200, 50001, 8060, text(80, 3));
  clear(400, seg(50002, 8850, text(50, 4)));
  copyOf(500, 50003, 27000, text(60, 5), 2);
  push(700, ipPacket(N2, N1, IPPROTO.ESP, espBody(back, 1, IPPROTO.TCP, tcp({ src: N2, dst: N1, srcPort: 8061, dstPort: 50004 }, text(70, 6)))));
  clear(700.2, seg(50004, 8061, text(70, 7)));
  esp(800, seg(50005, 8000, text(10, 8)));
  clear(800.2, seg(50005, 8000, text(200, 9)));
  const s9 = seg(50006, 8062, text(40, 10));
  copyOf(900, 50006, 8062, text(40, 10)); // proven
  clear(900.4, s9); // the same segment again: its ESP packet already proved one copy
  const s10 = seg(50007, 8063, text(40, 11));
  esp(1000, s10);
  frames.push({ ms: 1000.1, data: ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: macOf(N3), etherType: ETHERTYPE.ARP }, arp({ operation: 1, senderMac: macOf(N3), senderIp: N3, targetIp: N1 })) });
  clear(1000.2, s10);
  return {
    name: 'decrypted-copies-ethernet', bytes: pcapOf(frames, { link: (f) => f }), nodes: NODES, linkTypes: [1],
    notes: 'Ethernet, no host metadata: proven copies (3 on 8060, 1 on 8062; each the very next packet, 0.2 ms after its ESP); leaks on 8850, 27000, 8061, 8000, 8062 (1 packet), 8063',
  };
}

/**
 * Decrypted copies with host metadata (Linux cooked v2, as `tcpdump -i any` on N2): inbound
 * copies must fit the oldest unused same-direction ESP packet within 5 ms on its interface or
 * 50 ms on the TUN (ifindex 9); outgoing clear packets on the TUN are proven by the ESP packet
 * that follows on the NIC (ifindex 2) within 50 ms. Proven: a burst of 3 inbound copies on
 * 8060, an inbound TUN copy on 8062 (12 ms), outgoing copies on 8850 and 8851 (12 ms). Leaks:
 * 27000 (inbound 6 ms after its ESP, same interface), 8061 (packet type OTHERHOST, not
 * inbound), 8063 (inbound on the TUN 80 ms late), 8000 (outgoing, its ESP on the same
 * interface), 8852 (80 ms).
 */
function decryptedCopiesSll2(): SyntheticCapture {
  const inSa = cbcSa(0x6401);
  const outSa = gcmSa(0x6402);
  const frames: Pkt[] = [];
  const push = (ms: number, ip: Buffer, packetType: number, ifIndex: number): void => {
    frames.push({ ms, data: linuxSll2({ packetType, protocol: ETHERTYPE.IPV4, interfaceIndex: ifIndex, linkAddress: macOf(N1) }, ip) });
  };
  let seq = 1;
  const inbound = (sport: number, dport: number, payload: Buffer): [Buffer, Buffer] => {
    const s = tcp({ src: N1, dst: N2, srcPort: sport, dstPort: dport, seq }, payload);
    return [ipPacket(N1, N2, IPPROTO.ESP, espBody(inSa, seq++, IPPROTO.TCP, s)), ipPacket(N1, N2, IPPROTO.TCP, s)];
  };
  // A burst: three ESP packets, then their three copies (kernel order).
  const burst = [inbound(50001, 8060, text(100, 1)), inbound(50001, 8060, text(60, 2)), inbound(50001, 8060, text(140, 3))];
  burst.forEach(([e], i) => push(i * 0.5, e, SLL_PACKET_TYPE.HOST, 2));
  burst.forEach(([, c], i) => push(2 + i * 0.5, c, SLL_PACKET_TYPE.HOST, 2));
  // One ESP packet on the NIC at espMs, its clear side at clearMs as (packet type, interface).
  const single = (sport: number, dport: number, payload: Buffer, espMs: number, clearMs: number, clearType: number, clearIface: number): void => {
    const [e, c] = inbound(sport, dport, payload);
    push(espMs, e, SLL_PACKET_TYPE.HOST, 2);
    push(clearMs, c, clearType, clearIface);
  };
  single(50002, 27000, text(50, 4), 100, 106, SLL_PACKET_TYPE.HOST, 2); // 6 ms late on the same interface: a leak
  single(50003, 8061, text(50, 5), 200, 200.5, SLL_PACKET_TYPE.OTHERHOST, 2); // not addressed to this host: a leak
  single(50004, 8062, text(50, 10), 220, 232, SLL_PACKET_TYPE.HOST, 9); // on the TUN 12 ms later (userspace IPsec): proven
  single(50005, 8063, text(50, 11), 240, 320, SLL_PACKET_TYPE.HOST, 9); // on the TUN 80 ms later, past the window: a leak
  // Outgoing (N2 → N1): a clear packet at clearMs on clearIface, its ESP packet on the NIC at espMs.
  let oseq = 1;
  const outbound = (dport: number, payload: Buffer, clearMs: number, clearIface: number, espMs: number): void => {
    const s = tcp({ src: N2, dst: N1, srcPort: 50000 + oseq, dstPort: dport, seq: oseq }, payload);
    push(clearMs, ipPacket(N2, N1, IPPROTO.TCP, s), SLL_PACKET_TYPE.OUTGOING, clearIface);
    push(espMs, ipPacket(N2, N1, IPPROTO.ESP, espBody(outSa, oseq++, IPPROTO.TCP, s)), SLL_PACKET_TYPE.OUTGOING, 2);
  };
  outbound(8850, text(80, 6), 300, 9, 300.3); // on the TUN, then its ESP: proven
  outbound(8000, text(80, 7), 400, 2, 400.3); // on the NIC itself, ESP on the same interface: a leak
  outbound(8851, text(30, 8), 500, 9, 512); // its ESP 12 ms later (strongSwan's queue on a loaded machine): proven
  outbound(8852, text(30, 9), 600, 9, 680); // its "ESP packet" 80 ms later, past the window: a leak
  return {
    name: 'decrypted-copies-sll2', bytes: pcapOf(frames, { linkType: 276 }), nodes: NODES, linkTypes: [276],
    notes: 'Linux cooked v2 with packet types and ifindex: proven inbound burst (3 on 8060), inbound TUN copy 12 ms late (8062) and outgoing TUN copies (8850; 8851, its ESP 12 ms later); leaks on 27000 (6 ms late, same interface), 8061 (OTHERHOST), 8063 (TUN, 80 ms late), 8000 (outgoing, same interface as its ESP), 8852 (its ESP 80 ms later)',
  };
}

export function syntheticCaptures(): SyntheticCapture[] {
  return [
    ...formatCaptures(),
    ...linkCaptures(),
    ipv6ExtensionCapture(),
    ...fragmentCaptures(),
    ...ikeCaptures(),
    ...espCaptures(),
    ...trafficCaptures(),
  ];
}

/** One synthetic capture by name, from a list made by syntheticCaptures(); throws when absent. */
export function syntheticCaptureNamed(captures: readonly SyntheticCapture[], name: string): SyntheticCapture {
  const c = captures.find((x) => x.name === name);
  if (!c) throw new Error(`no synthetic capture ${name}`);
  return c;
}

// ---------------------------------------------------------------- malformed

function frameAt(i: number): Buffer {
  return eth(tcpIp(N1, N2, 50000 + i, 8060, text(40 + i, i)));
}

function goodPcap(n: number, o: { byteOrder?: ByteOrder; linkType?: number } = {}): PcapWriter {
  const w = new PcapWriter({ linkType: o.linkType ?? 1, byteOrder: o.byteOrder ?? 'le' });
  for (let i = 0; i < n; i++) w.writePacket(frameAt(i), T0 + i, 1000 * i);
  return w;
}

function goodPcapng(n: number, byteOrder: ByteOrder = 'le'): PcapngWriter {
  const w = new PcapngWriter({ byteOrder });
  const e = w.addInterface({ linkType: 1 });
  for (let i = 0; i < n; i++) w.writePacket(e, frameAt(i), T0 + i, 1000 * i);
  return w;
}

export function malformedCaptures(): MalformedCapture[] {
  const out: MalformedCapture[] = [];
  {
    const w = goodPcap(2);
    const off = w.bytesWritten;
    w.rawBytes(pcapRecordHeader('le', T0 + 9, 0, 100, 100));
    w.rawBytes(Buffer.alloc(10, 0xaa));
    out.push({ name: 'pcap-truncated-record-data', bytes: Buffer.from(w.toBuffer()), expectOffset: off, expectField: /packet record/, truncated: { packets: 2 }, notes: 'record claims 100 bytes, 10 follow' });
  }
  {
    const w = goodPcap(3, { byteOrder: 'be' });
    const off = w.bytesWritten;
    w.rawBytes(pcapRecordHeader('be', T0 + 9, 0, 60, 60).subarray(0, 7));
    out.push({ name: 'pcap-truncated-record-header', bytes: Buffer.from(w.toBuffer()), expectOffset: off, expectField: /packet record header/, truncated: { packets: 3 }, notes: '7 bytes of a 16-byte record header (BE)' });
  }
  {
    const full = pcapFileHeader({ linkType: 1 });
    out.push({ name: 'pcap-truncated-file-header', bytes: full.subarray(0, 13), expectOffset: 0, expectField: /pcap file header/, truncated: { packets: 0 }, notes: '13 of the 24 header bytes' });
  }
  {
    const w = goodPcapng(2);
    const off = w.bytesWritten;
    // goodPcapng(1) is SHB (28 bytes) + IDB (20 bytes) + one EPB.
    const epb = goodPcapng(1).toBuffer().subarray(48);
    w.rawBytes(epb.subarray(0, epb.length - 9));
    out.push({ name: 'pcapng-truncated-block', bytes: Buffer.from(w.toBuffer()), expectOffset: off, expectField: /pcapng block type 0x6/, truncated: { packets: 2 }, notes: 'an EPB missing its last 9 bytes' });
  }
  {
    const w = goodPcapng(1, 'be');
    const off = w.bytesWritten;
    w.rawBytes(Buffer.from([0, 0, 0, 6, 0, 0]));
    out.push({ name: 'pcapng-truncated-block-header', bytes: Buffer.from(w.toBuffer()), expectOffset: off, expectField: /pcapng block header/, truncated: { packets: 1 }, notes: '6 bytes of a block header' });
  }
  {
    const w = goodPcapng(1);
    const off = w.bytesWritten;
    w.rawBytes(pcapngBlock('le', 0x80000001, Buffer.alloc(8), { totalLength: 22 }));
    out.push({ name: 'pcapng-block-length-not-multiple-of-4', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 4, expectField: /block total length/ });
  }
  {
    const w = goodPcapng(1, 'be');
    const off = w.bytesWritten;
    w.rawBytes(pcapngBlock('be', 6, Buffer.alloc(20), { totalLength: 8 }));
    out.push({ name: 'pcapng-block-length-below-12', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 4, expectField: /block total length/ });
  }
  {
    const w = goodPcapng(1);
    const off = w.bytesWritten;
    const bad = pcapngBlock('le', BLOCK.EPB, Buffer.concat([Buffer.alloc(20), Buffer.alloc(4)]), { trailerLength: 40 });
    // A well-formed EPB body (iface 0, caplen 4) whose trailer disagrees.
    bad.writeUInt32LE(4, 20);
    bad.writeUInt32LE(4, 24);
    w.rawBytes(bad);
    w.rawBytes(goodPcapng(1).toBuffer().subarray(pcapngSectionHeader().length + 20));
    out.push({ name: 'pcapng-block-trailer-mismatch', bytes: Buffer.from(w.toBuffer()), expectOffset: off + bad.length - 4, expectField: /trailing length/ });
  }
  {
    const w = goodPcap(1);
    const off = w.bytesWritten;
    w.rawBytes(pcapRecordHeader('le', T0 + 5, 0, 262145, 262145));
    w.rawBytes(Buffer.alloc(64));
    out.push({ name: 'pcap-caplen-over-262144', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 8, expectField: /caplen/ });
  }
  {
    const w = goodPcapng(1);
    const off = w.bytesWritten;
    const body = Buffer.alloc(20 + 64);
    body.writeUInt32LE(0, 0);
    body.writeUInt32LE(300000, 12);
    body.writeUInt32LE(300000, 16);
    w.rawBytes(pcapngBlock('le', BLOCK.EPB, body));
    out.push({ name: 'pcapng-caplen-over-262144', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 20, expectField: /captured length/ });
  }
  {
    const w = goodPcapng(1);
    const off = w.bytesWritten;
    const body = Buffer.alloc(20 + 60);
    body.writeUInt32LE(3, 0); // only interface 0 exists
    body.writeUInt32LE(60, 12);
    body.writeUInt32LE(60, 16);
    frameAt(5).copy(body, 20, 0, 60);
    w.rawBytes(pcapngBlock('le', BLOCK.EPB, body));
    out.push({ name: 'pcapng-epb-undefined-interface', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 8, expectField: /interface id/ });
  }
  {
    const w = new PcapWriter({ linkType: 147 });
    w.writePacket(frameAt(0), T0, 0);
    out.push({ name: 'pcap-unknown-link-type-147', bytes: Buffer.from(w.toBuffer()), expectOffset: 24, expectField: /link type 147/, refusedByAnalyzer: true, notes: 'LINKTYPE_USER0 with a packet' });
    const g = new PcapngWriter({ byteOrder: 'be' });
    const e = g.addInterface({ linkType: 1 });
    const u = g.addInterface({ linkType: 105 });
    g.writePacket(e, frameAt(1), T0, 0);
    const off = g.bytesWritten;
    g.writePacket(u, frameAt(2), T0 + 1, 0);
    out.push({ name: 'pcapng-unknown-link-type-105', bytes: Buffer.from(g.toBuffer()), expectOffset: off, expectField: /link type 105/, refusedByAnalyzer: true, notes: '802.11 interface with a packet, after a good Ethernet one' });
  }
  out.push({ name: 'bad-magic', bytes: Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(40)]), expectOffset: 0, expectField: /magic/ });
  out.push({ name: 'empty-file', bytes: Buffer.alloc(0), expectOffset: 0, expectField: /file header/ });
  {
    const b = Buffer.from(goodPcap(1).toBuffer());
    b.writeUInt16LE(3, 4);
    out.push({ name: 'pcap-major-version-3', bytes: b, expectOffset: 4, expectField: /major version/ });
  }
  {
    const b = Buffer.from(goodPcapng(1).toBuffer());
    b.writeUInt32LE(0x12345678, 8);
    out.push({ name: 'pcapng-shb-bad-byte-order-magic', bytes: b, expectOffset: 8, expectField: /byte-order magic/ });
  }
  {
    // A second section whose byte-order magic is wrong.
    const w = goodPcapng(1);
    const off = w.bytesWritten;
    const shb = pcapngSectionHeader({ byteOrder: 'be' });
    shb.writeUInt32BE(0x1a2b3c4e, 8);
    w.rawBytes(shb);
    out.push({ name: 'pcapng-second-shb-bad-byte-order-magic', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 8, expectField: /byte-order magic/ });
  }
  {
    // A later record that claims 4 GB.
    const w = goodPcap(3);
    const off = w.bytesWritten;
    w.rawBytes(pcapRecordHeader('le', T0 + 9, 0, 0xffffffff, 0xffffffff));
    w.rawBytes(Buffer.alloc(32));
    out.push({ name: 'pcap-caplen-4g', bytes: Buffer.from(w.toBuffer()), expectOffset: off + 8, expectField: /caplen/ });
  }
  return out;
}
