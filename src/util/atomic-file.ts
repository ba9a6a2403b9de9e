// File mechanics shared by everything that must survive `kill -9` or a power cut: reports,
// the embedded KMS's state, the simulated cluster's key store and extracts.
//  - writeFileAtomic: temp file in the same folder, write, fsync, rename, fsync the folder.
//    A reader sees the old file or the new one, never half of either.
//  - renameDurable: rename and fsync the folder(s), so the rename survives a power cut too.
//  - takePidLock: a lock file holding a pid; one left by a process that no longer runs is
//    taken over, so a killed command never wedges the folder.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
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
 * Takes the lock file at `path` (it holds our pid). A lock left by a process that no longer
 * runs is taken over; one held by a live process (this one included) is refused with
 * `busy(pid)` as the message. Returns the function that releases it (idempotent).
 */
export function takePidLock(path: string, busy: (pid: number) => string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = Number.NaN;
      try {
        pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        continue; // vanished between the two calls: retry
      }
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new InputError(busy(pid));
      removeQuietly(path); // left by a killed process: take it over
    }
  }
  throw new InputError(`${path}: could not take the lock`);
}
