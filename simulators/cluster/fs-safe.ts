// File mechanics that make the simulated cluster survive `kill -9` at any instruction:
//  - writeFileAtomic: temp file in the same folder, write, fsync, rename, fsync the folder.
//    A reader sees the old file or the new one, never half of either.
//  - renameDurable: rename and fsync the folder(s), so the rename survives a power cut too.
//  - ClusterLock: one command at a time per cluster folder; a lock left by a killed
//    process (its pid no longer runs) is taken over.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../src/util/errors.js';

/** Temp files this module (and the extract writer) leave behind when killed carry this marker. */
export const TEMP_MARK = '.cg-tmp';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_MARK}`);
}

/** Writes `data` to `path` atomically and durably. */
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

export function ensureDir(dir: string, mode = 0o700): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode });
    syncFolder(dirname(dir));
  }
}

export function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // already gone
  }
}

/** Removes temp files a killed process left in `dir` (not recursive). Returns how many. */
export function sweepTempFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const name of readdirSync(dir)) {
    if (name.endsWith(TEMP_MARK)) {
      removeQuietly(join(dir, name));
      n++;
    }
  }
  if (n > 0) syncFolder(dir);
  return n;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The cluster folder's lock (`cluster.lock`, holding a pid): the simulated administration
 * controller runs one command at a time, as TSM queues its jobs.
 */
export class ClusterLock {
  private released = false;
  private constructor(private readonly path: string) {}

  static take(dir: string): ClusterLock {
    const path = join(dir, 'cluster.lock');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
        return new ClusterLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let pid = NaN;
        try {
          pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
        } catch {
          // vanished between the two calls: retry
          continue;
        }
        if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
          throw new InputError(
            `${dir}: another command is running on this cluster (pid ${pid}); wait for it, or remove ${path} if that process is not a cryptgate sim command`,
          );
        }
        // Left by a process that was killed: take it over.
        removeQuietly(path);
      }
    }
    throw new InputError(`${path}: could not take the cluster lock`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.path);
    } catch {
      // gone already
    }
  }
}
