// The Windows-style IPsec policy model: what validation accepts (and fills in), the one-line
// errors it gives for bad data, address lists, the Windows → IANA names and the compact
// proposal notation.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { addressListCovers, parseAddressEntry, parseAddressList } from '../../../src/ipsec/address-list.js';
import { childSuite, ikeSuite, ikeTransformIds, pfsGroupNumber } from '../../../src/ipsec/iana.js';
import {
  describeMainModeProposal, describeQuickModeProposal, offeredQuickModeProposals, seedQuickMode, validateClusterPolicy, windowsDefaultMainMode,
} from '../../../src/ipsec/policy-model.js';
import { parseMainModeProposal, parseProposalList, parseQuickModeProposal } from '../../../src/ipsec/proposal-text.js';
import { seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import { InputError } from '../../../src/util/errors.js';

const NODES = [
  { name: 'node1', address: '10.0.0.11' },
  { name: 'node2', address: '10.0.0.12' },
];

/** A minimal export-like document: one node, one rule, defaults left to Windows. */
function minimal(): Record<string, unknown> {
  return {
    nodes: [{
      name: 'node1',
      addresses: ['10.0.0.11'],
      rules: [{ name: 'r', endpoint1: ['10.0.0.11'], endpoint2: ['10.0.0.0/24'], inbound: 'require', outbound: 'Request' }],
    }],
  };
}

function expectError(doc: unknown, pattern: RegExp): void {
  assert.throws(() => validateClusterPolicy(doc, 'ipsec.json'), (err: unknown) => {
    assert.ok(err instanceof InputError, String(err));
    assert.equal(err.exitCode, 2);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /\n/);
    return true;
  });
}

describe('validateClusterPolicy', () => {
  it('accepts the seed set-up as JSON and gives it back unchanged', () => {
    const policy = seedSetupPolicy(NODES);
    assert.deepEqual(validateClusterPolicy(JSON.parse(JSON.stringify(policy))), policy);
  });

  it('fills in what Windows defaults to', () => {
    const p = validateClusterPolicy(minimal());
    const n = p.nodes[0]!;
    const r = n.rules[0]!;
    assert.equal(n.activeProfile, 'domain');
    assert.deepEqual(r.profiles, ['domain', 'private', 'public']);
    assert.equal(r.enabled, true);
    assert.equal(r.type, 'server-to-server');
    assert.equal(r.protocol, 'any');
    assert.equal(r.keyModule, 'default');
    assert.equal(r.outbound, 'request'); // case-insensitive vocabulary
    assert.deepEqual(n.defaults.mainMode, windowsDefaultMainMode());
    assert.equal(n.defaults.quickMode.requireEncryption, false);
    assert.deepEqual(n.defaults.authentication, [{ kind: 'computer-kerberos' }]);
    assert.deepEqual(n.credentials.certificateIssuers, []);
  });

  it('names the field path and what was expected', () => {
    const bad = (edit: (d: any) => void): unknown => { const d: any = minimal(); edit(d); return d; };
    expectError(bad((d) => { d.nodes[0].rules[0].endpoint2 = ['10.0.0.1', '10.0.0.300']; }), /^ipsec\.json: nodes\[0\]\.rules\[0\]\.endpoint2\[1\]: expected .*found "10\.0\.0\.300"$/);
    expectError(bad((d) => { d.nodes[0].rules[0].inbound = 'sometimes'; }), /rules\[0\]\.inbound: expected one of none, request, require, found "sometimes"/);
    expectError(bad((d) => { d.nodes[0].defaults = { mainMode: { proposals: [{ integrity: 'SHA512', encryption: 'AES256', keyExchange: 'DH14' }] } }; }), /defaults\.mainMode\.proposals\[0\]\.integrity: expected one of MD5, SHA1, SHA256, SHA384, found "SHA512"/);
    expectError(bad((d) => { d.nodes[0].defaults = { quickMode: { proposals: [{ encapsulation: 'ESP', espEncryption: 'AESGCM256', espIntegrity: 'SHA256' }] } }; }), /espIntegrity: expected AESGMAC256 \(or None\) with AESGCM256/);
    expectError(bad((d) => { d.nodes[0].defaults = { quickMode: { requireEncryption: true, proposals: [{ encapsulation: 'AH', ahIntegrity: 'SHA1' }] } }; }), /quickMode\.proposals: expected at least one ESP proposal with encryption when requireEncryption is true/);
    expectError(bad((d) => { d.nodes[0].defaults = { quickMode: { proposals: [{ encapsulation: 'ESP', espEncryption: 'None', espIntegrity: 'None' }] } }; }), /espIntegrity: expected an integrity algorithm when espEncryption is None/);
    expectError(bad((d) => { d.nodes[0].defaults = { quickMode: { proposals: [{ encapsulation: 'AH' }] } }; }), /ahIntegrity: expected an AH integrity algorithm/);
    expectError(bad((d) => { d.nodes[0].rules[0].endpoint2Ports = ['8060']; }), /endpoint2Ports: expected no ports unless protocol is tcp or udp/);
    expectError(bad((d) => { d.nodes[0].rules[0].protocol = 'tcp'; d.nodes[0].rules[0].endpoint2Ports = ['27009-27000']; }), /endpoint2Ports\[0\]: expected a port 1\.\.65535 or a range/);
    expectError(bad((d) => { d.nodes.push({ ...d.nodes[0], addresses: ['10.0.0.12'] }); }), /nodes\[1\]\.name: expected a unique node name, "node1" is used twice/);
    expectError(bad((d) => { d.nodes.push({ ...d.nodes[0], name: 'node2' }); }), /nodes\[1\]\.addresses\[0\]: expected an address no other node has, "10\.0\.0\.11" is also node1's/);
    expectError(bad((d) => { d.nodes[0].rules.push({ ...d.nodes[0].rules[0] }); }), /rules\[1\]\.name: expected a rule name unique on the node/);
    expectError(bad((d) => { d.nodes[0].addresses = ['10.0.0.0/24']; }), /addresses\[0\]: expected a single IPv4 or IPv6 address/);
    expectError({ nodes: [] }, /^ipsec\.json: nodes: expected at least 1 entry$/);
    expectError('nodes', /^ipsec\.json: \(top level\): expected an object, found "nodes"$/);
    expectError(bad((d) => { d.nodes[0].rules[0].authentication = [{ kind: 'computer-certificate' }]; }), /authentication\[0\]\.caName: expected a non-empty string, found nothing/);
  });
});

describe('address lists', () => {
  it('covers Any, single addresses, CIDRs and ranges, IPv4 and IPv6', () => {
    const list = parseAddressList(['10.0.0.11', '10.0.1.0/24', '10.0.2.5-10.0.2.9', '2001:db8::/64']);
    for (const a of ['10.0.0.11', '10.0.1.0', '10.0.1.255', '10.0.2.5', '10.0.2.9', '2001:db8::1']) assert.ok(addressListCovers(list, a), a);
    for (const a of ['10.0.0.12', '10.0.2.10', '10.0.2.4', '2001:db9::1', 'not an address']) assert.ok(!addressListCovers(list, a), a);
    assert.ok(addressListCovers(parseAddressList(['any']), '192.0.2.1'));
    assert.ok(!addressListCovers([], '10.0.0.11'));
  });

  it('explains entries it cannot read', () => {
    assert.match(parseAddressEntry('10.0.0.0/33') as string, /prefix length must be 0\.\.32/);
    assert.match(parseAddressEntry('10.0.0.9-10.0.0.1') as string, /start is above its end/);
    assert.match(parseAddressEntry('LocalSubnet') as string, /expected "Any", an IP address/);
  });
});

describe('Windows names to IANA', () => {
  it('maps main-mode proposals the way the capture rules name them', () => {
    assert.deepEqual(ikeSuite({ integrity: 'SHA256', encryption: 'AES256', keyExchange: 'DH14' }), {
      encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256', dhGroup: 14,
      ikev1: { encryption: 7, keyLength: 256, hash: 4 },
    });
    const weak = ikeSuite({ integrity: 'SHA1', encryption: '3DES', keyExchange: 'DH2' });
    assert.deepEqual([weak.encryption, weak.keyLength, weak.integrity, weak.prf, weak.dhGroup, weak.ikev1?.encryption], ['ENCR_3DES', null, 'AUTH_HMAC_SHA1_96', 'PRF_HMAC_SHA1', 2, 5]);
    const gcm = ikeSuite({ integrity: 'SHA384', encryption: 'AESGCM256', keyExchange: 'DH20' });
    assert.deepEqual([gcm.encryption, gcm.integrity, gcm.prf, gcm.dhGroup, gcm.ikev1], ['ENCR_AES_GCM_16', 'NONE', 'PRF_HMAC_SHA2_384', 20, null]);
    assert.deepEqual(ikeTransformIds(gcm), { encr: 20, keyLength: 256, integ: null, prf: 6, dh: 20 });
    assert.equal(ikeSuite({ integrity: 'SHA256', encryption: 'AES128', keyExchange: 'DH24' }).dhGroup, 24);
  });

  it('maps quick-mode proposals, including integrity-only ones', () => {
    assert.deepEqual(childSuite(parseQuickModeProposal('ESP AES256/SHA256')), {
      protocols: ['ESP'], espEncryption: 'ENCR_AES_CBC', espKeyLength: 256, espIntegrity: 'AUTH_HMAC_SHA2_256_128', ahIntegrity: null,
    });
    assert.equal(childSuite(parseQuickModeProposal('ESP None/SHA1')).espEncryption, 'ENCR_NULL');
    assert.deepEqual(childSuite(parseQuickModeProposal('AH SHA256 + ESP AES128/SHA1')).protocols, ['AH', 'ESP']);
    assert.equal(childSuite(parseQuickModeProposal('AH SHA384')).ahIntegrity, 'AUTH_HMAC_SHA2_384_192');
    assert.equal(pfsGroupNumber('SameAsMainMode', 19), 19);
    assert.equal(pfsGroupNumber('None', 19), null);
    assert.equal(pfsGroupNumber('DH20', 14), 20);
  });
});

describe('proposal notation', () => {
  it('reads back what the plan prints', () => {
    for (const t of ['SHA256/AES256/DH14', 'SHA1/3DES/DH2', 'SHA384/AESGCM256/DH20']) assert.equal(describeMainModeProposal(parseMainModeProposal(t)), t);
    for (const t of ['ESP AES256/SHA256', 'ESP None/SHA1', 'AH SHA256', 'AH SHA1 + ESP AES128/SHA1', 'ESP AESGCM128/AESGMAC128']) {
      assert.equal(describeQuickModeProposal(parseQuickModeProposal(t)), t);
    }
    assert.equal(parseProposalList('SHA256/AES256/DH14, SHA1/3DES/DH2', parseMainModeProposal).length, 2);
    assert.throws(() => parseMainModeProposal('SHA256/AES256'), /expected integrity\/encryption\/key exchange/);
    assert.throws(() => parseQuickModeProposal('ESP AES512/SHA256'), /ESP encryption: expected one of/);
  });

  it('"require encryption" offers only the encrypting proposals, in order', () => {
    const set = { ...seedQuickMode(), proposals: parseProposalList('ESP None/SHA1, AH SHA1, ESP AES256/SHA256, ESP 3DES/SHA1', parseQuickModeProposal) };
    assert.deepEqual(offeredQuickModeProposals(set).map(describeQuickModeProposal), ['ESP AES256/SHA256', 'ESP 3DES/SHA1']);
    assert.equal(offeredQuickModeProposals({ ...set, requireEncryption: false }).length, 4);
  });
});
