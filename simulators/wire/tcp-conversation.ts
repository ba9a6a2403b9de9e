// One TCP connection as a stack sends it (RFC 9293): three-way handshake with Windows'
// SYN options, request and response data cut into MSS-sized segments, delayed ACKs every
// second segment, and the FIN exchange; or, when the server never answers (its IPsec policy
// drops clear packets), the client's SYN and its retransmissions. Returns the segments in
// time order (an ACK may overtake the sender's next segment); the wire turns them into
// frames (and ESP) when it emits them.

/** One segment; `payloadLength` bytes of application data follow the header. */
export interface Segment {
  /** Nanoseconds since the capture started. */
  t: number;
  fromClient: boolean;
  flags: number;
  seq: number;
  ack: number;
  window: number;
  payloadLength: number;
  /** Offset of this segment's data in its direction's byte stream (for the payload pattern). */
  streamOffset: number;
  /** TCP options (SYN and SYN-ACK only). */
  options: Buffer | null;
}

export interface ConnectionSpec {
  start: number;
  /** Round-trip time in ns between the two hosts. */
  rtt: number;
  isnClient: number;
  isnServer: number;
  /** Request/response pairs on this connection. */
  exchanges: { request: number; response: number }[];
  /** Pause between exchanges, ns. */
  think: number;
  mss: number;
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;
/** Time to put one full-size frame on a 1 Gbit/s link, ns. */
const SERIALISATION = 12_000;

/** MSS 1460, NOP, window scale 8, NOP, NOP, SACK permitted: what Windows Server sends. */
export function synOptions(mss: number): Buffer {
  return Buffer.from([2, 4, mss >> 8, mss & 0xff, 1, 3, 3, 8, 1, 1, 4, 2]);
}

const u32 = (n: number): number => n >>> 0;

export function tcpConnection(c: ConnectionSpec): Segment[] {
  const out: Segment[] = [];
  const push = (s: Segment): void => { out.push(s); };
  let t = c.start;
  const half = Math.max(1, Math.floor(c.rtt / 2));
  let cSeq = c.isnClient;
  let sSeq = c.isnServer;
  const opts = synOptions(c.mss);
  push({ t, fromClient: true, flags: SYN, seq: cSeq, ack: 0, window: 64240, payloadLength: 0, streamOffset: 0, options: opts });
  cSeq = u32(cSeq + 1);
  t += half;
  push({ t, fromClient: false, flags: SYN | ACK, seq: sSeq, ack: cSeq, window: 65535, payloadLength: 0, streamOffset: 0, options: opts });
  sSeq = u32(sSeq + 1);
  t += half;
  push({ t, fromClient: true, flags: ACK, seq: cSeq, ack: sSeq, window: 1026, payloadLength: 0, streamOffset: 0, options: null });
  let cOff = 0;
  let sOff = 0;
  for (const ex of c.exchanges) {
    t += 20_000;
    // Request: client → server, then the server's (delayed) ACK comes with or before its reply.
    let sent = 0;
    let unacked = 0;
    while (sent < ex.request) {
      const n = Math.min(c.mss, ex.request - sent);
      sent += n;
      push({ t, fromClient: true, flags: ACK | (sent === ex.request ? PSH : 0), seq: cSeq, ack: sSeq, window: 1026, payloadLength: n, streamOffset: cOff, options: null });
      cSeq = u32(cSeq + n);
      cOff += n;
      unacked++;
      t += SERIALISATION;
      if (unacked === 2 && sent < ex.request) {
        push({ t: t + half, fromClient: false, flags: ACK, seq: sSeq, ack: cSeq, window: 2053, payloadLength: 0, streamOffset: 0, options: null });
        unacked = 0;
      }
    }
    t += half + 60_000; // the service works on the request
    if (ex.response === 0) {
      push({ t, fromClient: false, flags: ACK, seq: sSeq, ack: cSeq, window: 2053, payloadLength: 0, streamOffset: 0, options: null });
    }
    sent = 0;
    unacked = 0;
    while (sent < ex.response) {
      const n = Math.min(c.mss, ex.response - sent);
      sent += n;
      push({ t, fromClient: false, flags: ACK | (sent === ex.response ? PSH : 0), seq: sSeq, ack: cSeq, window: 2053, payloadLength: n, streamOffset: sOff, options: null });
      sSeq = u32(sSeq + n);
      sOff += n;
      unacked++;
      t += SERIALISATION;
      if (unacked === 2 || sent === ex.response) {
        push({ t: t + half, fromClient: true, flags: ACK, seq: cSeq, ack: sSeq, window: 1026, payloadLength: 0, streamOffset: 0, options: null });
        unacked = 0;
      }
    }
    t += half + c.think;
  }
  // Client closes: FIN, the server's FIN, the last ACK.
  push({ t, fromClient: true, flags: FIN | ACK, seq: cSeq, ack: sSeq, window: 1026, payloadLength: 0, streamOffset: 0, options: null });
  cSeq = u32(cSeq + 1);
  t += half;
  push({ t, fromClient: false, flags: FIN | ACK, seq: sSeq, ack: cSeq, window: 2053, payloadLength: 0, streamOffset: 0, options: null });
  sSeq = u32(sSeq + 1);
  t += half;
  push({ t, fromClient: true, flags: ACK, seq: cSeq, ack: sSeq, window: 1026, payloadLength: 0, streamOffset: 0, options: null });
  // Stable sort: an ACK scheduled half a round trip later may overtake the sender's next segment.
  return out.sort((a, b) => a.t - b.t);
}

/** A connection attempt nobody answers: SYN, then retransmissions after 1, 2, 4 … s, until `horizon`. */
export function unansweredSyn(start: number, isnClient: number, mss: number, horizon: number, attempts = 3): Segment[] {
  const out: Segment[] = [];
  let wait = 1_000_000_000;
  let t = start;
  const opts = synOptions(mss);
  for (let i = 0; i < attempts && t < horizon; i++) {
    out.push({ t, fromClient: true, flags: SYN, seq: isnClient, ack: 0, window: 64240, payloadLength: 0, streamOffset: 0, options: opts });
    t += wait;
    wait *= 2;
  }
  return out;
}
