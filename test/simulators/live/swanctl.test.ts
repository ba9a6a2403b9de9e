// The plan → swanctl.conf / strongswan.conf translation, read as text: what each node's
// charon is told for strong, AEAD, weak, integrity-only and plain-text pairs, and for the
// three ways a negotiation is made to fail.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { InputError } from '../../../src/util/errors.js';
import type { EspSuite, IkeSuite, LivePair, LivePlan } from '../../../simulators/live/plan.js';
import { espProposal, ikeProposal } from '../../../simulators/live/proposals.js';
import { CHARON_PLUGINS, strongswanConf, swanctlConf, type Side } from '../../../simulators/live/swanctl.js';

const STRONG: IkeSuite = { version: 2, encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', dhGroup: 14 };
const GCM_IKE: IkeSuite = { version: 2, encryption: 'ENCR_AES_GCM_16', keyLength: 256, integrity: 'NONE', prf: 'PRF_HMAC_SHA2_256', dhGroup: 19 };
const WEAK: IkeSuite = { version: 2, encryption: 'ENCR_3DES', integrity: 'AUTH_HMAC_SHA1_96', dhGroup: 2 };
const CBC: EspSuite = { protocol: 'esp', encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128' };
const GCM: EspSuite = { protocol: 'esp', encryption: 'ENCR_AES_GCM_16', keyLength: 256, integrity: 'NONE' };
const ESP_NULL: EspSuite = { protocol: 'esp', encryption: 'ENCR_NULL', integrity: 'AUTH_HMAC_SHA2_256_128' };

const NODES = [
  { name: 'n1', ip: '10.0.0.11' },
  { name: 'n2', ip: '10.0.0.12' },
  { name: 'n3', ip: '10.0.0.13' },
];

function plan(...pairs: LivePair[]): LivePlan {
  return { nodes: NODES, pairs, flows: [] };
}

/** A key source that shows which pair and side a secret belongs to. */
const keys = (pair: LivePair, side: Side) => `key-${pair.a}-${pair.b}-${pair.failure?.cause === 'authentication' ? side : 'shared'}`;

/** The value of `key = value` lines inside the named section block (first occurrence). */
function setting(conf: string, section: string, key: string): string | undefined {
  const start = conf.indexOf(`  ${section} {`);
  if (start < 0) return undefined;
  const m = new RegExp(`^\\s*${key} = (.*)$`, 'm').exec(conf.slice(start));
  return m?.[1];
}

describe('swanctl.conf per node', () => {
  it('AES-CBC-256 + SHA-256 + DH14: IKEv2 proposal, ESP proposal, host-to-host tunnel in UDP, PSK ids', () => {
    const conf = swanctlConf(plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: STRONG, esp: CBC, natT: false }), 'n1', keys);
    assert.equal(setting(conf, 'n1-n2', 'version'), '2');
    assert.equal(setting(conf, 'n1-n2', 'proposals'), 'aes256-sha256-modp2048');
    assert.equal(setting(conf, 'n1-n2', 'esp_proposals'), 'aes256-sha256');
    assert.equal(setting(conf, 'n1-n2', 'local_addrs'), '10.0.0.11');
    assert.equal(setting(conf, 'n1-n2', 'remote_addrs'), '10.0.0.12');
    assert.equal(setting(conf, 'n1-n2', 'encap'), 'yes');
    assert.equal(setting(conf, 'n1-n2', 'mode'), 'tunnel');
    assert.equal(setting(conf, 'n1-n2', 'local_ts'), '10.0.0.11/32');
    assert.equal(setting(conf, 'n1-n2', 'remote_ts'), '10.0.0.12/32');
    assert.equal(setting(conf, 'ike-n1-n2', 'secret'), '"key-n1-n2-shared"');
    // the other end mirrors it
    const peer = swanctlConf(plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: STRONG, esp: CBC, natT: false }), 'n2', keys);
    assert.equal(setting(peer, 'n1-n2', 'local_addrs'), '10.0.0.12');
    assert.equal(setting(peer, 'n1-n2', 'remote_ts'), '10.0.0.11/32');
    assert.equal(setting(peer, 'ike-n1-n2', 'secret'), '"key-n1-n2-shared"');
    // a node in no pair has no connection at all
    const n3 = swanctlConf(plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: STRONG, esp: CBC, natT: false }), 'n3', keys);
    assert.doesNotMatch(n3, /proposals/);
  });

  it('AES-GCM: no integrity transform, explicit PRF, EC group; ESP aes256gcm16', () => {
    const conf = swanctlConf(plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: GCM_IKE, esp: GCM, natT: true }), 'n2', keys);
    assert.equal(setting(conf, 'n1-n2', 'proposals'), 'aes256gcm16-prfsha256-ecp256');
    assert.equal(setting(conf, 'n1-n2', 'esp_proposals'), 'aes256gcm16');
  });

  it('weak main mode SHA-1 / 3DES / DH2 is configured as such (the capture must be able to show it)', () => {
    const conf = swanctlConf(plan({ a: 'n1', b: 'n3', outcome: 'esp', ike: WEAK, esp: CBC, natT: false }), 'n1', keys);
    assert.equal(setting(conf, 'n1-n3', 'proposals'), '3des-sha1-modp1024');
    const v1 = swanctlConf(plan({ a: 'n1', b: 'n3', outcome: 'esp', ike: { ...WEAK, version: 1 }, esp: CBC, natT: false }), 'n3', keys);
    assert.equal(setting(v1, 'n1-n3', 'version'), '1');
    assert.equal(setting(v1, 'n1-n3', 'proposals'), '3des-sha1-modp1024');
  });

  it('ESP-NULL: null encryption with an integrity algorithm', () => {
    const conf = swanctlConf(plan({ a: 'n2', b: 'n3', outcome: 'esp', ike: STRONG, esp: ESP_NULL, natT: false }), 'n3', keys);
    assert.equal(setting(conf, 'n2-n3', 'esp_proposals'), 'null-sha256');
  });

  it('a plain-text pair gets no connection on either side, only a comment saying why', () => {
    const p = plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: STRONG, esp: CBC, natT: false }, { a: 'n1', b: 'n3', outcome: 'plaintext', natT: false });
    const conf = swanctlConf(p, 'n1', keys);
    assert.match(conf, /^# n1 <-> n3: no connection on this node \(plain text: no rule covers this pair\)$/m);
    assert.equal(setting(conf, 'n1-n3', 'proposals'), undefined);
    assert.equal(setting(conf, 'ike-n1-n3', 'secret'), undefined);
    assert.equal(setting(swanctlConf(p, 'n3', keys), 'n1-n3', 'proposals'), undefined);
  });

  it('a "request" side without partner has a connection; its peer has none', () => {
    const p = plan({ a: 'n1', b: 'n3', outcome: 'plaintext', natT: false, requestedBy: 'b', ike: STRONG, esp: CBC });
    assert.equal(setting(swanctlConf(p, 'n3', keys), 'n1-n3', 'proposals'), 'aes256-sha256-modp2048');
    assert.equal(setting(swanctlConf(p, 'n1', keys), 'n1-n3', 'proposals'), undefined);
  });

  it('"require" failures: disjoint proposals, different keys, or no rule on b', () => {
    const noCommon = plan({
      a: 'n1', b: 'n2', outcome: 'fail', natT: false, failure: { cause: 'no-common-proposal' },
      offers: { a: { ike: [STRONG, GCM_IKE], esp: [CBC] }, b: { ike: [WEAK], esp: [CBC] } },
    });
    assert.equal(setting(swanctlConf(noCommon, 'n1', keys), 'n1-n2', 'proposals'), 'aes256-sha256-modp2048, aes256gcm16-prfsha256-ecp256');
    assert.equal(setting(swanctlConf(noCommon, 'n2', keys), 'n1-n2', 'proposals'), '3des-sha1-modp1024');

    const auth = plan({ a: 'n1', b: 'n2', outcome: 'fail', natT: false, failure: { cause: 'authentication' }, ike: STRONG, esp: CBC });
    assert.equal(setting(swanctlConf(auth, 'n1', keys), 'ike-n1-n2', 'secret'), '"key-n1-n2-a"');
    assert.equal(setting(swanctlConf(auth, 'n2', keys), 'ike-n1-n2', 'secret'), '"key-n1-n2-b"');

    const noPeer = plan({ a: 'n1', b: 'n2', outcome: 'fail', natT: false, failure: { cause: 'no-peer-rule' }, ike: STRONG, esp: CBC });
    assert.equal(setting(swanctlConf(noPeer, 'n1', keys), 'n1-n2', 'proposals'), 'aes256-sha256-modp2048');
    assert.equal(setting(swanctlConf(noPeer, 'n2', keys), 'n1-n2', 'proposals'), undefined);

    const dropped = plan({ a: 'n1', b: 'n2', outcome: 'fail', natT: false, failure: { cause: 'clear-dropped' } });
    assert.doesNotMatch(swanctlConf(dropped, 'n1', keys), /proposals/);
  });

  it('lifetimes become rekey/reauth times and byte limits', () => {
    const p = plan({
      a: 'n1', b: 'n2', outcome: 'esp', natT: false,
      ike: { ...STRONG, version: 1, lifetimeSeconds: 28_800 }, esp: { ...CBC, lifetimeSeconds: 3600, lifetimeKilobytes: 100_000, pfsGroup: 14 },
    });
    const conf = swanctlConf(p, 'n1', keys);
    assert.equal(setting(conf, 'n1-n2', 'reauth_time'), '28800s');
    assert.equal(setting(conf, 'n1-n2', 'rekey_bytes'), String(100_000 * 1024));
    assert.equal(setting(conf, 'n1-n2', 'esp_proposals'), 'aes256-sha256-modp2048');
  });

  it('is deterministic for a plan and key source', () => {
    const p = plan({ a: 'n1', b: 'n2', outcome: 'esp', ike: STRONG, esp: CBC, natT: false });
    assert.equal(swanctlConf(p, 'n1', keys), swanctlConf(p, 'n1', keys));
  });

  it('node names with dots become valid section names', () => {
    const p: LivePlan = { nodes: [{ name: 'a.x', ip: '10.0.0.1' }, { name: 'b', ip: '10.0.0.2' }], pairs: [{ a: 'a.x', b: 'b', outcome: 'esp', ike: STRONG, esp: CBC, natT: false }], flows: [] };
    assert.match(swanctlConf(p, 'b', keys), /^ {2}a_x-b \{$/m);
  });
});

describe('proposal keywords', () => {
  it('maps IANA names to strongSwan keywords', () => {
    assert.equal(ikeProposal({ ...STRONG, integrity: 'AUTH_HMAC_SHA2_384_192', dhGroup: 20 }), 'aes256-sha384-ecp384');
    assert.equal(ikeProposal({ ...STRONG, prf: 'PRF_HMAC_SHA2_512' }), 'aes256-sha256-prfsha512-modp2048');
    assert.equal(ikeProposal({ ...STRONG, prf: 'PRF_HMAC_SHA2_256' }), 'aes256-sha256-modp2048', 'the PRF implied by the integrity algorithm is not repeated');
    assert.equal(ikeProposal({ ...STRONG, keyLength: 128, dhGroup: 31 }), 'aes128-sha256-curve25519');
    assert.equal(espProposal({ ...CBC, encryption: 'ENCR_3DES', keyLength: undefined, integrity: 'AUTH_HMAC_SHA1_96' }), '3des-sha1');
    assert.equal(espProposal({ protocol: 'esp', encryption: 'ENCR_NULL_AUTH_AES_GMAC', keyLength: 256, integrity: 'NONE' }), 'aes256gmac');
  });

  it('rejects what strongSwan (or the protocol) cannot say, naming the field', () => {
    const cases: [() => string, RegExp][] = [
      [() => ikeProposal({ ...GCM_IKE, version: 1 }, 'pairs[0].ike'), /pairs\[0\]\.ike: IKEv1 main mode has no ENCR_AES_GCM_16/],
      [() => ikeProposal({ ...GCM_IKE, prf: undefined }), /needs an explicit prf/],
      [() => ikeProposal({ ...STRONG, keyLength: undefined }), /ENCR_AES_CBC needs keyLength 128, 192 or 256/],
      [() => ikeProposal({ ...STRONG, dhGroup: 99 }), /Diffie-Hellman group 99/],
      [() => ikeProposal({ ...STRONG, encryption: 'ENCR_RC5' }), /encryption "ENCR_RC5"/],
      [() => ikeProposal({ ...STRONG, version: 1, prf: 'PRF_HMAC_SHA2_512' }), /IKEv1 derives the PRF from the hash/],
      [() => espProposal({ ...ESP_NULL, integrity: 'NONE' }), /ENCR_NULL needs an integrity algorithm/],
      [() => espProposal({ ...GCM, integrity: 'AUTH_HMAC_SHA2_256_128' }), /integrity must be NONE/],
      [() => espProposal({ ...CBC, protocol: 'ah' }), /ESP only/],
    ];
    for (const [f, message] of cases) assert.throws(f, (e: unknown) => e instanceof InputError && message.test(e.message));
  });
});

describe('strongswan.conf', () => {
  it('loads kernel-libipsec, kdf and vici, marks charon sockets and skips table 220 for them', () => {
    const conf = strongswanConf({ log: '/w/n1/charon.log', vici: '/w/n1/charon.vici' });
    for (const plugin of ['kernel-libipsec', 'kdf', 'vici', 'socket-default', 'kernel-netlink', 'openssl']) assert.ok(CHARON_PLUGINS.includes(plugin as never), plugin);
    assert.match(conf, /^ {2}load = .*\bkernel-libipsec\b.*$/m);
    assert.match(conf, /^ {2}load = .*\bkdf\b.*$/m);
    assert.match(conf, /socket = unix:\/\/\/w\/n1\/charon\.vici/);
    assert.match(conf, /path = \/w\/n1\/charon\.log/);
    assert.match(conf, /socket-default \{\n\s+fwmark = 0x4500/);
    assert.match(conf, /kernel-netlink \{\n\s+fwmark = !0x4500/);
    assert.match(conf, /load_modular = no/);
  });
});
