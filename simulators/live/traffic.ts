// Drives the traffic agents: one listener per server node (all the ports it serves), then
// one client per client node running its flows. Flow sizes come from the seed, so the
// same plan and seed send the same conversations (the ciphertext differs run to run: the
// keys are real).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../../src/util/errors.js';
import { serviceFor } from '../../src/compliance/services.js';
import type { LiveTools } from './availability.js';
import type { LiveTopology } from './netns.js';
import type { LiveFlow } from './plan.js';
import { Daemon, liveEnv } from './process-kit.js';
import { CONCURRENCY, type AgentClientSpec, type AgentFlowResult } from './traffic-protocol.js';

export interface FlowResult {
  client: string;
  server: string;
  src: string;
  dst: string;
  port: number;
  service: string;
  bytes: number;
  /** The conversation completed (connected, sent, got the whole answer). */
  ok: boolean;
  error?: string;
}

/** A 31-bit number from any seed text, so the agents get a plain integer. */
export function seedNumber(seed: number | string): number {
  return createHash('sha256').update(String(seed)).digest().readUInt32BE(0) & 0x7fffffff;
}

/** Bytes a flow sends: its own, or 1 000-8 999 from the seed and its position. */
export function flowBytes(flow: LiveFlow, index: number, seed: number): number {
  if (flow.bytes !== undefined) return flow.bytes;
  const h = createHash('sha256').update(`${seed}/${index}/${flow.client}/${flow.server}/${flow.port}`).digest();
  return 1000 + (h.readUInt32BE(0) % 8000);
}

function agentArgs(): string[] {
  const self = fileURLToPath(import.meta.url);
  // Built code runs traffic-agent.js; under a TypeScript loader the .ts next to this file.
  const agent = self.replace(/traffic\.(js|ts)$/, 'traffic-agent.$1');
  return self.endsWith('.ts') ? ['--import', 'tsx', agent] : [agent];
}

function inNamespace(tools: LiveTools, ns: string, args: string[]): [string, string[]] {
  return [tools.ip, ['netns', 'exec', ns, process.execPath, ...agentArgs(), ...args]];
}

/** Starts a listener on every server node for the ports its flows use; resolves when all listen. */
export async function startListeners(topo: LiveTopology, tools: LiveTools, flows: readonly LiveFlow[], timeoutMs = 10_000): Promise<Daemon[]> {
  const ports = new Map<string, Set<number>>();
  for (const f of flows) {
    const set = ports.get(f.server) ?? new Set<number>();
    set.add(f.port);
    ports.set(f.server, set);
  }
  const daemons: Daemon[] = [];
  for (const [server, set] of ports) {
    const node = topo.node(server);
    const [file, args] = inNamespace(tools, node.ns, ['serve', node.ip, [...set].sort((a, b) => a - b).join(',')]);
    daemons.push(new Daemon(`listeners on ${server}`, file, args, { env: liveEnv(topo.runId) }));
  }
  await Promise.all(daemons.map((d) => d.waitForOutput('start listening', (x) => x.stdout.includes('ready'), timeoutMs)));
  return daemons;
}

export interface ClientTimeouts {
  connectTimeoutMs: number;
  ioTimeoutMs: number;
}

/** Runs every flow from its client node; resolves with one result per flow, in plan order. */
export async function runFlows(
  topo: LiveTopology,
  tools: LiveTools,
  flows: readonly LiveFlow[],
  seed: number,
  timeouts: ClientTimeouts,
  track: (d: Daemon) => void,
): Promise<FlowResult[]> {
  const byClient = new Map<string, { index: number; flow: LiveFlow }[]>();
  flows.forEach((flow, index) => {
    const list = byClient.get(flow.client) ?? [];
    list.push({ index, flow });
    byClient.set(flow.client, list);
  });
  const results: FlowResult[] = new Array(flows.length);
  await Promise.all(
    [...byClient].map(async ([client, list]) => {
      const node = topo.node(client);
      const spec: AgentClientSpec = {
        src: node.ip,
        seed,
        connectTimeoutMs: timeouts.connectTimeoutMs,
        ioTimeoutMs: timeouts.ioTimeoutMs,
        flows: list.map(({ index, flow }) => ({ id: index, dst: topo.node(flow.server).ip, port: flow.port, bytes: flowBytes(flow, index, seed) })),
      };
      const [file, args] = inNamespace(tools, node.ns, ['client', JSON.stringify(spec)]);
      const agent = new Daemon(`clients on ${client}`, file, args, { env: liveEnv(topo.runId) });
      track(agent);
      // CONCURRENCY at a time, each bounded by connect + io timeouts, plus start-up.
      const budget = Math.ceil(list.length / CONCURRENCY) * (timeouts.connectTimeoutMs + timeouts.ioTimeoutMs) + 10_000;
      if (!(await agent.waitExit(budget))) {
        await agent.stop('SIGKILL', 0);
        throw new EnvironmentError(`clients on ${client} did not finish within ${budget / 1000} s`);
      }
      if (agent.exitCode() !== 0) throw new EnvironmentError(agent.describeExit());
      const lines = agent.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as AgentFlowResult);
      for (const { index, flow } of list) {
        const r = lines.find((l) => l.id === index);
        const bytes = spec.flows.find((f) => f.id === index)!.bytes;
        results[index] = {
          client: flow.client,
          server: flow.server,
          src: node.ip,
          dst: topo.node(flow.server).ip,
          port: flow.port,
          service: flow.service ?? serviceFor(flow.port, 'tcp') ?? `tcp/${flow.port}`,
          bytes,
          ok: r?.ok ?? false,
          ...(r?.ok ? {} : { error: r?.error ?? 'no result from the client agent' }),
        };
      }
    }),
  );
  return results;
}
