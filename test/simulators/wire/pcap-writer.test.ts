// The writers' files must open in tshark/capinfos with the right packet count, timestamps,
// lengths and link types, in every byte order and timestamp form we claim to write; the
// raw helpers must produce the breakage they claim (tshark must complain).
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { ethernet, ipv4, udp } from '../../../simulators/wire/frames.js';
import {
  BLOCK, EPB_INBOUND, EPB_OUTBOUND, FileSink, PcapngWriter, PcapWriter, pcapngBlock, pcapRecordHeader, type ByteOrder,
} from '../../../simulators/wire/pcap-writer.js';
import { TempDir, capinfos, capinfosInterfaces, capinfosSectionComments, column, fields, tsharkStatus } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

function frame(n: number, size = 60): Buffer {
  const src = '10.1.0.1';
  const dst = '10.1.0.2';
  const payload = Buffer.alloc(Math.max(0, size - 42), n & 0xff);
  return ethernet({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800 }, ipv4({ src, dst, protocol: 17, id: n }, udp({ src, dst, srcPort: 40000 + n, dstPort: 9 }, payload)));
}

describe('classic pcap', () => {
  const cases: { order: ByteOrder; nanos: boolean; magic: string; type: string }[] = [
    { order: 'le', nanos: false, magic: 'd4c3b2a1', type: 'pcap' },
    { order: 'be', nanos: false, magic: 'a1b2c3d4', type: 'pcap' },
    { order: 'le', nanos: true, magic: '4d3cb2a1', type: 'nsecpcap' },
    { order: 'be', nanos: true, magic: 'a1b23c4d', type: 'nsecpcap' },
  ];
  for (const c of cases) {
    it(`${c.order.toUpperCase()} ${c.nanos ? 'ns' : 'µs'}: magic, count, timestamps, snaplen cut`, () => {
      const w = new PcapWriter({ linkType: 1, snaplen: 100, nanoseconds: c.nanos, byteOrder: c.order });
      const frac = c.nanos ? 123456789 : 123456;
      w.writePacket(frame(1), 1700000000, frac);
      w.writePacket(frame(2, 300), 1700000001, 0); // cut to the snaplen
      w.writePacket(frame(3), 1700000002, c.nanos ? 999999999 : 999999, 1500); // claims a longer original
      const buf = w.toBuffer();
      assert.equal(buf.subarray(0, 4).toString('hex'), c.magic);
      const file = tmp.file(`c-${c.order}-${c.nanos}.pcap`, buf);
      const info = capinfos(file);
      assert.equal(info.get('File type'), c.type);
      assert.equal(info.get('File encapsulation'), 'ether');
      assert.equal(info.get('Number of packets'), '3');
      assert.equal(info.get('Packet size limit'), '100');
      const rows = fields(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'udp.srcport']);
      const t = c.nanos ? ['1700000000.123456789', '1700000001.000000000', '1700000002.999999999'] : ['1700000000.123456000', '1700000001.000000000', '1700000002.999999000'];
      assert.deepEqual(rows.map((r) => r[0]), t);
      assert.deepEqual(rows.map((r) => [r[1], r[2]]), [['60', '60'], ['300', '100'], ['1500', '60']]);
      assert.deepEqual(rows.map((r) => r[3]), ['40001', '40002', '40003']);
    });
  }

  it('writes any link type and the header fields it is given', () => {
    const w = new PcapWriter({ linkType: 101, snaplen: 65535, linkTypeHighBits: 0 });
    w.writePacket(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17 }, udp({ src: '1.1.1.1', dst: '2.2.2.2', srcPort: 1, dstPort: 2 }, Buffer.from('raw'))), 5, 6);
    const file = tmp.file('raw.pcap', w.toBuffer());
    assert.equal(capinfos(file).get('File encapsulation'), 'rawip');
    assert.deepEqual(column(file, 'ip.dst'), ['2.2.2.2']);
    assert.equal(w.packetsWritten, 1);
  });

  it('rawBytes + pcapRecordHeader build a record that claims more than follows (tshark reports it cut short)', () => {
    const w = new PcapWriter({ linkType: 1 });
    w.writePacket(frame(1), 1, 0);
    w.rawBytes(pcapRecordHeader('le', 2, 0, 1000, 1000));
    w.rawBytes(Buffer.alloc(10));
    const file = tmp.file('cut.pcap', w.toBuffer());
    const r = tsharkStatus(file);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cut short in the middle of a packet/);
    assert.equal(r.stdout.trim().split('\n').length, 1); // the whole first packet still reads
  });

  it('streams to a file through a small reused buffer, byte-identical to the in-memory file', () => {
    const path = tmp.file('stream.pcap');
    const fw = new PcapWriter({ linkType: 1, nanoseconds: true, byteOrder: 'be' }, new FileSink(path, 4096));
    const mw = new PcapWriter({ linkType: 1, nanoseconds: true, byteOrder: 'be' });
    for (let i = 0; i < 500; i++) {
      const f = frame(i, 60 + (i % 7) * 200); // some records straddle the 4 KiB flush boundary
      fw.writePacket(f, 1700000000 + i, i * 1000);
      mw.writePacket(f, 1700000000 + i, i * 1000);
    }
    fw.writePacket(Buffer.alloc(9000, 1), 1700001000, 0); // bigger than the buffer: it must grow
    mw.writePacket(Buffer.alloc(9000, 1), 1700001000, 0);
    assert.equal(fw.bytesWritten, mw.bytesWritten);
    fw.close();
    assert.ok(readFileSync(path).equals(mw.toBuffer()));
    assert.equal(capinfos(path).get('Number of packets'), '501');
    assert.throws(() => fw.toBuffer(), /MemorySink/);
  });
});

describe('pcapng', () => {
  it('two sections of opposite byte order, IDB options, EPB/SPB/obsolete PB, unknown and custom blocks', () => {
    const w = new PcapngWriter({ byteOrder: 'le', hardware: 'sim', os: 'cryptgate', userAppl: 'pcap-writer test', comment: 'section one' });
    const ns = w.addInterface({ linkType: 1, name: 'eth0', tsresol: 9, snaplen: 0 });
    const bin = w.addInterface({ linkType: 1, name: 'eth1', tsresol: 0x80 | 20 }); // 2^-20 s
    const us = w.addInterface({ linkType: 101, name: 'raw0', tsoffset: 1_000_000_000n }); // default µs, +1e9 s
    w.writeEnhancedPacket(ns, frame(1), { seconds: 1700000000, nanoseconds: 123456789 }, { flags: EPB_INBOUND, comment: 'first' });
    w.writePacket(bin, frame(2), 1700000001, 500_000_000); // exact in 2^-20 units
    w.writeBlock(0x00000fff, Buffer.from('an unknown block type, to be skipped')); // unregistered type
    w.writeBlock(0x80000001, Buffer.from('local-use block')); // MSB set: local use
    w.writeCustomBlock(32473, Buffer.from('custom, copyable'));
    w.writeCustomBlock(32473, Buffer.from('custom, do not copy'), false);
    const ipPkt = ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 17 }, udp({ src: '1.1.1.1', dst: '2.2.2.2', srcPort: 1, dstPort: 2 }, Buffer.from('raw')));
    w.writePacket(us, ipPkt, 1700000002, 250_000_000); // absolute time; written relative to tsoffset
    w.writeEnhancedPacket(ns, frame(3), 1700000003000000001n, { flags: EPB_OUTBOUND, origLen: 1000 }); // raw units
    w.writeSimplePacket(frame(4)); // interface 0, no timestamp
    w.writeObsoletePacket(ns, frame(5), { seconds: 1700000004, nanoseconds: 5 }, { drops: 3, flags: EPB_INBOUND });

    w.startSection({ byteOrder: 'be', comment: 'section two' });
    const be = w.addInterface({ linkType: 1, name: 'eth9', tsresol: 3, snaplen: 64 }); // ms, cut to 64 bytes
    w.writePacket(be, frame(6, 200), 1700000005, 7_000_000);
    w.writeSimplePacket(frame(7, 200));
    assert.equal(w.packetsWritten, 8);

    const buf = w.toBuffer();
    // The second SHB's BOM is written big-endian.
    const second = buf.indexOf(Buffer.from('0a0d0d0a', 'hex'), 8);
    assert.equal(buf.readUInt32BE(second + 8), 0x1a2b3c4d);
    assert.equal(buf.readUInt32LE(8), 0x1a2b3c4d);

    const file = tmp.file('two-sections.pcapng', buf);
    const info = capinfos(file);
    assert.equal(info.get('File type'), 'pcapng');
    assert.equal(info.get('Number of packets'), '8');
    assert.equal(info.get('File encapsulation'), 'per-packet');
    const rows = fields(file, ['frame.time_epoch', 'frame.interface_name', 'frame.len', 'frame.cap_len', 'frame.packet_flags_direction', 'frame.comment', 'udp.srcport', 'frame.encap_type']);
    // tshark 4.0 hands the two Custom Blocks on as records of their own (no interface, the
    // padded data as the frame); the two unknown-type blocks are skipped silently.
    assert.equal(rows.length, 10);
    const custom = rows.filter((r) => r[1] === '');
    assert.deepEqual(custom.map((r) => r[2]), ['16', '20']);
    const pk = rows.filter((r) => r[1] !== '');
    const col = (i: number): string[] => pk.map((r) => r[i] ?? '');
    // SPBs carry no timestamp (tshark shows none). The ms value in section two proves
    // that section's own IDB (if_tsresol 3) was used.
    assert.deepEqual(col(0), [
      '1700000000.123456789', '1700000001.500000000', '1700000002.250000000', '1700000003.000000001', '', '1700000004.000000005', '1700000005.007000000', '',
    ]);
    // tshark 4.0.17 names section two's packets after section one's interface 0 ("eth0"),
    // although capinfos lists that section's IDB ("eth9") separately (checked below).
    assert.deepEqual(col(1).slice(0, 6), ['eth0', 'eth1', 'raw0', 'eth0', 'eth0', 'eth0']);
    assert.deepEqual(col(2), ['60', '60', '31', '1000', '60', '60', '200', '200']);
    assert.deepEqual(col(3), ['60', '60', '31', '60', '60', '60', '64', '64']);
    assert.deepEqual(col(4), ['0x00000001', '', '', '0x00000002', '', '0x00000001', '', '']);
    assert.deepEqual(col(5), ['first', '', '', '', '', '', '', '']);
    assert.deepEqual(col(6), ['40001', '40002', '1', '40003', '40004', '40005', '40006', '40007']);
    assert.deepEqual(col(7), ['1', '1', '7', '1', '1', '1', '1', '1']); // 7 = WTAP_ENCAP_RAW_IP

    const ifaces = capinfosInterfaces(file);
    assert.deepEqual(ifaces.map((i) => [i.name, i.ticks, i.snaplen, i.offset]), [
      ['eth0', '1000000000', '0', '0'], ['eth1', '1048576', '0', '0'], ['raw0', '1000000', '0', '1000000000'], ['eth9', '1000', '64', '0'],
    ]);
    assert.deepEqual(capinfosSectionComments(file), ['section one', 'section two']);
  });

  it('a big-endian section is read by libpcap (tcpdump) too', () => {
    const w = new PcapngWriter({ byteOrder: 'be' });
    w.addInterface({ linkType: 1, tsresol: 9 });
    w.writePacket(0, frame(1), 1700000000, 123456789);
    w.writeEnhancedPacket(0, frame(2), { seconds: 1700000001, nanoseconds: 1 }, { flags: EPB_INBOUND, comment: 'x' });
    const file = tmp.file('be.pcapng', w.toBuffer());
    const out = execFileSync('tcpdump', ['-nn', '-tt', '--time-stamp-precision=nano', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^1700000000\.123456789 IP 10\.1\.0\.1\.40001 > 10\.1\.0\.2\.9: UDP/);
    assert.match(lines[1]!, /^1700000001\.000000001 IP 10\.1\.0\.1\.40002 > /);
  });

  it('timestamps: the allocation-free number path equals the exact BigInt conversion at every resolution', () => {
    const resolutions = [...Array.from({ length: 10 }, (_, n) => n), ...Array.from({ length: 24 }, (_, n) => 0x80 | n), 12, 0x80 | 30];
    const samples: [number, number][] = [[0, 0], [1, 1], [1700000000, 999999999], [4294967295, 123456789], [2 ** 33 + 5, 500000001], [86399, 999999]];
    for (let i = 0; i < 200; i++) samples.push([Math.floor(Math.random() * 2 ** 32), Math.floor(Math.random() * 1e9)]);
    for (const r of resolutions) {
      const fast = new PcapngWriter();
      const exact = new PcapngWriter();
      fast.addInterface({ linkType: 1, tsresol: r, tsoffset: 3n });
      exact.addInterface({ linkType: 1, tsresol: r, tsoffset: 3n });
      const perSecond = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
      for (const [s, ns] of samples) {
        if (s < 3) continue; // before the offset: not representable
        fast.writePacket(0, Buffer.alloc(4), s, ns);
        const units = ((BigInt(s) - 3n) * 1_000_000_000n + BigInt(ns)) * perSecond / 1_000_000_000n;
        exact.writeEnhancedPacket(0, Buffer.alloc(4), BigInt.asUintN(64, units));
      }
      assert.ok(fast.toBuffer().equals(exact.toBuffer()), `if_tsresol 0x${r.toString(16)}`);
    }
  });

  it('a bad block trailer and a truncated block are what tshark rejects', () => {
    const w = new PcapngWriter();
    w.addInterface({ linkType: 1 });
    w.writePacket(0, frame(1), 1, 0);
    w.rawBytes(pcapngBlock('le', BLOCK.SPB, Buffer.concat([Buffer.from([60, 0, 0, 0]), frame(2)]), { trailerLength: 12 }));
    const bad = tsharkStatus(tmp.file('bad-trailer.pcapng', w.toBuffer()));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /doesn't match|mismatch|trailer/i);

    const ok = new PcapngWriter();
    ok.addInterface({ linkType: 1 });
    ok.writePacket(0, frame(1), 1, 0);
    ok.writePacket(0, frame(2), 2, 0);
    const whole = ok.toBuffer();
    const cut = tsharkStatus(tmp.file('cut.pcapng', whole.subarray(0, whole.length - 10)));
    assert.notEqual(cut.status, 0);
    assert.match(cut.stderr, /cut short/);
    assert.equal(cut.stdout.trim().split('\n').length, 1);
  });

  it('streams to a file, byte-identical to the in-memory file', () => {
    const path = tmp.file('stream.pcapng');
    const fw = PcapngWriter.toFile(path, { byteOrder: 'be' }, 1024);
    const mw = new PcapngWriter({ byteOrder: 'be' });
    for (const w of [fw, mw]) {
      w.addInterface({ linkType: 1, tsresol: 9 });
      for (let i = 0; i < 300; i++) w.writePacket(0, frame(i, 60 + (i % 5) * 300), 1700000000 + i, i);
      w.writeEnhancedPacket(0, frame(999, 1400), 1n, { comment: 'last' });
    }
    fw.close();
    assert.ok(readFileSync(path).equals(mw.toBuffer()));
    assert.equal(capinfos(path).get('Number of packets'), '301');
  });
});
