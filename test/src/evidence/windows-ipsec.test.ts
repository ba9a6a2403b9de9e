// Windows IPsec exports read back into the policy model: PowerShell ConvertTo-Json with enum
// names and with enum numbers, UTF-16 files, netsh text; malformed exports refused with the
// place and the expectation; and the IPsec checks and wire cross-checks on the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import { qm, type NodeIpsecPolicy } from '../../../src/ipsec/policy-model.js';
import { authSetExport, mainModeExport, netshConsecText, quickModeExport, ruleExport } from '../../../src/evidence/windows-ipsec-export.js';
import { buildNodePolicy, parseNetshConsec, readPowerShellIpsecExport } from '../../../src/evidence/windows-ipsec-reader.js';
import { NETSH_ACTION, windowsIpsecShape, looksLikeNetshConsec } from '../../../src/evidence/windows-ipsec.js';
import { runAudit } from '../../../src/audit/run-audit.js';
import { defaultPolicy } from '../../../src/compliance/policy.js';
import { FormatError, InputError } from '../../../src/util/errors.js';
import type { Check } from '../../../src/report/model.js';
import { CAPTURES, CAPTURE_NODES } from '../../helpers/audit-evidence.js';

const NODES = CAPTURE_NODES.map((address, i) => ({ name: `node${i + 1}`, address }));
const seed = (): NodeIpsecPolicy[] => seedSetupPolicy(NODES).nodes;
const status = (checks: Check[]): Record<string, string> => Object.fromEntries(checks.map((c) => [c.id, c.status]));

function readBack(node: NodeIpsecPolicy, enums: 'names' | 'numbers'): NodeIpsecPolicy {
  const items = readPowerShellIpsecExport(JSON.parse(JSON.stringify(ruleExport(node, { enums }))), 'rules.json', node.name);
  readPowerShellIpsecExport(JSON.parse(JSON.stringify(mainModeExport(node, { enums }))), 'mm.json', node.name, items);
  readPowerShellIpsecExport(JSON.parse(JSON.stringify(quickModeExport(node, { enums }))), 'qm.json', node.name, items);
  readPowerShellIpsecExport(JSON.parse(JSON.stringify(authSetExport(node, { enums }))), 'auth.json', node.name, items);
  return buildNodePolicy(node.name, items).policy;
}

test('PowerShell exports (enum names and enum numbers) read back into exactly the model they came from', () => {
  for (const node of seed()) {
    const expected = { ...node, credentials: { certificateIssuers: [] } };
    assert.deepEqual(readBack(node, 'names'), expected, `${node.name} (names)`);
    assert.deepEqual(readBack(node, 'numbers'), expected, `${node.name} (numbers)`);
  }
  const weak = seed()[0]!;
  weak.defaults.quickMode = { requireEncryption: false, perfectForwardSecrecy: 'DH14', proposals: [qm('ESP', 'AES128', 'SHA1'), qm('ESP', 'None', 'SHA1'), { ...qm('AH', 'None', 'None'), ahIntegrity: 'SHA1' }] };
  weak.rules[0]!.inbound = 'request';
  assert.deepEqual(readBack(weak, 'numbers').defaults.quickMode, weak.defaults.quickMode);
  assert.equal(readBack(weak, 'names').rules[0]!.inbound, 'request');
  assert.equal(windowsIpsecShape(ruleExport(weak)), 'Get-NetIPsecRule');
  assert.equal(windowsIpsecShape(mainModeExport(weak)), 'Get-NetIPsecMainModeCryptoSet');
  assert.equal(windowsIpsecShape(quickModeExport(weak)), 'Get-NetIPsecQuickModeCryptoSet');
  assert.equal(windowsIpsecShape(authSetExport(weak)), 'Get-NetIPsecPhase1AuthSet');
  assert.equal(windowsIpsecShape([...ruleExport(weak), mainModeExport(weak)]), 'NetIPsec export');
});

test('netsh advfirewall consec output reads into the same rules (CRLF, padded fields)', () => {
  const node = seed()[1]!;
  const text = netshConsecText(node);
  assert.ok(looksLikeNetshConsec(text));
  const items = parseNetshConsec(text, 'consec.txt', node.name);
  const built = buildNodePolicy(node.name, items).policy;
  assert.deepEqual(built.rules[0]!.endpoint1, node.rules[0]!.endpoint1);
  assert.deepEqual(built.rules[0]!.endpoint2, node.rules[0]!.endpoint2);
  assert.deepEqual([built.rules[0]!.inbound, built.rules[0]!.outbound, built.rules[0]!.profiles], ['require', 'require', ['domain', 'private', 'public']]);
  assert.deepEqual(built.rules[0]!.authentication, node.rules[0]!.authentication);
  assert.deepEqual(built.rules[0]!.quickMode?.proposals, node.defaults.quickMode.proposals);
});

test('every netsh Action and a 3DES proposal (DES3 to PowerShell) read back as written', () => {
  for (const pair of Object.keys(NETSH_ACTION)) {
    const node = seed()[0]!;
    const [inbound, outbound] = pair.split('/') as ['require' | 'request' | 'none', 'require' | 'request' | 'none'];
    Object.assign(node.rules[0]!, { inbound, outbound });
    const rule = buildNodePolicy(node.name, parseNetshConsec(netshConsecText(node), 'consec.txt', node.name)).policy.rules[0]!;
    assert.deepEqual([rule.inbound, rule.outbound], [inbound, outbound], pair);
  }
  const node = seed()[0]!;
  node.defaults.quickMode.proposals = [qm('ESP', '3DES', 'SHA1')];
  assert.equal((quickModeExport(node)[0]!.Proposal as { Encryption: unknown }[])[0]!.Encryption, 'DES3');
  assert.deepEqual(readBack(node, 'names').defaults.quickMode.proposals, node.defaults.quickMode.proposals);
  assert.deepEqual(readBack(node, 'numbers').defaults.quickMode.proposals, node.defaults.quickMode.proposals);
  const netsh = buildNodePolicy(node.name, parseNetshConsec(netshConsecText(node), 'consec.txt', node.name)).policy;
  assert.deepEqual(netsh.rules[0]!.quickMode?.proposals, node.defaults.quickMode.proposals);
});

test('malformed exports: where and what was expected', () => {
  const node = seed()[0]!;
  const mmBad = mainModeExport(node) as { Proposal: Record<string, unknown>[] };
  mmBad.Proposal[0]!.Encryption = 'AES257';
  assert.throws(
    () => readPowerShellIpsecExport(mmBad, 'mm.json', 'node1'),
    (e: Error) => e instanceof FormatError && e.message === 'mm.json: /Proposal/0/Encryption: expected an encryption algorithm: one of None, DES, DES3, AES128, AES192, AES256, AESGCM128, AESGCM192, AESGCM256 (or its number 0..8), found "AES257"',
  );
  const rules = ruleExport(node);
  rules[0]!.InboundSecurity = 7;
  assert.throws(() => readPowerShellIpsecExport(rules, 'rules.json', 'node1'), (e: Error) => e instanceof FormatError && e.message === 'rules.json: /0/InboundSecurity: expected an inbound requirement: one of None, Request, Require (or its number 0..2), found 7');
  const noAddr = ruleExport(node).map(({ LocalAddress: _l, RemoteAddress: _r, ...rest }) => rest);
  const items = readPowerShellIpsecExport(noAddr, 'rules.json', 'node1');
  assert.throws(() => buildNodePolicy('node1', items), (e: Error) => e instanceof InputError && /^rules\.json: \/0: rule "Cluster nodes: require IPsec": expected its addresses: LocalAddress and RemoteAddress on the rule/.test(e.message));
  // With the address filters exported beside the rules (Get-NetIPsecRule | Get-NetFirewallAddressFilter), joined on InstanceID.
  const filters = noAddr.map((r, i) => ({ InstanceID: r.IPsecRuleName, LocalAddress: node.rules[i]!.endpoint1, RemoteAddress: node.rules[i]!.endpoint2 }));
  readPowerShellIpsecExport(filters, 'filters.json', 'node1', items);
  assert.deepEqual(buildNodePolicy('node1', items).policy.rules[0]!.endpoint2, node.rules[0]!.endpoint2);
  assert.equal(windowsIpsecShape(filters), 'Get-NetFirewallAddressFilter');
  const text = netshConsecText(node).replace('RequireInRequireOut', 'RequireEverything');
  assert.throws(() => parseNetshConsec(text, 'consec.txt', 'node1'), (e: Error) => e instanceof FormatError && /^consec\.txt: line 13: Action: expected one of requireinrequireout, /.test(e.message));
  assert.throws(() => parseNetshConsec('Enabled: Yes\n', 'c.txt', 'n'), (e: Error) => e instanceof FormatError && e.message === "c.txt: line 1: Rule Name: expected each rule to start with a \"Rule Name:\" line, found 'Enabled: Yes'");
});

function writeExports(dir: string, nodes: NodeIpsecPolicy[]): void {
  const [n1, n2, n3] = nodes;
  // node1: PowerShell 7 (enum names) JSON; node2: netsh text; node3: Windows PowerShell 5 `Out-File` (UTF-16 LE, numbers).
  mkdirSync(join(dir, 'node1'), { recursive: true });
  writeFileSync(join(dir, 'node1', 'rules.json'), JSON.stringify(ruleExport(n1!), null, 2));
  writeFileSync(join(dir, 'node1', 'mm.json'), JSON.stringify(mainModeExport(n1!), null, 2));
  writeFileSync(join(dir, 'node1', 'qm.json'), JSON.stringify(quickModeExport(n1!), null, 2));
  writeFileSync(join(dir, 'node1', 'auth.json'), JSON.stringify(authSetExport(n1!), null, 2));
  mkdirSync(join(dir, 'node2'), { recursive: true });
  writeFileSync(join(dir, 'node2', 'consec.txt'), netshConsecText(n2!));
  writeFileSync(join(dir, 'node2', 'mm.json'), JSON.stringify(mainModeExport(n2!), null, 2));
  mkdirSync(join(dir, 'node3'), { recursive: true });
  const utf16 = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s.replace(/\n/g, '\r\n'), 'utf16le')]);
  writeFileSync(join(dir, 'node3', 'ipsec.txt'), utf16(JSON.stringify([...ruleExport(n3!, { enums: 'numbers' }), mainModeExport(n3!, { enums: 'numbers' }), ...quickModeExport(n3!, { enums: 'numbers' }), ...authSetExport(n3!, { enums: 'numbers' })], null, 4)));
}

test('audit: the seed configuration on all nodes passes every IPsec check, and the wire agrees with it', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-winipsec-'));
  try {
    writeExports(d, seed());
    copyFileSync(join(CAPTURES, 'compliant.pcap'), join(d, 'capture.pcap'));
    const r = await runAudit({ folder: d, policy: defaultPolicy(), now: new Date('2024-06-01T00:00:00Z') });
    const s = status(r.checks);
    assert.deepEqual([s['ipsec.rules'], s['ipsec.main-mode'], s['ipsec.quick-mode'], s['ipsec.rule-coverage'], s['ipsec.proposals-allowed'], s['ipsec.esp-only']], ['pass', 'pass', 'pass', 'pass', 'pass', 'pass'], JSON.stringify(r.checks.filter((c) => c.status !== 'pass').map((c) => [c.id, c.findings[0]?.message])));
    assert.deepEqual(r.context.nodes, CAPTURE_NODES, 'the node list comes from the exports when no policy gives one');
    assert.deepEqual(r.files.filter((f) => f.rel.startsWith('node3')).map((f) => f.format), ['PowerShell NetIPsec export (ConvertTo-Json) (UTF-16 LE)']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('audit: a rule missing a node, a weak main mode, integrity-only data protection and a Request rule are each named', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-winipsec-'));
  try {
    const nodes = seed();
    nodes[0]!.rules[0]!.endpoint2 = [CAPTURE_NODES[1]!]; // node1 forgets node3
    nodes[0]!.defaults.mainMode.proposals = [{ integrity: 'SHA1', encryption: 'AES128', keyExchange: 'DH2' }];
    nodes[0]!.defaults.mainMode.forceDiffieHellman = false;
    nodes[0]!.defaults.quickMode = { requireEncryption: false, perfectForwardSecrecy: 'None', proposals: [qm('ESP', 'AES256', 'SHA256'), qm('ESP', 'None', 'SHA1')] };
    nodes[2]!.rules[0]!.outbound = 'request';
    writeExports(d, nodes);
    copyFileSync(join(CAPTURES, 'compliant.pcap'), join(d, 'capture.pcap'));
    const r = await runAudit({ folder: d, policy: defaultPolicy(), now: new Date('2024-06-01T00:00:00Z') });
    const msgs = (id: string): string[] => r.checks.find((c) => c.id === id)!.findings.filter((f) => f.severity !== 'info').map((f) => f.message);
    assert.deepEqual(msgs('ipsec.rules'), [
      'node1: no enabled connection security rule covers 10.77.0.13 (node3) as endpoint 2: traffic between them is not protected by this node',
      'node3: rule "Cluster nodes: require IPsec" covers node1 with require inbound / request outbound: only "Require authentication for inbound and outbound connections" stops clear text (request falls back to it)',
      'node3: rule "Cluster nodes: require IPsec" covers node2 with require inbound / request outbound: only "Require authentication for inbound and outbound connections" stops clear text (request falls back to it)',
    ]);
    assert.match(msgs('ipsec.main-mode')[0]!, /^node1: main mode proposal 1 \(SHA1\/AES128\/DH2\) is weak: .*— it is the first, so it is what peers negotiate$/);
    assert.equal(msgs('ipsec.main-mode')[1], 'node1: "Use Diffie-Hellman for enhanced security" is off (ForceDiffieHellman false): the seed turns it on');
    assert.deepEqual(msgs('ipsec.quick-mode'), ['node1: IPsec defaults (data protection) offers integrity-only protection (ESP None/SHA1): "Require encryption for all connection security rules that use these settings" is not ticked']);
    // The wire: node1 ↔ node3 talked, but node1 has no rule for node3; and the IKE SAs node1
    // took part in used SHA-256/AES-256/group 14, which its exported main mode set does not allow.
    assert.deepEqual(msgs('ipsec.rule-coverage'), [
      'node1 (10.77.0.11) has no enabled rule covering 10.77.0.13, yet the capture shows 110 packets between them (first at 2026-11-23T09:33:42.387456Z): add 10.77.0.13 to endpoint 2 of its server-to-server rule',
    ]);
    assert.equal(msgs('ipsec.proposals-allowed').length, 2);
    assert.match(msgs('ipsec.proposals-allowed')[0]!, /^IKE SA 10\.77\.0\.11 → 10\.77\.0\.1[23] \(IKEv2\) negotiated ENCR_AES_CBC-256\/PRF_HMAC_SHA2_256\/group 14, which node1's exported main mode set does not allow \(SHA1\/AES128\/DH2\)/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('audit: the simulated cluster\'s own IPsec policy file is read as the nodes\' configuration', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-winipsec-'));
  try {
    mkdirSync(join(d, 'network'));
    const policy = seedSetupPolicy(NODES);
    policy.nodes[1]!.defaults.quickMode.requireEncryption = false;
    policy.nodes[1]!.defaults.quickMode.proposals.push(qm('ESP', 'None', 'SHA256'));
    writeFileSync(join(d, 'network', 'ipsec-policy.json'), JSON.stringify(policy, null, 2));
    copyFileSync(join(CAPTURES, 'compliant.pcap'), join(d, 'network', 'capture.pcap'));
    const r = await runAudit({ folder: d, policy: defaultPolicy(), now: new Date('2024-06-01T00:00:00Z') });
    assert.equal(r.files.find((f) => f.rel === 'network/ipsec-policy.json')!.kind, 'ipsec-policy-model');
    const s = status(r.checks);
    assert.deepEqual([s['ipsec.rules'], s['ipsec.main-mode'], s['ipsec.quick-mode'], s['ipsec.rule-coverage'], s['ipsec.proposals-allowed']], ['pass', 'pass', 'fail', 'pass', 'pass']);
    assert.match(r.checks.find((c) => c.id === 'ipsec.quick-mode')!.findings[0]!.message, /^node2: IPsec defaults \(data protection\) offers integrity-only protection \(ESP None\/SHA256\)/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
