// Audit parity: the @audit tags a scenario declares, the reason comment of @audit:none, and the
// comparison of an audit's per-behaviour results with them (what the After hook in
// steps/audit-parity.steps.ts fails a scenario on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithAudit, mismatchMessage, parseAuditTags, reasonAbove } from '../../../src/audit/parity.js';
import { behaviourVerdicts } from '../../../src/audit/audit-checks.js';
import { InputError } from '../../../src/util/errors.js';
import type { Check } from '../../../src/report/model.js';

test('audit tags: fail and pass expectations per behaviour; other tags are not audit tags', () => {
  const e = parseAuditTags(['@kms', '@KMS-8', '@critical', '@audit:KMS-8=fail', '@audit:KMS-3=pass', '@audit:KMS-8=fail']);
  assert.equal(e.none, false);
  assert.deepEqual([...e.results], [['KMS-8', 'fail'], ['KMS-3', 'pass']]);
  assert.deepEqual(parseAuditTags(['@ipsec', '@audit:none']), { none: true, results: new Map() });
  assert.deepEqual(parseAuditTags(['@ipsec']), { none: false, results: new Map() });
});

test('audit tags: malformed, unknown, unjudgeable and contradicting tags are errors that say what was expected', () => {
  const bad: [string[], RegExp][] = [
    [['@audit:KMS-8'], /^audit tag @audit:KMS-8: expected @audit:<behaviour>=fail, @audit:<behaviour>=pass or @audit:none/],
    [['@audit-KMS-8=fail'], /^audit tag @audit-KMS-8=fail: expected/],
    [['@audit:kms-8=fail'], /^audit tag @audit:kms-8=fail: expected/],
    [['@audit:KMS-8=skip'], /^audit tag @audit:KMS-8=skip: expected/],
    [['@Audit:none'], /^audit tag @Audit:none: expected/],
    [['@audit:KMS-12=fail'], /^audit tag @audit:KMS-12=fail: unknown behaviour KMS-12 \(expected one of IPSEC-1, .*KMS-11\)$/],
    [['@audit:KMS-9=pass'], /^audit tag @audit:KMS-9=pass: no audit check judges KMS-9 \(logs spanning a rotation.*\), so the audit can only say "no evidence" for it$/],
    [['@audit:IPSEC-5=fail', '@audit:IPSEC-5=pass'], /^audit tags @audit:IPSEC-5=fail and @audit:IPSEC-5=pass contradict each other$/],
    [['@audit:none', '@audit:KMS-3=fail'], /^audit tags: @audit:none says there is nothing to audit, yet @audit:KMS-3=fail expects results$/],
  ];
  for (const [tags, message] of bad) assert.throws(() => parseAuditTags(tags), (e: unknown) => e instanceof InputError && message.test(e.message), tags.join(' '));
});

test('the reason of @audit:none is the comment block right above the tag line, without its "audit:none:" lead', () => {
  const comments = [
    { line: 1, text: '# an unrelated comment' },
    { line: 3, text: '  # audit:none: fixture captures,' },
    { line: 4, text: '  # no folder of their own' },
  ];
  assert.equal(reasonAbove(comments, 5), 'fixture captures, no folder of their own');
  assert.equal(reasonAbove(comments, 3), null, 'line 2 is no comment: nothing right above line 3');
  assert.equal(reasonAbove([{ line: 9, text: '#' }], 10), null, 'an empty comment gives no reason');
});

function check(id: string, status: Check['status'], behaviour: string[], findings: Check['findings'] = []): Check {
  return { id, title: id, behaviour, status, severity: 'high', findings, observed: [] };
}

test('parity: expected results must match, untagged behaviours must not fail, and the mismatch names the audit findings', () => {
  const checks = [
    check('kms.node-reach', 'fail', ['KMS-7', 'KMS-8'], [{ message: 'node2 cannot reach the CMK', behaviour: ['KMS-8'], evidence: {} }]),
    check('kms.least-privilege', 'fail', ['KMS-3'], [{ message: 'role r: Resource "*"', evidence: {} }, { message: 'a note', severity: 'info', evidence: {} }]),
    check('kms.status', 'skip', ['KMS-1', 'KMS-6'], [{ message: 'No evidence: no status', severity: 'info', evidence: {} }]),
  ];
  const results = behaviourVerdicts(checks);
  assert.equal(results.get('KMS-7'), 'pass', 'the failing check speaks to KMS-8 only');
  assert.equal(results.get('KMS-8'), 'fail');

  assert.deepEqual(compareWithAudit(parseAuditTags(['@audit:KMS-8=fail', '@audit:KMS-3=fail', '@audit:KMS-7=pass']), results, checks), []);

  const m = compareWithAudit(parseAuditTags(['@audit:KMS-8=fail', '@audit:KMS-6=pass']), results, checks);
  assert.deepEqual(m.map((x) => [x.behaviour, x.expected, x.audited]), [
    ['KMS-3', 'pass or no evidence', 'fail'],
    ['KMS-6', 'pass', 'no evidence'],
  ]);
  assert.deepEqual(m[0]!.because, ['kms.least-privilege: role r: Resource "*"']);
  assert.deepEqual(m[1]!.because, ['kms.status: skip (No evidence: no status)']);
  const text = mismatchMessage('cryptgate audit evidence/kms/x', m);
  assert.match(text, /^the audit of this scenario's evidence disagrees with the scenario \(`cryptgate audit evidence\/kms\/x`\):\n  KMS-3: expected pass or no evidence, audited fail\n    kms\.least-privilege: role r: Resource "\*"\n  KMS-6: expected pass, audited no evidence\n/);
});

test('parity: @audit:none requires no evidence for any behaviour; an audit that judged nothing needs @audit:none', () => {
  const none = [check('kms.status', 'skip', ['KMS-1', 'KMS-6']), check('audit.evidence', 'pass', [])];
  none[1]!.observed.push({ kind: 'java-log', files: 2 });
  const nothing = behaviourVerdicts(none);
  assert.deepEqual(compareWithAudit(parseAuditTags(['@audit:none']), nothing, none), []);
  const silent = compareWithAudit(parseAuditTags([]), nothing, none);
  assert.deepEqual(silent.map((x) => [x.behaviour, x.audited]), [['every behaviour', 'no evidence']]);
  assert.match(silent[0]!.because[0]!, /no evidence for any behaviour \(files read: java-log: 2\)/);

  const judged = [check('kms.least-privilege', 'pass', ['KMS-3'])];
  const m = compareWithAudit(parseAuditTags(['@audit:none']), behaviourVerdicts(judged), judged);
  assert.deepEqual(m.map((x) => [x.behaviour, x.expected, x.audited]), [['KMS-3', 'no evidence', 'pass']]);
});
