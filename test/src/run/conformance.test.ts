// The per-backend conformance table: behaviour id → pass / partial / not reproducible / fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Check } from '../../../src/report/model.js';
import { conformanceTable, renderConformance } from '../../../src/run/conformance.js';

function check(id: string, behaviour: string[], status: Check['status'], notReproducible = false): Check {
  return {
    id,
    title: id,
    behaviour,
    status,
    severity: 'high',
    findings: notReproducible ? [{ message: `not reproducible on moto: because`, evidence: { notReproducible: true, backend: 'moto' } }] : [],
    observed: [],
  };
}

const checks: Check[] = [
  check('kms/a', ['KMS-1'], 'pass'),
  check('kms/b', ['KMS-2', 'KMS-3'], 'pass'),
  check('kms/c', ['KMS-2'], 'skip', true),
  check('kms/d', ['KMS-3', 'KMS-8'], 'skip', true),
  check('kms/e', ['KMS-10'], 'fail'),
  check('kms/f', ['KMS-10'], 'skip', true),
  check('kms/g', ['KMS-11'], 'skip'),
  check('ipsec/h', ['IPSEC-5'], 'fail'),
];

test('one row per KMS behaviour, in numeric order; IPsec checks are not part of the KMS table', () => {
  const t = conformanceTable(checks, 'moto_server 5.2.5');
  assert.deepEqual(
    t.rows.map((r) => [r.behaviour, r.status, r.pass, r.fail, r.notReproducible, r.skip, r.scenarios]),
    [
      ['KMS-1', 'pass', 1, 0, 0, 0, 1],
      ['KMS-2', 'partial', 1, 0, 1, 0, 2],
      ['KMS-3', 'partial', 1, 0, 1, 0, 2],
      ['KMS-8', 'not reproducible', 0, 0, 1, 0, 1],
      ['KMS-10', 'fail', 0, 1, 1, 0, 2],
      ['KMS-11', 'skip', 0, 0, 0, 1, 1],
    ],
  );
  assert.deepEqual(
    t.notReproducible.map((n) => n.check),
    ['kms/c', 'kms/d', 'kms/f'],
  );
});

test('the text table names the backend, aligns its columns and lists why each scenario is not reproducible', () => {
  const text = renderConformance(conformanceTable(checks, 'moto_server 5.2.5'));
  const lines = text.split('\n');
  assert.equal(lines[0], 'KMS conformance on moto_server 5.2.5');
  assert.match(lines[1]!, /^behaviour {2}result {12}pass {2}fail {2}error {2}not reproducible {2}skipped {2}scenarios$/);
  assert.equal(lines.find((l) => l.startsWith('KMS-8')), 'KMS-8      not reproducible     0     0      0                 1        0          1');
  assert.ok(text.includes('  kms/d [KMS-3, KMS-8]: not reproducible on moto: because'));
});

test('an error anywhere makes the behaviour an error; a failure outranks it', () => {
  const t = conformanceTable([check('a', ['KMS-4'], 'error'), check('b', ['KMS-4'], 'pass'), check('c', ['KMS-5'], 'error'), check('d', ['KMS-5'], 'fail')], 'embedded');
  assert.deepEqual(t.rows.map((r) => r.status), ['error', 'fail']);
});
