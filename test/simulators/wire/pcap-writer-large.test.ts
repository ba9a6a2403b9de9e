// The file path of the writers: a large IMIX stream written straight to disk comes out
// whole (tshark's capinfos counts every packet). Speed is not asserted here: the ≥ 200 MB/s
// goal is measured by `npm run bench` (bench/cluster-wire-bench.ts); the figure of this
// run is only printed as a diagnostic.
import { strict as assert } from 'node:assert';
import { statSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { PcapngWriter, PcapWriter } from '../../../simulators/wire/pcap-writer.js';
import { TempDir, capinfos } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const BYTES_PER_RUN = 64e6;

/** An IMIX-like mix (7:4:1 of 64/576/1500-byte frames), prebuilt so only writing is timed. */
const frames = [...Array(7).fill(64), ...Array(4).fill(576), 1500].map((n: number, i) => Buffer.alloc(n, i));

function timeRun(kind: 'pcap' | 'pcapng', path: string): { mbPerS: number; packets: number } {
  const start = process.hrtime.bigint();
  let packets = 0;
  let sec = 1700000000;
  let ns = 0;
  if (kind === 'pcap') {
    const w = PcapWriter.toFile(path, { linkType: 1, nanoseconds: true });
    while (w.bytesWritten < BYTES_PER_RUN) {
      w.writePacket(frames[packets % 12]!, sec, ns);
      packets++;
      ns += 1000;
      if (ns >= 1e9) { ns = 0; sec++; }
    }
    w.close();
  } else {
    const w = PcapngWriter.toFile(path);
    const ifc = w.addInterface({ linkType: 1, tsresol: 9 });
    while (w.bytesWritten < BYTES_PER_RUN) {
      w.writePacket(ifc, frames[packets % 12]!, sec, ns);
      packets++;
      ns += 1000;
      if (ns >= 1e9) { ns = 0; sec++; }
    }
    w.close();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { mbPerS: statSync(path).size / 1e6 / seconds, packets };
}

describe('writers stream large captures to a file', () => {
  for (const kind of ['pcap', 'pcapng'] as const) {
    it(`${kind}: ${BYTES_PER_RUN / 1e6} MB of IMIX frames, every packet readable by capinfos`, (t) => {
      const path = tmp.file(`large.${kind}`);
      const { mbPerS, packets } = timeRun(kind, path);
      t.diagnostic(`${kind} IMIX: ${mbPerS.toFixed(0)} MB/s (${packets} packets; informative, see npm run bench)`);
      assert.ok(statSync(path).size >= BYTES_PER_RUN);
      assert.equal(capinfos(path).get('Number of packets'), String(packets));
    });
  }
});
