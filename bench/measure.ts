// Timing helpers for benchmarks: run a command under GNU time (peak RSS; wall time by hrtime)
// and take the median of a few runs, so one noisy run on a shared VM does not decide.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  seconds: number;
  maxRssKiB: number;
  status: number | null;
  stdout: string;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Runs argv once under /usr/bin/time; throws when the command cannot run at all. */
export function measureOnce(argv: string[], env: NodeJS.ProcessEnv = process.env): Measurement {
  const dir = mkdtempSync(join(tmpdir(), 'cg-time-'));
  const out = join(dir, 'time');
  try {
    const start = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, ...argv], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (r.error) throw r.error;
    const rss = Number(readFileSync(out, 'utf8').trim().split(/\s+/).pop());
    return { seconds, maxRssKiB: rss, status: r.status, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median wall time (and the peak RSS of that run) over `runs` runs. */
export function measureMedian(argv: string[], runs = 3, env?: NodeJS.ProcessEnv): Measurement {
  const all = Array.from({ length: runs }, () => measureOnce(argv, env));
  all.sort((a, b) => a.seconds - b.seconds);
  return all[Math.floor(all.length / 2)]!;
}
