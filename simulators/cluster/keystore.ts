// The local keystore: the root of the key hierarchy in local KMS mode, standing in for
// Tableau's Java keystore ("In this scenario, the Java keystore serves as the root of the
// key hierarchy").
//
//   keystore/cluster.secret        32 random bytes, mode 0600 (the keystore's password file)
//   keystore/local-keystore.json   the local root key, AES-256-GCM under
//                                  HKDF-SHA-256(cluster.secret, salt, "cryptgate/local-keystore@1"),
//                                  root id and cluster id bound as AAD
//
// The trade-off, as with the Java keystore and its password file: whoever can read
// cluster.secret (the account the server runs as, root, a backup of the folder) can unwrap
// the local root, then the RMK, then every MEK. File permissions are the only barrier; the
// secret lives beside the data it protects. That is exactly the weakness AWS mode removes
// (KMS-5: "not storing the master key with the same permissions as the extracts"): there the
// RMK on disk is only a CMK ciphertext that needs an IAM-authorised call to KMS to open.
import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { deriveKey, localRootAad, newKey, open, scrub, seal, UnwrapError } from './crypto.js';
import { ensureDir, writeFileAtomic } from './fs-safe.js';
import { LAYOUT, LOCAL_KEYSTORE_FORMAT, type LocalKeystore } from './model.js';
import { reportKey } from './test-hooks.js';

const INFO = 'cryptgate/local-keystore@1';

/** Creates cluster.secret and local-keystore.json if absent (init is idempotent up to here). */
export function createLocalKeystore(dir: string, clusterId: string, now: string): LocalKeystore {
  ensureDir(join(dir, LAYOUT.keystoreDir));
  const secretPath = join(dir, LAYOUT.secret);
  if (!existsSync(secretPath)) writeFileAtomic(secretPath, randomBytes(32), 0o600);
  const secret = readSecret(dir);
  const salt = randomBytes(16);
  const wrapping = deriveKey(secret, salt, INFO);
  const root = newKey();
  const rootId = randomUUID();
  reportKey('local-root', rootId, root);
  const ks: LocalKeystore = {
    format: LOCAL_KEYSTORE_FORMAT,
    rootId,
    createdAt: now,
    salt: salt.toString('base64'),
    sealedRoot: seal(wrapping, root, localRootAad(rootId, clusterId)),
  };
  scrub(secret, wrapping, root);
  writeFileAtomic(join(dir, LAYOUT.localKeystore), `${JSON.stringify(ks, null, 2)}\n`, 0o600);
  return ks;
}

function readSecret(dir: string): Buffer {
  const path = join(dir, LAYOUT.secret);
  if (!existsSync(path)) throw new InputError(`${path}: missing: the local keystore's secret is gone, so local-mode keys cannot be opened`);
  const mode = statSync(path).mode & 0o777;
  // Tighten, as a keystore tool would, rather than refuse: a copied folder may have lost the bits.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) chmodSync(path, 0o600);
  const secret = readFileSync(path);
  if (secret.length !== 32) throw new InputError(`${path}: expected 32 bytes, found ${secret.length}`);
  return secret;
}

export function readLocalKeystore(dir: string): LocalKeystore {
  const path = join(dir, LAYOUT.localKeystore);
  if (!existsSync(path)) throw new InputError(`${path}: missing: the cluster has no local keystore`);
  let doc: LocalKeystore;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as LocalKeystore;
  } catch (err) {
    throw new InputError(`${path}: expected JSON: ${(err as Error).message}`);
  }
  if (doc?.format !== LOCAL_KEYSTORE_FORMAT || typeof doc.rootId !== 'string' || typeof doc.salt !== 'string' || !doc.sealedRoot) {
    throw new InputError(`${path}: expected a ${LOCAL_KEYSTORE_FORMAT} document with rootId, salt and sealedRoot`);
  }
  return doc;
}

/** Unwraps the local root. The caller scrubs it. */
export function openLocalRoot(dir: string, clusterId: string): { rootId: string; root: Buffer } {
  const ks = readLocalKeystore(dir);
  const secret = readSecret(dir);
  const wrapping = deriveKey(secret, Buffer.from(ks.salt, 'base64'), INFO);
  try {
    const root = open(wrapping, ks.sealedRoot, localRootAad(ks.rootId, clusterId), `${join(dir, LAYOUT.localKeystore)}: local root ${ks.rootId}`);
    reportKey('local-root', ks.rootId, root);
    return { rootId: ks.rootId, root };
  } catch (err) {
    if (err instanceof UnwrapError) throw new InputError(`${err.message}; is ${LAYOUT.secret} the one this keystore was made with?`);
    throw err;
  } finally {
    scrub(secret, wrapping);
  }
}
