// Journals for changes that span several files.
//
// Restore: everything is staged under .restore-staging/ (the extracts from the backup and
// the new kms.json), then jobs/restore.journal.json is written atomically: that write is the
// commit point. Applying is a sequence of idempotent steps, so a process killed anywhere
// after the commit is finished by the next command that opens the cluster, and one killed
// before it leaves the cluster untouched (the staging folder is simply removed).
//   a. extracts/            → .restore-old-extracts/   (only while the staged extracts exist)
//   b. staging/extracts/    → extracts/
//   c. staging/kms.json     → keystore/kms.json
//   d. cluster.json sites   := the backup's
//   e. remove .restore-old-extracts/ and the staging folder
//   f. remove the journal
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { removeQuietly, renameDurable, syncFolder } from './fs-safe.js';
import { LAYOUT } from './model.js';

export interface RestoreJournal {
  backupId: string;
  sites: string[];
  committedAt: string;
}

const OLD_EXTRACTS = '.restore-old-extracts';

/** Reads a JSON journal, or undefined when there is none. */
export function readJournal<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    // Journals are written atomically; an unreadable one was damaged by something else.
    throw new InputError(`${path}: expected a JSON journal: ${(err as Error).message}; remove it only if you know the job it records is finished`);
  }
}

export function applyRestore(dir: string, j: RestoreJournal, applySites: (sites: string[]) => void): void {
  const staging = join(dir, LAYOUT.restoreStaging);
  const stagedExtracts = join(staging, 'extracts');
  const extracts = join(dir, LAYOUT.extractsDir);
  const old = join(dir, OLD_EXTRACTS);
  if (existsSync(stagedExtracts) && existsSync(extracts) && !existsSync(old)) renameDurable(extracts, old);
  if (existsSync(stagedExtracts)) {
    if (existsSync(extracts)) removeQuietly(extracts); // a half-finished earlier attempt of this step
    renameDurable(stagedExtracts, extracts);
  }
  const stagedKms = join(staging, 'kms.json');
  if (existsSync(stagedKms)) renameDurable(stagedKms, join(dir, LAYOUT.kmsStorage));
  applySites(j.sites);
  removeQuietly(old);
  removeQuietly(staging);
  syncFolder(dir);
  rmSync(join(dir, LAYOUT.restoreJournal), { force: true });
  syncFolder(join(dir, LAYOUT.jobsDir));
}

/** Finishes a committed restore, or discards an uncommitted one. Returns true if one was finished. */
export function recoverRestore(dir: string, applySites: (sites: string[]) => void): boolean {
  const j = readJournal<RestoreJournal>(join(dir, LAYOUT.restoreJournal));
  if (j) {
    applyRestore(dir, j, applySites);
    return true;
  }
  const staging = join(dir, LAYOUT.restoreStaging);
  if (existsSync(staging)) {
    removeQuietly(staging);
    syncFolder(dir);
  }
  return false;
}
