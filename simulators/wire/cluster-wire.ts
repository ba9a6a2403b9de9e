// The simulated cluster's switch: what a capture on its mirror port records while the
// nodes' services talk to each other under their IPsec plans (src/ipsec/negotiate.ts).
//  - A protected flow: its node pair first negotiates (IKEv2, IKEv1 main + quick mode, or
//    AuthIP) with the proposals of the plan in the clear SA payloads, then every segment of
//    its TCP connections travels inside ESP (real AES-CBC/3DES/AES-GCM + HMAC, or NULL
//    encryption when the quick mode chose integrity only), AH, or AH around ESP; in UDP on
//    port 4500 (RFC 3948) when NAT traversal is on. SPIs, keys and IVs come from the seed.
//  - A plaintext flow: the segments in clear, after the unanswered or failed IKE attempts
//    that Windows makes before it falls back to clear ("request").
//  - A blocked flow: only what the initiator tries (IKE retransmissions, or clear SYNs that
//    the responder's "require inbound" rule drops); no service traffic.
// Packets of all connections are merged in time order through a heap of per-connection
// streams, so memory holds only the connections in flight, and written with the project's
// pcap/pcapng writers to a temporary file renamed into place at the end (never a
// half-written capture). The same seed and inputs give the same bytes.
import { renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { childSuite } from '../../src/ipsec/iana.js';
import type { DirectionPlan } from '../../src/ipsec/negotiate.js';
import { removeQuietly, syncFolder, tempPathFor } from '../../src/util/atomic-file.js';
import { espInUdp, ikeInUdp } from './esp.js';
import { ETHERTYPE, ethernet, IPPROTO, ipBytes, ipv4Header, ipv6Header, macBytes, tcp } from './frames.js';
import { ikeExchange, type IkeDatagram } from './ike-exchange.js';
import { ahLength, ahSeal, espIvBytes, espSeal, newAhKeys, newEspKeys, newEspSpi, type AhKeys, type EspKeys } from './ipsec-transforms.js';
import { FileSink, MemorySink, PcapngWriter, PcapWriter, type ByteSink } from './pcap-writer.js';
import { SeededRandom } from './seeded-random.js';
import { tcpConnection, unansweredSyn, type Segment } from './tcp-conversation.js';

const LINKTYPE_ETHERNET = 1;
const MS = 1_000_000;
const SEC = 1_000_000_000;

/** A machine on the switch: a node, or an external client (reached through the router). */
export interface WireHost {
  name: string;
  address: string;
  mac: string;
}

/** One service relationship: `client` opens TCP connections to `server`:`port`. */
export interface WireFlow {
  client: string;
  server: string;
  port: number;
  /** The service name, for stats and logs. */
  service: string;
  /** The plan for client → server (planDirection with this port). */
  plan: DirectionPlan;
  /** Connections opened during the capture. */
  connections: number;
  /** Request/response exchanges per connection, and their average sizes in bytes. */
  exchanges: number;
  requestBytes: number;
  responseBytes: number;
  /** First bytes of the client's data: 'tls' starts with a TLS ClientHello record header. */
  payload?: 'tls' | 'binary';
}

export interface ClusterWireOptions {
  seed: string | number;
  format: 'pcap' | 'pcapng';
  /** Capture length, seconds (default 10). Connections start inside it; retransmissions stop at it. */
  seconds?: number;
  /** Force UDP encapsulation of IKE (after IKE_SA_INIT / MM4) and ESP on port 4500. */
  natTraversal?: boolean;
  /** Wall-clock time of the first packet (default 2026-01-15T09:00:00Z, so captures are reproducible). */
  start?: Date;
  /**
   * Called once per installed SA pair with its keys, for tests that open the packets (espOpen,
   * or tshark's ESP decryption). The wire itself never writes keys anywhere.
   */
  onChildSa?: (sa: ChildSaInfo) => void;
}

/** The SAs of one established negotiation: `out` protects initiator → responder, `in` the reverse. */
export interface ChildSaInfo {
  initiator: string;
  responder: string;
  espOut: EspKeys | null;
  espIn: EspKeys | null;
  ahOut: AhKeys | null;
  ahIn: AhKeys | null;
}

export interface WireStats {
  packets: number;
  /** Bytes of frames written (excluding file and record headers). */
  frameBytes: number;
  fileBytes: number;
  ikePackets: number;
  espPackets: number;
  ahPackets: number;
  plaintextPackets: number;
  /** IKE negotiations started (attempts with retransmissions count once). */
  ikeNegotiations: number;
  /** Nanoseconds spent in the pcap/pcapng writer (record layout and file writes). */
  writeNs: number;
  /** ESP (or AH) packets per unordered node pair, "a|b" with a < b. */
  protectedPerPair: Record<string, number>;
}

const DEFAULT_START = Date.UTC(2026, 0, 15, 9, 0, 0);

interface HostState {
  host: WireHost;
  v6: boolean;
  ipId: number;
  /** Address and MAC as bytes, parsed once: the frame builders take them per packet. */
  ip: Buffer;
  mac: Buffer;
}

/** The IPsec SAs one negotiation set up, keyed by direction of the negotiation's initiator. */
interface SaGroup {
  initiator: string;
  responder: string;
  /** "a|b", a < b: the node pair, for the per-pair count. */
  pairKey: string;
  plan: DirectionPlan;
  ikeStart: number;
  /** When the SAs are installed (protected flows start after it). */
  ready: number;
  espOut: EspKeys | null;
  espIn: EspKeys | null;
  ahOut: AhKeys | null;
  ahIn: AhKeys | null;
  seqOut: number;
  seqIn: number;
  ahSeqOut: number;
  ahSeqIn: number;
}

type Stream =
  | { kind: 'ike'; id: number; next: number; group: SaGroup; datagrams: IkeDatagram[]; i: number }
  | { kind: 'tcp'; id: number; next: number; flow: WireFlow; group: SaGroup | null; cport: number; segs: Segment[] | null; make: () => Segment[]; i: number };

class StreamHeap {
  private readonly a: Stream[] = [];
  get size(): number { return this.a.length; }
  private less(x: Stream, y: Stream): boolean { return x.next < y.next || (x.next === y.next && x.id < y.id); }
  push(s: Stream): void {
    const a = this.a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Stream | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function groupKey(plan: DirectionPlan): string {
  const a = plan.initiator.address;
  const b = plan.responder.address;
  const ike = plan.ike!;
  const suites = JSON.stringify([ike.keying, ike.mainMode.chosenSuite, ike.quickMode?.chosenSuite, ike.quickMode?.pfsGroup]);
  // An established SA pair serves both directions; a failed attempt belongs to its initiator.
  return plan.outcome === 'protected' ? `${a < b ? a : b}|${a < b ? b : a}|${suites}` : `${a}>${b}|${ike.result}|${JSON.stringify(ike.mainMode.offeredSuites)}`;
}

/** Runs the simulation and writes the capture to `path` (atomically). */
export function writeClusterCapture(path: string, hosts: readonly WireHost[], flows: readonly WireFlow[], options: ClusterWireOptions): WireStats {
  const tmp = tempPathFor(path);
  try {
    const stats = simulate(new FileSink(tmp), hosts, flows, options);
    renameSync(tmp, path);
    syncFolder(dirname(path));
    return stats;
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
}

/** Runs the simulation into memory (tests, small captures). */
export function clusterCaptureBytes(hosts: readonly WireHost[], flows: readonly WireFlow[], options: ClusterWireOptions): { bytes: Buffer; stats: WireStats } {
  const sink = new MemorySink(1 << 20);
  const stats = simulate(sink, hosts, flows, options);
  return { bytes: Buffer.from(sink.toBuffer()), stats };
}

function simulate(sink: ByteSink, hosts: readonly WireHost[], flows: readonly WireFlow[], options: ClusterWireOptions): WireStats {
  const rnd = new SeededRandom(options.seed, 'cluster-wire');
  const horizon = Math.round((options.seconds ?? 10) * SEC);
  if (!(horizon > 0)) throw new Error('capture length must be positive');
  const nat = options.natTraversal ?? false;
  const startMs = options.start?.getTime() ?? DEFAULT_START;
  const baseSec = Math.floor(startMs / 1000);
  const baseNs = (startMs - baseSec * 1000) * MS;

  const hostBy = new Map<string, HostState>();
  for (const h of hosts) hostBy.set(h.address, { host: h, v6: h.address.includes(':'), ipId: rnd.int(1, 0xffff), ip: ipBytes(h.address), mac: macBytes(h.mac) });
  const hostOf = (a: string): HostState => {
    const h = hostBy.get(a);
    if (!h) throw new Error(`flow endpoint ${a} is not a host on the wire`);
    return h;
  };

  // ---- writer: the format's record, chosen once; the time inside it measured in one place
  const stats: WireStats = { packets: 0, frameBytes: 0, fileBytes: 0, ikePackets: 0, espPackets: 0, ahPackets: 0, plaintextPackets: 0, ikeNegotiations: 0, writeNs: 0, protectedPerPair: {} };
  let writer: PcapWriter | PcapngWriter;
  /** Writes one frame `ns` after the capture's start. */
  let writeRecord: (frame: Buffer, ns: number) => void;
  if (options.format === 'pcapng') {
    const w = new PcapngWriter({ userAppl: 'cryptgate simulated cluster wire', comment: `seed ${String(options.seed)}` }, sink);
    const iface = w.addInterface({ linkType: LINKTYPE_ETHERNET, snaplen: 262144, tsresol: 9, name: 'switch-mirror', description: 'mirror port of the cluster switch' });
    writeRecord = (frame, ns) => w.writePacket(iface, frame, baseSec + Math.floor(ns / SEC), ns % SEC);
    writer = w;
  } else {
    const w = new PcapWriter({ linkType: LINKTYPE_ETHERNET }, sink);
    writeRecord = (frame, ns) => w.writePacket(frame, baseSec + Math.floor(ns / SEC), Math.floor((ns % SEC) / 1000));
    writer = w;
  }
  const timed = <A extends unknown[]>(f: (...a: A) => void) => (...a: A): void => {
    const s0 = process.hrtime.bigint();
    f(...a);
    stats.writeNs += Number(process.hrtime.bigint() - s0);
  };
  const writePacket = timed((frame: Buffer, t: number) => writeRecord(frame, baseNs + t));
  const closeWriter = timed(() => writer.close());

  // ---- negotiations: one group per SA pair (protected) or per failed attempt
  const groups = new Map<string, SaGroup>();
  const heap = new StreamHeap();
  let nextId = 0;
  let groupIndex = 0;
  const groupFor = (plan: DirectionPlan): SaGroup => {
    const key = groupKey(plan);
    let g = groups.get(key);
    if (g) return g;
    const ikeStart = 2 * MS + groupIndex++ * 700_000 + rnd.int(0, 200_000);
    g = { initiator: plan.initiator.address, responder: plan.responder.address, pairKey: plan.initiator.address < plan.responder.address ? `${plan.initiator.address}|${plan.responder.address}` : `${plan.responder.address}|${plan.initiator.address}`, plan, ikeStart, ready: ikeStart, espOut: null, espIn: null, ahOut: null, ahIn: null, seqOut: 1, seqIn: 1, ahSeqOut: 1, ahSeqIn: 1 };
    const datagrams = ikeExchange(plan.ike!, { initiator: g.initiator, responder: g.responder, natTraversal: nat, horizon: horizon - ikeStart }, rnd.fork(`ike/${key}`));
    g.ready = ikeStart + (datagrams[datagrams.length - 1]?.at ?? 0) + 500_000;
    if (plan.outcome === 'protected') {
      const keys = rnd.fork(`keys/${key}`);
      const suite = childSuite(plan.ike!.quickMode!.chosen!);
      if (suite.protocols.includes('ESP')) { g.espOut = newEspKeys(suite, newEspSpi(keys), keys); g.espIn = newEspKeys(suite, newEspSpi(keys), keys); }
      if (suite.protocols.includes('AH')) { g.ahOut = newAhKeys(suite, newEspSpi(keys), keys); g.ahIn = newAhKeys(suite, newEspSpi(keys), keys); }
      options.onChildSa?.({ initiator: g.initiator, responder: g.responder, espOut: g.espOut, espIn: g.espIn, ahOut: g.ahOut, ahIn: g.ahIn });
    }
    groups.set(key, g);
    stats.ikeNegotiations++;
    if (datagrams.length > 0) heap.push({ kind: 'ike', id: nextId++, next: ikeStart + datagrams[0]!.at, group: g, datagrams, i: 0 });
    return g;
  };

  // ---- connections
  for (const [flowIndex, flow] of flows.entries()) {
    hostOf(flow.client);
    hostOf(flow.server);
    const plan = flow.plan;
    const frnd = rnd.fork(`flow/${flowIndex}/${flow.client}/${flow.server}/${flow.port}`);
    const group = plan.ike ? groupFor(plan) : null;
    const protectedFlow = plan.outcome === 'protected';
    const mss = protectedFlow ? (nat ? 1352 : 1360) : 1460;
    if (plan.outcome === 'blocked') {
      // The initiator's clear SYNs reach a node that drops them: at once when it starts no IKE,
      // after the fall-back delay when it only requests authentication and IKE failed. An
      // initiator that requires authentication sends nothing but its IKE attempts.
      const clearAfter = !plan.ike ? 10 * MS : plan.rules.initiator?.requirement === 'request' ? group!.ikeStart + Math.min(3 * SEC, Math.floor(horizon / 3)) : -1;
      if (clearAfter >= 0) {
        for (let c = 0; c < Math.min(2, flow.connections); c++) {
          const start = clearAfter + frnd.int(0, Math.floor(horizon / 4));
          const isn = frnd.u32();
          const cport = frnd.int(49152, 65535);
          heap.push({ kind: 'tcp', id: nextId++, next: start, flow, group: null, cport, segs: null, make: () => unansweredSyn(start, isn, mss, horizon), i: 0 });
        }
      }
      continue;
    }
    // Windows falls back to clear about 3 s after an unanswered attempt; SAs are usable once installed.
    const earliest = protectedFlow ? group!.ready + MS : plan.ike ? group!.ikeStart + Math.min(3 * SEC, Math.floor(horizon / 3)) : 10 * MS;
    const latest = Math.max(earliest + MS, Math.floor(horizon * 0.9));
    for (let c = 0; c < flow.connections; c++) {
      const start = frnd.int(earliest, latest);
      const spec = {
        start,
        rtt: frnd.int(150_000, 400_000),
        isnClient: frnd.u32(),
        isnServer: frnd.u32(),
        exchanges: Array.from({ length: Math.max(1, flow.exchanges) }, () => ({
          request: Math.max(1, Math.round(flow.requestBytes * (0.5 + frnd.float()))),
          response: Math.round(flow.responseBytes * (0.5 + frnd.float())),
        })),
        think: frnd.int(200_000, 2 * MS),
        mss,
      };
      const cport = frnd.int(49152, 65535);
      heap.push({ kind: 'tcp', id: nextId++, next: start, flow, group: protectedFlow ? group : null, cport, segs: null, make: () => tcpConnection(spec), i: 0 });
    }
  }

  // ---- payload bytes: one seeded block, sliced per segment (plaintext and ESP-NULL show it)
  const block = rnd.bytes(1 << 16);
  const payloadFor = (flow: WireFlow, seg: Segment): Buffer => {
    const off = seg.streamOffset % ((1 << 16) - 2048);
    const slice = block.subarray(off, off + seg.payloadLength);
    if (seg.streamOffset !== 0 || flow.payload !== 'tls' || slice.length < 5) return slice; // tcp() copies it
    // A TLS record header: handshake (22), TLS 1.2 on the wire, record length.
    const p = Buffer.from(slice);
    p[0] = 0x16; p[1] = 0x03; p[2] = seg.fromClient ? 0x01 : 0x03; p.writeUInt16BE(Math.min(p.length - 5, 0x4000), 3);
    return p;
  };

  /** The IP header src → dst for `proto` with `payloadLength` bytes after it; each IPv4 packet takes the sender's next id. */
  const ipHeader = (src: HostState, dst: HostState, proto: number, payloadLength: number): Buffer => (src.v6
    ? ipv6Header({ src: src.ip, dst: dst.ip, nextHeader: proto, hopLimit: 128 }, payloadLength)
    : ipv4Header({ src: src.ip, dst: dst.ip, protocol: proto, ttl: 128, dontFragment: true, id: (src.ipId = (src.ipId + 1) & 0xffff) }, payloadLength));

  /** The Ethernet frame src → dst carrying an IP packet. */
  const onEthernet = (src: HostState, dst: HostState, ipPacket: Uint8Array): Buffer =>
    ethernet({ dst: dst.mac, src: src.mac, etherType: src.v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4 }, ipPacket);

  const frame = (src: HostState, dst: HostState, proto: number, payload: Uint8Array): Buffer =>
    onEthernet(src, dst, Buffer.concat([ipHeader(src, dst, proto, payload.length), payload]));

  const countPair = (g: SaGroup): void => {
    stats.protectedPerPair[g.pairKey] = (stats.protectedPerPair[g.pairKey] ?? 0) + 1;
  };

  const emit = (f: Buffer, t: number): void => {
    writePacket(f, t);
    stats.packets++;
    stats.frameBytes += f.length;
  };

  /** Wraps a TCP segment as its SA group says: ESP (maybe in UDP), AH, or AH around ESP. */
  const protect = (g: SaGroup, src: HostState, dst: HostState, segment: Buffer, t: number): void => {
    const outbound = src.host.address === g.initiator;
    let payload: Buffer = segment;
    let proto: number = IPPROTO.TCP;
    if (g.espOut) {
      const keys = outbound ? g.espOut : g.espIn!;
      const seq = outbound ? g.seqOut++ : g.seqIn++;
      const iv = rnd.bytes(espIvBytes(keys));
      payload = espSeal(keys, seq, proto, payload, iv);
      proto = IPPROTO.ESP;
      stats.espPackets++;
    }
    if (g.ahOut) {
      const keys = outbound ? g.ahOut : g.ahIn!;
      const seq = outbound ? g.ahSeqOut++ : g.ahSeqIn++;
      const hdr = ipHeader(src, dst, IPPROTO.AH, ahLength(keys, src.v6) + payload.length);
      const packet = ahSeal(keys, seq, hdr, proto, payload, keys.integrity.includes('GMAC') ? rnd.bytes(8) : undefined);
      if (!g.espOut) stats.ahPackets++;
      countPair(g);
      emit(onEthernet(src, dst, packet), t);
      return;
    }
    countPair(g);
    if (nat) emit(frame(src, dst, IPPROTO.UDP, espInUdp({ src: src.ip, dst: dst.ip }, payload)), t);
    else emit(frame(src, dst, proto, payload), t);
  };

  // ---- merge all streams in time order
  for (let s = heap.pop(); s; s = heap.pop()) {
    if (s.next >= horizon) continue;
    if (s.kind === 'ike') {
      const d = s.datagrams[s.i]!;
      const g = s.group;
      const src = hostOf(d.fromInitiator ? g.initiator : g.responder);
      const dst = hostOf(d.fromInitiator ? g.responder : g.initiator);
      emit(frame(src, dst, IPPROTO.UDP, ikeInUdp({ src: src.ip, dst: dst.ip, natT: d.natPort }, d.message)), s.next);
      stats.ikePackets++;
      s.i++;
      if (s.i < s.datagrams.length) { s.next = g.ikeStart + s.datagrams[s.i]!.at; heap.push(s); }
      continue;
    }
    if (!s.segs) { s.segs = s.make(); s.i = 0; }
    const seg = s.segs[s.i]!;
    const client = hostOf(s.flow.client);
    const server = hostOf(s.flow.server);
    const [src, dst] = seg.fromClient ? [client, server] : [server, client];
    const segment = tcp({
      src: src.ip, dst: dst.ip,
      srcPort: seg.fromClient ? s.cport : s.flow.port, dstPort: seg.fromClient ? s.flow.port : s.cport,
      seq: seg.seq, ack: seg.ack, flags: seg.flags, window: seg.window, ...(seg.options ? { options: seg.options } : {}),
    }, seg.payloadLength > 0 ? payloadFor(s.flow, seg) : undefined);
    if (s.group) protect(s.group, src, dst, segment, seg.t);
    else {
      emit(frame(src, dst, IPPROTO.TCP, segment), seg.t);
      stats.plaintextPackets++;
    }
    s.i++;
    if (s.i < s.segs.length) { s.next = s.segs[s.i]!.t; heap.push(s); } else s.segs = null;
  }
  closeWriter();
  stats.fileBytes = writer.bytesWritten;
  return stats;
}
