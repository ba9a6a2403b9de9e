// Key lifecycle, aliases, listing, policies and tags through the real @aws-sdk/client-kms.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListKeyPoliciesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  type KMSClient,
  type ListKeysCommandOutput,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { failure, kmsClient } from './helpers.js';

let kms: EmbeddedKms;
let client: KMSClient;

before(async () => {
  kms = await startEmbeddedKms();
  client = kmsClient(kms);
});
after(() => kms.stop());

const newKey = async (description = 'test key'): Promise<string> =>
  (await client.send(new CreateKeyCommand({ Description: description }))).KeyMetadata!.KeyId!;

test('CreateKey returns AWS-shaped metadata with an ARN in the caller region and account', async () => {
  const { KeyMetadata: m } = await client.send(
    new CreateKeyCommand({ Description: 'RMK wrapper', Tags: [{ TagKey: 'team', TagValue: 'analytics' }] }),
  );
  assert.ok(m);
  assert.match(m.KeyId!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(m.Arn, `arn:aws:kms:us-east-1:000000000000:key/${m.KeyId}`);
  assert.equal(m.AWSAccountId, '000000000000');
  assert.equal(m.KeyState, 'Enabled');
  assert.equal(m.Enabled, true);
  assert.equal(m.KeySpec, 'SYMMETRIC_DEFAULT');
  assert.equal(m.KeyUsage, 'ENCRYPT_DECRYPT');
  assert.equal(m.Description, 'RMK wrapper');
  assert.deepEqual(m.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
  assert.ok(m.CreationDate instanceof Date);
  assert.match(m.CurrentKeyMaterialId!, /^[0-9a-f]{64}$/);
  const tags = await client.send(new ListResourceTagsCommand({ KeyId: m.KeyId }));
  assert.deepEqual(tags.Tags, [{ TagKey: 'team', TagValue: 'analytics' }]);
});

test('CreateKey refuses a symmetric key for signing and a key spec it cannot make', async () => {
  const bad = await failure(() => client.send(new CreateKeyCommand({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'SIGN_VERIFY' })));
  assert.equal(bad.name, 'ValidationException');
  const unsupported = await failure(() => client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })));
  assert.equal(unsupported.name, 'UnsupportedOperationException');
});

test('a key is found by id, key ARN, alias name and alias ARN; an unknown one is NotFoundException', async () => {
  const keyId = await newKey();
  await client.send(new CreateAliasCommand({ AliasName: 'alias/lookup-test', TargetKeyId: keyId }));
  const arn = `arn:aws:kms:us-east-1:000000000000:key/${keyId}`;
  for (const id of [keyId, arn, 'alias/lookup-test', 'arn:aws:kms:us-east-1:000000000000:alias/lookup-test']) {
    const d = await client.send(new DescribeKeyCommand({ KeyId: id }));
    assert.equal(d.KeyMetadata?.KeyId, keyId, id);
  }
  const missing = await failure(() => client.send(new DescribeKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })));
  assert.equal(missing.name, 'NotFoundException');
  assert.equal(missing.message, "Key 'arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000' does not exist");
  const noAlias = await failure(() => client.send(new DescribeKeyCommand({ KeyId: 'alias/none' })));
  assert.equal(noAlias.name, 'NotFoundException');
  assert.equal(noAlias.message, 'Alias arn:aws:kms:us-east-1:000000000000:alias/none is not found.');
  const garbage = await failure(() => client.send(new DescribeKeyCommand({ KeyId: 'not-a-key' })));
  assert.equal(garbage.name, 'NotFoundException');
});

test('ListKeys pages with Limit and NextMarker and lists only the caller region', async () => {
  const other = await startEmbeddedKms();
  try {
    const c = kmsClient(other);
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await c.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!);
    await kmsClient(other, { region: 'eu-west-1' }).send(new CreateKeyCommand({}));
    const first = await c.send(new ListKeysCommand({ Limit: 2 }));
    assert.equal(first.Keys?.length, 2);
    assert.equal(first.Truncated, true);
    assert.ok(first.NextMarker);
    const seen = [...first.Keys!];
    let marker: string | undefined = first.NextMarker;
    while (marker) {
      const next: ListKeysCommandOutput = await c.send(new ListKeysCommand({ Limit: 2, Marker: marker }));
      seen.push(...next.Keys!);
      marker = next.Truncated ? next.NextMarker : undefined;
    }
    assert.deepEqual(new Set(seen.map((k) => k.KeyId)), ids);
    for (const k of seen) assert.equal(k.KeyArn, `arn:aws:kms:us-east-1:000000000000:key/${k.KeyId}`);
    const badMarker = await failure(() => c.send(new ListKeysCommand({ Marker: 'nonsense' })));
    assert.equal(badMarker.name, 'InvalidMarkerException');
  } finally {
    await other.stop();
  }
});

test('aliases: create, list (all and per key), update to another key, delete; duplicates and reserved names refused', async () => {
  const a = await newKey('a');
  const b = await newKey('b');
  await client.send(new CreateAliasCommand({ AliasName: 'alias/extracts', TargetKeyId: a }));
  const dup = await failure(() => client.send(new CreateAliasCommand({ AliasName: 'alias/extracts', TargetKeyId: b })));
  assert.equal(dup.name, 'AlreadyExistsException');
  assert.equal(dup.message, 'An alias with the name arn:aws:kms:us-east-1:000000000000:alias/extracts already exists');
  const reserved = await failure(() => client.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: b })));
  assert.equal(reserved.name, 'InvalidAliasNameException');

  const forA = await client.send(new ListAliasesCommand({ KeyId: a }));
  assert.deepEqual(forA.Aliases?.map((x) => x.AliasName), ['alias/extracts']);
  assert.equal(forA.Aliases?.[0]?.AliasArn, 'arn:aws:kms:us-east-1:000000000000:alias/extracts');
  assert.equal(forA.Aliases?.[0]?.TargetKeyId, a);

  await client.send(new UpdateAliasCommand({ AliasName: 'alias/extracts', TargetKeyId: b }));
  assert.equal((await client.send(new DescribeKeyCommand({ KeyId: 'alias/extracts' }))).KeyMetadata?.KeyId, b);
  assert.deepEqual((await client.send(new ListAliasesCommand({ KeyId: a }))).Aliases, []);
  const all = await client.send(new ListAliasesCommand({}));
  assert.ok(all.Aliases?.some((x) => x.AliasName === 'alias/extracts' && x.TargetKeyId === b));

  await client.send(new DeleteAliasCommand({ AliasName: 'alias/extracts' }));
  const gone = await failure(() => client.send(new DescribeKeyCommand({ KeyId: 'alias/extracts' })));
  assert.equal(gone.name, 'NotFoundException');
  const again = await failure(() => client.send(new DeleteAliasCommand({ AliasName: 'alias/extracts' })));
  assert.equal(again.name, 'NotFoundException');
});

test('EnableKey/DisableKey flip the state DescribeKey reports', async () => {
  const k = await newKey();
  await client.send(new DisableKeyCommand({ KeyId: k }));
  let m = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!;
  assert.equal(m.KeyState, 'Disabled');
  assert.equal(m.Enabled, false);
  await client.send(new EnableKeyCommand({ KeyId: k }));
  m = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!;
  assert.equal(m.KeyState, 'Enabled');
  assert.equal(m.Enabled, true);
});

test('ScheduleKeyDeletion takes 7-30 days (default 30), sets PendingDeletion; CancelKeyDeletion leaves the key Disabled', async () => {
  const k = await newKey();
  for (const days of [6, 31]) {
    const err = await failure(() => client.send(new ScheduleKeyDeletionCommand({ KeyId: k, PendingWindowInDays: days })));
    assert.equal(err.name, 'ValidationException', String(days));
  }
  const before = Date.now();
  const s = await client.send(new ScheduleKeyDeletionCommand({ KeyId: k }));
  assert.equal(s.KeyState, 'PendingDeletion');
  assert.equal(s.PendingWindowInDays, 30);
  assert.equal(s.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${k}`);
  const days = (s.DeletionDate!.getTime() - before) / 86_400_000;
  assert.ok(days > 29.9 && days < 30.1, `deletion in ${days} days`);
  const m = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!;
  assert.equal(m.KeyState, 'PendingDeletion');
  assert.ok(m.DeletionDate instanceof Date);

  const enable = await failure(() => client.send(new EnableKeyCommand({ KeyId: k })));
  assert.equal(enable.name, 'KMSInvalidStateException');
  assert.equal(enable.message, `arn:aws:kms:us-east-1:000000000000:key/${k} is pending deletion.`);

  const c = await client.send(new CancelKeyDeletionCommand({ KeyId: k }));
  assert.equal(c.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${k}`);
  const after = (await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata!;
  assert.equal(after.KeyState, 'Disabled');
  assert.equal(after.DeletionDate, undefined);
  const twice = await failure(() => client.send(new CancelKeyDeletionCommand({ KeyId: k })));
  assert.equal(twice.name, 'KMSInvalidStateException');
});

test('GetKeyPolicy returns the default policy; PutKeyPolicy replaces it, with AWS lockout and syntax checks', async () => {
  const k = await newKey();
  const got = await client.send(new GetKeyPolicyCommand({ KeyId: k, PolicyName: 'default' }));
  assert.equal(got.PolicyName, 'default');
  const doc = JSON.parse(got.Policy!) as { Statement: { Principal: { AWS: string }; Action: string }[] };
  assert.equal(doc.Statement[0]?.Principal.AWS, 'arn:aws:iam::000000000000:root');
  assert.equal(doc.Statement[0]?.Action, 'kms:*');
  assert.deepEqual((await client.send(new ListKeyPoliciesCommand({ KeyId: k }))).PolicyNames, ['default']);

  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'admin', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'kms:*', Resource: '*' },
      { Sid: 'node', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/node' }, Action: ['kms:Decrypt'], Resource: '*' },
    ],
  });
  await client.send(new PutKeyPolicyCommand({ KeyId: k, PolicyName: 'default', Policy: policy }));
  assert.equal((await client.send(new GetKeyPolicyCommand({ KeyId: k, PolicyName: 'default' }))).Policy, policy);

  const lockout = JSON.stringify({
    Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/node' }, Action: 'kms:Decrypt', Resource: '*' }],
  });
  const locked = await failure(() => client.send(new PutKeyPolicyCommand({ KeyId: k, PolicyName: 'default', Policy: lockout })));
  assert.equal(locked.name, 'MalformedPolicyDocumentException');
  const notJson = await failure(() => client.send(new PutKeyPolicyCommand({ KeyId: k, PolicyName: 'default', Policy: '{nope' })));
  assert.equal(notJson.name, 'MalformedPolicyDocumentException');
  const otherName = await failure(() => client.send(new GetKeyPolicyCommand({ KeyId: k, PolicyName: 'other' })));
  assert.equal(otherName.name, 'NotFoundException');
});

test('tags and description can be changed', async () => {
  const k = await newKey('old');
  await client.send(new TagResourceCommand({ KeyId: k, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'b', TagValue: '2' }] }));
  await client.send(new TagResourceCommand({ KeyId: k, Tags: [{ TagKey: 'a', TagValue: '3' }] }));
  await client.send(new UntagResourceCommand({ KeyId: k, TagKeys: ['b'] }));
  assert.deepEqual((await client.send(new ListResourceTagsCommand({ KeyId: k }))).Tags, [{ TagKey: 'a', TagValue: '3' }]);
  await client.send(new UpdateKeyDescriptionCommand({ KeyId: k, Description: 'new' }));
  assert.equal((await client.send(new DescribeKeyCommand({ KeyId: k }))).KeyMetadata?.Description, 'new');
});

test('an unknown operation is UnknownOperationException, an unmodelled one UnsupportedOperationException, a missing member ValidationException', async () => {
  // Rewrite the target before the SDK signs, so the request is well signed.
  const c = kmsClient(kms);
  c.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-amz-target'] = 'TrentService.MakeCoffee';
      return next(args);
    },
    { step: 'build', name: 'renameOperation' },
  );
  const unknown = await failure(() => c.send(new ListKeysCommand({})));
  assert.equal(unknown.name, 'UnknownOperationException');
  assert.equal(unknown.$metadata?.httpStatusCode, 400);

  const grant = await failure(() => client.send(new CreateGrantCommand({ KeyId: 'k', GranteePrincipal: 'p', Operations: ['Decrypt'] })));
  assert.equal(grant.name, 'UnsupportedOperationException', 'a real KMS operation this simulator lacks');

  const missing = await failure(() => client.send(new DescribeKeyCommand({} as never)));
  assert.equal(missing.name, 'ValidationException');
  assert.match(missing.message, /Value null at 'keyId' failed to satisfy constraint: Member must not be null/);
});
