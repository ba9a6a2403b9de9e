// examples/evidence was made by the simulator (scripts/make-example-evidence.mjs) for a
// scenario whose verdicts are written down in examples/expected-verdicts.json: the audit
// must give exactly those, and name the node and role the scenario broke.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../../../src/audit/run-audit.js';
import { evaluateGate } from '../../../src/compliance/gate.js';
import { loadPolicy } from '../../../src/compliance/policy.js';
import { packageRoot } from '../../../src/util/package-info.js';

const root = packageRoot();

test('cryptgate audit examples/evidence gives the verdicts of the scenario that made it', async () => {
  const expected = JSON.parse(readFileSync(join(root, 'examples/expected-verdicts.json'), 'utf8')) as { gate: string; checks: Record<string, string>; named: Record<string, string> };
  const policy = loadPolicy(join(root, 'examples/cluster-policy.yaml'));
  const r = await runAudit({ folder: join(root, 'examples/evidence'), policy, now: new Date('2026-11-23T12:00:00Z') });
  assert.deepEqual(Object.fromEntries(r.checks.map((c) => [c.id, c.status])), expected.checks);
  for (const [id, name] of Object.entries(expected.named)) {
    const c = r.checks.find((x) => x.id === id)!;
    assert.ok(c.findings.some((f) => f.severity !== 'info' && f.message.includes(name)), `${id} names ${name}`);
  }
  assert.equal(evaluateGate(r.checks, policy.failOn).result, expected.gate);
  assert.ok(r.files.every((f) => f.kind !== 'unrecognised'), 'every example file is recognised evidence');
});

test('the command line gives the same: `cryptgate audit examples/evidence --policy examples/cluster-policy.yaml` exits 1 with exactly those verdicts', () => {
  const expected = JSON.parse(readFileSync(join(root, 'examples/expected-verdicts.json'), 'utf8')) as { gate: string; checks: Record<string, string> };
  const dir = mkdtempSync(join(tmpdir(), 'cg-examples-'));
  try {
    const out = join(dir, 'audit.json');
    const r = spawnSync(process.execPath, [join(root, 'bin/cryptgate.js'), 'audit', 'examples/evidence', '--policy', 'examples/cluster-policy.yaml', '--format', 'json', '--out', out], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, expected.gate === 'fail' ? 1 : 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { checks: { id: string; status: string }[] };
    assert.deepEqual(Object.fromEntries(report.checks.map((c) => [c.id, c.status])), expected.checks);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
