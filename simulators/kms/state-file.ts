// File mechanics for the state folder: atomic replacement (a crash leaves the old file or
// the new one, never half of either) and a lock so two servers never share one folder.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../src/util/errors.js';

/** Writes `data` to `path` via a temp file in the same folder: write, fsync, rename, fsync the folder. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw err;
  }
  syncFolder(dirname(path));
}

/** Makes the rename durable. Some platforms cannot open a folder for fsync; there, rename is the best we get. */
function syncFolder(dir: string): void {
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the folder's lock file (holding our pid). A lock left by a process that no longer
 * runs is taken over; one held by a live process (including this one) is refused.
 * Returns the function that releases it.
 */
export function lockFolder(dir: string): () => void {
  const path = join(dir, 'kms.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new InputError(`${dir}: in use by another embedded KMS (pid ${pid}); stop it first, or remove ${path} if it is stale`);
      }
      unlinkSync(path);
    }
  }
  throw new InputError(`${path}: could not take the lock`);
}
