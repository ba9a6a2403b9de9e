// An encrypted extract on disk (`extracts/<site>/<name>.hyper`), written and read as a
// stream so a GB-size extract is published, opened and re-encrypted (reencryptor.ts) in flat memory.
//
//   file   := magic "CGHYPER\x01" (8) | u32be headerLength | header (JSON, UTF-8) | chunk+
//   header := { format: "cryptgate/extract@1", extractId, site, name, mekId,
//               wrappedDataKey: {iv,tag,ct}  (AES-256-GCM under the MEK, AAD = extract id + MEK id),
//               cipher: "AES-256-GCM", chunkSize, plainSize, createdAt, encryptedAt }
//   chunk  := u8 flags (bit 0: final) | u32be plainLength | tag (16) | ciphertext (plainLength)
//
// Each chunk is AES-256-GCM under the extract's own data key. Its nonce is the chunk index
// (4 zero bytes, u64be index): unique because every data key encrypts exactly one body once
// (re-encryption draws a new data key). Its AAD binds the extract id, the chunk index and the
// final flag, so chunks cannot be reordered, moved between extracts, dropped or truncated
// after without failing authentication. Every chunk but the last holds exactly chunkSize
// bytes; the final one 0..chunkSize; nothing may follow it.
import { createCipheriv, createDecipheriv, createHash, randomFillSync, randomUUID, type Hash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync } from 'node:fs';
import { InputError } from '../../src/util/errors.js';
import { dataKeyAad, newKey, open, seal, UnwrapError } from './crypto.js';
import { CHUNK_HEAD, chunkParams, FINAL_FLAG } from './extract-chunks.js';
import { renameDurable, removeQuietly, tempPathFor, writeAll } from './fs-safe.js';
import type { SealedBox } from './model.js';
import { reportKey } from './test-hooks.js';

export const EXTRACT_MAGIC = Buffer.from('CGHYPER\x01', 'latin1');
export const EXTRACT_FORMAT = 'cryptgate/extract@1';
export const DEFAULT_CHUNK = 1024 * 1024;
const MAX_HEADER = 64 * 1024;
const FINAL = FINAL_FLAG;

export interface ExtractHeader {
  format: typeof EXTRACT_FORMAT;
  extractId: string;
  site: string;
  name: string;
  mekId: string;
  wrappedDataKey: SealedBox;
  cipher: 'AES-256-GCM';
  chunkSize: number;
  plainSize: number;
  createdAt: string;
  encryptedAt: string;
}

export const formatError = (file: string, what: string): InputError => new InputError(`${file}: ${what}`);

/** Reads exactly `len` bytes at `pos` (fewer only at end of file). */
function readFull(fd: number, buf: Buffer, len: number, pos: number): number {
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** Reads the header of an extract file; `bodyOffset` is where the first chunk starts. */
export function readHeaderFd(fd: number, file: string): { header: ExtractHeader; bodyOffset: number } {
  const pre = Buffer.alloc(12);
  if (readFull(fd, pre, 12, 0) < 12 || !pre.subarray(0, 8).equals(EXTRACT_MAGIC)) {
    throw formatError(file, 'offset 0: magic: expected "CGHYPER\\x01" (a cryptgate encrypted extract)');
  }
  const len = pre.readUInt32BE(8);
  if (len === 0 || len > MAX_HEADER) throw formatError(file, `offset 8: header length ${len}: expected 1 to ${MAX_HEADER}`);
  const hb = Buffer.alloc(len);
  if (readFull(fd, hb, len, 12) < len) throw formatError(file, `offset 12: header: expected ${len} bytes, the file ends first`);
  let h: ExtractHeader;
  try {
    h = JSON.parse(hb.toString('utf8')) as ExtractHeader;
  } catch (err) {
    throw formatError(file, `offset 12: header: expected JSON: ${(err as Error).message}`);
  }
  if (h?.format !== EXTRACT_FORMAT) throw formatError(file, `header.format: expected "${EXTRACT_FORMAT}"`);
  for (const f of ['extractId', 'site', 'name', 'mekId', 'createdAt', 'encryptedAt'] as const) {
    if (typeof h[f] !== 'string') throw formatError(file, `header.${f}: expected a string`);
  }
  if (!Number.isSafeInteger(h.chunkSize) || h.chunkSize < 1 || h.chunkSize > 64 * 1024 * 1024) {
    throw formatError(file, `header.chunkSize: expected 1 to 67108864`);
  }
  if (!Number.isSafeInteger(h.plainSize) || h.plainSize < 0) throw formatError(file, 'header.plainSize: expected a whole number');
  const w = h.wrappedDataKey;
  if (typeof w?.iv !== 'string' || typeof w.tag !== 'string' || typeof w.ct !== 'string') {
    throw formatError(file, 'header.wrappedDataKey: expected {iv, tag, ct}');
  }
  return { header: h, bodyOffset: 12 + len };
}

/** The bytes before the first chunk: magic, u32be header length, header JSON. */
export function encodeHeader(h: ExtractHeader): Buffer {
  const hb = Buffer.from(JSON.stringify(h), 'utf8');
  const pre = Buffer.alloc(12);
  EXTRACT_MAGIC.copy(pre, 0);
  pre.writeUInt32BE(hb.length, 8);
  return Buffer.concat([pre, hb]);
}

export function readExtractHeader(file: string): ExtractHeader {
  const fd = openSync(file, 'r');
  try {
    return readHeaderFd(fd, file).header;
  } finally {
    closeSync(fd);
  }
}

/** Unwraps an extract's data key with its MEK. The caller scrubs it. */
export function unwrapDataKey(h: ExtractHeader, mek: Buffer, file: string): Buffer {
  try {
    const k = open(mek, h.wrappedDataKey, dataKeyAad(h.extractId, h.mekId), `${file}: data key of extract ${h.extractId} under MEK ${h.mekId}`);
    reportKey('extract-data-key', h.extractId, k);
    return k;
  } catch (err) {
    if (err instanceof UnwrapError) throw new InputError(err.message);
    throw err;
  }
}

/**
 * Where plaintext comes from: fill `buf[0..len)` exactly (the writer knows the total size),
 * or return a buffer of exactly `len` bytes that already holds the chunk (saves a copy).
 */
export type PlainSource = (buf: Buffer, len: number) => Buffer | void;

export function randomSource(): PlainSource {
  return (buf, len) => {
    randomFillSync(buf, 0, len);
  };
}

/** A source file read sequentially; its size is taken once and must not change under us. */
export function fileSource(path: string): { size: number; source: PlainSource; close(): void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  let pos = 0;
  return {
    size,
    source: (buf, len) => {
      const got = readFull(fd, buf, len, pos);
      if (got < len) throw new InputError(`${path}: the file shrank while it was being read (at byte ${pos + got} of ${size})`);
      pos += got;
    },
    close: () => closeSync(fd),
  };
}

export interface WriteSpec {
  site: string;
  name: string;
  mekId: string;
  mek: Buffer;
  plainSize: number;
  now: string;
  /** Keep the extract's identity across re-encryption. */
  extractId?: string;
  createdAt?: string;
  chunkSize?: number;
  /** Compute the plaintext's SHA-256 (publish shows it; re-encryption skips the cost). Default true. */
  hash?: boolean;
}

export interface WriteResult {
  header: ExtractHeader;
  /** Empty when `hash: false`. */
  sha256: string;
}

/**
 * Writes an extract to `target` crash-safely: a temp file beside it, fsync, rename.
 * `fill` supplies plaintext chunk by chunk. A kill at any point leaves `target` as it was.
 */
export function writeExtract(target: string, spec: WriteSpec, fill: PlainSource): WriteResult {
  const chunkSize = spec.chunkSize ?? DEFAULT_CHUNK;
  const extractId = spec.extractId ?? randomUUID();
  const dataKey = newKey();
  reportKey('extract-data-key', extractId, dataKey);
  const header: ExtractHeader = {
    format: EXTRACT_FORMAT,
    extractId,
    site: spec.site,
    name: spec.name,
    mekId: spec.mekId,
    wrappedDataKey: seal(spec.mek, dataKey, dataKeyAad(extractId, spec.mekId)),
    cipher: 'AES-256-GCM',
    chunkSize,
    plainSize: spec.plainSize,
    createdAt: spec.createdAt ?? spec.now,
    encryptedAt: spec.now,
  };
  const tmp = tempPathFor(target);
  const fd = openSync(tmp, 'wx', 0o640);
  const hash = spec.hash === false ? undefined : createHash('sha256');
  try {
    try {
      writeAll(fd, encodeHeader(header));
      const buf = Buffer.allocUnsafe(chunkSize);
      const chunks = Math.max(1, Math.ceil(spec.plainSize / chunkSize));
      const head = Buffer.alloc(CHUNK_HEAD);
      const p = chunkParams(extractId);
      for (let i = 0; i < chunks; i++) {
        const final = i === chunks - 1;
        const len = final ? spec.plainSize - i * chunkSize : chunkSize;
        const given = fill(buf, len);
        const plain = given ?? buf.subarray(0, len);
        hash?.update(plain);
        p.at(i, final);
        const c = createCipheriv('aes-256-gcm', dataKey, p.nonce);
        c.setAAD(p.aad);
        const ct = c.update(plain);
        c.final();
        head[0] = final ? FINAL : 0;
        head.writeUInt32BE(len, 1);
        c.getAuthTag().copy(head, 5);
        writeAll(fd, head);
        writeAll(fd, ct);
      }
      buf.fill(0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      dataKey.fill(0);
    }
    renameDurable(tmp, target);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  return { header, sha256: hash?.digest('hex') ?? '' };
}

/**
 * Streams an extract's plaintext, chunk by chunk, to `sink` (each chunk is valid only during
 * the call), verifying every chunk, the chunk sizes, the final flag and the total size.
 */
export function readExtractBody(file: string, dataKeyFor: (h: ExtractHeader) => Buffer, sink: (chunk: Buffer, index: number) => void): { header: ExtractHeader; sha256: string } {
  const fd = openSync(file, 'r');
  try {
    const { header: h, bodyOffset } = readHeaderFd(fd, file);
    const dataKey = dataKeyFor(h);
    const hash = createHash('sha256');
    try {
      streamChunks(fd, file, h, bodyOffset, dataKey, hash, sink);
    } finally {
      dataKey.fill(0);
    }
    return { header: h, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

function streamChunks(fd: number, file: string, h: ExtractHeader, bodyOffset: number, dataKey: Buffer, hash: Hash, sink: (chunk: Buffer, index: number) => void): void {
  const head = Buffer.alloc(CHUNK_HEAD);
  const ct = Buffer.allocUnsafe(h.chunkSize);
  const fileSize = fstatSync(fd).size;
  const p = chunkParams(h.extractId);
  let pos = bodyOffset;
  let total = 0;
  for (let i = 0; ; i++) {
    if (readFull(fd, head, CHUNK_HEAD, pos) < CHUNK_HEAD) {
      throw formatError(file, `offset ${pos}: chunk ${i}: expected a chunk header, the file ends first (truncated extract)`);
    }
    const final = (head[0]! & FINAL) !== 0;
    const len = head.readUInt32BE(1);
    if (len > h.chunkSize || (!final && len !== h.chunkSize)) {
      throw formatError(file, `offset ${pos + 1}: chunk ${i}: length ${len}: expected ${final ? `at most ${h.chunkSize}` : h.chunkSize}`);
    }
    pos += CHUNK_HEAD;
    if (readFull(fd, ct, len, pos) < len) throw formatError(file, `offset ${pos}: chunk ${i}: expected ${len} bytes, the file ends first (truncated extract)`);
    pos += len;
    p.at(i, final);
    const d = createDecipheriv('aes-256-gcm', dataKey, p.nonce);
    d.setAAD(p.aad);
    d.setAuthTag(head.subarray(5, 21));
    const plain = d.update(ct.subarray(0, len));
    try {
      d.final();
    } catch {
      throw formatError(file, `chunk ${i} (offset ${pos - len - CHUNK_HEAD}): authentication failed: the extract was altered, or its data key or MEK is wrong`);
    }
    total += len;
    hash.update(plain);
    sink(plain, i);
    plain.fill(0);
    if (final) break;
  }
  if (pos !== fileSize) throw formatError(file, `offset ${pos}: expected the end of the file after the final chunk, found ${fileSize - pos} more bytes`);
  if (total !== h.plainSize) throw formatError(file, `header.plainSize ${h.plainSize}: the chunks hold ${total} bytes`);
}
