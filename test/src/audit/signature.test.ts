// Signed reports against the embedded KMS over its real wire protocol: a round trip, a
// re-indented JSON report still verifies, any changed value or signature is caught, and a
// symmetric key is refused for signing.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { canonicalJson, readSignatureFile, signReport, verifyReport, type SignatureFile } from '../../../src/audit/signature.js';
import { EnvironmentError, FormatError, InputError } from '../../../src/util/errors.js';

let kms: EmbeddedKms;
let client: KMSClient;
let ecKey: string;
let rsaKey: string;
let symmetricKey: string;
const dir = mkdtempSync(join(tmpdir(), 'cg-sign-'));

before(async () => {
  kms = await startEmbeddedKms({ port: 0 });
  client = new KMSClient({ endpoint: kms.endpoint, region: kms.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  ecKey = (await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
  rsaKey = (await client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
  symmetricKey = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
});

after(async () => {
  client.destroy();
  await kms.stop();
  rmSync(dir, { recursive: true, force: true });
});

const REPORT = { schema: 'cryptgate/report@1', verdict: 'fail', checks: [{ id: 'kms.node-reach', status: 'fail', findings: [{ message: 'node3 cannot reach the CMK', evidence: { node: 'node3' } }] }], summary: { pass: 0, fail: 1 } };

test('canonical JSON sorts keys and drops white space, as RFC 8785 does for these values', () => {
  assert.equal(canonicalJson({ b: [1, { d: 'x', c: null }], a: 'é\n"' }), '{"a":"é\\n\\"","b":[1,{"c":null,"d":"x"}]}');
});

test('sign then verify: OK; re-indenting the JSON still verifies; any changed value is caught without asking KMS', async () => {
  const path = join(dir, 'report.json');
  writeFileSync(path, `${JSON.stringify(REPORT, null, 2)}\n`);
  for (const key of [ecKey, rsaKey]) {
    const sig = await signReport(path, client, key, 'embedded KMS (test)');
    assert.equal(sig.canonicalization, 'json-canonical');
    assert.equal(sig.keyId, key);
    assert.match(sig.signingAlgorithm, key === ecKey ? /^ECDSA_SHA_256$/ : /^RSASSA_PSS_SHA_256$/);
    assert.deepEqual(await verifyReport(path, sig, client), { ok: true, keyId: key, algorithm: sig.signingAlgorithm });
  }
  const sig = await signReport(path, client, ecKey, 'embedded KMS (test)');
  writeFileSync(path, JSON.stringify(JSON.parse(readFileSync(path, 'utf8'))));
  assert.equal((await verifyReport(path, sig, client)).ok, true, 'white space is not content');

  const tampered = structuredClone(REPORT);
  tampered.verdict = 'pass';
  writeFileSync(path, JSON.stringify(tampered, null, 2));
  const out = await verifyReport(path, sig, client);
  assert.equal(out.ok, false);
  assert.match(!out.ok ? out.reason : '', /report\.json changed since it was signed: its SHA-256 is [0-9a-f]{64}, the signature covers [0-9a-f]{64}$/);
});

test('a forged signature file (digest and signature swapped in) is caught by KMS Verify', async () => {
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  writeFileSync(a, JSON.stringify(REPORT));
  writeFileSync(b, JSON.stringify({ ...REPORT, verdict: 'pass' }));
  const sigA = await signReport(a, client, ecKey, 't');
  const sigB = await signReport(b, client, ecKey, 't');
  // b's digest with a's signature: the digests agree with the file, the signature does not.
  const forged: SignatureFile = { ...sigB, signature: sigA.signature };
  const out = await verifyReport(b, forged, client);
  assert.deepEqual(out, { ok: false, reason: `the signature does not verify with key ${ecKey}: the signature file was altered, or it signs another report` });
});

test('any other format is signed byte for byte', async () => {
  const html = join(dir, 'r.html');
  writeFileSync(html, '<!DOCTYPE html><p>FAIL</p>\n');
  const sig = await signReport(html, client, ecKey, 't');
  assert.equal(sig.canonicalization, 'bytes');
  assert.equal((await verifyReport(html, sig, client)).ok, true);
  writeFileSync(html, '<!DOCTYPE html><p>PASS</p>\n');
  assert.equal((await verifyReport(html, sig, client)).ok, false);
});

test('a symmetric key cannot sign; a malformed signature file is bad input; an unreachable KMS is an environment error', async () => {
  const path = join(dir, 's.json');
  writeFileSync(path, JSON.stringify(REPORT));
  await assert.rejects(signReport(path, client, symmetricKey, 't'), (e: Error) => e instanceof InputError && /a symmetric key cannot sign: use an asymmetric signing key/.test(e.message));
  const sigPath = join(dir, 's.json.sig.json');
  writeFileSync(sigPath, JSON.stringify({ format: 'cryptgate/signature@1', canonicalization: 'xml' }));
  assert.throws(() => readSignatureFile(sigPath), (e: Error) => e instanceof FormatError && e.message === `${sigPath}: offset 0: canonicalization: expected "json-canonical" or "bytes", found "xml"`);
  assert.throws(() => readSignatureFile(join(dir, 'none.sig.json')), (e: Error) => e instanceof InputError && /cannot read the signature file: no such file/.test(e.message));
  const sig = await signReport(path, client, ecKey, 't');
  const dead = new KMSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  try {
    await assert.rejects(verifyReport(path, sig, dead), (e: Error) => e instanceof EnvironmentError && /unreachable/.test(e.message));
  } finally {
    dead.destroy();
  }
});
