// The live plan's contract: validation names the field, limits of kernel-libipsec are
// reported as reasons (not crashes), and the policy routing that stands in for Windows'
// "require" and for a node without a rule is exactly what each node gets.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/util/errors.js';
import { clusterFlows, liveUnsupported, silentResponder, validateLivePlan, type EspSuite, type IkeSuite, type LivePlan } from '../../../simulators/live/plan.js';
import { policyRoutingCommands } from '../../../simulators/live/policy-routing.js';
import { commonPrefixLength, macFor } from '../../../simulators/live/netns.js';

const IKE: IkeSuite = { version: 2, encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', dhGroup: 14 };
const ESP: EspSuite = { protocol: 'esp', encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128' };
const NODES = [
  { name: 'n1', ip: '10.0.0.11' },
  { name: 'n2', ip: '10.0.0.12' },
  { name: 'n3', ip: '10.0.0.13' },
];

function base(): LivePlan {
  return { nodes: NODES.map((n) => ({ ...n })), pairs: [{ a: 'n1', b: 'n2', outcome: 'esp', ike: IKE, esp: ESP, natT: false }], flows: [{ client: 'n1', server: 'n2', port: 8060 }] };
}

function rejects(mutate: (p: LivePlan) => void, message: RegExp): void {
  const p = base();
  mutate(p);
  assert.throws(() => validateLivePlan(p), (e: unknown) => e instanceof InputError && message.test(e.message), String(message));
}

describe('validateLivePlan', () => {
  it('accepts a good plan', () => {
    validateLivePlan(base());
  });

  it('names the field of each mistake', () => {
    rejects((p) => (p.nodes[0]!.name = 'bad name'), /nodes\[0\]\.name: expected 1-32 letters/);
    rejects((p) => (p.nodes[1]!.ip = '10.0.0.11'), /nodes\[1\]\.ip: 10\.0\.0\.11 is used by two nodes/);
    rejects((p) => (p.nodes[2]!.ip = '10.0.0.300'), /nodes\[2\]\.ip: expected an IP address/);
    rejects((p) => (p.pairs[0]!.b = 'n9'), /pairs\[0\]\.b: expected a node name, found "n9"/);
    rejects((p) => p.pairs.push({ a: 'n2', b: 'n1', outcome: 'plaintext', natT: false }), /pairs\[1\]: the pair n2\/n1 is listed twice/);
    rejects((p) => delete p.pairs[0]!.esp, /an 'esp' pair needs ike and esp suites/);
    rejects((p) => p.pairs.push({ a: 'n1', b: 'n3', outcome: 'fail', natT: false }), /pairs\[1\]\.failure\.cause: expected one of/);
    rejects(
      (p) => p.pairs.push({ a: 'n1', b: 'n3', outcome: 'fail', natT: false, failure: { cause: 'no-common-proposal' }, ike: IKE, esp: ESP }),
      /'no-common-proposal' but both sides offer IKE/,
    );
    rejects((p) => p.pairs.push({ a: 'n1', b: 'n3', outcome: 'plaintext', natT: false, requestedBy: 'a' }), /requestedBy a needs the suites that side offers/);
    rejects((p) => (p.flows[0]!.port = 70000), /flows\[0\]\.port: expected 1-65535/);
    rejects((p) => (p.flows[0]!.server = 'n1'), /flows\[0\]: client and server are the same node/);
    rejects((p) => {
      p.nodes[2]!.external = true;
      p.pairs.push({ a: 'n1', b: 'n3', outcome: 'plaintext', natT: false });
    }, /pairs\[1\]\.b: "n3" is external and runs no IPsec/);
  });
});

describe('liveUnsupported', () => {
  it('says why AH and IPv6 cannot run live, and nothing for a plan that can', () => {
    assert.deepEqual(liveUnsupported(base()), []);
    const ah = base();
    ah.pairs[0]!.esp = { ...ESP, protocol: 'ah' };
    assert.match(liveUnsupported(ah).join(), /pair n1\/n2 uses AH.*ESP only/);
    const v6 = base();
    v6.nodes[0]!.ip = 'fd00::11';
    assert.match(liveUnsupported(v6).join(), /node n1 has the IPv6 address fd00::11/);
  });
});

describe('policy routing for "require" and for nodes without a rule', () => {
  it('blocks clear traffic on the requiring sides and silences the side without a rule', () => {
    const p = base();
    p.pairs.push(
      { a: 'n1', b: 'n3', outcome: 'fail', natT: false, failure: { cause: 'no-peer-rule' }, ike: IKE, esp: ESP },
      { a: 'n2', b: 'n3', outcome: 'fail', natT: false, failure: { cause: 'authentication' }, ike: IKE, esp: ESP },
    );
    validateLivePlan(p);
    assert.equal(silentResponder(p.pairs[1]!), 'b');
    assert.equal(silentResponder(p.pairs[2]!), undefined);
    const cmds = policyRoutingCommands(p);
    const text = (node: string) => (cmds.get(node) ?? []).map((c) => c.join(' '));
    assert.deepEqual(text('n1'), ['rule add pref 100 fwmark 0x4500 lookup main', 'rule add pref 101 to 10.0.0.13/32 blackhole']);
    assert.deepEqual(text('n2'), ['rule add pref 100 fwmark 0x4500 lookup main', 'rule add pref 101 to 10.0.0.13/32 blackhole']);
    assert.deepEqual(text('n3'), [
      // the local table moves behind the inbound drops (added before the old rule goes)
      'rule add pref 1000 lookup local',
      'rule del pref 0',
      'rule add pref 102 from 10.0.0.11/32 ipproto udp dport 500 blackhole',
      'rule add pref 102 from 10.0.0.11/32 ipproto udp dport 4500 blackhole',
      'rule add pref 100 fwmark 0x4500 lookup main',
      'rule add pref 101 to 10.0.0.12/32 blackhole',
    ]);
  });

  it('needs nothing for ESP and plain-text pairs', () => {
    const p = base();
    p.pairs.push({ a: 'n1', b: 'n3', outcome: 'plaintext', natT: false });
    assert.equal(policyRoutingCommands(p).size, 0);
  });
});

describe('topology helpers', () => {
  it('puts the nodes on one subnet and derives stable MACs', () => {
    assert.equal(commonPrefixLength(['10.0.0.11', '10.0.0.12', '10.0.0.13']), 24);
    assert.equal(commonPrefixLength(['10.0.0.11', '10.0.1.12']), 23);
    assert.equal(commonPrefixLength(['10.0.0.1', '192.168.0.1']), 0);
    assert.equal(macFor('10.77.0.11'), '02:00:0a:4d:00:0b');
  });

  it('clusterFlows: repository, TSM controller and licensing on every pair, named from services.ts', () => {
    const flows = clusterFlows([...NODES, { name: 'c', ip: '203.0.113.10', external: true }]);
    assert.equal(flows.length, 9);
    assert.deepEqual(flows.slice(0, 3).map((f) => [f.client, f.server, f.port]), [['n1', 'n2', 8060], ['n2', 'n1', 8850], ['n1', 'n2', 27000]]);
    assert.match(flows[0]!.service!, /repository/);
    assert.match(flows[1]!.service!, /TSM administration controller/);
    assert.match(flows[2]!.service!, /licensing/);
  });
});
