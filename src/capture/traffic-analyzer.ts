// The per-packet classifier: turns every captured frame into counts on node pairs,
// clear-text conversations, ESP flows and IKE messages. It is the hot path (millions of
// packets a second): integer reads, flow-table lookups keyed by address words, and no
// allocation except when a new flow appears.
import { FormatError } from '../util/errors.js';
import { decodeIke } from './ike.js';
import { EspNullProbe, ESP_LOOKS_ENCRYPTED, ESP_LOOKS_NULL, ESP_UNJUDGED } from './esp-null.js';
import { FlowTable } from './flow-table.js';
import {
  formatAddress,
  IpView,
  IP_OK,
  IP_TRUNCATED,
  PROTO_AH,
  PROTO_ESP,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
} from './ip.js';
import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  isSupportedLinkType,
  LinkResult,
  linkTypeName,
  peelLink,
  SLL_OUTGOING,
  SUPPORTED_LINK_TYPES,
} from './link-types.js';
import { DIRECTION_INBOUND, DIRECTION_OUTBOUND, type PacketSink } from './reader.js';
import type { CaptureFacts, ConversationFacts, EspFlowFacts, IkeObservation, PairFacts } from './facts.js';

/** Who counts as a node; implemented by compliance/NodeSet. */
export interface NodeMatcher {
  has(af: number, w0: number, w1: number, w2: number, w3: number): boolean;
  isDirectedBroadcast(af: number, w0: number): boolean;
}

export interface AnalyzerOptions {
  nodes: NodeMatcher;
  /** Per port, how likely it is the serving side (see portRanks): decides conversation direction. */
  portRanks: Uint8Array;
  /** ESP-NULL needs this many packets in a row that parse as clear text (RFC 5879 §4). */
  espNullPackets: number;
}

/** Kernel IPsec re-injects a decrypted packet on the interface its ESP packet came in on, at once. */
const COPY_WINDOW = 0.005;
/**
 * Userspace IPsec (a TUN device) shows the clear side on another interface, after strongSwan
 * has queued and processed the packet: on a loaded machine that takes longer (5.2 ms was seen
 * in CI, 2026-11-23, for two outgoing TCP ACKs). The wider window needs the ESP packet on
 * another interface than the clear one, so a leak on the NIC is never explained away by it.
 */
const TUN_COPY_WINDOW = 0.05;
/** Without per-packet host metadata, a copy must be the very next packet, this close. */
const NEXT_PACKET_WINDOW = 0.001;
// ESP packet minus its clear copy: ESP header, IV (8-16), padding (0-15), pad length and
// next header, ICV (12-32), plus an outer IP header in tunnel mode and UDP for NAT-T.
const COPY_MIN_OVERHEAD = 30;
const COPY_MAX_OVERHEAD = 120;
const RECENT_ESP = 32;
/**
 * Outgoing clear copies waiting, per pair, for the ESP packets that prove them (userspace
 * IPsec): about a TUN queue's worth (Linux's default txqueuelen is 500), which a stalled
 * strongSwan can fill within the window.
 */
const MAX_PENDING_OUT = 512;
const MAX_PEER_SAMPLE = 5;
const MAX_PEER_TRACK = 4096;

const V_UNDECIDED = 0;
const V_ENCRYPTED = 1;
const V_NULL = 2;

class PairState {
  packets = 0;
  bytes = 0;
  espPackets = 0;
  espBytes = 0;
  espInUdpPackets = 0;
  ikePackets = 0;
  keepalives = 0;
  ahOnlyPackets = 0;
  ahOnlyBytes = 0;
  ahOnlyInner = 0; // bit set of small protocol numbers seen inside AH-only packets
  ahOnlyInnerOther = new Set<number>();
  ahWithEspPackets = 0;
  plaintextPackets = 0;
  plaintextBytes = 0;
  controlPackets = 0;
  decryptedCopies = 0;
  firstSeen = Infinity;
  lastSeen = -Infinity;
  // Recent ESP packets on this direction, to prove decrypted copies.
  recentTs: Float64Array | undefined;
  recentLen: Int32Array | undefined;
  recentUsed: Uint8Array | undefined;
  recentNext = 0;
  recentEpoch = -1;
  recentIface: Int32Array | undefined;
  // Outgoing clear-text packets waiting for their ESP packet (userspace IPsec, e.g. a TUN device).
  pendingOut: PendingClear[] | undefined;
  // Fast path: the ESP flow of the previous ESP packet.
  lastSpi = -1;
  lastEncap = false;
  lastFlow = -1;
  constructor(
    readonly af: number,
    readonly words: number[],
    readonly srcNode: boolean,
    readonly dstNode: boolean,
  ) {}
}

interface PendingClear {
  ts: number;
  ipLen: number;
  iface: number;
  proto: number;
  sport: number;
  dport: number;
  hasPorts: boolean;
}

class EspFlowState {
  packets = 0;
  bytes = 0;
  verdict = V_UNDECIDED;
  nullStreak = 0;
  icvLength = 0;
  innerProtocol = 0;
  unjudged = 0;
  firstSeen = Infinity;
  lastSeen = -Infinity;
  constructor(
    readonly pair: number,
    readonly spi: number,
    readonly encap: boolean,
  ) {}
}

class ConversationState {
  packets = 0;
  bytes = 0;
  firstSeen = Infinity;
  lastSeen = -Infinity;
  peers: Set<string> | undefined;
  fragmentsOnly = false;
  constructor(
    readonly af: number,
    readonly client: number[],
    readonly server: number[],
    readonly proto: number,
    readonly port: number,
    readonly hasPorts: boolean,
    readonly clientNode: boolean,
    readonly serverNode: boolean,
    readonly aggregated: boolean,
  ) {}
}

/** A fragment train whose first fragment has not been seen yet. */
const FRAG_PENDING = -1;

class FragmentState {
  /** FRAG_PENDING, or the CLASS_* of the first fragment: how the followers count. */
  kind = FRAG_PENDING;
  conversation = -1;
  pendingPackets = 0;
  pendingBytes = 0;
  pendingFirst = Infinity;
  pendingLast = -Infinity;
  constructor(readonly pair: number, readonly proto: number) {}
}

/** What the last packet turned out to be, so a first fragment can tell its followers. */
const CLASS_OTHER = 0; // clear text not tracked as a conversation (neither end a node), control
const CLASS_CONVERSATION = 1;
const CLASS_ESP = 2;
const CLASS_AH_ONLY = 3;
const CLASS_IKE = 4; // IKE messages (IKE_AUTH with certificates is often fragmented) and keepalives

export class TrafficAnalyzer implements PacketSink {
  private readonly link = new LinkResult();
  private readonly ip = new IpView();
  private readonly espProbe = new EspNullProbe();
  private readonly pairTable = new FlowTable(9);
  private readonly pairs: PairState[] = [];
  private readonly espTable = new FlowTable(3);
  private readonly espFlows: EspFlowState[] = [];
  private readonly convTable = new FlowTable(10);
  private readonly conversations: ConversationState[] = [];
  private readonly fragTable = new FlowTable(3);
  private readonly fragments: FragmentState[] = [];
  private readonly ike: IkeObservation[] = [];
  private readonly portRank: Uint8Array;
  private readonly cacheSrc = new Uint32Array(256);
  private readonly cacheDst = new Uint32Array(256);
  private readonly cacheIdx = new Int32Array(256).fill(-1);
  private file = '';
  private epoch = 0;
  private curIface = 0;
  private curOutgoing = false;
  /** The link layer says who the packet was for (SLL/SLL2 packet type, pcapng direction). */
  private curHostMeta = false;
  private curInbound = false;
  /** When the previous packet of the file was ESP between nodes: its pair, IP length and time. */
  private espJustBefore = -1;
  private espJustBeforeLen = 0;
  private espJustBeforeTs = 0;
  private espNow = -1;
  private espNowLen = 0;
  private espNowTs = 0;
  private curIfaceKnown = false;
  /** The file has shown packets on more than one (pcapng) interface, so ids tell them apart. */
  private multiInterface = false;
  private firstIface = -1;
  private lastTs = 0;
  private lastClass = CLASS_OTHER;
  private lastConversation = -1;
  private readonly totals = {
    packets: 0,
    bytes: 0,
    ipPackets: 0,
    controlPackets: 0,
    nonIpPackets: 0,
    undecodablePackets: 0,
    truncatedIpPackets: 0,
  };

  constructor(private readonly options: AnalyzerOptions) {
    this.portRank = options.portRanks;
  }

  /** Starts a new capture file: decrypted-copy proof never crosses files. */
  beginFile(file: string): void {
    this.settlePendingClear();
    this.file = file;
    this.epoch++;
    this.multiInterface = false;
    this.firstIface = -1;
    this.espNow = -1;
    this.espJustBefore = -1;
  }



  packet(buf: Buffer, off: number, caplen: number, origLen: number, linkType: number, ts: number, iface: number, direction: number, recordOffset: number): void {
    const totals = this.totals;
    totals.packets++;
    totals.bytes += origLen;
    if (ts !== ts) ts = this.lastTs; // SPB packets carry no timestamp
    else this.lastTs = ts;
    const link = this.link;
    if (!peelLink(buf, off, caplen, linkType, link)) {
      if (!isSupportedLinkType(linkType)) {
        throw new FormatError(
          this.file,
          recordOffset,
          `link type ${linkType} (${linkTypeName(linkType)})`,
          `one of ${SUPPORTED_LINK_TYPES.map((t) => `${linkTypeName(t)} (${t})`).join(', ')}`,
        );
      }
      totals.undecodablePackets++;
      return;
    }
    // Which interface and direction, when the capture records them: proof for clear copies.
    this.curIface = link.ifIndex >= 0 ? link.ifIndex : iface;
    if (this.firstIface < 0) this.firstIface = iface;
    else if (iface !== this.firstIface) this.multiInterface = true;
    this.curOutgoing = link.packetType === SLL_OUTGOING || direction === DIRECTION_OUTBOUND;
    this.curHostMeta = link.packetType >= 0 || direction !== 0;
    this.curInbound = link.packetType === 0 || direction === DIRECTION_INBOUND;
    this.espJustBefore = this.espNow;
    this.espJustBeforeLen = this.espNowLen;
    this.espJustBeforeTs = this.espNowTs;
    this.espNow = -1;
    this.curIfaceKnown = link.ifIndex >= 0 || this.multiInterface;
    const et = link.etherType;
    if (et !== ETHERTYPE_IPV4 && et !== ETHERTYPE_IPV6) {
      if (et === ETHERTYPE_ARP) totals.controlPackets++;
      else totals.nonIpPackets++;
      return;
    }
    const ip = this.ip;
    const l3len = off + caplen - link.l3Offset;
    const r = ip.decode(buf, link.l3Offset, l3len, et === ETHERTYPE_IPV4 ? 4 : 6);
    if (r !== IP_OK) {
      if (r === IP_TRUNCATED) totals.truncatedIpPackets++;
      totals.undecodablePackets++;
      return;
    }
    totals.ipPackets++;

    // Most packets belong to a pair seen a moment ago: a small direct-mapped cache for
    // IPv4 pairs skips hashing all nine key words.
    let pi = -1;
    let slot = -1;
    if (ip.af === 4) {
      slot = Math.imul(ip.s0 ^ Math.imul(ip.d0, 0x9e3779b1), 0x85ebca6b) >>> 24;
      if (this.cacheSrc[slot] === ip.s0 && this.cacheDst[slot] === ip.d0) pi = this.cacheIdx[slot]!;
    }
    if (pi < 0) {
      const probe = this.pairTable.probe;
      probe[0] = ip.af;
      probe[1] = ip.s0;
      probe[2] = ip.s1;
      probe[3] = ip.s2;
      probe[4] = ip.s3;
      probe[5] = ip.d0;
      probe[6] = ip.d1;
      probe[7] = ip.d2;
      probe[8] = ip.d3;
      pi = this.pairTable.findOrAdd();
      if (this.pairTable.added) {
        const nodes = this.options.nodes;
        this.pairs.push(new PairState(ip.af, Array.from(probe), nodes.has(ip.af, ip.s0, ip.s1, ip.s2, ip.s3), nodes.has(ip.af, ip.d0, ip.d1, ip.d2, ip.d3)));
      }
      if (slot >= 0) {
        this.cacheSrc[slot] = ip.s0;
        this.cacheDst[slot] = ip.d0;
        this.cacheIdx[slot] = pi;
      }
    }
    const pair = this.pairs[pi]!;
    const ipLen = ip.totalLength;
    pair.packets++;
    pair.bytes += ipLen;
    if (ts < pair.firstSeen) pair.firstSeen = ts;
    if (ts > pair.lastSeen) pair.lastSeen = ts;

    if (ip.multicast || link.linkMulticast || this.options.nodes.isDirectedBroadcast(ip.af, ip.d0)) {
      pair.controlPackets++;
      totals.controlPackets++;
      return;
    }

    const proto = ip.proto;
    if (ip.fragOffset !== 0) {
      this.nonFirstFragment(pi, pair, proto, ipLen, ts);
      return;
    }
    // Whole IP packet captured? Needed to see the ESP trailer.
    // A first fragment holds only the start of the datagram: its ESP trailer is elsewhere.
    const complete = caplen === origLen && ip.capturedLength === ip.totalLength && !ip.moreFragments;
    const p = ip.l4Offset;
    const n = ip.l4Length;
    this.lastClass = CLASS_OTHER;
    if (proto === PROTO_ESP) {
      this.esp(pi, pair, buf, p, n, complete, false, ipLen, ts);
    } else if (proto === PROTO_UDP && n >= 8) {
      this.udp(pi, pair, buf, p, n, complete, ipLen, ts);
    } else if (proto === PROTO_TCP && n >= 14) {
      this.plaintext(pi, pair, proto, buf.readUInt16BE(p), buf.readUInt16BE(p + 2), true, ipLen, ts);
    } else if (proto === PROTO_AH) {
      this.ah(pi, pair, buf, p, n, complete, ipLen, ts);
    } else if (proto === PROTO_ICMPV6 && n >= 1 && buf[p]! >= 133 && buf[p]! <= 137) {
      // Router/neighbour solicitation and advertisement, redirect: IPv6's ARP.
      pair.controlPackets++;
      totals.controlPackets++;
    } else {
      // TCP/UDP too short to carry ports land here too, still judged as clear text.
      this.plaintext(pi, pair, proto, 0, 0, false, ipLen, ts);
    }
    if (ip.moreFragments) this.firstFragment(pi, proto);
  }

  private udp(pi: number, pair: PairState, buf: Buffer, p: number, n: number, complete: boolean, ipLen: number, ts: number): void {
    const sport = buf.readUInt16BE(p);
    const dport = buf.readUInt16BE(p + 2);
    const q = p + 8;
    const m = n - 8;
    if (sport === 4500 || dport === 4500) {
      if (m === 1 && buf[q] === 0xff) {
        pair.keepalives++;
        this.lastClass = CLASS_IKE;
        return;
      }
      if (m >= 4 && buf.readUInt32BE(q) === 0) {
        if (this.ikeMessage(pair, buf, q + 4, m - 4, sport, dport, ts)) return;
      } else if (m >= 8 && buf.readUInt32BE(q) >= 256) {
        pair.espInUdpPackets++;
        this.esp(pi, pair, buf, q, m, complete, true, ipLen, ts);
        return;
      }
    } else if (sport === 500 || dport === 500) {
      if (this.ikeMessage(pair, buf, q, m, sport, dport, ts)) return;
    }
    this.plaintext(pi, pair, PROTO_UDP, sport, dport, true, ipLen, ts);
  }

  private ikeMessage(pair: PairState, buf: Buffer, p: number, n: number, sport: number, dport: number, ts: number): boolean {
    const message = decodeIke(buf, p, n);
    if (!message) return false; // not IKE: the packet is judged as clear text on that port
    pair.ikePackets++;
    this.lastClass = CLASS_IKE;
    const w = pair.words;
    this.ike.push({
      file: this.file,
      ts,
      src: formatAddress(pair.af, w[1]!, w[2]!, w[3]!, w[4]!),
      dst: formatAddress(pair.af, w[5]!, w[6]!, w[7]!, w[8]!),
      srcPort: sport,
      dstPort: dport,
      message,
    });
    return true;
  }

  private ah(pi: number, pair: PairState, buf: Buffer, p: number, n: number, complete: boolean, ipLen: number, ts: number): void {
    if (n < 12) {
      this.plaintext(pi, pair, PROTO_AH, 0, 0, false, ipLen, ts);
      return;
    }
    const next = buf[p]!;
    const ahLength = (buf[p + 1]! + 2) * 4;
    if (next === PROTO_ESP && ahLength < n) {
      pair.ahWithEspPackets++;
      this.esp(pi, pair, buf, p + ahLength, n - ahLength, complete, false, ipLen, ts);
      return;
    }
    pair.ahOnlyPackets++;
    pair.ahOnlyBytes += ipLen;
    if (next < 32) pair.ahOnlyInner |= 1 << next;
    else pair.ahOnlyInnerOther.add(next);
    this.lastClass = CLASS_AH_ONLY;
  }

  private esp(pi: number, pair: PairState, buf: Buffer, p: number, n: number, complete: boolean, encap: boolean, ipLen: number, ts: number): void {
    pair.espPackets++;
    pair.espBytes += ipLen;
    this.lastClass = CLASS_ESP;
    if (pair.srcNode && pair.dstNode) {
      this.espNow = pi;
      this.espNowLen = ipLen;
      this.espNowTs = ts;
      if (this.curHostMeta) this.rememberEsp(pair, ipLen, ts);
    }
    if (n < 8) return; // an ESP header cut by the snaplen: counted, not attributable to an SA
    const spi = buf.readUInt32BE(p);
    let fi: number;
    if (pair.lastSpi === spi && pair.lastEncap === encap) {
      fi = pair.lastFlow;
    } else {
      const probe = this.espTable.probe;
      probe[0] = pi;
      probe[1] = spi;
      probe[2] = encap ? 1 : 0;
      fi = this.espTable.findOrAdd();
      if (this.espTable.added) this.espFlows.push(new EspFlowState(pi, spi, encap));
      pair.lastSpi = spi;
      pair.lastEncap = encap;
      pair.lastFlow = fi;
    }
    const flow = this.espFlows[fi]!;
    flow.packets++;
    flow.bytes += ipLen;
    if (ts < flow.firstSeen) flow.firstSeen = ts;
    if (ts > flow.lastSeen) flow.lastSeen = ts;
    if (flow.verdict !== V_UNDECIDED) return;
    const c = this.espProbe.classify(buf, p, n, complete);
    if (c === ESP_LOOKS_ENCRYPTED) {
      flow.verdict = V_ENCRYPTED;
    } else if (c === ESP_LOOKS_NULL) {
      // RFC 5879: consecutive matches must agree on the trailer layout.
      if (flow.nullStreak > 0 && this.espProbe.icvLength !== flow.icvLength) flow.nullStreak = 0;
      flow.icvLength = this.espProbe.icvLength;
      flow.innerProtocol = this.espProbe.nextHeader;
      flow.nullStreak++;
      if (flow.nullStreak >= this.options.espNullPackets) flow.verdict = V_NULL;
    } else if (c === ESP_UNJUDGED) {
      flow.unjudged++;
    }
  }

  private rememberEsp(pair: PairState, ipLen: number, ts: number): void {
    if (!pair.recentTs || pair.recentEpoch !== this.epoch) {
      pair.recentTs ??= new Float64Array(RECENT_ESP);
      pair.recentLen ??= new Int32Array(RECENT_ESP);
      pair.recentUsed ??= new Uint8Array(RECENT_ESP);
      pair.recentIface ??= new Int32Array(RECENT_ESP);
      pair.recentTs.fill(-Infinity);
      pair.recentUsed.fill(1);
      pair.recentEpoch = this.epoch;
    }
    const i = pair.recentNext;
    pair.recentTs[i] = ts;
    pair.recentLen![i] = ipLen;
    pair.recentUsed![i] = 0;
    pair.recentIface![i] = this.curIface;
    pair.recentNext = (i + 1) % RECENT_ESP;
    if (pair.pendingOut && pair.pendingOut.length > 0) this.proveOutgoingCopy(pair, ipLen, ts);
  }

  /**
   * Userspace IPsec (strongSwan kernel-libipsec, a TUN device) shows each outgoing packet
   * in clear on the TUN before its ESP packet leaves on the NIC. Such a clear packet is a
   * copy only when proven: the link layer marks it outgoing, on another interface than the
   * ESP packet that follows within the copy window and is big enough to carry it.
   */
  private proveOutgoingCopy(pair: PairState, espLen: number, ts: number): void {
    const pending = pair.pendingOut!;
    this.flushExpired(pair, ts);
    const head = pending[0];
    if (head && head.iface !== this.curIface && fitsEspOverhead(espLen, head.ipLen)) {
      pending.shift();
      pair.decryptedCopies++;
    }
  }

  /** Pending clear packets whose window passed without their ESP packet are leaks. */
  private flushExpired(pair: PairState, now: number): void {
    const pending = pair.pendingOut!;
    while (pending.length > 0 && (now - pending[0]!.ts > TUN_COPY_WINDOW || pending.length > MAX_PENDING_OUT)) {
      const c = pending.shift()!;
      this.countClear(pair, c.proto, c.sport, c.dport, c.hasPorts, c.ipLen, c.ts);
    }
  }

  private settlePendingClear(): void {
    for (const pair of this.pairs) {
      if (!pair.pendingOut) continue;
      this.flushExpired(pair, Infinity);
    }
  }

  /**
   * A clear-text packet between two nodes is the capture host's decrypted copy only when
   * proven. With host metadata (SLL/SLL2 packet type, pcapng direction) it must be marked
   * inbound and fit the oldest unused ESP packet of the same direction within the copy
   * window: 5 ms on the ESP packet's interface (kernel IPsec), 50 ms on another (a TUN);
   * kernel and userspace IPsec both deliver copies in ESP order. Without it, it
   * must be the very next packet after its ESP packet. Either way the ESP packet must be
   * bigger by exactly what ESP adds, and each ESP packet proves at most one copy.
   */
  private provenCopy(pi: number, pair: PairState, ipLen: number, ts: number): boolean {
    if (!this.curHostMeta) {
      if (this.espJustBefore !== pi || ts < this.espJustBeforeTs || ts - this.espJustBeforeTs > NEXT_PACKET_WINDOW) return false;
      if (!fitsEspOverhead(this.espJustBeforeLen, ipLen)) return false;
      this.espJustBefore = -1;
      pair.decryptedCopies++;
      return true;
    }
    const times = pair.recentTs;
    if (!this.curInbound || !times || pair.recentEpoch !== this.epoch) return false;
    for (let k = 0; k < RECENT_ESP; k++) {
      const i = (pair.recentNext + k) % RECENT_ESP; // oldest first
      const window = this.curIfaceKnown && pair.recentIface![i] !== this.curIface ? TUN_COPY_WINDOW : COPY_WINDOW;
      if (pair.recentUsed![i] || times[i]! > ts || ts - times[i]! > window) continue;
      if (!fitsEspOverhead(pair.recentLen![i]!, ipLen)) return false;
      pair.recentUsed![i] = 1;
      pair.decryptedCopies++;
      return true;
    }
    return false;
  }

  private plaintext(pi: number, pair: PairState, proto: number, sport: number, dport: number, hasPorts: boolean, ipLen: number, ts: number): void {
    if (pair.srcNode && pair.dstNode) {
      if (this.provenCopy(pi, pair, ipLen, ts)) {
        this.lastClass = CLASS_ESP;
        return;
      }
      if (this.curOutgoing && this.curIfaceKnown && !this.ip.moreFragments) {
        // Maybe the clear side of an ESP packet about to leave: held until proven or expired.
        pair.pendingOut ??= [];
        pair.pendingOut.push({ ts, ipLen, iface: this.curIface, proto, sport, dport, hasPorts });
        this.flushExpired(pair, ts);
        this.lastClass = CLASS_OTHER;
        return;
      }
    }
    const ci = this.countClear(pair, proto, sport, dport, hasPorts, ipLen, ts);
    this.lastClass = ci >= 0 ? CLASS_CONVERSATION : CLASS_OTHER;
    this.lastConversation = ci;
  }

  /** Counts a clear-text packet; returns its conversation index, or -1 between non-nodes. */
  private countClear(pair: PairState, proto: number, sport: number, dport: number, hasPorts: boolean, ipLen: number, ts: number): number {
    pair.plaintextPackets++;
    pair.plaintextBytes += ipLen;
    if (!pair.srcNode && !pair.dstNode) return -1; // neither end is a node: counted on the pair only
    const ci = this.conversationIndex(pair, proto, sport, dport, hasPorts);
    const conv = this.conversations[ci]!;
    conv.packets++;
    conv.bytes += ipLen;
    if (ts < conv.firstSeen) conv.firstSeen = ts;
    if (ts > conv.lastSeen) conv.lastSeen = ts;
    return ci;
  }

  /**
   * Both directions of a conversation map to one entry keyed (client, server, protocol,
   * service port). Traffic between a node and non-node peers is aggregated per node,
   * port and role, so a capture full of outside clients cannot grow memory without bound.
   */
  private conversationIndex(pair: PairState, proto: number, sport: number, dport: number, hasPorts: boolean): number {
    const w = pair.words;
    const rank = this.portRank;
    // Does the destination side serve? Ports decide; ties go to the lower port, then the lower address.
    let dstServes: boolean;
    if (hasPorts && sport !== dport) {
      const rs = rank[sport]!;
      const rd = rank[dport]!;
      dstServes = rd !== rs ? rd > rs : dport < sport;
    } else {
      dstServes = compareWords(w, 1, w, 5) <= 0;
    }
    const port = hasPorts ? (dstServes ? dport : sport) : 0;
    const aggregated = pair.srcNode !== pair.dstNode;
    const serverAt = dstServes ? 5 : 1;
    const clientAt = dstServes ? 1 : 5;
    const probe = this.convTable.probe;
    let peerAt = -1;
    if (aggregated) {
      const nodeAt = pair.dstNode ? 5 : 1;
      peerAt = nodeAt === 5 ? 1 : 5;
      probe[0] = pair.af | 0x100 | (nodeAt === serverAt ? 0 : 0x200);
      for (let i = 0; i < 4; i++) {
        probe[1 + i] = 0;
        probe[5 + i] = w[nodeAt + i]!;
      }
    } else {
      probe[0] = pair.af;
      for (let i = 0; i < 4; i++) {
        probe[1 + i] = w[clientAt + i]!;
        probe[5 + i] = w[serverAt + i]!;
      }
    }
    probe[9] = (proto << 16) | port;
    const ci = this.convTable.findOrAdd();
    if (this.convTable.added) {
      this.conversations.push(
        new ConversationState(
          pair.af,
          w.slice(clientAt, clientAt + 4),
          w.slice(serverAt, serverAt + 4),
          proto,
          port,
          hasPorts,
          clientAt === 1 ? pair.srcNode : pair.dstNode,
          serverAt === 1 ? pair.srcNode : pair.dstNode,
          aggregated,
        ),
      );
    }
    const conv = this.conversations[ci]!;
    if (aggregated) {
      conv.peers ??= new Set();
      if (conv.peers.size < MAX_PEER_TRACK) {
        conv.peers.add(formatAddress(pair.af, w[peerAt]!, w[peerAt + 1]!, w[peerAt + 2]!, w[peerAt + 3]!));
      }
    }
    return ci;
  }

  /** The fragment train of the current packet (pair, IP id, protocol), created if new. */
  private fragmentOf(pi: number, proto: number): FragmentState {
    const probe = this.fragTable.probe;
    probe[0] = pi;
    probe[1] = this.ip.fragId;
    probe[2] = proto;
    const fi = this.fragTable.findOrAdd();
    if (this.fragTable.added) this.fragments.push(new FragmentState(pi, proto));
    return this.fragments[fi]!;
  }

  /** Moves fragments held while their first fragment was missing into a conversation. */
  private absorbPending(frag: FragmentState, conv: ConversationState): void {
    conv.packets += frag.pendingPackets;
    conv.bytes += frag.pendingBytes;
    conv.firstSeen = Math.min(conv.firstSeen, frag.pendingFirst);
    conv.lastSeen = Math.max(conv.lastSeen, frag.pendingLast);
    frag.pendingPackets = 0;
    frag.pendingBytes = 0;
  }

  private firstFragment(pi: number, proto: number): void {
    const frag = this.fragmentOf(pi, proto);
    const wasPending = frag.kind === FRAG_PENDING && frag.pendingPackets > 0;
    frag.kind = this.lastClass;
    frag.conversation = this.lastConversation;
    if (!wasPending) return;
    // Followers that came before their first fragment were held as clear text on the pair;
    // settle them now that the first fragment says what the datagram was.
    const pair = this.pairs[pi]!;
    if (frag.kind === CLASS_CONVERSATION) {
      this.absorbPending(frag, this.conversations[frag.conversation]!);
      return;
    }
    if (frag.kind !== CLASS_OTHER) {
      pair.plaintextPackets -= frag.pendingPackets;
      pair.plaintextBytes -= frag.pendingBytes;
      this.countFollower(pair, frag, frag.pendingPackets, frag.pendingBytes);
    }
    frag.pendingPackets = 0;
    frag.pendingBytes = 0;
  }

  /** Counts non-first fragments of an IPsec datagram where its first fragment was counted. */
  private countFollower(pair: PairState, frag: FragmentState, packets: number, bytes: number): void {
    if (frag.kind === CLASS_ESP) {
      pair.espPackets += packets;
      pair.espBytes += bytes;
    } else if (frag.kind === CLASS_AH_ONLY) {
      pair.ahOnlyPackets += packets;
      pair.ahOnlyBytes += bytes;
    } else if (frag.kind === CLASS_IKE) {
      pair.ikePackets += packets;
    }
  }

  private nonFirstFragment(pi: number, pair: PairState, proto: number, ipLen: number, ts: number): void {
    if (proto === PROTO_ESP) {
      pair.espPackets++;
      pair.espBytes += ipLen;
      return;
    }
    const frag = this.fragmentOf(pi, proto);
    if (frag.kind === FRAG_PENDING) {
      // First fragment not seen yet: held as clear text until it comes (or the capture ends).
      pair.plaintextPackets++;
      pair.plaintextBytes += ipLen;
      frag.pendingPackets++;
      frag.pendingBytes += ipLen;
      if (ts < frag.pendingFirst) frag.pendingFirst = ts;
      if (ts > frag.pendingLast) frag.pendingLast = ts;
    } else if (frag.kind === CLASS_CONVERSATION) {
      const conv = this.conversations[frag.conversation]!;
      pair.plaintextPackets++;
      pair.plaintextBytes += ipLen;
      conv.packets++;
      conv.bytes += ipLen;
      if (ts > conv.lastSeen) conv.lastSeen = ts;
    } else if (frag.kind === CLASS_OTHER) {
      pair.plaintextPackets++;
      pair.plaintextBytes += ipLen;
    } else {
      this.countFollower(pair, frag, 1, ipLen);
    }
  }

  /** Settles what is still pending and returns the facts. */
  facts(): CaptureFacts {
    this.settlePendingClear();
    // Fragments whose first fragment never came: clear text with an unreadable port.
    for (const frag of this.fragments) {
      if (frag.kind !== FRAG_PENDING || frag.pendingPackets === 0) continue;
      const pair = this.pairs[frag.pair]!;
      if (!pair.srcNode && !pair.dstNode) continue;
      const conv = this.conversations[this.conversationIndex(pair, frag.proto, 0, 0, false)]!;
      if (conv.packets === 0) conv.fragmentsOnly = true;
      this.absorbPending(frag, conv);
    }
    const addr = (af: number, w: readonly number[], at: number): string => formatAddress(af, w[at]!, w[at + 1]!, w[at + 2]!, w[at + 3]!);
    const pairs: PairFacts[] = this.pairs.map((s) => ({
      src: addr(s.af, s.words, 1),
      dst: addr(s.af, s.words, 5),
      srcNode: s.srcNode,
      dstNode: s.dstNode,
      packets: s.packets,
      bytes: s.bytes,
      espPackets: s.espPackets,
      espBytes: s.espBytes,
      espInUdpPackets: s.espInUdpPackets,
      ikePackets: s.ikePackets,
      keepalives: s.keepalives,
      ahOnlyPackets: s.ahOnlyPackets,
      ahOnlyBytes: s.ahOnlyBytes,
      ahOnlyInnerProtocols: [...bitsToList(s.ahOnlyInner), ...s.ahOnlyInnerOther].sort((a, b) => a - b),
      ahWithEspPackets: s.ahWithEspPackets,
      plaintextPackets: s.plaintextPackets,
      plaintextBytes: s.plaintextBytes,
      controlPackets: s.controlPackets,
      decryptedCopies: s.decryptedCopies,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
    }));
    const conversations: ConversationFacts[] = this.conversations
      .filter((c) => c.packets > 0)
      .map((c) => {
        const peers = c.peers ? [...c.peers] : undefined;
        // Aggregated traffic names the peers by count unless there was just one.
        const peerText = peers && peers.length === 1 ? peers[0]! : `${peers?.length ?? 0} non-node peers`;
        const fact: ConversationFacts = {
          src: c.aggregated && !c.clientNode ? peerText : addr(c.af, c.client, 0),
          dst: c.aggregated && !c.serverNode ? peerText : addr(c.af, c.server, 0),
          protocol: protocolName(c.proto),
          protocolNumber: c.proto,
          dstPort: c.hasPorts ? c.port : null,
          packets: c.packets,
          bytes: c.bytes,
          firstSeen: c.firstSeen,
          lastSeen: c.lastSeen,
          srcNode: c.clientNode,
          dstNode: c.serverNode,
        };
        if (c.aggregated && peers) {
          fact.peerCount = peers.length;
          fact.peers = peers.slice(0, MAX_PEER_SAMPLE);
        }
        if (c.fragmentsOnly) fact.fragmentsOnly = true;
        return fact;
      });
    const espFlows: EspFlowFacts[] = this.espFlows.map((f) => {
      const pair = this.pairs[f.pair]!;
      const fact: EspFlowFacts = {
        src: addr(pair.af, pair.words, 1),
        dst: addr(pair.af, pair.words, 5),
        spi: `0x${f.spi.toString(16).padStart(8, '0')}`,
        udpEncapsulated: f.encap,
        packets: f.packets,
        bytes: f.bytes,
        verdict: f.verdict === V_ENCRYPTED ? 'encrypted' : f.verdict === V_NULL ? 'null' : 'unsure',
        nullMatches: f.nullStreak,
        unjudged: f.unjudged,
        firstSeen: f.firstSeen,
        lastSeen: f.lastSeen,
      };
      if (f.nullStreak > 0) {
        fact.icvLength = f.icvLength;
        fact.innerProtocol = f.innerProtocol;
      }
      return fact;
    });
    return { pairs, conversations, espFlows, ike: this.ike, totals: { ...this.totals } };
  }
}

/**
 * Which side of a conversation serves: a known service port (3), then a well-known port
 * (2), then a registered one (1), then an ephemeral one (0: 32768+, Linux and Windows
 * defaults). Computed once per policy, not per analyzer.
 */
export function portRanks(isServicePort: (port: number) => boolean): Uint8Array {
  const ranks = new Uint8Array(65536);
  for (let port = 0; port < 65536; port++) ranks[port] = isServicePort(port) ? 3 : port < 1024 ? 2 : port < 32768 ? 1 : 0;
  return ranks;
}

function fitsEspOverhead(espIpLen: number, clearIpLen: number): boolean {
  const overhead = espIpLen - clearIpLen;
  return overhead >= COPY_MIN_OVERHEAD && overhead <= COPY_MAX_OVERHEAD;
}

function compareWords(a: readonly number[], ai: number, b: readonly number[], bi: number): number {
  for (let i = 0; i < 4; i++) {
    const d = a[ai + i]! - b[bi + i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function bitsToList(bits: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if (bits & (1 << i)) out.push(i);
  return out;
}

const PROTOCOL_NAMES: Record<number, string> = {
  [PROTO_ICMP]: 'icmp',
  2: 'igmp',
  4: 'ipip',
  [PROTO_TCP]: 'tcp',
  [PROTO_UDP]: 'udp',
  41: 'ipv6',
  47: 'gre',
  [PROTO_ESP]: 'esp',
  [PROTO_AH]: 'ah',
  [PROTO_ICMPV6]: 'icmpv6',
  59: 'ipv6-nonxt',
  89: 'ospf',
  112: 'vrrp',
  132: 'sctp',
};

export function protocolName(proto: number): string {
  return PROTOCOL_NAMES[proto] ?? `ip-proto-${proto}`;
}
