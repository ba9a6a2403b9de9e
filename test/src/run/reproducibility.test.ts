// Which scenarios a KMS backend can reproduce, from their @needs-… tags and the backend's
// declared capabilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMBEDDED_CAPABILITIES, LOCALSTACK_CAPABILITIES, MOTO_CAPABILITIES } from '../../../src/kms/capabilities.js';
import { notReproducibleMessage, REQUIREMENTS, unmetRequirements, type KmsRunFacts } from '../../../src/run/reproducibility.js';

const embedded: KmsRunFacts = { backend: 'embedded', capabilities: EMBEDDED_CAPABILITIES, perNodeRoles: true };
const moto: KmsRunFacts = { backend: 'moto', capabilities: MOTO_CAPABILITIES, perNodeRoles: false };
const localstack: KmsRunFacts = { backend: 'localstack', capabilities: LOCALSTACK_CAPABILITIES, perNodeRoles: false };
const ALL = REQUIREMENTS.map((r) => r.tag);

test('the embedded KMS in this process reproduces every requirement (npm start must judge every scenario)', () => {
  assert.deepEqual(unmetRequirements(ALL, embedded), []);
});

test('moto cannot reproduce disabled keys, rotation material, policies, node roles or request counts', () => {
  assert.deepEqual(
    unmetRequirements(ALL, moto).map((u) => u.tag),
    ['@needs-disabled-keys', '@needs-rotation-material', '@needs-key-policy', '@needs-node-roles', '@needs-request-counters'],
  );
  const [u] = unmetRequirements(['@kms', '@KMS-6', '@needs-disabled-keys'], moto);
  assert.equal(notReproducibleMessage(u!), 'not reproducible on moto: its KMS still encrypts and decrypts with a Disabled or PendingDeletion CMK (no DisabledException, no KMSInvalidStateException)');
});

test('LocalStack refuses disabled keys and rotates material, but evaluates no policy and lists no rotations', () => {
  assert.deepEqual(
    unmetRequirements(ALL, localstack).map((u) => u.tag),
    ['@needs-key-policy', '@needs-node-roles', '@needs-request-counters', '@needs-list-key-rotations'],
  );
});

test('node roles need both separate identities and evaluated policies', () => {
  const served: KmsRunFacts = { backend: 'http://127.0.0.1:4566', capabilities: EMBEDDED_CAPABILITIES, perNodeRoles: false };
  assert.deepEqual(unmetRequirements(['@needs-node-roles'], served).map((u) => u.tag), ['@needs-node-roles']);
  assert.deepEqual(unmetRequirements(['@needs-key-policy'], served), []);
});

test('tags other than @needs-… are ignored; an unknown @needs-… tag is an error, not a silent skip', () => {
  assert.deepEqual(unmetRequirements(['@kms', '@KMS-3', '@critical'], moto), []);
  assert.throws(() => unmetRequirements(['@needs-disabled-key'], embedded), /unknown requirement tag @needs-disabled-key: expected one of @needs-disabled-keys, /);
});
