// The embedded KMS as a library: start one on a loopback port, point a KMSClient at
// `endpoint`, drive faults and read counters from the test or simulation that owns it.
//
//   const kms = await startEmbeddedKms();               // free port, in memory
//   const client = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1',
//     credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
//   …
//   await kms.stop();
import { InputError } from '../../src/util/errors.js';
import { CallerTable, type CredentialOptions } from './callers.js';
import { Counters, type CounterSnapshot } from './counters.js';
import { Faults, type FaultSettings } from './faults.js';
import { KeyStore } from './key-store.js';
import { StateFolder } from './persistence.js';
import type { PolicyDocument } from './policy.js';
import { KmsHttpServer } from './server.js';
import { AWS_REGION } from '../../src/evidence/aws-arn.js';

export interface EmbeddedKmsOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** A folder to keep keys in across restarts; without it the keys live in memory only. */
  stateDir?: string;
  /** Derive the state master key from this passphrase instead of a master.key file (see at-rest.ts). */
  statePassphrase?: string;
  /** The region clients are told to use. Requests for any region are served; each sees its own keys. */
  region?: string;
  /** The account of administrator callers whose access key is not a 12-digit account id. Default 000000000000. */
  accountId?: string;
  credentials?: CredentialOptions;
  faults?: FaultSettings;
  /** The key clock (epoch ms) for rotation and deletion dates; lets a simulation move time forward. */
  now?: () => number;
  /** One line per request (operation, principal, status); never request or response bodies. */
  log?: (line: string) => void;
}

export interface RoleCredentialOptions {
  accountId?: string;
  sessionName?: string;
  sessionToken?: string;
}

export interface EmbeddedKms {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  readonly stateDir: string | undefined;
  /** Stops listening, drops connections (hung ones too), releases the state folder, scrubs key material from memory. */
  stop(): Promise<void>;
  /** Changes fault knobs; fields left out stay as they are, `null` clears one. */
  setFaults(faults: FaultSettings): void;
  clearFaults(): void;
  faults(): FaultSettings;
  counters(): CounterSnapshot;
  resetCounters(): void;
  /** Lets `accessKeyId`/`secret` sign as the IAM role `roleName` (e.g. a simulated node's instance role). */
  addRoleCredentials(accessKeyId: string, secret: string, roleName: string, iamPolicy?: PolicyDocument | string, options?: RoleCredentialOptions): void;
  /** Lets `accessKeyId`/`secret` sign as the account administrator. */
  addAdminCredentials(accessKeyId: string, secret: string, accountId?: string): void;
}

export async function startEmbeddedKms(options: EmbeddedKmsOptions = {}): Promise<EmbeddedKms> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`port ${port}: expected an integer from 0 to 65535`);
  const region = options.region ?? 'us-east-1';
  if (!AWS_REGION.test(region)) throw new InputError(`region ${region}: expected a region name such as us-east-1`);
  const accountId = options.accountId ?? '000000000000';
  const callers = new CallerTable(accountId, options.credentials);
  const faults = new Faults();
  if (options.faults) faults.set(options.faults);
  const counters = new Counters();

  let store: KeyStore;
  let folder: StateFolder | undefined;
  if (options.stateDir !== undefined) {
    ({ folder, store } = StateFolder.open(options.stateDir, options.statePassphrase));
  } else {
    store = new KeyStore();
  }
  const server = new KmsHttpServer({
    store,
    callers,
    faults,
    counters,
    now: options.now ?? Date.now,
    persist: () => folder?.save(store),
    log: options.log,
  });
  let bound: number;
  try {
    bound = await server.listen(port);
  } catch (err) {
    folder?.close();
    store.scrub();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${bound}`,
    port: bound,
    region,
    accountId,
    stateDir: folder?.dir,
    stop() {
      stopping ??= server.close().then(() => {
        folder?.close();
        store.scrub();
      });
      return stopping;
    },
    setFaults: (f) => faults.set(f),
    clearFaults: () => faults.clear(),
    faults: () => faults.snapshot(),
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    addRoleCredentials(accessKeyId, secret, roleName, iamPolicy, opts = {}) {
      callers.add(accessKeyId, {
        secretAccessKey: secret,
        roleName,
        ...(iamPolicy !== undefined ? { iamPolicy } : {}),
        ...(opts.accountId !== undefined ? { accountId: opts.accountId } : {}),
        ...(opts.sessionName !== undefined ? { sessionName: opts.sessionName } : {}),
        ...(opts.sessionToken !== undefined ? { sessionToken: opts.sessionToken } : {}),
      });
    },
    addAdminCredentials(accessKeyId, secret, acct) {
      callers.add(accessKeyId, { secretAccessKey: secret, ...(acct !== undefined ? { accountId: acct } : {}) });
    },
  };
}

export type { CredentialOptions, AccessKeyEntry } from './callers.js';
export type { CounterSnapshot, PrincipalCounts } from './counters.js';
export type { FaultSettings, ThrottleFault, OutageFault, HangFault } from './faults.js';
export type { PolicyDocument, Statement } from './policy.js';
