// The IPsec configuration checks judged as the seed means them, and the behaviour each finding
// speaks to: quick mode on what "Require encryption" lets through (a 256-bit AES cipher first,
// CBC or GCM, with or without AH); a weak main-mode alternative fails only when some pair of
// nodes settles on it; a gateway-only node the policy names is reported, not judged; and
// ipsec.rules / rule-coverage / esp-only findings name IPSEC-1, IPSEC-2 or IPSEC-5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ipsecMainModeCheck, ipsecQuickModeCheck, ipsecRulesCheck, mainModeChoices, quickModeProblems, type NodeConfigEvidence } from '../../../src/compliance/rules/ipsec-config.js';
import { defaultPolicy } from '../../../src/compliance/policy.js';
import type { RuleContext } from '../../../src/compliance/rule-kit.js';
import { qm, type MainModeProposal, type NodeIpsecPolicy } from '../../../src/ipsec/policy-model.js';
import { seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import { runAudit } from '../../../src/audit/run-audit.js';
import { judgeCaptures } from '../../../src/compliance/capture-judge.js';
import { NodeSet } from '../../../src/compliance/node-set.js';
import { behaviourResult, type Check } from '../../../src/report/model.js';
import { CAPTURES, CAPTURE_NODES } from '../../helpers/audit-evidence.js';

const NODES = CAPTURE_NODES.map((address, i) => ({ name: `node${i + 1}`, address }));
const ctx = (o: { gatewayNodes?: string[] } = {}): RuleContext => ({ policy: { ...defaultPolicy(), ...o }, now: new Date('2024-06-01T00:00:00Z') });
const evidence = (nodes: NodeIpsecPolicy[]): NodeConfigEvidence[] => nodes.map((policy) => ({ policy, sources: { rules: ['p.json'], mainMode: 'p.json', quickMode: 'p.json', authentication: 'p.json' }, notes: [], weakAuth: [] }));
const serious = (c: Check) => c.findings.filter((f) => (f.severity ?? c.severity) !== 'info');
const STRONG: MainModeProposal = { integrity: 'SHA256', encryption: 'AES256', keyExchange: 'DH14' };
const WEAK: MainModeProposal = { integrity: 'SHA1', encryption: '3DES', keyExchange: 'DH2' };
const GCM: MainModeProposal = { integrity: 'SHA256', encryption: 'AESGCM256', keyExchange: 'DH20' };

test('quick mode: with "Require encryption" ticked, integrity-only methods listed first are reported, not offered', () => {
  const ticked = quickModeProblems({ requireEncryption: true, perfectForwardSecrecy: 'None', proposals: [qm('ESP', 'None', 'SHA1'), { ...qm('AH', 'None', 'None'), ahIntegrity: 'SHA1' }, qm('ESP', 'AES256', 'SHA256')] });
  assert.deepEqual(ticked.map((p) => p.severity), ['info']);
  assert.match(ticked[0]!.message, /^lists integrity-only protection \(ESP None\/SHA1, AH SHA1\) that "Require encryption" keeps from being offered or accepted/);
  const unticked = quickModeProblems({ requireEncryption: false, perfectForwardSecrecy: 'None', proposals: [qm('ESP', 'None', 'SHA1'), qm('ESP', 'AES256', 'SHA256')] });
  assert.deepEqual(unticked.map((p) => [p.severity, p.message.slice(0, 40)]), [
    ['high', 'offers integrity-only protection (ESP No'],
    ['medium', 'the first proposal offered is ESP None/S'],
  ]);
  const nothing = quickModeProblems({ requireEncryption: true, perfectForwardSecrecy: 'None', proposals: [qm('ESP', 'None', 'SHA1')] });
  assert.ok(nothing.some((p) => p.severity === 'medium' && /no proposal encrypts/.test(p.message)));
});

test('quick mode: AES-GCM 256 or AH around ESP AES-CBC 256 at the top is the seed\'s "better algorithm at the top"; AES-128 or 3DES is not', () => {
  const first = (p: ReturnType<typeof qm>) => quickModeProblems({ requireEncryption: true, perfectForwardSecrecy: 'None', proposals: [p, qm('ESP', 'AES256', 'SHA256')] });
  assert.deepEqual(first(qm('ESP', 'AESGCM256', 'AESGMAC256')), []);
  assert.deepEqual(first(qm('AH+ESP', 'AES256', 'SHA256', 'SHA256')), []);
  assert.match(first(qm('ESP', 'AES128', 'SHA256'))[0]!.message, /^the first proposal offered is ESP AES128\/SHA256, not a 256-bit AES cipher/);
  assert.deepEqual(first(qm('ESP', '3DES', 'SHA1')).map((p) => p.severity), ['medium', 'medium']);
  const nodes = evidence(seedSetupPolicy(NODES).nodes);
  nodes[0]!.policy.defaults.quickMode.proposals.unshift(qm('ESP', 'AESGCM256', 'AESGMAC256'));
  assert.equal(ipsecQuickModeCheck(nodes, ctx()).status, 'pass');
});

test('main mode: the proposal a pair settles on is the initiator\'s first the responder has, per keying', () => {
  assert.deepEqual(mainModeChoices([STRONG, WEAK], [WEAK, STRONG]), [STRONG]);
  assert.deepEqual(mainModeChoices([GCM, WEAK], [GCM, WEAK]), [GCM, WEAK], 'IKEv1 has no AES-GCM in phase 1: it falls to the weak one');
  assert.deepEqual(mainModeChoices([STRONG], [WEAK]), []);
});

test('main mode: a weak alternative nobody settles on is reported; one a pair settles on fails; with a node unknown it is a downgrade risk', () => {
  const seed = (): NodeConfigEvidence[] => evidence(seedSetupPolicy(NODES).nodes);
  const alt = seed();
  for (const n of alt) n.policy.defaults.mainMode.proposals = [STRONG, WEAK];
  const reported = ipsecMainModeCheck(alt, ctx());
  assert.equal(reported.status, 'pass');
  assert.equal(reported.findings.length, 3);
  assert.match(reported.findings[0]!.message, /^node1: main mode proposal 2 \(SHA1\/3DES\/DH2\) is weak: .* — reported, not failed: every other node shares a stronger earlier proposal with node1/);

  const settles = seed();
  settles[0]!.policy.defaults.mainMode.proposals = [STRONG, WEAK];
  settles[1]!.policy.defaults.mainMode.proposals = [GCM, WEAK];
  const failed = ipsecMainModeCheck(settles, ctx());
  assert.deepEqual(serious(failed).map((f) => [f.evidence.node, f.severity, f.evidence.pairs]), [['node1', 'high', ['node1–node2']], ['node2', 'high', ['node2–node1']]]);
  assert.match(serious(failed)[0]!.message, /node1–node2 settle on it: it is their first common proposal$/);

  const unknown = seed();
  for (const n of unknown) n.policy.defaults.mainMode.proposals = [STRONG, WEAK];
  unknown[2]!.sources.mainMode = null;
  assert.deepEqual(serious(ipsecMainModeCheck(unknown, ctx())).map((f) => [f.evidence.node, f.severity]), [['node1', 'medium'], ['node2', 'medium']]);
});

test('ipsec.rules: each finding speaks to IPSEC-1 (coverage, profiles) or IPSEC-2 (require, authentication)', () => {
  const nodes = evidence(seedSetupPolicy(NODES).nodes);
  nodes[0]!.policy.rules[0]!.endpoint2 = [CAPTURE_NODES[1]!];
  nodes[1]!.policy.rules[0]!.outbound = 'request';
  const c = ipsecRulesCheck(nodes, ctx());
  assert.deepEqual(serious(c).map((f) => [f.evidence.node, f.behaviour]), [
    ['node1', ['IPSEC-1']],
    ['node2', ['IPSEC-2']],
    ['node2', ['IPSEC-2']],
  ]);
  assert.equal(behaviourResult([c], 'IPSEC-1'), 'fail');
  const onlyRequest = evidence(seedSetupPolicy(NODES).nodes);
  onlyRequest[1]!.policy.rules[0]!.outbound = 'request';
  const r = ipsecRulesCheck(onlyRequest, ctx());
  assert.deepEqual([behaviourResult([r], 'IPSEC-1'), behaviourResult([r], 'IPSEC-2')], ['pass', 'fail']);
});

test('a gateway-only node the policy names: its missing rules are reported, not judged, by ipsec.rules and ipsec.rule-coverage (IPSEC-6)', async () => {
  const gateway = CAPTURE_NODES[2]!;
  const policy = seedSetupPolicy(NODES);
  policy.nodes[2]!.rules = [];
  for (const n of policy.nodes) for (const r of n.rules) r.endpoint2 = r.endpoint2.filter((a) => a !== gateway);
  const rules = ipsecRulesCheck(evidence(structuredClone(policy.nodes)), ctx({ gatewayNodes: [gateway] }));
  assert.equal(rules.status, 'pass');
  assert.ok(rules.findings.length >= 4 && rules.findings.every((f) => f.severity === 'info' && f.evidence.gatewayNode === true && /gateway-only node pair, reported separately/.test(f.message)));
  assert.equal(ipsecRulesCheck(evidence(structuredClone(policy.nodes)), ctx()).status, 'fail', 'not named: judged like any node');

  // On the wire (a capture where node3 talks to the others), through the audit.
  const d = mkdtempSync(join(tmpdir(), 'cg-gateway-'));
  try {
    writeFileSync(join(d, 'ipsec-policy.json'), JSON.stringify(policy, null, 2));
    copyFileSync(join(CAPTURES, 'compliant.pcap'), join(d, 'capture.pcap'));
    const named = await runAudit({ folder: d, policy: { ...defaultPolicy(), gatewayNodes: [gateway] }, hash: false });
    const cov = named.checks.find((c) => c.id === 'ipsec.rule-coverage')!;
    assert.equal(cov.status, 'pass');
    assert.ok(cov.findings.some((f) => f.severity === 'info' && /^Gateway-only node pair, reported separately/.test(f.message)));
    const judged = await runAudit({ folder: d, policy: defaultPolicy(), hash: false });
    const covJudged = judged.checks.find((c) => c.id === 'ipsec.rule-coverage')!;
    assert.equal(covJudged.status, 'fail');
    assert.ok(serious(covJudged).every((f) => f.behaviour?.join() === 'IPSEC-1'), 'a missing rule is IPSEC-1; whether bytes leaked is esp-only\'s to say');
    assert.deepEqual([behaviourResult(judged.checks, 'IPSEC-1'), behaviourResult(judged.checks, 'IPSEC-5')], ['fail', 'pass']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('ipsec.esp-only: a leak between nodes fails IPSEC-5; IPSEC-6 (external clients, gateway-only nodes) is only ever reported', async () => {
  const r = await judgeCaptures({ files: [join(CAPTURES, 'leaking-pair.pcap')], nodes: new NodeSet(CAPTURE_NODES), policy: defaultPolicy() });
  const esp = r.checks.find((c) => c.id === 'ipsec.esp-only')!;
  assert.equal(esp.status, 'fail');
  assert.ok(serious(esp).length > 0 && serious(esp).every((f) => f.behaviour?.join() === 'IPSEC-5'));
  assert.deepEqual([behaviourResult(r.checks, 'IPSEC-5'), behaviourResult(r.checks, 'IPSEC-6')], ['fail', 'pass']);
});
