// The state folder: where a persistent embedded KMS keeps its keys between runs.
//   kms-state.json  keys, aliases, policies, rotation history; key material only wrapped
//   master.key      the state master key (0600), unless a passphrase is used (see at-rest.ts)
//   kms.lock        the pid of the server using the folder
// Every change is saved at once with an atomic replace, so a crash loses at most the
// request in flight, and a restart sees exactly what clients were told.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { existingMasterKey, newMasterKey, type Protection } from './at-rest.js';
import { KeyStore } from './key-store.js';
import { decodeState, encodeState, readProtection } from './state-codec.js';
import { lockFolder, writeFileAtomic } from './state-file.js';

export const STATE_FILE = 'kms-state.json';

export class StateFolder {
  private constructor(
    readonly dir: string,
    private readonly master: Buffer,
    private readonly protection: Protection,
    private readonly unlock: () => void,
  ) {}

  /** Opens (creating if needed) a state folder and loads its keys. */
  static open(dirArg: string, passphrase: string | undefined): { folder: StateFolder; store: KeyStore } {
    const dir = resolve(dirArg);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: expected a folder for the KMS state`);
    } else {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    const unlock = lockFolder(dir);
    try {
      const file = join(dir, STATE_FILE);
      if (!existsSync(file)) {
        const { key, protection } = newMasterKey(dir, passphrase);
        const folder = new StateFolder(dir, key, protection, unlock);
        const store = new KeyStore();
        folder.save(store);
        return { folder, store };
      }
      let doc: unknown;
      try {
        doc = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new InputError(`${file}: expected JSON: ${(err as Error).message}`);
      }
      const protection = readProtection(file, doc);
      const master = existingMasterKey(dir, file, protection, passphrase);
      const store = decodeState(file, doc, master);
      return { folder: new StateFolder(dir, master, protection, unlock), store };
    } catch (err) {
      unlock();
      throw err;
    }
  }

  save(store: KeyStore): void {
    writeFileAtomic(join(this.dir, STATE_FILE), encodeState(store, this.master, this.protection));
  }

  /** Releases the lock and scrubs the master key from memory. */
  close(): void {
    this.master.fill(0);
    this.unlock();
  }
}
