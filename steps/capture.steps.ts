// Steps that judge captures through the same judge `cryptgate check capture` uses.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Given, Then, When } from '@cucumber/cucumber';
import { judgeCaptures } from '../src/compliance/capture-judge.js';
import { NodeSet } from '../src/compliance/node-set.js';
import { DEFAULT_POLICY } from '../src/compliance/policy.js';
import { packageRoot } from '../src/util/package-info.js';
import type { CryptgateWorld } from './world.js';

const REAL_CAPTURES = 'test/fixtures/captures/strongswan';

Given('the cluster nodes are {nodeList}', function (this: CryptgateWorld, nodes: string[]) {
  this.nodes = nodes;
});

When('cryptgate checks the real capture {string}', async function (this: CryptgateWorld, file: string) {
  this.judgement = await judgeCaptures({ files: [join(packageRoot(), REAL_CAPTURES, file)], nodes: new NodeSet(this.nodes), policy: DEFAULT_POLICY });
  for (const check of this.judgement.checks) this.observe({ check: check.id, status: check.status, findings: check.findings.length });
});

Then('check {string} passes', function (this: CryptgateWorld, id: string) {
  const check = this.check(id);
  assert.equal(check.status, 'pass', `${id} is ${check.status}: ${check.findings.map((f) => f.message).join('; ')}`);
});

Then('check {string} fails', function (this: CryptgateWorld, id: string) {
  assert.equal(this.check(id).status, 'fail');
});

Then('ESP was seen between every pair of nodes', function (this: CryptgateWorld) {
  const rows = this.check('ipsec.esp-only').observed;
  for (let i = 0; i < this.nodes.length; i++) {
    for (let j = i + 1; j < this.nodes.length; j++) {
      const [a, b] = [this.nodes[i]!, this.nodes[j]!].sort();
      const row = rows.find((r) => r.nodeA === a && r.nodeB === b);
      assert.ok(row && (row.espPackets as number) > 0, `no ESP seen between ${a} and ${b}`);
      this.observe({ nodeA: a, nodeB: b, espPackets: row.espPackets });
    }
  }
});

Then(
  'a finding names {word} from {address} to {address} port {int} for the service {string}',
  function (this: CryptgateWorld, protocol: string, src: string, dst: string, port: number, service: string) {
    const findings = this.check('ipsec.esp-only').findings.filter((f) => f.severity !== 'info');
    const hit = findings.find((f) => f.evidence.src === src && f.evidence.dst === dst && f.evidence.dstPort === port && f.evidence.protocol === protocol.toLowerCase());
    assert.ok(hit, `no finding for ${protocol} ${src} → ${dst}:${port}; findings: ${findings.map((f) => f.message).join(' | ')}`);
    assert.match(String(hit.evidence.service), new RegExp(service, 'i'));
    for (const field of ['packets', 'bytes', 'firstSeen', 'lastSeen']) assert.ok(hit.evidence[field], `finding lacks ${field}`);
  },
);

Then('no finding names the pair {address} and {address}', function (this: CryptgateWorld, a: string, b: string) {
  const findings = this.check('ipsec.esp-only').findings.filter((f) => f.severity !== 'info');
  const hit = findings.find((f) => (f.evidence.src === a && f.evidence.dst === b) || (f.evidence.src === b && f.evidence.dst === a));
  assert.equal(hit, undefined, hit?.message);
});

Then(
  'every negotiated IKE SA uses {word} {int}, {word}, {word} and group {int}',
  function (this: CryptgateWorld, encryption: string, keyLength: number, integrity: string, prf: string, group: number) {
    const sas = this.check('ipsec.ike-policy').observed.filter((o) => o.status === 'negotiated');
    assert.ok(sas.length > 0, 'no negotiated IKE SA');
    for (const sa of sas) assert.deepEqual([sa.encryption, sa.keyLength, sa.integrity, sa.prf, sa.dhGroup], [encryption, keyLength, integrity, prf, group]);
  },
);

Then('a finding says {string}', function (this: CryptgateWorld, text: string) {
  const all = this.judgement?.checks.flatMap((c) => c.findings.map((f) => f.message)) ?? [];
  assert.ok(all.some((m) => m.includes(text)), `no finding mentions "${text}": ${all.join(' | ')}`);
});
