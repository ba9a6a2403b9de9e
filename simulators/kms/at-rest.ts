// How key material is protected in the state folder.
//
// Every secret (symmetric key material, asymmetric private keys) is written only wrapped:
// AES-256-GCM under a state master key, with the key ARN and material id as AAD so a wrapped
// blob cannot be moved to another key in the JSON. The master key comes from one of two places:
//
//  1. `master.key` (default): 32 random bytes the server creates with O_EXCL and mode 0600,
//     the one file in the folder that holds a key in the clear. This protects against the
//     state JSON leaking on its own (attached to a bug report, swept into an evidence bundle
//     or a CI artefact, grepped for key bytes), and keeps generated data keys out of every
//     file. It does NOT protect against anyone who can read the whole folder as this user
//     (or root), nor against a backup of the whole folder: file permissions are the only
//     barrier. We refuse to start if the file is readable by group or others, as ssh does.
//  2. A passphrase (`statePassphrase`, or CRYPTGATE_KMS_STATE_PASSPHRASE for `kms serve`):
//     the master key is derived with scrypt (salt in the state file) and never written, so
//     the folder alone is useless. The cost: someone must supply the passphrase at every
//     start, and an environment variable is readable by same-user processes.
//
// Real KMS keeps keys in HSMs that never export them; a simulator cannot. It is a test
// double: never put production data under it.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';

export const MASTER_KEY_FILE = 'master.key';
const CHECK_AAD = 'cryptgate-kms/v1\u0000check';
const CHECK_TEXT = Buffer.from('cryptgate-kms master key check');
// scrypt cost: 2^15 × 8 × 128 B = 32 MiB of memory, ~0.1 s; enough to slow guessing.
const SCRYPT = { N: 1 << 15, r: 8, p: 1 };

/** Recorded in the state file: how its master key is obtained, and a value to check it. */
export interface Protection {
  scheme: 'key-file' | 'passphrase';
  /** base64, passphrase scheme only */
  salt?: string;
  scrypt?: { N: number; r: number; p: number };
  /** A known text wrapped under the master key: tells a wrong key from a corrupt file. */
  check: string;
}

export function wrap(master: Buffer, aad: string, plaintext: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', master, iv);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64');
}

/** Unwraps or returns undefined when the tag does not verify (wrong key, edited file). */
export function unwrap(master: Buffer, aad: string, wrapped: string): Buffer | undefined {
  const raw = Buffer.from(wrapped, 'base64');
  if (raw.length < 28) return undefined;
  const d = createDecipheriv('aes-256-gcm', master, raw.subarray(0, 12));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  } catch {
    return undefined;
  }
}

function deriveFromPassphrase(passphrase: string, salt: Buffer, params: { N: number; r: number; p: number }): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { ...params, maxmem: 128 * params.N * params.r * 2 });
}

function readKeyFile(dir: string): Buffer {
  const path = join(dir, MASTER_KEY_FILE);
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      throw new InputError(
        `${path}: mode ${(st.mode & 0o777).toString(8)}: expected 600 (the file holds the key that protects the state folder; chmod 600 it)`,
      );
    }
    const key = readFileSync(fd);
    if (key.length !== 32) throw new InputError(`${path}: ${key.length} bytes: expected 32`);
    return key;
  } finally {
    closeSync(fd);
  }
}

function createKeyFile(dir: string): Buffer {
  const key = randomBytes(32);
  // O_EXCL: never overwrite a master key that might still protect a state file.
  const fd = openSync(join(dir, MASTER_KEY_FILE), 'wx', 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return key;
}

/** A master key for a new state folder. */
export function newMasterKey(dir: string, passphrase: string | undefined): { key: Buffer; protection: Protection } {
  if (passphrase !== undefined) {
    if (passphrase.length < 8) throw new InputError('state passphrase: expected at least 8 characters');
    const salt = randomBytes(16);
    const key = deriveFromPassphrase(passphrase, salt, SCRYPT);
    return { key, protection: { scheme: 'passphrase', salt: salt.toString('base64'), scrypt: SCRYPT, check: wrap(key, CHECK_AAD, CHECK_TEXT) } };
  }
  // A key file left from an earlier run without a state file is reused rather than replaced.
  const key = existsSync(join(dir, MASTER_KEY_FILE)) ? readKeyFile(dir) : createKeyFile(dir);
  return { key, protection: { scheme: 'key-file', check: wrap(key, CHECK_AAD, CHECK_TEXT) } };
}

/** The master key of an existing state file, checked against its check value. */
export function existingMasterKey(dir: string, stateFile: string, protection: Protection, passphrase: string | undefined): Buffer {
  let key: Buffer;
  if (protection.scheme === 'passphrase') {
    if (passphrase === undefined) {
      throw new InputError(`${stateFile}: protected by a passphrase: set CRYPTGATE_KMS_STATE_PASSPHRASE (or statePassphrase)`);
    }
    if (!protection.salt || !protection.scrypt) throw new InputError(`${stateFile}: protection: expected salt and scrypt parameters`);
    key = deriveFromPassphrase(passphrase, Buffer.from(protection.salt, 'base64'), protection.scrypt);
  } else {
    if (passphrase !== undefined) {
      throw new InputError(`${stateFile}: protected by ${MASTER_KEY_FILE}, not a passphrase: unset CRYPTGATE_KMS_STATE_PASSPHRASE`);
    }
    if (!existsSync(join(dir, MASTER_KEY_FILE))) {
      throw new InputError(`${join(dir, MASTER_KEY_FILE)}: missing: expected the key that protects ${stateFile}`);
    }
    key = readKeyFile(dir);
  }
  const check = unwrap(key, CHECK_AAD, protection.check);
  if (!check || !check.equals(CHECK_TEXT)) {
    throw new InputError(
      protection.scheme === 'passphrase'
        ? `${stateFile}: wrong passphrase`
        : `${join(dir, MASTER_KEY_FILE)}: expected the key that protects ${stateFile}, found another`,
    );
  }
  return key;
}
