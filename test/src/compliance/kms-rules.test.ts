// The KMS cross-checks on evidence: status invariants (KMS-6), one CMK everywhere (KMS-4/7),
// every node reached the CMK even when the initial node's status says OK (KMS-8), and
// least privilege for node roles and the key policy (KMS-3). Each finding explains itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKmsStatus } from '../../../src/evidence/kms-status.js';
import { KmsLogFactsCollector } from '../../../src/evidence/kms-log-facts.js';
import { JavaLogParser, NativeLogParser, type KmsLogEvent } from '../../../src/evidence/tableau-logs.js';
import { splitLines } from '../../../src/evidence/lines.js';
import { readAwsPolicyEvidence, type AwsPolicyEvidence } from '../../../src/evidence/aws-policy.js';
import { kmsStatusCheck } from '../../../src/compliance/rules/kms-status.js';
import { kmsNodeReachCheck } from '../../../src/compliance/rules/kms-node-reach.js';
import { kmsKeyConsistencyCheck } from '../../../src/compliance/rules/kms-key-consistency.js';
import { allowedKmsActions, keyPolicyAllowsRole, kmsLeastPrivilegeCheck } from '../../../src/compliance/rules/kms-least-privilege.js';
import { defaultPolicy } from '../../../src/compliance/policy.js';
import type { RuleContext } from '../../../src/compliance/rule-kit.js';
import type { Check } from '../../../src/report/model.js';
import { ACCOUNT, CMK, MEK_NEW, MEK_OLD, OTHER_CMK, RMK, keyPolicy, nativeOpen, reachedLog, refusedLog, rolePolicy, statusText } from '../../helpers/audit-evidence.js';

const ctx: RuleContext = { policy: defaultPolicy(), now: new Date('2024-06-01T00:00:00Z') };
const serious = (c: Check) => c.findings.filter((f) => (f.severity ?? c.severity) !== 'info');

function logFacts(logs: Record<string, string[]>) {
  const col = new KmsLogFactsCollector();
  for (const [node, texts] of Object.entries(logs)) {
    texts.forEach((text, i) => {
      const file = `logs/${node}/f${i}`;
      col.addFile(node, file);
      const p = text.startsWith('{') ? new NativeLogParser({ node, file, service: 'vizqlserver' }) : new JavaLogParser({ node, file, service: 'vizqlserver' });
      const ev: KmsLogEvent[] = [];
      for (const l of splitLines(text)) ev.push(...p.push(l));
      ev.push(...p.end());
      for (const e of ev) col.add(e);
    });
  }
  return col.facts();
}

// ---------------------------------------------------------------- kms.status

test('kms.status passes a consistent status and shows each MEK as proof', () => {
  const c = kmsStatusCheck([parseKmsStatus(statusText(), 'status.txt')], ctx);
  assert.equal(c.status, 'pass', JSON.stringify(c.findings));
  assert.deepEqual(c.observed.filter((r) => r.timeline).map((r) => [r.mekId, r.state]), [[MEK_OLD, 'decryption-only'], [MEK_NEW, 'encryption/decryption']]);
});

test('kms.status: two encryption MEKs, no RMK, region not the ARN\'s, times out of order, local mode — each named', () => {
  const meks = `  MEK ID: ${MEK_OLD}
    State: encryption/decryption
    Created at: 2024-01-10T10:00:00Z
    First transition to encrypt/decrypt: 2024-01-09T10:00:00Z
    Transition to decrypt-only: none
  MEK ID: ${MEK_NEW}
    State: encryption/decryption
    Created at: 2024-05-01T09:00:00Z
    First transition to encrypt/decrypt: 2024-05-01T09:00:00Z
    Transition to decrypt-only: none
`;
  const text = statusText({ meks, region: 'eu-west-1' }).replace(/^Root master key.*\n/m, '');
  const msgs = serious(kmsStatusCheck([parseKmsStatus(text, 's.txt')], ctx)).map((f) => f.message);
  assert.ok(msgs.includes(`s.txt: region eu-west-1 but the CMK ARN is in us-west-2: the region and the ARN must name the same region`), msgs.join('\n'));
  assert.ok(msgs.includes('s.txt: no root master key (RMK) in use'));
  assert.ok(msgs.includes(`s.txt: 2 MEKs are in the encryption/decryption state (${MEK_OLD}, ${MEK_NEW}): exactly one may encrypt`));
  assert.ok(msgs.includes(`s.txt: MEK ${MEK_OLD} (line 5) became an encryption key (2024-01-09T10:00:00Z) before it was created (2024-01-10T10:00:00Z)`));

  const overlap = statusText().replace('Transition to decrypt-only: 2024-05-01T09:00:00Z', 'Transition to decrypt-only: 2024-05-02T09:00:00Z');
  assert.deepEqual(serious(kmsStatusCheck([parseKmsStatus(overlap, 's.txt')], ctx)).map((f) => f.message), [
    `s.txt: MEK ${MEK_OLD} still encrypted until 2024-05-02T09:00:00Z, after MEK ${MEK_NEW} became the encryption key at 2024-05-01T09:00:00Z: two encryption keys at once`,
  ]);
  const local = kmsStatusCheck([parseKmsStatus(statusText().replace('KMS mode: AWS', 'KMS mode: local'), 'l.txt')], ctx);
  assert.equal(local.status, 'fail');
  assert.match(serious(local)[0]!.message, /^l\.txt: KMS mode is local: extracts are not under a key hierarchy rooted in an AWS KMS CMK/);
  const badArn = kmsStatusCheck([parseKmsStatus(statusText({ cmk: 'arn:aws:kms:us-west-2:86753099990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567' }), 'b.txt')], ctx);
  assert.match(serious(badArn)[0]!.message, /is not a valid KMS key ARN: account '86753099990073' has 14 digits: expected exactly 12/);
});

test('kms.status without any status output is skip with a "No evidence" finding, never a pass', () => {
  const c = kmsStatusCheck([], ctx);
  assert.equal(c.status, 'skip');
  assert.match(c.findings[0]!.message, /^No evidence: no `tsm security kms status` output/);
});

// ---------------------------------------------------------------- kms.node-reach (KMS-8)

test('kms.node-reach names the node that cannot reach the CMK although the initial node\'s status says OK', () => {
  const statuses = [parseKmsStatus(statusText(), 'status.txt')];
  const logs = logFacts({ node1: [reachedLog()], node2: [nativeOpen()], node3: [refusedLog()] });
  const c = kmsNodeReachCheck({ logs, statuses }, ctx);
  assert.equal(c.status, 'fail');
  const f = serious(c);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.evidence.node, 'node3');
  assert.equal(f[0]!.evidence.errorCode, 'AccessDeniedException');
  assert.deepEqual(f[0]!.evidence.roles, ['tableau-node3']);
  assert.equal(
    f[0]!.message,
    'node3 cannot reach the CMK: its last KMS attempt at 2024-05-01 09:00:02.000 +0000 failed with AccessDeniedException (logs/node3/f0:1) (its logs never show it reaching the CMK); 1 service start failure(s), last: "Service failed to start: KMS storage unavailable" (logs/node3/f0:4) — although `tsm security kms status` says OK (status.txt): it checks only node1, the node running the Administration Controller (KMS-8)',
  );
  assert.deepEqual(c.observed.map((r) => [r.node, r.verdict]), [['node1', 'reached the CMK'], ['node2', 'reached the CMK'], ['node3', 'cannot reach the CMK']]);
});

test('kms.node-reach: a node that recovered passes with an info note; a silent node and a missing node fail', () => {
  const later = reachedLog().replace(/09:00:0/g, '09:30:0');
  const recovered = kmsNodeReachCheck({ logs: logFacts({ node1: [refusedLog(), later] }), statuses: [] }, ctx);
  assert.equal(recovered.status, 'pass');
  assert.match(recovered.findings[0]!.message, /^node1 recovered: 1 CMK error\(s\)/);
  const silent = kmsNodeReachCheck({ logs: logFacts({ node1: [reachedLog()], node2: ['2024-05-01 09:00:01.000 +0000 (,,,,,:,-) main vizqlserver: INFO  a.B - hello\n'] }), statuses: [], expectedNodes: ['node1', 'node2', 'node4'] }, ctx);
  assert.deepEqual(serious(silent).map((f) => [f.evidence.node, f.severity ?? silent.severity]), [['node2', 'medium'], ['node4', 'high']]);
  assert.match(serious(silent)[1]!.message, /^node4: no logs from this node in the evidence/);
  const none = kmsNodeReachCheck({ logs: [], statuses: [] }, ctx);
  assert.equal(none.status, 'skip');
  assert.match(none.findings[0]!.message, /^No evidence: no Tableau logs/);
});

test('a waiver scoped to the node downgrades it; once expired, the finding counts again and says so', () => {
  const logs = logFacts({ node1: [reachedLog()], node3: [refusedLog()] });
  const p = defaultPolicy();
  p.waivers = [{ check: 'kms.node-reach', scope: { node: 'node3' }, reason: 'node3 being rebuilt', approver: 'sec-lead', expires: '2024-05-31' }];
  const inForce = kmsNodeReachCheck({ logs, statuses: [] }, { policy: p, now: new Date('2024-05-31T23:00:00Z') });
  assert.equal(inForce.status, 'pass');
  assert.match(inForce.findings[0]!.message, /^\[waived until 2024-05-31 by sec-lead: node3 being rebuilt\] node3 cannot reach the CMK/);
  const lapsed = kmsNodeReachCheck({ logs, statuses: [] }, { policy: p, now: new Date('2024-06-01T00:00:00Z') });
  assert.equal(lapsed.status, 'fail');
  assert.match(lapsed.findings[0]!.message, /^\[waiver expired on 2024-05-31 \(approved by sec-lead: node3 being rebuilt\): counts again\] node3 cannot reach the CMK/);
  assert.deepEqual(lapsed.findings[0]!.evidence.waiverExpired, { reason: 'node3 being rebuilt', approver: 'sec-lead', expires: '2024-05-31' });
});

// ---------------------------------------------------------------- kms.key-consistency

test('kms.key-consistency: one CMK in status, logs and key policy passes; another key in one node\'s logs is named', () => {
  const statuses = [parseKmsStatus(statusText(), 'status.txt')];
  const aws = readAwsPolicyEvidence({ KeyArn: CMK, Policy: JSON.stringify(keyPolicy(['r'])) }, 'kp.json');
  const same = kmsKeyConsistencyCheck({ statuses, logs: logFacts({ node1: [reachedLog()], node2: [nativeOpen()] }), aws }, ctx);
  assert.equal(same.status, 'pass', JSON.stringify(same.findings));
  assert.deepEqual(same.observed.filter((r) => r.cmkArn).map((r) => r.source), ['status', 'logs', 'logs', 'key-policy']);
  const split = kmsKeyConsistencyCheck({ statuses, logs: logFacts({ node1: [reachedLog()], node2: [reachedLog(OTHER_CMK)] }), aws }, ctx);
  assert.equal(split.status, 'fail');
  assert.equal(serious(split)[0]!.message, `logs node2 names CMK ${OTHER_CMK}, but status (status.txt), logs node1, key-policy (kp.json) name ${CMK}: the evidence is about two different keys`);
});

test('kms.key-consistency: a single source is nothing to cross-check (skip), no source is no evidence (skip)', () => {
  const one = kmsKeyConsistencyCheck({ statuses: [parseKmsStatus(statusText(), 'status.txt')], logs: [], aws: [] }, ctx);
  assert.equal(one.status, 'skip');
  assert.match(one.findings.at(-1)!.message, /^Only one source names the CMK \(status \(status\.txt\)\)/);
  const none = kmsKeyConsistencyCheck({ statuses: [], logs: [], aws: [] }, ctx);
  assert.equal(none.status, 'skip');
  assert.match(none.findings[0]!.message, /^No evidence: nothing in the folder names a CMK/);
});

test('kms.key-consistency: the RMK the status says is in use must appear in the logs', () => {
  const statuses = [parseKmsStatus(statusText().replace(RMK, '00000000-1111-4222-8333-944455556666'), 'status.txt')];
  const c = kmsKeyConsistencyCheck({ statuses, logs: logFacts({ node1: [reachedLog()] }), aws: [] }, ctx);
  assert.equal(c.status, 'fail');
  assert.match(serious(c)[0]!.message, /^status\.txt: RMK 00000000-1111-4222-8333-944455556666 is in use per the status, but no node's logs ever use it \(they show c4d7e3b2/);
});

// ---------------------------------------------------------------- kms.least-privilege (KMS-3)

const roles = ['tableau-node1', 'tableau-node2'];
const awsOf = (...docs: [object, string][]): AwsPolicyEvidence[] => docs.flatMap(([d, f]) => readAwsPolicyEvidence(d, f));
const keyPolicyExport = (doc: object): object => ({ Policy: JSON.stringify(doc), PolicyName: 'default' });

test('exactly GenerateDataKey and Decrypt on the CMK, for every role, in both policies: pass', () => {
  const aws = awsOf([rolePolicy(roles[0]!), 'r1.json'], [rolePolicy(roles[1]!), 'r2.json'], [keyPolicyExport(keyPolicy(roles)), 'kp.json']);
  const c = kmsLeastPrivilegeCheck({ aws, cmkArn: CMK, expectedRoles: roles }, ctx);
  assert.equal(c.status, 'pass', serious(c).map((f) => f.message).join('\n'));
  assert.deepEqual(c.observed.filter((r) => r.allowedOnCmk).map((r) => r.allowedOnCmk), [['kms:Decrypt', 'kms:GenerateDataKey'], ['kms:Decrypt', 'kms:GenerateDataKey']]);
});

test('kms:*, Resource "*", a missing Decrypt, extra actions and a missing role are each flagged and explained', () => {
  const aws = awsOf(
    [rolePolicy('tableau-node1', ['kms:*'], '*'), 'r1.json'],
    [rolePolicy('tableau-node2', ['kms:GenerateDataKey', 'kms:Encrypt']), 'r2.json'],
    [keyPolicyExport(keyPolicy(roles)), 'kp.json'],
  );
  const c = kmsLeastPrivilegeCheck({ aws, cmkArn: CMK, expectedRoles: [...roles, 'tableau-node3'] }, ctx);
  const msgs = serious(c).map((f) => f.message);
  assert.ok(msgs.includes('role tableau-node1: tableau-kms statement 0 allows "kms:*": every KMS action it matches, including ScheduleKeyDeletion, PutKeyPolicy and DisableKey, not only kms:GenerateDataKey and kms:Decrypt'), msgs.join('\n'));
  assert.ok(msgs.includes('role tableau-node1: tableau-kms statement 0 applies to Resource "*": every KMS key in the account, not just the CMK; scope it to the CMK\'s ARN'));
  const extra = serious(c).find((f) => f.message.startsWith('role tableau-node1: also allowed '));
  assert.match(extra!.message, /^role tableau-node1: also allowed 5\d more KMS action\(s\) on arn:aws:kms:us-west-2:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab: kms:CancelKeyDeletion, .*, …; least privilege is exactly kms:GenerateDataKey and kms:Decrypt$/);
  assert.ok((extra!.evidence.extra as string[]).includes('kms:ScheduleKeyDeletion'));
  assert.ok(msgs.includes(`role tableau-node2: not allowed kms:Decrypt on ${CMK} by its IAM policy: the key policy grants it to the role directly, so KMS still allows it, but KMS-3 asks the role policy to say so too`), msgs.join('\n'));
  assert.ok(msgs.includes(`role tableau-node2: also allowed 1 more KMS action(s) on ${CMK}: kms:Encrypt; least privilege is exactly kms:GenerateDataKey and kms:Decrypt`));
  assert.ok(msgs.some((m) => m.startsWith('role tableau-node3: no IAM policy for this role in the evidence')));
  assert.ok(msgs.includes('key policy kp.json: does not name role tableau-node3: it only delegates to IAM through the account root; KMS-3 asks the key policy itself to allow this role kms:GenerateDataKey and kms:Decrypt'));
  assert.equal(c.status, 'fail');
});

test('the key policy: Principal "*" and kms:* for a non-root principal are flagged; the root delegation is only noted', () => {
  const doc = keyPolicy(roles, [
    { Sid: 'open', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
    { Sid: 'admin', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/ops` }, Action: 'kms:*', Resource: '*' },
  ]);
  const c = kmsLeastPrivilegeCheck({ aws: awsOf([keyPolicyExport(doc), 'kp.json']), cmkArn: CMK }, ctx);
  const msgs = c.findings.map((f) => `${f.severity ?? c.severity}: ${f.message}`);
  assert.ok(msgs.includes('high: key policy kp.json: statement 2 ("open") allows Principal "*" kms:Decrypt: any AWS principal, in any account, may use the key'), msgs.join('\n'));
  assert.ok(msgs.includes(`high: key policy kp.json: statement 3 ("admin") allows "kms:*" to arn:aws:iam::${ACCOUNT}:role/ops: every key operation, including deleting the key and changing this policy`));
  assert.ok(msgs.some((m) => m.startsWith('info: key policy kp.json: the account root has kms:*')));
});

test('allowedKmsActions: wildcards, NotAction, Resource matching and an unconditional Deny', () => {
  const doc = readAwsPolicyEvidence(
    {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'kms:Gen*', Resource: `arn:aws:kms:us-west-2:${ACCOUNT}:key/*` },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: OTHER_CMK },
        { Effect: 'Deny', Action: 'kms:GenerateDataKeyPair*', Resource: '*' },
      ],
    },
    'd.json',
  )[0]!;
  assert.equal(doc.kind, 'role-policy');
  const st = doc.kind === 'role-policy' ? doc.document.statements : [];
  assert.deepEqual(allowedKmsActions(st, CMK), ['kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:GenerateMac', 'kms:GenerateRandom']);
  assert.deepEqual(allowedKmsActions(st, OTHER_CMK).includes('kms:Decrypt'), true);
});

test('keyPolicyAllowsRole: the statements naming the role, not the account root or another role; a Deny on "*" applies to it', () => {
  const doc = keyPolicy(['tableau-node1'], [
    { Sid: 'ops', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/ops` }, Action: 'kms:Encrypt', Resource: '*' },
    { Sid: 'no decrypt for anyone', Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
  ]);
  const [k] = awsOf([keyPolicyExport(doc), 'kp.json']);
  const st = k?.kind === 'key-policy' ? k.document.statements : [];
  assert.deepEqual(keyPolicyAllowsRole(st, 'tableau-node1', CMK), ['kms:GenerateDataKey']);
  assert.deepEqual(keyPolicyAllowsRole(st, 'ops', CMK), ['kms:Encrypt']);
  assert.deepEqual(keyPolicyAllowsRole(st, 'tableau-node3', CMK), []);
});

test('no role or key policy export: skip with "No evidence", listing the roles known from logs', () => {
  const c = kmsLeastPrivilegeCheck({ aws: [], cmkArn: CMK, logs: logFacts({ node3: [refusedLog()] }) }, ctx);
  assert.equal(c.status, 'skip');
  assert.deepEqual(c.findings.map((f) => f.message), ['No evidence: no IAM role policy or key policy export in the folder (roles known from the policy file or logs: tableau-node3)']);
});

test('a role its IAM policy and the key policy both leave without Decrypt is the KMS-8 pitfall: high, and says why', () => {
  const aws = awsOf([rolePolicy('tableau-node3', ['kms:GenerateDataKey']), 'r3.json'], [keyPolicyExport(keyPolicy(['tableau-node1'])), 'kp.json']);
  const c = kmsLeastPrivilegeCheck({ aws, cmkArn: CMK }, ctx);
  const f = serious(c).find((x) => x.evidence.role === 'tableau-node3' && x.evidence.missing);
  assert.equal(f?.message, `role tableau-node3: not allowed kms:Decrypt on ${CMK} by its IAM policy: its services cannot decrypt the RMK and stay in Error (KMS-8)`);
  assert.equal(f?.severity, 'high');
});
