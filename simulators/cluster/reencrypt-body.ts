// The hot loop of re-encryption: one extract body, chunk by chunk, from the old file's
// descriptor to the new file's, decrypting under the old data key and encrypting under the
// new one. It runs in a worker thread (reencrypt-worker.ts); the caller (extract-file.ts)
// opens, names, renames and removes the files, and owns every decision about them.
//
// Pipelined so the cipher, not the disk, sets the pace: while this thread runs AES-GCM on
// chunk i, libuv's pool reads chunk i+1 and writes chunk i-1 (two read and two write
// buffers, reused), and every SYNC_EVERY bytes a background fdatasync starts (one at a time)
// so the device writes during the job instead of all at once in the final fsync. The final
// fsync still covers the whole file before the caller may rename it.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { fdatasync, fsync, read, write } from 'node:fs';
import { promisify } from 'node:util';
import { CHUNK_HEAD, chunkParams, FINAL_FLAG } from './extract-chunks.js';

const readAt = promisify(read);
const writeAt = promisify(write);
const datasyncFd = promisify(fdatasync);
const fsyncFd = promisify(fsync);

/** Bytes written between two background fdatasyncs. */
export const SYNC_EVERY = 32 * 1024 * 1024;

export interface BodyJob {
  /** For messages only: the extract file being re-encrypted. */
  file: string;
  srcFd: number;
  /** The new file, its header already written; chunks go from `outOffset` on. */
  outFd: number;
  bodyOffset: number;
  outOffset: number;
  chunks: number;
  chunkSize: number;
  plainSize: number;
  extractId: string;
  oldKey: Buffer;
  newKey: Buffer;
}

/** A damaged or inconsistent extract (the caller reports it as bad input, exit 2). */
export class BodyFormatError extends Error {
  override readonly name = 'BodyFormatError';
}

/**
 * Runs the job. `streamed` settles when every chunk is computed and its write issued (the
 * keys are scrubbed by then, whatever happened); `synced` when every write, the background
 * syncs and the final fsync are done, or with the first failure once no I/O is in flight.
 */
export function reencryptBody(job: BodyJob): { streamed: Promise<void>; synced: Promise<void> } {
  let writing: Promise<unknown> = Promise.resolve();
  let syncing: Promise<unknown> = Promise.resolve();
  let reading: Promise<unknown> = Promise.resolve();
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => {});
    return p;
  };
  const stride = CHUNK_HEAD + job.chunkSize;
  const bufs = [Buffer.allocUnsafe(stride), Buffer.allocUnsafe(stride)];
  const outBufs = [Buffer.allocUnsafe(stride), Buffer.allocUnsafe(stride)];
  const lenOf = (i: number): number => (i === job.chunks - 1 ? job.plainSize - i * job.chunkSize : job.chunkSize);

  const readChunk = async (i: number): Promise<Buffer> => {
    const buf = bufs[i % 2]!.subarray(0, CHUNK_HEAD + lenOf(i));
    const pos = job.bodyOffset + i * stride;
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await readAt(job.srcFd, buf, got, buf.length - got, pos + got);
      if (bytesRead === 0) throw new BodyFormatError(`${job.file}: offset ${pos + got}: chunk ${i}: truncated extract`);
      got += bytesRead;
    }
    return buf;
  };
  const writeAll = async (buf: Buffer, pos: number): Promise<void> => {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await writeAt(job.outFd, buf, done, buf.length - done, pos + done);
      done += bytesWritten;
    }
  };

  const stream = async (): Promise<void> => {
    try {
      const p = chunkParams(job.extractId);
      let outPos = job.outOffset;
      let syncInFlight = false;
      let syncedTo = outPos;
      let ahead = quiet(readChunk(0));
      reading = ahead;
      for (let i = 0; i < job.chunks; i++) {
        const cur = await ahead;
        const final = i === job.chunks - 1;
        // bufs[(i+1)%2] held chunk i-1, already decrypted: the next read may fill it now.
        if (!final) reading = ahead = quiet(readChunk(i + 1));
        const len = cur.length - CHUNK_HEAD;
        const flags = cur[0]!;
        if (((flags & FINAL_FLAG) !== 0) !== final || cur.readUInt32BE(1) !== len) {
          throw new BodyFormatError(`${job.file}: chunk ${i}: flags ${flags}, length ${cur.readUInt32BE(1)}: expected ${final ? 'the final chunk' : 'a full chunk'} of ${len} bytes`);
        }
        p.at(i, final);
        const d = createDecipheriv('aes-256-gcm', job.oldKey, p.nonce);
        d.setAAD(p.aad);
        d.setAuthTag(cur.subarray(5, 21));
        const plain = d.update(cur.subarray(CHUNK_HEAD));
        try {
          d.final();
        } catch {
          plain.fill(0);
          throw new BodyFormatError(`${job.file}: chunk ${i}: authentication failed: the extract was altered, or its data key or MEK is wrong`);
        }
        const c = createCipheriv('aes-256-gcm', job.newKey, p.nonce);
        c.setAAD(p.aad);
        const ct = c.update(plain);
        c.final();
        plain.fill(0);
        // outBufs[i % 2] last held chunk i-2, whose write finished before chunk i-1's started.
        // (Writing from our own buffers keeps the cipher's outputs short-lived: they die in
        // the young generation instead of being promoted while a write holds them.)
        const o = outBufs[i % 2]!.subarray(0, CHUNK_HEAD + len);
        o[0] = final ? FINAL_FLAG : 0;
        o.writeUInt32BE(len, 1);
        c.getAuthTag().copy(o, 5);
        ct.copy(o, CHUNK_HEAD);
        await writing; // one write in flight at a time
        writing = quiet(writeAll(o, outPos));
        outPos += CHUNK_HEAD + len;
        if (!syncInFlight && outPos - syncedTo >= SYNC_EVERY) {
          syncInFlight = true;
          syncedTo = outPos;
          syncing = quiet(datasyncFd(job.outFd).finally(() => (syncInFlight = false)));
        }
      }
    } finally {
      job.oldKey.fill(0);
      job.newKey.fill(0);
    }
  };

  const streamed = quiet(stream());
  const synced = quiet(
    (async () => {
      try {
        await streamed;
        await writing;
        await syncing;
        await fsyncFd(job.outFd);
      } finally {
        // Nothing may still be reading or writing these descriptors when the caller closes them.
        await Promise.allSettled([reading, writing, syncing]);
      }
    })(),
  );
  return { streamed, synced };
}
