// `cryptgate render`: a check's JSON report written again in every format, without judging
// the evidence again; anything that is not a valid report is bad input (exit 2, the place named).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../../src/util/package-info.js';
import { renderReport } from '../../../src/report/write.js';
import type { Report } from '../../../src/report/model.js';
import { runCli } from '../../helpers/cli.js';

const root = packageRoot();
const CAPTURE = join(root, 'test/fixtures/captures/strongswan/leaking-pair.pcap');

test('a failing check report renders in every format exactly as the check would have written it, with exit 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-render-'));
  try {
    const json = join(dir, 'check.json');
    const check = runCli('check', 'capture', CAPTURE, '--nodes', '10.77.0.0/24', '--format', 'json', '--out', json);
    assert.equal(check.status, 1, check.stderr);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    for (const format of ['text', 'json', 'junit', 'sarif', 'html'] as const) {
      const out = join(dir, `r.${format}`);
      const r = runCli('render', json, '--format', format, '--out', out);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /FAIL \(\d+ pass, [1-9]\d* fail/);
      assert.equal(readFileSync(out, 'utf8'), renderReport(report, format), format);
    }
    const text = runCli('render', json);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /ipsec\.esp-only/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('not a report: no file, broken JSON, or JSON that breaks the schema is exit 2 naming the place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-render-'));
  try {
    const missing = runCli('render', join(dir, 'none.json'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /none\.json: cannot read the report: no such file/);
    writeFileSync(join(dir, 'broken.json'), '{\n  "schema": "cryptgate/report@1",\n');
    const broken = runCli('render', join(dir, 'broken.json'), '--format', 'html', '--out', join(dir, 'never.html'));
    assert.equal(broken.status, 2);
    assert.match(broken.stderr, /broken\.json: line \d+, column \d+: JSON syntax/);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ nodes: ['10.0.0.11'] }));
    const wrong = runCli('render', join(dir, 'policy.json'));
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /policy\.json: not a valid cryptgate\/report@1 report \(\d+ problems\):\n {2}\/schema: required field is missing/);
    assert.doesNotMatch(wrong.stderr, /^\s+at /m);
    assert.throws(() => readFileSync(join(dir, 'never.html')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
