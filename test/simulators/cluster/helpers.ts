// Shared by the simulated-cluster tests: an embedded KMS with a CMK, a cluster opened with
// per-node role credentials, output capture, and a scanner for plaintext key material.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../../simulators/kms/index.js';
import { embeddedKmsAccess, SimCluster, type SimOptions } from '../../../simulators/cluster/index.js';
import { readConfig } from '../../../simulators/cluster/config.js';
import { observeKeyMaterial, type KeyMaterialEvent } from '../../../simulators/cluster/test-hooks.js';
import { encodings as keyEncodings, plaintextKeyHits } from '../../../steps/kms-evidence.js';

// The AWS SDK warns once per process on Node 20; test output should show the tests.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function tempDir(prefix = 'cg-cluster-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface TestKms {
  kms: EmbeddedKms;
  admin: KMSClient;
  /** A new symmetric CMK in us-east-1 (key policy: the default, delegating to IAM). */
  newCmk(region?: string): Promise<string>;
  stop(): Promise<void>;
}

/** An embedded KMS on a free port; in memory, or persisted to `stateDir` (a folder a test can scan). */
export async function startTestKms(o: { stateDir?: string } = {}): Promise<TestKms> {
  const kms = await startEmbeddedKms({ port: 0, ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}) });
  const clients = new Map<string, KMSClient>();
  const adminIn = (region: string): KMSClient => {
    let c = clients.get(region);
    if (!c) {
      c = new KMSClient({ endpoint: kms.endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
      clients.set(region, c);
    }
    return c;
  };
  return {
    kms,
    admin: adminIn('us-east-1'),
    async newCmk(region = 'us-east-1') {
      const m = (await adminIn(region).send(new CreateKeyCommand({ Description: 'tableau cmk' }))).KeyMetadata!;
      return m.Arn!;
    },
    async stop() {
      for (const c of clients.values()) c.destroy();
      await kms.stop();
    },
  };
}

/** Opens a cluster whose nodes sign as their own roles (IAM policy from cluster.json). One attempt per call: counters stay exact. */
export async function openCluster(dir: string, kms: EmbeddedKms | undefined, o: SimOptions = {}): Promise<SimCluster> {
  const nodes = readConfig(dir).nodes;
  return SimCluster.open(dir, { ...(kms ? { kms: embeddedKmsAccess(kms, nodes, { maxAttempts: 1 }) } : {}), ...o });
}

export function output(): { print: (l: string) => void; lines: string[]; text: () => string } {
  const lines: string[] = [];
  return { print: (l) => lines.push(l), lines, text: () => lines.join('\n') };
}

/** Requests by operation since the last reset. */
export function ops(kms: EmbeddedKms): Record<string, number> {
  return kms.counters().byOperation;
}

/**
 * Requests by the role that signed them (`assumed-role/<role>/<session>` in the principal
 * ARN) and operation, since the last reset. Anything else (the administrator) is keyed by
 * its full principal, so an unexpected caller shows up in a deepEqual.
 */
export function opsByRole(kms: EmbeddedKms): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [principal, c] of Object.entries(kms.counters().byPrincipal)) {
    const role = /:assumed-role\/([^/]+)\//.exec(principal)?.[1] ?? principal;
    const mine = (out[role] ??= {});
    for (const [op, n] of Object.entries(c.byOperation)) mine[op] = (mine[op] ?? 0) + n;
  }
  return out;
}

export function captureKeys(): { keys: KeyMaterialEvent[]; stop: () => void } {
  const keys: KeyMaterialEvent[] = [];
  const stop = observeKeyMaterial((e) => keys.push(e));
  return { keys, stop };
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name));
}

/** The needles assertNoKeyIn looks for, one per encoding the steps' scan knows (KEY_ENCODINGS). */
export const encodings = (k: Buffer): Buffer[] => keyEncodings(k).map((e) => e.bytes);

/** Fails naming the file and key if any key, in any encoding (steps/kms-evidence.ts KEY_ENCODINGS), appears in any file. */
export function assertNoKeyIn(files: string[], keys: KeyMaterialEvent[]): void {
  assert.ok(keys.length > 0, 'the test observed no key material: the hook is not wired');
  const hit = plaintextKeyHits(files, keys)[0];
  assert.equal(hit, undefined, hit && `${hit.file} contains plaintext ${hit.kind} ${hit.id} (${hit.encoding})`);
}
