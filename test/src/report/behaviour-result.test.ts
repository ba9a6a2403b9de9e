// One behaviour's result from the checks that speak to it: a check covering two behaviours
// fails only the one its findings name; waived and info findings fail nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { behaviourResult, type Check } from '../../../src/report/model.js';

const check = (status: Check['status'], behaviour: string[], findings: Check['findings'] = []): Check => ({ id: 'x', title: 'x', behaviour, status, severity: 'high', findings, observed: [] });

test('a failed check fails the behaviours its counted findings name, all of its own when they name none', () => {
  const narrow = check('fail', ['IPSEC-5', 'IPSEC-6'], [{ message: 'leak', behaviour: ['IPSEC-5'], evidence: {} }, { message: 'gateway', severity: 'info', behaviour: ['IPSEC-6'], evidence: {} }]);
  assert.equal(behaviourResult([narrow], 'IPSEC-5'), 'fail');
  assert.equal(behaviourResult([narrow], 'IPSEC-6'), 'pass', 'judged by a check, and no counted finding against it');
  const broad = check('fail', ['KMS-7', 'KMS-8'], [{ message: 'no CMK access in its logs', severity: 'medium', evidence: {} }]);
  assert.equal(behaviourResult([broad], 'KMS-7'), 'fail');
  assert.equal(behaviourResult([broad], 'KMS-8'), 'fail');
  const bare = check('fail', ['KMS-3']);
  assert.equal(behaviourResult([bare], 'KMS-3'), 'fail', 'a failed check without findings still fails');
});

test('error beats fail, skip alone is no evidence, and a behaviour no check covers has no evidence', () => {
  assert.equal(behaviourResult([check('fail', ['KMS-3']), check('error', ['KMS-3'])], 'KMS-3'), 'error');
  assert.equal(behaviourResult([check('skip', ['KMS-3'])], 'KMS-3'), 'no evidence');
  assert.equal(behaviourResult([check('skip', ['KMS-3']), check('pass', ['KMS-3'])], 'KMS-3'), 'pass');
  assert.equal(behaviourResult([check('pass', ['KMS-3'])], 'KMS-9'), 'no evidence');
});
