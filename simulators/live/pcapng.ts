// tcpdump writes classic pcap only; a scenario that asks for pcapng gets the same packets
// rewritten as one pcapng section with one interface (the bridge), through the wire's own
// pcapng writer. Pure: bytes in, bytes out; a malformed input is an Error naming the offset.
import { MemorySink, PcapngWriter } from '../wire/pcap-writer.js';

interface PcapHeader {
  le: boolean;
  nanos: boolean;
  linkType: number;
  snaplen: number;
}

function header(buf: Buffer): PcapHeader {
  if (buf.length < 24) throw new Error(`pcap: offset 0: file header: expected 24 bytes, found ${buf.length}`);
  const magic = buf.readUInt32LE(0);
  const forms: Record<number, { le: boolean; nanos: boolean }> = {
    0xa1b2c3d4: { le: true, nanos: false },
    0xa1b23c4d: { le: true, nanos: true },
    0xd4c3b2a1: { le: false, nanos: false },
    0x4d3cb2a1: { le: false, nanos: true },
  };
  const form = forms[magic];
  if (!form) throw new Error(`pcap: offset 0: magic: expected a classic pcap magic number, found 0x${magic.toString(16)}`);
  const u32 = (o: number) => (form.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  return { ...form, snaplen: u32(16), linkType: u32(20) & 0x0fffffff };
}

/** The packets of a classic pcap file, as pcapng (nanosecond timestamps when the source has them). */
export function pcapToPcapng(pcap: Buffer, iface: { name: string; description: string }): Buffer {
  const h = header(pcap);
  const w = new PcapngWriter({ userAppl: 'cryptgate live wire (tcpdump on the bridge)' }, new MemorySink(pcap.length + 4096));
  const id = w.addInterface({ linkType: h.linkType, snaplen: h.snaplen, name: iface.name, description: iface.description, ...(h.nanos ? { tsresol: 9 } : {}) });
  const u32 = (o: number) => (h.le ? pcap.readUInt32LE(o) : pcap.readUInt32BE(o));
  let off = 24;
  while (off < pcap.length) {
    if (off + 16 > pcap.length) throw new Error(`pcap: offset ${off}: record header: expected 16 bytes, found ${pcap.length - off}`);
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const orig = u32(off + 12);
    if (off + 16 + incl > pcap.length) throw new Error(`pcap: offset ${off}: record of ${incl} bytes runs past the end of the file`);
    w.writePacket(id, pcap.subarray(off + 16, off + 16 + incl), sec, h.nanos ? frac : frac * 1000, orig);
    off += 16 + incl;
  }
  return (w.sink as MemorySink).toBuffer();
}
