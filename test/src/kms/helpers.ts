// Shared by the src/kms tests.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../../../src/kms/moto.js';

export { failure, type CaughtError } from '../../simulators/kms/helpers.js';

/** A loopback port nobody listens on (free a moment ago). */
export const closedPort = (): Promise<number> => freeLoopbackPort();

/** Writes an executable script into a fresh temp folder and returns its path. */
export function script(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cryptgate-kms-test-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone between the two looks
  }
}

/** Waits (up to `ms`) for a killed process to be gone: signals are delivered asynchronously. */
export async function gone(pid: number, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}
