// `cryptgate kms serve`: prints how to connect, serves until told to stop, stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { runKmsServe } from '../../../simulators/kms/main.js';
import { InputError } from '../../../src/util/errors.js';

function sink(): { write(text: string): boolean; text: () => string } {
  let buf = '';
  return { write: (t: string) => ((buf += t), true), text: () => buf };
}

test('serve prints the endpoint and AWS CLI/SDK usage, serves requests, and stops on abort', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cryptgate-kms-serve-'));
  try {
    const out = sink();
    const err = sink();
    const abort = new AbortController();
    let onReady!: (endpoint: string) => void;
    const ready = new Promise<string>((resolve) => (onReady = resolve));
    const exit = runKmsServe({ port: '0', state: dir, region: 'eu-central-1' }, { stdout: out, stderr: err, signal: abort.signal, env: {}, onReady });
    // If serving fails before it is ready, fail here rather than wait forever.
    const endpoint = await Promise.race([ready, exit.then((code) => assert.fail(`serve exited early with ${code}`))]);
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    const text = out.text();
    assert.ok(text.includes(`listening on ${endpoint}`));
    assert.ok(text.includes(`aws --endpoint-url ${endpoint} kms create-key`));
    assert.ok(text.includes('AWS_DEFAULT_REGION=eu-central-1'));
    assert.ok(text.includes(`state in ${dir}`));

    const client = new KMSClient({ endpoint, region: 'eu-central-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const key = await client.send(new CreateKeyCommand({}));
    assert.match(key.KeyMetadata!.Arn!, /^arn:aws:kms:eu-central-1:000000000000:key\//);
    client.destroy();

    abort.abort();
    assert.equal(await exit, 0);
    assert.match(out.text(), /embedded KMS stopped\n$/);
    assert.match(err.text(), /stopping the embedded KMS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad --port is an InputError before anything starts', async () => {
  await assert.rejects(runKmsServe({ port: 'eighty' }, { stdout: sink(), stderr: sink(), env: {} }), InputError);
  await assert.rejects(runKmsServe({ port: 70000 }, { stdout: sink(), stderr: sink(), env: {} }), InputError);
});
