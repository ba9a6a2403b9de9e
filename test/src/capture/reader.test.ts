// The capture reader against tshark on the same bytes: every synthetic capture (each pcap
// and pcapng variant, byte order, timestamp form, block type and link type) reads with
// tshark's packet count, timestamps, lengths and bytes, also gzip-compressed; every
// malformed file is refused with a FormatError naming the file, the offset and the field;
// truncated files read up to their last complete record when allowed; and no length a
// file claims makes the reader allocate it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { openCaptureSource } from '../../../src/capture/byte-source.js';
import { readCapture, type CaptureSummary, type PacketSink, type ReadOptions } from '../../../src/capture/reader.js';
import { portRanks, TrafficAnalyzer } from '../../../src/capture/traffic-analyzer.js';
import { judgeCaptures } from '../../../src/compliance/capture-judge.js';
import { NodeSet } from '../../../src/compliance/node-set.js';
import { DEFAULT_POLICY } from '../../../src/compliance/policy.js';
import { FormatError, InputError } from '../../../src/util/errors.js';
import { pcapngBlock, pcapngSectionHeader, PcapWriter, pcapRecordHeader } from '../../../simulators/wire/pcap-writer.js';
import { malformedCaptures, syntheticCaptures, T0, type MalformedCapture } from '../../helpers/synthetic-captures.js';
import { epochParts, fields, rawFrames, TempDir } from './oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

interface Row {
  ts: number;
  caplen: number;
  origLen: number;
  linkType: number;
  iface: number;
  direction: number;
  recordOffset: number;
  data: Buffer;
}

class Recorder implements PacketSink {
  readonly rows: Row[] = [];
  packet(buf: Buffer, offset: number, caplen: number, origLen: number, linkType: number, ts: number, iface: number, direction: number, recordOffset: number): void {
    this.rows.push({ ts, caplen, origLen, linkType, iface, direction, recordOffset, data: Buffer.from(buf.subarray(offset, offset + caplen)) });
  }
}

async function read(path: string, options: ReadOptions = {}): Promise<{ summary: CaptureSummary; rows: Row[] }> {
  const rec = new Recorder();
  const summary = await readCapture(path, openCaptureSource(path), rec, options);
  return { summary, rows: rec.rows };
}

const NODES = new NodeSet(['10.77.0.0/24', '2001:db8:77::/64']);
const analyzer = (file: string): TrafficAnalyzer => {
  const a = new TrafficAnalyzer({ nodes: NODES, portRanks: portRanks((p) => p === 8060), espNullPackets: 4 });
  a.beginFile(file);
  return a;
};

/** A reader timestamp (double seconds) against tshark's epoch text: within half a microsecond. */
function assertTime(ts: number, tsharkEpoch: string, what: string): void {
  if (tsharkEpoch === '') {
    // A Simple Packet Block carries no timestamp: tshark shows none, the reader NaN.
    assert.ok(Number.isNaN(ts), `${what}: tshark shows no timestamp, reader gave ${ts}`);
    return;
  }
  const { sec, ns } = epochParts(tsharkEpoch);
  const diff = Math.abs(ts - sec - ns / 1e9);
  assert.ok(diff < 5e-7, `${what}: reader ${ts.toFixed(9)} vs tshark ${tsharkEpoch} (off by ${(diff * 1e9).toFixed(0)} ns)`);
}

/**
 * The reader's packets equal tshark's frames: count, time, lengths and bytes. tshark 4.0
 * also lists custom blocks and systemd journal export blocks as "frames" with no link
 * encapsulation; they are not network packets, so they are left out of the comparison.
 */
function assertSameAsTshark(file: string, rows: Row[], label: string, allowFailure = false): void {
  const all = fields(file, ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'frame.encap_type'], { allowFailure });
  const keep = all.map((r) => (r[3] ?? '') !== '');
  const t = all.filter((_, i) => keep[i]);
  assert.equal(rows.length, t.length, `${label}: packet count (tshark ${t.length})`);
  const rawAll = rawFrames(file, allowFailure);
  assert.equal(rawAll.length, all.length, `${label}: tshark ek frames`);
  const raw = rawAll.filter((_, i) => keep[i]);
  rows.forEach((r, i) => {
    const [time = '', len = '', cap = ''] = t[i]!;
    assertTime(r.ts, time, `${label} #${i + 1}`);
    assert.equal(r.origLen, Number(len), `${label} #${i + 1}: frame.len`);
    assert.equal(r.caplen, Number(cap), `${label} #${i + 1}: frame.cap_len`);
    assert.ok(r.data.equals(raw[i]!), `${label} #${i + 1}: packet bytes differ from tshark's frame_raw`);
  });
}

const captures = syntheticCaptures();
const malformed = malformedCaptures();

describe('synthetic captures', () => {
  it('are many, uniquely named and each smaller than 8 KiB (they seed the fuzz test)', () => {
    assert.ok(captures.length >= 50, `only ${captures.length} captures`);
    assert.equal(new Set(captures.map((c) => c.name)).size, captures.length);
    for (const c of captures) {
      assert.ok(c.bytes.length < 8192, `${c.name}: ${c.bytes.length} bytes`);
      assert.ok(c.linkTypes && c.linkTypes.length > 0, `${c.name}: declares its link types`);
    }
  });

  it('are byte-for-byte deterministic (a fuzz failure replays)', () => {
    const again = syntheticCaptures();
    captures.forEach((c, i) => assert.ok(c.bytes.equals(again[i]!.bytes), c.name));
    const m2 = malformedCaptures();
    malformed.forEach((m, i) => assert.ok(m.bytes.equals(m2[i]!.bytes), m.name));
  });

  it('cover every format and link type the reader claims', () => {
    const names = captures.map((c) => c.name).join(' ');
    for (const want of ['pcap-usec-le', 'pcap-nsec-be', 'pcapng-le', 'pcapng-be', 'two-sections', 'simple-packet', 'obsolete-packet', 'custom-blocks', 'tsresol', 'tsoffset', 'epb-options']) {
      assert.ok(names.includes(want), want);
    }
    const linkTypes = new Set(captures.flatMap((c) => c.linkTypes ?? []));
    for (const lt of [0, 1, 101, 108, 113, 228, 229, 276]) assert.ok(linkTypes.has(lt), `link type ${lt}`);
  });
});

describe('every synthetic capture reads as tshark reads it', () => {
  for (const c of captures) {
    it(`${c.name}: count, link types, timestamps, lengths and bytes`, async () => {
      const file = tmp.file(`${c.name}.cap`, c.bytes);
      const { summary, rows } = await read(file);
      assertSameAsTshark(file, rows, c.name);
      assert.equal(summary.packets, rows.length);
      assert.deepEqual(summary.linkTypes, c.linkTypes);
      assert.equal(summary.bytes, c.bytes.length, 'the whole file was consumed');
      assert.equal(summary.compressed, false);
      assert.equal(summary.truncated, undefined);
      assert.equal(summary.snapTruncatedPackets, rows.filter((r) => r.caplen < r.origLen).length);
      for (const r of rows) assert.ok((c.linkTypes ?? []).includes(r.linkType), `${c.name}: packet link type ${r.linkType}`);
    });
  }
});

describe('gzip-compressed captures read identically through openCaptureSource', () => {
  for (const c of captures) {
    it(`${c.name}.gz`, async () => {
      const plain = tmp.file(`${c.name}.plain`, c.bytes);
      const gz = tmp.file(`${c.name}.pcap.gz`, gzipSync(c.bytes));
      const a = await read(plain);
      const b = await read(gz);
      assert.equal(b.summary.compressed, true);
      assert.deepEqual({ ...b.summary, compressed: false }, a.summary);
      assert.equal(b.rows.length, a.rows.length);
      b.rows.forEach((r, i) => {
        const x = a.rows[i]!;
        assert.ok(Object.is(r.ts, x.ts) && r.caplen === x.caplen && r.origLen === x.origLen && r.recordOffset === x.recordOffset, `${c.name} #${i + 1}`);
        assert.ok(r.data.equals(x.data), `${c.name} #${i + 1}: bytes`);
      });
    });
  }
});

describe('format details the report states', () => {
  const byName = (n: string): Buffer => captures.find((c) => c.name === n)!.bytes;
  const cases: [string, string, number, number][] = [
    ['pcap-usec-le-ethernet', 'pcap microsecond little-endian', 1, 1],
    ['pcap-nsec-be-ethernet', 'pcap nanosecond big-endian', 1, 1],
    ['pcapng-le-ethernet', 'pcapng 1 section little-endian', 1, 1],
    ['pcapng-be-ethernet', 'pcapng 1 section big-endian', 1, 1],
    ['pcapng-two-sections-le-be', 'pcapng 2 sections little-endian+big-endian', 3, 2],
    ['pcapng-if-tsresol', 'pcapng 1 section little-endian', 4, 1],
  ];
  for (const [name, detail, interfaces, sections] of cases) {
    it(`${name}: ${detail}, ${interfaces} interface(s), ${sections} section(s)`, async () => {
      const { summary } = await read(tmp.file(`${name}.fmt`, byName(name)));
      assert.equal(summary.formatDetail, detail);
      assert.equal(summary.interfaces, interfaces);
      assert.equal(summary.sections, sections);
      assert.equal(summary.format, detail.startsWith('pcapng') ? 'pcapng' : 'pcap');
    });
  }

  it('interface ids restart per section but stay distinct file-wide', async () => {
    const { rows } = await read(tmp.file('two.ids', byName('pcapng-two-sections-le-be')));
    // Section 1 has interface 0; section 2 has RAW (global 1) and Ethernet (global 2).
    assert.deepEqual([...new Set(rows.map((r) => `${r.iface}:${r.linkType}`))].sort(), ['0:1', '1:101', '2:1']);
  });

  it('epb_flags direction matches tshark frame.packet_flags_direction', async () => {
    const file = tmp.file('epb.dir', byName('pcapng-epb-options'));
    const { rows } = await read(file);
    const t = fields(file, ['frame.packet_flags_direction']).map((r) => Number(r[0]));
    assert.deepEqual(rows.map((r) => r.direction), t);
    assert.deepEqual(t, [2, 1, 2, 1, 2, 1]);
  });
});

describe('absurd header snaplens do not matter', () => {
  for (const name of ['pcap-snaplen-zero', 'pcap-snaplen-4g']) {
    it(name, async () => {
      const c = captures.find((x) => x.name === name)!;
      const file = tmp.file(`${name}.snap`, c.bytes);
      const { summary, rows } = await read(file);
      assert.equal(summary.packets, 6);
      assert.equal(summary.snapTruncatedPackets, 0);
      assertSameAsTshark(file, rows, name);
    });
  }
});

function assertRefusal(err: unknown, file: string, m: MalformedCapture): true {
  assert.ok(err instanceof FormatError, `${m.name}: expected a FormatError, got ${(err as Error)?.stack ?? String(err)}`);
  assert.ok(err instanceof InputError, 'a FormatError is bad input (exit 2)');
  assert.equal(err.exitCode, 2);
  assert.equal(err.file, file);
  assert.equal(err.offset, m.expectOffset, `${m.name}: offset (${err.message})`);
  assert.match(err.field, m.expectField, `${m.name}: field`);
  assert.ok(err.message.startsWith(`${file}: offset ${m.expectOffset}: `), `${m.name}: message names file and offset: ${err.message}`);
  assert.match(err.message, m.expectField);
  assert.match(err.message, /expected /);
  return true;
}

describe('malformed captures are refused with a FormatError naming file, offset and field', () => {
  it('the set covers the brief', () => {
    const names = malformed.map((m) => m.name).join(' ');
    for (const want of ['pcap-truncated', 'pcapng-truncated', 'not-multiple-of-4', 'below-12', 'trailer-mismatch', 'pcap-caplen-over', 'pcapng-caplen-over', 'undefined-interface', 'unknown-link-type', 'bad-magic', 'empty-file', 'major-version-3', 'bad-byte-order-magic']) {
      assert.ok(names.includes(want), want);
    }
  });

  for (const m of malformed) {
    it(`${m.name}: offset ${m.expectOffset}, field ${m.expectField.source}`, async () => {
      for (const [suffix, bytes] of [['', m.bytes], ['.gz', gzipSync(m.bytes)]] as const) {
        const file = tmp.file(`${m.name}.bad${suffix}`, bytes);
        if (m.refusedByAnalyzer) {
          // The reader alone hands the packet on; the classifier cannot decode its link layer.
          const { rows } = await read(file);
          assert.ok(rows.length >= 1);
          await assert.rejects(readCapture(file, openCaptureSource(file), analyzer(file)), (err) => assertRefusal(err, file, m));
        } else {
          await assert.rejects(read(file), (err) => assertRefusal(err, file, m));
          if (!m.truncated) await assert.rejects(read(file, { allowTruncated: true }), (err) => assertRefusal(err, file, m));
        }
        // The judge (what `cryptgate check capture` runs) refuses it the same way.
        await assert.rejects(
          judgeCaptures({ files: [file], nodes: NODES, policy: DEFAULT_POLICY, hash: false }),
          (err) => assertRefusal(err, file, m),
        );
      }
    });
  }
});

describe('allowTruncated judges the complete records of a file cut short', () => {
  for (const m of malformed.filter((x) => x.truncated)) {
    it(`${m.name}: ${m.truncated!.packets} complete records, truncated at ${m.expectOffset}`, async () => {
      const file = tmp.file(`${m.name}.trunc`, m.bytes);
      const { summary, rows } = await read(file, { allowTruncated: true });
      assert.ok(summary.truncated, 'the summary says the file was cut short');
      assert.equal(summary.truncated.offset, m.expectOffset);
      assert.match(summary.truncated.message, m.expectField);
      assert.ok(summary.truncated.message.startsWith(`${file}: offset ${m.expectOffset}: `));
      assert.equal(summary.packets, m.truncated!.packets);
      assert.equal(rows.length, m.truncated!.packets);
      // tshark prints the same complete packets before giving up on the cut record.
      assertSameAsTshark(file, rows, m.name, true);
      // And the judge reports the evidence as incomplete instead of failing.
      const j = await judgeCaptures({ files: [file], nodes: NODES, policy: DEFAULT_POLICY, hash: false, allowTruncated: true });
      const evidence = j.checks.find((c) => c.id === 'capture.evidence')!;
      assert.ok(evidence.findings.some((f) => f.evidence.offset === m.expectOffset && f.evidence.packetsJudged === m.truncated!.packets), JSON.stringify(evidence.findings));
    });
  }
});

describe('claimed lengths are never allocated', () => {
  const fourGig = malformed.find((m) => m.name === 'pcap-caplen-4g')!;

  it('a later record claiming a 4 GB caplen is refused at its caplen field', async () => {
    const file = tmp.file('4g.pcap', fourGig.bytes);
    const rec = new Recorder();
    await assert.rejects(readCapture(file, openCaptureSource(file), rec), (err) => assertRefusal(err, file, fourGig));
    assert.equal(rec.rows.length, 3, 'the three good records before it were delivered');
  });

  it('rss does not jump by 100 MB reading files that claim 4 GB records and blocks', async () => {
    // pcap record 0xffffffff; pcapng EPB and unknown block of ~4 GB; each plain and gzip.
    const epb = (len: number): Buffer => {
      const b = Buffer.alloc(32);
      b.writeUInt32LE(6, 0);
      b.writeUInt32LE(len, 4);
      return b;
    };
    const ng = (tail: Buffer): Buffer => {
      const idb = Buffer.alloc(8);
      idb.writeUInt16LE(1, 0);
      return Buffer.concat([pcapngSectionHeader(), pcapngBlock('le', 1, idb), tail]);
    };
    const pcapHuge = Buffer.concat([new PcapWriter({ linkType: 1 }).toBuffer(), pcapRecordHeader('le', T0, 0, 0xffffffff, 0xffffffff), Buffer.alloc(100)]);
    const unknown = Buffer.alloc(32);
    unknown.writeUInt32LE(0x80000001, 0);
    unknown.writeUInt32LE(0xfffffff0, 4);
    const files: [string, Buffer][] = [
      ['huge-record.pcap', pcapHuge],
      ['huge-epb.pcapng', ng(epb(0xfffffff0))],
      ['huge-unknown-block.pcapng', ng(unknown)],
      ['huge-record-late.pcap', fourGig.bytes],
    ];
    const before = process.memoryUsage().rss;
    let refused = 0;
    for (const [name, bytes] of files) {
      for (const [suffix, data] of [['', bytes], ['.gz', gzipSync(bytes)]] as const) {
        const file = tmp.file(name + suffix, data);
        for (const allowTruncated of [false, true]) {
          try {
            await read(file, { allowTruncated });
          } catch (err) {
            assert.ok(err instanceof FormatError, `${name}${suffix}: ${(err as Error).message}`);
            refused++;
          }
        }
      }
    }
    const grownMiB = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grownMiB < 100, `rss grew by ${grownMiB.toFixed(0)} MiB`);
    // Without allowTruncated every one of them is refused (with it, the unknown block ends the file early).
    assert.ok(refused >= 8, `refused ${refused}`);
  });
});

describe('blocks that are not packets', () => {
  it('custom and journal blocks are skipped, though tshark 4.0 lists them as frames without encapsulation', async () => {
    const c = captures.find((x) => x.name === 'pcapng-unknown-and-custom-blocks')!;
    const file = tmp.file('blocks.pcapng', c.bytes);
    const { rows } = await read(file);
    const t = fields(file, ['frame.encap_type', 'frame.protocols']);
    assert.equal(t.length, 9);
    assert.deepEqual(t.filter((r) => r[0] === '').map((r) => r[1]), ['data', 'data', 'systemd_journal']);
    assert.equal(rows.length, 6);
  });
});
