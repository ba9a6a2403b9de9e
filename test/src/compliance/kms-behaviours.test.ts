// Which documented behaviour each KMS finding speaks to, so a check covering several fails only
// the one that is broken: local mode is KMS-1 (not KMS-6); a status that reports an error is
// KMS-6; a node that cannot reach the CMK is KMS-8 (its logs do show the KMS activity, KMS-7);
// a region that is not the ARN's is KMS-4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { KmsLogFactsCollector } from '../../../src/evidence/kms-log-facts.js';
import { JavaLogParser, type KmsLogEvent } from '../../../src/evidence/tableau-logs.js';
import { splitLines } from '../../../src/evidence/lines.js';
import { kmsStatusCheck } from '../../../src/compliance/rules/kms-status.js';
import { kmsNodeReachCheck } from '../../../src/compliance/rules/kms-node-reach.js';
import { kmsKeyConsistencyCheck } from '../../../src/compliance/rules/kms-key-consistency.js';
import { defaultPolicy } from '../../../src/compliance/policy.js';
import type { RuleContext } from '../../../src/compliance/rule-kit.js';
import { behaviourResult } from '../../../src/report/model.js';
import { reachedLog, refusedLog, statusText } from '../../helpers/audit-evidence.js';

const ctx: RuleContext = { policy: defaultPolicy(), now: new Date('2024-06-01T00:00:00Z') };

function logFacts(logs: Record<string, string>) {
  const col = new KmsLogFactsCollector();
  for (const [node, text] of Object.entries(logs)) {
    const file = `logs/${node}/vizqlserver_${node}-0.log`;
    col.addFile(node, file);
    const p = new JavaLogParser({ node, file, service: 'vizqlserver' });
    const ev: KmsLogEvent[] = [];
    for (const l of splitLines(text)) ev.push(...p.push(l));
    ev.push(...p.end());
    for (const e of ev) col.add(e);
  }
  return col.facts();
}

test('kms.status: local mode fails KMS-1 and not KMS-6; a status reporting an error fails KMS-6 and not KMS-1', () => {
  const local = kmsStatusCheck([parseKmsStatus(statusText().replace('KMS mode: AWS', 'KMS mode: local'), 'l.txt')], ctx);
  assert.equal(local.status, 'fail');
  assert.deepEqual([behaviourResult([local], 'KMS-1'), behaviourResult([local], 'KMS-6')], ['fail', 'pass']);
  const error = kmsStatusCheck([parseKmsStatus(statusText({ ok: false }), 'e.txt')], ctx);
  assert.deepEqual([behaviourResult([error], 'KMS-1'), behaviourResult([error], 'KMS-6')], ['pass', 'fail']);
  assert.deepEqual(error.findings.map((f) => f.behaviour), [['KMS-6']]);
});

test('kms.node-reach: a node that cannot reach the CMK fails KMS-8, not KMS-7 (its logs show the KMS activity)', () => {
  const c = kmsNodeReachCheck({ logs: logFacts({ node1: reachedLog(), node3: refusedLog() }), statuses: [parseKmsStatus(statusText(), 's.txt')] }, ctx);
  assert.equal(c.status, 'fail');
  assert.deepEqual([behaviourResult([c], 'KMS-7'), behaviourResult([c], 'KMS-8')], ['pass', 'fail']);
  const missing = kmsNodeReachCheck({ logs: logFacts({ node1: reachedLog() }), statuses: [], expectedNodes: ['node1', 'node2'] }, ctx);
  assert.deepEqual([behaviourResult([missing], 'KMS-7'), behaviourResult([missing], 'KMS-8')], ['pass', 'fail']);
});

test('kms.key-consistency: a status region that is not the ARN\'s fails KMS-4 only', () => {
  const c = kmsKeyConsistencyCheck({ statuses: [parseKmsStatus(statusText({ region: 'eu-west-1' }), 's.txt')], logs: logFacts({ node1: reachedLog() }), aws: [] }, ctx);
  assert.equal(c.status, 'fail');
  assert.deepEqual(['KMS-4', 'KMS-6', 'KMS-7'].map((b) => behaviourResult([c], b)), ['fail', 'pass', 'pass']);
});
