// `npm run bench`: generates a ≥ 1 GB capture (≥ 1 M packets, mixed sizes, real ESP from
// the simulator's AES-CBC + HMAC, IKE, keepalives and a few clear-text flows between
// nodes) and prints, in one run: cryptgate's full check time, the ratio to the tcpdump
// BPF filter run on the same file, the ratio to tshark on a slice, and peak RSS.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { packageRoot } from '../src/util/package-info.js';
import { PcapWriter } from '../simulators/wire/pcap-writer.js';
import { ethernet, ETHERTYPE, ipv4, tcp, TCP_FLAGS, udp } from '../simulators/wire/frames.js';
import { espInUdp, espTunnel, ikeInUdp, natKeepalive, newEspSa } from '../simulators/wire/esp.js';
import { ikev2Proposal, ikev2SaInitRequest, ikev2SaInitResponse, newSpi } from '../simulators/wire/ike.js';
import { hasCommand, measureMedian, type Measurement } from './measure.js';

const NODES = ['10.77.0.11', '10.77.0.12', '10.77.0.13', '10.77.0.14'];
const TARGET_BYTES = Number(process.env.CRYPTGATE_BENCH_BYTES ?? 1.1e9);
// Large enough that both tools' start-up (tshark ~0.3 s, Node ~0.2 s) does not decide the ratio.
const SLICE_PACKETS = 500_000;
const MAC_A = '02:00:0a:4d:00:01';
const MAC_B = '02:00:0a:4d:00:02';

function frame(ipPacket: Buffer): Buffer {
  return ethernet({ dst: MAC_A, src: MAC_B, etherType: ETHERTYPE.IPV4 }, ipPacket);
}

/** Size mix of research/captures.md §6.1: 30 % small, 45 % near-MTU, 25 % in between. */
function innerSize(r: number): number {
  const k = r % 100;
  if (k < 30) return 40 + (r % 90);
  if (k < 75) return 1300 + (r % 60);
  return 100 + (r % 1200);
}

/** A few hundred real frames, written round-robin: real crypto without paying for it per packet. */
function templates(): { esp: Buffer[]; other: Buffer[]; clear: Buffer[] } {
  const esp: Buffer[] = [];
  const pairs: [string, string][] = [];
  for (const a of NODES) for (const b of NODES) if (a !== b) pairs.push([a, b]);
  let r = 1;
  for (const [pairIndex, [src, dst]] of pairs.entries()) {
    const sa = newEspSa('aes-cbc-hmac-sha256');
    for (let i = 0; i < 40; i++) {
      r = (r * 1103515245 + 12345) >>> 0;
      const inner = ipv4({ src, dst, protocol: 6 }, tcp({ src, dst, srcPort: 40000 + i, dstPort: 8000 + (r % 1000), flags: TCP_FLAGS.ACK }, randomBytes(innerSize(r))));
      const packet = espTunnel(sa, i + 1, inner);
      // Half the pairs use ESP-in-UDP (NAT traversal), half plain ESP (protocol 50).
      esp.push(frame(pairIndex % 2 === 0 ? ipv4({ src, dst, protocol: 50 }, packet) : ipv4({ src, dst, protocol: 17 }, espInUdp({ src, dst }, packet))));
    }
  }
  const other: Buffer[] = [];
  for (const [src, dst] of pairs.slice(0, 4)) {
    const spiI = newSpi();
    const proposal = ikev2Proposal({ encr: 12, keyLength: 256, prf: 5, integ: 12, dh: 14 });
    other.push(frame(ipv4({ src, dst, protocol: 17 }, ikeInUdp({ src, dst }, ikev2SaInitRequest({ spiI, proposals: [proposal], dhGroup: 14 })))));
    other.push(frame(ipv4({ src: dst, dst: src, protocol: 17 }, ikeInUdp({ src: dst, dst: src }, ikev2SaInitResponse({ spiI, spiR: newSpi(), proposal, dhGroup: 14 })))));
    other.push(frame(ipv4({ src, dst, protocol: 17 }, natKeepalive({ src, dst }))));
  }
  // The leaks a gate must find: repository and licensing in clear, plus DNS to a non-node.
  const clear = [
    frame(ipv4({ src: NODES[2]!, dst: NODES[0]!, protocol: 6 }, tcp({ src: NODES[2]!, dst: NODES[0]!, srcPort: 51000, dstPort: 8060, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH }, randomBytes(1200)))),
    frame(ipv4({ src: NODES[0]!, dst: NODES[3]!, protocol: 6 }, tcp({ src: NODES[0]!, dst: NODES[3]!, srcPort: 52000, dstPort: 27000, flags: TCP_FLAGS.ACK }, randomBytes(300)))),
    frame(ipv4({ src: NODES[1]!, dst: '192.0.2.53', protocol: 17 }, udp({ src: NODES[1]!, dst: '192.0.2.53', srcPort: 53000, dstPort: 53 }, randomBytes(60)))),
  ];
  return { esp, other, clear };
}

function generate(path: string): { packets: number; bytes: number } {
  const t = templates();
  const w = PcapWriter.toFile(path, { linkType: 1 });
  let packets = 0;
  let sec = 1_790_000_000;
  let usec = 0;
  while (w.bytesWritten < TARGET_BYTES || packets < 1_000_000) {
    const k = packets % 1000;
    // ~97 % ESP, ~1 % IKE/keepalive, ~2 % clear text.
    const data = k < 970 ? t.esp[packets % t.esp.length]! : k < 980 ? t.other[packets % t.other.length]! : t.clear[packets % t.clear.length]!;
    w.writePacket(data, sec, usec);
    packets++;
    usec += 7;
    if (usec >= 1_000_000) {
      usec -= 1_000_000;
      sec++;
    }
  }
  w.close();
  return { packets, bytes: statSync(path).size };
}

function fmt(m: Measurement): string {
  return `${m.seconds.toFixed(3)} s, peak RSS ${(m.maxRssKiB / 1024).toFixed(0)} MiB`;
}

function main(): void {
  const root = packageRoot();
  const out = join(root, 'bench/out');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'bench.pcap');
  if (!existsSync(file) || process.env.CRYPTGATE_BENCH_REGEN) {
    const t0 = process.hrtime.bigint();
    const g = generate(file);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`generated ${file}: ${g.packets} packets, ${(g.bytes / 1e9).toFixed(2)} GB in ${secs.toFixed(1)} s (${(g.bytes / 1e6 / secs).toFixed(0)} MB/s)`);
  }
  const size = statSync(file).size;
  const cli = join(root, 'bin/cryptgate.js');
  const nodes = NODES.join(',');
  const check = (f: string, ...extra: string[]) => ['node', cli, 'check', 'capture', f, '--nodes', nodes, '--format', 'json', ...extra];
  // Warm the page cache so every tool reads from memory, as in research/captures.md §6.
  measureMedian(['sh', '-c', 'cat "$0" > /dev/null', file], 1);

  const full = measureMedian(check(file));
  if (full.status !== 1) throw new Error(`cryptgate exited ${full.status}; expected 1 (the bench capture has plaintext flows)`);
  const report = JSON.parse(full.stdout) as { checks: { id: string; findings: { severity?: string; evidence: Record<string, unknown> }[] }[] };
  const leaks = report.checks.find((c) => c.id === 'ipsec.esp-only')!.findings.filter((f) => f.severity !== 'info').length;
  const noHash = measureMedian(check(file, '--no-hash'));
  // The least any full check can take: start Node and SHA-256 the file (the report's
  // inputs[].sha256), with the same code the check's hash worker runs, and nothing else.
  const hashFloor = measureMedian(['node', '--input-type=module', '-e', `import { sha256FileSync } from ${JSON.stringify(new URL('../src/util/file-hash.js', import.meta.url).href)}; sha256FileSync(process.argv[1]);`, file]);
  const tcpdump = hasCommand('tcpdump') ? measureMedian(['tcpdump', '-r', file, '-w', '/dev/null', 'not esp and not udp port 500 and not udp port 4500']) : undefined;

  let tsharkLine = 'tshark: not installed';
  if (hasCommand('tshark') && hasCommand('editcap')) {
    const slice = join(out, 'slice.pcap');
    measureMedian(['editcap', '-r', file, slice, `1-${SLICE_PACKETS}`], 1);
    const ts = measureMedian(['tshark', '-r', slice, '-Y', '!esp && !isakmp', '-T', 'fields', '-e', 'frame.number'], 1);
    const cg = measureMedian(check(slice, '--no-hash'));
    tsharkLine = `tshark -Y on a ${SLICE_PACKETS}-packet slice: ${fmt(ts)}; cryptgate on the same slice ${fmt(cg)}; cryptgate is ${(ts.seconds / cg.seconds).toFixed(1)}× faster`;
    rmSync(slice, { force: true });
  }

  console.log(`\ncapture: ${file} (${(size / 1e9).toFixed(2)} GB)`);
  console.log(`cryptgate check capture (full, SHA-256 of the input in a worker): ${fmt(full)}, ${(size / 1e6 / full.seconds).toFixed(0)} MB/s; ${leaks} clear-text flows found`);
  console.log(`cryptgate check capture --no-hash:                           ${fmt(noHash)}, ${(size / 1e6 / noHash.seconds).toFixed(0)} MB/s`);
  console.log(`floor of a full check (start Node, SHA-256 the file, nothing else): ${fmt(hashFloor)}, ${(size / 1e6 / hashFloor.seconds).toFixed(0)} MB/s`);
  if (tcpdump) {
    console.log(`tcpdump -r FILE -w /dev/null 'not esp and not udp port 500 and not udp port 4500': ${fmt(tcpdump)}`);
    console.log(`ratio cryptgate/tcpdump: full ${(full.seconds / tcpdump.seconds).toFixed(2)}, --no-hash ${(noHash.seconds / tcpdump.seconds).toFixed(2)} (≤ 1.0 means at least as fast)`);
    console.log(`  no full check can do better than ${(hashFloor.seconds / tcpdump.seconds).toFixed(2)} here: SHA-256 alone ${hashFloor.seconds < tcpdump.seconds ? 'is faster than' : 'is slower than'} tcpdump's whole run`);
  }
  console.log(tsharkLine);
}

main();
