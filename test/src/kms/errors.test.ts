// The one-line wording of failed KMS calls: exact KMS answers from aws-sdk-client-mock
// (it stubs send(), so no server and no retries), then the same lines from real servers:
// the embedded KMS and a closed loopback port.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  DisabledException,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  KMSClient,
  KMSInvalidStateException,
  NotFoundException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { startKmsBackend, type KmsBackend } from '../../../src/kms/backend.js';
import { kmsClient } from '../../../src/kms/client.js';
import { describeKmsError, isKmsConnectionFailure, kmsFailureKind } from '../../../src/kms/errors.js';
import { EnvironmentError, EXIT_ENVIRONMENT } from '../../../src/util/errors.js';
import { closedPort, failure } from './helpers.js';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NODE2 = { node: 'node2', role: 'tableau-node', keyArn: ARN };

/** An error as the SDK builds an unmodeled one (AccessDenied and Throttling have no class). */
function awsError(name: string, message: string, status = 400, attempts = 1): Error {
  const e = new Error(message) as Error & { $metadata: object; $fault: string };
  e.name = name;
  e.$metadata = { httpStatusCode: status, attempts };
  e.$fault = status >= 500 ? 'server' : 'client';
  return e;
}

// ---- exact answers, no server ----------------------------------------------------------
describe('wording for exact KMS answers (aws-sdk-client-mock)', () => {
  let mock: ReturnType<typeof mockClient>;
  before(() => {
    mock = mockClient(KMSClient);
  });
  afterEach(() => mock.reset());
  after(() => mock.restore());

  async function lineFor(reply: Error, action: 'Decrypt' | 'GenerateDataKey', ctx: Parameters<typeof describeKmsError>[1]): Promise<EnvironmentError> {
    if (action === 'Decrypt') mock.on(DecryptCommand).rejects(reply);
    else mock.on(GenerateDataKeyCommand).rejects(reply);
    // A closed loopback endpoint: were the mock ever bypassed, nothing would leave the machine.
    const c = new KMSClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
    const err = await failure(() =>
      action === 'Decrypt' ? c.send(new DecryptCommand({ CiphertextBlob: new Uint8Array(8) })) : c.send(new GenerateDataKeyCommand({ KeyId: ARN, KeySpec: 'AES_256' })),
    );
    const out = describeKmsError(err, ctx);
    assert.ok(out instanceof EnvironmentError);
    assert.equal(out.exitCode, EXIT_ENVIRONMENT);
    assert.ok(!out.message.includes('\n'), 'one line');
    return out;
  }

  test('AccessDenied names node, role, action and key', async () => {
    const msg =
      'User: arn:aws:sts::111122223333:assumed-role/tableau-node/i-0abc is not authorized to perform: kms:Decrypt on resource: ' +
      `${ARN} because no identity-based policy allows the kms:Decrypt action`;
    const out = await lineFor(awsError('AccessDeniedException', msg), 'Decrypt', { ...NODE2, action: 'Decrypt' });
    assert.equal(out.message, `node2 (role tableau-node): kms:Decrypt on ${ARN} denied: AccessDeniedException: ${msg}`);
  });

  test('DisabledException says the key is disabled and what to do', async () => {
    const reply = new DisabledException({ message: `${ARN} is disabled.`, $metadata: { httpStatusCode: 400 } });
    const out = await lineFor(reply, 'GenerateDataKey', { node: 'node1', role: 'tableau-node', keyArn: ARN, action: 'kms:GenerateDataKey' });
    assert.equal(
      out.message,
      `node1 (role tableau-node): kms:GenerateDataKey on ${ARN} refused: the key is disabled (DisabledException: ${ARN} is disabled.); enable it (EnableKey) or configure another key`,
    );
  });

  test('KMSInvalidStateException explains pending deletion', async () => {
    const reply = new KMSInvalidStateException({ message: `${ARN} is pending deletion.`, $metadata: {} });
    const out = await lineFor(reply, 'Decrypt', { ...NODE2, action: 'Decrypt' });
    assert.equal(
      out.message,
      `node2 (role tableau-node): kms:Decrypt on ${ARN} refused: the key's state does not allow it, e.g. pending deletion ` +
        `(KMSInvalidStateException: ${ARN} is pending deletion.); cancel the deletion (CancelKeyDeletion) and enable the key`,
    );
  });

  test('NotFoundException names the region to check', async () => {
    const reply = new NotFoundException({ message: 'Invalid arn us-east-1', $metadata: {} });
    const out = await lineFor(reply, 'GenerateDataKey', { node: 'node1', keyArn: ARN, action: 'GenerateDataKey', region: 'eu-west-1' });
    assert.equal(
      out.message,
      `node1: kms:GenerateDataKey on ${ARN} failed: no such key in this account and region eu-west-1 (NotFoundException: Invalid arn us-east-1); check the key ARN's account and region`,
    );
  });

  test('IncorrectKeyException and InvalidCiphertextException say what is wrong with the ciphertext', async () => {
    const inc = await lineFor(new IncorrectKeyException({ message: 'The key ID in the request does not identify a CMK that can perform this operation.', $metadata: {} }), 'Decrypt', { ...NODE2, action: 'Decrypt' });
    assert.match(inc.message, /^node2 \(role tableau-node\): kms:Decrypt on arn:\S+ failed: the ciphertext was encrypted under another key \(IncorrectKeyException: The key ID/);
    const bad = await lineFor(awsError('InvalidCiphertextException', ''), 'Decrypt', { ...NODE2, action: 'Decrypt' });
    assert.equal(bad.message, `node2 (role tableau-node): kms:Decrypt on ${ARN} failed: the ciphertext is damaged or its encryption context does not match (InvalidCiphertextException)`);
  });

  test('throttling and 5xx after retries say how many attempts were made', async () => {
    const thr = await lineFor(awsError('ThrottlingException', 'Rate exceeded', 400, 4), 'GenerateDataKey', { node: 'node3', keyArn: ARN, action: 'GenerateDataKey' });
    assert.equal(thr.message, `node3: kms:GenerateDataKey on ${ARN} throttled after 4 attempts (ThrottlingException: Rate exceeded); lower the request rate or raise the account's KMS request quota`);
    const down = await lineFor(awsError('ServiceUnavailableException', 'Service is unavailable.', 503, 4), 'GenerateDataKey', {
      node: 'node1',
      keyArn: ARN,
      action: 'GenerateDataKey',
      endpoint: 'https://kms.us-east-1.amazonaws.com',
    });
    assert.equal(
      down.message,
      `KMS endpoint https://kms.us-east-1.amazonaws.com failed with HTTP 503 after 4 attempts while node1 ran kms:GenerateDataKey on ${ARN}: ServiceUnavailableException: Service is unavailable.`,
    );
  });

  test('credential errors and unknown errors stay one line; a multi-line message is flattened', async () => {
    const cred = await lineFor(awsError('UnrecognizedClientException', 'The security token included in the request is invalid.'), 'Decrypt', { role: 'tableau-node', keyArn: ARN, action: 'Decrypt' });
    assert.equal(cred.message, `role tableau-node: kms:Decrypt on ${ARN} rejected: the KMS endpoint does not accept these credentials (UnrecognizedClientException: The security token included in the request is invalid.)`);
    const odd = await lineFor(awsError('WeirdException', 'line one\n  line two'), 'Decrypt', { action: 'Decrypt' });
    assert.equal(odd.message, 'cryptgate: kms:Decrypt failed: WeirdException: line one line two (HTTP 400)');
  });

  test('kmsFailureKind classifies SDK and socket errors', () => {
    assert.equal(kmsFailureKind(awsError('AccessDeniedException', 'x')), 'access-denied');
    assert.equal(kmsFailureKind(awsError('Foo', 'x', 429)), 'throttled');
    assert.equal(kmsFailureKind(awsError('InternalFailure', 'x', 501)), 'unsupported');
    assert.equal(kmsFailureKind(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), 'unreachable');
    assert.equal(kmsFailureKind(Object.assign(new Error('getaddrinfo ENOTFOUND kms.example'), { code: 'ENOTFOUND' })), 'unreachable');
    assert.equal(kmsFailureKind(Object.assign(new Error('t'), { name: 'TimeoutError' })), 'timeout');
    assert.ok(isKmsConnectionFailure(Object.assign(new Error('t'), { name: 'TimeoutError' })));
    assert.ok(!isKmsConnectionFailure(awsError('AccessDeniedException', 'x')));
    const env = new EnvironmentError('already one line');
    assert.equal(describeKmsError(env, { action: 'Decrypt' }), env);
  });

});

// ---- real servers ----------------------------------------------------------------------
describe('wording from real servers', () => {
    let backend: KmsBackend;
    before(async () => {
      backend = await startKmsBackend('embedded', { env: {} });
  });
  after(() => backend?.stop());

  test('embedded KMS: a node role without kms:Decrypt gets one line naming node, role, key and action', async () => {
    const admin = backend.client();
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const blob = (await admin.send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256' }))).CiphertextBlob!;
    backend.embedded!.addRoleCredentials('AKIDNODE2ROLE001', 'node2-secret', 'tableau-node');
    const node2 = backend.client({ accessKeyId: 'AKIDNODE2ROLE001', secretAccessKey: 'node2-secret' });
    const err = await failure(() => node2.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: key })));
    const line = describeKmsError(err, { node: 'node2', role: 'tableau-node', keyArn: key, action: 'Decrypt' }).message;
    assert.ok(line.startsWith(`node2 (role tableau-node): kms:Decrypt on ${key} denied: AccessDeniedException: `), line);
    assert.ok(line.includes('tableau-node') && line.includes('kms:Decrypt'));
    assert.ok(!line.includes('\n'));
  });

  test('embedded KMS: a disabled CMK gives the DisabledException line', async () => {
    const admin = backend.client();
    const key = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    await admin.send(new DisableKeyCommand({ KeyId: key }));
    const err = await failure(() => admin.send(new GenerateDataKeyCommand({ KeyId: key, KeySpec: 'AES_256' })));
    assert.equal(
      describeKmsError(err, { node: 'node1', role: 'tableau-node', keyArn: key, action: 'GenerateDataKey' }).message,
      `node1 (role tableau-node): kms:GenerateDataKey on ${key} refused: the key is disabled (DisabledException: ${key} is disabled.); enable it (EnableKey) or configure another key`,
    );
  });

  test('a dead endpoint (closed port): ECONNREFUSED, one line, after the retries', async () => {
    const port = await closedPort();
    const endpoint = `http://127.0.0.1:${port}`;
    const c = kmsClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const err = await failure(() => c.send(new GenerateDataKeyCommand({ KeyId: ARN, KeySpec: 'AES_256' })));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.$metadata?.attempts, 4);
    assert.equal(
      describeKmsError(err, { node: 'node1', keyArn: ARN, action: 'GenerateDataKey', endpoint }).message,
      `KMS endpoint ${endpoint} unreachable (ECONNREFUSED) while node1 ran kms:GenerateDataKey on ${ARN}`,
    );
    // Without the endpoint in the context, the socket's address stands in.
    assert.equal(
      describeKmsError(err, { node: 'node1', keyArn: ARN, action: 'GenerateDataKey' }).message,
      `KMS endpoint 127.0.0.1:${port} unreachable (ECONNREFUSED) while node1 ran kms:GenerateDataKey on ${ARN}`,
    );
    c.destroy();
  });

  test('a hung endpoint: TimeoutError line with the attempts', async () => {
    backend.embedded!.setFaults({ hang: { next: 2 } });
    const c = kmsClient({ endpoint: backend.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 2, timeoutMs: 200 });
    const err = await failure(() => c.send(new GenerateDataKeyCommand({ KeyId: ARN, KeySpec: 'AES_256' })));
    assert.equal(
      describeKmsError(err, { node: 'node1', keyArn: ARN, action: 'GenerateDataKey', endpoint: backend.endpoint }).message,
      `KMS endpoint ${backend.endpoint} did not answer in time (TimeoutError) after 2 attempts while node1 ran kms:GenerateDataKey on ${ARN}`,
    );
    backend.embedded!.clearFaults();
    c.destroy();
  });
});
