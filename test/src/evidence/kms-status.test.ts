// The `tsm security kms status` reader: the simulator's layout, and the variations a real
// capture brings (CRLF, BOM, banner lines, label case, a full stop after a timestamp).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKmsStatus, readKmsStatus } from '../../../src/evidence/kms-status.js';
import { formatKmsStatus } from '../../../simulators/cluster/status-text.js';
import type { KmsStorage } from '../../../simulators/cluster/model.js';
import { FormatError, InputError } from '../../../src/util/errors.js';

const ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const box = { iv: 'AA==', tag: 'AA==', ct: 'AA==' };
const storage: KmsStorage = {
  format: 'cryptgate/kms-storage@1',
  mode: 'aws',
  aws: { cmkArn: ARN, region: 'us-west-2' },
  rmk: { id: 'c4d7e3b2-1111-4222-8333-944455556666', createdAt: '2024-01-01T00:00:00Z', wrappedBy: 'aws-kms', blob: 'AAAA', cmkArn: ARN, region: 'us-west-2' },
  meks: [
    { id: '8ddd70df-be67-4dbf-9c35-1f0aa2421521', state: 'decryption-only', createdAt: '2019-05-29T23:46:54Z', firstEncryptDecryptAt: '2019-05-29T23:46:54Z', decryptOnlyAt: '2020-05-29T10:00:00Z', rmkId: 'x', sealed: box },
    { id: '9eee70df-be67-4dbf-9c35-1f0aa2421522', state: 'encryption/decryption', createdAt: '2020-05-29T10:00:00Z', firstEncryptDecryptAt: '2020-05-29T10:00:00Z', decryptOnlyAt: null, rmkId: 'x', sealed: box },
  ],
  generation: 3,
  updatedAt: '2020-05-29T10:00:00Z',
};

test('reads the simulator\'s status text into facts', () => {
  const e = parseKmsStatus(formatKmsStatus({ storage, checkedOn: 'node1' }), 'status.txt');
  assert.deepEqual(e, {
    file: 'status.txt',
    mode: 'aws',
    cmkArn: ARN,
    region: 'us-west-2',
    rmkId: 'c4d7e3b2-1111-4222-8333-944455556666',
    rmkIds: ['c4d7e3b2-1111-4222-8333-944455556666'],
    meks: [
      { id: '8ddd70df-be67-4dbf-9c35-1f0aa2421521', state: 'decryption-only', createdAt: '2019-05-29T23:46:54Z', firstEncryptDecryptAt: '2019-05-29T23:46:54Z', decryptOnlyAt: '2020-05-29T10:00:00Z', line: 6 },
      { id: '9eee70df-be67-4dbf-9c35-1f0aa2421522', state: 'encryption/decryption', createdAt: '2020-05-29T10:00:00Z', firstEncryptDecryptAt: '2020-05-29T10:00:00Z', decryptOnlyAt: null, line: 11 },
    ],
    ok: true,
    error: null,
    checkedOn: 'node1',
  });
  const err = parseKmsStatus(formatKmsStatus({ storage, checkedOn: 'node1', error: 'node1 (role r): kms:Decrypt on RMK x failed: DisabledException: k is disabled.' }));
  assert.equal(err.ok, false);
  assert.equal(err.error, 'node1 (role r): kms:Decrypt on RMK x failed: DisabledException: k is disabled.');
  const local = parseKmsStatus(formatKmsStatus({ storage: { ...storage, mode: 'local', aws: null }, checkedOn: 'node1', localRootId: 'r1' }));
  assert.equal(local.mode, 'local');
  assert.equal(local.cmkArn, null);
  assert.equal(local.region, null);
});

test('tolerates what a real capture brings: BOM, CRLF, banner lines, other label spellings, a trailing full stop', () => {
  const text =
    '\uFEFFJob id is \'12\', timeout is 30 minutes.\r\n' +
    'Connecting to https://tsm:8850 ...\r\n\r\n' +
    'Mode: AWS\r\n' +
    'CMK ARN (ID): ' + ARN + '\r\n' +
    'CMK Region: us-west-2\r\n' +
    'RMK ID in use: c4d7e3b2-1111-4222-8333-944455556666\r\n' +
    'MEKs:\r\n' +
    '   ID: 8ddd70df-be67-4dbf-9c35-1f0aa2421521\r\n' +
    '   State: encrypt or decrypt key\r\n' +
    '   Created at: 2019-05-29T23:46:54Z.\r\n' +
    '   First transition to encrypt and decrypt: 2019-05-29T23:46:54Z\r\n' +
    '   Transition to decrypt-only: -\r\n' +
    '   ID: 1111aaaa-be67-4dbf-9c35-1f0aa2421521\r\n' +
    '   State: Decrypt-only key\r\n' +
    '   Created at: 2018-01-01 10:00:00\r\n' +
    'Status: OK\r\n';
  const e = parseKmsStatus(text, 'real.txt');
  assert.equal(e.mode, 'aws');
  assert.equal(e.cmkArn, ARN);
  assert.equal(e.region, 'us-west-2');
  assert.equal(e.rmkId, 'c4d7e3b2-1111-4222-8333-944455556666');
  assert.deepEqual(e.meks.map((m) => [m.id, m.state, m.createdAt, m.firstEncryptDecryptAt, m.decryptOnlyAt, m.line]), [
    ['8ddd70df-be67-4dbf-9c35-1f0aa2421521', 'encryption/decryption', '2019-05-29T23:46:54Z', '2019-05-29T23:46:54Z', null, 9],
    ['1111aaaa-be67-4dbf-9c35-1f0aa2421521', 'decryption-only', '2018-01-01 10:00:00', null, null, 14],
  ]);
  assert.equal(e.ok, true);
});

test('malformed status is a FormatError naming the file, the line and what was expected', () => {
  const bad = (text: string, re: RegExp): void => {
    assert.throws(() => parseKmsStatus(text, 's.txt'), (err: Error) => err instanceof FormatError && err instanceof InputError && re.test(err.message));
  };
  bad('KMS mode: AWS\nMEK ID: m1\n  State: sleeping\nStatus: OK\n', /^s\.txt: line 3: MEK state: expected "encryption\/decryption" or "decryption-only", found 'sleeping'$/);
  bad('KMS mode: AWS\nMEK ID: m1\n  State: decryption-only\n  Created at: yesterday\nStatus: OK\n', /^s\.txt: line 4: Created at: expected an ISO 8601 timestamp/);
  bad('KMS mode: AWS\nMEK ID: m1\nStatus: OK\n', /^s\.txt: line 2: MEK m1: expected a State line/);
  bad('  State: decryption-only\n', /^s\.txt: line 1: State: expected a MEK ID line before it$/);
  bad('KMS mode: AWS\nRegion: us-east-1\n', /^s\.txt: line 1: Status: expected a 'Status:' line/);
  bad('hello world\n', /^s\.txt: line 1: KMS status: expected the output of `tsm security kms status`/);
  bad('KMS mode: quantum\nStatus: OK\n', /line 1: KMS mode: expected AWS, local or Azure, found 'quantum'/);
});

test('readKmsStatus reads a file and names it in errors', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-ev-'));
  try {
    writeFileSync(join(d, 'ok.txt'), formatKmsStatus({ storage, checkedOn: 'node1' }));
    assert.equal((await readKmsStatus(join(d, 'ok.txt'))).ok, true);
    writeFileSync(join(d, 'bad.txt'), 'nothing here');
    await assert.rejects(readKmsStatus(join(d, 'bad.txt')), new RegExp(`^FormatError: ${join(d, 'bad.txt').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: line 1:`));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
