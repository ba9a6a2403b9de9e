// `cryptgate run --wire …` as a user meets it: a bad mode is a usage error, and a live wire
// that cannot run here is announced on stderr and recorded in the report, never silent.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packageRoot } from '../../../src/util/package-info.js';

const CLI = join(packageRoot(), 'bin/cryptgate.js');
const tmp = mkdtempSync(join(tmpdir(), 'cg-run-wire-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } });
}

test('--wire takes simulated or strongswan only (exit 2)', () => {
  const r = run(['--wire', 'wireshark', '--report-dir', join(tmp, 'bad')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--wire <mode>' argument 'wireshark' is invalid\. Allowed choices are simulated, strongswan/);
});

test('--wire strongswan where it cannot run: says why on stderr and in the report context', () => {
  const dir = join(tmp, 'fallback');
  // No scenario at all (the notice comes before any runs), with strongSwan made unavailable.
  const r = run(['--wire', 'strongswan', '--tags', '@no-such-tag-in-any-feature', '--report-dir', dir], { CRYPTGATE_CHARON: '/nonexistent/charon' });
  assert.match(r.stderr, /^cryptgate: --wire strongswan: the live wire cannot run here \(CRYPTGATE_CHARON=\/nonexistent\/charon is not an executable file\); the IPsec scenarios run on the simulated wire$/m);
  const report = JSON.parse(readFileSync(join(dir, 'cryptgate.json'), 'utf8')) as { context: Record<string, unknown> };
  assert.equal(report.context.wire, 'strongswan');
  assert.equal(report.context.wireLive, false);
  assert.equal(report.context.wireFallback, 'CRYPTGATE_CHARON=/nonexistent/charon is not an executable file');
});
