// Key policy and IAM policy evaluation for role callers: direct grants, delegation to the
// account, explicit Deny, conditions on the encryption context, cross-account use.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, DecryptCommand, DescribeKeyCommand, EncryptCommand, GenerateDataKeyCommand, ListKeysCommand, PutKeyPolicyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms, type PolicyDocument } from '../../../simulators/kms/index.js';
import { decide } from '../../../simulators/kms/authorize.js';
import { CallerTable } from '../../../simulators/kms/callers.js';
import { wildcardMatch } from '../../../simulators/kms/policy.js';
import { failure, kmsClient } from './helpers.js';

const ACCT = '000000000000';
const ROLE = `arn:aws:iam::${ACCT}:role/tableau-node`;
let kms: EmbeddedKms;
let admin: KMSClient;

before(async () => {
  kms = await startEmbeddedKms();
  admin = kmsClient(kms);
});
after(() => kms.stop());

const keyWithPolicy = async (statements: object[]): Promise<{ id: string; arn: string }> => {
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: 'root', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'kms:*', Resource: '*' }, ...statements],
  });
  const m = (await admin.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!;
  return { id: m.KeyId!, arn: m.Arn! };
};

const roleClient = (accessKeyId: string, roleName: string, iamPolicy?: PolicyDocument): KMSClient => {
  kms.addRoleCredentials(accessKeyId, `${accessKeyId}-secret`, roleName, iamPolicy, { sessionName: 'i-0123456789abcdef0' });
  return kmsClient(kms, { accessKeyId, secretAccessKey: `${accessKeyId}-secret` });
};

test('a role without Decrypt in the key policy or its IAM policy is refused, naming role and action', async () => {
  const key = await keyWithPolicy([]);
  const blob = (await admin.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('rmk') }))).CiphertextBlob;
  const node = roleClient('AKIDNODE1', 'tableau-node');
  const err = await failure(() => node.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.equal(err.name, 'AccessDeniedException');
  assert.equal(err.$metadata?.httpStatusCode, 400);
  assert.equal(
    err.message,
    `User: arn:aws:sts::${ACCT}:assumed-role/tableau-node/i-0123456789abcdef0 is not authorized to perform: kms:Decrypt on resource: ${key.arn} because no identity-based policy allows the kms:Decrypt action`,
  );
  // A key policy that does not even delegate to the account: the resource policy is what is missing.
  const closed = await keyWithPolicy([]);
  await admin.send(
    new PutKeyPolicyCommand({
      KeyId: closed.id,
      PolicyName: 'default',
      BypassPolicyLockoutSafetyCheck: true,
      Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'kms:*', Resource: '*' }] }),
    }),
  );
  const err2 = await failure(() => node.send(new DescribeKeyCommand({ KeyId: closed.id })));
  assert.match(err2.message, /is not authorized to perform: kms:DescribeKey on resource: .* because no resource-based policy allows the kms:DescribeKey action$/);
});

test('a role named in the key policy may Decrypt; so may one the account delegates to through its IAM policy', async () => {
  const key = await keyWithPolicy([{ Sid: 'node', Effect: 'Allow', Principal: { AWS: ROLE }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*' }]);
  const dk = await admin.send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: 'AES_256' }));
  const node = roleClient('AKIDNODE2', 'tableau-node');
  const back = await node.send(new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob }));
  assert.deepEqual(Buffer.from(back.Plaintext!), Buffer.from(dk.Plaintext!));
  await node.send(new GenerateDataKeyCommand({ KeyId: key.id, KeySpec: 'AES_256' }));
  const notGranted = await failure(() => node.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') })));
  assert.equal(notGranted.name, 'AccessDeniedException');
  assert.match(notGranted.message, /kms:Encrypt/);

  const delegated = await keyWithPolicy([]);
  const blob = (await admin.send(new EncryptCommand({ KeyId: delegated.id, Plaintext: Buffer.from('m') }))).CiphertextBlob;
  const iamNode = roleClient('AKIDNODE3', 'other-node', { Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: delegated.arn }] });
  assert.equal(Buffer.from((await iamNode.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString(), 'm');
  const nope = await failure(() => iamNode.send(new ListKeysCommand({})));
  assert.match(nope.message, /kms:ListKeys on resource: \* because no identity-based policy allows the kms:ListKeys action/);
});

test('an explicit Deny wins over every Allow, for roles and for the administrator', async () => {
  const key = await keyWithPolicy([
    { Sid: 'node', Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'kms:*', Resource: '*' },
    { Sid: 'no-decrypt', Effect: 'Deny', Principal: { AWS: ROLE }, Action: 'kms:Decrypt', Resource: '*' },
    { Sid: 'no-admin-decrypt', Effect: 'Deny', Principal: { AWS: `arn:aws:iam::${ACCT}:root` }, Action: 'kms:Decrypt', Resource: '*' },
  ]);
  const blob = (await admin.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') }))).CiphertextBlob;
  const node = roleClient('AKIDNODE4', 'tableau-node', { Statement: [{ Effect: 'Allow', Action: 'kms:*', Resource: '*' }] });
  const err = await failure(() => node.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.equal(err.name, 'AccessDeniedException');
  assert.match(err.message, /kms:Decrypt on resource: .* with an explicit deny in a resource-based policy$/);
  await node.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('y') }));
  const adminErr = await failure(() => admin.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.match(adminErr.message, /^User: arn:aws:iam::000000000000:root is not authorized to perform: kms:Decrypt/);
});

test('a condition on the encryption context limits what a role may decrypt', async () => {
  const key = await keyWithPolicy([
    {
      Effect: 'Allow',
      Principal: { AWS: ROLE },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:EncryptionContext:site': 'finance' } },
    },
  ]);
  const mk = async (site: string) =>
    (await admin.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from(site), EncryptionContext: { site } }))).CiphertextBlob;
  const node = roleClient('AKIDNODE5', 'tableau-node');
  await node.send(new DecryptCommand({ CiphertextBlob: await mk('finance'), EncryptionContext: { site: 'finance' } }));
  const hr = await mk('hr');
  const err = await failure(() => node.send(new DecryptCommand({ CiphertextBlob: hr, EncryptionContext: { site: 'hr' } })));
  assert.equal(err.name, 'AccessDeniedException');
});

test('another account needs both the key policy and its own IAM policy', async () => {
  const key = await keyWithPolicy([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::222233334444:root' }, Action: 'kms:Decrypt', Resource: '*' }]);
  const blob = (await admin.send(new EncryptCommand({ KeyId: key.id, Plaintext: Buffer.from('x') }))).CiphertextBlob;
  const foreignAdmin = kmsClient(kms, { accessKeyId: '222233334444' });
  await foreignAdmin.send(new DecryptCommand({ CiphertextBlob: blob }));
  kms.addRoleCredentials('AKIDFOREIGN', 'f-secret', 'reader', undefined, { accountId: '222233334444' });
  const foreignRole = kmsClient(kms, { accessKeyId: 'AKIDFOREIGN', secretAccessKey: 'f-secret' });
  const err = await failure(() => foreignRole.send(new DecryptCommand({ CiphertextBlob: blob })));
  assert.match(err.message, /because no identity-based policy allows the kms:Decrypt action/);
  const stranger = kmsClient(kms, { accessKeyId: '555566667777' });
  const err2 = await failure(() => stranger.send(new DescribeKeyCommand({ KeyId: key.arn })));
  assert.match(err2.message, /because no resource-based policy allows the kms:DescribeKey action/);
});

test('the evaluator: wildcards, NotAction, unknown conditions fail closed', () => {
  assert.ok(wildcardMatch('kms:Generate*', 'kms:GenerateDataKeyWithoutPlaintext', true));
  assert.ok(wildcardMatch('KMS:decrypt', 'kms:Decrypt', true));
  assert.ok(!wildcardMatch('kms:Re?ncrypt*', 'kms:Decrypt', true));
  assert.ok(wildcardMatch('arn:aws:kms:*:000000000000:key/*', 'arn:aws:kms:eu-west-1:000000000000:key/abc'));

  const table = new CallerTable(ACCT);
  table.add('R', { secretAccessKey: 's', roleName: 'r' });
  const caller = table.callerFor('R');
  const resource = `arn:aws:kms:us-east-1:${ACCT}:key/k`;
  const withPolicy = (...Statement: PolicyDocument['Statement']) => ({ caller, action: 'kms:Decrypt', resource, keyPolicy: { Statement }, keyAccountId: ACCT });
  const role = { AWS: `arn:aws:iam::${ACCT}:role/r` };
  assert.deepEqual(decide(withPolicy({ Effect: 'Allow', Principal: role, NotAction: 'kms:Encrypt' })), { allowed: true });
  assert.deepEqual(decide(withPolicy({ Effect: 'Allow', Principal: role, NotAction: 'kms:D*' })), { allowed: false, why: 'no-resource-allow' });
  const unknownCondition = { 'aws:SourceVpce': 'vpce-1' };
  assert.deepEqual(decide(withPolicy({ Effect: 'Allow', Principal: role, Action: '*', Condition: { StringEquals: unknownCondition } })), {
    allowed: false,
    why: 'no-resource-allow',
  });
  assert.deepEqual(
    decide(withPolicy({ Effect: 'Allow', Principal: '*', Action: '*' }, { Effect: 'Deny', Principal: '*', Action: '*', Condition: { StringEquals: unknownCondition } })),
    { allowed: false, why: 'resource-deny' },
  );
  assert.deepEqual(
    decide(withPolicy({ Effect: 'Allow', Principal: role, Action: '*', Condition: { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/r' } } })),
    { allowed: true },
  );
});
