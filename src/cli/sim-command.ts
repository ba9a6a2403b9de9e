// `cryptgate sim <dir> …`: drive a persistent simulated cluster by hand, with the command
// lines its administrators know (tsm, tabcmd, and enough of `aws kms` to make a CMK).
//
// Each invocation is one process, as each real tsm/tabcmd call is: it opens the cluster
// folder (taking its lock), reaches AWS KMS as cluster.json says (by default an embedded KMS
// whose state lives in <dir>/aws-kms, started in this process for the command's duration,
// with one access key per node mapped to the node's instance role and IAM policy), runs the
// command and closes everything. Services' memory does not outlive the process: see
// simulators/cluster/README.md for what that means for KMS request counts.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  PutKeyPolicyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { startEmbeddedKms, type EmbeddedKms } from '../../simulators/kms/index.js';
import {
  embeddedKmsAccess,
  endpointKmsAccess,
  initCluster,
  SimCluster,
  type KmsAccess,
  type ClusterConfig,
  type Licence,
  type Platform,
} from '../../simulators/cluster/index.js';
import { describeKmsError } from '../../simulators/cluster/kms-access.js';
import { readConfig } from '../../simulators/cluster/config.js';
import { readStorage } from '../../simulators/cluster/kms-storage.js';
import { EXIT_ENVIRONMENT, EnvironmentError, InputError } from '../util/errors.js';
import { envCredentials, kmsClient, TEST_CREDENTIALS } from '../kms/client.js';
import type { CommandResult } from './main.js';
import { simWireCapture } from './sim-wire.js';

interface SimGlobalOptions {
  kmsEndpoint?: string;
  showKmsRequests?: boolean;
}

export function registerSimCommand(program: Command, result: CommandResult): void {
  // `sim <dir> <tool> …` hands everything after <dir> to its own parser.
  program.enablePositionalOptions();
  program
    .command('sim')
    .description('drive a persistent simulated cluster: init, tsm …, tabcmd …, aws kms …')
    .argument('<dir>', 'the cluster folder')
    .argument('[command...]', 'init | tsm … | tabcmd … | node … | aws kms …')
    .option('--kms-endpoint <url>', 'reach AWS KMS at this endpoint (moto_server, LocalStack, AWS) instead of what cluster.json says')
    .option('--show-kms-requests', 'print the KMS requests the command made (embedded KMS only) on stderr')
    .passThroughOptions()
    .allowUnknownOption()
    .helpOption('-h, --help', 'help for sim (use `cryptgate sim <dir> help` for its commands)')
    .addHelpText(
      'after',
      `
Commands (after <dir>):
  init [--nodes N] [--licence advanced-management|none] [--platform ec2|on-prem|azure] [--region R]
  tsm status [-v] | tsm start | tsm stop
  tsm security kms set-mode aws --aws-region R --key-arn ARN | tsm security kms set-mode local
  tsm security kms status
  tsm security regenerate-internal-tokens
  tsm maintenance backup -f FILE | tsm maintenance restore -f FILE
  tabcmd publish SITE NAME (--size BYTES | --from FILE) [--overwrite]
  tabcmd open SITE NAME [--out FILE] | tabcmd reencryptextracts SITE | tabcmd createsite SITE
  wire capture --out FILE [--seconds N] [--format pcap|pcapng] [--seed S] [--nat-traversal] [--external-clients N]
  node set-role NODE [--role-name R] [--decrypt allow|deny] [--generate-data-key allow|deny] [--kms-key-arn ARN|any]
  aws kms create-key|describe-key|enable-key|disable-key|schedule-key-deletion|cancel-key-deletion|rotate-key-on-demand|get-key-policy|put-key-policy

Example (the KMS-8 multi-node pitfall):
  cryptgate sim c init --nodes 2 --licence advanced-management
  cryptgate sim c aws kms create-key            # prints the CMK ARN
  cryptgate sim c node set-role node2 --decrypt deny
  cryptgate sim c tsm security kms set-mode aws --aws-region us-east-1 --key-arn <ARN>
  cryptgate sim c tsm security kms status       # Status: OK (node1 only)
  cryptgate sim c tsm status -v                 # node2's services in Error`,
    )
    .action(async (dir: string, rest: string[], opts: SimGlobalOptions) => {
      result.exitCode = await runSim(dir, rest, opts);
    });
}

/** Where command output goes: stdout, unless runSim was given a sink (tests). */
let sink: (text: string) => void = (text) => {
  process.stdout.write(text);
};
const write = (text: string): void => sink(text);
const out = (line: string): void => write(`${line}\n`);

/** One `cryptgate sim <dir> …` invocation; returns the exit code. */
export async function runSim(dirArg: string, argv: string[], g: SimGlobalOptions = {}, io: { write?: (text: string) => void } = {}): Promise<number> {
  const dir = resolve(dirArg);
  const previous = sink;
  if (io.write) sink = io.write;
  try {
    return await runSimInner(dir, argv, g);
  } finally {
    sink = previous;
  }
}

async function runSimInner(dir: string, argv: string[], g: SimGlobalOptions): Promise<number> {
  let exitCode = 0;
  let pending: ((inner: Command) => Promise<void>) | undefined;
  const inner = buildInner(dir, g, (fn) => {
    pending = fn;
  });
  await inner.parseAsync(argv, { from: 'user' });
  if (pending) {
    const code = await withContext(dir, g, async (ctx) => {
      await pending!(inner);
      return ctx.exitCode;
    });
    exitCode = code;
  }
  return exitCode;
}

interface RunContext {
  cluster?: SimCluster;
  exitCode: number;
}

let current: { dir: string; g: SimGlobalOptions; ctx: RunContext; kms?: EmbeddedKms; access?: KmsAccess; admin?: () => KMSClient } | undefined;

async function withContext(dir: string, g: SimGlobalOptions, fn: (ctx: RunContext) => Promise<number>): Promise<number> {
  const ctx: RunContext = { exitCode: 0 };
  current = { dir, g, ctx };
  try {
    return await fn(ctx);
  } finally {
    const c = current;
    current = undefined;
    c?.ctx.cluster?.close();
    if (c?.kms) {
      if (g.showKmsRequests) {
        const k = c.kms.counters();
        const ops = Object.entries(k.byOperation)
          .map(([op, n]) => `${op}=${n}`)
          .join(' ');
        process.stderr.write(`KMS requests: ${k.total}${ops ? ` (${ops})` : ''}\n`);
      }
      await c.kms.stop();
    }
  }
}

/** The KMS the CLI reaches for this cluster (started lazily, once per process). */
async function kmsAccess(config: ClusterConfig): Promise<{ access: KmsAccess; admin: () => KMSClient }> {
  const c = current!;
  if (c.access && c.admin) return { access: c.access, admin: c.admin };
  const endpoint = c.g.kmsEndpoint ?? (config.kmsBackend.kind === 'endpoint' ? config.kmsBackend.url : undefined);
  if (endpoint !== undefined) {
    if (!/^https?:\/\//.test(endpoint)) throw new InputError(`--kms-endpoint ${endpoint}: expected an http:// or https:// URL`);
    const creds = envCredentials() ?? TEST_CREDENTIALS;
    c.access = endpointKmsAccess(endpoint, config.region, creds);
    c.admin = () => kmsClient({ endpoint, region: config.region, credentials: creds, maxAttempts: 3 });
  } else {
    const b = config.kmsBackend as { kind: 'embedded'; stateDir: string };
    const stateDir = isAbsolute(b.stateDir) ? b.stateDir : join(c.dir, b.stateDir);
    c.kms = await startEmbeddedKms({ port: 0, stateDir, region: config.region });
    const kms = c.kms;
    c.access = embeddedKmsAccess(kms, config.nodes);
    c.admin = () => kmsClient({ endpoint: kms.endpoint, region: config.region, credentials: TEST_CREDENTIALS, maxAttempts: 3 });
  }
  return { access: c.access, admin: c.admin };
}

/** Opens the cluster, with KMS access when the command may need it. */
async function openCluster(needKms: boolean | 'if-aws'): Promise<SimCluster> {
  const c = current!;
  const config = readConfig(c.dir);
  let want = needKms === true;
  if (needKms === 'if-aws') {
    try {
      want = readStorage(c.dir).mode === 'aws';
    } catch {
      want = false; // SimCluster.open reports what is wrong
    }
  }
  const access = want ? (await kmsAccess(config)).access : undefined;
  const cluster = await SimCluster.open(c.dir, { ...(access ? { kms: access } : {}), print: out });
  c.ctx.cluster = cluster;
  return cluster;
}

function choice<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new InputError(`${flag} ${value}: expected one of ${allowed.join(', ')}`);
  return value as T;
}

function intArg(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new InputError(`${flag} ${v}: expected a whole number`);
  return Number(v);
}

function allowDeny(flag: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return choice(flag, v, ['allow', 'deny'] as const) === 'allow';
}

function printJson(v: unknown): void {
  out(JSON.stringify(v, (_k, x: unknown) => (x instanceof Date ? x.toISOString() : x), 2));
}

function buildInner(dir: string, g: SimGlobalOptions, run: (fn: (inner: Command) => Promise<void>) => void): Command {
  const inner = new Command(`cryptgate sim ${dir}`);
  inner.exitOverride();
  inner.configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => write(s) });
  inner.showHelpAfterError('(run `cryptgate sim <dir> help` for the commands)');

  inner
    .command('init')
    .description('create a simulated cluster in the folder')
    .option('--nodes <n>', 'number of nodes', '1')
    .option('--licence <licence>', 'advanced-management or none', 'none')
    .option('--platform <platform>', 'ec2, on-prem or azure (every node)', 'ec2')
    .option('--region <region>', "the cluster's AWS region", 'us-east-1')
    .option('--role-name <name>', 'one instance role for every node (default: tableau-server-node<N>)')
    .option('--kms-state <dir>', "the embedded KMS's state folder (default <dir>/aws-kms); share it between clusters to share CMKs")
    .action((o: { nodes: string; licence: string; platform: string; region: string; roleName?: string; kmsState?: string }) => {
      run(async () => {
        const config = await initCluster(dir, {
          nodes: intArg('--nodes', o.nodes),
          licence: choice('--licence', o.licence, ['advanced-management', 'none'] as const satisfies readonly Licence[]),
          platform: choice('--platform', o.platform, ['ec2', 'on-prem', 'azure'] as const satisfies readonly Platform[]),
          region: o.region,
          ...(o.roleName !== undefined ? { roleName: o.roleName } : {}),
          kmsBackend: g.kmsEndpoint !== undefined ? { kind: 'endpoint', url: g.kmsEndpoint } : { kind: 'embedded', stateDir: o.kmsState !== undefined ? resolve(o.kmsState) : 'aws-kms' },
        });
        out(`Initialized a ${config.nodes.length}-node cluster in ${dir} (licence ${config.licence}, platform ${o.platform}, region ${config.region}, KMS mode local).`);
        out(`Initial node: ${config.initialNode} (Tableau Server Administration Controller). Site: Default.`);
      });
    });

  // ---- tsm
  const tsm = inner.command('tsm').description('Tableau Services Manager');
  tsm
    .command('status')
    .option('-v, --verbose', 'per node and service')
    .action((o: { verbose?: boolean }) => {
      run(async () => {
        const c = await openCluster(false);
        write(c.statusText(o.verbose === true));
      });
    });
  tsm.command('start').action(() => run(async () => (await openCluster('if-aws')).start()));
  tsm.command('stop').action(() => run(async () => (await openCluster(false)).stop()));

  const security = tsm.command('security');
  const kms = security.command('kms');
  kms
    .command('set-mode')
    .argument('<mode>', 'aws or local')
    .option('--aws-region <region>', 'the region of the CMK')
    .option('--key-arn <arn>', 'the CMK ARN: arn:aws:kms:<region>:<account>:key/<key-id>')
    .action((mode: string, o: { awsRegion?: string; keyArn?: string }) => {
      run(async () => {
        const m = choice('set-mode', mode, ['aws', 'local'] as const);
        if (m === 'aws') {
          if (!o.awsRegion) throw new InputError('set-mode aws: --aws-region is required');
          if (!o.keyArn) throw new InputError('set-mode aws: --key-arn is required');
          const c = await openCluster(true);
          await c.setModeAws({ region: o.awsRegion, keyArn: o.keyArn });
        } else {
          const c = await openCluster('if-aws');
          await c.setModeLocal();
        }
      });
    });
  kms.command('status').action(() =>
    run(async () => {
      const c = await openCluster('if-aws');
      const s = await c.kmsStatus();
      write(s.text);
      if (!s.ok) current!.ctx.exitCode = EXIT_ENVIRONMENT;
    }),
  );
  security.command('regenerate-internal-tokens').action(() => run(async () => (await openCluster('if-aws')).regenerateInternalTokens()));

  const maintenance = tsm.command('maintenance');
  maintenance
    .command('backup')
    .requiredOption('-f, --file <file>', 'the backup file to write')
    .action((o: { file: string }) => run(async () => void (await (await openCluster(false)).backup(o.file))));
  maintenance
    .command('restore')
    .requiredOption('-f, --file <file>', 'the backup file to restore')
    .action((o: { file: string }) =>
      run(async () => {
        // The backup's RMK may be a CMK ciphertext even when this cluster is in local mode.
        const c = await openCluster(true);
        await c.restore(o.file);
      }),
    );

  // ---- tabcmd
  const tabcmd = inner.command('tabcmd').description('Tableau Server command line (tabcmd)');
  tabcmd
    .command('reencryptextracts')
    .argument('<site>', 'the site name, e.g. Default')
    .action((site: string) => run(async () => void (await (await openCluster('if-aws')).reencryptExtracts(site))));
  tabcmd
    .command('publish')
    .argument('<site>')
    .argument('<name>')
    .addOption(new Option('--size <bytes>', 'publish this many random bytes').conflicts('from'))
    .option('--from <file>', 'publish the content of this file')
    .option('--overwrite', 'replace an extract of the same name')
    .action((site: string, name: string, o: { size?: string; from?: string; overwrite?: boolean }) =>
      run(async () => {
        if (o.size === undefined && o.from === undefined) throw new InputError('publish: give --size <bytes> or --from <file>');
        const src = o.from !== undefined ? { file: resolve(o.from) } : { size: intArg('--size', o.size!) };
        await (await openCluster('if-aws')).publish(site, name, src, { overwrite: o.overwrite === true });
      }),
    );
  tabcmd
    .command('open')
    .argument('<site>')
    .argument('<name>')
    .option('--out <file>', 'write the decrypted extract here')
    .action((site: string, name: string, o: { out?: string }) =>
      run(async () => void (await (await openCluster('if-aws')).openExtract(site, name, o.out !== undefined ? { out: o.out } : {}))),
    );
  tabcmd
    .command('createsite')
    .argument('<site>')
    .action((site: string) => run(async () => (await openCluster(false)).createSite(site)));

  // ---- node roles (the AWS side of KMS-3)
  inner
    .command('node')
    .command('set-role')
    .argument('<node>', 'e.g. node2')
    .option('--role-name <name>', "the node's instance role")
    .option('--decrypt <allow|deny>', 'whether the role policy allows kms:Decrypt')
    .option('--generate-data-key <allow|deny>', 'whether the role policy allows kms:GenerateDataKey')
    .option('--kms-key-arn <arn|any>', 'the CMK the role policy grants those actions on (KMS-3 least privilege); "any" for Resource "*"')
    .action((node: string, o: { roleName?: string; decrypt?: string; generateDataKey?: string; kmsKeyArn?: string }) =>
      run(async () => {
        const c = await openCluster(false);
        const d = allowDeny('--decrypt', o.decrypt);
        const gk = allowDeny('--generate-data-key', o.generateDataKey);
        const key = o.kmsKeyArn === undefined ? {} : { kmsKeyArn: o.kmsKeyArn === 'any' ? null : o.kmsKeyArn };
        const n = c.setNodeRole(node, { ...(o.roleName !== undefined ? { roleName: o.roleName } : {}), ...(d !== undefined ? { allowDecrypt: d } : {}), ...(gk !== undefined ? { allowGenerateDataKey: gk } : {}), ...key });
        out(`${n.name}: role ${n.role.name}; kms:GenerateDataKey ${n.role.allowsGenerateDataKey ? 'allowed' : 'denied'}; kms:Decrypt ${n.role.allowsDecrypt ? 'allowed' : 'denied'}; on ${n.role.kmsKeyArn ?? 'any key ("*")'}`);
      }),
    );

  // ---- the network: service traffic under the nodes' IPsec policy, captured at the switch (sim-wire.ts)
  inner
    .command('wire')
    .command('capture')
    .requiredOption('--out <file>', 'the capture file to write')
    .option('--seconds <n>', 'seconds of traffic', '10')
    .addOption(new Option('--format <format>', 'capture format').choices(['pcap', 'pcapng']).default('pcap'))
    .option('--seed <seed>', 'the same seed gives the same capture, byte for byte', 'cryptgate')
    .option('--nat-traversal', 'UDP-encapsulate IKE and ESP on port 4500 (RFC 3948)')
    .option('--external-clients <n>', 'clients browsing the gateway over TLS on 443', '0')
    .action((o: { out: string; seconds: string; format: 'pcap' | 'pcapng'; seed: string; natTraversal?: boolean; externalClients: string }) =>
      run(async () => {
        const seconds = intArg('--seconds', o.seconds);
        if (seconds < 1 || seconds > 3600) throw new InputError(`--seconds ${o.seconds}: expected 1..3600`);
        for (const line of simWireCapture(dir, { out: o.out, seconds, format: o.format, seed: o.seed, natTraversal: o.natTraversal === true, externalClients: intArg('--external-clients', o.externalClients) })) out(line);
      }),
    );

  // ---- aws kms (administrator, on the cluster's KMS)
  const awsKms = inner.command('aws').command('kms');
  const adminCall = async <T>(what: string, fn: (k: KMSClient) => Promise<T>): Promise<T> => {
    const { admin } = await kmsAccess(readConfig(dir));
    const k = admin();
    try {
      return await fn(k);
    } catch (err) {
      const f = describeKmsError(err);
      throw new EnvironmentError(`aws kms ${what}: ${f.code}: ${f.message}`);
    } finally {
      k.destroy();
    }
  };
  const policyText = (v: string): string => {
    const path = v.startsWith('file://') ? v.slice(7) : undefined;
    if (path === undefined) return v;
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError(`--policy ${v}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  awsKms
    .command('create-key')
    .option('--description <text>')
    .option('--policy <json|file://path>')
    .action((o: { description?: string; policy?: string }) =>
      run(async () => {
        const r = await adminCall('create-key', (k) => k.send(new CreateKeyCommand({ ...(o.description ? { Description: o.description } : {}), ...(o.policy ? { Policy: policyText(o.policy) } : {}) })));
        printJson({ KeyMetadata: r.KeyMetadata });
      }),
    );
  for (const [name, make] of [
    ['describe-key', (id: string) => new DescribeKeyCommand({ KeyId: id })],
    ['enable-key', (id: string) => new EnableKeyCommand({ KeyId: id })],
    ['disable-key', (id: string) => new DisableKeyCommand({ KeyId: id })],
    ['cancel-key-deletion', (id: string) => new CancelKeyDeletionCommand({ KeyId: id })],
    ['rotate-key-on-demand', (id: string) => new RotateKeyOnDemandCommand({ KeyId: id })],
    ['get-key-policy', (id: string) => new GetKeyPolicyCommand({ KeyId: id, PolicyName: 'default' })],
  ] as const) {
    awsKms
      .command(name)
      .requiredOption('--key-id <id>', 'key id or ARN')
      .action((o: { keyId: string }) =>
        run(async () => {
          const r = (await adminCall(name, (k) => k.send(make(o.keyId) as never))) as unknown as Record<string, unknown>;
          const { $metadata: _m, ...rest } = r;
          if (Object.keys(rest).length > 0) printJson(rest);
        }),
      );
  }
  awsKms
    .command('schedule-key-deletion')
    .requiredOption('--key-id <id>')
    .option('--pending-window-in-days <days>', '7 to 30', '30')
    .action((o: { keyId: string; pendingWindowInDays: string }) =>
      run(async () => {
        const r = await adminCall('schedule-key-deletion', (k) => k.send(new ScheduleKeyDeletionCommand({ KeyId: o.keyId, PendingWindowInDays: intArg('--pending-window-in-days', o.pendingWindowInDays) })));
        const { $metadata: _m, ...rest } = r;
        printJson(rest);
      }),
    );
  awsKms
    .command('put-key-policy')
    .requiredOption('--key-id <id>')
    .requiredOption('--policy <json|file://path>')
    .option('--bypass-policy-lockout-safety-check')
    .action((o: { keyId: string; policy: string; bypassPolicyLockoutSafetyCheck?: boolean }) =>
      run(async () => {
        await adminCall('put-key-policy', (k) =>
          k.send(new PutKeyPolicyCommand({ KeyId: o.keyId, PolicyName: 'default', Policy: policyText(o.policy), BypassPolicyLockoutSafetyCheck: o.bypassPolicyLockoutSafetyCheck === true })),
        );
      }),
    );

  return inner;
}
