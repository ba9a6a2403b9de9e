// tcpdump's pcap rewritten as pcapng keeps every packet, its bytes, lengths and timestamp,
// as tshark reads them; broken input is refused with the offset.
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { ethernet, ipv4, udp } from '../../../simulators/wire/frames.js';
import { PcapWriter, type ByteOrder } from '../../../simulators/wire/pcap-writer.js';
import { pcapToPcapng } from '../../../simulators/live/pcapng.js';
import { TempDir, capinfos, capinfosInterfaces, fields } from '../wire/tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

function frame(n: number, size: number): Buffer {
  const src = '10.0.0.11';
  const dst = '10.0.0.12';
  return ethernet({ dst: '02:00:0a:00:00:0c', src: '02:00:0a:00:00:0b', etherType: 0x0800 }, ipv4({ src, dst, protocol: 17, id: n }, udp({ src, dst, srcPort: 4500, dstPort: 4500 }, Buffer.alloc(size, n))));
}

describe('pcapToPcapng', () => {
  for (const [order, nanos] of [['le', false], ['be', true]] as [ByteOrder, boolean][]) {
    it(`${order.toUpperCase()} ${nanos ? 'ns' : 'µs'} pcap: same packets, bytes, lengths and times in tshark`, () => {
      const w = new PcapWriter({ linkType: 1, snaplen: 200, nanoseconds: nanos, byteOrder: order });
      w.writePacket(frame(1, 40), 1_700_000_000, nanos ? 123_456_789 : 123_456);
      w.writePacket(frame(2, 400), 1_700_000_001, nanos ? 5 : 7); // cut to the snaplen
      w.writePacket(frame(3, 10), 1_700_000_002, 0);
      const pcap = tmp.file(`in-${order}.pcap`, w.toBuffer());
      const pcapng = tmp.file(`out-${order}.pcapng`, pcapToPcapng(w.toBuffer(), { name: 'br0', description: 'bridge' }));
      assert.equal(capinfos(pcapng).get('File type'), 'pcapng');
      assert.deepEqual(capinfosInterfaces(pcapng).map((i) => i.name), ['br0']);
      const cols = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'udp.srcport', 'data.data'];
      assert.deepEqual(fields(pcapng, cols), fields(pcap, cols));
      assert.equal(fields(pcapng, ['frame.number']).length, 3);
    });
  }

  it('refuses what is not pcap, and a record running past the end', () => {
    assert.throws(() => pcapToPcapng(Buffer.from('not a capture at all, 24+ bytes long'), { name: 'x', description: 'x' }), /offset 0: magic/);
    const w = new PcapWriter({ linkType: 1 });
    w.writePacket(frame(1, 40), 1, 0);
    const cut = w.toBuffer().subarray(0, 24 + 16 + 10);
    assert.throws(() => pcapToPcapng(cut, { name: 'x', description: 'x' }), /offset 24: record of \d+ bytes runs past the end/);
  });
});
