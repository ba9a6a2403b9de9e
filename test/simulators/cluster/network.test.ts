// The simulated cluster's network: who talks to whom (a full mesh between the nodes'
// services plus the initial node's controller, repository and licensing), which services
// go to Error when IPsec blocks their dependencies, and the status text and IPsec log an
// administrator reads.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { nodeNamed, seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import {
  clusterTopology, formatIpsecLog, formatNetworkStatus, planDependencies, serviceStates, SIMULATED_PORTS, wireInputs,
} from '../../../simulators/cluster/network.js';

const addrs = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, address: `10.0.0.${11 + i}` }));

describe('topology', () => {
  it('connects every ordered pair of nodes and every node to the initial node\'s controller, repository and licensing', () => {
    const net = clusterTopology(addrs(4), { externalClients: 2 });
    const pairs = new Set(net.dependencies.filter((d) => !d.client.startsWith('client')).map((d) => `${d.client}>${d.server}`));
    for (const a of net.nodes) for (const b of net.nodes) if (a !== b) assert.ok(pairs.has(`${a.name}>${b.name}`), `${a.name} → ${b.name}`);
    for (const n of ['node2', 'node3', 'node4']) {
      for (const port of [8850, 8060, 27000]) assert.ok(net.dependencies.some((d) => d.client === n && d.server === 'node1' && d.port === port), `${n} → node1:${port}`);
    }
    assert.ok(net.dependencies.some((d) => d.clientService === 'vizqlserver' && d.serverService === 'dataserver' && d.port === SIMULATED_PORTS.dataserver));
    assert.ok(net.dependencies.some((d) => d.clientService === 'backgrounder' && d.serverService === 'filestore' && d.port === SIMULATED_PORTS.filestore));
    assert.ok(net.dependencies.some((d) => d.clientService === 'gateway' && d.serverService === 'vizqlserver' && d.port === SIMULATED_PORTS.vizqlserver));
    const external = net.dependencies.filter((d) => d.client.startsWith('client'));
    assert.deepEqual(external.map((d) => [d.server, d.port, d.payload]), [['node1', 443, 'tls'], ['node1', 443, 'tls']]);
    const { hosts, flows } = wireInputs(net, planDependencies(net, seedSetupPolicy(addrs(4))));
    assert.equal(hosts.length, 6);
    assert.equal(flows.length, net.dependencies.length);
  });

  it('a gateway-only node runs the gateway alone and takes the external clients', () => {
    const net = clusterTopology(addrs(3), { gatewayOnly: ['node3'], externalClients: 1 });
    assert.deepEqual(nodeServices(net, 'node3'), ['gateway', 'tabadminagent']);
    assert.ok(!net.dependencies.some((d) => d.server === 'node3' && d.client !== 'client1'));
    assert.equal(net.dependencies.find((d) => d.client === 'client1')?.server, 'node3');
  });
});

function nodeServices(net: ReturnType<typeof clusterTopology>, name: string): string[] {
  return net.nodes.find((n) => n.name === name)!.services;
}

describe('what the administrator sees', () => {
  it('all running under the seed set-up; the log records established quick-mode SAs', () => {
    const net = clusterTopology(addrs(3));
    const planned = planDependencies(net, seedSetupPolicy(addrs(3)));
    const states = serviceStates(net, planned);
    assert.ok(states.every((s) => s.state === 'Running'));
    const text = formatNetworkStatus(net, states);
    assert.match(text, /^Status: RUNNING\n\nnode1: 10\.0\.0\.11\n    Status: RUNNING\n    'Tableau Server Gateway 0' is running\./);
    const log = formatIpsecLog(planned, new Date(Date.UTC(2026, 0, 15)));
    assert.match(log, /^2026-01-15T00:00:00\.000Z node2 INFO \[5451 IPsec quick mode security association established\] 10\.0\.0\.12 → 10\.0\.0\.11:8850/m);
  });

  it('a node that cannot authenticate: its dependants are in Error with the IPsec reason, and the log says what to change', () => {
    const policy = seedSetupPolicy(addrs(3));
    nodeNamed(policy, 'node3').credentials.certificateIssuers = ['Contoso Lab CA'];
    const net = clusterTopology(addrs(3));
    const planned = planDependencies(net, policy);
    const states = serviceStates(net, planned);
    const viz3 = states.find((s) => s.node === 'node3' && s.service === 'vizqlserver')!;
    assert.equal(viz3.state, 'Error');
    assert.match(viz3.message!, /^cannot reach Tableau Server Repository on node1 \(10\.0\.0\.11:8060\): IPsec authentication failed \(and \d+ more connection\(s\) blocked\)$/);
    assert.equal(states.find((s) => s.node === 'node1' && s.service === 'repository')!.state, 'Running');
    const text = formatNetworkStatus(net, states);
    assert.match(text, /^Status: DEGRADED$/m);
    assert.match(text, /    'Tableau Server VizQL Server 0' is in an error state\. cannot reach/);
    const log = formatIpsecLog(planned, new Date(0));
    assert.match(log, /ERROR \[4653 IPsec main mode negotiation failed\] 10\.0\.0\.13 → 10\.0\.0\.11:8060 .* What to change: enrol every node for a computer certificate from "Cluster Root CA"/);
  });
});
