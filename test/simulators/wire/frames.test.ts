// Frame builders, checked by tshark: link layers dissect as the layer they claim, every
// checksum validates (and a deliberately wrong one does not, so the oracle is live),
// extension-header chains parse, and fragments reassemble.
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import {
  AF, ETHERTYPE, IPPROTO, SLL_PACKET_TYPE, TCP_FLAGS, TCP_OPTION, ah, arp, bsdLoop, bsdNull, ethernet, fragmentIpv4, fragmentIpv6,
  icmpEcho, icmpv6Echo, icmpv6NeighborAdvertisement, icmpv6NeighborSolicitation, internetChecksum, ipPacket, ipv4, ipv4Bytes, ipv4Header, ipv6,
  ipv6Bytes, ipv6Header, linuxSll, linuxSll2, solicitedNodeMulticast, tcp, udp,
} from '../../../simulators/wire/frames.js';
import { PcapWriter } from '../../../simulators/wire/pcap-writer.js';
import { CHECKSUM_BAD, CHECKSUM_GOOD, CHECKSUM_PREFS, TempDir, column, expertProblems, fields } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';
const A4 = '10.0.0.1';
const B4 = '10.0.0.2';
const A6 = '2001:db8::a';
const B6 = '2001:db8::b';
const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW: 101, LOOP: 108, LINUX_SLL: 113, LINUX_SLL2: 276 };

/** A pcap of `packets` with `linkType`, one second apart. */
function capture(name: string, linkType: number, packets: Buffer[]): string {
  const w = new PcapWriter({ linkType });
  packets.forEach((p, i) => w.writePacket(p, 1700000000 + i, 0));
  return tmp.file(name, w.toBuffer());
}

const eth = (etherType: number, payload: Buffer): Buffer => ethernet({ dst: MAC_B, src: MAC_A, etherType }, payload);
const ip = (p: Buffer): Buffer => eth(p[0]! >> 4 === 4 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6, p);
const body = Buffer.from('cryptgate wire test payload');

describe('addresses and checksum', () => {
  it('parses IPv4 and IPv6 text forms', () => {
    assert.equal(ipv4Bytes('192.168.0.255').toString('hex'), 'c0a800ff');
    assert.throws(() => ipv4Bytes('256.0.0.1'));
    assert.equal(ipv6Bytes('::1').toString('hex'), '0'.repeat(31) + '1');
    assert.equal(ipv6Bytes('2001:db8::a:0:1').toString('hex'), '20010db8000000000000000a00000001');
    assert.equal(ipv6Bytes('::ffff:10.0.0.1').toString('hex'), '00000000000000000000ffff0a000001');
    assert.equal(ipv6Bytes('fe80::1%eth0').toString('hex'), 'fe80' + '0'.repeat(27) + '1');
    assert.throws(() => ipv6Bytes('1::2::3'));
    assert.throws(() => ipv6Bytes('1:2:3:4:5:6:7'));
    assert.equal(solicitedNodeMulticast('2001:db8::1:2345:6789').toString('hex'), 'ff0200000000000000000001ff456789');
  });

  it('computes the RFC 1071 example checksum', () => {
    // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded), so the checksum is 220d.
    assert.equal(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex')), 0x220d);
    assert.equal(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'), Buffer.from('220d', 'hex')), 0);
  });
});

describe('checksums validated by tshark', () => {
  it('IPv4 header, TCP (with options), UDP, ICMP; IPv6 TCP, UDP, ICMPv6 echo, NS, NA', () => {
    const nsDst = solicitedNodeMulticast(B6);
    const packets = [
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.TCP, id: 1, dontFragment: true, ttl: 128 }, tcp({
        src: A4, dst: B4, srcPort: 49152, dstPort: 8443, seq: 1000, flags: TCP_FLAGS.SYN, window: 64240,
        options: Buffer.concat([TCP_OPTION.mss(1460), TCP_OPTION.nop(), TCP_OPTION.windowScale(8), TCP_OPTION.sackPermitted(), TCP_OPTION.timestamps(1, 0)]),
      })),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.TCP, id: 2 }, tcp({ src: A4, dst: B4, srcPort: 49152, dstPort: 8443, seq: 1001, ack: 7, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH }, body)),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.UDP, id: 3 }, udp({ src: A4, dst: B4, srcPort: 40000, dstPort: 9999 }, body)),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.UDP, id: 4 }, udp({ src: A4, dst: B4, srcPort: 40000, dstPort: 9999 }, Buffer.alloc(0))), // odd and empty
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.ICMP, id: 5 }, icmpEcho({ id: 0x77, seq: 1 }, body.subarray(0, 11))), // odd length
      ipv6({ src: A6, dst: B6, nextHeader: IPPROTO.TCP }, tcp({ src: A6, dst: B6, srcPort: 49153, dstPort: 443, seq: 5, flags: TCP_FLAGS.ACK }, body)),
      ipv6({ src: A6, dst: B6, nextHeader: IPPROTO.UDP }, udp({ src: A6, dst: B6, srcPort: 40001, dstPort: 9999 }, body.subarray(0, 7))),
      ipv6({ src: A6, dst: B6, nextHeader: IPPROTO.ICMPV6 }, icmpv6Echo({ src: A6, dst: B6, id: 9, seq: 3 }, body)),
      ipv6({ src: A6, dst: nsDst, nextHeader: IPPROTO.ICMPV6, hopLimit: 255 }, icmpv6NeighborSolicitation({ src: A6, dst: nsDst, target: B6, sourceLinkAddress: MAC_A })),
      ipv6({ src: B6, dst: A6, nextHeader: IPPROTO.ICMPV6, hopLimit: 255 }, icmpv6NeighborAdvertisement({ src: B6, dst: A6, target: B6, solicited: true, override: true, targetLinkAddress: MAC_B })),
      ipPacket(A4, B4, IPPROTO.UDP, udp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body), { ttl: 3 }),
    ];
    const file = capture('checksums.pcap', LINKTYPE.ETHERNET, packets.map(ip));
    const rows = fields(file, ['ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status', 'icmp.checksum.status', 'icmpv6.checksum.status', 'tcp.option_kind', 'icmpv6.nd.ns.target_address', 'icmpv6.nd.na.flag.s', 'ip.ttl'], { prefs: CHECKSUM_PREFS });
    const G = CHECKSUM_GOOD;
    assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
      [G, G, '', '', ''], [G, G, '', '', ''], [G, '', G, '', ''], [G, '', G, '', ''], [G, '', '', G, ''],
      ['', G, '', '', ''], ['', '', G, '', ''], ['', '', '', '', G], ['', '', '', '', G], ['', '', '', '', G],
      [G, '', G, '', ''],
    ]);
    assert.equal(rows[0]![5], '2,1,3,4,8');
    assert.equal(rows[8]![6], B6);
    assert.equal(rows[9]![7], '1');
    assert.equal(rows[10]![8], '3');
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });

  it('a wrong checksum is reported bad (the oracle can fail)', () => {
    const good = tcp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body);
    const bad = tcp({ src: A4, dst: B4, srcPort: 1, dstPort: 2, checksum: good.readUInt16BE(16) ^ 1 }, body);
    const file = capture('bad.pcap', LINKTYPE.ETHERNET, [
      ip(ipv4({ src: A4, dst: B4, protocol: 6, checksum: 0x1234 }, good)),
      ip(ipv4({ src: A4, dst: B4, protocol: 6 }, bad)),
      ip(ipv4({ src: A4, dst: B4, protocol: 6 }, tcp({ src: A4, dst: '10.0.0.3', srcPort: 1, dstPort: 2 }, body))), // pseudo-header of another address
    ]);
    const rows = fields(file, ['ip.checksum.status', 'tcp.checksum.status'], { prefs: CHECKSUM_PREFS });
    assert.deepEqual(rows, [[CHECKSUM_BAD, CHECKSUM_GOOD], [CHECKSUM_GOOD, CHECKSUM_BAD], [CHECKSUM_GOOD, CHECKSUM_BAD]]);
  });
});

describe('link layers', () => {
  it('Ethernet with 802.1Q and 802.1ad (QinQ) tags; ARP', () => {
    const inner = ipv4({ src: A4, dst: B4, protocol: 17 }, udp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body));
    const file = capture('vlan.pcap', LINKTYPE.ETHERNET, [
      ethernet({ dst: MAC_B, src: MAC_A, etherType: ETHERTYPE.IPV4, vlans: [{ vid: 100, pcp: 5 }] }, inner),
      ethernet({ dst: MAC_B, src: MAC_A, etherType: ETHERTYPE.IPV4, vlans: [{ vid: 300 }, { vid: 42, dei: true }] }, inner),
      ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: ETHERTYPE.ARP, padToMinimum: true }, arp({ operation: 1, senderMac: MAC_A, senderIp: A4, targetIp: B4 })),
    ]);
    const rows = fields(file, ['eth.type', 'vlan.id', 'vlan.priority', 'ieee8021ad.id', 'ip.dst', 'arp.opcode', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4', 'frame.len']);
    assert.deepEqual(rows, [
      ['0x8100', '100', '5', '', B4, '', '', '', '73'], // 14 + 4 + 20 + 8 + 27
      ['0x88a8', '42', '0', '300', B4, '', '', '', '77'],
      ['0x0806', '', '', '', '', '1', A4, B4, '60'],
    ]);
    assert.deepEqual(expertProblems(file), []);
  });

  it('Linux SLL (16 B) and SLL2 (20 B): packet type, interface index, protocol', () => {
    const v4 = ipv4({ src: A4, dst: B4, protocol: 17 }, udp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body));
    const v6 = ipv6({ src: A6, dst: B6, nextHeader: 17 }, udp({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }, body));
    const sll = capture('sll.pcap', LINKTYPE.LINUX_SLL, [
      linuxSll({ packetType: SLL_PACKET_TYPE.OUTGOING, protocol: ETHERTYPE.IPV4, linkAddress: MAC_A }, v4),
      linuxSll({ packetType: SLL_PACKET_TYPE.HOST, protocol: ETHERTYPE.IPV6, linkAddress: MAC_B }, v6),
    ]);
    assert.deepEqual(fields(sll, ['sll.pkttype', 'sll.etype', 'sll.src.eth', 'ip.dst', 'ipv6.dst']), [
      ['4', '0x0800', MAC_A, B4, ''], ['0', '0x86dd', MAC_B, '', B6],
    ]);
    const sll2 = capture('sll2.pcap', LINKTYPE.LINUX_SLL2, [
      linuxSll2({ packetType: SLL_PACKET_TYPE.OUTGOING, protocol: ETHERTYPE.IPV4, interfaceIndex: 7, linkAddress: MAC_A }, v4),
      linuxSll2({ packetType: SLL_PACKET_TYPE.OTHERHOST, protocol: ETHERTYPE.IPV6, interfaceIndex: 123456 }, v6),
    ]);
    assert.deepEqual(fields(sll2, ['sll.pkttype', 'sll.etype', 'sll.ifindex', 'ip.dst', 'ipv6.dst']), [
      ['4', '0x0800', '7', B4, ''], ['3', '0x86dd', '123456', '', B6],
    ]);
    assert.deepEqual([...expertProblems(sll), ...expertProblems(sll2)], []);
  });

  it('BSD NULL in either host byte order, and LOOP (always big-endian)', () => {
    const v4 = ipv4({ src: A4, dst: B4, protocol: 17 }, udp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body));
    const v6 = ipv6({ src: A6, dst: B6, nextHeader: 17 }, udp({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }, body));
    const le = bsdNull(AF.INET, v4, 'le');
    const be = bsdNull(AF.INET6_DARWIN, v6, 'be');
    assert.equal(le.subarray(0, 4).toString('hex'), '02000000');
    assert.equal(be.subarray(0, 4).toString('hex'), '0000001e');
    const nul = capture('null.pcap', LINKTYPE.NULL, [le, be, bsdNull(AF.INET6_BSD, v6)]);
    assert.deepEqual(fields(nul, ['null.family', 'ip.dst', 'ipv6.dst']), [['2', B4, ''], ['30', '', B6], ['24', '', B6]]);
    const loop = capture('loop.pcap', LINKTYPE.LOOP, [bsdLoop(AF.INET, v4), bsdLoop(AF.INET6_FREEBSD, v6)]);
    assert.equal(bsdLoop(AF.INET, v4).subarray(0, 4).toString('hex'), '00000002');
    assert.deepEqual(fields(loop, ['null.family', 'ip.dst', 'ipv6.dst']), [['2', B4, ''], ['28', '', B6]]);
  });
});

describe('IPv4 and IPv6 headers', () => {
  it('IPv4 options, flags, TTL, id, TOS', () => {
    const opts = Buffer.from([1, 0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0]); // NOP, Router Alert, Record Route
    const p = ipv4({ src: A4, dst: B4, protocol: 17, id: 0xbeef, ttl: 17, tos: 0xb8, dontFragment: true, options: opts }, udp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body));
    assert.equal(p[0], 0x48); // IHL 8 words
    const file = capture('opts.pcap', LINKTYPE.RAW, [p]);
    assert.deepEqual(fields(file, ['ip.hdr_len', 'ip.id', 'ip.ttl', 'ip.dsfield', 'ip.flags.df', 'ip.opt.type', 'ip.checksum.status', 'udp.checksum.status'], { prefs: CHECKSUM_PREFS }), [
      ['32', '0xbeef', '17', '0xb8', '1', '1,148,7', CHECKSUM_GOOD, CHECKSUM_GOOD],
    ]);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });

  it('IPv6 extension-header chain: hop-by-hop, destination options, routing, destination options', () => {
    const home = '2001:db8::99';
    // With a type 2 routing header (segments left 1) the final destination is the home
    // address, so that is what the TCP pseudo-header must use (RFC 8200 §8.1).
    const p = ipv6({
      src: A6, dst: B6, nextHeader: IPPROTO.TCP, flowLabel: 0x12345, trafficClass: 0x20,
      extensions: [{ type: 0, options: Buffer.from([0x05, 0x02, 0x00, 0x00]) /* router alert */ }, { type: 60 }, { type: 43, routingType: 2, segmentsLeft: 1, addresses: [home] }, { type: 60 }],
    }, tcp({ src: A6, dst: home, srcPort: 1000, dstPort: 2000 }, body));
    const file = capture('ext.pcap', LINKTYPE.RAW, [p]);
    assert.deepEqual(fields(file, ['ipv6.nxt', 'ipv6.hopopts.nxt', 'ipv6.dstopts.nxt', 'ipv6.routing.nxt', 'ipv6.flow', 'tcp.checksum.status', 'tcp.payload'], { prefs: CHECKSUM_PREFS }), [
      ['0', '60', '43,6', '60', '0x012345', CHECKSUM_GOOD, body.toString('hex')],
    ]);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });

  it('ipv4Header / ipv6Header: exactly the headers ipv4 / ipv6 put before the payload', () => {
    const payload = Buffer.alloc(333, 0x5a);
    const v4 = { src: A4, dst: B4, protocol: IPPROTO.AH, id: 0x1234, ttl: 128, dontFragment: true, options: Buffer.from([1, 1, 1, 0]) };
    const whole4 = ipv4(v4, payload);
    assert.deepEqual(ipv4Header(v4, payload.length), whole4.subarray(0, whole4.length - payload.length));
    const v6 = { src: A6, dst: B6, nextHeader: IPPROTO.AH, hopLimit: 128, extensions: [{ type: 60 as const }] };
    const whole6 = ipv6(v6, payload);
    assert.deepEqual(ipv6Header(v6, payload.length), whole6.subarray(0, whole6.length - payload.length));
    assert.throws(() => ipv4Header(v4, 0x10000), /too long/);
  });

  it('fragmentIpv4: 8-byte units, options copied per RFC 791, tshark reassembles', () => {
    const big = Buffer.alloc(3000, 0).map((_, i) => i & 0xff);
    const opts = Buffer.from([1, 0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0]); // only Router Alert has the copy bit
    const dgram = ipv4({ src: A4, dst: B4, protocol: 17, id: 0x4242, options: opts }, udp({ src: A4, dst: B4, srcPort: 7000, dstPort: 7001 }, big));
    const frags = fragmentIpv4(dgram, 1000);
    assert.equal(frags.length, 4);
    for (const f of frags) assert.ok(f.length <= 1000);
    const file = capture('frag4.pcap', LINKTYPE.ETHERNET, frags.map(ip));
    const rows = fields(file, ['ip.frag_offset', 'ip.flags.mf', 'ip.opt.type', 'ip.checksum.status', 'ip.reassembled.length', 'udp.length', 'udp.checksum.status'], { prefs: CHECKSUM_PREFS });
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
      ['0', '1', '1,148,7', CHECKSUM_GOOD], ['121', '1', '148', CHECKSUM_GOOD], ['243', '1', '148', CHECKSUM_GOOD], ['365', '0', '148', CHECKSUM_GOOD],
    ]);
    assert.deepEqual(rows[3]!.slice(4), ['3008', '3008', CHECKSUM_GOOD]);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
    assert.throws(() => fragmentIpv4(ipv4({ src: A4, dst: B4, protocol: 17, dontFragment: true }, big), 1000), /DF/);
    assert.equal(fragmentIpv4(dgram, 5000).length, 1);
  });

  it('fragmentIpv6: per-fragment part keeps hop-by-hop/dest-opts/routing, tshark reassembles', () => {
    const home = '2001:db8::99';
    const big = Buffer.alloc(3000, 0).map((_, i) => (i * 7) & 0xff);
    const pkt = ipv6({
      src: A6, dst: B6, nextHeader: IPPROTO.UDP,
      extensions: [{ type: 0 }, { type: 60 }, { type: 43, routingType: 2, segmentsLeft: 1, addresses: [home] }, { type: 60 }],
    }, udp({ src: A6, dst: home, srcPort: 7000, dstPort: 7001 }, big));
    const frags = fragmentIpv6(pkt, 1280, 0xabcdef);
    assert.equal(frags.length, 3);
    for (const f of frags) assert.ok(f.length <= 1280);
    const file = capture('frag6.pcap', LINKTYPE.ETHERNET, frags.map(ip));
    const rows = fields(file, ['ipv6.routing.nxt', 'ipv6.fraghdr.nxt', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'ipv6.fraghdr.ident', 'ipv6.reassembled.length', 'udp.length', 'udp.checksum.status'], { prefs: CHECKSUM_PREFS });
    // The fragment header follows the routing header; the trailing destination options
    // (fragmentable) are the first thing inside the fragments.
    // Per-fragment part: 40 + 8 (hop-by-hop) + 8 (dest opts) + 24 (routing) = 80 bytes, so
    // each fragment carries floor((1280 - 80 - 8) / 8) * 8 = 1192 bytes: offsets 0, 149, 298 units.
    assert.deepEqual(rows.map((r) => r.slice(0, 5)), [
      ['44', '60', '0', '1', '0x00abcdef'], ['44', '60', '149', '1', '0x00abcdef'], ['44', '60', '298', '0', '0x00abcdef'],
    ]);
    assert.deepEqual(rows[2]!.slice(5), ['3016', '3008', CHECKSUM_GOOD]);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });
});

describe('AH', () => {
  it('RFC 4302 header over IPv4 and IPv6: next header, SPI, sequence, ICV, length', () => {
    const seg4 = tcp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body);
    const seg6 = tcp({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }, body);
    const icv = Buffer.from('00112233445566778899aabb', 'hex');
    const file = capture('ah.pcap', LINKTYPE.ETHERNET, [
      ip(ipv4({ src: A4, dst: B4, protocol: IPPROTO.AH }, ah({ nextHeader: IPPROTO.TCP, spi: 0x1000, seq: 1, icv }, seg4))),
      ip(ipv6({ src: A6, dst: B6, nextHeader: IPPROTO.AH }, ah({ nextHeader: IPPROTO.TCP, spi: 0x2000, seq: 2, icv: 20 }, seg6))),
    ]);
    assert.deepEqual(fields(file, ['ah.next_header', 'ah.length', 'ah.spi', 'ah.sequence', 'ah.icv', 'tcp.checksum.status'], { prefs: CHECKSUM_PREFS }), [
      ['6', '4', '0x00001000', '1', icv.toString('hex'), CHECKSUM_GOOD],
      ['6', '6', '0x00002000', '2', column(file, 'ah.icv')[1]!, CHECKSUM_GOOD],
    ]);
    assert.equal(column(file, 'ah.icv')[1]!.length, 40);
    assert.throws(() => ah({ nextHeader: 6, spi: 1, seq: 1, icv: 10 }, seg4), /multiple of 4/);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });
});
