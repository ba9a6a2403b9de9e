// The CI gate: what breaks it, what is only reported, and which findings a CI line quotes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGate } from '../../../src/compliance/gate.js';
import { breaksGate } from '../../../src/compliance/policy.js';
import type { Check, Finding, Severity } from '../../../src/report/model.js';

const check = (id: string, status: Check['status'], severity: Severity, findings: Finding[]): Check => ({
  id,
  title: id,
  behaviour: ['IPSEC-5'],
  status,
  severity,
  findings,
  observed: [],
});
const finding = (message: string, severity?: Severity): Finding => ({ message, evidence: {}, ...(severity ? { severity } : {}) });

test('the examples a CI line quotes are the worst breaking findings, worst first, then in report order', () => {
  const checks = [
    check('a.low', 'fail', 'low', [finding('low 1'), finding('low 2')]),
    check('b.mixed', 'fail', 'high', [finding('medium 1', 'medium'), finding('info 1', 'info'), finding('high 1')]),
    check('c.passed', 'pass', 'critical', [finding('not a failure')]),
    check('d.critical', 'fail', 'critical', [finding('critical 1'), finding('critical 2')]),
    check('e.low', 'fail', 'low', [finding('low 3')]),
  ];
  const gate = evaluateGate(checks);
  assert.equal(gate.result, 'fail');
  assert.equal(gate.breaking, 7);
  assert.deepEqual(gate.examples.map((e) => e.message), ['critical 1', 'critical 2', 'high 1', 'medium 1', 'low 1']);
  assert.deepEqual(gate.examples[0], { check: 'd.critical', severity: 'critical', message: 'critical 1' });

  const high = evaluateGate(checks, 'high');
  assert.deepEqual([high.result, high.breaking, high.belowThreshold], ['fail', 3, 4]);
  assert.deepEqual(high.examples.map((e) => e.message), ['critical 1', 'critical 2', 'high 1']);
});

test('below the threshold, info and waived findings never break the gate; an error check makes it error', () => {
  const gate = evaluateGate([check('a', 'fail', 'medium', [finding('m'), finding('i', 'info')])], 'high');
  assert.deepEqual([gate.result, gate.breaking, gate.belowThreshold, gate.examples.length], ['pass', 0, 1, 0]);
  assert.equal(evaluateGate([check('a', 'error', 'high', []), check('b', 'fail', 'high', [finding('x')])]).result, 'error');
  for (const [severity, failOn, breaks] of [
    ['critical', 'critical', true],
    ['high', 'critical', false],
    ['medium', 'medium', true],
    ['low', 'medium', false],
    ['low', 'low', true],
    ['info', 'low', false],
  ] as const) {
    assert.equal(breaksGate(severity, failOn), breaks, `${severity} with failOn ${failOn}`);
  }
});
