// The simulated cluster's network: which service on which node talks to which service on
// which other node (and on what port), what the IPsec plan makes of each of those
// connections, and what the administrator then sees: services in Error in `tsm status -v`
// style text, and an IPsec event log in the words of Windows' security audit events.
// The wire (simulators/wire/cluster-wire.ts) turns the same flows into the capture.
//
// Ports: the fixed ones are the analytics server's (repository 8060, TSM administration
// controller 8850, licensing 27000-27009, gateway 443); vizqlserver, data server and file
// store get ports from the dynamic 8000-9000 range at install time, so this network fixes
// them (SIMULATED_PORTS) and writes them into the compliance policy's `services` map,
// which is how a real audit names them too.
import { planDirection, type DirectionPlan } from '../../src/ipsec/negotiate.js';
import type { ClusterIpsecPolicy } from '../../src/ipsec/policy-model.js';
import { serviceFor } from '../../src/compliance/services.js';
import { writeFileAtomic } from '../../src/util/atomic-file.js';
import type { WireFlow, WireHost } from '../wire/cluster-wire.js';
import { SERVICE_TITLES } from './model.js';

/** Dynamic-range ports this simulated cluster assigned, and their service names. */
export const SIMULATED_PORTS = { vizqlserver: 8600, dataserver: 8300, filestore: 8400 } as const;

/** The policy-file `services` entries that name the simulated dynamic ports. */
export const SIMULATED_SERVICE_NAMES: Record<string, string> = {
  [String(SIMULATED_PORTS.vizqlserver)]: 'vizqlserver',
  [String(SIMULATED_PORTS.dataserver)]: 'data server',
  [String(SIMULATED_PORTS.filestore)]: 'file store',
};

export type NetworkService =
  | 'gateway' | 'vizqlserver' | 'backgrounder' | 'dataserver' | 'filestore' | 'repository'
  | 'tabadmincontroller' | 'tabadminagent' | 'licensing' | 'client';

export const NETWORK_SERVICE_TITLES: Record<NetworkService, string> = {
  ...SERVICE_TITLES,
  tabadmincontroller: 'Tableau Server Administration Controller',
  tabadminagent: 'Tableau Server Administration Agent',
  licensing: 'License Server Manager',
  client: 'browser',
};

export interface NetworkNode {
  name: string;
  address: string;
  mac: string;
  /** The initial node runs the administration controller, the active repository and licensing. */
  initial: boolean;
  /** A gateway-only node runs the gateway alone (IPSEC-6 leaves its IPsec needs open). */
  gatewayOnly: boolean;
  services: NetworkService[];
}

/** One dependency: `clientService` on `client` needs `serverService` on `server`:`port`. */
export interface ServiceDependency {
  client: string;
  clientService: NetworkService;
  server: string;
  serverService: NetworkService;
  port: number;
  /** Connection profile: connections in the capture, exchanges per connection, bytes. */
  connections: number;
  exchanges: number;
  requestBytes: number;
  responseBytes: number;
  payload: 'tls' | 'binary';
}

export interface ClusterNetwork {
  nodes: NetworkNode[];
  externalClients: WireHost[];
  /** The router external clients come through. */
  routerMac: string;
  dependencies: ServiceDependency[];
}

export interface TopologyOptions {
  /** Names of nodes that run only the gateway. */
  gatewayOnly?: readonly string[];
  /** External clients reaching the gateway on 443 (IPSEC-6); addresses from 203.0.113.0/24. */
  externalClients?: number;
  /** Multiplies every dependency's connection count (the benchmark raises it). */
  volume?: number;
}

const PROFILE: Record<string, Omit<ServiceDependency, 'client' | 'clientService' | 'server' | 'serverService' | 'port'>> = {
  tsm: { connections: 2, exchanges: 2, requestBytes: 400, responseBytes: 1_200, payload: 'binary' },
  repository: { connections: 3, exchanges: 3, requestBytes: 300, responseBytes: 4_000, payload: 'binary' },
  licensing: { connections: 1, exchanges: 1, requestBytes: 200, responseBytes: 300, payload: 'binary' },
  dataserver: { connections: 2, exchanges: 2, requestBytes: 600, responseBytes: 12_000, payload: 'binary' },
  filestore: { connections: 1, exchanges: 1, requestBytes: 300, responseBytes: 40_000, payload: 'binary' },
  vizqlserver: { connections: 2, exchanges: 2, requestBytes: 800, responseBytes: 8_000, payload: 'binary' },
  external: { connections: 3, exchanges: 3, requestBytes: 600, responseBytes: 15_000, payload: 'tls' },
};

function mac(i: number): string {
  return `02:00:0a:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The cluster's services and who talks to whom. The first node is the initial node
 * (administration controller 8850, active repository 8060, licensing 27000); every node
 * that is not gateway-only runs gateway, vizqlserver, backgrounder, data server and file
 * store, and reaches the others: vizqlserver → every other node's data server, backgrounder
 * → every other file store, gateway → every other vizqlserver (a full mesh).
 */
export function clusterTopology(addresses: readonly { name: string; address: string }[], o: TopologyOptions = {}): ClusterNetwork {
  const gatewayOnly = new Set(o.gatewayOnly ?? []);
  const volume = o.volume ?? 1;
  const nodes: NetworkNode[] = addresses.map((a, i) => {
    const gw = gatewayOnly.has(a.name);
    const services: NetworkService[] = gw ? ['gateway', 'tabadminagent'] : ['gateway', 'vizqlserver', 'backgrounder', 'dataserver', 'filestore', 'tabadminagent'];
    if (i === 0) services.push('tabadmincontroller', 'repository', 'licensing');
    return { name: a.name, address: a.address, mac: mac(i + 1), initial: i === 0, gatewayOnly: gw, services };
  });
  const initial = nodes[0];
  const deps: ServiceDependency[] = [];
  const add = (client: NetworkNode | WireHost, clientService: NetworkService, server: NetworkNode, serverService: NetworkService, port: number, profile: keyof typeof PROFILE): void => {
    const p = PROFILE[profile]!;
    deps.push({ client: client.name, clientService, server: server.name, serverService, port, ...p, connections: Math.max(1, Math.round(p.connections * volume)) });
  };
  if (initial) {
    for (const n of nodes) {
      if (n === initial) continue;
      add(n, 'tabadminagent', initial, 'tabadmincontroller', 8850, 'tsm');
      if (!n.gatewayOnly) {
        add(n, 'vizqlserver', initial, 'repository', 8060, 'repository');
        add(n, 'backgrounder', initial, 'repository', 8060, 'repository');
        add(n, 'vizqlserver', initial, 'licensing', 27000, 'licensing');
      }
    }
  }
  for (const a of nodes) {
    for (const b of nodes) {
      if (a === b || b.gatewayOnly) continue;
      if (!a.gatewayOnly) {
        add(a, 'vizqlserver', b, 'dataserver', SIMULATED_PORTS.dataserver, 'dataserver');
        add(a, 'backgrounder', b, 'filestore', SIMULATED_PORTS.filestore, 'filestore');
      }
      add(a, 'gateway', b, 'vizqlserver', SIMULATED_PORTS.vizqlserver, 'vizqlserver');
    }
  }
  const externalClients: WireHost[] = [];
  const routerMac = '02:00:0a:ff:ff:01';
  const gateways = nodes.filter((n) => n.gatewayOnly);
  const entry = gateways.length > 0 ? gateways : initial ? [initial] : [];
  for (let k = 0; k < (o.externalClients ?? 0); k++) {
    const c: WireHost = { name: `client${k + 1}`, address: `203.0.113.${10 + k}`, mac: routerMac };
    externalClients.push(c);
    const gw = entry[k % entry.length];
    if (gw) add(c, 'client', gw, 'gateway', 443, 'external');
  }
  return { nodes, externalClients, routerMac, dependencies: deps };
}

/** A dependency with its negotiation plan. */
export interface PlannedDependency {
  dependency: ServiceDependency;
  clientAddress: string;
  serverAddress: string;
  plan: DirectionPlan;
}

export function addressOf(net: ClusterNetwork, name: string): string {
  const n = net.nodes.find((x) => x.name === name) ?? net.externalClients.find((x) => x.name === name);
  if (!n) throw new Error(`no host "${name}" on the network`);
  return n.address;
}

/** Plans every dependency's connection under the cluster's IPsec policy. */
export function planDependencies(net: ClusterNetwork, policy: ClusterIpsecPolicy): PlannedDependency[] {
  return net.dependencies.map((d) => {
    const clientAddress = addressOf(net, d.client);
    const serverAddress = addressOf(net, d.server);
    return { dependency: d, clientAddress, serverAddress, plan: planDirection(policy, clientAddress, serverAddress, { protocol: 'tcp', port: d.port }) };
  });
}

/** What the wire needs: hosts and flows. */
export function wireInputs(net: ClusterNetwork, planned: readonly PlannedDependency[]): { hosts: WireHost[]; flows: WireFlow[] } {
  const hosts: WireHost[] = [...net.nodes.map((n) => ({ name: n.name, address: n.address, mac: n.mac })), ...net.externalClients];
  const flows: WireFlow[] = planned.map((p) => ({
    client: p.clientAddress,
    server: p.serverAddress,
    port: p.dependency.port,
    service: serviceName(p.dependency.port),
    plan: p.plan,
    connections: p.dependency.connections,
    exchanges: p.dependency.exchanges,
    requestBytes: p.dependency.requestBytes,
    responseBytes: p.dependency.responseBytes,
    payload: p.dependency.payload,
  }));
  return { hosts, flows };
}

/** The cluster's connections planned under a policy, and what the wire needs to carry them. */
export interface PlannedNetwork {
  net: ClusterNetwork;
  planned: PlannedDependency[];
  hosts: WireHost[];
  flows: WireFlow[];
}

/** clusterTopology → planDependencies → wireInputs: what `sim wire capture` and the IPsec scenarios put on a wire. */
export function planNetwork(addresses: readonly { name: string; address: string }[], policy: ClusterIpsecPolicy, o: TopologyOptions = {}): PlannedNetwork {
  const net = clusterTopology(addresses, o);
  const planned = planDependencies(net, policy);
  return { net, planned, ...wireInputs(net, planned) };
}

function serviceName(port: number): string {
  return SIMULATED_SERVICE_NAMES[String(port)] ?? serviceFor(port, 'tcp') ?? `port ${port}`;
}

// ------------------------------------------------------------------------ what admins see

export interface ServiceState {
  node: string;
  service: NetworkService;
  state: 'Running' | 'Error';
  /** Why it is in Error: the dependency it cannot reach and the IPsec reason. */
  message?: string;
}

/**
 * Each node's services: a service whose connection to a dependency is blocked (IPsec
 * negotiation failed under a "require" rule, or its clear packets are dropped) is in Error.
 */
export function serviceStates(net: ClusterNetwork, planned: readonly PlannedDependency[]): ServiceState[] {
  const out: ServiceState[] = [];
  for (const n of net.nodes) {
    for (const s of n.services) {
      const blocked = planned.filter((p) => p.dependency.client === n.name && p.dependency.clientService === s && p.plan.outcome === 'blocked');
      if (blocked.length === 0) { out.push({ node: n.name, service: s, state: 'Running' }); continue; }
      const first = blocked[0]!;
      const d = first.dependency;
      const more = blocked.length > 1 ? ` (and ${blocked.length - 1} more connection(s) blocked)` : '';
      out.push({
        node: n.name, service: s, state: 'Error',
        message: `cannot reach ${NETWORK_SERVICE_TITLES[d.serverService]} on ${d.server} (${first.serverAddress}:${d.port}): ${shortReason(first.plan)}${more}`,
      });
    }
  }
  return out;
}

function shortReason(plan: DirectionPlan): string {
  const r = plan.ike?.result;
  if (!plan.ike) return 'connection timed out (the peer drops unauthenticated traffic)';
  if (r === 'no-response') return 'IPsec negotiation timed out (no response from the peer)';
  if (r === 'no-proposal-chosen') return 'IPsec main mode negotiation failed (no proposal chosen)';
  if (r === 'authentication-failed') return 'IPsec authentication failed';
  if (r === 'quick-mode-failed') return 'IPsec quick mode negotiation failed';
  return 'connection failed';
}

/** `tsm status -v`-style text for the simulated network. */
export function formatNetworkStatus(net: ClusterNetwork, states: readonly ServiceState[]): string {
  const anyError = states.some((s) => s.state === 'Error');
  const lines = [`Status: ${anyError ? 'DEGRADED' : 'RUNNING'}`];
  for (const n of net.nodes) {
    const mine = states.filter((s) => s.node === n.name);
    lines.push('');
    lines.push(`${n.name}: ${n.address}`);
    lines.push(`    Status: ${mine.some((s) => s.state === 'Error') ? 'DEGRADED' : 'RUNNING'}`);
    for (const s of mine) {
      if (s.service === 'client') continue;
      lines.push(`    '${NETWORK_SERVICE_TITLES[s.service]} 0' ${s.state === 'Error' ? 'is in an error state' : 'is running'}.${s.message ? ` ${s.message}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * An IPsec event log, one line per direction between two hosts, in the terms of Windows'
 * audit events (4650/4651 main mode SA established, 5451 quick mode SA established, 4653
 * main mode failed, 4654 quick mode failed) plus plaintext and dropped connections.
 */
export function formatIpsecLog(planned: readonly PlannedDependency[], at: Date): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  const ts = at.toISOString();
  for (const p of planned) {
    const key = `${p.clientAddress}>${p.serverAddress}|${p.plan.outcome}|${p.plan.ike?.result ?? ''}|${p.dependency.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const node = p.plan.initiator.node ?? p.clientAddress;
    const r = p.plan.ike?.result;
    let event: string;
    let level: string;
    if (p.plan.outcome === 'protected') { event = '5451 IPsec quick mode security association established'; level = p.plan.encrypted && p.plan.remedy === null ? 'INFO' : 'WARN'; }
    else if (r === 'no-proposal-chosen' || r === 'no-response' || r === 'authentication-failed') { event = '4653 IPsec main mode negotiation failed'; level = p.plan.outcome === 'blocked' ? 'ERROR' : 'WARN'; }
    else if (r === 'quick-mode-failed') { event = '4654 IPsec quick mode negotiation failed'; level = p.plan.outcome === 'blocked' ? 'ERROR' : 'WARN'; }
    else if (p.plan.outcome === 'blocked') { event = 'connection dropped by the peer\'s IPsec policy'; level = 'ERROR'; }
    else { event = 'connection not protected by IPsec'; level = p.plan.initiator.node && p.plan.responder.node ? 'WARN' : 'INFO'; }
    lines.push(`${ts} ${node} ${level} [${event}] ${p.clientAddress} → ${p.serverAddress}:${p.dependency.port} (${p.dependency.clientService} → ${p.dependency.serverService} on ${p.dependency.server}): ${p.plan.reason}${p.plan.remedy ? ` What to change: ${p.plan.remedy}.` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

// ------------------------------------------------------------------------ evidence files

/** Where writeNetworkEvidence puts each file (each caller keeps its own names). */
export interface NetworkEvidenceFiles {
  /** `tsm status -v`-style text (formatNetworkStatus). */
  status: string;
  /** The IPsec event log (formatIpsecLog). */
  log: string;
  /** Every dependency with its negotiation plan, as JSON. */
  plan: string;
  /** The compliance policy `cryptgate check capture --policy` needs: the nodes' addresses and the simulated ports' service names. */
  compliance: string;
}

/**
 * Writes, each whole or not at all, what the administrator and the judge read next to the
 * capture of a planned network; returns the services' states the status text shows.
 * `gatewayNodes`: addresses the compliance policy lists as gateway-only (IPSEC-6).
 */
export function writeNetworkEvidence(n: PlannedNetwork, files: NetworkEvidenceFiles, o: { logTime: Date; gatewayNodes?: readonly string[] }): ServiceState[] {
  const states = serviceStates(n.net, n.planned);
  writeFileAtomic(files.status, formatNetworkStatus(n.net, states), 0o644);
  writeFileAtomic(files.log, formatIpsecLog(n.planned, o.logTime), 0o644);
  writeFileAtomic(files.plan, `${JSON.stringify(n.planned.map((p) => ({ dependency: p.dependency, plan: p.plan })), null, 2)}\n`, 0o644);
  const compliance: Record<string, unknown> = { nodes: n.net.nodes.map((x) => x.address), services: SIMULATED_SERVICE_NAMES };
  if (o.gatewayNodes && o.gatewayNodes.length > 0) compliance.gatewayNodes = o.gatewayNodes;
  writeFileAtomic(files.compliance, `${JSON.stringify(compliance, null, 2)}\n`, 0o644);
  return states;
}
