// kill -9 at random points of reencryptextracts, regenerate-internal-tokens and restore never
// loses or corrupts an extract, and rerunning completes the job. The full run (>= 20 trials)
// is `node scripts/crash-trials.mjs`; this test runs the same script with fewer trials and
// smaller extracts so the unit suite stays quick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../../../scripts/crash-trials.mjs', import.meta.url));

interface Summary {
  trials: number;
  failed: number;
  killedMidRun: number;
  results: { command: string; ok: boolean; problems: string[] }[];
}

test('SIGKILL trials: every extract survives each kill and ends under the encryption MEK after a rerun', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    execFile(process.execPath, [SCRIPT, '--trials', '4', '--mib', '4', '--json'], { maxBuffer: 1 << 24 }, (err, so, se) =>
      res({ code: err ? Number((err as { code?: number }).code ?? 99) : 0, stdout: so, stderr: se }),
    );
  });
  const s = JSON.parse(stdout) as Summary;
  const failures = s.results.filter((r) => !r.ok).map((r) => `${r.command}: ${r.problems.join('; ')}`);
  assert.deepEqual(failures, [], stderr);
  assert.equal(code, 0);
  assert.equal(s.trials, 4);
  assert.deepEqual([...new Set(s.results.map((r) => r.command))].sort(), ['reencryptextracts', 'regenerate-internal-tokens', 'restore']);
});
