// Negotiation as Windows plays it: covering rules, request versus require, main mode in the
// initiator's order, authentication, quick mode with "require encryption" and PFS, and the
// administrator's explanation of each outcome.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { planDirection, planPairs, type DirectionPlan } from '../../../src/ipsec/negotiate.js';
import type { ClusterIpsecPolicy } from '../../../src/ipsec/policy-model.js';
import { parseMainModeProposal, parseProposalList, parseQuickModeProposal } from '../../../src/ipsec/proposal-text.js';
import { nodeNamed, seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';

const N1 = '10.0.0.11';
const N2 = '10.0.0.12';
const N3 = '10.0.0.13';

function cluster(): ClusterIpsecPolicy {
  return seedSetupPolicy([{ name: 'node1', address: N1 }, { name: 'node2', address: N2 }, { name: 'node3', address: N3 }]);
}

const tcp = (port: number) => ({ protocol: 'tcp' as const, port });

function requestEverywhere(p: ClusterIpsecPolicy): void {
  for (const n of p.nodes) for (const r of n.rules) { r.inbound = 'request'; r.outbound = 'request'; }
}

describe('the seed set-up', () => {
  it('protects both directions of every pair with ESP AES256/SHA256 after IKEv1 main mode SHA256/AES256/DH14', () => {
    const pairs = planPairs(cluster());
    assert.equal(pairs.length, 3);
    for (const pair of pairs) {
      for (const d of [pair.aToB, pair.bToA]) {
        assert.equal(d.outcome, 'protected', d.reason);
        assert.equal(d.protection, 'ESP');
        assert.equal(d.encrypted, true);
        assert.equal(d.remedy, null);
        assert.equal(d.ike?.keying, 'ikev1-main');
        assert.equal(d.ike?.result, 'established');
        assert.deepEqual(d.ike?.mainMode.chosenSuite && [d.ike.mainMode.chosenSuite.encryption, d.ike.mainMode.chosenSuite.keyLength, d.ike.mainMode.chosenSuite.dhGroup], ['ENCR_AES_CBC', 256, 14]);
        assert.equal(d.ike?.quickMode?.chosenSuite?.espEncryption, 'ENCR_AES_CBC');
        assert.deepEqual(d.ike?.authentication, { kind: 'computer-certificate', caName: 'Cluster Root CA', signing: 'RSA' });
        assert.deepEqual([d.rules.initiator?.requirement, d.rules.responder?.requirement], ['require', 'require']);
        assert.match(d.reason, /rule "Cluster nodes: require IPsec"/);
      }
    }
  });

  it('uses IKEv2 when both rules use the IKEv2 key module, and no IKE at all when the keying modules do not meet', () => {
    const p = cluster();
    for (const n of p.nodes) n.rules[0]!.keyModule = 'ikev2';
    assert.equal(planDirection(p, N1, N2, tcp(8060)).ike?.keying, 'ikev2');
    nodeNamed(p, 'node2').rules[0]!.keyModule = 'ikev1';
    const d = planDirection(p, N1, N2, tcp(8060));
    assert.equal(d.outcome, 'blocked');
    assert.equal(d.ike?.result, 'no-response');
    assert.match(d.reason, /key module ikev2 \(IKEv2\), but node2's rule .* answers only ikev1/);
  });
});

describe('a node without its rule', () => {
  it('with require on the others: its clear packets are dropped, and their IKE goes unanswered', () => {
    const p = cluster();
    nodeNamed(p, 'node3').rules = [];
    const out = planDirection(p, N3, N1, tcp(8060));
    assert.equal(out.outcome, 'blocked');
    assert.equal(out.ike, null);
    assert.equal(out.rules.initiator, null);
    assert.match(out.reason, /node3 has no connection security rule covering 10\.0\.0\.11, so it sends in clear; node1's rule "Cluster nodes: require IPsec" requires authentication for inbound connections and drops the clear packets/);
    assert.match(out.remedy ?? '', /add \(or enable\) a server-to-server connection security rule on node3: endpoint 1 = 10\.0\.0\.13/);
    const back = planDirection(p, N1, N3, tcp(8600));
    assert.equal(back.outcome, 'blocked');
    assert.equal(back.ike?.result, 'no-response');
    assert.match(back.reason, /never answers; node1's rule "Cluster nodes: require IPsec" \(outbound\) requires authentication, so the connection fails/);
  });

  it('with request on the others: the traffic flows in clear, after an unanswered IKE attempt where the other side asks', () => {
    const p = cluster();
    requestEverywhere(p);
    nodeNamed(p, 'node3').rules = [];
    const out = planDirection(p, N3, N1, tcp(8060));
    assert.equal(out.outcome, 'plaintext');
    assert.equal(out.ike, null);
    assert.match(out.reason, /only requests inbound authentication, so it accepts the clear connection/);
    const back = planDirection(p, N1, N3, tcp(8600));
    assert.equal(back.outcome, 'plaintext');
    assert.equal(back.ike?.result, 'no-response');
    assert.match(back.reason, /Windows falls back to clear/);
    assert.equal(planDirection(p, N1, N2, tcp(8060)).outcome, 'protected');
  });

  it('a disabled rule, a rule for other profiles or one that forgets a node say so', () => {
    const p = cluster();
    requestEverywhere(p);
    nodeNamed(p, 'node1').rules[0]!.enabled = false;
    assert.match(planDirection(p, N1, N2, tcp(1)).reason, /rule "Cluster nodes: require IPsec" on node1 covers 10\.0\.0\.12 but is disabled/);
    const q = cluster();
    requestEverywhere(q);
    nodeNamed(q, 'node1').rules[0]!.profiles = ['public'];
    assert.match(planDirection(q, N1, N2, tcp(1)).reason, /applies only in the public profile\(s\), but the node's network is in the domain profile/);
    const r = cluster();
    requestEverywhere(r);
    nodeNamed(r, 'node1').rules[0]!.endpoint2 = [N3];
    assert.match(planDirection(r, N1, N2, tcp(1)).reason, /does not list 10\.0\.0\.12 in its other endpoint \(endpoint 1: 10\.0\.0\.11; endpoint 2: 10\.0\.0\.13\)/);
  });
});

describe('main mode', () => {
  it('takes the first of the initiator\'s proposals that the responder also has', () => {
    const p = cluster();
    nodeNamed(p, 'node1').defaults.mainMode.proposals = parseProposalList('SHA384/AES256/DH20, SHA256/AES256/DH14', parseMainModeProposal);
    nodeNamed(p, 'node2').defaults.mainMode.proposals = parseProposalList('SHA256/AES256/DH14, SHA384/AES256/DH20', parseMainModeProposal);
    assert.equal(planDirection(p, N1, N2, tcp(1)).ike?.mainMode.chosenSuite?.dhGroup, 20);
    assert.equal(planDirection(p, N2, N1, tcp(1)).ike?.mainMode.chosenSuite?.dhGroup, 14);
    assert.equal(planDirection(p, N1, N2, tcp(1)).ike?.mainMode.offered.length, 2);
  });

  it('no common proposal: NO_PROPOSAL_CHOSEN, blocked under require, clear under request', () => {
    const p = cluster();
    nodeNamed(p, 'node3').defaults.mainMode.proposals = [parseMainModeProposal('SHA1/3DES/DH2')];
    const d = planDirection(p, N3, N1, tcp(8060));
    assert.equal(d.outcome, 'blocked');
    assert.equal(d.ike?.result, 'no-proposal-chosen');
    assert.match(d.reason, /main mode found no common proposal: node3 offers SHA1\/3DES\/DH2, node1 accepts SHA256\/AES256\/DH14/);
    assert.match(d.remedy ?? '', /same key exchange \(main mode\) method/);
    requestEverywhere(p);
    assert.equal(planDirection(p, N3, N1, tcp(8060)).outcome, 'plaintext');
  });

  it('a weak but common main mode is negotiated, and the remedy says what to change', () => {
    const p = cluster();
    for (const n of p.nodes) n.defaults.mainMode.proposals = [parseMainModeProposal('SHA1/3DES/DH2')];
    const d = planDirection(p, N1, N2, tcp(1));
    assert.equal(d.outcome, 'protected');
    assert.equal(d.ike?.mainMode.chosenSuite?.encryption, 'ENCR_3DES');
    assert.match(d.remedy ?? '', /use SHA256\/AES256 with DH14 or stronger and remove SHA1\/3DES\/DH2/);
  });

  it('IKEv1 cannot carry an AES-GCM main mode', () => {
    const p = cluster();
    for (const n of p.nodes) n.defaults.mainMode.proposals = [parseMainModeProposal('SHA256/AESGCM256/DH20')];
    const v1 = planDirection(p, N1, N2, tcp(1));
    assert.equal(v1.outcome, 'blocked');
    assert.match(v1.reason, /AES-GCM needs IKEv2/);
    for (const n of p.nodes) n.rules[0]!.keyModule = 'ikev2';
    assert.equal(planDirection(p, N1, N2, tcp(1)).ike?.mainMode.chosenSuite?.integrity, 'NONE');
  });
});

describe('authentication', () => {
  it('a certificate from a CA the peer does not trust fails, naming both CAs', () => {
    const p = cluster();
    nodeNamed(p, 'node3').credentials.certificateIssuers = ['Contoso Lab CA'];
    const d = planDirection(p, N1, N3, tcp(8600));
    assert.equal(d.outcome, 'blocked');
    assert.equal(d.ike?.result, 'authentication-failed');
    assert.ok(d.ike?.mainMode.chosen, 'main mode completed before authentication');
    assert.match(d.reason, /node3 has no computer certificate from "Cluster Root CA" \(its certificates are from "Contoso Lab CA", which node1 does not trust for this rule\)/);
    assert.match(d.remedy ?? '', /enrol every node for a computer certificate from "Cluster Root CA"/);
  });

  it('rules naming different CAs share no method; Kerberos needs a common domain', () => {
    const p = cluster();
    nodeNamed(p, 'node3').rules[0]!.authentication = [{ kind: 'computer-certificate', caName: 'Other CA', signing: 'RSA' }];
    const d = planDirection(p, N3, N1, tcp(1));
    assert.equal(d.ike?.result, 'authentication-failed');
    assert.equal(d.ike?.authentication, null);
    assert.match(d.reason, /offers computer certificate from "Other CA" \(RSA\), node1's rule .* accepts computer certificate from "Cluster Root CA" \(RSA\) → AUTHENTICATION_FAILED/);
    const k = seedSetupPolicy([{ name: 'a', address: N1 }, { name: 'b', address: N2 }], { authentication: 'kerberos', domain: 'corp.example' });
    assert.equal(planDirection(k, N1, N2, tcp(1)).outcome, 'protected');
    nodeNamed(k, 'b').credentials.kerberosDomain = 'lab.example';
    assert.match(planDirection(k, N1, N2, tcp(1)).reason, /share no Kerberos domain/);
  });
});

describe('quick mode', () => {
  const qmPolicy = (list: string, requireEncryption: boolean): ClusterIpsecPolicy => {
    const p = cluster();
    for (const n of p.nodes) n.defaults.quickMode = { requireEncryption, perfectForwardSecrecy: 'None', proposals: parseProposalList(list, parseQuickModeProposal) };
    return p;
  };

  it('"require encryption" skips integrity-only proposals listed first; without it ESP-NULL is chosen', () => {
    const list = 'ESP None/SHA1, AH SHA1, ESP AES256/SHA256';
    const on = planDirection(qmPolicy(list, true), N1, N2, tcp(1));
    assert.equal(on.encrypted, true);
    assert.deepEqual(on.ike?.quickMode?.offered.length, 1);
    const off = planDirection(qmPolicy(list, false), N1, N2, tcp(1));
    assert.equal(off.outcome, 'protected');
    assert.equal(off.encrypted, false);
    assert.equal(off.ike?.quickMode?.chosenSuite?.espEncryption, 'ENCR_NULL');
    assert.match(off.reason, /integrity only: the data travels unencrypted/);
    assert.match(off.remedy ?? '', /tick "Require encryption for all connection security rules that use these settings"/);
  });

  it('AH-only and AH+ESP are planned as such', () => {
    const ah = planDirection(qmPolicy('AH SHA256', false), N1, N2, tcp(1));
    assert.deepEqual([ah.protection, ah.encrypted], ['AH', false]);
    const both = planDirection(qmPolicy('AH SHA256 + ESP AES256/SHA256', true), N1, N2, tcp(1));
    assert.deepEqual([both.protection, both.encrypted], ['AH+ESP', true]);
  });

  it('no common quick mode or different PFS settings fail the child SA', () => {
    const p = cluster();
    nodeNamed(p, 'node2').defaults.quickMode.proposals = [parseQuickModeProposal('ESP 3DES/SHA1')];
    const d = planDirection(p, N1, N2, tcp(1));
    assert.equal(d.ike?.result, 'quick-mode-failed');
    assert.match(d.reason, /quick mode found no common proposal: node1 offers ESP AES256\/SHA256, ESP AESGCM256\/AESGMAC256 .* node2 accepts ESP 3DES\/SHA1/);
    const q = cluster();
    nodeNamed(q, 'node2').defaults.quickMode.perfectForwardSecrecy = 'DH14';
    assert.match(planDirection(q, N1, N2, tcp(1)).reason, /perfect forward secrecy differs: node1 uses None, node2 uses DH14/);
    const same = cluster();
    for (const n of same.nodes) n.defaults.quickMode.perfectForwardSecrecy = 'SameAsMainMode';
    assert.equal(planDirection(same, N1, N2, tcp(1)).ike?.quickMode?.pfsGroup, 14);
  });

  it('a rule-specific quick mode wins over the defaults', () => {
    const p = cluster();
    for (const n of p.nodes) n.rules[0]!.quickMode = { requireEncryption: false, perfectForwardSecrecy: 'None', proposals: [parseQuickModeProposal('ESP AES128/SHA1')] };
    assert.equal(planDirection(p, N1, N2, tcp(1)).ike?.quickMode?.chosenSuite?.espKeyLength, 128);
  });
});

describe('ports, protocols and external clients', () => {
  it('a TCP 8060-only rule protects the repository and leaves other ports to the next rule', () => {
    const p = cluster();
    requestEverywhere(p);
    for (const n of p.nodes) {
      const r = n.rules[0]!;
      n.rules = [{ ...structuredClone(r), name: 'repository only', protocol: 'tcp', endpoint1Ports: n.name === 'node1' ? [{ from: 8060, to: 8060 }] : [], endpoint2Ports: n.name === 'node1' ? [] : [{ from: 8060, to: 8060 }] }];
    }
    assert.equal(planDirection(p, N2, N1, tcp(8060)).outcome, 'protected');
    const other = planDirection(p, N2, N1, tcp(8600));
    assert.equal(other.outcome, 'plaintext');
    assert.match(other.reason, /covers only ports 8060/);
  });

  it('an external client has no policy: its connection is plaintext with nothing to change', () => {
    const d: DirectionPlan = planDirection(cluster(), '203.0.113.10', N1, tcp(443));
    assert.equal(d.outcome, 'plaintext');
    assert.equal(d.initiator.node, null);
    assert.equal(d.remedy, null);
    assert.match(d.reason, /203\.0\.113\.10 is not a cluster node/);
  });

  it('a node whose rule requires inbound from Any blocks external clients', () => {
    const p = cluster();
    nodeNamed(p, 'node1').rules[0]!.endpoint2 = ['Any'];
    const d = planDirection(p, '203.0.113.10', N1, tcp(443));
    assert.equal(d.outcome, 'blocked');
    assert.match(d.remedy ?? '', /exempt 203\.0\.113\.10/);
  });
});
