// The simulated Tableau Server cluster: a folder on disk plus, while a SimCluster is open, the
// memory of its running services (each node's plaintext RMK, as the real services hold it
// after they decrypt it at start).
//
// Request counting follows from that memory. A SimCluster kept open across commands (a test,
// a Gherkin World) is a running server: `start()` makes every node Decrypt the RMK once, and
// later jobs (reencryptextracts, publish, open) make no KMS request at all. A one-shot CLI
// process starts with empty memory: the first command that needs the RMK on a node makes that
// node Decrypt it once (logged as the service re-reading KMS storage). README.md has the table.
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { EnvironmentError, InputError } from '../../src/util/errors.js';
import { BackupReader, writeBackup, type BackupManifest } from './backup-file.js';
import { checkName, checkRegion, isoSeconds, newClusterConfig, readConfig, writeConfig, type InitOptions } from './config.js';
import { localRmkAad, newKey, open as openBox, scrub, seal, UnwrapError } from './crypto.js';
import {
  fileSource,
  randomSource,
  readExtractBody,
  readExtractHeader,
  unwrapDataKey,
  writeExtract,
  type ExtractHeader,
} from './extract-file.js';
import { ClusterLock, ensureDir, removeQuietly, renameDurable, sweepTempFiles, syncFolder, tempPathFor, writeAll, writeFileAtomic } from './fs-safe.js';
import { Reencryptor, streamReencryption } from './reencryptor.js';
import { readJournal, recoverRestore, applyRestore, type RestoreJournal } from './journal.js';
import { createLocalKeystore, openLocalRoot, readLocalKeystore } from './keystore.js';
import { describeKmsError, parseCmkArn, type KmsAccess, type KmsFailure } from './kms-access.js';
import { encryptionMek, newEncryptionMek, readStorage, unwrapMek, wrapMek, writeStorage } from './kms-storage.js';
import { CLASSES, ClusterLogs, kmsStackTrace, awsErrorSuffix, newRequestId, type JavaService, type LogContext } from './logs.js';

const BOTH: readonly JavaService[] = ['vizqlserver', 'backgrounder'];
const TSM: readonly JavaService[] = ['tabadmincontroller'];
import {
  KMS_SERVICES,
  LAYOUT,
  SERVICES,
  SERVICE_TITLES,
  type ClusterConfig,
  type KmsStorage,
  type MekRecord,
  type NodeConfig,
  type RmkRecord,
  type ServiceName,
} from './model.js';
import { formatKmsStatus } from './status-text.js';
import { reportKey } from './test-hooks.js';

export interface SimOptions {
  /** How nodes reach AWS KMS; needed for anything AWS mode does. */
  kms?: KmsAccess;
  /** The clock for timestamps and logs. */
  now?: () => Date;
  /** Where command output goes (the real tools' stdout); default: nowhere. */
  print?: (line: string) => void;
  /** The tabcmd / tsm user named in logs. */
  user?: string;
}

export interface KmsStatusResult {
  text: string;
  ok: boolean;
  error?: string;
}

export interface ExtractInfo {
  site: string;
  name: string;
  path: string;
  header: ExtractHeader;
}

export interface OpenResult {
  header: ExtractHeader;
  sha256: string;
  bytes: number;
}

export interface ReencryptResult {
  jobId: number;
  node: string;
  site: string;
  mekId: string;
  reencrypted: number;
  alreadyCurrent: number;
  resumed: boolean;
}

/** A KMS call that failed: names node, role, key and action (exit 3). */
export class KmsCallError extends EnvironmentError {
  constructor(
    readonly node: string,
    readonly role: string,
    readonly action: string,
    readonly key: string,
    readonly failure: KmsFailure,
  ) {
    super(`${node} (role ${role}): ${action} on ${key} failed: ${failure.code}: ${failure.message}`);
    this.name = 'KmsCallError';
  }
}

/** Where a new RMK is rooted: a CMK (AWS mode) or the local keystore (local mode). */
type RmkTarget = { mode: 'aws'; cmkArn: string; region: string } | { mode: 'local' };

/** A random RMK sealed under the cluster's local keystore root. The caller owns the plaintext key and must zero it. */
function newLocalRmk(dir: string, clusterId: string, ts: string): { rmk: RmkRecord; key: Buffer } {
  const { rootId, root } = openLocalRoot(dir, clusterId);
  try {
    const key = newKey();
    const id = randomUUID();
    reportKey('rmk', id, key);
    return { rmk: { id, createdAt: ts, wrappedBy: 'local-keystore', sealed: seal(root, key, localRmkAad(id, rootId)), rootId }, key };
  } finally {
    root.fill(0);
  }
}

/** Creates a new cluster in `dir` (empty or absent). cluster.json is written last: it is the commit point. */
export async function initCluster(dirArg: string, o: InitOptions & { now?: () => Date } = {}): Promise<ClusterConfig> {
  const dir = resolve(dirArg);
  const now = (o.now ?? (() => new Date()))();
  if (existsSync(join(dir, LAYOUT.cluster))) throw new InputError(`${dir}: already a simulated cluster (${LAYOUT.cluster} exists)`);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new InputError(`${dir}: expected a folder`);
    // Leftovers of an init that was killed before it committed may be replaced; nothing else.
    const ours = new Set(['keystore', 'logs', 'extracts', 'jobs', LAYOUT.defaultKmsState, 'cluster.lock']);
    const foreign = readdirSync(dir).filter((n) => !ours.has(n) && !n.endsWith('.cg-tmp'));
    if (foreign.length > 0) throw new InputError(`${dir}: expected an empty folder for a new cluster, found ${foreign.slice(0, 3).join(', ')}`);
    for (const n of ['keystore', 'extracts', 'jobs', 'logs']) removeQuietly(join(dir, n));
  }
  const config = newClusterConfig(o, now);
  ensureDir(dir, 0o755);
  const lock = ClusterLock.take(dir);
  try {
    const ts = isoSeconds(now);
    const ks = createLocalKeystore(dir, config.clusterId, ts);
    const { rmk: rmkRecord, key: rmk } = newLocalRmk(dir, config.clusterId, ts);
    const rmkId = rmkRecord.id;
    const mek = newEncryptionMek(rmkId, rmk, ts);
    scrub(rmk, mek.key);
    const storage: KmsStorage = {
      format: 'cryptgate/kms-storage@1',
      mode: 'local',
      aws: null,
      rmk: rmkRecord,
      meks: [mek.record],
      generation: 1,
      updatedAt: ts,
    };
    writeStorage(dir, storage);
    ensureDir(join(dir, LAYOUT.extractsDir), 0o755);
    ensureDir(join(dir, LAYOUT.extractsDir, 'Default'), 0o755);
    ensureDir(join(dir, LAYOUT.jobsDir), 0o755);
    writeConfig(dir, config);
    const logs = new ClusterLogs(dir, o.now ?? (() => new Date()));
    for (const n of config.nodes) {
      for (const svc of ['vizqlserver', 'backgrounder'] as const) {
        logs.java(n.name, svc, 'INFO', CLASSES.localAccessor, `Decrypted RMK with ID ${rmkId} using local keystore ${ks.rootId}`);
        logs.java(n.name, svc, 'INFO', CLASSES.localEnvelope, `Using RMK with ID ${rmkId} to decrypt KMS storage`);
      }
    }
    return config;
  } finally {
    lock.release();
  }
}

export class SimCluster {
  readonly dir: string;
  private config: ClusterConfig;
  private storage: KmsStorage;
  private readonly lock: ClusterLock;
  private readonly now: () => Date;
  private readonly print: (line: string) => void;
  private readonly user: string;
  private readonly kms: KmsAccess | undefined;
  readonly logs: ClusterLogs;
  /** Each node's services' memory: the RMK they decrypted at start. */
  private readonly memory = new Map<string, { id: string; key: Buffer }>();
  private readonly clients = new Map<string, KMSClient>();
  private closed = false;

  private constructor(dir: string, lock: ClusterLock, o: SimOptions) {
    this.dir = dir;
    this.lock = lock;
    this.now = o.now ?? (() => new Date());
    this.print = o.print ?? (() => {});
    this.user = o.user ?? 'admin';
    this.kms = o.kms;
    this.logs = new ClusterLogs(dir, this.now);
    const recovered = recoverRestore(dir, (c) => this.applySites(c));
    this.config = readConfig(dir);
    this.storage = readStorage(dir);
    if (recovered) this.logs.java(this.config.initialNode, 'tabadmincontroller', 'WARN', CLASSES.tsmBackup, 'Completed a restore that was interrupted');
    // Temp files of writes a killed command never renamed (we hold the lock: none is in flight).
    for (const d of [dir, join(dir, LAYOUT.keystoreDir), join(dir, LAYOUT.jobsDir), ...this.config.sites.map((s) => this.siteDir(s))]) sweepTempFiles(d);
  }

  /** Opens a cluster folder, taking its lock and finishing any interrupted restore. Close it when done. */
  static async open(dirArg: string, o: SimOptions = {}): Promise<SimCluster> {
    const dir = resolve(dirArg);
    readConfig(dir); // a clear "not a cluster" before the lock
    const lock = ClusterLock.take(dir);
    try {
      return new SimCluster(dir, lock, o);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Forgets every key in memory, closes KMS clients and releases the lock. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forgetKeys();
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    this.lock.release();
  }

  // ---------------------------------------------------------------- views

  get clusterConfig(): ClusterConfig {
    return structuredClone(this.config);
  }

  get kmsStorage(): KmsStorage {
    return structuredClone(this.storage);
  }

  private node(name: string): NodeConfig {
    const n = this.config.nodes.find((x) => x.name === name);
    if (!n) throw new InputError(`node '${name}': expected one of ${this.config.nodes.map((x) => x.name).join(', ')}`);
    return n;
  }

  private get initial(): NodeConfig {
    return this.node(this.config.initialNode);
  }

  private siteDir(site: string): string {
    return join(this.dir, LAYOUT.extractsDir, site);
  }

  private requireSite(site: string): void {
    checkName('site', site);
    if (!this.config.sites.includes(site)) throw new InputError(`site '${site}' not found: this cluster has ${this.config.sites.map((s) => `'${s}'`).join(', ')}`);
  }

  private saveConfig(): void {
    writeConfig(this.dir, this.config);
  }

  private nextJob(): number {
    const id = this.config.nextJobId;
    this.config.nextJobId++;
    this.saveConfig();
    return id;
  }

  private forgetKeys(): void {
    for (const m of this.memory.values()) m.key.fill(0);
    this.memory.clear();
  }

  // ---------------------------------------------------------------- KMS plumbing

  private client(node: NodeConfig, region: string): KMSClient {
    if (!this.kms) {
      throw new EnvironmentError(`${node.name} (role ${node.role.name}): no AWS KMS access was given to the simulator, and AWS KMS mode needs it`);
    }
    const k = `${node.name}|${region}`;
    let c = this.clients.get(k);
    if (!c) {
      c = this.kms.clientFor({ name: node.name, roleName: node.role.name }, region);
      this.clients.set(k, c);
    }
    return c;
  }

  private async kmsCall<T>(node: NodeConfig, region: string, action: string, key: string, fn: (c: KMSClient) => Promise<T>): Promise<T> {
    const c = this.client(node, region);
    try {
      return await fn(c);
    } catch (err) {
      throw new KmsCallError(node.name, node.role.name, action, key, describeKmsError(err, this.kms?.endpoint));
    }
  }

  /** Opens an RMK record as `node` (AWS: one Decrypt with the node's role; local: the keystore). The caller scrubs it. */
  private async openRmk(node: NodeConfig, r: RmkRecord): Promise<Buffer> {
    if (r.wrappedBy === 'local-keystore') {
      const { rootId, root } = openLocalRoot(this.dir, this.config.clusterId);
      try {
        if (rootId !== r.rootId) {
          throw new InputError(`RMK ${r.id} is sealed under local keystore ${r.rootId}, but this cluster's keystore is ${rootId}`);
        }
        const key = openBox(root, r.sealed!, localRmkAad(r.id, rootId), `RMK ${r.id}`);
        reportKey('rmk', r.id, key);
        return key;
      } catch (err) {
        if (err instanceof UnwrapError) throw new InputError(err.message);
        throw err;
      } finally {
        root.fill(0);
      }
    }
    const out = await this.kmsCall(node, r.region!, 'kms:Decrypt', `RMK ${r.id} with CMK ${r.cmkArn}`, (c) =>
      c.send(new DecryptCommand({ CiphertextBlob: Buffer.from(r.blob!, 'base64'), KeyId: r.cmkArn, ...(r.encryptionContext ? { EncryptionContext: r.encryptionContext } : {}) })),
    );
    const key = Buffer.from(out.Plaintext!);
    if (out.Plaintext) out.Plaintext.fill(0);
    reportKey('rmk', r.id, key);
    if (key.length !== 32) throw new EnvironmentError(`${node.name} (role ${node.role.name}): kms:Decrypt of RMK ${r.id} returned ${key.length} bytes, expected 32`);
    return key;
  }

  /** Log lines a service writes when it opens KMS storage. */
  private logRmkOpened(node: NodeConfig, ctx: LogContext, services: readonly JavaService[]): void {
    const r = this.storage.rmk;
    for (const svc of services) {
      if (r.wrappedBy === 'aws-kms') {
        this.logs.java(node.name, svc, 'INFO', CLASSES.awsAccessor, `Decrypted RMK with ID ${r.id} using CMK with ARN ${r.cmkArn}`, ctx);
        this.logs.java(node.name, svc, 'INFO', CLASSES.awsEnvelope, `Using RMK with ID ${r.id} to decrypt KMS storage`, ctx);
      } else {
        this.logs.java(node.name, svc, 'INFO', CLASSES.localAccessor, `Decrypted RMK with ID ${r.id} using local keystore ${r.rootId}`, ctx);
        this.logs.java(node.name, svc, 'INFO', CLASSES.localEnvelope, `Using RMK with ID ${r.id} to decrypt KMS storage`, ctx);
      }
    }
    if (services.includes('vizqlserver')) this.logs.native(node.name, 'info', 'kms-storage-open', { mode: this.storage.mode, 'rmk-id': r.id, ...(r.cmkArn ? { 'cmk-arn': r.cmkArn } : {}) }, ctx);
  }

  private logRmkFailure(node: NodeConfig, f: KmsFailure | { code: string; message: string }, ctx: LogContext, services: readonly JavaService[]): void {
    const r = this.storage.rmk;
    const kf = f as KmsFailure;
    for (const svc of services) {
      if (r.wrappedBy === 'aws-kms') {
        this.logs.java(
          node.name,
          svc,
          'ERROR',
          CLASSES.awsAccessor,
          `Failed to decrypt RMK with ID ${r.id} using CMK with ARN ${r.cmkArn}: ${f.message} ${awsErrorSuffix(f.code, kf.status, kf.requestId)}`,
          ctx,
          kmsStackTrace(f.code, f.message, kf.status, kf.requestId, 'Decrypt'),
        );
      } else {
        this.logs.java(node.name, svc, 'ERROR', CLASSES.localAccessor, `Failed to decrypt RMK with ID ${r.id} using local keystore: ${f.message}`, ctx);
      }
    }
    if (services.includes('vizqlserver')) this.logs.native(node.name, 'error', 'kms-storage-error', { mode: this.storage.mode, 'rmk-id': r.id, 'error-code': f.code, error: f.message, ...(r.cmkArn ? { 'cmk-arn': r.cmkArn } : {}) }, ctx);
  }

  /** The RMK as `node`'s services hold it; a node with empty memory decrypts it once. */
  private async rmkOn(node: NodeConfig, ctx: LogContext, services: readonly JavaService[]): Promise<Buffer> {
    const m = this.memory.get(node.name);
    if (m && m.id === this.storage.rmk.id) return m.key;
    let key: Buffer;
    try {
      key = await this.openRmk(node, this.storage.rmk);
    } catch (err) {
      if (err instanceof KmsCallError) this.logRmkFailure(node, err.failure, ctx, services);
      throw err;
    }
    this.memory.get(node.name)?.key.fill(0);
    this.memory.set(node.name, { id: this.storage.rmk.id, key });
    this.logRmkOpened(node, ctx, services);
    return key;
  }

  private mekKey(m: MekRecord, rmk: Buffer): Buffer {
    return unwrapMek(m, this.storage.rmk.id, rmk, join(this.dir, LAYOUT.kmsStorage));
  }

  private mekById(id: string, where: string): MekRecord {
    const m = this.storage.meks.find((x) => x.id === id);
    if (!m) throw new InputError(`${where}: encrypted under MEK ${id}, which this cluster's KMS storage does not hold`);
    return m;
  }

  // ---------------------------------------------------------------- server lifecycle

  private running(service: ServiceName): NodeConfig[] {
    return this.config.nodes.filter((n) => n.services[service].state === 'Running');
  }

  private requireRunning(): void {
    if (this.config.server !== 'running') throw new InputError("Tableau Server is stopped: run 'tsm start' first");
  }

  /** Starts one node's services; KMS services that cannot open the RMK go to Error (KMS-8). */
  private async startNode(node: NodeConfig): Promise<void> {
    let failure: { code: string; message: string } | undefined;
    try {
      const rmk = await this.rmkOn(node, { thread: 'main' }, BOTH);
      // The services also check the RMK opens the MEKs (AAD binds MEK id and RMK id).
      this.mekKey(encryptionMek(this.storage), rmk).fill(0);
    } catch (err) {
      if (err instanceof KmsCallError) failure = { code: err.failure.code, message: err.message };
      else if (err instanceof InputError || err instanceof EnvironmentError) {
        failure = { code: 'KmsStorageError', message: err.message };
        this.logRmkFailure(node, failure, {}, BOTH);
      } else throw err;
    }
    for (const s of SERVICES) {
      const kmsBound = KMS_SERVICES.includes(s);
      node.services[s] = failure && kmsBound ? { state: 'Error', message: `cannot open KMS storage: ${failure.message}` } : { state: 'Running' };
    }
    this.logs.java(node.name, 'vizqlserver', failure ? 'ERROR' : 'INFO', CLASSES.serviceLifecycle, failure ? 'Service failed to start: KMS storage unavailable' : 'Service started');
    this.logs.java(node.name, 'backgrounder', failure ? 'ERROR' : 'INFO', CLASSES.serviceLifecycle, failure ? 'Service failed to start: KMS storage unavailable' : 'Service started');
  }

  private stopServices(): void {
    for (const n of this.config.nodes) {
      for (const s of SERVICES) n.services[s] = { state: 'Stopped' };
    }
    this.forgetKeys();
    this.config.server = 'stopped';
  }

  private async startServices(): Promise<void> {
    for (const n of this.config.nodes) await this.startNode(n);
    this.config.server = 'running';
    this.saveConfig();
  }

  private reportStart(): void {
    const bad = this.config.nodes.filter((n) => SERVICES.some((s) => n.services[s].state === 'Error'));
    if (bad.length === 0) {
      this.print('Successfully started Tableau Server.');
      return;
    }
    // TSM's job finishes; the services that could not start show in `tsm status -v` (KMS-8).
    this.print('Tableau Server started, but some services are in an error state:');
    for (const n of bad) {
      const errs = SERVICES.filter((s) => n.services[s].state === 'Error');
      this.print(`  ${n.name}: ${errs.join(', ')}`);
    }
    this.print("Run 'tsm status -v' for details.");
  }

  private jobHeader(): number {
    const id = this.nextJob();
    this.print(`Job id is '${id}', timeout is 30 minutes.`);
    return id;
  }

  async start(): Promise<void> {
    this.jobHeader();
    this.print('Starting Tableau Server...');
    this.forgetKeys();
    await this.startServices();
    this.reportStart();
  }

  async stop(): Promise<void> {
    this.jobHeader();
    this.print('Stopping Tableau Server...');
    this.stopServices();
    this.saveConfig();
    for (const n of this.config.nodes) {
      this.logs.java(n.name, 'vizqlserver', 'INFO', CLASSES.serviceLifecycle, 'Service stopped');
      this.logs.java(n.name, 'backgrounder', 'INFO', CLASSES.serviceLifecycle, 'Service stopped');
    }
    this.print('Successfully stopped Tableau Server.');
  }

  private async restart(): Promise<void> {
    this.print('Stopping Tableau Server...');
    this.stopServices();
    this.saveConfig();
    this.print('Starting Tableau Server...');
    await this.startServices();
    this.reportStart();
  }

  /** `tsm status [-v]` */
  statusText(verbose = false): string {
    const c = this.config;
    const anyError = c.nodes.some((n) => SERVICES.some((s) => n.services[s].state === 'Error'));
    const overall = c.server === 'stopped' ? 'STOPPED' : anyError ? 'DEGRADED' : 'RUNNING';
    const lines = [`Status: ${overall}`];
    if (verbose) {
      for (const n of c.nodes) {
        const nodeErr = SERVICES.some((s) => n.services[s].state === 'Error');
        lines.push('');
        lines.push(`${n.name}: ${n.name}.${n.platform === 'ec2' ? 'ec2.internal' : 'local'}`);
        lines.push(`    Status: ${c.server === 'stopped' ? 'STOPPED' : nodeErr ? 'DEGRADED' : 'RUNNING'}`);
        if (n.adminController) lines.push("    'Tableau Server Administration Controller 0' is running.");
        for (const s of SERVICES) {
          const st = n.services[s];
          const what = st.state === 'Running' ? 'is running' : st.state === 'Stopped' ? 'is stopped' : 'is in an error state';
          lines.push(`    '${SERVICE_TITLES[s]} 0' ${what}.${st.message ? ` ${st.message}` : ''}`);
        }
      }
    }
    return `${lines.join('\n')}\n`;
  }

  // ---------------------------------------------------------------- KMS mode (KMS-4, KMS-8)

  /** `tsm security kms set-mode aws --aws-region R --key-arn ARN` */
  async setModeAws(o: { region: string; keyArn: string }): Promise<void> {
    const c = this.config;
    if (c.licence !== 'advanced-management') {
      throw new InputError(`AWS KMS mode needs the Advanced Management licence; this cluster is licensed '${c.licence}'`);
    }
    const offEc2 = c.nodes.filter((n) => n.platform !== 'ec2');
    if (offEc2.length > 0) {
      throw new InputError(`AWS KMS mode needs Tableau Server deployed on AWS EC2; ${offEc2.map((n) => `${n.name} runs on ${n.platform}`).join(', ')}`);
    }
    checkRegion(o.region, '--aws-region');
    const arn = parseCmkArn(o.keyArn);
    if (arn.region !== o.region) {
      throw new InputError(`--aws-region ${o.region} does not match the region in --key-arn (${arn.region}); the CMK lives in ${arn.region}`);
    }
    const init = this.initial;
    const jobId = this.jobHeader();
    const ctx: LogContext = { jobId, jobType: 'kms_set_mode', user: this.user, req: newRequestId() };
    this.print(`Setting the KMS mode to AWS with CMK ${arn.arn} in ${o.region}...`);

    // Reachable and Enabled, from the initial node. A role that may only GenerateDataKey and
    // Decrypt (KMS-3) is refused DescribeKey: then GenerateDataKey is the check.
    try {
      const d = await this.kmsCall(init, o.region, 'kms:DescribeKey', `CMK ${arn.arn}`, (k) => k.send(new DescribeKeyCommand({ KeyId: arn.arn })));
      const st = d.KeyMetadata?.KeyState;
      if (st !== 'Enabled') {
        throw new EnvironmentError(`${init.name} (role ${init.role.name}): CMK ${arn.arn} is ${st}: AWS KMS mode needs an Enabled key`);
      }
      // moto leaves KeyUsage out of a key created without it: judge only what the answer says.
      const usage = d.KeyMetadata?.KeyUsage ?? 'ENCRYPT_DECRYPT';
      const spec = d.KeyMetadata?.KeySpec ?? d.KeyMetadata?.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
      if (usage !== 'ENCRYPT_DECRYPT' || spec !== 'SYMMETRIC_DEFAULT') {
        throw new EnvironmentError(`${init.name} (role ${init.role.name}): CMK ${arn.arn} is ${spec}/${usage}: expected a symmetric ENCRYPT_DECRYPT key`);
      }
    } catch (err) {
      if (!(err instanceof KmsCallError) || err.failure.code !== 'AccessDeniedException') throw err;
      this.logs.java(init.name, 'tabadmincontroller', 'WARN', CLASSES.tsmKms, `Cannot describe CMK ${arn.arn} (${err.failure.code}); checking it with GenerateDataKey`, ctx);
    }

    const rmk = await this.reroot(init, ctx, { mode: 'aws', cmkArn: arn.arn, region: o.region });
    this.logs.java(init.name, 'tabadmincontroller', 'INFO', CLASSES.awsAccessor, `Generated RMK with ID ${rmk.id} using CMK with ARN ${arn.arn}`, ctx);
    this.logs.java(init.name, 'tabadmincontroller', 'INFO', CLASSES.tsmKms, `KMS mode set to AWS (CMK ${arn.arn}, region ${o.region})`, ctx);
    await this.restart();
  }

  /** `tsm security kms set-mode local`: the fallback (KMS-8); the MEKs are re-wrapped under a new RMK rooted in the local keystore. */
  async setModeLocal(): Promise<void> {
    const init = this.initial;
    const jobId = this.jobHeader();
    const ctx: LogContext = { jobId, jobType: 'kms_set_mode', user: this.user, req: newRequestId() };
    this.print('Setting the KMS mode to local...');
    await this.reroot(init, ctx, { mode: 'local' });
    this.logs.java(init.name, 'tabadmincontroller', 'INFO', CLASSES.tsmKms, 'KMS mode set to local', ctx);
    await this.restart();
  }

  /**
   * `set-mode`: moves the key hierarchy under a new root. A new RMK rooted in `target`, every
   * MEK re-wrapped under it (states and times kept), stored in one atomic write.
   */
  private async reroot(init: NodeConfig, ctx: LogContext, target: RmkTarget): Promise<RmkRecord> {
    const oldRmk = await this.rmkOn(init, ctx, TSM);
    const ts = isoSeconds(this.now());
    const { rmk, key: newRmk } = await this.generateRmk(init, ts, target);
    try {
      const next: KmsStorage = {
        ...this.storage,
        mode: target.mode,
        aws: target.mode === 'aws' ? { cmkArn: target.cmkArn, region: target.region } : null,
        rmk,
        meks: this.rewrapMeks(oldRmk, rmk.id, newRmk),
        generation: this.storage.generation + 1,
        updatedAt: ts,
      };
      writeStorage(this.dir, next);
      this.storage = next;
    } finally {
      newRmk.fill(0);
    }
    return rmk;
  }

  /**
   * A new RMK (KMS-5) rooted in `target`, by default the cluster's current mode: in AWS mode a
   * data key the CMK generates for the initial node (one GenerateDataKey), of which only the
   * ciphertext is kept; in local mode a random key sealed under the local keystore. The caller
   * owns the plaintext key and must zero it.
   */
  private async generateRmk(
    init: NodeConfig,
    ts: string,
    target: RmkTarget = this.storage.mode === 'aws' ? { mode: 'aws', ...this.storage.aws! } : { mode: 'local' },
  ): Promise<{ rmk: RmkRecord; key: Buffer }> {
    if (target.mode === 'local') return newLocalRmk(this.dir, this.config.clusterId, ts);
    const { cmkArn, region } = target;
    const rmkId = randomUUID();
    const encryptionContext = { 'tableau-kms': 'root-master-key', 'rmk-id': rmkId };
    const gdk = await this.kmsCall(init, region, 'kms:GenerateDataKey', `CMK ${cmkArn}`, (k) =>
      k.send(new GenerateDataKeyCommand({ KeyId: cmkArn, KeySpec: 'AES_256', EncryptionContext: encryptionContext })),
    );
    const key = Buffer.from(gdk.Plaintext!);
    gdk.Plaintext?.fill(0);
    reportKey('rmk', rmkId, key);
    if (key.length !== 32) {
      key.fill(0);
      throw new EnvironmentError(`${init.name} (role ${init.role.name}): kms:GenerateDataKey on CMK ${cmkArn} returned ${key.length} bytes, expected 32`);
    }
    return { rmk: { id: rmkId, createdAt: ts, wrappedBy: 'aws-kms', blob: Buffer.from(gdk.CiphertextBlob!).toString('base64'), cmkArn, region, encryptionContext }, key };
  }

  /** Every MEK unwrapped with the old RMK and wrapped under the new one; states and times kept. */
  private rewrapMeks(oldRmk: Buffer, newRmkId: string, newRmk: Buffer, transform: (m: MekRecord) => MekRecord = (m) => m): MekRecord[] {
    return this.storage.meks.map((m) => {
      const k = this.mekKey(m, oldRmk);
      try {
        return { ...transform(m), rmkId: newRmkId, sealed: wrapMek(m.id, k, newRmkId, newRmk) };
      } finally {
        k.fill(0);
      }
    });
  }

  /** `tsm security kms status` (KMS-6): what the initial node sees, and only that (KMS-8). */
  async kmsStatus(): Promise<KmsStatusResult> {
    const init = this.initial;
    let error: string | undefined;
    let rmk: Buffer | undefined;
    try {
      rmk = await this.openRmk(init, this.storage.rmk);
      this.mekKey(encryptionMek(this.storage), rmk).fill(0);
    } catch (err) {
      if (err instanceof KmsCallError || err instanceof InputError || err instanceof EnvironmentError) error = err.message;
      else throw err;
    } finally {
      rmk?.fill(0);
    }
    let localRootId: string | undefined;
    if (this.storage.mode === 'local') {
      try {
        localRootId = readLocalKeystore(this.dir).rootId;
      } catch {
        // the error above already says what is wrong
      }
    }
    const text = formatKmsStatus({ storage: this.storage, checkedOn: init.name, ...(localRootId ? { localRootId } : {}), ...(error !== undefined ? { error } : {}) });
    return { text, ok: error === undefined, ...(error !== undefined ? { error } : {}) };
  }

  // ---------------------------------------------------------------- rotation (KMS-9)

  /**
   * `tsm security regenerate-internal-tokens`: a new RMK (AWS: one GenerateDataKey by the
   * initial node) and a new encryption MEK; the previous MEKs become decryption-only,
   * re-wrapped under the new RMK; the server restarts, each node decrypting the new RMK once.
   */
  async regenerateInternalTokens(): Promise<void> {
    const init = this.initial;
    const jobId = this.jobHeader();
    const ctx: LogContext = { jobId, jobType: 'regenerate_internal_tokens', user: this.user, req: newRequestId() };
    // The old RMK first (the initial node holds it while running), then the restart.
    const held = await this.rmkOn(init, ctx, TSM);
    const oldRmk = Buffer.from(held);
    this.print('Stopping Tableau Server...');
    this.stopServices();
    this.saveConfig();
    this.print('Generating new internal tokens, root master key and master extract key...');
    const ts = isoSeconds(this.now());
    try {
      const { rmk, key: newRmk } = await this.generateRmk(init, ts);
      const rmkId = rmk.id;
      if (rmk.wrappedBy === 'aws-kms') {
        this.logs.java(init.name, 'tabadmincontroller', 'INFO', CLASSES.awsAccessor, `Generated RMK with ID ${rmkId} using CMK with ARN ${rmk.cmkArn}`, ctx);
      }
      try {
        const meks = this.rewrapMeks(oldRmk, rmkId, newRmk, (m) => (m.state === 'encryption/decryption' ? { ...m, state: 'decryption-only', decryptOnlyAt: ts } : m));
        const mek = newEncryptionMek(rmkId, newRmk, ts);
        mek.key.fill(0);
        const next: KmsStorage = { ...this.storage, rmk, meks: [...meks, mek.record], generation: this.storage.generation + 1, updatedAt: ts };
        writeStorage(this.dir, next);
        this.storage = next;
        this.logs.java(init.name, 'tabadmincontroller', 'INFO', CLASSES.tsmKms, `Regenerated internal tokens: RMK ${rmkId}, encryption MEK ${mek.record.id}`, ctx);
      } finally {
        newRmk.fill(0);
      }
    } finally {
      oldRmk.fill(0);
    }
    this.print('Starting Tableau Server...');
    await this.startServices();
    this.reportStart();
  }

  // ---------------------------------------------------------------- sites and extracts

  /** `tabcmd createsite <name>` */
  createSite(site: string): void {
    checkName('site', site);
    if (this.config.sites.includes(site)) throw new InputError(`site '${site}' already exists`);
    ensureDir(this.siteDir(site), 0o755);
    this.config.sites.push(site);
    this.saveConfig();
    this.print(`===== Create site '${site}' on the server...`);
    this.print('===== Succeeded');
  }

  /** Every extract of a site (or of all sites), with its header. */
  listExtracts(site?: string): ExtractInfo[] {
    const out: ExtractInfo[] = [];
    for (const s of site === undefined ? this.config.sites : [site]) {
      const d = this.siteDir(s);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).sort()) {
        if (!f.endsWith('.hyper') || f.startsWith('.')) continue;
        const path = join(d, f);
        out.push({ site: s, name: f.slice(0, -'.hyper'.length), path, header: readExtractHeader(path) });
      }
    }
    return out;
  }

  private pick(service: ServiceName): NodeConfig {
    const nodes = this.running(service);
    if (nodes.length === 0) {
      const why = this.config.nodes.map((n) => `${n.name}: ${n.services[service].state}${n.services[service].message ? ` (${n.services[service].message})` : ''}`);
      throw new EnvironmentError(`no ${service} is running on any node: ${why.join('; ')}`);
    }
    return nodes[0]!;
  }

  /** `tabcmd publish`: an extract from a file, or `size` random bytes, encrypted under the encryption MEK by a backgrounder. */
  async publish(site: string, name: string, from: { size: number } | { file: string }, o: { overwrite?: boolean } = {}): Promise<ExtractInfo> {
    this.requireSite(site);
    checkName('extract', name);
    this.requireRunning();
    const target = join(this.siteDir(site), `${name}.hyper`);
    if (existsSync(target) && !o.overwrite) throw new InputError(`extract '${name}' already exists on site '${site}': use --overwrite to replace it`);
    let src: { size: number; fill: (buf: Buffer, len: number) => void; close(): void };
    if ('file' in from) {
      if (!existsSync(from.file) || !statSync(from.file).isFile()) throw new InputError(`--from ${from.file}: expected a readable file`);
      const f = fileSource(from.file);
      src = { size: f.size, fill: f.source, close: f.close };
    } else {
      if (!Number.isSafeInteger(from.size) || from.size < 0) throw new InputError(`--size ${from.size}: expected a whole number of bytes`);
      src = { size: from.size, fill: randomSource(), close: () => {} };
    }
    const node = this.pick('backgrounder');
    const ctx: LogContext = { site, user: this.user, jobType: 'publish_extract', req: newRequestId() };
    try {
      const rmk = await this.rmkOn(node, ctx, ['backgrounder']);
      const mekRec = encryptionMek(this.storage);
      const mek = this.mekKey(mekRec, rmk);
      try {
        const ts = isoSeconds(this.now());
        const r = writeExtract(target, { site, name, mekId: mekRec.id, mek, plainSize: src.size, now: ts }, src.fill);
        this.logs.java(node.name, 'backgrounder', 'INFO', CLASSES.extractEncryption, `Encrypted extract ${r.header.extractId} (site '${site}', datasource '${name}', ${src.size} bytes) with MEK ${mekRec.id}`, ctx);
        this.print(`===== Publishing '${name}' to the server. This could take several minutes...`);
        this.print(`===== File successfully published to the server at the following location:`);
        this.print(`===== extracts/${site}/${name}.hyper (extract id ${r.header.extractId}, MEK ${mekRec.id}, SHA-256 ${r.sha256})`);
        return { site, name, path: target, header: r.header };
      } finally {
        mek.fill(0);
      }
    } finally {
      src.close();
    }
  }

  /** Opens (decrypts and verifies) an extract as a vizqlserver would; optionally writes the plaintext out. */
  async openExtract(site: string, name: string, o: { out?: string } = {}): Promise<OpenResult> {
    this.requireSite(site);
    checkName('extract', name);
    this.requireRunning();
    const path = join(this.siteDir(site), `${name}.hyper`);
    if (!existsSync(path)) throw new InputError(`extract '${name}' not found on site '${site}'`);
    const node = this.pick('vizqlserver');
    const ctx: LogContext = { site, user: this.user, req: newRequestId(), thread: 'catalina-exec-1' };
    const rmk = await this.rmkOn(node, ctx, ['vizqlserver']);
    let outFd: number | undefined;
    let outTmp: string | undefined;
    if (o.out !== undefined) {
      outTmp = tempPathFor(resolve(o.out));
      outFd = openSync(outTmp, 'wx', 0o600);
    }
    let bytes = 0;
    let mekId = '';
    try {
      const r = readExtractBody(
        path,
        (h) => {
          mekId = h.mekId;
          const mek = this.mekKey(this.mekById(h.mekId, path), rmk);
          try {
            return unwrapDataKey(h, mek, path);
          } finally {
            mek.fill(0);
          }
        },
        (chunk) => {
          bytes += chunk.length;
          if (outFd !== undefined) writeAll(outFd, chunk);
        },
      );
      if (outFd !== undefined) {
        fsyncSync(outFd);
        closeSync(outFd);
        outFd = undefined;
        renameDurable(outTmp!, resolve(o.out!));
      }
      this.logs.java(node.name, 'vizqlserver', 'INFO', CLASSES.extractEncryption, `Decrypted extract ${r.header.extractId} (site '${site}', datasource '${name}') with MEK ${mekId}`, ctx);
      this.logs.native(node.name, 'info', 'kms-decrypt-extract', { 'extract-id': r.header.extractId, 'mek-id': mekId, 'rmk-id': this.storage.rmk.id, bytes }, ctx);
      this.print(`Extract ${site}/${name}: ${bytes} bytes, extract id ${r.header.extractId}, MEK ${mekId}, SHA-256 ${r.sha256}`);
      return { header: r.header, sha256: r.sha256, bytes };
    } catch (err) {
      this.logs.native(node.name, 'error', 'kms-decrypt-extract-error', { extract: `${site}/${name}`, error: (err as Error).message }, ctx);
      throw err;
    } finally {
      if (outFd !== undefined) closeSync(outFd);
      if (outTmp !== undefined && existsSync(outTmp)) removeQuietly(outTmp);
    }
  }

  /**
   * `tabcmd reencryptextracts <site>`: every extract of the site re-encrypted, streamed, under
   * a fresh data key wrapped by the encryption MEK. Crash-safe: each extract is replaced by
   * rename, and a journal (jobs/reencrypt-<site>.json) lets a rerun resume; an extract already
   * under the encryption MEK is skipped, so a rerun finishes the job whatever was killed.
   * KMS: none while the backgrounder holds the RMK (a running SimCluster); a fresh process's
   * backgrounder decrypts it once.
   */
  async reencryptExtracts(site: string): Promise<ReencryptResult> {
    this.requireSite(site);
    this.requireRunning();
    this.print(`Scheduling extracts on site ${site} to be reencrypted...`);
    const node = this.pick('backgrounder');
    const journalPath = join(this.dir, LAYOUT.jobsDir, `reencrypt-${encodeURIComponent(site)}.json`);
    ensureDir(join(this.dir, LAYOUT.jobsDir), 0o755);
    const previous = readJournal<{ jobId: number; site: string; targetMekId: string; startedAt: string }>(journalPath);
    const jobId = previous?.jobId ?? this.nextJob();
    this.print('Job queued');
    const target = encryptionMek(this.storage);
    writeFileAtomic(journalPath, JSON.stringify({ jobId, site, node: node.name, targetMekId: target.id, startedAt: previous?.startedAt ?? isoSeconds(this.now()) }), 0o644);
    const ctx: LogContext = { site, user: this.user, jobId, jobType: 'reencrypt_extracts', req: randomUUID() };
    this.logs.java(node.name, 'backgrounder', 'INFO', CLASSES.jobRunner, `Running job of type ReencryptExtracts; no timeout; priority: 0; id: ${jobId}; args: [${site}]`, ctx);
    if (previous) this.logs.java(node.name, 'backgrounder', 'WARN', CLASSES.jobRunner, `Resuming job ${jobId}, interrupted before it finished`, ctx);
    const started = Date.now();
    sweepTempFiles(this.siteDir(site));
    const mekCache = new Map<string, Buffer>();
    let mek: Buffer | undefined;
    let done = 0;
    let current = 0;
    const failed = (err: unknown): never => {
      const secs = Math.round((Date.now() - started) / 1000);
      this.logs.java(
        node.name,
        'backgrounder',
        'ERROR',
        CLASSES.jobRunner,
        `Job finished: FAILED; name: Reencrypt Extracts; type :reencrypt_extracts; id: ${jobId}; notes: ${(err as Error).message}; total time: ${secs} sec; run time: ${secs} sec`,
        ctx,
      );
      this.print(`Job ${jobId} finished: FAILED: ${(err as Error).message} (${done} re-encrypted before the failure; rerun to resume)`);
      throw err;
    };
    // One extract's commit (fsync, rename) overlaps the next one's cipher work: at most one
    // commit in flight. Each extract is still logged only once its rename is durable.
    let committing: Promise<void> = Promise.resolve();
    let reencryptor: Reencryptor | undefined; // its worker thread starts with the first extract to do
    try {
      // A backgrounder that cannot open KMS storage fails the job (logged), the journal stays.
      const rmk = await this.rmkOn(node, ctx, ['backgrounder']);
      const targetKey = (mek = this.mekKey(target, rmk));
      for (const x of this.listExtracts(site)) {
        if (x.header.mekId === target.id) {
          current++;
          continue;
        }
        const ts = isoSeconds(this.now());
        const streamed = await streamReencryption(
          (reencryptor ??= new Reencryptor()),
          x.path,
          (h) => {
            let k = mekCache.get(h.mekId);
            if (!k) {
              k = this.mekKey(this.mekById(h.mekId, x.path), rmk);
              mekCache.set(h.mekId, k);
            }
            return unwrapDataKey(h, k, x.path);
          },
          { mekId: target.id, mek: targetKey, now: ts },
        );
        const previousCommit = committing;
        committing = streamed.committed.then((r) => {
          done++;
          this.logs.java(node.name, 'backgrounder', 'INFO', CLASSES.extractEncryption, `Re-encrypted extract ${r.after.extractId} (site '${site}', datasource '${x.name}') from MEK ${r.before.mekId} to MEK ${target.id}`, ctx);
        });
        committing.catch(() => {}); // awaited below, or settled in the catch
        await previousCommit;
      }
      await committing;
    } catch (err) {
      await committing.catch(() => {}); // nothing may still be writing when the job reports
      failed(err);
    } finally {
      mek?.fill(0);
      for (const k of mekCache.values()) k.fill(0);
      await reencryptor?.close();
    }
    rmSync(journalPath, { force: true });
    syncFolder(join(this.dir, LAYOUT.jobsDir));
    const secs = Math.round((Date.now() - started) / 1000);
    this.logs.java(
      node.name,
      'backgrounder',
      'INFO',
      CLASSES.jobRunner,
      `Job finished: SUCCESS; name: Reencrypt Extracts; type :reencrypt_extracts; id: ${jobId}; notes: ${done} re-encrypted, ${current} already current; total time: ${secs} sec; run time: ${secs} sec`,
      ctx,
    );
    this.print(`Job ${jobId} finished: SUCCESS: ${done} extract${done === 1 ? '' : 's'} on site ${site} re-encrypted under MEK ${target.id}${current ? `, ${current} already under it` : ''}${previous ? ' (resumed an interrupted run)' : ''}`);
    return { jobId, node: node.name, site, mekId: target.id, reencrypted: done, alreadyCurrent: current, resumed: previous !== undefined };
  }

  // ---------------------------------------------------------------- backup and restore (KMS-10, KMS-11)

  /** `tsm maintenance backup -f <file>`: no key is opened, none is written in plaintext; no KMS request. */
  async backup(file: string): Promise<BackupManifest> {
    this.requireRunning();
    const jobId = this.jobHeader();
    const ctx: LogContext = { jobId, jobType: 'backup', user: this.user, req: newRequestId() };
    const target = resolve(file);
    if (existsSync(target)) throw new InputError(`-f ${file}: the file exists; choose another name`);
    this.print('Backing up the repository, file store and KMS storage...');
    const c = this.config;
    const manifest = writeBackup(
      target,
      {
        createdAt: isoSeconds(this.now()),
        clusterId: c.clusterId,
        cluster: { licence: c.licence, region: c.region, initialNode: c.initialNode, nodes: c.nodes.map((n) => ({ name: n.name, platform: n.platform, role: n.role })), sites: [...c.sites] },
        kms: this.storage,
      },
      this.listExtracts().map((x) => ({ site: x.site, name: x.name, path: x.path })),
    );
    this.logs.java(this.initial.name, 'tabadmincontroller', 'INFO', CLASSES.tsmBackup, `Backup ${manifest.backupId} written to ${target}: RMK ${this.storage.rmk.id} (wrapped), ${this.storage.meks.length} MEKs (wrapped), ${manifest.extracts.length} extracts`, ctx);
    this.print(`Backup written to '${target}'.`);
    return manifest;
  }

  /**
   * `tsm maintenance restore -f <file>` (KMS-11), server stopped. The backup's RMK is opened
   * with its own CMK (one Decrypt by the initial node; without access nothing changes), its
   * MEKs are imported decryption-only, the RMK is not migrated: a new RMK is made (AWS mode:
   * one GenerateDataKey on this cluster's CMK; local mode: sealed under the local keystore),
   * with a new encryption MEK. Crash-safe: staged, then committed through a journal.
   */
  async restore(file: string): Promise<void> {
    if (this.config.server !== 'stopped') throw new InputError("Tableau Server must be stopped before a restore: run 'tsm stop' first");
    const reader = BackupReader.open(resolve(file));
    const staging = join(this.dir, LAYOUT.restoreStaging);
    try {
      const m = reader.manifest;
      const init = this.initial;
      const jobId = this.jobHeader();
      const ctx: LogContext = { jobId, jobType: 'restore', user: this.user, req: newRequestId() };
      this.print(`Restoring from '${resolve(file)}' (backup ${m.backupId} of ${m.createdAt})...`);
      for (const s of m.cluster.sites) checkName('site', s);

      // 1. The backup's RMK and MEKs, opened before anything changes.
      const src = m.kms;
      let backupRmk: Buffer;
      try {
        backupRmk = await this.openRmk(init, src.rmk);
      } catch (err) {
        // AWS's messages end with a full stop ("… is disabled."): one before "Nothing was changed" is enough.
        const why = (err instanceof KmsCallError ? `${err.failure.code}: ${err.failure.message}` : (err as Error).message).replace(/\.$/, '');
        const msg =
          src.rmk.wrappedBy === 'aws-kms'
            ? `restore needs access to the backup's CMK: ${init.name} (role ${init.role.name}) cannot kms:Decrypt the backup's RMK ${src.rmk.id} with CMK ${src.rmk.cmkArn}: ${why}. Nothing was changed.`
            : `the backup's RMK ${src.rmk.id} is sealed under another cluster's local keystore (${src.rmk.rootId}): ${why}. Nothing was changed.`;
        this.logs.java(init.name, 'tabadmincontroller', 'ERROR', CLASSES.tsmBackup, `Restore failed: ${msg}`, ctx);
        if (err instanceof KmsCallError) throw new KmsCallError(err.node, err.role, err.action, err.key, { ...err.failure, message: msg });
        throw err instanceof EnvironmentError ? new EnvironmentError(msg) : new InputError(msg);
      }
      const imported: { rec: MekRecord; key: Buffer }[] = [];
      let newRmk: Buffer | undefined;
      try {
        for (const rec of src.meks) {
          try {
            imported.push({ rec, key: unwrapMek(rec, src.rmk.id, backupRmk, `${file}: manifest`) });
          } catch (err) {
            throw new InputError(`${(err as Error).message}. Nothing was changed.`);
          }
        }

        // 2. A new RMK for this cluster (the backup's is not migrated).
        const ts = isoSeconds(this.now());
        const generated = await this.generateRmk(init, ts);
        newRmk = generated.key;
        const rmk = generated.rmk;
        const rmkId = rmk.id;
        const meks: MekRecord[] = imported.map(({ rec, key }) => ({
          id: rec.id,
          state: 'decryption-only',
          createdAt: rec.createdAt,
          firstEncryptDecryptAt: rec.firstEncryptDecryptAt,
          decryptOnlyAt: rec.decryptOnlyAt ?? ts,
          rmkId,
          sealed: wrapMek(rec.id, key, rmkId, newRmk!),
          importedFrom: m.backupId,
        }));
        const fresh = newEncryptionMek(rmkId, newRmk, ts);
        fresh.key.fill(0);
        const next: KmsStorage = { ...this.storage, rmk, meks: [...meks, fresh.record], generation: this.storage.generation + 1, updatedAt: ts };

        // 3. Stage the extracts and the new storage, verifying the backup's checksum.
        removeQuietly(staging);
        ensureDir(join(staging, 'extracts'), 0o755);
        for (const s of m.cluster.sites) ensureDir(join(staging, 'extracts', s), 0o755);
        const known = new Set(src.meks.map((x) => x.id));
        let staged: number | undefined; // the extract file being written; closed below if the stream fails
        try {
          reader.readExtracts((site, name, size) => {
            checkName('site', site);
            checkName('extract', name);
            const path = join(staging, 'extracts', site, `${name}.hyper`);
            ensureDir(join(staging, 'extracts', site), 0o755);
            const fd = (staged = openSync(path, 'wx', 0o640));
            let written = 0;
            return {
              write(chunk) {
                writeAll(fd, chunk);
                written += chunk.length;
              },
              done() {
                fsyncSync(fd);
                staged = undefined;
                closeSync(fd);
                if (written !== size) throw new InputError(`${file}: extract ${site}/${name}: expected ${size} bytes, got ${written}`);
                const h = readExtractHeader(path);
                if (!known.has(h.mekId)) throw new InputError(`${file}: extract ${site}/${name} is under MEK ${h.mekId}, which the backup does not hold`);
              },
            };
          });
        } finally {
          if (staged !== undefined) closeSync(staged);
        }
        writeFileAtomic(join(staging, 'kms.json'), `${JSON.stringify(next, null, 2)}\n`, 0o600);
        syncFolder(staging);

        // 4. Commit.
        const journal: RestoreJournal = { backupId: m.backupId, sites: m.cluster.sites, committedAt: ts };
        writeFileAtomic(join(this.dir, LAYOUT.restoreJournal), JSON.stringify(journal), 0o644);
        applyRestore(this.dir, journal, (c) => this.applySites(c));
        this.config = readConfig(this.dir);
        this.storage = readStorage(this.dir);
        this.forgetKeys();
        this.logs.java(
          init.name,
          'tabadmincontroller',
          'INFO',
          CLASSES.tsmBackup,
          `Restored backup ${m.backupId}: imported ${meks.length} MEKs as decryption-only, new RMK ${rmkId}, new encryption MEK ${fresh.record.id}, ${m.extracts.length} extracts`,
          ctx,
        );
        this.print(`Restored ${m.extracts.length} extracts; imported ${meks.length} master extract keys as decryption-only; new RMK ${rmkId}; new encryption MEK ${fresh.record.id}.`);
        this.print("Restore complete. Run 'tsm start' to start Tableau Server.");
      } catch (err) {
        if (!existsSync(join(this.dir, LAYOUT.restoreJournal))) removeQuietly(staging);
        throw err;
      } finally {
        backupRmk.fill(0);
        newRmk?.fill(0);
        for (const x of imported) x.key.fill(0);
      }
    } finally {
      reader.close();
    }
  }

  /** Replaces the site list in cluster.json (idempotent; used by the restore journal). */
  private applySites(sites: string[]): void {
    const c = readConfig(this.dir);
    c.sites = [...sites];
    writeConfig(this.dir, c);
  }

  // ---------------------------------------------------------------- node roles

  /**
   * Changes a node's instance role or what its IAM policy allows (the AWS side; takes effect at
   * the node's next KMS call). `kmsKeyArn` scopes the policy to that CMK; null makes it "*" again.
   */
  setNodeRole(name: string, o: { roleName?: string; allowGenerateDataKey?: boolean; allowDecrypt?: boolean; kmsKeyArn?: string | null; platform?: NodeConfig['platform'] }): NodeConfig {
    const n = this.node(name);
    if (o.roleName !== undefined) n.role.name = o.roleName;
    if (o.allowGenerateDataKey !== undefined) n.role.allowsGenerateDataKey = o.allowGenerateDataKey;
    if (o.allowDecrypt !== undefined) n.role.allowsDecrypt = o.allowDecrypt;
    if (o.kmsKeyArn === null) delete n.role.kmsKeyArn;
    else if (o.kmsKeyArn !== undefined) n.role.kmsKeyArn = parseCmkArn(o.kmsKeyArn).arn;
    if (o.platform !== undefined) n.platform = o.platform;
    this.saveConfig();
    for (const [k, c] of this.clients) {
      if (k.startsWith(`${name}|`)) {
        c.destroy();
        this.clients.delete(k);
      }
    }
    return structuredClone(n);
  }
}
