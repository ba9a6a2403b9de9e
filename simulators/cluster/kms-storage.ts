// keystore/kms.json, the "KMS storage" of KMS-5/6: which mode, which CMK, the RMK (only
// ever wrapped: a CMK ciphertext in AWS mode, sealed under the local root in local mode)
// and the MEKs (each sealed under the RMK, MEK id + RMK id as AAD). One file, replaced
// atomically, so a change of RMK that re-wraps every MEK is all-or-nothing.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { mekAad, newKey, open, seal, UnwrapError } from './crypto.js';
import { writeFileAtomic } from './fs-safe.js';
import { KMS_STORAGE_FORMAT, LAYOUT, type KmsStorage, type MekRecord, type SealedBox } from './model.js';
import { reportKey } from './test-hooks.js';

export function storagePath(dir: string): string {
  return join(dir, LAYOUT.kmsStorage);
}

export function writeStorage(dir: string, s: KmsStorage): void {
  checkInvariants(storagePath(dir), s);
  writeFileAtomic(storagePath(dir), `${JSON.stringify(s, null, 2)}\n`, 0o600);
}

export function readStorage(dir: string): KmsStorage {
  const file = storagePath(dir);
  if (!existsSync(file)) throw new InputError(`${file}: missing: the cluster has no KMS storage (was init interrupted? run init again on an empty folder)`);
  let doc: KmsStorage;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as KmsStorage;
  } catch (err) {
    throw new InputError(`${file}: expected JSON: ${(err as Error).message}`);
  }
  checkShape(file, doc);
  checkInvariants(file, doc);
  return doc;
}

function isBox(b: unknown): b is SealedBox {
  const x = b as SealedBox | undefined;
  return typeof x?.iv === 'string' && typeof x.tag === 'string' && typeof x.ct === 'string';
}

function checkShape(file: string, s: KmsStorage): void {
  const bad = (field: string, expected: string): never => {
    throw new InputError(`${file}: ${field}: expected ${expected}`);
  };
  if (s?.format !== KMS_STORAGE_FORMAT) bad('format', `"${KMS_STORAGE_FORMAT}"`);
  if (s.mode !== 'local' && s.mode !== 'aws') bad('mode', 'local or aws');
  if (s.mode === 'aws' && (typeof s.aws?.cmkArn !== 'string' || typeof s.aws.region !== 'string')) bad('aws', '{cmkArn, region} in AWS mode');
  const r = s.rmk;
  if (typeof r?.id !== 'string') bad('rmk.id', 'a string');
  if (r.wrappedBy === 'aws-kms') {
    if (typeof r.blob !== 'string' || typeof r.cmkArn !== 'string' || typeof r.region !== 'string') bad('rmk', 'blob, cmkArn and region for an aws-kms RMK');
  } else if (r.wrappedBy === 'local-keystore') {
    if (!isBox(r.sealed) || typeof r.rootId !== 'string') bad('rmk', 'sealed and rootId for a local-keystore RMK');
  } else bad('rmk.wrappedBy', 'aws-kms or local-keystore');
  if (!Array.isArray(s.meks)) bad('meks', 'an array');
  s.meks.forEach((m, i) => {
    if (typeof m?.id !== 'string') bad(`meks[${i}].id`, 'a string');
    if (m.state !== 'encryption/decryption' && m.state !== 'decryption-only') bad(`meks[${i}].state`, 'encryption/decryption or decryption-only');
    if (typeof m.createdAt !== 'string') bad(`meks[${i}].createdAt`, 'a timestamp');
    if (!isBox(m.sealed) || typeof m.rmkId !== 'string') bad(`meks[${i}]`, 'sealed and rmkId');
  });
}

/** Exactly one encryption MEK; every MEK wrapped under the RMK in use; ids unique. */
export function checkInvariants(file: string, s: KmsStorage): void {
  const enc = s.meks.filter((m) => m.state === 'encryption/decryption');
  if (enc.length !== 1) throw new InputError(`${file}: expected exactly one encryption/decryption MEK, found ${enc.length}`);
  const ids = new Set<string>();
  for (const m of s.meks) {
    if (ids.has(m.id)) throw new InputError(`${file}: MEK ${m.id} appears twice`);
    ids.add(m.id);
    if (m.rmkId !== s.rmk.id) throw new InputError(`${file}: MEK ${m.id} is wrapped under RMK ${m.rmkId}, expected the RMK in use ${s.rmk.id}`);
  }
}

export function encryptionMek(s: KmsStorage): MekRecord {
  return s.meks.find((m) => m.state === 'encryption/decryption')!;
}

export function wrapMek(mekId: string, mek: Buffer, rmkId: string, rmk: Buffer): SealedBox {
  return seal(rmk, mek, mekAad(mekId, rmkId));
}

/** Unwraps a MEK with the RMK it names; the caller scrubs the result. */
export function unwrapMek(m: MekRecord, rmkId: string, rmk: Buffer, where: string): Buffer {
  if (m.rmkId !== rmkId) throw new InputError(`${where}: MEK ${m.id} is wrapped under RMK ${m.rmkId}, not ${rmkId}`);
  try {
    const key = open(rmk, m.sealed, mekAad(m.id, rmkId), `${where}: MEK ${m.id}`);
    reportKey('mek', m.id, key);
    return key;
  } catch (err) {
    if (err instanceof UnwrapError) throw new InputError(err.message);
    throw err;
  }
}

/** A fresh encryption MEK, wrapped under `rmk`. Returns the record and the plaintext (to scrub). */
export function newEncryptionMek(rmkId: string, rmk: Buffer, now: string): { record: MekRecord; key: Buffer } {
  const id = randomUUID();
  const key = newKey();
  reportKey('mek', id, key);
  return {
    key,
    record: {
      id,
      state: 'encryption/decryption',
      createdAt: now,
      firstEncryptDecryptAt: now,
      decryptOnlyAt: null,
      rmkId,
      sealed: wrapMek(id, key, rmkId, rmk),
    },
  };
}
