// The live wire: builds the plan's cluster out of network namespaces on a bridge, runs a
// real strongSwan charon per node configured from the plan, negotiates every pair, sends
// the service flows over real TCP, and leaves what tcpdump saw on the bridge (plus every
// node's charon log, its swanctl.conf with the keys redacted, and run.json) in the
// evidence folder. Judging the capture is the caller's business, with the same judge as
// any capture: this module never says whether the cluster complied.
//
// Cleanup is unconditional: errors, Ctrl-C/SIGTERM (synchronous teardown in the signal
// handler) and process exit all remove the namespaces, the processes in them and the
// private work folder (which holds the pre-shared keys).
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../../src/util/errors.js';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import type { LiveTools } from './availability.js';
import { CharonNode, charonFiles } from './charon.js';
import { LiveTopology, sweepStaleRuns } from './netns.js';
import { describeEsp, describeIke, initiatorOf, liveUnsupported, silentResponder, validateLivePlan, type LivePair, type LivePlan } from './plan.js';
import { Daemon, sleep, waitUntil } from './process-kit.js';
import { connectionName, strongswanConf, swanctlConf, type Side } from './swanctl.js';
import { policyRoutingCommands } from './policy-routing.js';
import { BridgeCapture, type CaptureStats } from './tcpdump.js';
import { pcapToPcapng } from './pcapng.js';
import { runFlows, seedNumber, startListeners, type FlowResult } from './traffic.js';

export interface LiveRunOptions {
  tools: LiveTools;
  /** The scenario's evidence folder (created if missing). */
  evidenceDir: string;
  seed: number | string;
  /** Base name of the evidence files: <name>.pcap (or .pcapng) and <name>-live/. Default 'live-wire'. */
  name?: string;
  /** Capture file format (tcpdump writes pcap; pcapng is a rewrite of it). Default 'pcap'. */
  format?: 'pcap' | 'pcapng';
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** How long a client waits for a TCP connection (a dropping peer never answers). Default 1500 ms. */
  connectTimeoutMs?: number;
  /** Seconds an IKE negotiation may take. Default 10. */
  negotiateTimeoutS?: number;
  /** Seconds an initiator waits for a peer that has no rule (and never answers). Default 2. */
  unansweredTimeoutS?: number;
}

export interface PairResult {
  a: string;
  b: string;
  planned: LivePair['outcome'];
  /** What strongSwan did: the initiator's swanctl --initiate outcome ('not-attempted': no connection on either side). */
  observed: 'established' | 'failed' | 'not-attempted';
  /** swanctl's description of the IKE and CHILD SAs, for 'established'. */
  sas?: string[];
  /** The charon log lines that say why, for 'failed'. */
  detail?: string[];
}

export interface LiveRunResult {
  capturePath: string;
  evidenceFolder: string;
  runId: string;
  strongswan: string | undefined;
  nodes: { name: string; ip: string; mac: string; namespace: string }[];
  pairs: PairResult[];
  flows: FlowResult[];
  capture: CaptureStats;
  /** Where the live wire differs from the plan (limits of kernel-libipsec, PSK instead of certificates). */
  notes: string[];
}

/** Sentences on how the live wire necessarily departs from the plan. */
export function liveNotes(plan: LivePlan): string[] {
  const notes = [
    'Nodes authenticate with pre-shared keys on the live wire; computer certificates and Kerberos from the policy are not issued here (an authentication failure is reproduced with mismatched keys).',
    'strongSwan kernel-libipsec does ESP in userspace: every CHILD SA is tunnel mode with host /32 selectors and ESP travels in UDP 4500 (RFC 3948).',
  ];
  const noNat = plan.pairs.filter((p) => p.outcome !== 'plaintext' && !p.natT).map((p) => `${p.a}/${p.b}`);
  if (noNat.length) notes.push(`Pairs planned without NAT traversal still carry ESP in UDP 4500 live: ${noNat.join(', ')}.`);
  return notes;
}

// ------------------------------------------------------------------------ emergency teardown

interface ActiveRun {
  emergency(): void;
}
const active = new Set<ActiveRun>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
  for (const run of active) run.emergency();
  active.clear();
  uninstallHandlers();
  // Let the default action (or other listeners) take over now that nothing of ours is left.
  process.kill(process.pid, signal);
}
function onExit(): void {
  for (const run of active) run.emergency();
  active.clear();
}
let installed = false;
function installHandlers(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
}
function uninstallHandlers(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', onExit);
}

// ------------------------------------------------------------------------ the run

const REASON_LINE = /NO_PROPOSAL_CHOSEN|AUTHENTICATION_FAILED|AUTH_FAILED|TS_UNACCEPTABLE|no IKE config|no matching peer config|no acceptable proposal|proposals unacceptable|MAC mismatch|decryption failed|PLD_MAL|failed to establish|notify error|giving up|peer not responding/i;

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Where the run's private files go (the pre-shared keys in swanctl.conf among them): memory
 * (/dev/shm) where there is one, so the keys never reach a disk; the folder is 0700 and
 * removed at the end of the run.
 */
function privateTempRoot(): string {
  try {
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    // no tmpfs: the system's temp folder
  }
  return tmpdir();
}

/** The per-pair pre-shared keys: random per run; an 'authentication' failure gives each side its own. */
function makeKeys(): ((pair: LivePair, side: Side) => string) & { all: () => string[] } {
  const keys = new Map<string, string>();
  const source = (pair: LivePair, side: Side) => {
    const id = `${connectionName(pair)}|${pair.outcome === 'fail' && pair.failure?.cause === 'authentication' ? side : 'both'}`;
    let k = keys.get(id);
    if (!k) {
      k = randomBytes(24).toString('base64');
      keys.set(id, k);
    }
    return k;
  };
  return Object.assign(source, { all: () => [...keys.values()] });
}

/** The text with every key replaced by its fingerprint (charon does not log keys at these levels; this makes sure). */
function redactKeys(text: string, keys: readonly string[]): string {
  let out = text;
  for (const k of keys) out = out.split(k).join(keyFingerprint(k));
  return out;
}

function keyFingerprint(key: string): string {
  return `<redacted: sha256 ${createHash('sha256').update(key).digest('hex').slice(0, 12)}>`;
}

/** Runs the plan live. Throws EnvironmentError when strongSwan or the namespaces misbehave. */
export async function runLiveWire(plan: LivePlan, options: LiveRunOptions): Promise<LiveRunResult> {
  validateLivePlan(plan);
  const unsupported = liveUnsupported(plan);
  if (unsupported.length) throw new EnvironmentError(`the live wire cannot run this plan: ${unsupported.join('; ')}`);
  const { tools } = options;
  const log = options.log ?? (() => undefined);
  const name = options.name ?? 'live-wire';
  const seed = seedNumber(options.seed);
  const negotiateS = options.negotiateTimeoutS ?? 10;
  mkdirSync(options.evidenceDir, { recursive: true });
  const format = options.format ?? 'pcap';
  const capturePath = join(options.evidenceDir, `${name}.${format}`);
  const evidenceFolder = join(options.evidenceDir, `${name}-live`);

  const swept = sweepStaleRuns(tools.ip);
  if (swept.length) log(`removed what killed live runs left: ${swept.join(', ')}`);
  const runId = randomBytes(4).toString('hex');
  const workDir = mkdtempSync(join(privateTempRoot(), `cryptgate-live-${runId}-`));
  const topo = new LiveTopology(runId, plan.nodes, tools, workDir);
  const charons = topo.nodes.filter((n) => !n.external).map((n) => new CharonNode(n, charonFiles(workDir, n), tools, runId));
  const charonOf = (node: string) => charons.find((c) => c.node.name === node)!;
  const daemons: Daemon[] = [];
  let capture: BridgeCapture | undefined;
  const psk = makeKeys();
  /** Each node's charon log and configuration (keys replaced by fingerprints); also after a failure, to show why. */
  const saveNodeEvidence = (): string | undefined => {
    mkdirSync(evidenceFolder, { recursive: true });
    const fingerprint = (pair: LivePair, side: Side) => keyFingerprint(psk(pair, side));
    let version: string | undefined;
    for (const c of charons) {
      const text = redactKeys(readText(c.files.log), psk.all());
      version ??= /strongSwan [0-9][0-9.a-z]*/.exec(text)?.[0];
      writeFileAtomic(join(evidenceFolder, `${c.node.name}.charon.log`), text, 0o644);
      writeFileAtomic(join(evidenceFolder, `${c.node.name}.swanctl.conf`), swanctlConf(plan, c.node.name, fingerprint), 0o644);
    }
    return version;
  };
  const run: ActiveRun = {
    emergency() {
      capture?.abort();
      for (const d of daemons) d.signal('SIGKILL');
      for (const c of charons) c.killNow();
      topo.downSync();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  active.add(run);
  installHandlers();
  try {
    // pcap straight into the evidence folder (renamed when complete); pcapng through the private work folder
    capture = new BridgeCapture(tools, topo.bridgeNs, topo.bridge, format === 'pcap' ? capturePath : join(workDir, 'bridge.pcap'), runId);
    topo.register([capture.temp]);
    await topo.up();
    log(`live wire ${runId}: ${topo.nodes.length} namespaces on bridge ${topo.bridgeNs}/${topo.bridge}`);
    await capture.start();

    // charon on every cluster node, even one without connections: it refuses IKE the way a
    // node without a matching rule does, where no daemon at all would answer with ICMP.
    for (const c of charons) {
      mkdirSync(c.files.dir, { recursive: true, mode: 0o700 });
      writeFileSync(c.files.strongswanConf, strongswanConf({ log: c.files.log, vici: c.files.vici }), { mode: 0o600 });
      writeFileSync(c.files.swanctlConf, swanctlConf(plan, c.node.name, psk), { mode: 0o600 });
    }
    await Promise.all(charons.map((c) => c.start()));
    await Promise.all(charons.map((c) => c.load()));

    // "Require" rules that drop clear traffic, and nodes that ignore IKE from a peer they have no rule for.
    for (const [node, commands] of policyRoutingCommands(plan)) {
      for (const args of commands) await topo.nodeIp(node, args);
    }

    const pairs = await negotiate(plan, charonOf, { negotiateS, unansweredS: options.unansweredTimeoutS ?? 2 }, log);
    const listeners = await startListeners(topo, tools, plan.flows);
    daemons.push(...listeners);
    log(`live wire ${runId}: SAs settled, ${plan.flows.length} flows`);
    const flows = await runFlows(topo, tools, plan.flows, seed, { connectTimeoutMs: options.connectTimeoutMs ?? 1500, ioTimeoutMs: 10_000 }, (d) => daemons.push(d));
    await sleep(300); // the last ACKs and FINs reach the bridge
    await noLateSas(plan, pairs, charonOf);
    const stats = await capture.stop();
    if (format === 'pcapng') {
      const pcapng = pcapToPcapng(readFileSync(capture.path), { name: topo.bridge, description: 'switch port: the Linux bridge joining the live-wire nodes' });
      writeFileAtomic(capturePath, pcapng, 0o644);
    }
    capture = undefined;
    await Promise.all(daemons.map((d) => d.stop('SIGTERM', 2000)));
    await Promise.all(charons.map((c) => c.stop()));

    // Evidence: logs and configurations, then run.json.
    const strongswan = saveNodeEvidence();
    const result: LiveRunResult = {
      capturePath,
      evidenceFolder,
      runId,
      strongswan,
      nodes: topo.nodes.map((n) => ({ name: n.name, ip: n.ip, mac: n.mac, namespace: n.ns })),
      pairs,
      flows,
      capture: stats,
      notes: liveNotes(plan),
    };
    writeFileAtomic(join(evidenceFolder, 'run.json'), `${JSON.stringify({ schema: 'cryptgate/live-run@1', ...result, plan }, null, 2)}\n`, 0o644);
    log(`live wire ${runId}: ${stats.captured} packets in ${capturePath}`);
    return result;
  } catch (err) {
    capture?.abort();
    let saved = false;
    try {
      await Promise.all(charons.map((c) => c.stop()));
      if (charons.some((c) => readText(c.files.log) !== '')) {
        saveNodeEvidence();
        saved = true;
      }
    } catch {
      // the original error matters more
    }
    if (saved && err instanceof EnvironmentError) throw new EnvironmentError(`${err.message} (each node's charon log: ${evidenceFolder})`);
    throw err;
  } finally {
    for (const d of daemons) d.signal('SIGKILL');
    await Promise.all(charons.map((c) => c.stop().catch(() => undefined)));
    await topo.down();
    rmSync(workDir, { recursive: true, force: true });
    active.delete(run);
    if (active.size === 0) uninstallHandlers();
  }
}

/** Starts every pair's IKE SA from its initiator and checks the outcome against the plan. */
async function negotiate(
  plan: LivePlan,
  charonOf: (node: string) => CharonNode,
  timeouts: { negotiateS: number; unansweredS: number },
  log: (line: string) => void,
): Promise<PairResult[]> {
  return Promise.all(
    plan.pairs.map(async (pair): Promise<PairResult> => {
      const base = { a: pair.a, b: pair.b, planned: pair.outcome };
      const initiator = initiatorOf(pair);
      if (!initiator) return { ...base, observed: 'not-attempted' };
      const conn = connectionName(pair);
      const from = charonOf(pair[initiator]);
      const to = charonOf(pair[initiator === 'a' ? 'b' : 'a']);
      // A peer without a rule never answers: stop waiting early (charon keeps retransmitting,
      // as a Windows initiator would, and the capture shows it).
      const unanswered = silentResponder(pair) !== undefined;
      // A planned failure need not be waited out to the end (IKEv1 with the wrong key only
      // retransmits); whether an SA appeared anyway is checked again after the traffic.
      const waitS = unanswered ? timeouts.unansweredS : pair.outcome === 'esp' ? timeouts.negotiateS : Math.min(timeouts.negotiateS, 3);
      const res = await from.initiate(conn, waitS);
      const established = res.code === 0;
      if (pair.outcome === 'esp') {
        if (!established) {
          throw new EnvironmentError(
            `IKE between ${pair.a} and ${pair.b} (${describeIke(pair.ike!)}, ${describeEsp(pair.esp!)}) did not come up: ${reasons(conn, from, to).join(' | ') || res.stdout.trim().split('\n').slice(-2).join(' | ')}`,
          );
        }
        // Both ends must have installed the CHILD SA before a single application byte leaves.
        let sas: string[] = [];
        await waitUntil(`the CHILD SA ${conn} on both ${pair.a} and ${pair.b}`, async () => {
          const texts = await Promise.all([from.listSas(conn), to.listSas(conn)]);
          sas = texts[0]!.split('\n').map((l) => l.trim()).filter(Boolean);
          return texts.every((t) => t.includes('INSTALLED'));
        }, 5000, 100);
        return { ...base, observed: 'established', sas };
      }
      if (established) {
        throw new EnvironmentError(`the plan says ${pair.a}/${pair.b} is ${pair.outcome === 'fail' ? `a failed negotiation (${pair.failure?.cause})` : 'plain text'}, but strongSwan established an SA`);
      }
      const detail = reasons(conn, from, to);
      if (unanswered) detail.unshift(`${to.node.name} has no rule for ${from.node.name} and did not answer its IKE requests within ${timeouts.unansweredS} s`);
      else if (detail.length === 0) detail.push(`no SA within ${waitS} s`);
      log(`pair ${pair.a}/${pair.b}: negotiation failed as planned: ${detail[0] ?? 'no reason logged'}`);
      return { ...base, observed: 'failed', detail };
    }),
  );
}

/** A planned failure whose SA came up late (after the initiator stopped waiting) would make the capture lie. */
async function noLateSas(plan: LivePlan, results: PairResult[], charonOf: (node: string) => CharonNode): Promise<void> {
  await Promise.all(
    plan.pairs.map(async (pair, i) => {
      if (results[i]?.observed !== 'failed') return;
      const conn = connectionName(pair);
      for (const node of [pair.a, pair.b]) {
        const text = await charonOf(node).listSas(conn);
        if (text.includes('INSTALLED')) throw new EnvironmentError(`the plan says ${pair.a}/${pair.b} fails, but ${node} installed a CHILD SA for it after all`);
      }
    }),
  );
}

/**
 * The lines of both charons' logs that say why a negotiation failed: those of this
 * connection (logs carry the IKE SA's name) or naming the other node's address.
 */
function reasons(conn: string, a: CharonNode, b: CharonNode): string[] {
  const out: string[] = [];
  for (const [c, peer] of [[a, b], [b, a]] as const) {
    for (const line of readText(c.files.log).split('\n')) {
      const mine = line.includes(`<${conn}|`) || line.includes(peer.node.ip);
      if (mine && REASON_LINE.test(line)) out.push(`${c.node.name}: ${line.trim()}`);
    }
  }
  return out.slice(0, 12);
}
