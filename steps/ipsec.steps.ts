// Steps of the simulated-cluster IPsec features: they edit the nodes' Windows-style IPsec
// policy, run the cluster (which leaves a switch capture, tsm status text and an IPsec log
// in the scenario's evidence folder), and judge the capture with the same judge
// `cryptgate check capture` runs, with the compliance policy file written next to it.
// Checks on the judgement reuse capture.steps.ts ("check … passes", "a finding names …").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Before, Given, Then, When } from '@cucumber/cucumber';
import { judgeCaptures } from '../src/compliance/capture-judge.js';
import { NodeSet } from '../src/compliance/node-set.js';
import { loadPolicy } from '../src/compliance/policy.js';
import { nodeNamed } from '../src/ipsec/seed-setup.js';
import { parseMainModeProposal, parseProposalList, parseQuickModeProposal } from '../src/ipsec/proposal-text.js';
import { describeAuthMethod, describeMainModeProposal, describeQuickModeProposal, type KeyModule, type NodeIpsecPolicy, type Requirement } from '../src/ipsec/policy-model.js';
import { nextScenarioId } from '../src/run/kms-session.js';
import { scenarioId } from '../src/run/scenario-report.js';
import { IpsecScenario, ipsecScenario } from './ipsec-scenario.js';
import { parseTsmStatus, type TsmStatus } from './tsm-status.js';
import type { CryptgateWorld } from './world.js';

// The evidence folder is the scenario's id in the report (as for the KMS scenarios).
Before({ tags: '@simulated-wire' }, function (this: CryptgateWorld, { pickle }) {
  this.ipsecScenario = new IpsecScenario(join(this.parameters.evidenceDir, nextScenarioId(scenarioId(pickle.uri, pickle.name))));
});

function nodes(world: CryptgateWorld, which: string): NodeIpsecPolicy[] {
  const s = ipsecScenario(world);
  return which === 'every node' ? s.policy.nodes : [nodeNamed(s.policy, which)];
}

// ---------------------------------------------------------------- the cluster and its policy

Given('a simulated cluster of the nodes {nodeList}', function (this: CryptgateWorld, list: string[]) {
  const s = ipsecScenario(this);
  s.useNodes(list);
  this.nodes = list;
  this.observe({ nodes: s.nodes.map((n) => `${n.name} = ${n.address}`) });
});

Given('every node has the connection security rule and IPsec defaults the seed document describes', function (this: CryptgateWorld) {
  // useNodes starts from exactly that set-up; the run step reports each node's final settings.
  ipsecScenario(this);
});

Given('{word} has no connection security rule', function (this: CryptgateWorld, node: string) {
  nodeNamed(ipsecScenario(this).policy, node).rules = [];
});

Given('{word}\'s rule does not list {word} in endpoint 2', function (this: CryptgateWorld, node: string, other: string) {
  const s = ipsecScenario(this);
  const address = s.addressOf(other);
  for (const r of nodeNamed(s.policy, node).rules) r.endpoint2 = r.endpoint2.filter((a) => a !== address);
});

Given(
  /^(every node|node\d+)'s rule (requests|requires) authentication for inbound and (requests|requires) it for outbound connections$/,
  function (this: CryptgateWorld, which: string, inbound: string, outbound: string) {
    const req = (w: string): Requirement => (w === 'requires' ? 'require' : 'request');
    for (const n of nodes(this, which)) for (const r of n.rules) { r.inbound = req(inbound); r.outbound = req(outbound); }
  },
);

Given(/^(every node|node\d+)'s key exchange \(main mode\) offers (.+)$/, function (this: CryptgateWorld, which: string, list: string) {
  const proposals = parseProposalList(list, parseMainModeProposal);
  for (const n of nodes(this, which)) n.defaults.mainMode.proposals = structuredClone(proposals);
});

Given(
  /^(every node|node\d+)'s data protection \(quick mode\) offers (.+?) with "Require encryption" (ticked|not ticked)$/,
  function (this: CryptgateWorld, which: string, list: string, ticked: string) {
    const proposals = parseProposalList(list, parseQuickModeProposal);
    for (const n of nodes(this, which)) {
      n.defaults.quickMode.proposals = structuredClone(proposals);
      n.defaults.quickMode.requireEncryption = ticked === 'ticked';
    }
  },
);

Given(/^every rule uses the key module (IKEv1|IKEv2|AuthIP)$/, function (this: CryptgateWorld, module: string) {
  const km = module.toLowerCase() as KeyModule;
  for (const n of ipsecScenario(this).policy.nodes) for (const r of n.rules) r.keyModule = km;
});

Given('{word}\'s computer certificate comes from {string}', function (this: CryptgateWorld, node: string, ca: string) {
  nodeNamed(ipsecScenario(this).policy, node).credentials.certificateIssuers = [ca];
});

Given('{word}\'s rule accepts only computer certificates from {string}', function (this: CryptgateWorld, node: string, ca: string) {
  for (const r of nodeNamed(ipsecScenario(this).policy, node).rules) r.authentication = [{ kind: 'computer-certificate', caName: ca, signing: 'RSA' }];
});

Given('NAT traversal is on between the nodes', function (this: CryptgateWorld) {
  ipsecScenario(this).natTraversal = true;
});

Given('{int} external clients browse the gateway over TLS', function (this: CryptgateWorld, n: number) {
  ipsecScenario(this).externalClients = n;
});

Given('{word} runs only the gateway and has no connection security rule', function (this: CryptgateWorld, node: string) {
  const s = ipsecScenario(this);
  s.gatewayOnly.push(node);
  nodeNamed(s.policy, node).rules = [];
  // The other nodes' rules do not cover it either: the gateway-only node is outside the IPsec set-up.
  const address = s.addressOf(node);
  for (const n of s.policy.nodes) for (const r of n.rules) r.endpoint2 = r.endpoint2.filter((a) => a !== address);
});

Given('the compliance policy lists {word} as a gateway-only node', function (this: CryptgateWorld, node: string) {
  ipsecScenario(this).declaredGatewayNodes.push(node);
});

// ---------------------------------------------------------------- run and judge

// Live strongSwan runs take seconds (namespaces, IKE, traffic, capture): well past cucumber's 5 s default.
When(/^the cluster runs for (\d+) seconds? while the switch is captured as (pcap|pcapng)$/, { timeout: 120_000 }, async function (this: CryptgateWorld, seconds: string, format: string) {
  const s = ipsecScenario(this);
  const r = await s.run(Number(seconds), format as 'pcap' | 'pcapng', this.parameters.wire);
  // Judge the evidence exactly as `cryptgate check capture <capture> --policy <file>` does.
  const policy = loadPolicy(r.complianceFile);
  this.judgement = await judgeCaptures({ files: [r.capture], nodes: new NodeSet(policy.nodes, `${r.complianceFile}: nodes`), policy });
  const root = join(this.parameters.evidenceDir, '..');
  for (const n of s.policy.nodes) this.observe(policySummary(n));
  this.observe({
    evidence: relative(root, r.dir),
    capture: relative(root, r.capture),
    judgeWith: `cryptgate check capture ${relative(root, r.capture)} --policy ${relative(root, r.complianceFile)}`,
    wire: r.wire,
    ...(r.fallbackReason !== undefined ? { liveWireNotUsed: r.fallbackReason } : {}),
    ...(r.liveNotes.length > 0 ? { liveApproximations: r.liveNotes } : {}),
    ...(r.stats
      ? {
          packets: r.stats.packets,
          espPackets: r.stats.espPackets,
          ahPackets: r.stats.ahPackets,
          ikePackets: r.stats.ikePackets,
          plaintextPackets: r.stats.plaintextPackets,
        }
      : {}),
  });
  for (const check of this.judgement.checks) this.observe({ check: check.id, status: check.status, findings: check.findings.length });
});

/** One node's IPsec settings as the console shows them: what this scenario ran with. */
function policySummary(n: NodeIpsecPolicy): Record<string, unknown> {
  const qm = n.defaults.quickMode;
  return {
    node: n.name,
    rules: n.rules.length === 0 ? 'none' : n.rules.map((r) => `"${r.name}"${r.enabled ? '' : ' (disabled)'}: ${r.endpoint1.join(',')} ↔ ${r.endpoint2.join(',')}, inbound ${r.inbound}, outbound ${r.outbound}, ${r.authentication.map(describeAuthMethod).join(' or ') || 'default authentication'}, key module ${r.keyModule}`).join('; '),
    mainMode: n.defaults.mainMode.proposals.map(describeMainModeProposal).join(', '),
    quickMode: `${qm.requireEncryption ? 'require encryption; ' : ''}${qm.proposals.map(describeQuickModeProposal).join(', ')}`,
    certificates: n.credentials.certificateIssuers.join(', ') || 'none',
  };
}

function pairRow(world: CryptgateWorld, a: string, b: string): Record<string, unknown> | undefined {
  const [x, y] = [a, b].sort();
  return world.check('ipsec.esp-only').observed.find((r) => r.nodeA === x && r.nodeB === y);
}

Then('no ESP was seen between {word} and {word}', function (this: CryptgateWorld, a: string, b: string) {
  const s = ipsecScenario(this);
  const row = pairRow(this, s.addressOf(a), s.addressOf(b));
  assert.ok(!row || (row.espPackets as number) === 0, `ESP seen between ${a} and ${b}: ${JSON.stringify(row)}`);
  this.observe({ pair: `${a}–${b}`, espPackets: row?.espPackets ?? 0 });
});

Then('ESP was seen between {word} and {word}', function (this: CryptgateWorld, a: string, b: string) {
  const s = ipsecScenario(this);
  const row = pairRow(this, s.addressOf(a), s.addressOf(b));
  assert.ok(row && (row.espPackets as number) > 0, `no ESP between ${a} and ${b}: ${JSON.stringify(row)}`);
  this.observe({ pair: `${a}–${b}`, espPackets: row.espPackets });
});

Then('IKE was seen between {word} and {word}', function (this: CryptgateWorld, a: string, b: string) {
  const s = ipsecScenario(this);
  const row = pairRow(this, s.addressOf(a), s.addressOf(b));
  assert.ok(row && (row.ikePackets as number) > 0, `no IKE between ${a} and ${b}: ${JSON.stringify(row)}`);
  this.observe({ pair: `${a}–${b}`, ikePackets: row.ikePackets });
});

Then('no service data was seen between {word} and {word}', function (this: CryptgateWorld, a: string, b: string) {
  const s = ipsecScenario(this);
  const row = pairRow(this, s.addressOf(a), s.addressOf(b));
  assert.ok(!row || ((row.espPackets as number) === 0 && (row.plaintextPackets as number) === 0 && (row.ahOnlyPackets as number) === 0), `traffic between ${a} and ${b}: ${JSON.stringify(row)}`);
});

Then('ESP was carried in UDP on port 4500 between every pair of nodes', function (this: CryptgateWorld) {
  const flows = this.check('ipsec.no-esp-null').observed;
  assert.ok(flows.length > 0, 'no ESP flows observed');
  const espFlows = this.judgement!.facts.espFlows;
  assert.ok(espFlows.length > 0 && espFlows.every((f) => f.udpEncapsulated), `ESP flows not all UDP-encapsulated: ${espFlows.filter((f) => !f.udpEncapsulated).map((f) => `${f.src}→${f.dst}`).join(', ')}`);
  this.observe({ udpEncapsulatedEspFlows: espFlows.length });
});

Then('the clear traffic of the external clients to {word} port {int} is reported as information only', function (this: CryptgateWorld, node: string, port: number) {
  const s = ipsecScenario(this);
  const address = s.addressOf(node);
  const hits = this.check('ipsec.esp-only').findings.filter((f) => f.evidence.dst === address && f.evidence.dstPort === port && f.evidence.nonNode === true);
  assert.ok(hits.length > 0, `no non-node finding for ${address}:${port}`);
  for (const h of hits) assert.equal(h.severity, 'info', h.message);
  this.observe({ externalTraffic: hits.map((h) => h.message) });
});

Then('the traffic of {word} is reported separately as gateway-only node traffic', function (this: CryptgateWorld, node: string) {
  const address = ipsecScenario(this).addressOf(node);
  const hits = this.check('ipsec.esp-only').findings.filter((f) => f.evidence.gatewayNode === true && (f.evidence.src === address || f.evidence.dst === address));
  assert.ok(hits.length > 0, `no gateway-only finding for ${address}`);
  for (const h of hits) assert.equal(h.severity, 'info', h.message);
  this.observe({ gatewayNodeTraffic: hits.length });
});

Then('a finding names the pair {word} and {word}, port {int} and the service {string}', function (this: CryptgateWorld, a: string, b: string, port: number, service: string) {
  const s = ipsecScenario(this);
  const [x, y] = [s.addressOf(a), s.addressOf(b)];
  const findings = this.check('ipsec.esp-only').findings.filter((f) => f.severity !== 'info');
  const hit = findings.find((f) => ((f.evidence.src === x && f.evidence.dst === y) || (f.evidence.src === y && f.evidence.dst === x)) && f.evidence.dstPort === port);
  assert.ok(hit, `no finding for ${a}–${b} port ${port}: ${findings.map((f) => f.message).join(' | ')}`);
  assert.match(String(hit.evidence.service), new RegExp(service, 'i'));
  for (const field of ['packets', 'bytes', 'firstSeen', 'lastSeen']) assert.ok(hit.evidence[field], `finding lacks ${field}`);
  this.observe({ finding: hit.message });
});

Then('every plaintext finding between nodes involves {word}', function (this: CryptgateWorld, node: string) {
  const address = ipsecScenario(this).addressOf(node);
  const findings = this.check('ipsec.esp-only').findings.filter((f) => f.severity !== 'info');
  assert.ok(findings.length > 0, 'no plaintext finding');
  for (const f of findings) assert.ok(f.evidence.src === address || f.evidence.dst === address, f.message);
});

// ---------------------------------------------------------------- what the administrator sees

/** The tsm status text the cluster left, and what it says. */
function tsmStatus(world: CryptgateWorld): { text: string; status: TsmStatus } {
  const r = ipsecScenario(world).result;
  assert.ok(r, 'the cluster has not run');
  const text = readFileSync(r.statusFile, 'utf8');
  return { text, status: parseTsmStatus(text, r.statusFile) };
}

Then('tsm status shows every service running', function (this: CryptgateWorld) {
  const { text, status } = tsmStatus(this);
  assert.equal(status.overall, 'RUNNING', text);
  for (const [node, n] of status.nodes) for (const [service, s] of n.services) assert.equal(s.state, 'running', `${service} on ${node}: ${s.state} ${s.detail ?? ''}`);
});

Then('tsm status shows the {string} on {word} in an error state naming {string}', function (this: CryptgateWorld, service: string, node: string, cause: string) {
  const { text, status } = tsmStatus(this);
  assert.equal(status.overall, 'DEGRADED', text);
  const services = status.nodes.get(node)?.services;
  assert.ok(services, `tsm status has no block for ${node}:\n${text}`);
  // The feature names the service as people say it ("VizQL Server"); the status spells "Tableau Server VizQL Server".
  const [title, s] = [...services].find(([t]) => t === service || t.endsWith(` ${service}`)) ?? [];
  assert.ok(title && s, `no ${service} on ${node} in tsm status:\n${text}`);
  assert.equal(s.state, 'error', `${title} on ${node} is ${s.state}`);
  assert.ok(s.detail?.includes(cause), `"${s.detail}" does not name "${cause}"`);
  this.observe({ tsmStatus: `${node}: '${title} 0' is in an error state. ${s.detail}` });
});

Then('the IPsec log explains {string}', function (this: CryptgateWorld, text: string) {
  const r = ipsecScenario(this).result;
  assert.ok(r, 'the cluster has not run');
  const log = readFileSync(r.logFile, 'utf8');
  const line = log.split('\n').find((l) => l.includes(text));
  assert.ok(line, `the IPsec log has no line with "${text}"`);
  this.observe({ ipsecLog: line });
});
