// The small evidence readers of the KMS steps: transcripts, tsm status -v, policy grants,
// the plaintext-key scan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTranscript, identityGrants, keyPolicyGrants, parseTranscript, plaintextKeyHits, tokenize } from '../../steps/kms-evidence.js';
import { parseTsmStatus } from '../../steps/tsm-status.js';

test('command lines split on spaces, with quoted words kept whole', () => {
  assert.deepEqual(tokenize(`tsm security kms set-mode aws --aws-region "us-west-2" --key-arn 'arn:aws:kms:x y'`), [
    'tsm',
    'security',
    'kms',
    'set-mode',
    'aws',
    '--aws-region',
    'us-west-2',
    '--key-arn',
    'arn:aws:kms:x y',
  ]);
});

test('a transcript reads back what was written: command, output, error line, exit code', () => {
  const t = { command: 'tsm security kms status', output: ['KMS mode: local', 'Status: OK'], error: null, exitCode: 0 };
  assert.deepEqual(parseTranscript(formatTranscript(t), 'f'), t);
  const failed = { command: 'tsm x', output: ['Job id is 1'], error: "AWS KMS mode needs the Advanced Management licence; this cluster is licensed 'none'", exitCode: 2 };
  assert.equal(formatTranscript(failed), "$ tsm x\nJob id is 1\ncryptgate: AWS KMS mode needs the Advanced Management licence; this cluster is licensed 'none'\nexit code: 2\n");
  assert.deepEqual(parseTranscript(formatTranscript(failed), 'f'), failed);
  assert.throws(() => parseTranscript('no dollar\nexit code: 0\n', 'f.txt'), /f\.txt: expected a transcript/);
});

test('tsm status -v: each node with each service state and why it is in error', () => {
  const st = parseTsmStatus(
    [
      'Status: DEGRADED',
      '',
      'node1: node1.ec2.internal',
      '    Status: RUNNING',
      "    'Tableau Server Administration Controller 0' is running.",
      "    'Tableau Server VizQL Server 0' is running.",
      'node2: node2.ec2.internal',
      '    Status: DEGRADED',
      "    'Tableau Server VizQL Server 0' is in an error state. cannot open KMS storage: node2 (role r): kms:Decrypt failed",
      "    'Tableau Server Gateway 0' is stopped.",
      '',
    ].join('\n'),
    'st.txt',
  );
  assert.equal(st.overall, 'DEGRADED');
  assert.equal(st.nodes.get('node1')?.services.get('Tableau Server VizQL Server')?.state, 'running');
  assert.deepEqual(st.nodes.get('node2')?.services.get('Tableau Server VizQL Server'), { state: 'error', detail: 'cannot open KMS storage: node2 (role r): kms:Decrypt failed' });
  assert.equal(st.nodes.get('node2')?.services.get('Tableau Server Gateway')?.state, 'stopped');
  assert.throws(() => parseTsmStatus('Status: RUNNING\nnode1: h\n    garbage\n', 'st.txt'), /st\.txt: line 3: expected "'<service> <n>' is running/);
});

test('identity grants: the KMS actions allowed on the key, after Denies and NotAction', () => {
  const key = 'arn:aws:kms:us-east-1:111122223333:key/k';
  const policy = {
    Statement: [
      { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:Encrypt'], Resource: '*' },
      { Effect: 'Allow', Action: 'kms:ReEncrypt*', Resource: 'arn:aws:kms:us-east-1:111122223333:key/other' },
      { Effect: 'Deny', Action: 'kms:Encrypt', Resource: '*' },
    ],
  };
  assert.deepEqual(identityGrants(policy, key, 'p.json'), ['kms:Decrypt', 'kms:GenerateDataKey']);
  // NotAction allows everything but what it names: a broad grant the "exactly these" steps must see.
  const notAction = identityGrants({ Statement: { Effect: 'Allow', NotAction: 'kms:Decrypt', Resource: '*' } }, key, 'p.json');
  assert.ok(notAction.includes('kms:GenerateDataKey') && notAction.includes('kms:ScheduleKeyDeletion') && !notAction.includes('kms:Decrypt'));
  assert.deepEqual(identityGrants({ Version: '2012-10-17', Statement: [] }, key, 'p.json'), []);
  assert.throws(() => identityGrants({ Statement: 'nope' }, key, 'p.json', '/PolicyDocument'), /p\.json/);
});

test('key policy grants: only statements naming the role of that account (or *)', () => {
  const key = 'arn:aws:kms:us-east-1:111122223333:key/k';
  const role = 'arn:aws:iam::111122223333:role/node1';
  const policy = {
    Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: [role, 'arn:aws:iam::111122223333:role/node2'] }, Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: '*' },
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::444455556666:role/node3' }, Action: 'kms:Decrypt', Resource: '*' },
    ],
  };
  assert.deepEqual(keyPolicyGrants(policy, role, key, 'kp.json'), ['kms:Decrypt', 'kms:GenerateDataKey']);
  assert.deepEqual(keyPolicyGrants(policy, 'arn:aws:iam::111122223333:role/node3', key, 'kp.json'), []);
  assert.deepEqual(keyPolicyGrants({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }] }, role, key, 'kp.json'), ['kms:Decrypt']);
  assert.throws(() => keyPolicyGrants(policy, 'arn:aws:iam::111122223333:user/bob', key, 'kp.json'), /expected a role ARN/);
});

test('the plaintext-key scan finds a key in any of its encodings, and nothing in a clean file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-scan-'));
  try {
    const key = Buffer.alloc(32, 0xfa); // hex differs by case, base64 from base64url
    const files = ['raw', 'hex', 'b64', 'json', 'clean'].map((n) => join(dir, n));
    writeFileSync(files[0]!, Buffer.concat([Buffer.from('x'), key, Buffer.from('y')]));
    writeFileSync(files[1]!, `rmk=${key.toString('hex').toUpperCase()}`);
    writeFileSync(files[2]!, `{"k":"${key.toString('base64')}"}`);
    writeFileSync(files[3]!, JSON.stringify({ data: [...key] }));
    writeFileSync(files[4]!, 'nothing here');
    const hits = plaintextKeyHits(files, [{ kind: 'rmk', id: 'r1', bytes: key }]);
    assert.deepEqual(
      hits.map((h) => [h.file.slice(dir.length + 1), h.encoding]),
      [
        ['raw', 'raw'],
        ['raw', 'raw first half'],
        ['raw', 'raw second half'],
        ['hex', 'HEX'],
        ['b64', 'base64'],
        ['b64', 'unpadded base64'],
        ['json', 'JSON byte array'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
