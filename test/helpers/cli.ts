// Runs the built CLI as a CI job would: a child process, no colour, output captured.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-info.js';

export const CLI = join(packageRoot(), 'bin/cryptgate.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/cryptgate.js …args` to completion. */
export function runCli(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
