// File mechanics shared by everything that must survive `kill -9` or a power cut: reports,
// the embedded KMS's state, the simulated cluster's key store and extracts.
//  - writeFileAtomic: temp file in the same folder, write, fsync, rename, fsync the folder.
//    A reader sees the old file or the new one, never half of either.
//  - renameDurable: rename and fsync the folder(s), so the rename survives a power cut too.
//  - takePidLock: a lock file holding a pid; one left by a process that no longer runs is
//    taken over, so a killed command never wedges the folder.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError } from './errors.js';

/** Temp files written here carry this marker, so a sweeper can find what a killed process left. */
export const TEMP_MARK = '.cg-tmp';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_MARK}`);
}

/** Writes `data` to `path` atomically and durably. The target's folder must exist. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    removeQuietly(tmp);
    throw err;
  }
  syncFolder(dirname(path));
}

/** writeSync may write less than asked (signals, pipes, full disks): loop until all is out. */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Renames and makes the rename durable (both folders fsynced). */
export function renameDurable(from: string, to: string): void {
  renameSync(from, to);
  syncFolder(dirname(to));
  if (dirname(from) !== dirname(to)) syncFolder(dirname(from));
}

/** fsync a folder so a rename or create inside it is durable. Some platforms refuse; there, rename is the best we get. */
export function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EISDIR/EPERM on Windows and some filesystems
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `path` holding our pid, complete or not at all: a temp file hard-linked into place
 * (fails if it exists). The temp name lacks TEMP_MARK: the lock holder sweeps marked files
 * from the folder, and must not sweep the one a process waiting for the lock is writing.
 */
function createPidFile(path: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.pid`;
  writeFileSync(tmp, String(process.pid), { flag: 'wx', mode: 0o600 });
  try {
    linkSync(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    removeQuietly(tmp);
  }
}

/** The pid a lock file holds: a number, NaN when it holds none, undefined when the file is gone. */
function pidIn(path: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return undefined;
  }
}

const heldByLiveProcess = (pid: number | undefined): pid is number => pid !== undefined && Number.isInteger(pid) && pid > 0 && alive(pid);

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Takes the lock file at `path` (it holds our pid). A lock left by a process that no longer
 * runs is taken over; one held by a live process (this one included) is refused with
 * `busy(pid)` as the message. Returns the function that releases it (idempotent).
 *
 * Race-free between processes: a lock file is created whole (never seen empty), and a stale
 * one is removed only under `<path>.takeover`, itself such a lock, re-checked there, so two
 * processes that both found it stale cannot both take it (the second would otherwise remove
 * the first one's fresh lock).
 */
export function takePidLock(path: string, busy: (pid: number) => string): () => void {
  const takeover = `${path}.takeover`;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createPidFile(path)) {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        removeQuietly(path);
      };
    }
    const holder = pidIn(path);
    if (holder === undefined) continue; // released between the two calls: try again
    if (heldByLiveProcess(holder)) throw new InputError(busy(holder));
    // Left by a killed process: take it over, one process at a time.
    if (!createPidFile(takeover)) {
      // Another process is taking it over (or was killed doing so: then its mark is stale too;
      // a mark that is already gone is left alone, as a new one may be in its place by now).
      const marker = pidIn(takeover);
      if (marker !== undefined && !heldByLiveProcess(marker)) removeQuietly(takeover);
      pause(10);
      continue;
    }
    try {
      const again = pidIn(path);
      if (heldByLiveProcess(again)) throw new InputError(busy(again));
      removeQuietly(path);
    } finally {
      removeQuietly(takeover);
    }
  }
  throw new InputError(`${path}: could not take the lock`);
}
