// `cryptgate sim <dir> wire capture --out FILE [--seconds N] [--format pcap|pcapng] [--seed S] [--nat-traversal]`:
// puts the persistent simulated cluster's service traffic on the simulated wire under its
// IPsec policy and writes what a capture at the switch would see. The policy is
// <dir>/network/ipsec-policy.json (the Windows Firewall model, see src/ipsec/policy-model.ts);
// when it is missing, the seed document's set-up is written there first, so an
// administrator can edit it and capture again. Next to it: the plan, the IPsec log, the
// tsm-status-like network status and the compliance policy `check capture` needs.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateClusterPolicy, type ClusterIpsecPolicy } from '../ipsec/policy-model.js';
import { seedSetupPolicy } from '../ipsec/seed-setup.js';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { readConfig } from '../../simulators/cluster/config.js';
import { planNetwork, writeNetworkEvidence } from '../../simulators/cluster/network.js';
import { writeClusterCapture } from '../../simulators/wire/cluster-wire.js';

export interface WireCaptureOptions {
  out: string;
  seconds: number;
  format: 'pcap' | 'pcapng';
  seed: string;
  natTraversal: boolean;
  externalClients: number;
}

/** Runs the capture; returns the lines to print. */
export function simWireCapture(dir: string, o: WireCaptureOptions): string[] {
  const config = readConfig(dir);
  const netDir = join(dir, 'network');
  mkdirSync(netDir, { recursive: true });
  const policyFile = join(netDir, 'ipsec-policy.json');
  const lines: string[] = [];
  let policy: ClusterIpsecPolicy;
  if (existsSync(policyFile)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(policyFile, 'utf8'));
    } catch (err) {
      throw new InputError(`${policyFile}: expected JSON (${(err as Error).message})`);
    }
    policy = validateClusterPolicy(doc, policyFile);
  } else {
    policy = seedSetupPolicy(config.nodes.map((n, i) => ({ name: n.name, address: `10.0.0.${11 + i}` })));
    writeFileAtomic(policyFile, `${JSON.stringify(policy, null, 2)}\n`, 0o644);
    lines.push(`Wrote the seed document's IPsec set-up to ${policyFile} (edit it and capture again).`);
  }
  const addrs = policy.nodes.map((n) => ({ name: n.name, address: n.addresses[0]! }));
  const network = planNetwork(addrs, policy, { externalClients: o.externalClients });
  const out = resolve(o.out);
  const stats = writeClusterCapture(out, network.hosts, network.flows, { seed: o.seed, format: o.format, seconds: o.seconds, natTraversal: o.natTraversal });
  const files = { plan: join(netDir, 'ipsec-plan.json'), log: join(netDir, 'ipsec.log'), status: join(netDir, 'network-status.txt'), compliance: join(netDir, 'cryptgate-policy.json') };
  const states = writeNetworkEvidence(network, files, { logTime: new Date() });

  const count = (k: string): number => network.planned.filter((p) => p.plan.outcome === k && p.plan.initiator.node && p.plan.responder.node).length;
  lines.push(`Captured ${o.seconds} s of the cluster's traffic to ${out} (${o.format}): ${stats.packets} packets, ${stats.espPackets} ESP, ${stats.ahPackets} AH-only, ${stats.ikePackets} IKE, ${stats.plaintextPackets} in clear.`);
  lines.push(`Service connections between nodes: ${count('protected')} protected, ${count('plaintext')} in clear, ${count('blocked')} blocked.`);
  const errors = states.filter((s) => s.state === 'Error');
  for (const e of errors.slice(0, 10)) lines.push(`  ${e.node}: '${e.service}' is in an error state. ${e.message ?? ''}`);
  if (errors.length > 10) lines.push(`  … and ${errors.length - 10} more services in Error (see ${files.status})`);
  lines.push(`Why, per connection: ${files.log}`);
  lines.push(`Judge it: cryptgate check capture ${out} --policy ${files.compliance}`);
  return lines;
}
