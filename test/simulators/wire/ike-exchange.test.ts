// The IKE datagrams of a negotiation plan, read back with the capture decoder: the clear SA
// payloads carry the initiator's proposals in its order and the responder's single choice,
// failures end the way the plan says, and an unanswered first message is retransmitted with
// back-off until the capture ends.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeIke } from '../../../src/capture/ike.js';
import { suiteNames } from '../../../src/capture/ike-suite.js';
import { planDirection, type IkePlan } from '../../../src/ipsec/negotiate.js';
import { parseMainModeProposal, parseProposalList } from '../../../src/ipsec/proposal-text.js';
import { nodeNamed, seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import { ikeExchange } from '../../../simulators/wire/ike-exchange.js';
import { SeededRandom } from '../../../simulators/wire/seeded-random.js';

const A = '10.0.0.11';
const B = '10.0.0.12';

function plan(edit: (p: ReturnType<typeof seedSetupPolicy>) => void = () => undefined): IkePlan {
  const p = seedSetupPolicy([{ name: 'node1', address: A }, { name: 'node2', address: B }]);
  edit(p);
  const d = planDirection(p, A, B, { protocol: 'tcp', port: 8060 });
  assert.ok(d.ike);
  return d.ike;
}

const ends = { initiator: A, responder: B, natTraversal: false, horizon: 10e9 };
const decode = (m: Buffer) => decodeIke(m, 0, m.length)!;

describe('ikeExchange', () => {
  for (const keyModule of ['ikev1', 'ikev2'] as const) {
    it(`${keyModule}: the initiator offers its proposals in order and the responder answers with the chosen one`, () => {
      const ike = plan((p) => {
        for (const n of p.nodes) n.rules[0]!.keyModule = keyModule;
        nodeNamed(p, 'node1').defaults.mainMode.proposals = parseProposalList('SHA384/AES256/DH14, SHA256/AES256/DH14', parseMainModeProposal);
      });
      const msgs = ikeExchange(ike, ends, new SeededRandom(1));
      const version = keyModule === 'ikev2' ? 2 : 1;
      const offer = decode(msgs[0]!.message);
      assert.equal(offer.version, version);
      assert.deepEqual(offer.proposals.map((p) => suiteNames(version, p).integrity), ['AUTH_HMAC_SHA2_384_192', 'AUTH_HMAC_SHA2_256_128']);
      const answer = decode(msgs[1]!.message);
      assert.equal(msgs[1]!.fromInitiator, false);
      assert.equal(answer.proposals.length, 1);
      const chosen = suiteNames(version, answer.proposals[0]!);
      assert.deepEqual([chosen.encryption, chosen.keyLength, chosen.integrity, chosen.dhGroup], ['ENCR_AES_CBC', 256, 'AUTH_HMAC_SHA2_256_128', 14]);
      // Everything after the key exchange is encrypted; the times only move forward.
      assert.ok(msgs.slice(keyModule === 'ikev2' ? 2 : 4).every((m) => decode(m.message).encrypted));
      for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i]!.at >= msgs[i - 1]!.at);
      assert.equal(msgs.length, keyModule === 'ikev2' ? 4 : 9);
    });
  }

  it('NO_PROPOSAL_CHOSEN: IKEv2 in the IKE_SA_INIT response, IKEv1 in a clear Informational', () => {
    const weak = (km: 'ikev1' | 'ikev2') => plan((p) => { for (const n of p.nodes) n.rules[0]!.keyModule = km; nodeNamed(p, 'node2').defaults.mainMode.proposals = [parseMainModeProposal('SHA1/3DES/DH2')]; });
    const v2 = ikeExchange(weak('ikev2'), ends, new SeededRandom(2));
    assert.equal(v2.length, 2);
    assert.deepEqual(decode(v2[1]!.message).notifies, [14]);
    const v1 = ikeExchange(weak('ikev1'), ends, new SeededRandom(2));
    assert.equal(v1.length, 2);
    const info = decode(v1[1]!.message);
    assert.deepEqual([info.exchange, info.encrypted, info.notifies], [5, false, [14]]);
  });

  it('no answer: the first message again after 1, 3 and 7 s, not beyond the capture', () => {
    const ike = plan((p) => { nodeNamed(p, 'node2').rules = []; });
    assert.equal(ike.result, 'no-response');
    const msgs = ikeExchange(ike, { ...ends, horizon: 5e9 }, new SeededRandom(3));
    assert.deepEqual(msgs.map((m) => m.at / 1e9), [0, 1, 3]);
    assert.ok(msgs.every((m) => m.fromInitiator && m.message.equals(msgs[0]!.message)));
  });

  it('NAT traversal moves IKE to 4500 after the key exchange; authentication failure ends after the first encrypted round', () => {
    const msgs = ikeExchange(plan(), { ...ends, natTraversal: true }, new SeededRandom(4));
    assert.deepEqual(msgs.map((m) => m.natPort), [false, false, false, false, true, true, true, true, true]);
    const failed = ikeExchange(plan((p) => { nodeNamed(p, 'node2').credentials.certificateIssuers = ['Other CA']; }), ends, new SeededRandom(4));
    assert.equal(failed.length, 6);
    assert.equal(decode(failed[5]!.message).exchange, 5);
  });

  it('the same seed gives the same bytes', () => {
    const a = ikeExchange(plan(), ends, new SeededRandom('x')).map((m) => m.message.toString('hex'));
    const b = ikeExchange(plan(), ends, new SeededRandom('x')).map((m) => m.message.toString('hex'));
    assert.deepEqual(a, b);
  });
});
