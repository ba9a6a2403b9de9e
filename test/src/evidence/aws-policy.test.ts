// AWS policy exports as the CLI prints them, told apart by shape; malformed ones refused
// with the JSON pointer of the bad value and what was expected there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awsPolicyShape, globMatch, principalIsAccountRoot, principalNamesRole, readAwsPolicyEvidence, roleNameOfArn } from '../../../src/evidence/aws-policy.js';
import { parseJsonText } from '../../../src/evidence/json-doc.js';
import { readKmsKeyArn } from '../../../src/evidence/aws-arn.js';
import { FormatError } from '../../../src/util/errors.js';
import { ACCOUNT, CMK, keyPolicy, rolePolicy } from '../../helpers/audit-evidence.js';

const refusal = (doc: unknown, file = 'p.json'): string => {
  try {
    readAwsPolicyEvidence(doc, file);
  } catch (err) {
    assert.ok(err instanceof FormatError, String(err));
    return err.message;
  }
  assert.fail('accepted');
};

test('every export shape: get-key-policy, describe-key, get-role-policy, authorization details, bare documents', () => {
  const kp = readAwsPolicyEvidence({ Policy: JSON.stringify(keyPolicy(['tableau-node1'])), PolicyName: 'default' }, 'kp.json');
  assert.equal(kp[0]!.kind, 'key-policy');
  assert.equal(kp[0]!.kind === 'key-policy' && kp[0]!.keyArn, null, 'the CLI output does not name its key');
  const named = readAwsPolicyEvidence({ KeyArn: CMK, Policy: JSON.stringify(keyPolicy(['r'])) }, 'kp.json');
  assert.equal(named[0]!.kind === 'key-policy' && named[0]!.keyArn, CMK);

  const dk = readAwsPolicyEvidence({ KeyMetadata: { Arn: CMK, KeyId: 'k', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT', Enabled: true } }, 'dk.json');
  assert.deepEqual(dk[0], { kind: 'key-metadata', file: 'dk.json', arn: CMK, keyId: 'k', keyState: 'Enabled', keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', enabled: true, keyManager: null });

  const rp = readAwsPolicyEvidence(rolePolicy('tableau-node1'), 'rp.json');
  assert.equal(rp[0]!.kind === 'role-policy' && rp[0]!.roleName, 'tableau-node1');
  // IAM returns policy documents URL-encoded.
  const enc = readAwsPolicyEvidence({ RoleName: 'r', PolicyName: 'p', PolicyDocument: encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'kms:Decrypt', Resource: CMK } })) }, 'enc.json');
  assert.deepEqual(enc[0]!.kind === 'role-policy' && enc[0]!.document.statements[0]!.action, ['kms:Decrypt']);

  const details = readAwsPolicyEvidence(
    {
      RoleDetailList: [
        {
          RoleName: 'tableau-node1',
          Arn: `arn:aws:iam::${ACCOUNT}:role/tableau-node1`,
          RolePolicyList: [{ PolicyName: 'inline', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: CMK }] } }],
          AttachedManagedPolicies: [{ PolicyName: 'kms-gdk', PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/kms-gdk` }],
        },
      ],
      Policies: [{ Arn: `arn:aws:iam::${ACCOUNT}:policy/kms-gdk`, DefaultVersionId: 'v2', PolicyVersionList: [{ VersionId: 'v1', IsDefaultVersion: false, Document: { Statement: [] } }, { VersionId: 'v2', IsDefaultVersion: true, Document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: CMK }] } }] }],
    },
    'auth.json',
  );
  assert.deepEqual(details.map((d) => d.kind === 'role-policy' && [d.roleName, d.source, d.policyName, d.pointer]), [
    ['tableau-node1', 'inline', 'inline', '/RoleDetailList/0/RolePolicyList/0/PolicyDocument'],
    ['tableau-node1', 'managed', 'kms-gdk', '/Policies/0/PolicyVersionList/1/Document'],
  ]);

  const bareKey = readAwsPolicyEvidence(keyPolicy(['x']), 'k.json');
  assert.equal(bareKey[0]!.kind, 'key-policy', 'a document with a Principal is a resource (key) policy');
  const bareRole = readAwsPolicyEvidence({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: CMK }] }, 'r.json');
  assert.equal(bareRole[0]!.kind === 'role-policy' && bareRole[0]!.roleName, null);
  assert.equal(awsPolicyShape({ nodes: [] }), undefined);
});

test('malformed exports: the JSON pointer of the bad value and what was expected', () => {
  assert.equal(refusal({ Version: '2012-10-17', Statement: [{ Effect: 'Alow', Action: 'kms:Decrypt' }] }), 'p.json: /Statement/0/Effect: expected "Allow" or "Deny", found "Alow"');
  assert.equal(refusal({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] }), 'p.json: /Statement/0/Action: expected Action or NotAction, found neither');
  assert.equal(refusal({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }), 'p.json: /Statement/0/Action: expected actions: a string or a non-empty list of strings, found an empty list');
  assert.equal(refusal({ Policy: '{"Statement": [' }, 'kp.json'), 'kp.json: /Policy: expected a policy document as JSON text, found text that is not JSON (Unexpected end of JSON input)');
  assert.equal(refusal({ Version: '2012-10-17', Statement: 'x' }), 'p.json: /Statement: expected a statement object or a list of statements, found "x"');
  assert.equal(refusal({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: 7, Action: 'kms:*' }] }), 'p.json: /Statement/0/Principal: expected a principal: "*" or {"AWS": "arn:aws:iam::<account>:role/<name>"}, found 7');
  assert.equal(refusal({ KeyMetadata: { KeyId: 'k' } }), 'p.json: /KeyMetadata/Arn: expected the key ARN (arn:aws:kms:<region>:<account>:key/<key-id>), found nothing');
  assert.equal(refusal({ RoleDetailList: [{ Arn: 'x' }] }), 'p.json: /RoleDetailList/0/RoleName: expected the role name, found nothing');
});

test('JSON syntax errors name the line and column', () => {
  assert.throws(() => parseJsonText('{\n  "Policy": "x",\n  oops\n}', 'kp.json'), (e: Error) => e instanceof FormatError && /^kp\.json: line 3, column 3: JSON syntax: expected valid JSON, found /.test(e.message));
  assert.throws(() => parseJsonText('{"a": 1', 'cut.json'), (e: Error) => e instanceof FormatError && /^cut\.json: line 1, column \d+: JSON syntax: expected valid JSON, found /.test(e.message));
  assert.deepEqual(parseJsonText('\uFEFF{"a": 1}', 'bom.json'), { a: 1 });
});

test('principals, role ARNs and globs as IAM reads them', () => {
  assert.equal(roleNameOfArn(`arn:aws:iam::${ACCOUNT}:role/path/to/tableau-node1`), 'tableau-node1');
  assert.equal(roleNameOfArn(`arn:aws:sts::${ACCOUNT}:assumed-role/tableau-node1/i-0abc`), 'tableau-node1');
  assert.equal(roleNameOfArn(`arn:aws:iam::${ACCOUNT}:user/alice`), null);
  assert.equal(principalNamesRole({ AWS: [`arn:aws:iam::${ACCOUNT}:role/tableau-node1`] }, 'tableau-node1'), true);
  assert.equal(principalNamesRole({ AWS: [`arn:aws:iam::${ACCOUNT}:role/tableau-node2`] }, 'tableau-node1'), false);
  assert.equal(principalIsAccountRoot({ AWS: [`arn:aws:iam::${ACCOUNT}:root`] }), true);
  assert.equal(principalIsAccountRoot({ AWS: [ACCOUNT] }), true);
  assert.equal(globMatch('kms:Gen*', 'KMS:GenerateDataKey', true), true);
  assert.equal(globMatch('kms:Gen*', 'kms:Decrypt', true), false);
  assert.equal(globMatch(`arn:aws:kms:*:${ACCOUNT}:key/*`, CMK), true);
});

test('key ARNs: the seed\'s own example is refused part by part', () => {
  assert.equal(readKmsKeyArn(CMK).ok, true);
  const seed = readKmsKeyArn('arn:aws:kms:us-west-2:867530990073:key/1abc23de-fg45-6hij-7k89-1l0mn1234567');
  assert.deepEqual(seed, { ok: false, problem: "key id '1abc23de-fg45-6hij-7k89-1l0mn1234567': expected 32 lowercase hexadecimal digits in 8-4-4-4-12 groups; 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n' are not hexadecimal" });
  assert.deepEqual(readKmsKeyArn('arn:aws:kms:us-west-2:86753099990073:key/1234abcd-12ab-34cd-56ef-1234567890ab'), { ok: false, problem: "account '86753099990073' has 14 digits: expected exactly 12" });
  assert.deepEqual(readKmsKeyArn('arn:aws:kms:us-west-2:111122223333:alias/tableau'), { ok: false, problem: "'alias/tableau' is an alias: expected the key's own ARN (key/<key-id>)" });
});
