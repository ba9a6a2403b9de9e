// File mechanics for the state folder: atomic replacement (a crash leaves the old file or
// the new one, never half of either; see src/util/atomic-file.ts) and a lock so two servers
// never share one folder.
import { join } from 'node:path';
import { takePidLock } from '../../src/util/atomic-file.js';

export { writeFileAtomic } from '../../src/util/atomic-file.js';

/**
 * Takes the folder's lock file (holding our pid). A lock left by a process that no longer
 * runs is taken over; one held by a live process (including this one) is refused.
 * Returns the function that releases it.
 */
export function lockFolder(dir: string): () => void {
  const path = join(dir, 'kms.lock');
  return takePidLock(path, (pid) => `${dir}: in use by another embedded KMS (pid ${pid}); stop it first, or remove ${path} if it is stale`);
}
