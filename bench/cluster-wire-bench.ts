// `npm run bench` (second part): the simulated cluster's wire at scale. A 20-node cluster
// with the seed's IPsec set-up on every node, every node's services talking to every other
// node's (a full mesh), IKE then ESP with real AES-CBC-256 + HMAC-SHA-256-128 on every
// segment, written as pcap. Prints the total simulation time (goal < 20 s for >= 200k
// packets), the pcap writer's throughput (goal >= 200 MB/s: bytes written over the time
// spent inside the writer, file writes included), and, as a cross-check, how long
// cryptgate's own judge takes to read the result back and what it concludes.
// Not a test: goals are printed, never asserted.
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { judgeCaptures } from '../src/compliance/capture-judge.js';
import { NodeSet } from '../src/compliance/node-set.js';
import { defaultPolicy } from '../src/compliance/policy.js';
import { seedSetupPolicy } from '../src/ipsec/seed-setup.js';
import { packageRoot } from '../src/util/package-info.js';
import { clusterTopology, planDependencies, SIMULATED_SERVICE_NAMES, wireInputs } from '../simulators/cluster/network.js';
import { writeClusterCapture } from '../simulators/wire/cluster-wire.js';

const NODES = Number(process.env.CRYPTGATE_BENCH_NODES ?? 20);
const MIN_PACKETS = Number(process.env.CRYPTGATE_BENCH_PACKETS ?? 200_000);
/** Connections per dependency, scaled so a 20-node mesh passes MIN_PACKETS (about 75k packets at volume 1). */
const VOLUME = Number(process.env.CRYPTGATE_BENCH_VOLUME ?? Math.max(1, Math.ceil((MIN_PACKETS / 72_000) * ((20 * 19) / (NODES * (NODES - 1))))));
const SECONDS = 30;

async function main(): Promise<void> {
  const outDir = join(packageRoot(), 'bench/out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'cluster-wire.pcap');
  const addrs = Array.from({ length: NODES }, (_, i) => ({ name: `node${i + 1}`, address: `10.20.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}` }));

  const t0 = process.hrtime.bigint();
  const policy = seedSetupPolicy(addrs);
  const net = clusterTopology(addrs, { externalClients: 4, volume: VOLUME });
  const planned = planDependencies(net, policy);
  const { hosts, flows } = wireInputs(net, planned);
  const t1 = process.hrtime.bigint();
  const stats = writeClusterCapture(file, hosts, flows, { seed: 'bench', format: 'pcap', seconds: SECONDS });
  const t2 = process.hrtime.bigint();

  const planSeconds = Number(t1 - t0) / 1e9;
  const simSeconds = Number(t2 - t1) / 1e9;
  const total = planSeconds + simSeconds;
  const mb = stats.fileBytes / 1e6;
  const writeMBps = mb / (stats.writeNs / 1e9);
  const pairs = Object.keys(stats.protectedPerPair).length;
  const ok = (b: boolean): string => (b ? 'goal met' : 'GOAL MISSED');

  console.log(`cluster wire: ${NODES} nodes (${pairs} node pairs with ESP of ${(NODES * (NODES - 1)) / 2}), ${flows.length} service flows, volume ${VOLUME}, ${SECONDS} s of traffic`);
  console.log(`  packets          ${stats.packets.toLocaleString('en')} (ESP ${stats.espPackets.toLocaleString('en')}, IKE ${stats.ikePackets}, clear ${stats.plaintextPackets.toLocaleString('en')} with external clients), ${stats.ikeNegotiations} IKE negotiations`);
  console.log(`  capture          ${mb.toFixed(1)} MB pcap (${statSync(file).size.toLocaleString('en')} bytes)`);
  console.log(`  total time       ${total.toFixed(2)} s (plan ${planSeconds.toFixed(2)} s + simulate and write ${simSeconds.toFixed(2)} s)  [goal < 20 s with >= ${MIN_PACKETS.toLocaleString('en')} packets: ${ok(total < 20 && stats.packets >= MIN_PACKETS)}]`);
  console.log(`  pcap write       ${writeMBps.toFixed(0)} MB/s (${(stats.writeNs / 1e9).toFixed(3)} s inside the writer)  [goal >= 200 MB/s: ${ok(writeMBps >= 200)}]`);
  console.log(`  per packet       ${((simSeconds * 1e6) / stats.packets).toFixed(1)} µs simulate (TCP, real ESP crypto, framing, write)`);

  // Cross-check: the same judge as `cryptgate check capture` reads it back.
  const compliance = defaultPolicy();
  compliance.services = SIMULATED_SERVICE_NAMES;
  const t3 = process.hrtime.bigint();
  const j = await judgeCaptures({ files: [file], nodes: new NodeSet(addrs.map((a) => a.address)), policy: compliance, hash: false });
  const judgeSeconds = Number(process.hrtime.bigint() - t3) / 1e9;
  console.log(`  judged back      ${judgeSeconds.toFixed(2)} s (${(mb / judgeSeconds).toFixed(0)} MB/s): ${j.checks.map((c) => `${c.id} ${c.status}`).join(', ')}`);
  if (!process.env.CRYPTGATE_BENCH_KEEP) rmSync(file, { force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
