// `cryptgate kms probe`: a short conformance probe of a KMS backend against what real AWS
// KMS documents, so a reader sees which behaviours this backend can reproduce, and so the
// capability table each backend declares (capabilities.ts) is checked against its answers.
//
// It creates three symmetric keys (described "cryptgate kms probe (safe to delete)") and
// schedules each for deletion (7 days, the minimum) at the end: on real AWS that is the
// cost of a probe. No key material or plaintext is ever printed.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import type { KmsBackend } from './backend.js';
import { CAPABILITY_NAMES, type KmsCapabilities, type KmsCapability } from './capabilities.js';
import { describeKmsError, isKmsConnectionFailure } from './errors.js';
import { httpGet } from './http-get.js';

/** as-aws: the backend did what real KMS does; differs: it did not; unobservable: the API does not show it. */
export type ProbeOutcome = 'as-aws' | 'differs' | 'unobservable';

export interface ProbeRow {
  id: string;
  behaviour: string;
  expected: string;
  observed: string;
  outcome: ProbeOutcome;
  /** The capability this row is evidence for, if any. */
  capability?: KmsCapability;
}

export interface CapabilityMismatch {
  capability: KmsCapability;
  declared: boolean;
  observed: boolean;
  rows: string[];
}

export interface ProbeResult {
  backend: { name: string; kind: string; description: string; endpoint: string; region: string };
  rows: ProbeRow[];
  /** What the rows show, per capability (absent: not observable here). */
  observed: Partial<KmsCapabilities>;
  declared: KmsCapabilities;
  /** Declared capabilities the backend's answers contradict: the table is wrong if any. */
  mismatches: CapabilityMismatch[];
  /** Probe keys scheduled for deletion (or why not). */
  cleanup: string;
}

export interface ProbeOptions {
  /** Use this client instead of backend.client(). */
  client?: KMSClient;
  log?: (line: string) => void;
}

const PROBE_DESCRIPTION = 'cryptgate kms probe (safe to delete)';

interface Failure {
  name: string;
  status?: number | undefined;
}

function failureOf(err: unknown): Failure {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return { name: e?.name ?? 'Error', status: e?.$metadata?.httpStatusCode };
}
const shown = (f: Failure): string => {
  if (f.status === undefined || f.status < 500) return f.name;
  // The SDK could not parse the body: an HTML crash page, not a KMS error.
  return f.name === 'SyntaxError' ? `HTTP ${f.status} error page` : `HTTP ${f.status} ${f.name}`;
};

/**
 * A row for a call real KMS refuses with the error `expected`: as-aws only if the backend
 * refused it with that error; `ifDone` says what it did instead. A plaintext it answered is scrubbed.
 */
function refusalRow(
  id: string,
  behaviour: string,
  expected: string,
  r: { ok: object } | { err: Failure },
  ifDone: string,
  capability: KmsCapability,
): ProbeRow {
  if ('ok' in r && 'Plaintext' in r.ok) (r.ok.Plaintext as Uint8Array | undefined)?.fill(0);
  return {
    id,
    behaviour,
    expected,
    observed: 'ok' in r ? ifDone : shown(r.err),
    outcome: 'err' in r && r.err.name === expected ? 'as-aws' : 'differs',
    capability,
  };
}

/** Runs the probe. Throws an EnvironmentError (exit 3) when the backend cannot be used at all. */
export async function runKmsProbe(backend: KmsBackend, options: ProbeOptions = {}): Promise<ProbeResult> {
  const c = options.client ?? backend.client();
  const rows: ProbeRow[] = [];
  const ctx = { endpoint: backend.endpoint, region: backend.region };
  const log = options.log ?? (() => {});

  /** A step that must work for the probe to mean anything: any failure ends it with exit 3. */
  const must = async <T>(action: string, keyArn: string | undefined, fn: () => Promise<T>): Promise<T> => {
    log(`${action}${keyArn ? ` ${keyArn}` : ''}`);
    try {
      return await fn();
    } catch (err) {
      throw describeKmsError(err, { ...ctx, action, keyArn });
    }
  };
  /** A step whose failure is an observation; a dead endpoint still ends the probe. */
  const attempt = async <T>(action: string, keyArn: string | undefined, fn: () => Promise<T>): Promise<{ ok: T } | { err: Failure }> => {
    log(`${action}${keyArn ? ` ${keyArn}` : ''}`);
    try {
      return { ok: await fn() };
    } catch (err) {
      if (isKmsConnectionFailure(err)) throw describeKmsError(err, { ...ctx, action, keyArn });
      return { err: failureOf(err) };
    }
  };

  // Key-state operations name a key by ARN (as `aws kms disable-key --key-id <arn>` does);
  // where the backend cannot take an ARN there (moto: HTTP 500), the probe says so and
  // goes on with the bare key id.
  const keys: { arn: string; id: string }[] = [];
  /** Probe keys (ARNs) already scheduled for deletion by a step. */
  const scheduled = new Set<string>();
  let stateOpsTakeArn = true;
  const ref = (arn: string): string => (stateOpsTakeArn ? arn : (keys.find((k) => k.arn === arn)?.id ?? arn));
  const createKey = async (policy?: string): Promise<string> => {
    const out = await must('CreateKey', undefined, () =>
      c.send(new CreateKeyCommand({ Description: PROBE_DESCRIPTION, ...(policy !== undefined ? { Policy: policy } : {}) })),
    );
    const arn = out.KeyMetadata?.Arn;
    const id = out.KeyMetadata?.KeyId;
    if (!arn || !id) throw describeKmsError(new Error('CreateKey answered without KeyMetadata.Arn and KeyId'), { ...ctx, action: 'CreateKey' });
    keys.push({ arn, id });
    return arn;
  };

  let cleanup = 'no probe keys were created';
  try {
    // 1. The basics: without them nothing else can be judged.
    const keyA = await createKey();
    rows.push({ id: 'create-key', behaviour: 'CreateKey (SYMMETRIC_DEFAULT)', expected: 'key ARN', observed: 'key ARN', outcome: 'as-aws' });

    const dk = await must('GenerateDataKey', keyA, () => c.send(new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: 'AES_256' })));
    const plain = Buffer.from(dk.Plaintext ?? new Uint8Array());
    const blob = dk.CiphertextBlob;
    if (!blob) throw describeKmsError(new Error('GenerateDataKey answered without CiphertextBlob'), { ...ctx, action: 'GenerateDataKey', keyArn: keyA });
    rows.push({
      id: 'generate-data-key',
      behaviour: 'GenerateDataKey AES_256',
      expected: '32-byte data key + ciphertext',
      observed: `${plain.length}-byte data key + ciphertext`,
      outcome: plain.length === 32 ? 'as-aws' : 'differs',
    });

    const dec = await must('Decrypt', keyA, () => c.send(new DecryptCommand({ CiphertextBlob: blob })));
    const back = Buffer.from(dec.Plaintext ?? new Uint8Array());
    const same = back.length === plain.length && timingSafeEqual(back, plain);
    back.fill(0);
    rows.push({ id: 'decrypt', behaviour: 'Decrypt the data key', expected: 'the same 32 bytes', observed: same ? 'the same bytes' : 'different bytes', outcome: same ? 'as-aws' : 'differs' });

    const dk128 = await attempt('GenerateDataKey', keyA, () => c.send(new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: 'AES_128' })));
    if ('ok' in dk128) {
      const n = dk128.ok.Plaintext?.length ?? 0;
      dk128.ok.Plaintext?.fill(0);
      rows.push({ id: 'aes-128', behaviour: 'GenerateDataKey AES_128', expected: '16-byte data key', observed: `${n}-byte data key`, outcome: n === 16 ? 'as-aws' : 'differs' });
    } else {
      rows.push({ id: 'aes-128', behaviour: 'GenerateDataKey AES_128', expected: '16-byte data key', observed: shown(dk128.err), outcome: 'differs' });
    }

    // 2. A disabled key refuses cryptography.
    const byArn = await attempt('DisableKey', keyA, () => c.send(new DisableKeyCommand({ KeyId: keyA })));
    rows.push({
      id: 'state-ops-by-arn',
      behaviour: 'DisableKey naming the key by its ARN',
      expected: 'accepted',
      observed: 'ok' in byArn ? 'accepted' : `${shown(byArn.err)} (the key id works)`,
      outcome: 'ok' in byArn ? 'as-aws' : 'differs',
    });
    if ('err' in byArn) {
      stateOpsTakeArn = false;
      await must('DisableKey', keyA, () => c.send(new DisableKeyCommand({ KeyId: ref(keyA) })));
    }
    const onDisabled = await attempt('GenerateDataKey', keyA, () => c.send(new GenerateDataKeyCommand({ KeyId: keyA, KeySpec: 'AES_256' })));
    rows.push(refusalRow('disabled-key', 'GenerateDataKey on a disabled key', 'DisabledException', onDisabled, 'succeeded (key state ignored)', 'disabledKeysRefuse'));
    await must('EnableKey', keyA, () => c.send(new EnableKeyCommand({ KeyId: ref(keyA) })));

    // 3. Rotation: old ciphertexts still decrypt; new material is made.
    const before = await attempt('DescribeKey', keyA, () => c.send(new DescribeKeyCommand({ KeyId: keyA })));
    const rotated = await attempt('RotateKeyOnDemand', keyA, () => c.send(new RotateKeyOnDemandCommand({ KeyId: keyA })));
    if ('err' in rotated) {
      rows.push({ id: 'rotate', behaviour: 'RotateKeyOnDemand', expected: 'rotation starts', observed: shown(rotated.err), outcome: 'differs' });
    }
    const oldDec = await attempt('Decrypt', keyA, () => c.send(new DecryptCommand({ CiphertextBlob: blob })));
    let oldOk = false;
    let oldMaterial: string | undefined;
    if ('ok' in oldDec) {
      const p = Buffer.from(oldDec.ok.Plaintext ?? new Uint8Array());
      oldOk = p.length === plain.length && timingSafeEqual(p, plain);
      p.fill(0);
      oldMaterial = oldDec.ok.KeyMaterialId;
    }
    rows.push({
      id: 'old-ciphertext-after-rotation',
      behaviour: 'Decrypt an old ciphertext after RotateKeyOnDemand',
      expected: 'decrypts',
      observed: 'ok' in oldDec ? (oldOk ? 'decrypts' : 'wrong bytes') : shown(oldDec.err),
      outcome: oldOk ? 'as-aws' : 'differs',
    });
    plain.fill(0);
    if ('ok' in rotated) {
      const after = await attempt('DescribeKey', keyA, () => c.send(new DescribeKeyCommand({ KeyId: keyA })));
      const m0 = 'ok' in before ? before.ok.KeyMetadata?.CurrentKeyMaterialId : undefined;
      const m1 = 'ok' in after ? after.ok.KeyMetadata?.CurrentKeyMaterialId : undefined;
      let observed: string;
      let outcome: ProbeOutcome;
      if (m0 && m1) {
        observed = m0 !== m1 ? 'new CurrentKeyMaterialId' : 'same CurrentKeyMaterialId';
        outcome = m0 !== m1 ? 'as-aws' : 'differs';
      } else {
        // Fall back to the material a fresh ciphertext decrypts with, against the old one's.
        const fresh = await attempt('Encrypt', keyA, () => c.send(new EncryptCommand({ KeyId: keyA, Plaintext: randomBytes(16) })));
        const freshDec = 'ok' in fresh && fresh.ok.CiphertextBlob
          ? await attempt('Decrypt', keyA, () => c.send(new DecryptCommand({ CiphertextBlob: fresh.ok.CiphertextBlob })))
          : undefined;
        const m2 = freshDec && 'ok' in freshDec ? freshDec.ok.KeyMaterialId : undefined;
        if (freshDec && 'ok' in freshDec) freshDec.ok.Plaintext?.fill(0);
        if (oldMaterial && m2) {
          observed = oldMaterial !== m2 ? 'new KeyMaterialId on Decrypt' : 'same KeyMaterialId on Decrypt';
          outcome = oldMaterial !== m2 ? 'as-aws' : 'differs';
        } else {
          observed = 'not shown (no key material ids in answers)';
          outcome = 'unobservable';
        }
      }
      rows.push({ id: 'rotation-material', behaviour: 'RotateKeyOnDemand makes new key material', expected: 'new key material id', observed, outcome, capability: 'rotationChangesMaterial' });
    } else {
      rows.push({ id: 'rotation-material', behaviour: 'RotateKeyOnDemand makes new key material', expected: 'new key material id', observed: 'no rotation', outcome: 'differs', capability: 'rotationChangesMaterial' });
    }

    const listed = await attempt('ListKeyRotations', keyA, () => c.send(new ListKeyRotationsCommand({ KeyId: keyA })));
    if ('ok' in listed) {
      const n = listed.ok.Rotations?.length ?? 0;
      const want = 'ok' in rotated ? 1 : 0;
      rows.push({
        id: 'list-key-rotations',
        behaviour: 'ListKeyRotations',
        expected: 'lists the on-demand rotation',
        observed: `lists ${n} rotation${n === 1 ? '' : 's'}`,
        outcome: n >= want ? 'as-aws' : 'differs',
        capability: 'listKeyRotations',
      });
    } else {
      rows.push({ id: 'list-key-rotations', behaviour: 'ListKeyRotations', expected: 'lists the on-demand rotation', observed: shown(listed.err), outcome: 'differs', capability: 'listKeyRotations' });
    }

    // 4. Decrypt naming another key.
    const keyB = await createKey();
    const wrong = await attempt('Decrypt', keyB, () => c.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyB })));
    rows.push(refusalRow('incorrect-key', "Decrypt with another key's KeyId", 'IncorrectKeyException', wrong, 'succeeded', 'incorrectKeyException'));

    // 5. A key pending deletion refuses cryptography.
    const sealedB = await must('Encrypt', keyB, () => c.send(new EncryptCommand({ KeyId: keyB, Plaintext: randomBytes(16) })));
    await must('ScheduleKeyDeletion', keyB, () => c.send(new ScheduleKeyDeletionCommand({ KeyId: ref(keyB), PendingWindowInDays: 7 })));
    scheduled.add(keyB);
    const onPending = await attempt('Decrypt', keyB, () => c.send(new DecryptCommand({ CiphertextBlob: sealedB.CiphertextBlob })));
    rows.push(refusalRow('pending-deletion', 'Decrypt under a key pending deletion', 'KMSInvalidStateException', onPending, 'succeeded (key state ignored)', 'disabledKeysRefuse'));

    // 6. The key policy binds: an explicit Deny of kms:Encrypt for everyone.
    const account = /^arn:[^:]+:kms:[^:]*:(\d{12}):/.exec(keyA)?.[1];
    const partition = /^arn:([^:]+):/.exec(keyA)?.[1] ?? 'aws';
    if (account) {
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Id: 'cryptgate-probe',
        Statement: [
          { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
          { Sid: 'Deny Encrypt to everyone', Effect: 'Deny', Principal: { AWS: '*' }, Action: 'kms:Encrypt', Resource: '*' },
        ],
      });
      const keyC = await createKey(policy);
      const denied = await attempt('Encrypt', keyC, () => c.send(new EncryptCommand({ KeyId: keyC, Plaintext: randomBytes(16) })));
      rows.push(refusalRow('key-policy-deny', 'Encrypt under a key policy that denies kms:Encrypt', 'AccessDeniedException', denied, 'succeeded (policy not evaluated)', 'keyPolicyEnforced'));
    } else {
      rows.push({ id: 'key-policy-deny', behaviour: 'Encrypt under a key policy that denies kms:Encrypt', expected: 'AccessDeniedException', observed: `not probed (no account in ${keyA})`, outcome: 'unobservable', capability: 'keyPolicyEnforced' });
    }
  } finally {
    // Best effort, also after a failure: never leave probe keys usable on a real account.
    cleanup = await scheduleDeletion(c, keys.length, keys.filter((k) => !scheduled.has(k.arn)).map((k) => ref(k.arn)), log);
  }

  // 7. Harness extras (not AWS behaviour): fault knobs and counters.
  const extras = await harnessExtras(backend);
  rows.push({
    id: 'harness-extras',
    behaviour: 'Fault knobs and request counters (harness, not AWS)',
    expected: '— (AWS has none)',
    observed: extras ? 'yes (/_cryptgate admin API)' : 'none',
    outcome: 'as-aws',
  });

  const observed = observedCapabilities(rows, extras);
  const declared = { ...backend.capabilities };
  const mismatches: CapabilityMismatch[] = [];
  for (const cap of CAPABILITY_NAMES) {
    const seen = observed[cap];
    if (seen !== undefined && seen !== declared[cap]) {
      mismatches.push({ capability: cap, declared: declared[cap], observed: seen, rows: rows.filter((r) => r.capability === cap).map((r) => r.id) });
    }
  }
  return {
    backend: { name: backend.name, kind: backend.kind, description: backend.description, endpoint: backend.endpoint, region: backend.region },
    rows,
    observed,
    declared,
    mismatches,
    cleanup,
  };
}

/** Schedules the deletion of `keys`, the probe's `created` keys less those a step already scheduled. */
async function scheduleDeletion(c: KMSClient, created: number, keys: string[], log: (line: string) => void): Promise<string> {
  if (created === 0) return 'no probe keys were created';
  const failed: string[] = [];
  for (const key of keys) {
    log(`ScheduleKeyDeletion ${key}`);
    try {
      await c.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
    } catch (err) {
      const name = (err as Error)?.name ?? 'Error';
      if (isKmsConnectionFailure(err)) {
        failed.push(...keys.slice(keys.indexOf(key)).map((k) => `${k} (endpoint unreachable)`));
        break;
      }
      // Already pending (a step's own request was applied though its answer was lost) is fine.
      if (name !== 'KMSInvalidStateException') failed.push(`${key} (${name})`);
    }
  }
  return failed.length === 0
    ? `${created} probe key${created === 1 ? '' : 's'} scheduled for deletion in 7 days`
    : `could not schedule deletion of ${failed.join(', ')}: delete ${failed.length === 1 ? 'it' : 'them'} by hand`;
}

async function harnessExtras(backend: KmsBackend): Promise<boolean> {
  if (backend.embedded) return true;
  if (backend.kind === 'aws') return false;
  try {
    const res = await httpGet(`${backend.endpoint}/_cryptgate/counters`, 3000);
    return res.status === 200;
  } catch {
    return false;
  }
}

function observedCapabilities(rows: ProbeRow[], extras: boolean): Partial<KmsCapabilities> {
  const out: Partial<KmsCapabilities> = { faultInjection: extras, requestCounters: extras };
  for (const cap of CAPABILITY_NAMES) {
    const evidence = rows.filter((r) => r.capability === cap && r.outcome !== 'unobservable');
    if (evidence.length > 0) out[cap] = evidence.every((r) => r.outcome === 'as-aws');
  }
  return out;
}

// ---- rendering --------------------------------------------------------------------------

const REPRO: Record<ProbeOutcome, string> = { 'as-aws': 'yes', differs: 'NO', unobservable: 'unknown' };

/** The probe as a plain-text table: behaviour | expected (real AWS) | this backend | reproducible? */
export function renderProbeTable(result: ProbeResult): string {
  const head = ['behaviour', 'expected (real AWS)', 'this backend', 'reproducible?'];
  const body = result.rows.map((r) => [r.behaviour, r.expected, r.observed, r.id === 'harness-extras' ? (r.observed === 'none' ? 'no' : 'yes') : REPRO[r.outcome]]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out: string[] = [];
  out.push(`KMS probe: ${result.backend.description}`);
  out.push(`  endpoint ${result.backend.endpoint}, region ${result.backend.region}`);
  out.push('');
  out.push(line(head));
  out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of body) out.push(line(row));
  out.push('');
  const caps = CAPABILITY_NAMES.map((cap) => {
    const seen = result.observed[cap];
    return `${cap}=${result.declared[cap]}${seen === undefined ? ' (not observable)' : seen === result.declared[cap] ? '' : ` (observed ${seen}!)`}`;
  });
  out.push(`Declared capabilities: ${caps.join(', ')}`);
  if (result.mismatches.length === 0) out.push('The declared capabilities match what this backend did.');
  else {
    for (const m of result.mismatches) {
      out.push(`MISMATCH: ${m.capability} is declared ${m.declared} but the backend behaved as ${m.observed} (rows: ${m.rows.join(', ')})`);
    }
  }
  out.push(`Cleanup: ${result.cleanup}.`);
  return `${out.join('\n')}\n`;
}
