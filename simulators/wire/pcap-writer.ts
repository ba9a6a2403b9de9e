// Classic pcap and pcapng writers (research/captures.md §2). The simulator writes its wire
// with them, the benchmarks write large files with them, and the tests build odd but
// legal files (both byte orders, ns timestamps, several sections, SPB, obsolete PB,
// unknown blocks) and deliberately broken ones (rawBytes + the exported header builders).
//
// Speed: every record is laid out straight into the sink's one reusable buffer; a file
// sink flushes it with fs.writeSync when full. The packet path (PcapWriter.writePacket,
// PcapngWriter.writePacket) allocates nothing: no per-record Buffer, no BigInt, no object.
import { closeSync, openSync, writeSync } from 'node:fs';

export type ByteOrder = 'le' | 'be';

const MIB = 1 << 20;
const TWO32 = 4294967296;

// ---------------------------------------------------------------- sinks

/** Where a writer's bytes go. Writers reserve room, then write at `pos` into `buf`. */
export abstract class ByteSink {
  private buffer!: Buffer;
  /**
   * A DataView on `buf`: V8 inlines its setUint32; four of them (a record header) took
   * ~7 ns here against ~65 ns for Buffer#writeUInt32LE's checked calls.
   */
  view!: DataView;
  pos = 0;

  protected constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  get buf(): Buffer {
    return this.buffer;
  }

  set buf(b: Buffer) {
    this.buffer = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
  }

  /** After this, buf[pos, pos+n) is writable (`buf` may be a different Buffer than before). */
  abstract reserve(n: number): void;

  /** Total bytes written so far, flushed or not. */
  abstract get bytesWritten(): number;

  /** Flushes and releases; the sink takes no more bytes. */
  abstract close(): void;

  write(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
}

/** Collects everything in one growing Buffer (tests, small fixtures). */
export class MemorySink extends ByteSink {
  constructor(initialSize = 64 * 1024) {
    super(initialSize);
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  get bytesWritten(): number {
    return this.pos;
  }

  /** A view of the bytes written so far (valid after later writes too: growth copies). */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  close(): void {}
}

/** Streams to a file through one large reusable buffer and fs.writeSync. */
export class FileSink extends ByteSink {
  private fd: number | undefined;
  private flushed = 0;

  /** Default 4 MiB: large enough that the syscall cost vanishes, small enough to stay cache-friendly. */
  constructor(readonly path: string, bufferSize = 4 * MIB) {
    super(bufferSize);
    this.fd = openSync(path, 'w');
  }

  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    // A single record bigger than the buffer: grow once (rare; jumbo test records).
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
  }

  flush(): void {
    if (this.fd === undefined) throw new Error(`${this.path}: sink already closed`);
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.flushed += this.pos;
    this.pos = 0;
  }

  get bytesWritten(): number {
    return this.flushed + this.pos;
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function memoryBytes(sink: ByteSink): Buffer {
  if (!(sink instanceof MemorySink)) throw new Error('toBuffer() needs a MemorySink; this writer streams to a file');
  return sink.toBuffer();
}

// Field writers in either byte order; they range-check like Buffer's own methods.
function u16(buf: Buffer, off: number, v: number, le: boolean): void {
  if (le) buf.writeUInt16LE(v, off);
  else buf.writeUInt16BE(v, off);
}
function u32(buf: Buffer, off: number, v: number, le: boolean): void {
  if (le) buf.writeUInt32LE(v, off);
  else buf.writeUInt32BE(v, off);
}
function u64(buf: Buffer, off: number, v: bigint, le: boolean): void {
  if (le) buf.writeBigUInt64LE(BigInt.asUintN(64, v), off);
  else buf.writeBigUInt64BE(BigInt.asUintN(64, v), off);
}

/** Copies data[0, n) to buf at off (TypedArray#set: V8 inlines it; a byte loop was ~5x slower for 64 B). */
function copyInto(buf: Buffer, off: number, data: Uint8Array, n: number): void {
  buf.set(n === data.length ? data : data.subarray(0, n), off);
}

// ---------------------------------------------------------------- classic pcap

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;

export interface PcapHeaderOptions {
  linkType: number;
  /** Default 262144 (what tcpdump writes). */
  snaplen?: number;
  /** Nanosecond magic 0xa1b23c4d instead of microseconds. */
  nanoseconds?: boolean;
  /** Default 'le'. */
  byteOrder?: ByteOrder;
  /** Written verbatim into the LinkType field's upper 16 bits (FCS length, R/P bits). */
  linkTypeHighBits?: number;
  versionMajor?: number;
  versionMinor?: number;
}

/** The 24-byte classic pcap file header. */
export function pcapFileHeader(o: PcapHeaderOptions): Buffer {
  const le = (o.byteOrder ?? 'le') === 'le';
  const h = Buffer.alloc(24);
  u32(h, 0, o.nanoseconds ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
  u16(h, 4, o.versionMajor ?? 2, le);
  u16(h, 6, o.versionMinor ?? 4, le);
  // 8: Reserved1 (thiszone), 12: Reserved2 (sigfigs): zero.
  u32(h, 16, o.snaplen ?? 262144, le);
  u32(h, 20, (((o.linkTypeHighBits ?? 0) << 16) | (o.linkType & 0xffff)) >>> 0, le);
  return h;
}

/** A 16-byte record header with any lengths, e.g. one claiming more bytes than follow. */
export function pcapRecordHeader(byteOrder: ByteOrder, tsSeconds: number, tsFraction: number, capturedLength: number, originalLength: number): Buffer {
  const le = byteOrder === 'le';
  const h = Buffer.alloc(16);
  u32(h, 0, tsSeconds, le);
  u32(h, 4, tsFraction, le);
  u32(h, 8, capturedLength, le);
  u32(h, 12, originalLength, le);
  return h;
}

export class PcapWriter {
  readonly byteOrder: ByteOrder;
  readonly snaplen: number;
  readonly nanoseconds: boolean;
  private readonly le: boolean;
  private count = 0;

  /** Writes the file header at once. */
  constructor(options: PcapHeaderOptions, readonly sink: ByteSink = new MemorySink()) {
    this.byteOrder = options.byteOrder ?? 'le';
    this.le = this.byteOrder === 'le';
    this.snaplen = options.snaplen ?? 262144;
    this.nanoseconds = options.nanoseconds ?? false;
    sink.write(pcapFileHeader(options));
  }

  static toFile(path: string, options: PcapHeaderOptions, bufferSize?: number): PcapWriter {
    return new PcapWriter(options, new FileSink(path, bufferSize));
  }

  /**
   * One record. `tsFraction` is µs or ns after `tsSeconds`, per the file's magic. Data
   * longer than the snaplen is cut to it; `origLen` defaults to the full data length.
   */
  writePacket(data: Uint8Array, tsSeconds: number, tsFraction: number, origLen: number = data.length): void {
    // DataView stores wrap silently, so range-check what the caller controls.
    if (!(tsSeconds >= 0 && tsSeconds <= 0xffffffff && tsFraction >= 0 && tsFraction <= 0xffffffff && origLen >= 0 && origLen <= 0xffffffff)) {
      throw new RangeError(`pcap record field out of range (ts ${tsSeconds}.${tsFraction}, origLen ${origLen})`);
    }
    const cap = this.snaplen > 0 && data.length > this.snaplen ? this.snaplen : data.length;
    const sink = this.sink;
    sink.reserve(16 + cap);
    const v = sink.view;
    const p = sink.pos;
    const le = this.le;
    v.setUint32(p, tsSeconds, le);
    v.setUint32(p + 4, tsFraction, le);
    v.setUint32(p + 8, cap, le);
    v.setUint32(p + 12, origLen, le);
    copyInto(sink.buf, p + 16, data, cap);
    sink.pos = p + 16 + cap;
    this.count++;
  }

  /** Appends bytes verbatim: for deliberately broken files. */
  rawBytes(bytes: Uint8Array): void {
    this.sink.write(bytes);
  }

  get packetsWritten(): number {
    return this.count;
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten;
  }

  toBuffer(): Buffer {
    return memoryBytes(this.sink);
  }

  close(): void {
    this.sink.close();
  }
}

// ---------------------------------------------------------------- pcapng

export const BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 1,
  PB_OBSOLETE: 2,
  SPB: 3,
  NRB: 4,
  ISB: 5,
  EPB: 6,
  DSB: 0x0a,
  CUSTOM: 0x0bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

const BOM = 0x1a2b3c4d;

/** Option codes used here (draft-ietf-opsawg-pcapng §4.2 and the per-block lists). */
export const OPT = {
  END: 0, COMMENT: 1,
  SHB_HARDWARE: 2, SHB_OS: 3, SHB_USERAPPL: 4,
  IF_NAME: 2, IF_DESCRIPTION: 3, IF_TSRESOL: 9, IF_FCSLEN: 13, IF_TSOFFSET: 14,
  EPB_FLAGS: 2, EPB_HASH: 3, EPB_DROPCOUNT: 4, EPB_PACKETID: 5, EPB_QUEUE: 6, EPB_VERDICT: 7,
  PACK_FLAGS: 2, PACK_HASH: 3,
} as const;

/** epb_flags direction bits. */
export const EPB_INBOUND = 1;
export const EPB_OUTBOUND = 2;

/**
 * An option. `value`: raw bytes (already in the section's byte order), a string (UTF-8),
 * a number (written as u32) or a bigint (written as u64) in the section's byte order.
 */
export interface PcapngOption {
  code: number;
  value: Uint8Array | string | number | bigint;
}

function optionValue(v: PcapngOption['value'], le: boolean): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'number') { const b = Buffer.alloc(4); u32(b, 0, v >>> 0, le); return b; }
  if (typeof v === 'bigint') { const b = Buffer.alloc(8); u64(b, 0, v, le); return b; }
  return v;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Encoded options, each padded to 4, with opt_endofopt unless told not to; empty list → no bytes. */
export function pcapngOptions(byteOrder: ByteOrder, options: PcapngOption[], endOfOptions = true): Buffer {
  if (options.length === 0) return Buffer.alloc(0);
  const le = byteOrder === 'le';
  const values = options.map((o) => optionValue(o.value, le));
  const size = values.reduce((s, v) => s + 4 + pad4(v.length), 0) + (endOfOptions ? 4 : 0);
  const b = Buffer.alloc(size); // zero-filled: padding and the end option are zeros
  let off = 0;
  options.forEach((o, i) => {
    const v = values[i]!;
    u16(b, off, o.code, le);
    u16(b, off + 2, v.length, le);
    b.set(v, off + 4);
    off += 4 + pad4(v.length);
  });
  return b;
}

/**
 * A whole block: type, total length, body padded to 4, total length. `totalLength` and
 * `trailerLength` override the two length fields to build broken blocks.
 */
export function pcapngBlock(byteOrder: ByteOrder, type: number, body: Uint8Array, overrides: { totalLength?: number; trailerLength?: number } = {}): Buffer {
  const le = byteOrder === 'le';
  const total = 12 + pad4(body.length);
  const b = Buffer.alloc(total);
  u32(b, 0, type >>> 0, le);
  u32(b, 4, overrides.totalLength ?? total, le);
  b.set(body, 8);
  u32(b, total - 4, overrides.trailerLength ?? total, le);
  return b;
}

export interface SectionOptions {
  /** Default 'le'. */
  byteOrder?: ByteOrder;
  comment?: string;
  hardware?: string;
  os?: string;
  userAppl?: string;
  /** Default -1 (unknown). */
  sectionLength?: bigint;
  majorVersion?: number;
  minorVersion?: number;
  options?: PcapngOption[];
}

export function pcapngSectionHeader(o: SectionOptions = {}): Buffer {
  const order = o.byteOrder ?? 'le';
  const le = order === 'le';
  const opts: PcapngOption[] = [];
  if (o.comment !== undefined) opts.push({ code: OPT.COMMENT, value: o.comment });
  if (o.hardware !== undefined) opts.push({ code: OPT.SHB_HARDWARE, value: o.hardware });
  if (o.os !== undefined) opts.push({ code: OPT.SHB_OS, value: o.os });
  if (o.userAppl !== undefined) opts.push({ code: OPT.SHB_USERAPPL, value: o.userAppl });
  opts.push(...(o.options ?? []));
  const optBytes = pcapngOptions(order, opts);
  const body = Buffer.alloc(16 + optBytes.length);
  u32(body, 0, BOM, le);
  u16(body, 4, o.majorVersion ?? 1, le);
  u16(body, 6, o.minorVersion ?? 0, le);
  u64(body, 8, o.sectionLength ?? -1n, le);
  body.set(optBytes, 16);
  return pcapngBlock(order, BLOCK.SHB, body);
}

export interface InterfaceOptions {
  linkType: number;
  /** 0 = unlimited (default). */
  snaplen?: number;
  name?: string;
  description?: string;
  /**
   * The raw if_tsresol byte: n means 10^-n s, 0x80|n means 2^-n s. Absent = 6 (µs) and no
   * option is written.
   */
  tsresol?: number;
  /** if_tsoffset, seconds added to every timestamp of this interface. */
  tsoffset?: bigint;
  fcslen?: number;
  comment?: string;
  options?: PcapngOption[];
}

/**
 * How one interface turns (seconds, nanoseconds) into its timestamp units. The number
 * path is exact while units/second ≤ 2^30 (10^-9…10^0, 2^-0…2^-23); BigInt otherwise.
 */
interface TsUnit {
  perSecond: number;
  perSecondBig: bigint;
  decimal: boolean;
  /** 10^(9-n) for decimal n ≤ 9: ns per unit. */
  nsPerUnit: number;
  fast: boolean;
  offsetSeconds: number;
  offsetBig: bigint;
  snaplen: number;
}

function tsUnit(o: InterfaceOptions): TsUnit {
  const raw = o.tsresol ?? 6;
  const decimal = (raw & 0x80) === 0;
  const exp = raw & 0x7f;
  const perSecondBig = decimal ? 10n ** BigInt(exp) : 1n << BigInt(exp);
  const perSecond = Number(perSecondBig);
  const offsetBig = o.tsoffset ?? 0n;
  return {
    perSecond,
    perSecondBig,
    decimal,
    nsPerUnit: decimal && exp <= 9 ? 10 ** (9 - exp) : 0,
    fast: decimal ? exp <= 9 : exp <= 23,
    offsetSeconds: Number(offsetBig),
    offsetBig,
    snaplen: o.snaplen ?? 0,
  };
}

/** An EPB/PB timestamp: raw units of the interface's if_tsresol, or absolute time (if_tsoffset is subtracted). */
export type PcapngTimestamp = bigint | { seconds: number; nanoseconds: number };

export interface EpbOptions {
  /** Default: data length. */
  origLen?: number;
  /** epb_flags, e.g. EPB_INBOUND. */
  flags?: number;
  comment?: string;
  dropCount?: bigint;
  packetId?: bigint;
  queue?: number;
  options?: PcapngOption[];
}

export interface ObsoletePacketOptions {
  origLen?: number;
  /** The 16-bit drops count in the block header. */
  drops?: number;
  /** pack_flags option. */
  flags?: number;
  comment?: string;
}

export class PcapngWriter {
  private le = true;
  private order: ByteOrder = 'le';
  private ifaces: TsUnit[] = [];
  // Timestamp halves of the last conversion; fields, not a returned object, so the hot path allocates nothing.
  private tsHigh = 0;
  private tsLow = 0;
  private count = 0;

  /** Writes the first section header at once. */
  constructor(section: SectionOptions = {}, readonly sink: ByteSink = new MemorySink()) {
    this.startSection(section);
  }

  static toFile(path: string, section: SectionOptions = {}, bufferSize?: number): PcapngWriter {
    return new PcapngWriter(section, new FileSink(path, bufferSize));
  }

  get byteOrder(): ByteOrder {
    return this.order;
  }

  /** A new SHB (any byte order); interface ids restart at 0, as in a concatenated file. */
  startSection(section: SectionOptions = {}): void {
    this.order = section.byteOrder ?? 'le';
    this.le = this.order === 'le';
    this.ifaces = [];
    this.sink.write(pcapngSectionHeader(section));
  }

  /** Writes an IDB; returns its interface id within the current section. */
  addInterface(o: InterfaceOptions): number {
    const opts: PcapngOption[] = [];
    if (o.name !== undefined) opts.push({ code: OPT.IF_NAME, value: o.name });
    if (o.description !== undefined) opts.push({ code: OPT.IF_DESCRIPTION, value: o.description });
    if (o.tsresol !== undefined) opts.push({ code: OPT.IF_TSRESOL, value: Uint8Array.of(o.tsresol) });
    if (o.fcslen !== undefined) opts.push({ code: OPT.IF_FCSLEN, value: Uint8Array.of(o.fcslen) });
    if (o.tsoffset !== undefined) opts.push({ code: OPT.IF_TSOFFSET, value: o.tsoffset });
    if (o.comment !== undefined) opts.push({ code: OPT.COMMENT, value: o.comment });
    opts.push(...(o.options ?? []));
    const optBytes = pcapngOptions(this.order, opts);
    const body = Buffer.alloc(8 + optBytes.length);
    u16(body, 0, o.linkType, this.le);
    u32(body, 4, o.snaplen ?? 0, this.le);
    body.set(optBytes, 8);
    this.sink.write(pcapngBlock(this.order, BLOCK.IDB, body));
    this.ifaces.push(tsUnit(o));
    return this.ifaces.length - 1;
  }

  private iface(id: number): TsUnit {
    const t = this.ifaces[id];
    if (!t) throw new Error(`interface ${id} has no IDB in this section`);
    return t;
  }

  /** Sets tsHigh/tsLow from absolute time; exact, allocation-free on the number path. */
  private convert(t: TsUnit, seconds: number, nanoseconds: number): void {
    if (!t.fast) return this.convertBig(t, BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds));
    const sec = seconds - t.offsetSeconds;
    let frac: number;
    if (t.decimal) frac = Math.floor(nanoseconds / t.nsPerUnit);
    else {
      const x = nanoseconds * t.perSecond; // < 2^53 for 2^-n, n ≤ 23
      frac = Math.floor(x / 1e9);
      if (frac * 1e9 > x) frac--; // guard the division's rounding
    }
    // units = sec * perSecond + frac, split into 32-bit halves without leaving 2^53:
    // sec = sh * 2^16 + sl, so units = (sh * perSecond) * 2^16 + (sl * perSecond + frac).
    // (No `%` on doubles here: it compiles to a slow fmod call; dividing by powers of two is exact.)
    const sh = Math.floor(sec / 65536);
    const sl = sec - sh * 65536;
    const t0 = sl * t.perSecond + frac;
    const u = sh * t.perSecond;
    const uHi = Math.floor(u / 65536);
    const uLo = u - uHi * 65536;
    const t0Hi = Math.floor(t0 / TWO32);
    let lo = t0 - t0Hi * TWO32 + uLo * 65536;
    let hi = t0Hi + uHi;
    if (lo >= TWO32) { lo -= TWO32; hi += 1; }
    this.tsHigh = hi;
    this.tsLow = lo;
  }

  private convertBig(t: TsUnit, ns: bigint): void {
    const units = ((ns - t.offsetBig * 1_000_000_000n) * t.perSecondBig) / 1_000_000_000n;
    this.setUnits(units);
  }

  private setUnits(units: bigint): void {
    const u = BigInt.asUintN(64, units);
    this.tsHigh = Number(u >> 32n);
    this.tsLow = Number(u & 0xffffffffn);
  }

  private timestamp(t: TsUnit, ts: PcapngTimestamp): void {
    if (typeof ts === 'bigint') this.setUnits(ts);
    else this.convert(t, ts.seconds, ts.nanoseconds);
  }

  /** The fast path: an EPB without options, timestamp as absolute seconds + nanoseconds. */
  writePacket(interfaceId: number, data: Uint8Array, seconds: number, nanoseconds: number, origLen: number = data.length): void {
    const t = this.iface(interfaceId);
    this.convert(t, seconds, nanoseconds);
    this.packetRecord(BLOCK.EPB, interfaceId, t, data, origLen, null);
  }

  /** An EPB with any timestamp form and options. */
  writeEnhancedPacket(interfaceId: number, data: Uint8Array, ts: PcapngTimestamp, o: EpbOptions = {}): void {
    const t = this.iface(interfaceId);
    this.timestamp(t, ts);
    let opts: Buffer | null = null;
    if (o.flags !== undefined || o.comment !== undefined || o.dropCount !== undefined || o.packetId !== undefined || o.queue !== undefined || o.options) {
      const list: PcapngOption[] = [];
      if (o.comment !== undefined) list.push({ code: OPT.COMMENT, value: o.comment });
      if (o.flags !== undefined) list.push({ code: OPT.EPB_FLAGS, value: o.flags });
      if (o.dropCount !== undefined) list.push({ code: OPT.EPB_DROPCOUNT, value: o.dropCount });
      if (o.packetId !== undefined) list.push({ code: OPT.EPB_PACKETID, value: o.packetId });
      if (o.queue !== undefined) list.push({ code: OPT.EPB_QUEUE, value: o.queue });
      list.push(...(o.options ?? []));
      opts = pcapngOptions(this.order, list);
    }
    this.packetRecord(BLOCK.EPB, interfaceId, t, data, o.origLen ?? data.length, opts);
  }

  /** The obsolete Packet Block (type 2): 16-bit interface id and drops count, pack_flags option. */
  writeObsoletePacket(interfaceId: number, data: Uint8Array, ts: PcapngTimestamp, o: ObsoletePacketOptions = {}): void {
    const t = this.iface(interfaceId);
    this.timestamp(t, ts);
    const list: PcapngOption[] = [];
    if (o.comment !== undefined) list.push({ code: OPT.COMMENT, value: o.comment });
    if (o.flags !== undefined) list.push({ code: OPT.PACK_FLAGS, value: o.flags });
    const opts = list.length ? pcapngOptions(this.order, list) : null;
    this.packetRecord(BLOCK.PB_OBSOLETE, interfaceId | ((o.drops ?? 0) << 16), t, data, o.origLen ?? data.length, opts);
  }

  /**
   * EPB and PB share a layout: type, len, iface (PB: iface u16 + drops u16), ts high, ts
   * low, caplen, origlen, data, pad, options, len. For PB the id word packs both 16-bit fields.
   */
  private packetRecord(type: number, idWord: number, t: TsUnit, data: Uint8Array, origLen: number, opts: Buffer | null): void {
    const cap = t.snaplen > 0 && data.length > t.snaplen ? t.snaplen : data.length;
    const padded = (cap + 3) & ~3;
    const total = 32 + padded + (opts ? opts.length : 0);
    if (!(origLen >= 0 && origLen <= 0xffffffff)) throw new RangeError(`origLen out of range: ${origLen}`);
    if (!(this.tsHigh >= 0 && this.tsHigh <= 0xffffffff)) throw new RangeError('timestamp does not fit 64 bits of the interface\'s units');
    const sink = this.sink;
    sink.reserve(total);
    const v = sink.view;
    const buf = sink.buf;
    const p = sink.pos;
    const le = this.le;
    v.setUint32(p, type, le);
    v.setUint32(p + 4, total, le);
    if (type === BLOCK.PB_OBSOLETE) {
      v.setUint16(p + 8, idWord & 0xffff, le);
      v.setUint16(p + 10, idWord >>> 16, le);
    } else v.setUint32(p + 8, idWord, le);
    v.setUint32(p + 12, this.tsHigh, le);
    v.setUint32(p + 16, this.tsLow, le);
    v.setUint32(p + 20, cap, le);
    v.setUint32(p + 24, origLen, le);
    copyInto(buf, p + 28, data, cap);
    for (let i = p + 28 + cap; i < p + 28 + padded; i++) buf[i] = 0;
    let q = p + 28 + padded;
    if (opts) { buf.set(opts, q); q += opts.length; }
    v.setUint32(q, total, le);
    sink.pos = q + 4;
    this.count++;
  }

  /** An SPB: interface 0 of the section, no timestamp, data cut to that interface's snaplen. */
  writeSimplePacket(data: Uint8Array, origLen: number = data.length): void {
    const t = this.iface(0);
    const cap = t.snaplen > 0 && data.length > t.snaplen ? t.snaplen : data.length;
    const body = Buffer.alloc(4 + cap);
    u32(body, 0, origLen, this.le);
    body.set(data.subarray(0, cap), 4);
    this.sink.write(pcapngBlock(this.order, BLOCK.SPB, body));
    this.count++;
  }

  /** Any block, in the section's byte order: unknown types, NRB, ISB, DSB… Options follow the body. */
  writeBlock(type: number, body: Uint8Array, options: PcapngOption[] = []): void {
    const opts = pcapngOptions(this.order, options);
    this.sink.write(pcapngBlock(this.order, type, Buffer.concat([Buffer.from(body.buffer, body.byteOffset, body.length), Buffer.alloc(pad4(body.length) - body.length), opts])));
  }

  /** A Custom Block (0x0BAD, or 0x40000BAD when it must not be copied) for a Private Enterprise Number. */
  writeCustomBlock(pen: number, data: Uint8Array, copyable = true): void {
    const body = Buffer.alloc(4 + data.length);
    u32(body, 0, pen, this.le);
    body.set(data, 4);
    this.sink.write(pcapngBlock(this.order, copyable ? BLOCK.CUSTOM : BLOCK.CUSTOM_NOCOPY, body));
  }

  /** Appends bytes verbatim: for deliberately broken files. */
  rawBytes(bytes: Uint8Array): void {
    this.sink.write(bytes);
  }

  /** Packets written (EPB, PB, SPB). */
  get packetsWritten(): number {
    return this.count;
  }

  get bytesWritten(): number {
    return this.sink.bytesWritten;
  }

  toBuffer(): Buffer {
    return memoryBytes(this.sink);
  }

  close(): void {
    this.sink.close();
  }
}
