// One KMS scenario's stage: its own evidence folder (kept for reviewers), the simulated
// clusters it runs (each a folder in it, driven through simulators/cluster's public API),
// the CMK it made on the run's KMS backend, and the administrator's terminal: every command
// leaves a transcript file, `kms status` / `tsm status -v` leave their text, and on a backend
// with request counters each command leaves the KMS requests it caused.
//
//   <evidence>/kms/<feature>/<scenario>/
//     <cluster>/            the cluster folder: cluster.json, keystore/, extracts/, logs/
//     commands/NN-….txt     "$ <command>", its output, "cryptgate: <error>", "exit code: N"
//     status/NN-….txt       tsm security kms status / tsm status -v output
//     kms-requests/NN-….json requests per operation and per caller (embedded KMS only)
//     kms/                  the CMK as DescribeKey shows it, its key policy, its rotations
//     iam/<role>.json       each node's instance role policy (what the KMS evaluates)
//     data/, opened/        extract contents as published, and as opened again
//     backups/              tsm maintenance backup files
//
// Judging is not done here: the Then steps read these files back through src/evidence/.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  ListKeyRotationsCommand,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import {
  embeddedKmsAccess,
  initCluster,
  readConfig,
  rolePolicy,
  SimCluster,
  type KmsAccess,
  type Licence,
  type Platform,
} from '../simulators/cluster/index.js';
import { observeKeyMaterial, type KeyMaterialEvent } from '../simulators/cluster/test-hooks.js';
import type { CounterSnapshot } from '../simulators/kms/index.js';
import { parseKmsStorage, readBackupManifest, readKeyStore, type KeyStoreEvidence, type KmsStorageEvidence } from '../src/evidence/key-store.js';
import { readKmsStatus, type KmsStatusEvidence } from '../src/evidence/kms-status.js';
import { readTableauLogFolder, type LogReadResult } from '../src/evidence/tableau-logs.js';
import type { KmsBackend } from '../src/kms/backend.js';
import { envCredentials, kmsClient, TEST_CREDENTIALS } from '../src/kms/client.js';
import { freeLoopbackPort } from '../src/kms/moto.js';
import type { KmsRunFacts } from '../src/run/reproducibility.js';
import { EnvironmentError, InputError } from '../src/util/errors.js';
import { sha256FileSync } from '../src/util/file-hash.js';
import { formatTranscript, parseTranscript, tokenize, type Transcript } from './kms-evidence.js';
import { parseTsmStatus, type TsmStatus } from './tsm-status.js';

export interface ClusterHandle {
  name: string;
  dir: string;
  sim: SimCluster;
  nodes: string[];
  /** Where the running command's output goes. */
  sink: string[] | undefined;
}

/** What the key store and the extract files were before a command (or at a mark). */
export interface Snapshot {
  kmsJson: string;
  rmkId: string;
  extracts: Map<string, string>;
  staging: boolean;
  restoreJournal: boolean;
}

export interface Published {
  site: string;
  name: string;
  source: string;
  sha256: string;
  bytes: number;
}

export interface CommandRecord {
  cluster: string;
  transcript: string;
  requests: string | undefined;
  before: Snapshot;
}

const ADMIN_USER = 'admin';

export class KmsScenario {
  readonly clusters = new Map<string, ClusterHandle>();
  current: string | undefined;
  cmkArn: string | undefined;
  /** Extract content as published, by `site/name` (a restore carries the same extracts). */
  readonly published = new Map<string, Published>();
  readonly marks = new Map<string, { snapshot: Snapshot; logLines: Map<string, number> }>();
  readonly keys: KeyMaterialEvent[] = [];
  last: CommandRecord | undefined;
  lastStatus: string | undefined;
  lastTsmStatus: string | undefined;
  lastBackup: string | undefined;
  private seq = 0;
  private commandNumber = 0;
  private admin: KMSClient | undefined;
  /** `<cluster>/<node>` → the dead endpoint that node dials instead of the KMS (its route is cut). */
  private readonly cutOff = new Map<string, string>();
  private readonly stopObserving: () => void;

  /**
   * @param dir the scenario's evidence folder (emptied first: a previous run's files go)
   * @param reportRoot what evidence paths in the report are relative to (the report folder)
   */
  constructor(
    readonly dir: string,
    private readonly reportRoot: string,
    readonly backend: KmsBackend,
    readonly facts: KmsRunFacts,
  ) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    this.stopObserving = observeKeyMaterial((e) => this.keys.push(e));
  }

  /** Closes every cluster (their services forget the keys) and the admin client. */
  end(): void {
    for (const h of this.clusters.values()) h.sim.close();
    this.admin?.destroy();
    this.stopObserving();
  }

  // ------------------------------------------------------------ files

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** A new file in `folder`, numbered in the scenario's order; a command's files share its number. */
  private next(folder: string, label: string, ext: string, n = ++this.seq): string {
    const name = `${String(n).padStart(2, '0')}-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}${ext}`;
    mkdirSync(this.path(folder), { recursive: true });
    return this.path(folder, name);
  }

  /** The number of the next file: what `opened/<n>-…` and the like are named after. */
  nextNumber(): number {
    return this.seq + 1;
  }

  private writeJson(file: string, value: unknown): void {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(value, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v), 2)}\n`);
  }

  /** Every file the scenario left, for the plaintext-key scan. */
  files(under = this.dir): string[] {
    if (!existsSync(under)) return [];
    return readdirSync(under, { recursive: true, withFileTypes: true })
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name));
  }

  // ------------------------------------------------------------ clusters

  cluster(name = this.current): ClusterHandle {
    const h = name === undefined ? undefined : this.clusters.get(name);
    if (!h) throw new Error(name === undefined ? 'no cluster yet: a "Given a …-node cluster" step comes first' : `no cluster "${name}" in this scenario`);
    return h;
  }

  /**
   * How the cluster's nodes reach the run's KMS: as their own roles on the embedded KMS, as
   * the endpoint's one identity otherwise; a node whose route is cut dials a closed port.
   */
  private accessFor(name: string, dir: string): KmsAccess {
    const b = this.backend;
    const credentials = envCredentials() ?? TEST_CREDENTIALS;
    const inner: KmsAccess = b.embedded
      ? embeddedKmsAccess(b.embedded, () => readConfig(dir).nodes)
      : {
          endpoint: b.endpoint,
          region: b.region,
          clientFor: (_node, region) => (region === undefined || region === b.region ? b.client() : kmsClient({ endpoint: b.endpoint, region, credentials })),
        };
    return {
      endpoint: inner.endpoint,
      region: inner.region,
      clientFor: (node, region) => {
        const dead = this.cutOff.get(`${name}/${node.name}`);
        if (dead === undefined) return inner.clientFor(node, region);
        return kmsClient({ endpoint: dead, region: region ?? inner.region, credentials, maxAttempts: 2, timeoutMs: 2000 });
      },
    };
  }

  /** Cuts a node's route to the KMS (KMS-8 on any backend): its next KMS call meets a closed port. */
  async cutOffNode(node: string): Promise<void> {
    const h = this.cluster();
    this.roleOf(node, h);
    const dead = `http://127.0.0.1:${await freeLoopbackPort()}`;
    this.cutOff.set(`${h.name}/${node}`, dead);
    h.sim.setNodeRole(node, {}); // drops the node's KMS clients; nothing else changes
    writeFileSync(this.next('network', `${h.name} ${node} cut off`, '.txt'), `${h.name}/${node}: no route to the KMS at ${this.backend.endpoint}; its KMS client dials ${dead} (closed)\n`);
  }

  async createCluster(name: string, o: { nodes: number; licence: Licence; platform: Platform }): Promise<ClusterHandle> {
    if (this.clusters.has(name)) throw new Error(`cluster "${name}" exists already in this scenario`);
    const dir = this.path(name);
    const first = this.clusters.size === 0;
    await initCluster(dir, { nodes: o.nodes, licence: o.licence, platform: o.platform, region: this.backend.region });
    const handle: ClusterHandle = { name, dir, nodes: [], sink: undefined, sim: undefined as unknown as SimCluster };
    handle.sim = await SimCluster.open(dir, { kms: this.accessFor(name, dir), user: ADMIN_USER, print: (l) => handle.sink?.push(l) });
    handle.nodes = handle.sim.clusterConfig.nodes.map((n) => n.name);
    // A second cluster is another deployment: its instance roles are other roles.
    if (!first) for (const n of handle.nodes) handle.sim.setNodeRole(n, { roleName: `tableau-server-${name}-${n}` });
    this.clusters.set(name, handle);
    this.current = name;
    if (this.cmkArn) this.grantRolesOnCmk(handle);
    return handle;
  }

  /**
   * The AWS administrator's part of KMS-2/KMS-3: once there is a CMK, each node's instance role
   * is granted its actions on that key only (the simulator's roles name no key until then).
   */
  private grantRolesOnCmk(h: ClusterHandle): void {
    for (const n of h.sim.clusterConfig.nodes) if (n.role.kmsKeyArn === undefined) h.sim.setNodeRole(n.name, { kmsKeyArn: this.cmk });
    this.writeRolePolicies();
  }

  /**
   * The AWS side of KMS-3: each node's role policy, as the KMS evaluates it, exported to
   * iam/<role>.json — once the scenario has a CMK for it to name (before, no role is set up
   * for KMS, and an auditor would have no role policy to collect). Written again whenever a
   * role changes, so the folder always shows the policies in force.
   */
  writeRolePolicies(): void {
    if (!this.cmkArn) return;
    for (const h of this.clusters.values()) {
      for (const n of h.sim.clusterConfig.nodes) {
        this.writeJson(this.path('iam', `${n.role.name}.json`), { RoleName: n.role.name, Node: `${h.name}/${n.name}`, PolicyName: 'kms', PolicyDocument: rolePolicy(n) });
      }
    }
  }

  roleOf(node: string, h = this.cluster()): string {
    const n = h.sim.clusterConfig.nodes.find((x) => x.name === node);
    if (!n) throw new Error(`no node ${node} in cluster "${h.name}"`);
    return n.role.name;
  }

  denyRoleAction(node: string, action: 'kms:Decrypt' | 'kms:GenerateDataKey'): void {
    const h = this.cluster();
    h.sim.setNodeRole(node, action === 'kms:Decrypt' ? { allowDecrypt: false } : { allowGenerateDataKey: false });
    this.writeRolePolicies();
  }

  // ------------------------------------------------------------ the CMK (the AWS administrator)

  private adminClient(): KMSClient {
    this.admin ??= this.backend.client();
    return this.admin;
  }

  get cmk(): string {
    if (!this.cmkArn) throw new Error('no CMK yet: a "Given a customer master key" step comes first');
    return this.cmkArn;
  }

  /** The administrator addresses the key by its id (moto 5.2 answers DisableKey and ScheduleKeyDeletion by ARN with an HTTP 500). */
  private get cmkId(): string {
    return this.cmk.slice(this.cmk.indexOf(':key/') + 5);
  }

  private async adminCall<T>(label: string, fn: (k: KMSClient) => Promise<T>): Promise<T> {
    const file = this.next('commands', `aws kms ${label}`, '.txt');
    try {
      const r = await fn(this.adminClient());
      writeFileSync(file, formatTranscript({ command: `aws kms ${label}`, output: [], error: null, exitCode: 0 }));
      return r;
    } catch (err) {
      const e = err as Error;
      writeFileSync(file, formatTranscript({ command: `aws kms ${label}`, output: [], error: `${e.name}: ${e.message}`, exitCode: 254 }));
      throw new EnvironmentError(`aws kms ${label}: ${e.name}: ${e.message}`);
    }
  }

  private async recordKey(what: string): Promise<void> {
    const d = await this.adminCall(`describe-key --key-id ${this.cmk}`, (k) => k.send(new DescribeKeyCommand({ KeyId: this.cmk })));
    this.writeJson(this.next('kms', `cmk ${what}`, '.json'), d.KeyMetadata);
  }

  async createCmk(): Promise<string> {
    const r = await this.adminCall('create-key --key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT', (k) =>
      k.send(new CreateKeyCommand({ Description: `Tableau Server CMK (cryptgate scenario ${relative(dirname(this.dir), this.dir)})`, KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'SYMMETRIC_DEFAULT' })),
    );
    this.cmkArn = r.KeyMetadata!.Arn!;
    await this.recordKey('created');
    for (const h of this.clusters.values()) this.grantRolesOnCmk(h);
    return this.cmkArn;
  }

  /** Account root may administer the key; each node role of the current cluster may exactly GenerateDataKey and Decrypt (KMS-3). */
  async restrictKeyPolicyToNodeRoles(): Promise<void> {
    await this.putNodeRolePolicy(['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /** The key policy lets each node role DescribeKey too, besides GenerateDataKey and Decrypt (the role's own policy stays those two). */
  async allowNodeRolesDescribeKey(): Promise<void> {
    await this.putNodeRolePolicy(['kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey']);
  }

  private async putNodeRolePolicy(actions: string[]): Promise<void> {
    const account = this.cmk.split(':')[4]!;
    const roles = this.cluster().sim.clusterConfig.nodes.map((n) => `arn:aws:iam::${account}:role/${n.role.name}`);
    const policy = {
      Version: '2012-10-17',
      Id: 'tableau-server-kms',
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' },
        { Sid: 'Tableau Server nodes', Effect: 'Allow', Principal: { AWS: roles }, Action: actions, Resource: '*' },
      ],
    };
    await this.adminCall(`put-key-policy --key-id ${this.cmkId} --policy-name default`, (k) => k.send(new PutKeyPolicyCommand({ KeyId: this.cmkId, PolicyName: 'default', Policy: JSON.stringify(policy) })));
    // The key policy in force is evidence of KMS-3 too: leave it as get-key-policy shows it.
    await this.exportKeyPolicy();
  }

  /** GetKeyPolicy, written to kms/; returns the file. */
  async exportKeyPolicy(): Promise<string> {
    const r = await this.adminCall(`get-key-policy --key-id ${this.cmkId} --policy-name default`, (k) => k.send(new GetKeyPolicyCommand({ KeyId: this.cmkId, PolicyName: 'default' })));
    const file = this.next('kms', 'key policy', '.json');
    writeFileSync(file, `${JSON.stringify(JSON.parse(r.Policy ?? 'null'), null, 2)}\n`);
    return file;
  }

  async disableCmk(): Promise<void> {
    await this.adminCall(`disable-key --key-id ${this.cmkId}`, (k) => k.send(new DisableKeyCommand({ KeyId: this.cmkId })));
    await this.recordKey('disabled');
  }

  async scheduleCmkDeletion(): Promise<void> {
    await this.adminCall(`schedule-key-deletion --key-id ${this.cmkId} --pending-window-in-days 7`, (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: this.cmkId, PendingWindowInDays: 7 })));
    await this.recordKey('pending deletion');
  }

  async rotateCmk(): Promise<void> {
    await this.adminCall(`rotate-key-on-demand --key-id ${this.cmkId}`, (k) => k.send(new RotateKeyOnDemandCommand({ KeyId: this.cmkId })));
    await this.recordKey('rotated');
  }

  /** ListKeyRotations, written to kms/; returns the file. */
  async exportRotations(): Promise<string> {
    const r = await this.adminCall(`list-key-rotations --key-id ${this.cmkId}`, (k) => k.send(new ListKeyRotationsCommand({ KeyId: this.cmkId })));
    const file = this.next('kms', 'key rotations', '.json');
    this.writeJson(file, { Rotations: r.Rotations ?? [] });
    return file;
  }

  // ------------------------------------------------------------ evidence snapshots

  snapshot(h = this.cluster()): Snapshot {
    const extracts = new Map<string, string>();
    for (const f of this.files(join(h.dir, 'extracts'))) extracts.set(relative(h.dir, f), sha256FileSync(f));
    return {
      kmsJson: sha256FileSync(join(h.dir, 'keystore', 'kms.json')),
      rmkId: this.storage(h).rmk.id,
      extracts,
      staging: existsSync(join(h.dir, '.restore-staging')),
      restoreJournal: existsSync(join(h.dir, 'jobs', 'restore.journal.json')),
    };
  }

  /** Remembers the key store, extracts and log lengths under `name` (e.g. "the rotation"). */
  mark(name: string): void {
    const h = this.cluster();
    const logLines = new Map<string, number>();
    for (const f of this.files(join(h.dir, 'logs'))) logLines.set(f, readFileSync(f, 'utf8').split('\n').length - 1);
    this.marks.set(name, { snapshot: this.snapshot(h), logLines });
  }

  // ------------------------------------------------------------ the administrator's terminal

  /** `{cmk}`, `{region}`, `{account}`, `{rmk}`, `{local-root}`, `{encryption-mek}`, `{backup-id}`, `{backup-rmk}`. */
  async expand(text: string): Promise<string> {
    const names = [...new Set([...text.matchAll(/\{([a-z-]+)\}/g)].map((m) => m[1]!))];
    const values = new Map<string, string>();
    for (const n of names) values.set(n, await this.placeholder(n));
    return text.replace(/\{([a-z-]+)\}/g, (_m, n: string) => values.get(n)!);
  }

  private async placeholder(name: string): Promise<string> {
    switch (name) {
      case 'cmk':
        return this.cmk;
      case 'region':
        return this.cmkArn ? this.cmkArn.split(':')[3]! : this.backend.region;
      case 'account':
        return this.cmk.split(':')[4]!;
      case 'rmk':
        return this.storage().rmk.id;
      case 'encryption-mek': {
        const m = this.storage().meks.filter((x) => x.state === 'encryption/decryption');
        if (m.length !== 1) throw new Error(`{encryption-mek}: the key store has ${m.length} encryption MEKs`);
        return m[0]!.id;
      }
      case 'local-root': {
        const ks = await this.keyStore();
        if (!ks.localKeystore) throw new Error('{local-root}: the cluster has no local keystore file');
        return ks.localKeystore.rootId;
      }
      case 'backup-id':
        return (await this.backupEvidence()).backupId;
      case 'backup-rmk':
        return (await this.backupEvidence()).storage.rmk.id;
      default:
        throw new Error(`unknown placeholder {${name}}`);
    }
  }

  /** Runs one tsm/tabcmd command line on the current cluster, as its administrator would, leaving its transcript. */
  async run(line: string): Promise<Transcript> {
    const h = this.cluster();
    const command = await this.expand(line);
    const argv = tokenize(command);
    const before = this.snapshot(h);
    const counters0 = this.backend.embedded?.counters();
    const output: string[] = [];
    const n = ++this.seq;
    this.commandNumber = n;
    h.sink = output;
    let exitCode = 0;
    let error: string | null = null;
    try {
      exitCode = await this.dispatch(h, argv, output);
    } catch (err) {
      if (!(err instanceof InputError || err instanceof EnvironmentError)) throw err;
      exitCode = err.exitCode;
      error = err.message.replace(/[\r\n]+/g, ' ');
    } finally {
      h.sink = undefined;
    }
    const label = `${h.name} ${argv.slice(0, argv[0] === 'tabcmd' ? 2 : 4).join(' ')}`;
    const transcript: Transcript = { command, output, error, exitCode };
    const file = this.next('commands', label, '.txt', n);
    writeFileSync(file, formatTranscript(transcript));
    let requests: string | undefined;
    if (counters0 && this.backend.embedded) {
      requests = this.next('kms-requests', label, '.json', n);
      this.writeJson(requests, { command, ...countersSince(counters0, this.backend.embedded.counters()) });
    }
    this.last = { cluster: h.name, transcript: file, requests, before };
    return transcript;
  }

  /** The last command's transcript, read back from its file. */
  lastTranscript(): Transcript {
    if (!this.last) throw new Error('no command has run yet');
    return parseTranscript(readFileSync(this.last.transcript, 'utf8'), this.last.transcript);
  }

  private async dispatch(h: ClusterHandle, argv: string[], output: string[]): Promise<number> {
    const sim = h.sim;
    const words = argv.join(' ');
    const opt = (name: string): string | undefined => {
      const i = argv.indexOf(name);
      if (i !== -1) return argv[i + 1];
      return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
    };
    const file = (name: string): string => {
      const v = opt(name);
      if (v === undefined) throw new InputError(`${argv.slice(0, 3).join(' ')}: ${name} <file> is required`);
      const p = resolve(this.dir, v);
      mkdirSync(dirname(p), { recursive: true });
      return p;
    };
    const done = async (p: Promise<unknown> | unknown): Promise<number> => {
      await p;
      return 0;
    };
    if (/^tsm status( -v| --verbose)?$/.test(words)) {
      const text = sim.statusText(argv.length > 2);
      output.push(...text.replace(/\n$/, '').split('\n'));
      this.lastTsmStatus = this.next('status', `${h.name} tsm status`, '.txt', this.commandNumber);
      writeFileSync(this.lastTsmStatus, text);
      return 0;
    }
    if (words === 'tsm start') return done(sim.start());
    if (words === 'tsm stop') return done(sim.stop());
    if (words === 'tsm restart') {
      await sim.stop();
      await sim.start();
      return 0;
    }
    if (words.startsWith('tsm security kms set-mode aws')) {
      const region = opt('--aws-region');
      const keyArn = opt('--key-arn');
      if (!region) throw new InputError('set-mode aws: --aws-region is required');
      if (!keyArn) throw new InputError('set-mode aws: --key-arn is required');
      await sim.setModeAws({ region, keyArn });
      return 0;
    }
    if (words === 'tsm security kms set-mode local') return done(sim.setModeLocal());
    if (words === 'tsm security kms status') {
      const s = await sim.kmsStatus();
      output.push(...s.text.replace(/\n$/, '').split('\n'));
      this.lastStatus = this.next('status', `${h.name} kms status`, '.txt', this.commandNumber);
      writeFileSync(this.lastStatus, s.text);
      return s.ok ? 0 : 3; // the CLI's contract: a status that is not OK exits 3
    }
    if (words === 'tsm security regenerate-internal-tokens') return done(sim.regenerateInternalTokens());
    if (words.startsWith('tsm maintenance backup')) {
      const f = file('-f');
      await sim.backup(f);
      this.lastBackup = f;
      return 0;
    }
    if (words.startsWith('tsm maintenance restore')) return done(sim.restore(file('-f')));
    if (argv[0] === 'tabcmd' && argv[1] === 'reencryptextracts' && argv.length === 3) return done(sim.reencryptExtracts(argv[2]!));
    if (argv[0] === 'tabcmd' && argv[1] === 'createsite' && argv.length === 3) return done(sim.createSite(argv[2]!));
    if (argv[0] === 'tabcmd' && argv[1] === 'publish' && argv.length >= 4) {
      await sim.publish(argv[2]!, argv[3]!, { file: file('--from') }, { overwrite: argv.includes('--overwrite') });
      return 0;
    }
    if (argv[0] === 'tabcmd' && argv[1] === 'open' && argv.length >= 4) {
      await sim.openExtract(argv[2]!, argv[3]!, { out: file('--out') });
      return 0;
    }
    throw new Error(`the steps do not know the command '${words}'`);
  }

  // ------------------------------------------------------------ extracts

  /** Writes `bytes` random bytes as the extract's content and publishes it with tabcmd. */
  async publish(site: string, name: string, bytes: number): Promise<Transcript> {
    const h = this.cluster();
    if (!h.sim.clusterConfig.sites.includes(site)) {
      const t = await this.run(`tabcmd createsite ${site}`);
      if (t.exitCode !== 0) throw new Error(`tabcmd createsite ${site}: ${t.error}`);
    }
    const source = this.path('data', `${site}-${name}.bin`);
    mkdirSync(dirname(source), { recursive: true });
    writeFileSync(source, randomBytes(bytes));
    this.published.set(`${site}/${name}`, { site, name, source, sha256: sha256FileSync(source), bytes });
    return this.run(`tabcmd publish ${site} ${name} --from ${relative(this.dir, source)}`);
  }

  /** The published extracts the current cluster holds a file for. */
  extractsHere(): Published[] {
    const h = this.cluster();
    return [...this.published.values()].filter((p) => existsSync(join(h.dir, 'extracts', p.site, `${p.name}.hyper`)));
  }

  // ------------------------------------------------------------ evidence readers (src/evidence)

  storage(h = this.cluster()): KmsStorageEvidence {
    const file = join(h.dir, 'keystore', 'kms.json');
    return parseKmsStorage(readFileSync(file, 'utf8'), file);
  }

  keyStore(h = this.cluster()): Promise<KeyStoreEvidence> {
    return readKeyStore(h.dir);
  }

  logs(h = this.cluster()): Promise<LogReadResult> {
    return readTableauLogFolder(join(h.dir, 'logs'));
  }

  status(): Promise<KmsStatusEvidence> {
    if (!this.lastStatus) throw new Error('no "tsm security kms status" has run yet');
    return readKmsStatus(this.lastStatus);
  }

  tsmStatus(): TsmStatus {
    if (!this.lastTsmStatus) throw new Error('no "tsm status -v" has run yet');
    return parseTsmStatus(readFileSync(this.lastTsmStatus, 'utf8'), this.lastTsmStatus);
  }

  backupEvidence(): ReturnType<typeof readBackupManifest> {
    if (!this.lastBackup) throw new Error('no backup has been written yet');
    return readBackupManifest(this.lastBackup);
  }

  /** The requests the last command caused, from its kms-requests file. */
  lastRequests(): RequestsEvidence {
    if (!this.last?.requests) throw new Error(`${this.facts.backend} has no request counters: tag the scenario @needs-request-counters`);
    return JSON.parse(readFileSync(this.last.requests, 'utf8')) as RequestsEvidence;
  }

  /** A path as the report shows it: relative to the report folder (`evidence/kms/…`). */
  relative(file: string): string {
    return relative(this.reportRoot, file);
  }
}

export interface RequestsEvidence {
  command: string;
  total: number;
  byOperation: Record<string, number>;
  /** principal ARN → operation → requests */
  byPrincipal: Record<string, Record<string, number>>;
}

function countersSince(a: CounterSnapshot, b: CounterSnapshot): Omit<RequestsEvidence, 'command'> {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(b.byOperation)) {
    const d = n - (a.byOperation[op] ?? 0);
    if (d > 0) byOperation[op] = d;
  }
  const byPrincipal: Record<string, Record<string, number>> = {};
  for (const [p, counts] of Object.entries(b.byPrincipal)) {
    for (const [op, n] of Object.entries(counts.byOperation)) {
      const d = n - (a.byPrincipal[p]?.byOperation[op] ?? 0);
      if (d > 0) (byPrincipal[p] ??= {})[op] = d;
    }
  }
  return { total: b.total - a.total, byOperation, byPrincipal };
}
