// File mechanics that make the simulated cluster survive `kill -9` at any instruction. The
// atomic write, durable rename and pid lock are the project's shared ones (src/util/atomic-file.ts);
// this adds what only the cluster needs:
//  - ensureDir / sweepTempFiles: folders made durably, temp files of killed commands removed.
//  - renameDurableAsync: the durable rename off the main thread (re-encryption overlaps it).
//  - ClusterLock: one command at a time per cluster folder; a lock left by a killed
//    process (its pid no longer runs) is taken over.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { removeQuietly, syncFolder, TEMP_MARK, takePidLock } from '../../src/util/atomic-file.js';

export { removeQuietly, renameDurable, syncFolder, TEMP_MARK, tempPathFor, writeAll, writeFileAtomic } from '../../src/util/atomic-file.js';

/** renameDurable on libuv's pool: the main thread keeps working while the folder is fsynced. */
export async function renameDurableAsync(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
  await syncFolderAsync(dirname(to));
  if (dirname(from) !== dirname(to)) await syncFolderAsync(dirname(from));
}

async function syncFolderAsync(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // as syncFolder: some platforms refuse to fsync a folder; there, rename is the best we get
  } finally {
    await fh?.close().catch(() => {});
  }
}

export function ensureDir(dir: string, mode = 0o700): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode });
    syncFolder(dirname(dir));
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

/**
 * The cluster folder's lock (`cluster.lock`, holding a pid): the simulated administration
 * controller runs one command at a time, as TSM queues its jobs.
 */
export class ClusterLock {
  private constructor(readonly release: () => void) {}

  static take(dir: string): ClusterLock {
    const path = join(dir, 'cluster.lock');
    return new ClusterLock(
      takePidLock(
        path,
        (pid) => `${dir}: another command is running on this cluster (pid ${pid}); wait for it, or remove ${path} if that process is not a cryptgate sim command`,
      ),
    );
  }
}
