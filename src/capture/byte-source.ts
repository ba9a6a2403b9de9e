// Byte sources for the capture reader: a plain file read with readSync into the caller's
// buffer (the fast path: no stream machinery, no per-chunk allocation), or a gzip file
// inflated as a stream (memory stays flat whatever the file size).
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../util/errors.js';

export interface ByteSource {
  /** Reads up to `length` bytes into `buf` at `offset`; 0 means end of input. */
  read(buf: Buffer, offset: number, length: number): number | Promise<number>;
  close(): void;
  readonly compressed: boolean;
}

export class FileSource implements ByteSource {
  readonly compressed = false;
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
  }
  read(buf: Buffer, offset: number, length: number): number {
    return readSync(this.fd, buf, offset, length, null);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Streams a gzip file; decompression errors become an InputError naming the file. */
export class GzipSource implements ByteSource {
  readonly compressed = true;
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer | undefined;
  private pendingPos = 0;
  private readonly stream;
  constructor(readonly path: string) {
    this.stream = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 18 }));
    this.chunks = this.stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }
  async read(buf: Buffer, offset: number, length: number): Promise<number> {
    let copied = 0;
    while (copied < length) {
      if (!this.pending || this.pendingPos >= this.pending.length) {
        let next: IteratorResult<Buffer>;
        try {
          next = await this.chunks.next();
        } catch (err) {
          throw new InputError(`${this.path}: gzip stream is corrupt: ${(err as Error).message}`);
        }
        if (next.done) break;
        this.pending = next.value;
        this.pendingPos = 0;
        // Hand back what we have rather than waiting for a full buffer.
        if (copied > 0) continue;
      }
      const n = this.pending.copy(buf, offset + copied, this.pendingPos, Math.min(this.pending.length, this.pendingPos + length - copied));
      this.pendingPos += n;
      copied += n;
    }
    return copied;
  }
  close(): void {
    this.stream.destroy();
  }
}

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
const LZ4_MAGIC = [0x04, 0x22, 0x4d, 0x18];

function startsWith(head: Buffer, magic: number[]): boolean {
  return magic.every((b, i) => head[i] === b);
}

/** Opens a capture, sniffing compression by content (not by file name). */
export function openCaptureSource(path: string): ByteSource {
  const head = Buffer.alloc(4);
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`);
    if (code === 'EISDIR') throw new InputError(`${path}: is a directory, expected a capture file`);
    if (code === 'EACCES') throw new InputError(`${path}: permission denied`);
    throw new InputError(`${path}: cannot open: ${(err as Error).message}`);
  }
  if (n >= 2 && startsWith(head, GZIP_MAGIC)) return new GzipSource(path);
  if (n >= 4 && startsWith(head, ZSTD_MAGIC)) {
    throw new InputError(`${path}: offset 0: zstd-compressed capture: decompress it first (zstd -d), expected pcap, pcapng or gzip`);
  }
  if (n >= 4 && startsWith(head, LZ4_MAGIC)) {
    throw new InputError(`${path}: offset 0: lz4-compressed capture: decompress it first (lz4 -d), expected pcap, pcapng or gzip`);
  }
  return new FileSource(path);
}

/** An in-memory capture (tests, fuzzing, the simulator's own wire). */
export class BufferSource implements ByteSource {
  readonly compressed = false;
  private pos = 0;
  constructor(private readonly data: Uint8Array) {}
  read(buf: Buffer, offset: number, length: number): number {
    const n = Math.min(length, this.data.length - this.pos);
    buf.set(this.data.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
    return n;
  }
  close(): void {}
}
