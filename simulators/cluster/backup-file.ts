// The backup file `tsm maintenance backup -f <file>` writes (our `.tsbak`): a manifest and the
// extract files exactly as they lie on disk (encrypted), streamed, then a SHA-256 trailer.
//
//   file  := magic "CGTSBAK\x01" (8) | entry* | end
//   entry := u8 type | u16be nameLength | name (UTF-8) | u64be size | data (size bytes)
//            type 1: manifest.json (first entry)   type 2: an extract file, name "<site>/<name>.hyper"
//   end   := u8 0xFF | u16be 0 | u64be 32 | SHA-256 of every byte before this end entry
//
// The manifest carries the KMS storage as it is (KMS-10): the RMK as the CMK's ciphertext
// (or sealed under the local keystore root, which is NOT in the backup), the MEKs sealed
// under the RMK, the CMK ARN and region, and the cluster's configuration. Nothing in a
// backup opens without the CMK (or the original cluster's keystore).
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync } from 'node:fs';
import { InputError } from '../../src/util/errors.js';
import { renameDurable, removeQuietly, tempPathFor, writeAll } from './fs-safe.js';
import type { ClusterConfig, KmsStorage, NodeConfig } from './model.js';

export const BACKUP_MAGIC = Buffer.from('CGTSBAK\x01', 'latin1');
export const BACKUP_FORMAT = 'cryptgate/backup@1';
const T_MANIFEST = 1;
const T_EXTRACT = 2;
const T_END = 0xff;
const COPY = 1024 * 1024;

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  backupId: string;
  createdAt: string;
  clusterId: string;
  cluster: { licence: ClusterConfig['licence']; region: string; initialNode: string; nodes: Pick<NodeConfig, 'name' | 'platform' | 'role'>[]; sites: string[] };
  kms: KmsStorage;
  extracts: { site: string; name: string; size: number }[];
}

export interface BackupSourceExtract {
  site: string;
  name: string;
  path: string;
}

/** Writes a backup crash-safely (temp file, fsync, rename). Returns its manifest. */
export function writeBackup(target: string, base: Omit<BackupManifest, 'format' | 'backupId' | 'extracts'>, files: BackupSourceExtract[]): BackupManifest {
  const tmp = tempPathFor(target);
  const fd = openSync(tmp, 'wx', 0o600);
  const hash = createHash('sha256');
  const put = (b: Buffer, h = true): void => {
    writeAll(fd, b);
    if (h) hash.update(b);
  };
  const entryHead = (type: number, name: string, size: number): Buffer => {
    const nb = Buffer.from(name, 'utf8');
    const b = Buffer.alloc(1 + 2 + nb.length + 8);
    b[0] = type;
    b.writeUInt16BE(nb.length, 1);
    nb.copy(b, 3);
    b.writeBigUInt64BE(BigInt(size), 3 + nb.length);
    return b;
  };
  try {
    const sizes: BackupManifest['extracts'] = [];
    const fds: { f: BackupSourceExtract; fd: number; size: number }[] = [];
    try {
      for (const f of files) {
        const sfd = openSync(f.path, 'r');
        fds.push({ f, fd: sfd, size: fstatSync(sfd).size });
        sizes.push({ site: f.site, name: f.name, size: fds[fds.length - 1]!.size });
      }
      const manifest: BackupManifest = { format: BACKUP_FORMAT, backupId: randomUUID(), ...base, extracts: sizes };
      const mb = Buffer.from(JSON.stringify(manifest), 'utf8');
      put(BACKUP_MAGIC);
      put(entryHead(T_MANIFEST, 'manifest.json', mb.length));
      put(mb);
      const buf = Buffer.allocUnsafe(COPY);
      for (const { f, fd: sfd, size } of fds) {
        put(entryHead(T_EXTRACT, `${f.site}/${f.name}.hyper`, size));
        let done = 0;
        while (done < size) {
          const n = readSync(sfd, buf, 0, Math.min(COPY, size - done), done);
          if (n === 0) throw new InputError(`${f.path}: the extract shrank while it was being backed up`);
          put(buf.subarray(0, n));
          done += n;
        }
      }
      const end = entryHead(T_END, '', 32);
      put(end, false);
      put(hash.digest(), false);
      fsyncSync(fd);
      closeSync(fd);
      renameDurable(tmp, target);
      return manifest;
    } finally {
      for (const { fd: sfd } of fds) closeSync(sfd);
    }
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // closed already
    }
    removeQuietly(tmp);
    throw err;
  }
}

/** Reads a backup: the manifest at once, then extract entries streamed to `onExtract`, then the checksum. */
export class BackupReader {
  private pos = 0;
  private readonly hash: Hash = createHash('sha256');
  private readonly size: number;
  readonly manifest: BackupManifest;

  private constructor(
    private readonly fd: number,
    readonly file: string,
  ) {
    this.size = fstatSync(fd).size;
    const magic = this.take(8);
    if (!magic.equals(BACKUP_MAGIC)) throw this.bad(0, 'magic', '"CGTSBAK\\x01" (a cryptgate backup file)');
    const e = this.entryHead();
    if (e.type !== T_MANIFEST || e.name !== 'manifest.json') throw this.bad(8, 'first entry', 'manifest.json');
    if (e.size > 64 * 1024 * 1024) throw this.bad(8, 'manifest size', 'at most 64 MiB');
    let m: BackupManifest;
    try {
      m = JSON.parse(this.take(e.size).toString('utf8')) as BackupManifest;
    } catch (err) {
      throw this.bad(this.pos, 'manifest', `JSON (${(err as Error).message})`);
    }
    if (m?.format !== BACKUP_FORMAT || !m.kms || !Array.isArray(m.extracts) || !m.cluster) {
      throw this.bad(this.pos, 'manifest', `a ${BACKUP_FORMAT} manifest with cluster, kms and extracts`);
    }
    this.manifest = m;
  }

  static open(file: string): BackupReader {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new InputError(`${file}: cannot open the backup file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      return new BackupReader(fd, file);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private bad(offset: number, field: string, expected: string): InputError {
    return new InputError(`${this.file}: offset ${offset}: ${field}: expected ${expected}`);
  }

  private take(n: number, hashed = true): Buffer {
    if (this.pos + n > this.size) throw this.bad(this.pos, 'data', `${n} more bytes, the file ends first (truncated backup)`);
    const b = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, b, got, n - got, this.pos + got);
      if (r === 0) throw this.bad(this.pos + got, 'data', `${n - got} more bytes, the file ends first (it shrank while being read)`);
      got += r;
    }
    this.pos += n;
    if (hashed) this.hash.update(b);
    return b;
  }

  private entryHead(hashed = true): { type: number; name: string; size: number } {
    const t = this.take(3, hashed);
    const nameLen = t.readUInt16BE(1);
    const name = this.take(nameLen, hashed).toString('utf8');
    const size = Number(this.take(8, hashed).readBigUInt64BE(0));
    return { type: t[0]!, name, size };
  }

  /**
   * Streams every extract entry: `open(site, name, size)` returns a writer for its bytes and
   * a `done()`; the checksum is verified at the end (throwing before the caller commits).
   */
  readExtracts(open: (site: string, name: string, size: number) => { write(chunk: Buffer): void; done(): void }): void {
    const expected = new Map(this.manifest.extracts.map((x) => [`${x.site}/${x.name}.hyper`, x]));
    for (;;) {
      const at = this.pos;
      const peekType = Buffer.alloc(1);
      if (readSync(this.fd, peekType, 0, 1, this.pos) !== 1) throw this.bad(this.pos, 'entry', 'another entry or the end entry (truncated backup)');
      if (peekType[0] === T_END) {
        const digest = this.hash.digest();
        const e = this.entryHead(false);
        if (e.size !== 32) throw this.bad(at, 'end entry', 'a 32-byte SHA-256');
        const sum = this.take(32, false);
        if (!sum.equals(digest)) throw this.bad(at, 'checksum', 'the SHA-256 of the backup (the file was altered or damaged)');
        if (this.pos !== this.size) throw this.bad(this.pos, 'end', 'the end of the file after the checksum');
        if (expected.size > 0) throw this.bad(at, 'extracts', `entries for ${[...expected.keys()].join(', ')}`);
        return;
      }
      const e = this.entryHead();
      if (e.type !== T_EXTRACT) throw this.bad(at, 'entry type', `2 (extract) or 255 (end), found ${e.type}`);
      const want = expected.get(e.name);
      if (!want || want.size !== e.size) throw this.bad(at, `entry ${e.name}`, 'an extract listed in the manifest with the same size');
      expected.delete(e.name);
      const w = open(want.site, want.name, e.size);
      let left = e.size;
      while (left > 0) {
        const n = Math.min(COPY, left);
        w.write(this.take(n));
        left -= n;
      }
      w.done();
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
