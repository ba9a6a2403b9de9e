// The simulated cluster's key-store files and extract headers as evidence (KMS-5, KMS-6,
// KMS-9, KMS-10): which MEK each extract is under, the MEK states, how the RMK is wrapped,
// the secret file's permissions — all read without any key. This reader is written against
// the documented formats (simulators/cluster/README.md), not the simulator's code, so a rule
// judging from it sees what a reviewer holding the folder would see.
//
//   keystore/kms.json            {"format":"cryptgate/kms-storage@1", mode, aws, rmk, meks, …}
//   keystore/local-keystore.json {"format":"cryptgate/local-keystore@1", rootId, salt, sealedRoot}
//   keystore/cluster.secret      32 bytes, 0600
//   extracts/<site>/<name>.hyper "CGHYPER\x01" | u32be n | header JSON (n bytes) | chunks
//   backup file                  "CGTSBAK\x01" | u8 1 | u16be 13 | "manifest.json" | u64be n | manifest JSON | …
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError, fsReason, InputError } from '../util/errors.js';

export interface MekRecordEvidence {
  id: string;
  state: 'encryption/decryption' | 'decryption-only';
  createdAt: string;
  firstEncryptDecryptAt: string | null;
  decryptOnlyAt: string | null;
  /** The RMK id this MEK says it is wrapped under. */
  rmkId: string;
  importedFrom: string | null;
}

export interface KmsStorageEvidence {
  file: string;
  mode: 'aws' | 'local';
  cmkArn: string | null;
  region: string | null;
  rmk: {
    id: string;
    wrappedBy: 'aws-kms' | 'local-keystore';
    createdAt: string | null;
    /** aws-kms: bytes of the CMK ciphertext; local: bytes of the sealed RMK. */
    wrappedBytes: number;
    cmkArn: string | null;
    encryptionContext: Record<string, string> | null;
    localRootId: string | null;
  };
  meks: MekRecordEvidence[];
  generation: number | null;
}

export interface ExtractHeaderEvidence {
  file: string;
  fileBytes: number;
  extractId: string;
  site: string;
  name: string;
  mekId: string;
  cipher: string;
  chunkSize: number;
  plainSize: number;
  createdAt: string;
  encryptedAt: string;
}

export interface KeyStoreEvidence {
  dir: string;
  storage: KmsStorageEvidence;
  /** Octal permission bits of keystore/cluster.secret, or null when absent (or on Windows). */
  secretFileMode: string | null;
  localKeystore: { rootId: string } | null;
  extracts: ExtractHeaderEvidence[];
  /** Extracts per MEK id. */
  extractsByMek: Record<string, number>;
  /** Extracts whose MEK is not the storage's encryption MEK (need reencryptextracts). */
  notUnderEncryptionMek: ExtractHeaderEvidence[];
  /** Extracts whose MEK the storage does not hold at all (unreadable). */
  underUnknownMek: ExtractHeaderEvidence[];
}

const fmt = (file: string, offset: number, field: string, expected: string, found?: string): FormatError => new FormatError(file, offset, field, expected, found);

const isStr = (x: unknown): x is string => typeof x === 'string';
const strOrNull = (x: unknown): string | null => (typeof x === 'string' ? x : null);
const b64Len = (x: unknown): number => (typeof x === 'string' ? Buffer.from(x, 'base64').length : 0);

/** Parses keystore/kms.json text. Pure. */
export function parseKmsStorage(text: string, file = 'kms.json'): KmsStorageEvidence {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as Record<string, unknown>;
  } catch (err) {
    throw fmt(file, 0, 'document', 'JSON', (err as Error).message);
  }
  if (!d || typeof d !== 'object') throw fmt(file, 0, 'document', 'a JSON object');
  if (d.format !== 'cryptgate/kms-storage@1') throw fmt(file, 0, 'format', '"cryptgate/kms-storage@1"', JSON.stringify(d.format));
  if (d.mode !== 'aws' && d.mode !== 'local') throw fmt(file, 0, 'mode', 'aws or local', JSON.stringify(d.mode));
  const aws = d.aws as { cmkArn?: unknown; region?: unknown } | null;
  const r = d.rmk as Record<string, unknown> | undefined;
  if (!r || !isStr(r.id)) throw fmt(file, 0, 'rmk.id', 'a string');
  if (r.wrappedBy !== 'aws-kms' && r.wrappedBy !== 'local-keystore') throw fmt(file, 0, 'rmk.wrappedBy', 'aws-kms or local-keystore', JSON.stringify(r.wrappedBy));
  const sealed = r.sealed as { ct?: unknown } | undefined;
  const rmk: KmsStorageEvidence['rmk'] = {
    id: r.id,
    wrappedBy: r.wrappedBy,
    createdAt: strOrNull(r.createdAt),
    wrappedBytes: r.wrappedBy === 'aws-kms' ? b64Len(r.blob) : b64Len(sealed?.ct),
    cmkArn: strOrNull(r.cmkArn),
    encryptionContext: r.encryptionContext && typeof r.encryptionContext === 'object' ? (r.encryptionContext as Record<string, string>) : null,
    localRootId: strOrNull(r.rootId),
  };
  if (r.wrappedBy === 'aws-kms' && rmk.wrappedBytes === 0) throw fmt(file, 0, 'rmk.blob', 'the CMK ciphertext of the RMK (base64)');
  if (!Array.isArray(d.meks)) throw fmt(file, 0, 'meks', 'an array');
  const meks = (d.meks as Record<string, unknown>[]).map((m, i): MekRecordEvidence => {
    if (!m || !isStr(m.id)) throw fmt(file, 0, `meks[${i}].id`, 'a string');
    if (m.state !== 'encryption/decryption' && m.state !== 'decryption-only') throw fmt(file, 0, `meks[${i}].state`, 'encryption/decryption or decryption-only', JSON.stringify(m.state));
    if (!isStr(m.createdAt)) throw fmt(file, 0, `meks[${i}].createdAt`, 'a timestamp');
    if (!isStr(m.rmkId)) throw fmt(file, 0, `meks[${i}].rmkId`, 'a string');
    return {
      id: m.id,
      state: m.state,
      createdAt: m.createdAt,
      firstEncryptDecryptAt: strOrNull(m.firstEncryptDecryptAt),
      decryptOnlyAt: strOrNull(m.decryptOnlyAt),
      rmkId: m.rmkId,
      importedFrom: strOrNull(m.importedFrom),
    };
  });
  return {
    file,
    mode: d.mode,
    cmkArn: strOrNull(aws?.cmkArn),
    region: strOrNull(aws?.region),
    rmk,
    meks,
    generation: typeof d.generation === 'number' ? d.generation : null,
  };
}

const EXTRACT_MAGIC = Buffer.from('CGHYPER\x01', 'latin1');

/**
 * Parses an extract header from the file's first bytes (`head` must hold at least the 12-byte
 * prefix; returns `need` when it holds too little of the header). Pure.
 */
export function parseExtractHeader(head: Buffer, file: string, fileBytes: number): ExtractHeaderEvidence | { need: number } {
  if (head.length < 12 || !head.subarray(0, 8).equals(EXTRACT_MAGIC)) throw fmt(file, 0, 'magic', '"CGHYPER\\x01" (a cryptgate encrypted extract)');
  const n = head.readUInt32BE(8);
  if (n === 0 || n > 65536) throw fmt(file, 8, 'header length', '1 to 65536', String(n));
  if (head.length < 12 + n) return { need: 12 + n };
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(head.subarray(12, 12 + n).toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw fmt(file, 12, 'header', 'JSON', (err as Error).message);
  }
  if (h?.format !== 'cryptgate/extract@1') throw fmt(file, 12, 'header.format', '"cryptgate/extract@1"');
  for (const f of ['extractId', 'site', 'name', 'mekId', 'cipher', 'createdAt', 'encryptedAt']) {
    if (!isStr(h[f])) throw fmt(file, 12, `header.${f}`, 'a string');
  }
  if (!Number.isSafeInteger(h.chunkSize) || !Number.isSafeInteger(h.plainSize)) throw fmt(file, 12, 'header.chunkSize/plainSize', 'whole numbers');
  const w = h.wrappedDataKey as Record<string, unknown> | undefined;
  if (!w || !isStr(w.iv) || !isStr(w.tag) || !isStr(w.ct)) throw fmt(file, 12, 'header.wrappedDataKey', '{iv, tag, ct}: the data key wrapped by the MEK');
  return {
    file,
    fileBytes,
    extractId: h.extractId as string,
    site: h.site as string,
    name: h.name as string,
    mekId: h.mekId as string,
    cipher: h.cipher as string,
    chunkSize: h.chunkSize as number,
    plainSize: h.plainSize as number,
    createdAt: h.createdAt as string,
    encryptedAt: h.encryptedAt as string,
  };
}

/** Reads only an extract's header (a few hundred bytes), however large the extract. */
export async function readExtractHeaderEvidence(path: string): Promise<ExtractHeaderEvidence> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let want = 4096;
    for (;;) {
      const buf = Buffer.alloc(Math.min(want, size));
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      const r = parseExtractHeader(buf.subarray(0, bytesRead), path, size);
      if (!('need' in r)) return r;
      if (r.need > size) throw fmt(path, 12, 'header', `${r.need - 12} bytes`, `the file ends at ${size}`);
      want = r.need;
    }
  } finally {
    await fh.close();
  }
}

/** Reads a cluster folder's key store and every extract header. */
export async function readKeyStore(dir: string): Promise<KeyStoreEvidence> {
  const storageFile = join(dir, 'keystore', 'kms.json');
  let text: string;
  try {
    text = await readFile(storageFile, 'utf8');
  } catch (err) {
    throw new InputError(`${storageFile}: cannot read the KMS storage: ${fsReason(err)}`);
  }
  const storage = parseKmsStorage(text, storageFile);
  let secretFileMode: string | null = null;
  try {
    const s = await stat(join(dir, 'keystore', 'cluster.secret'));
    if (process.platform !== 'win32') secretFileMode = (s.mode & 0o777).toString(8).padStart(4, '0');
  } catch {
    // absent: reported as null
  }
  let localKeystore: KeyStoreEvidence['localKeystore'] = null;
  try {
    const ks = JSON.parse(await readFile(join(dir, 'keystore', 'local-keystore.json'), 'utf8')) as { rootId?: unknown };
    if (typeof ks.rootId === 'string') localKeystore = { rootId: ks.rootId };
  } catch {
    // absent or unreadable: null
  }
  const extracts: ExtractHeaderEvidence[] = [];
  const root = join(dir, 'extracts');
  let sites: string[] = [];
  try {
    sites = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    // no extracts folder: none
  }
  for (const site of sites) {
    for (const f of (await readdir(join(root, site))).sort()) {
      if (f.startsWith('.') || !f.endsWith('.hyper')) continue;
      extracts.push(await readExtractHeaderEvidence(join(root, site, f)));
    }
  }
  return { dir, storage, secretFileMode, localKeystore, ...summarize(storage, extracts) };
}

export function summarize(storage: KmsStorageEvidence, extracts: ExtractHeaderEvidence[]): Pick<KeyStoreEvidence, 'extracts' | 'extractsByMek' | 'notUnderEncryptionMek' | 'underUnknownMek'> {
  const byMek: Record<string, number> = {};
  for (const x of extracts) byMek[x.mekId] = (byMek[x.mekId] ?? 0) + 1;
  const enc = storage.meks.filter((m) => m.state === 'encryption/decryption').map((m) => m.id);
  const known = new Set(storage.meks.map((m) => m.id));
  return {
    extracts,
    extractsByMek: byMek,
    notUnderEncryptionMek: extracts.filter((x) => !enc.includes(x.mekId)),
    underUnknownMek: extracts.filter((x) => !known.has(x.mekId)),
  };
}

export interface BackupEvidence {
  file: string;
  backupId: string;
  createdAt: string | null;
  clusterId: string | null;
  storage: KmsStorageEvidence;
  extracts: { site: string; name: string; size: number }[];
}

const BACKUP_MAGIC = Buffer.from('CGTSBAK\x01', 'latin1');

/** Reads a backup file's manifest (its first entry) as evidence, without reading the extracts. */
export async function readBackupManifest(path: string): Promise<BackupEvidence> {
  const fh = await open(path, 'r');
  try {
    const pre = Buffer.alloc(8 + 3 + 13 + 8);
    const { bytesRead } = await fh.read(pre, 0, pre.length, 0);
    if (bytesRead < 8 || !pre.subarray(0, 8).equals(BACKUP_MAGIC)) throw fmt(path, 0, 'magic', '"CGTSBAK\\x01" (a cryptgate backup file)');
    if (bytesRead < pre.length || pre[8] !== 1 || pre.readUInt16BE(9) !== 13 || pre.subarray(11, 24).toString('utf8') !== 'manifest.json') {
      throw fmt(path, 8, 'first entry', 'manifest.json');
    }
    const n = Number(pre.readBigUInt64BE(24));
    if (n > 64 * 1024 * 1024) throw fmt(path, 24, 'manifest size', 'at most 64 MiB', String(n));
    const mb = Buffer.alloc(n);
    const r = await fh.read(mb, 0, n, pre.length);
    if (r.bytesRead < n) throw fmt(path, pre.length, 'manifest', `${n} bytes`, `${r.bytesRead}`);
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(mb.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw fmt(path, pre.length, 'manifest', 'JSON', (err as Error).message);
    }
    if (m.format !== 'cryptgate/backup@1' || !m.kms || !Array.isArray(m.extracts)) throw fmt(path, pre.length, 'manifest', 'a cryptgate/backup@1 manifest with kms and extracts');
    return {
      file: path,
      backupId: String(m.backupId),
      createdAt: strOrNull(m.createdAt),
      clusterId: strOrNull(m.clusterId),
      storage: parseKmsStorage(JSON.stringify(m.kms), `${path} (manifest.kms)`),
      extracts: m.extracts as BackupEvidence['extracts'],
    };
  } finally {
    await fh.close();
  }
}
