// One IPsec scenario on the simulated cluster: the Windows-style policy the steps edit, and
// the evidence the run leaves in the scenario's folder. Running it plans every service
// connection (src/ipsec/negotiate.ts), writes the switch capture (simulators/wire), the
// `tsm status -v`-style text and the IPsec event log (simulators/cluster/network.ts), the
// policy and plan as JSON, and the compliance policy file a `cryptgate check capture
// --policy` run needs; then the steps judge the capture through the same judge as that
// command, never through the simulator's state.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DirectionPlan } from '../src/ipsec/negotiate.js';
import { writeFileAtomic } from '../src/util/atomic-file.js';
import type { ClusterIpsecPolicy } from '../src/ipsec/policy-model.js';
import { seedSetupPolicy, type NodeAddress } from '../src/ipsec/seed-setup.js';
import { planNetwork, writeNetworkEvidence } from '../simulators/cluster/network.js';
import { writeClusterCapture, type WireStats } from '../simulators/wire/cluster-wire.js';
import { captureClusterTraffic, livePlanFromNegotiation, type WireMode } from '../simulators/live/index.js';
import type { CryptgateWorld } from './world.js';

export interface IpsecRunResult {
  dir: string;
  capture: string;
  complianceFile: string;
  statusFile: string;
  logFile: string;
  /** What the simulated wire wrote; absent when real strongSwan carried the traffic. */
  stats?: WireStats;
  plans: DirectionPlan[];
  /** The wire that carried the traffic, and why live mode was not used when it was asked for. */
  wire: WireMode;
  fallbackReason?: string;
  /** What the translation to strongSwan had to approximate (live mode only). */
  liveNotes: string[];
}

export class IpsecScenario {
  nodes: NodeAddress[] = [];
  policy: ClusterIpsecPolicy = { nodes: [] };
  natTraversal = false;
  externalClients = 0;
  /** Nodes that run only the gateway (topology). */
  gatewayOnly: string[] = [];
  /** Nodes the compliance policy lists as gateway-only (IPSEC-6: reported separately). */
  declaredGatewayNodes: string[] = [];
  seed = 'cryptgate-ipsec';
  result: IpsecRunResult | undefined;

  constructor(readonly dir: string) {}

  useNodes(addresses: readonly string[]): void {
    this.nodes = addresses.map((address, i) => ({ name: `node${i + 1}`, address }));
    this.policy = seedSetupPolicy(this.nodes);
  }

  addressOf(name: string): string {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node "${name}" (nodes: ${this.nodes.map((x) => `${x.name} = ${x.address}`).join(', ')})`);
    return n.address;
  }

  /**
   * Runs the cluster for `seconds` and writes every evidence file into the scenario's folder.
   * `wire: 'strongswan'` carries the traffic over real strongSwan in network namespaces when
   * this machine can (simulators/live), else says why and uses the simulated wire.
   */
  async run(seconds: number, format: 'pcap' | 'pcapng', wire: WireMode = 'simulated'): Promise<IpsecRunResult> {
    mkdirSync(this.dir, { recursive: true });
    const network = planNetwork(this.nodes, this.policy, { gatewayOnly: this.gatewayOnly, externalClients: this.externalClients });
    const { hosts, flows } = network;
    const capture = join(this.dir, `switch.${format}`);
    let stats: WireStats | undefined;
    const { plan: livePlan, notes } = livePlanFromNegotiation(hosts, flows, { natTraversal: this.natTraversal });
    const traffic = await captureClusterTraffic(livePlan, {
      wire,
      evidenceDir: this.dir,
      seed: this.seed,
      name: 'switch',
      format,
      simulate: async () => {
        stats = writeClusterCapture(capture, hosts, flows, { seed: this.seed, format, seconds, natTraversal: this.natTraversal });
        return capture;
      },
    });
    const statusFile = join(this.dir, 'tsm-status.txt');
    const logFile = join(this.dir, 'ipsec.log');
    // cryptgate-policy.json: what `cryptgate check capture switch.pcap --policy cryptgate-policy.json` needs to judge it the same way.
    const complianceFile = join(this.dir, 'cryptgate-policy.json');
    writeNetworkEvidence(
      network,
      { status: statusFile, log: logFile, plan: join(this.dir, 'ipsec-plan.json'), compliance: complianceFile },
      { logTime: new Date(Date.UTC(2026, 0, 15, 9, 0, 0)), gatewayNodes: this.declaredGatewayNodes.map((n) => this.addressOf(n)) },
    );
    writeFileAtomic(join(this.dir, 'ipsec-policy.json'), `${JSON.stringify(this.policy, null, 2)}\n`, 0o644);
    this.result = {
      dir: this.dir,
      capture: traffic.capturePath,
      complianceFile,
      statusFile,
      logFile,
      ...(stats ? { stats } : {}),
      plans: network.planned.map((p) => p.plan),
      wire: traffic.mode,
      ...(traffic.fallbackReason !== undefined ? { fallbackReason: traffic.fallbackReason } : {}),
      liveNotes: traffic.mode === 'strongswan' ? notes : [],
    };
    return this.result;
  }
}

/** The world's IPsec scenario (set by the @simulated-wire Before hook). */
export function ipsecScenario(world: CryptgateWorld): IpsecScenario {
  const s = world.ipsecScenario;
  if (!s) throw new Error('this step needs a @simulated-wire scenario (its Before hook did not run)');
  return s;
}
