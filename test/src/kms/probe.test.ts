// The conformance probe against the embedded KMS: every behaviour as real AWS documents it,
// the declared capabilities confirmed, probe keys scheduled for deletion; a wrong
// declaration is caught; a dead endpoint ends the probe with one line (exit 3).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { startKmsBackend, type KmsBackend } from '../../../src/kms/backend.js';
import { MOTO_CAPABILITIES } from '../../../src/kms/capabilities.js';
import { renderProbeTable, runKmsProbe } from '../../../src/kms/probe.js';
import { EnvironmentError } from '../../../src/util/errors.js';
import { closedPort, failure } from './helpers.js';

let backend: KmsBackend;
before(async () => {
  backend = await startKmsBackend('embedded', { env: {} });
});
after(() => backend.stop());

test('embedded: every probed behaviour is as real AWS, and the declared capabilities hold', async () => {
  const result = await runKmsProbe(backend);
  assert.deepEqual(
    result.rows.map((r) => r.id),
    [
      'create-key',
      'generate-data-key',
      'decrypt',
      'aes-128',
      'state-ops-by-arn',
      'disabled-key',
      'old-ciphertext-after-rotation',
      'rotation-material',
      'list-key-rotations',
      'incorrect-key',
      'pending-deletion',
      'key-policy-deny',
      'harness-extras',
    ],
  );
  for (const row of result.rows) assert.equal(row.outcome, 'as-aws', `${row.id}: ${row.observed}`);
  assert.deepEqual(result.observed, { ...backend.capabilities });
  assert.deepEqual(result.mismatches, []);
  assert.equal(result.cleanup, '3 probe keys scheduled for deletion in 7 days');
  assert.equal(result.backend.description, backend.description);

  const table = renderProbeTable(result);
  const lines = table.split('\n');
  assert.equal(lines[0], `KMS probe: ${backend.description}`);
  assert.match(lines[3]!, /^behaviour +\| expected \(real AWS\) +\| this backend +\| reproducible\?$/);
  assert.ok(table.includes('GenerateDataKey on a disabled key'));
  assert.match(table, /Decrypt with another key's KeyId +\| IncorrectKeyException +\| IncorrectKeyException +\| yes/);
  assert.ok(table.includes('The declared capabilities match what this backend did.'));
});

test('the probe leaves every key it made pending deletion', async () => {
  const c = backend.client();
  const before = new Set((await c.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyArn!));
  await runKmsProbe(backend);
  const made = (await c.send(new ListKeysCommand({}))).Keys!.map((k) => k.KeyArn!).filter((k) => !before.has(k));
  assert.equal(made.length, 3);
  for (const key of made) {
    const meta = (await c.send(new DescribeKeyCommand({ KeyId: key }))).KeyMetadata!;
    assert.equal(meta.KeyState, 'PendingDeletion', key);
    assert.equal(meta.Description, 'cryptgate kms probe (safe to delete)');
  }
});

test('the probe never prints key material', async () => {
  backend.embedded!.resetCounters();
  const result = await runKmsProbe(backend);
  const text = renderProbeTable(result) + JSON.stringify(result);
  // No base64 or hex run long enough to be a 32-byte key (or a ciphertext): mixed case with digits, or 64 hex.
  assert.doesNotMatch(text, /(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])[A-Za-z0-9+/]{40,}={0,2}/);
  assert.doesNotMatch(text, /[0-9a-f]{64}/i);
});

test('a capability declared wrongly is reported as a mismatch', async () => {
  const liar: KmsBackend = { ...backend, client: backend.client, capabilities: MOTO_CAPABILITIES };
  const result = await runKmsProbe(liar);
  assert.deepEqual(
    result.mismatches.map((m) => [m.capability, m.declared, m.observed]),
    [
      ['disabledKeysRefuse', false, true],
      ['rotationChangesMaterial', false, true],
      ['keyPolicyEnforced', false, true],
      ['incorrectKeyException', false, true],
      ['faultInjection', false, true],
      ['requestCounters', false, true],
    ],
  );
  assert.deepEqual(result.mismatches[0]!.rows, ['disabled-key', 'pending-deletion']);
  assert.match(renderProbeTable(result), /MISMATCH: disabledKeysRefuse is declared false but the backend behaved as true \(rows: disabled-key, pending-deletion\)/);
});

test('a dead endpoint ends the probe with one line naming the endpoint and the call', async () => {
  const port = await closedPort();
  const dead: KmsBackend = { ...backend, endpoint: `http://127.0.0.1:${port}`, embedded: undefined };
  const { kmsClient } = await import('../../../src/kms/client.js');
  const client = kmsClient({ endpoint: dead.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  const err = await failure(() => runKmsProbe(dead, { client }));
  assert.ok(err instanceof EnvironmentError);
  assert.equal(err.message, `KMS endpoint http://127.0.0.1:${port} unreachable (ECONNREFUSED) while cryptgate ran kms:CreateKey`);
});
