// The audit-parity hook is wired into `cryptgate run`: a scenario's check in cryptgate.json
// carries the audit of its evidence folder (the command to repeat it, the expectation, every
// behaviour's result), and a scenario tagged @audit:none carries its reason instead.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Report } from '../../src/report/model.js';
import { packageRoot } from '../../src/util/package-info.js';

const root = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'cg-parity-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('cryptgate run: each scenario shows what `cryptgate audit` said about its evidence', () => {
  const dir = join(tmp, 'run');
  const tags = '(@KMS-1 and not @KMS-2) or (@capture and @IPSEC-4)';
  const r = spawnSync(process.execPath, [join(root, 'bin/cryptgate.js'), 'run', '--tags', tags, '--report-dir', dir], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 32 << 20 });
  assert.equal(r.status, 0, r.stderr + r.stdout.slice(-2000));
  const report = JSON.parse(readFileSync(join(dir, 'cryptgate.json'), 'utf8')) as Report;

  const local = report.checks.find((c) => c.id.startsWith('kms/modes-and-prerequisites/a-new-cluster-keeps-its-keys-in-local-mode'))!;
  const parity = local.observed.find((o) => 'auditParity' in o)!;
  assert.equal(parity.auditParity, 'agrees');
  assert.equal(parity.expected, 'KMS-1 fail');
  assert.match(String(parity.audit), /^cryptgate audit evidence\/kms\/modes-and-prerequisites\/a-new-cluster-keeps-its-keys-in-local-mode/);
  const results = parity.auditResults as Record<string, string>;
  assert.equal(results['KMS-1'], 'fail');
  assert.equal(results['KMS-6'], 'pass');
  assert.equal(results['KMS-9'], 'no evidence');

  const fixture = report.checks.find((c) => c.id === 'ipsec/real-captures/integrity-only-esp-esp-null-is-flagged')!;
  assert.equal(fixture.status, 'pass');
  assert.match(String(fixture.observed.find((o) => o.audit === 'none')?.reason), /^these scenarios judge fixed fixture captures/);
});
