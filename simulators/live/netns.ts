// The live wire's switch: one network namespace per node, each with an eth0 whose peer is
// a port of a Linux bridge in a namespace of its own (where tcpdump records the "switch
// port"). Namespace names carry a random run id, so parallel runs never clash; each run
// registers itself under /run/cryptgate-live/ with its pid, so a run killed hard is swept
// away by the next one. Teardown comes in two forms: async (normal end, errors) and sync
// (SIGINT/SIGTERM/exit handlers, where the event loop may not run again).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddress } from '../../src/capture/ip.js';
import { TEMP_MARK, writeFileAtomic } from '../../src/util/atomic-file.js';
import type { LiveTools } from './availability.js';
import type { LiveNode } from './plan.js';
import { runTool } from './process-kit.js';

export const REGISTRY_DIR = '/run/cryptgate-live';
/** Every live-wire namespace starts with this, so an operator can spot (and remove) them. */
export const NETNS_PREFIX = 'cgl-';

export interface TopologyNode extends LiveNode {
  index: number;
  ns: string;
  mac: string;
  /** Prefix length of its address: the cluster's subnet (externals: theirs). */
  prefixLength: number;
}

interface RunRecord {
  pid: number;
  startTime: string | undefined;
  namespaces: string[];
  workDir: string;
  /** Half-written files of the run (the capture's temporary name). */
  tempFiles?: string[];
}

/** Longest prefix (but at most /24) putting every address on one subnet. */
export function commonPrefixLength(ips: readonly string[]): number {
  if (ips.length === 0) return 24;
  const words = ips.map((ip) => parseAddress(ip)?.words[0] ?? 0);
  let bits = 24;
  while (bits > 0) {
    const mask = (~0 << (32 - bits)) >>> 0;
    const net = (words[0]! & mask) >>> 0;
    if (words.every((w) => ((w & mask) >>> 0) === net)) break;
    bits--;
  }
  return bits;
}

/** Locally administered MAC derived from the IPv4 address (02:00:a:b:c:d), stable across runs. */
export function macFor(ip: string): string {
  const w = parseAddress(ip)?.words[0] ?? 0;
  const bytes = [2, 0, w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Start time of a process (field 22 of /proc/pid/stat), to tell a live owner from a reused pid. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function ownerAlive(record: RunRecord): boolean {
  const now = processStartTime(record.pid);
  return now !== undefined && (record.startTime === undefined || now === record.startTime);
}

/** Ends every process still inside a namespace, then deletes it. Synchronous, never throws. */
function deleteNamespaceSync(ip: string, ns: string): void {
  const pids = spawnSync(ip, ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 });
  if (pids.status === 0) {
    for (const p of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  spawnSync(ip, ['netns', 'del', ns], { encoding: 'utf8', timeout: 5000 });
}

/** Removes what runs killed hard (their owner no longer runs) left behind. */
export function sweepStaleRuns(ip: string): string[] {
  const swept: string[] = [];
  let files: string[];
  try {
    files = readdirSync(REGISTRY_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return swept;
  }
  for (const f of files) {
    const path = join(REGISTRY_DIR, f);
    let record: RunRecord;
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
    } catch {
      continue; // being written, or not ours
    }
    if (ownerAlive(record)) continue;
    for (const ns of record.namespaces) if (ns.startsWith(NETNS_PREFIX)) deleteNamespaceSync(ip, ns);
    if (record.workDir.includes('cryptgate-live-')) rmSync(record.workDir, { recursive: true, force: true });
    for (const t of record.tempFiles ?? []) if (t.endsWith(TEMP_MARK)) rmSync(t, { force: true });
    try {
      unlinkSync(path);
    } catch {
      // another sweeper was faster
    }
    swept.push(f.replace(/\.json$/, ''));
  }
  return swept;
}

export class LiveTopology {
  readonly bridgeNs: string;
  readonly bridge = 'br0';
  readonly nodes: TopologyNode[];
  private readonly registryFile: string;
  private removed = false;

  constructor(
    readonly runId: string,
    nodes: readonly LiveNode[],
    private readonly tools: LiveTools,
    readonly workDir: string,
  ) {
    this.bridgeNs = `${NETNS_PREFIX}${runId}-br`;
    const inside = commonPrefixLength(nodes.filter((n) => !n.external).map((n) => n.ip));
    const outside = commonPrefixLength(nodes.filter((n) => n.external).map((n) => n.ip));
    this.nodes = nodes.map((n, i) => ({
      ...n,
      index: i + 1,
      ns: `${NETNS_PREFIX}${runId}-${i + 1}`,
      mac: macFor(n.ip),
      prefixLength: n.external ? outside : inside,
    }));
    this.registryFile = join(REGISTRY_DIR, `${runId}.json`);
  }

  get namespaces(): string[] {
    return [this.bridgeNs, ...this.nodes.map((n) => n.ns)];
  }

  node(name: string): TopologyNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`live topology: no node "${name}"`);
    return n;
  }

  /** Records the run (before anything exists, so a crash mid-setup is still swept). */
  register(tempFiles: string[] = []): void {
    mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o700 });
    const record: RunRecord = { pid: process.pid, startTime: processStartTime(process.pid), namespaces: this.namespaces, workDir: this.workDir, tempFiles };
    writeFileAtomic(this.registryFile, `${JSON.stringify(record)}\n`);
  }

  private ip(args: string[]): Promise<unknown> {
    return runTool(this.tools.ip, args, { timeoutMs: 10_000 });
  }

  private async addNamespace(ns: string): Promise<void> {
    await this.ip(['netns', 'add', ns]);
    // No IPv6 at all: router solicitations, MLD and DAD would only add noise to the capture.
    await runTool(this.tools.ip, [
      'netns', 'exec', ns, this.tools.sh, '-c',
      'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; true',
    ]);
  }

  /** Builds the bridge and the nodes. */
  async up(): Promise<void> {
    await this.addNamespace(this.bridgeNs);
    await this.ip(['-n', this.bridgeNs, 'link', 'add', this.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    await this.ip(['-n', this.bridgeNs, 'link', 'set', this.bridge, 'up']);
    await Promise.all(
      this.nodes.map(async (n) => {
        const port = `p${n.index}`;
        await this.addNamespace(n.ns);
        await this.ip(['-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns]);
        await this.ip(['-n', this.bridgeNs, 'link', 'set', port, 'master', this.bridge, 'up']);
        // A real NIC puts MTU-sized frames on the wire; veth would hand the bridge whole
        // TSO/GSO super-frames of clear TCP. One segment per skb avoids that.
        await this.ip(['-n', n.ns, 'link', 'set', 'eth0', 'address', n.mac, 'gso_max_segs', '1']);
        await this.ip(['-n', n.ns, 'addr', 'add', `${n.ip}/${n.prefixLength}`, 'dev', 'eth0']);
        await this.ip(['-n', n.ns, 'link', 'set', 'lo', 'up']);
        await this.ip(['-n', n.ns, 'link', 'set', 'eth0', 'up']);
        // Everything else is on the switch too (external clients sit on another subnet).
        await this.ip(['-n', n.ns, 'route', 'add', 'default', 'dev', 'eth0']);
      }),
    );
  }

  /** Runs `ip` inside a node's namespace (routes, rules). */
  nodeIp(name: string, args: string[]): Promise<unknown> {
    return this.ip(['-n', this.node(name).ns, ...args]);
  }

  /** Deletes every namespace (ending what still runs in it) and the registry entry. */
  async down(): Promise<void> {
    if (this.removed) return;
    await Promise.all(
      this.namespaces.map(async (ns) => {
        const pids = await runTool(this.tools.ip, ['netns', 'pids', ns], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
        for (const p of pids?.code === 0 ? pids.stdout.split(/\s+/).filter(Boolean) : []) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {
            // gone already
          }
        }
        await runTool(this.tools.ip, ['netns', 'del', ns], { allowFailure: true, timeoutMs: 5000 }).catch(() => undefined);
      }),
    );
    this.forget();
  }

  /** The same, synchronously: for signal and exit handlers. */
  downSync(): void {
    if (this.removed) return;
    for (const ns of this.namespaces) deleteNamespaceSync(this.tools.ip, ns);
    this.forget();
  }

  private forget(): void {
    this.removed = true;
    rmSync(this.registryFile, { force: true });
  }
}
