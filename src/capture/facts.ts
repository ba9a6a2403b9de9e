// Facts the capture analyzer extracts: what the rules judge and the reports show.
// Addresses are strings here: facts are built once per flow, not per packet.
import type { IkeMessage } from './ike.js';

export interface PairFacts {
  src: string;
  dst: string;
  srcNode: boolean;
  dstNode: boolean;
  packets: number;
  bytes: number;
  espPackets: number;
  espBytes: number;
  /** ESP carried in UDP (RFC 3948), a subset of espPackets. */
  espInUdpPackets: number;
  ikePackets: number;
  keepalives: number;
  ahOnlyPackets: number;
  ahOnlyBytes: number;
  ahOnlyInnerProtocols: number[];
  /** AH wrapping ESP (counted in espPackets too). */
  ahWithEspPackets: number;
  plaintextPackets: number;
  plaintextBytes: number;
  /** ARP, multicast, broadcast, neighbour discovery: counted, never flagged. */
  controlPackets: number;
  /** Clear-text packets proven to be the capture host's own copy of an ESP packet. */
  decryptedCopies: number;
  firstSeen: number;
  lastSeen: number;
}

export interface ConversationFacts {
  /** The initiating side (the client when ports tell, else the first sender). */
  src: string;
  /** The serving side; for traffic with a non-node, the node. */
  dst: string;
  protocol: string;
  protocolNumber: number;
  /** The service port as inferred from both directions; null for protocols without ports. */
  dstPort: number | null;
  packets: number;
  bytes: number;
  firstSeen: number;
  lastSeen: number;
  srcNode: boolean;
  dstNode: boolean;
  /** For aggregated traffic between a node and non-node peers: how many distinct peers. */
  peerCount?: number;
  /** Sample of non-node peer addresses. */
  peers?: string[];
  /** Only non-first fragments were seen, so the port could not be read. */
  fragmentsOnly?: boolean;
}

export type EspVerdict = 'encrypted' | 'null' | 'unsure';

export interface EspFlowFacts {
  src: string;
  dst: string;
  spi: string;
  udpEncapsulated: boolean;
  packets: number;
  bytes: number;
  verdict: EspVerdict;
  /** Packets in a row whose trailer and inner header parsed as clear text. */
  nullMatches: number;
  /** Packets whose tail was cut by the snaplen, so they could not be judged. */
  unjudged: number;
  icvLength?: number;
  innerProtocol?: number;
  firstSeen: number;
  lastSeen: number;
}

export interface IkeObservation {
  file: string;
  ts: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  message: IkeMessage;
}

export interface CaptureTotals {
  packets: number;
  bytes: number;
  ipPackets: number;
  controlPackets: number;
  nonIpPackets: number;
  /** Frames whose link or IP header could not be decoded. */
  undecodablePackets: number;
  /** Frames whose IP header was cut by the snaplen. */
  truncatedIpPackets: number;
}

export interface CaptureFacts {
  pairs: PairFacts[];
  conversations: ConversationFacts[];
  espFlows: EspFlowFacts[];
  ike: IkeObservation[];
  totals: CaptureTotals;
}
