// SigV4 is checked for real: AWS's published test vectors, then wrong secrets, unknown keys,
// unsigned and altered requests through the SDK and raw fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateKeyCommand, ListKeysCommand, type KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { canonicalRequest, signature, signingKey } from '../../../simulators/kms/sigv4.js';
import { createHash } from 'node:crypto';
import { failure, kmsClient } from './helpers.js';

const EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

test('signing key and signatures match AWS SigV4 test-suite vectors (get-vanilla, post-vanilla)', () => {
  const vanilla = (method: string) => ({
    method,
    url: '/',
    rawHeaders: ['Host', 'example.amazonaws.com', 'X-Amz-Date', '20150830T123600Z'],
    body: Buffer.alloc(0),
  });
  const auth = { accessKeyId: 'AKIDEXAMPLE', date: '20150830', region: 'us-east-1', service: 'service', signedHeaders: ['host', 'x-amz-date'], signature: '' };
  assert.equal(
    canonicalRequest(vanilla('GET'), auth.signedHeaders),
    'GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  assert.equal(
    createHash('sha256').update(canonicalRequest(vanilla('GET'), auth.signedHeaders)).digest('hex'),
    'bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63',
  );
  assert.equal(signature(vanilla('GET'), auth, '20150830T123600Z', EXAMPLE_SECRET), '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  assert.equal(signature(vanilla('POST'), auth, '20150830T123600Z', EXAMPLE_SECRET), '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
  assert.equal(signingKey(EXAMPLE_SECRET, '20150830', 'us-east-1', 'iam').toString('hex'), 'c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9');
});

let kms: EmbeddedKms;

before(async () => {
  kms = await startEmbeddedKms({
    credentials: {
      anyAccessKeySecret: 'test',
      accessKeys: { AKIDADMIN: { secretAccessKey: 'admin-secret' } },
    },
  });
});
after(() => kms.stop());

test('a request signed with the wrong secret is InvalidSignatureException (HTTP 400)', async () => {
  const err = await failure(() => kmsClient(kms, { accessKeyId: 'AKIDADMIN', secretAccessKey: 'wrong' }).send(new ListKeysCommand({})));
  assert.equal(err.name, 'InvalidSignatureException');
  assert.equal(err.$metadata?.httpStatusCode, 400);
  assert.match(err.message, /^The request signature we calculated does not match the signature you provided/);
  const anyKey = await failure(() => kmsClient(kms, { accessKeyId: 'SOMEKEY', secretAccessKey: 'not-test' }).send(new ListKeysCommand({})));
  assert.equal(anyKey.name, 'InvalidSignatureException');
  await kmsClient(kms, { accessKeyId: 'AKIDADMIN', secretAccessKey: 'admin-secret' }).send(new ListKeysCommand({}));
});

test('an unknown access key is UnrecognizedClientException when unlisted keys are refused', async () => {
  const strict = await startEmbeddedKms({ credentials: { anyAccessKeySecret: null, accessKeys: { AKIDONLY: { secretAccessKey: 's3cret' } } } });
  try {
    const err = await failure(() => kmsClient(strict, { accessKeyId: 'test', secretAccessKey: 'test' }).send(new ListKeysCommand({})));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.message, 'The security token included in the request is invalid.');
    await kmsClient(strict, { accessKeyId: 'AKIDONLY', secretAccessKey: 's3cret' }).send(new ListKeysCommand({}));
    assert.equal(strict.counters().byPrincipal['anonymous']?.total, 1);
  } finally {
    await strict.stop();
  }
});

test('an unsigned request is MissingAuthenticationTokenException', async () => {
  const res = await fetch(kms.endpoint + '/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' },
    body: '{}',
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
});

test('a body changed after signing, or a stale date, fails the signature check', async () => {
  const tampered = kmsClient(kms);
  // The deserialize step runs after finalizeRequest (where the SDK signs): the request keeps
  // its signature but not its body.
  tampered.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { body: string; headers: Record<string, string> };
      req.body = JSON.stringify({ Limit: 1 });
      req.headers['content-length'] = String(Buffer.byteLength(req.body));
      return next(args);
    },
    { step: 'deserialize', name: 'tamperAfterSigning' },
  );
  const err = await failure(() => tampered.send(new ListKeysCommand({ Limit: 2 })));
  assert.equal(err.name, 'InvalidSignatureException');

  const stale = await fetch(kms.endpoint + '/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': 'TrentService.ListKeys',
      'X-Amz-Date': '20200101T000000Z',
      Authorization: 'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
    },
    body: '{}',
  });
  const body = (await stale.json()) as { __type: string; message: string };
  assert.equal(body.__type, 'InvalidSignatureException');
  assert.match(body.message, /^Signature expired: 20200101T000000Z is now earlier than/);

  const wrongService = await fetch(kms.endpoint + '/', {
    method: 'POST',
    headers: {
      'X-Amz-Target': 'TrentService.ListKeys',
      Authorization: 'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
    },
    body: '{}',
  });
  assert.equal(((await wrongService.json()) as { __type: string }).__type, 'IncompleteSignatureException');
});

test('a 12-digit access key id acts as the administrator of that account; others of the default account', async () => {
  const other = kmsClient(kms, { accessKeyId: '111122223333' });
  const m = (await other.send(new CreateKeyCommand({}))).KeyMetadata!;
  assert.equal(m.Arn, `arn:aws:kms:us-east-1:111122223333:key/${m.KeyId}`);
  const mine = (await kmsClient(kms).send(new ListKeysCommand({}))).Keys ?? [];
  assert.ok(!mine.some((k) => k.KeyId === m.KeyId), 'accounts keep separate keys');
  const counters = kms.counters();
  assert.equal(counters.byPrincipal['arn:aws:iam::111122223333:root']?.byOperation['CreateKey'], 1);
});

test('credentials with a session token require that token', async () => {
  kms.addRoleCredentials('ASIATEMP', 'temp-secret', 'node-role', { Statement: [{ Effect: 'Allow', Action: 'kms:ListKeys', Resource: '*' }] }, { sessionToken: 'token-1' });
  const without = await failure(() => kmsClient(kms, { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret' }).send(new ListKeysCommand({})));
  assert.equal(without.name, 'UnrecognizedClientException');
  const wrong = await failure(() =>
    kmsClient(kms, { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'token-2' }).send(new ListKeysCommand({})),
  );
  assert.equal(wrong.name, 'UnrecognizedClientException');
  const c: KMSClient = kmsClient(kms, { accessKeyId: 'ASIATEMP', secretAccessKey: 'temp-secret', sessionToken: 'token-1' });
  await c.send(new ListKeysCommand({}));
});
