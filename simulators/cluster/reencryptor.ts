// Re-encryption of extract files (tabcmd reencryptextracts): each extract rewritten beside
// itself under a fresh data key wrapped by the target MEK, fsynced whole, then renamed over
// the old file (a kill leaves the old file or the new one, never half of either). This thread
// reads and checks the header, makes the new data key, opens, renames and removes files; the
// body's cipher loop runs in a worker thread (reencrypt-worker.ts says why, reencrypt-body.ts
// how it streams). A job keeps one Reencryptor for all its extracts.
import { closeSync, openSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { InputError } from '../../src/util/errors.js';
import { dataKeyAad, newKey, seal } from './crypto.js';
import { CHUNK_HEAD } from './extract-chunks.js';
import { encodeHeader, formatError, readHeaderFd, type ExtractHeader } from './extract-file.js';
import { removeQuietly, renameDurableAsync, tempPathFor, writeAll } from './fs-safe.js';
import type { WorkerReply, WorkerRequest } from './reencrypt-worker.js';
import { reportKey } from './test-hooks.js';

export interface Reencrypted {
  before: ExtractHeader;
  after: ExtractHeader;
}

export interface ReencryptTarget {
  mekId: string;
  mek: Buffer;
  now: string;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** One worker thread running extract bodies, one after another or overlapping (see streamReencryption). */
export class Reencryptor {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, { file: string; streamed: Deferred; synced: Deferred }>();
  private seq = 0;
  private broken: Error | undefined;

  constructor() {
    this.worker = new Worker(new URL('./reencrypt-worker.js', import.meta.url));
    this.worker.unref(); // referenced only while a job runs (see ref/unref below)
    this.worker.on('message', (m: WorkerReply) => this.onReply(m));
    this.worker.on('error', (err) => this.fail(new Error(`re-encryption worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`re-encryption worker exited (code ${code})`)));
  }

  private onReply(m: WorkerReply): void {
    const j = this.jobs.get(m.id);
    if (!j) return;
    if (m.stage === 'streamed') j.streamed.resolve();
    else {
      if (m.stage === 'failed') {
        const err = m.format ? new InputError(m.message) : new Error(`${j.file}: ${m.message}`);
        j.streamed.reject(err);
        j.synced.reject(err);
      } else j.synced.resolve();
      this.jobs.delete(m.id);
      if (this.jobs.size === 0) this.worker.unref();
    }
  }

  private fail(err: Error): void {
    this.broken ??= err;
    for (const j of this.jobs.values()) {
      j.streamed.reject(err);
      j.synced.reject(err);
    }
    this.jobs.clear();
  }

  /** Hands one body to the worker. The keys are moved to it (the caller's copies are scrubbed here). */
  run(job: WorkerRequest['job'], oldKey: Buffer, newKeyBytes: Buffer): { streamed: Promise<void>; synced: Promise<void> } {
    const streamed = deferred();
    const synced = deferred();
    if (this.broken) {
      oldKey.fill(0);
      newKeyBytes.fill(0);
      streamed.reject(this.broken);
      synced.reject(this.broken);
      return { streamed: streamed.promise, synced: synced.promise };
    }
    const id = ++this.seq;
    // Fresh ArrayBuffers, transferred: the bytes move to the worker without a serialised copy.
    const oldT = new Uint8Array(oldKey);
    const newT = new Uint8Array(newKeyBytes);
    oldKey.fill(0);
    newKeyBytes.fill(0);
    this.jobs.set(id, { file: job.file, streamed, synced });
    this.worker.ref();
    this.worker.postMessage({ id, job, oldKey: oldT.buffer, newKey: newT.buffer } satisfies WorkerRequest, [oldT.buffer, newT.buffer]);
    return { streamed: streamed.promise, synced: synced.promise };
  }

  async close(): Promise<void> {
    this.broken ??= new Error('re-encryption worker closed');
    await this.worker.terminate();
  }
}

/**
 * Re-encrypts `file` in place under a fresh data key wrapped by `target.mek`, streaming chunk
 * by chunk with flat memory; the extract id, name and creation time stay. In two stages, so a
 * job overlaps one extract's commit with the next one's cipher work: resolves when the worker
 * has computed every chunk and issued its write (the keys are gone by then); `committed`
 * settles when the new file is fsynced whole and renamed over the old one, or has failed and
 * been removed. Callers must await `committed`.
 */
export async function streamReencryption(
  r: Reencryptor,
  file: string,
  oldDataKeyFor: (h: ExtractHeader) => Buffer,
  target: ReencryptTarget,
): Promise<{ committed: Promise<Reencrypted> }> {
  const src = await fsp.open(file, 'r');
  let tmp: string | undefined;
  let outFd: number | undefined;
  let synced: Promise<void> = Promise.resolve();
  /** After a successful rename `src` holds the old file's last reference (see below). */
  const cleanUp = async (renamed: boolean): Promise<void> => {
    await synced.catch(() => {}); // the worker is done with both descriptors
    // Closing the old file's last descriptor makes the kernel free its pages and blocks, in
    // time proportional to its size: after a rename nobody waits for that (libuv's pool does
    // it while the next extract streams).
    if (renamed) src.close().catch(() => {});
    else await src.close().catch(() => {});
    if (outFd !== undefined) closeSync(outFd);
    outFd = undefined;
    if (tmp) removeQuietly(tmp);
  };
  let before: ExtractHeader;
  let after: ExtractHeader;
  try {
    const { header: b, bodyOffset } = readHeaderFd(src.fd, file);
    before = b;
    const size = (await src.stat()).size;
    const chunks = Math.max(1, Math.ceil(b.plainSize / b.chunkSize));
    const stride = CHUNK_HEAD + b.chunkSize;
    const expectedEnd = bodyOffset + (chunks - 1) * stride + CHUNK_HEAD + (b.plainSize - (chunks - 1) * b.chunkSize);
    if (size !== expectedEnd) {
      throw formatError(file, `the file is ${size} bytes; its header (plainSize ${b.plainSize}, chunkSize ${b.chunkSize}) says ${expectedEnd}: truncated or extended extract`);
    }
    const oldKey = oldDataKeyFor(b);
    const key = newKey();
    reportKey('extract-data-key', b.extractId, key);
    let handed = false;
    try {
      after = {
        ...b,
        mekId: target.mekId,
        wrappedDataKey: seal(target.mek, key, dataKeyAad(b.extractId, target.mekId)),
        encryptedAt: target.now,
      };
      tmp = tempPathFor(file);
      outFd = openSync(tmp, 'wx', 0o640);
      const head = encodeHeader(after);
      writeAll(outFd, head);
      const run = r.run({ file, srcFd: src.fd, outFd, bodyOffset, outOffset: head.length, chunks, chunkSize: b.chunkSize, plainSize: b.plainSize, extractId: b.extractId }, oldKey, key);
      handed = true;
      synced = run.synced;
      await run.streamed;
    } finally {
      if (!handed) {
        oldKey.fill(0);
        key.fill(0);
      }
    }
  } catch (err) {
    await cleanUp(false);
    throw err;
  }
  const commit = async (): Promise<Reencrypted> => {
    let renamed = false;
    try {
      await synced;
      closeSync(outFd!);
      outFd = undefined;
      await renameDurableAsync(tmp!, file);
      renamed = true;
      tmp = undefined;
      return { before, after };
    } finally {
      await cleanUp(renamed);
    }
  };
  const committed = commit();
  committed.catch(() => {}); // the caller awaits it
  return { committed };
}
