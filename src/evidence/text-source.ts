// Text evidence as it comes off real servers, turned into plain UTF-8 bytes: gzip'd rotated
// logs (`vizqlserver_node1-0.log.3.gz`), Windows line endings, and PowerShell exports, which
// Windows PowerShell 5 writes as UTF-16 LE with a BOM (`> file.txt`, `Out-File`) and some
// tools as UTF-16 BE or BOM-less UTF-16. Everything is told apart by content (magic bytes,
// BOM, the pattern of zero bytes), never by file name.
//
// A source fills a caller's buffer (`fill`), so a scanner can keep its own reused buffer and
// memory stays flat whatever the file weighs; plain UTF-8 files are read with fs.readSync
// straight into that buffer (no stream, no copy).
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import { createGunzip } from 'node:zlib';
import { FormatError, fsReason } from '../util/errors.js';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface EncodingSniff {
  encoding: TextEncoding;
  /** Bytes of byte-order mark at the start (0 when there is none). */
  bomLength: number;
}

export interface TextSourceInfo {
  gzip: boolean;
  encoding: TextEncoding;
  bom: boolean;
}

/** gzip member header: ID1 ID2 CM=deflate. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08;
}

/**
 * The encoding of text that starts with `head`: a BOM decides; without one, UTF-16 shows as
 * a zero byte in every other position (ASCII-range text, which logs and exports are), so
 * zeros at odd offsets mean little-endian, at even offsets big-endian. Anything else is
 * read as UTF-8. Pure.
 */
export function sniffEncoding(head: Uint8Array): EncodingSniff {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  const n = Math.min(head.length, 1024) & ~1;
  if (n < 4) return { encoding: 'utf-8', bomLength: 0 };
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (head[i] === 0) evenZeros++;
    if (head[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  if (oddZeros >= pairs * 0.4 && evenZeros <= pairs * 0.05) return { encoding: 'utf-16le', bomLength: 0 };
  if (evenZeros >= pairs * 0.4 && oddZeros <= pairs * 0.05) return { encoding: 'utf-16be', bomLength: 0 };
  return { encoding: 'utf-8', bomLength: 0 };
}

/** A file's text as UTF-8 bytes, delivered into the caller's buffer. */
export interface Utf8Source {
  readonly path: string;
  readonly info: TextSourceInfo;
  /** Raw bytes read from the file so far (compressed size for gzip): for progress. */
  readonly rawBytesRead: number;
  /** Writes up to `buf.length - offset` bytes of UTF-8 at `offset`; 0 at the end. */
  fill(buf: Buffer, offset: number): Promise<number>;
  close(): void;
}

function openError(path: string, err: unknown): never {
  throw new FormatError(path, 0, 'file', 'a readable file', fsReason(err));
}

/** Plain UTF-8: fs.readSync into the caller's buffer; a UTF-8 BOM is skipped. */
class PlainUtf8Source implements Utf8Source {
  readonly info: TextSourceInfo;
  rawBytesRead = 0;
  private position: number;

  constructor(
    readonly path: string,
    private fd: number,
    bomLength: number,
  ) {
    this.info = { gzip: false, encoding: 'utf-8', bom: bomLength > 0 };
    this.position = bomLength;
    this.rawBytesRead = bomLength;
  }

  async fill(buf: Buffer, offset: number): Promise<number> {
    if (this.fd < 0 || offset >= buf.length) return 0;
    const n = readSync(this.fd, buf, offset, buf.length - offset, this.position);
    this.position += n;
    this.rawBytesRead += n;
    return n;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Everything else (gzip, UTF-16): a stream of raw chunks, decompressed and/or transcoded to
 * UTF-8, copied into the caller's buffer. UTF-16 is decoded with a streaming TextDecoder so
 * a character split across chunks survives; unpaired surrogates become U+FFFD.
 */
class DecodedSource implements Utf8Source {
  rawBytesRead = 0;
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  private decoder: TextDecoder | undefined;
  private skipBom: number;

  constructor(
    readonly path: string,
    readonly info: TextSourceInfo,
    private chunks: AsyncIterator<Buffer>,
    first: Buffer,
    bomLength: number,
    private onClose: () => void,
  ) {
    if (info.encoding !== 'utf-8') this.decoder = new TextDecoder(info.encoding, { ignoreBOM: true });
    this.skipBom = bomLength;
    this.pending = this.transcode(first, false);
  }

  private transcode(raw: Buffer, end: boolean): Buffer {
    let body = raw;
    if (this.skipBom > 0) {
      const cut = Math.min(this.skipBom, body.length);
      body = body.subarray(cut);
      this.skipBom -= cut;
    }
    if (!this.decoder) return body;
    const text = this.decoder.decode(body, { stream: !end });
    return Buffer.from(text, 'utf8');
  }

  async fill(buf: Buffer, offset: number): Promise<number> {
    let written = 0;
    const room = buf.length - offset;
    while (written < room) {
      if (this.pending.length === 0) {
        if (this.done) break;
        let r: IteratorResult<Buffer>;
        try {
          r = await this.chunks.next();
        } catch (err) {
          throw new FormatError(this.path, this.rawBytesRead, 'gzip stream', 'a complete gzip file', (err as Error).message);
        }
        if (r.done) {
          this.done = true;
          this.pending = this.decoder ? this.transcode(Buffer.alloc(0), true) : Buffer.alloc(0);
          continue;
        }
        this.pending = this.transcode(r.value, false);
        continue;
      }
      const n = Math.min(room - written, this.pending.length);
      this.pending.copy(buf, offset + written, 0, n);
      this.pending = this.pending.subarray(n);
      written += n;
    }
    return written;
  }

  close(): void {
    this.onClose();
  }
}

/** Opens a text file as UTF-8 bytes, whatever its compression and encoding. */
export async function openUtf8Source(path: string): Promise<Utf8Source> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    openError(path, err);
  }
  const head = Buffer.alloc(1024);
  let headLength: number;
  try {
    headLength = readSync(fd, head, 0, head.length, 0);
  } catch (err) {
    closeSync(fd);
    openError(path, err);
  }
  const gzip = isGzip(head.subarray(0, headLength));
  if (!gzip) {
    const sniff = sniffEncoding(head.subarray(0, headLength));
    if (sniff.encoding === 'utf-8') return new PlainUtf8Source(path, fd, sniff.bomLength);
    closeSync(fd);
    const stream = createReadStream(path, { highWaterMark: 1 << 20 });
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const source = new DecodedSource(path, { gzip: false, encoding: sniff.encoding, bom: sniff.bomLength > 0 }, counting(it, (n) => (source.rawBytesRead += n)), Buffer.alloc(0), sniff.bomLength, () => stream.destroy());
    return source;
  }
  closeSync(fd);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let rawRead = 0;
  raw.on('data', (c: string | Buffer) => {
    rawRead += c.length;
  });
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.on('error', (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  const it = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  // The encoding is a property of the decompressed text: sniff its first chunk.
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (err) {
    raw.destroy();
    throw new FormatError(path, 0, 'gzip stream', 'a complete gzip file', (err as Error).message);
  }
  const firstChunk = first.done ? Buffer.alloc(0) : first.value;
  const sniff = sniffEncoding(firstChunk.subarray(0, 1024));
  const source: DecodedSource = new DecodedSource(
    path,
    { gzip: true, encoding: sniff.encoding, bom: sniff.bomLength > 0 },
    first.done ? emptyIterator() : it,
    firstChunk,
    sniff.bomLength,
    () => {
      raw.destroy();
      gunzip.destroy();
    },
  );
  Object.defineProperty(source, 'rawBytesRead', { get: () => rawRead });
  return source;
}

function counting(it: AsyncIterator<Buffer>, onBytes: (n: number) => void): AsyncIterator<Buffer> {
  return {
    async next() {
      const r = await it.next();
      if (!r.done) onBytes(r.value.length);
      return r;
    },
  };
}

function emptyIterator(): AsyncIterator<Buffer> {
  return { next: async () => ({ done: true, value: undefined }) };
}

/**
 * The whole text of a small document (status output, JSON export), decoded. Bigger than
 * `maxBytes` of UTF-8 is a FormatError: such documents are small, and a multi-GB "JSON
 * export" is not something to hold in memory.
 */
export async function readTextFile(path: string, maxBytes = 64 << 20): Promise<{ text: string; info: TextSourceInfo }> {
  const source = await openUtf8Source(path);
  try {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20);
      const n = await source.fill(buf, 0);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FormatError(path, maxBytes, 'size', `a document of at most ${maxBytes} bytes of text`, `more than ${maxBytes} bytes`);
      parts.push(buf.subarray(0, n));
    }
    return { text: Buffer.concat(parts, total).toString('utf8'), info: source.info };
  } finally {
    source.close();
  }
}

/** The first `maxBytes` of a file's text (decoded), for telling what kind of evidence it is. */
export async function readTextHead(path: string, maxBytes = 64 << 10): Promise<{ text: string; bytes: Buffer; info: TextSourceInfo; complete: boolean }> {
  const source = await openUtf8Source(path);
  try {
    const buf = Buffer.allocUnsafe(maxBytes);
    let n = 0;
    for (;;) {
      const got = await source.fill(buf, n);
      if (got === 0) break;
      n += got;
      if (n >= maxBytes) break;
    }
    let complete = n < maxBytes;
    if (!complete) {
      // One more byte tells a file of exactly maxBytes from a longer one.
      const probe = Buffer.allocUnsafe(1);
      complete = (await source.fill(probe, 0)) === 0;
    }
    const bytes = buf.subarray(0, n);
    // Cut back to a whole UTF-8 character so the head decodes cleanly.
    let end = n;
    if (!complete) {
      let back = 0;
      while (back < 4 && end - back - 1 >= 0 && (bytes[end - back - 1]! & 0xc0) === 0x80) back++;
      if (end - back - 1 >= 0 && bytes[end - back - 1]! >= 0xc0) end = end - back - 1;
    }
    return { text: bytes.toString('utf8', 0, end), bytes, info: source.info, complete };
  } finally {
    source.close();
  }
}

/**
 * The first `n` bytes of a file as stored, or of its content when it is gzip-compressed:
 * enough to see a capture's magic number under gzip.
 */
export async function readRawHead(path: string, n = 64): Promise<{ bytes: Buffer; gzip: boolean; size: number }> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    openError(path, err);
  }
  const head = Buffer.alloc(Math.max(n, 3));
  let got: number;
  try {
    got = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const { size } = statSync(path);
  if (!isGzip(head.subarray(0, got))) return { bytes: head.subarray(0, Math.min(got, n)), gzip: false, size };
  const out: Buffer[] = [];
  let total = 0;
  await new Promise<void>((resolve) => {
    const raw = createReadStream(path, { start: 0, end: (1 << 20) - 1 });
    const gunzip = createGunzip();
    const finish = (): void => {
      raw.destroy();
      gunzip.destroy();
      resolve();
    };
    gunzip.on('data', (c: Buffer) => {
      out.push(c);
      total += c.length;
      if (total >= n) finish();
    });
    gunzip.on('end', finish);
    gunzip.on('error', finish);
    raw.on('error', finish);
    raw.pipe(gunzip);
  });
  return { bytes: Buffer.concat(out).subarray(0, n), gzip: true, size };
}
