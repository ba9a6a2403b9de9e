// The glue from the Windows-style negotiation (src/ipsec) to the live plan: the seed's
// set-up and its usual breakages become the pairs strongSwan must reproduce, and every
// resulting plan is one the translator accepts.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { planDirection, seedSetupPolicy, type ClusterIpsecPolicy } from '../../../src/ipsec/index.js';
import { livePlanFromNegotiation, espFromIana, type PlannedFlow, type PlannedHost } from '../../../simulators/live/from-negotiation.js';
import { liveUnsupported, validateLivePlan, type LivePlan } from '../../../simulators/live/plan.js';
import { swanctlConf } from '../../../simulators/live/swanctl.js';

const HOSTS: PlannedHost[] = [
  { name: 'node1', address: '10.0.0.11' },
  { name: 'node2', address: '10.0.0.12' },
  { name: 'node3', address: '10.0.0.13' },
  { name: 'client1', address: '203.0.113.10' },
];
const NODES = HOSTS.slice(0, 3).map((h) => ({ name: h.name, address: h.address }));

/** Every node talks to every other on 8060 and 8850, and the client reaches node1 on 443. */
function flowsUnder(policy: ClusterIpsecPolicy): PlannedFlow[] {
  const flows: PlannedFlow[] = [];
  for (const a of NODES) {
    for (const b of NODES) {
      if (a === b) continue;
      for (const port of [8060, 8850]) flows.push({ client: a.address, server: b.address, port, plan: planDirection(policy, a.address, b.address, { protocol: 'tcp', port }) });
    }
  }
  flows.push({ client: '203.0.113.10', server: '10.0.0.11', port: 443, plan: planDirection(policy, '203.0.113.10', '10.0.0.11', { protocol: 'tcp', port: 443 }) });
  return flows;
}

function live(policy: ClusterIpsecPolicy): LivePlan {
  const { plan } = livePlanFromNegotiation(HOSTS, flowsUnder(policy), { natTraversal: false });
  validateLivePlan(plan);
  for (const n of plan.nodes) if (!n.external) swanctlConf(plan, n.name, () => 'k'); // the translator accepts it
  return plan;
}

const pairOf = (plan: LivePlan, x: string, y: string) => plan.pairs.find((p) => (p.a === x && p.b === y) || (p.a === y && p.b === x));

describe('livePlanFromNegotiation', () => {
  it("the seed's set-up: every pair ESP with the chosen suites; the client is external", () => {
    const plan = live(seedSetupPolicy(NODES));
    assert.equal(plan.pairs.length, 3);
    for (const p of plan.pairs) {
      assert.equal(p.outcome, 'esp');
      assert.deepEqual(p.ike, { version: 1, encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256', dhGroup: 14, lifetimeSeconds: 480 * 60 });
      assert.equal(p.esp?.encryption, 'ENCR_AES_CBC');
      assert.equal(p.esp?.integrity, 'AUTH_HMAC_SHA2_256_128');
      // a offers its whole quick-mode list (AES-GCM second, as strongSwan says it); b accepts the choice
      assert.deepEqual(p.offers?.a?.esp?.map((s) => s.encryption), ['ENCR_AES_CBC', 'ENCR_AES_GCM_16']);
      assert.equal(p.offers?.a?.esp?.[1]?.integrity, 'NONE');
    }
    assert.deepEqual(plan.nodes.find((n) => n.name === 'client1'), { name: 'client1', ip: '203.0.113.10', external: true });
    assert.ok(plan.flows.some((f) => f.client === 'client1' && f.server === 'node1' && f.port === 443));
    assert.equal(plan.flows.length, 13);
    assert.deepEqual(liveUnsupported(plan), []);
  });

  it('a node without its rule: the others start IKE, it never answers, and their "require" blocks the pair', () => {
    const policy = seedSetupPolicy(NODES);
    policy.nodes[2]!.rules = [];
    const plan = live(policy);
    assert.equal(pairOf(plan, 'node1', 'node2')?.outcome, 'esp');
    for (const other of ['node1', 'node2']) {
      const p = pairOf(plan, other, 'node3')!;
      assert.equal(p.outcome, 'fail');
      assert.equal(p.failure?.cause, 'no-peer-rule');
      assert.equal(p.a, other, 'the node with the rule initiates');
      assert.deepEqual(p.requireSides, ['a']);
      assert.match(p.failure?.detail ?? '', /node3 has no connection security rule covering/);
    }
  });

  it('weak main mode stays weak live', () => {
    const policy = seedSetupPolicy(NODES);
    for (const n of policy.nodes) n.defaults.mainMode.proposals = [{ integrity: 'SHA1', encryption: '3DES', keyExchange: 'DH2' }];
    for (const p of live(policy).pairs) {
      assert.equal(p.outcome, 'esp');
      assert.equal(p.ike?.encryption, 'ENCR_3DES');
      assert.equal(p.ike?.keyLength, undefined);
      assert.equal(p.ike?.dhGroup, 2);
    }
  });

  it('a certificate from another authority: authentication failure, both sides require', () => {
    const policy = seedSetupPolicy(NODES);
    policy.nodes[1]!.credentials.certificateIssuers = ['Some Other CA'];
    const plan = live(policy);
    const p = pairOf(plan, 'node1', 'node2')!;
    assert.equal(p.outcome, 'fail');
    assert.equal(p.failure?.cause, 'authentication');
    assert.deepEqual(p.requireSides, ['a', 'b']);
    assert.equal(pairOf(plan, 'node1', 'node3')?.outcome, 'esp');
  });

  it('no common main-mode proposal: b is given a list that shares nothing with a', () => {
    const policy = seedSetupPolicy(NODES);
    policy.nodes[2]!.defaults.mainMode.proposals = [{ integrity: 'SHA384', encryption: 'AES256', keyExchange: 'DH20' }];
    const p = pairOf(live(policy), 'node1', 'node3')!;
    assert.equal(p.failure?.cause, 'no-common-proposal');
    const a = p.offers!.a!.ike!;
    const b = p.offers!.b!.ike!;
    assert.ok(b.every((x) => !a.some((y) => y.encryption === x.encryption && y.keyLength === x.keyLength && y.integrity === x.integrity && y.dhGroup === x.dhGroup)));
  });

  it('"request" without a partner: plain text after an IKE attempt by the requesting side', () => {
    const policy = seedSetupPolicy(NODES);
    for (const n of policy.nodes) for (const r of n.rules) Object.assign(r, { inbound: 'request', outbound: 'request' });
    policy.nodes[2]!.rules = [];
    const plan = live(policy);
    const p = pairOf(plan, 'node1', 'node3')!;
    assert.equal(p.outcome, 'plaintext');
    assert.equal(p[p.requestedBy!], 'node1');
  });

  it('AES-GMAC integrity-only quick mode becomes ENCR_NULL_AUTH_AES_GMAC; AH stays AH (and cannot run live)', () => {
    assert.deepEqual(espFromIana({ protocols: ['ESP'], espEncryption: 'ENCR_NULL', espKeyLength: null, espIntegrity: 'AUTH_AES_256_GMAC', ahIntegrity: null }, null), {
      protocol: 'esp', encryption: 'ENCR_NULL_AUTH_AES_GMAC', keyLength: 256, integrity: 'NONE',
    });
    assert.equal(espFromIana({ protocols: ['AH'], espEncryption: null, espKeyLength: null, espIntegrity: null, ahIntegrity: 'AUTH_HMAC_SHA2_256_128' }, 14).protocol, 'ah');
  });
});
