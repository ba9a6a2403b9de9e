// IKE messages must dissect in tshark to exactly the proposals we built, with no
// "Malformed" and no expert warnings (the oracle command of research/captures.md §5.6),
// on UDP 500 and on 4500 behind the non-ESP marker. The IANA tables in
// src/capture/ike-ids.ts are checked against Wireshark's own value tables.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import {
  DH_GROUP, DH_GROUP_DESCRIPTION, DH_PUBLIC_VALUE_BYTES, ENCR, IKEV1_ENCR, IKEV1_ENCR_NAME, IKEV1_HASH, IKEV1_HASH_NAME, INTEG, NOTIFY, PRF,
  encrId, encrName, ikev1EncrId, ikev1EncrToIkev2, ikev1HashId, ikev1HashToIkev2, integId, integName, prfId, prfName, transformName,
} from '../../../src/capture/ike-ids.js';
import { ikeInUdp } from '../../../simulators/wire/esp.js';
import { ETHERTYPE, ethernet, ipv4, ipv6 } from '../../../simulators/wire/frames.js';
import {
  VENDOR_ID, authIpMainMode, ikeMessage, ikev1Aggressive1, ikev1Aggressive2, ikev1Encrypted, ikev1MainMode1, ikev1MainMode2, ikev2Encrypted,
  ikev2Proposal, ikev2SaInitErrorResponse, ikev2SaInitRequest, ikev2SaInitResponse, invalidKeData, msNt5Vid, natDetectionHash, newSpi,
  type Ikev1Suite,
} from '../../../simulators/wire/ike.js';
import { PcapWriter } from '../../../simulators/wire/pcap-writer.js';
import { CHECKSUM_GOOD, CHECKSUM_PREFS, TempDir, expertProblems, fields } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const I4 = '10.0.0.1';
const R4 = '10.0.0.2';

/** Each message over IPv4/UDP (the odd ones on 4500 with the marker when natT), in a pcap. */
function capture(name: string, msgs: { msg: Buffer; fromResponder?: boolean; natT?: boolean; v6?: boolean }[]): string {
  const w = new PcapWriter({ linkType: 1 });
  msgs.forEach((m, i) => {
    const [src, dst] = m.v6 ? (m.fromResponder ? ['2001:db8::2', '2001:db8::1'] : ['2001:db8::1', '2001:db8::2']) : m.fromResponder ? [R4, I4] : [I4, R4];
    const dgram = ikeInUdp({ src: src!, dst: dst!, natT: m.natT ?? false }, m.msg);
    const pkt = m.v6 ? ipv6({ src: src!, dst: dst!, nextHeader: 17 }, dgram) : ipv4({ src: src!, dst: dst!, protocol: 17 }, dgram);
    w.writePacket(ethernet({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: m.v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IPV4 }, pkt), 1700000000 + i, 0);
  });
  return tmp.file(name, w.toBuffer());
}

const ORACLE = [
  'isakmp.exchangetype', 'isakmp.ike.attr.encryption_algorithm', 'isakmp.ike.attr.key_length', 'isakmp.ike.attr.hash_algorithm',
  'isakmp.ike.attr.group_description', 'isakmp.tf.id.encr', 'isakmp.ike2.attr.key_length', 'isakmp.tf.id.prf', 'isakmp.tf.id.integ', 'isakmp.tf.id.dh',
];

describe('IKEv2', () => {
  const spiI = newSpi();
  const spiR = newSpi();
  const proposals = [
    ikev2Proposal({ encr: [ENCR.ENCR_AES_CBC, ENCR.ENCR_AES_CBC], keyLength: 256, prf: [PRF.PRF_HMAC_SHA2_256, PRF.PRF_HMAC_SHA1], integ: [INTEG.AUTH_HMAC_SHA2_256_128, INTEG.AUTH_HMAC_SHA1_96], dh: [DH_GROUP.MODP_2048, DH_GROUP.ECP_256] }),
    ikev2Proposal({ encr: ENCR.ENCR_AES_GCM_16, keyLength: 256, prf: PRF.PRF_HMAC_SHA2_384, dh: DH_GROUP.ECP_384 }),
    ikev2Proposal({ encr: ENCR.ENCR_3DES, prf: PRF.PRF_HMAC_SHA1, integ: INTEG.AUTH_HMAC_SHA1_96, dh: DH_GROUP.MODP_1024 }),
  ];
  proposals[0]!.transforms[1]!.keyLength = 128; // the second AES-CBC alternative is AES-128
  const natSrc = natDetectionHash(spiI, Buffer.alloc(8), I4, 500);
  const natDst = natDetectionHash(spiI, Buffer.alloc(8), R4, 500);
  const request = ikev2SaInitRequest({
    spiI, proposals, dhGroup: DH_GROUP.MODP_2048,
    notifies: [{ type: NOTIFY.NAT_DETECTION_SOURCE_IP, data: natSrc }, { type: NOTIFY.NAT_DETECTION_DESTINATION_IP, data: natDst }, { type: NOTIFY.IKEV2_FRAGMENTATION_SUPPORTED }],
    vendorIds: [VENDOR_ID.STRONGSWAN],
  });
  const chosen = ikev2Proposal({ encr: ENCR.ENCR_AES_CBC, keyLength: 256, prf: PRF.PRF_HMAC_SHA2_256, integ: INTEG.AUTH_HMAC_SHA2_256_128, dh: DH_GROUP.MODP_2048 });
  const response = ikev2SaInitResponse({ spiI, spiR, proposal: chosen, dhGroup: DH_GROUP.MODP_2048 });

  it('IKE_SA_INIT request and response dissect to the built proposals (UDP 500 and 4500)', () => {
    const file = capture('ikev2.pcap', [{ msg: request }, { msg: response, fromResponder: true }, { msg: request, natT: true }, { msg: response, fromResponder: true, natT: true, v6: true }]);
    const rows = fields(file, ORACLE);
    const req = ['34', '', '', '', '', '12,12,20,3', '256,128,256', '5,2,6,2', '12,2,2', '14,19,20,2'];
    const resp = ['34', '', '', '', '', '12', '256', '5', '12', '14'];
    assert.deepEqual(rows, [req, resp, req, resp]);

    const detail = fields(file, [
      'isakmp.ispi', 'isakmp.rspi', 'isakmp.flag_i', 'isakmp.flag_r', 'isakmp.messageid', 'isakmp.prop.number', 'isakmp.prop.transforms', 'isakmp.prop.protoid',
      'isakmp.key_exchange.dh_group', 'isakmp.key_exchange.data', 'isakmp.nonce', 'isakmp.notify.msgtype', 'isakmp.notify.data', 'isakmp.vid_string', 'isakmp.length', 'udp.length',
    ]);
    const [q, r] = [detail[0]!, detail[1]!];
    assert.deepEqual(q.slice(0, 8), [spiI.toString('hex'), '0000000000000000', '1', '0', '0x00000000', '1,2,3', '8,3,4', '1,1,1']);
    assert.deepEqual(r.slice(0, 8), [spiI.toString('hex'), spiR.toString('hex'), '0', '1', '0x00000000', '1', '4', '1']);
    assert.equal(q[8], '14');
    assert.equal(q[9]!.length, 2 * 256); // MODP-2048 public value
    assert.equal(q[10]!.length, 2 * 32);
    assert.equal(q[11], '16388,16389,16430');
    // The data-less third notify shows as <MISSING> in tshark's aggregated column.
    assert.equal(q[12], `${natSrc.toString('hex')},${natDst.toString('hex')},<MISSING>`);
    assert.equal(q[13], 'strongSwan');
    assert.equal(Number(q[14]) + 8, Number(q[15])); // IKE length = UDP payload
    assert.equal(Number(detail[2]![14]) + 12, Number(detail[2]![15])); // + the 4-byte marker on 4500
    assert.deepEqual(expertProblems(file), []);
  });

  it('a response with two transforms of one type is refused', () => {
    const two = ikev2Proposal({ encr: ENCR.ENCR_AES_CBC, keyLength: 256, prf: [5, 2], integ: 12, dh: 14 });
    assert.throws(() => ikev2SaInitResponse({ spiI, spiR, proposal: two, dhGroup: 14 }), /one transform per type/);
  });

  it('error responses, cookie retry and an IKE_AUTH with an SK payload', () => {
    const cookie = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const file = capture('ikev2-more.pcap', [
      { msg: ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.NO_PROPOSAL_CHOSEN }] }), fromResponder: true },
      { msg: ikev2SaInitErrorResponse({ spiI, notifies: [{ type: NOTIFY.INVALID_KE_PAYLOAD, data: invalidKeData(DH_GROUP.ECP_256) }] }), fromResponder: true },
      { msg: ikev2SaInitRequest({ spiI, proposals: proposals.slice(1, 2), dhGroup: DH_GROUP.ECP_384, cookie }) },
      { msg: ikev2Encrypted({ spiI, spiR }), natT: true },
      { msg: ikev2Encrypted({ spiI, spiR, response: true, bodyLength: 96 }), fromResponder: true, natT: true },
    ]);
    const rows = fields(file, ['isakmp.exchangetype', 'isakmp.flag_r', 'isakmp.rspi', 'isakmp.nextpayload', 'isakmp.notify.msgtype', 'isakmp.notify.data.accepted_dh_group', 'isakmp.key_exchange.dh_group', 'isakmp.tf.id.encr', 'isakmp.messageid']);
    assert.deepEqual(rows, [
      ['34', '1', '0000000000000000', '41,0', '14', '', '', '', '0x00000000'],
      ['34', '1', '0000000000000000', '41,0', '17', '19', '', '', '0x00000000'],
      ['34', '0', '0000000000000000', '41,33,34,0,3,3,0,40,0', '16390', '', '20', '20', '0x00000000'],
      ['35', '0', spiR.toString('hex'), '46,35', '', '', '', '', '0x00000001'],
      ['35', '1', spiR.toString('hex'), '46,36', '', '', '', '', '0x00000001'],
    ]);
    assert.deepEqual(expertProblems(file), []);
  });
});

describe('IKEv1 and AuthIP', () => {
  const spiI = newSpi();
  const spiR = newSpi();
  const suites: Ikev1Suite[] = [
    { encryption: IKEV1_ENCR.AES_CBC, keyLength: 256, hash: IKEV1_HASH.SHA2_256, authMethod: 1, group: 14, lifeDuration: 28800 },
    { encryption: IKEV1_ENCR.AES_CBC, keyLength: 128, hash: IKEV1_HASH.SHA, authMethod: 3, group: 14, lifeDuration: 28800 },
    { encryption: IKEV1_ENCR.TRIPLE_DES_CBC, hash: IKEV1_HASH.MD5, authMethod: 1, group: 2, lifeType: 2, lifeDuration: 100000 },
    { encryption: IKEV1_ENCR.DES_CBC, hash: IKEV1_HASH.SHA2_512, authMethod: 1, group: 5 },
  ];
  const winVids = [msNt5Vid(9), VENDOR_ID.RFC3947_NAT_T, VENDOR_ID.NAT_T_DRAFT_02N, VENDOR_ID.MS_NEGOTIATION_DISCOVERY, VENDOR_ID.MS_INITIAL_CONTACT, VENDOR_ID.IKE_FRAGMENTATION, VENDOR_ID.IKE_CGA_V1];

  it('Main Mode 1/2, Aggressive 1/2, an encrypted message and AuthIP MM dissect to the suites built', () => {
    const file = capture('ikev1.pcap', [
      { msg: ikev1MainMode1({ spiI, suites, vendorIds: winVids }) },
      { msg: ikev1MainMode2({ spiI, spiR, suite: suites[1]!, transformNumber: 2, vendorIds: [VENDOR_ID.RFC3947_NAT_T] }), fromResponder: true },
      { msg: ikev1Aggressive1({ spiI, suites: suites.slice(0, 2), identity: I4, vendorIds: [VENDOR_ID.DEAD_PEER_DETECTION] }) },
      { msg: ikev1Aggressive2({ spiI, spiR, suite: suites[0]!, identity: 'responder.example' }), fromResponder: true },
      { msg: ikev1Encrypted({ spiI, spiR, exchange: 2 }), natT: true },
      { msg: ikev1Encrypted({ spiI, spiR, messageId: 0x01020304 }) },
      { msg: authIpMainMode({ spiI, suites: suites.slice(0, 2), vendorIds: [msNt5Vid(9)] }) },
      { msg: authIpMainMode({ spiI, spiR, suites: [suites[0]!], sequence: 1 }), fromResponder: true },
    ]);
    const rows = fields(file, ORACLE);
    assert.deepEqual(rows, [
      ['2', '7,7,5,1', '256,128', '4,2,1,6', '14,14,2,5', '', '', '', '', ''],
      ['2', '7', '128', '2', '14', '', '', '', '', ''],
      ['4', '7,7', '256,128', '4,2', '14,14', '', '', '', '', ''],
      ['4', '7', '256', '4', '14', '', '', '', '', ''],
      ['2', '', '', '', '', '', '', '', '', ''],
      ['32', '', '', '', '', '', '', '', '', ''],
      ['243', '7,7', '256,128', '4,2', '14,14', '', '', '', '', ''],
      ['243', '7', '256', '4', '14', '', '', '', '', ''],
    ]);
    const detail = fields(file, [
      'isakmp.ike.attr.authentication_method', 'isakmp.ike.attr.life_type', 'isakmp.ike.attr.life_duration', 'isakmp.trans.number', 'isakmp.trans.id',
      'isakmp.vid_string', 'isakmp.vid.ms_nt5_isakmpoakley', 'isakmp.flag_e', 'isakmp.nextpayload', 'isakmp.id.data.ipv4_addr', 'isakmp.id.data.fqdn',
      'isakmp.key_exchange.data', 'isakmp.messageid', 'isakmp.rspi', 'isakmp.sa.doi', 'isakmp.prop.protoid',
    ]);
    const col = (i: number): string[] => detail.map((r) => r[i] ?? '');
    assert.deepEqual(col(0).slice(0, 4), ['1,3,1,1', '3', '1,3', '1']);
    assert.deepEqual(col(1)[0], '1,1,2');
    assert.deepEqual(col(2)[0], '28800,28800,100000');
    assert.deepEqual(col(3).slice(0, 2), ['1,2,3,4', '2']);
    assert.deepEqual(col(4)[0], '1,1,1,1'); // KEY_IKE
    assert.equal(col(5)[0], 'MS NT5 ISAKMPOAKLEY,RFC 3947 Negotiation of NAT-Traversal in the IKE,draft-ietf-ipsec-nat-t-ike-02\\n,MS-Negotiation Discovery Capable,Microsoft Vid-Initial-Contact,Cisco Fragmentation,IKE CGA Version 1');
    assert.equal(col(6)[0], '9');
    assert.equal(col(5)[2], 'RFC 3706 DPD (Dead Peer Detection)');
    assert.deepEqual(col(7), ['0', '0', '0', '0', '1', '1', '0', '0']);
    // Every Next Payload field in order: header, then each payload's, with the proposal
    // (0 = last) and transform (3 = more, 0 = last) links of the SA payload in between.
    assert.deepEqual(col(8), [
      '1,13,0,3,3,3,0,13,13,13,13,13,13,0', '1,13,0,0,0', '1,4,0,3,0,10,5,13,0', '1,4,0,0,10,5,8,0', '5', '8', '133,1,13,0,3,0,0', '133,1,0,0,0',
    ]);
    assert.equal(col(9)[2], I4);
    assert.equal(col(10)[3], 'responder.example');
    assert.equal(col(11)[2]!.length, 2 * 256);
    assert.equal(col(12)[5], '0x01020304');
    assert.deepEqual(col(13), ['0000000000000000', spiR.toString('hex'), '0000000000000000', spiR.toString('hex'), spiR.toString('hex'), spiR.toString('hex'), '0000000000000000', spiR.toString('hex')]);
    assert.deepEqual(col(14).slice(0, 4), ['1', '1', '1', '1']);
    assert.deepEqual(expertProblems(file), []);
  });

  it('the MS NT5 VID without its version suffix is what tshark calls malformed (captures.md §5.6)', () => {
    const bare = msNt5Vid(9).subarray(0, 16);
    const file = capture('ms-vid-bare.pcap', [{ msg: ikev1MainMode1({ spiI, suites: suites.slice(0, 1), vendorIds: [bare] }) }]);
    assert.notDeepEqual(expertProblems(file), []);
  });

  it('the generic builder links any payload chain and sets lengths', () => {
    const msg = ikeMessage({ spiI, version: 0x10, exchange: 5, flags: 0, messageId: 7 }, [{ type: 11, body: Buffer.from('000000010100000e', 'hex') }]);
    assert.equal(msg.readUInt32BE(24), msg.length);
    assert.equal(msg[16], 11);
    assert.equal(msg.readUInt16BE(30), 12);
    const file = capture('informational.pcap', [{ msg }]);
    assert.deepEqual(fields(file, ['isakmp.exchangetype', 'isakmp.notify.msgtype', 'udp.checksum.status'], { prefs: CHECKSUM_PREFS }), [['5', '14', CHECKSUM_GOOD]]);
  });
});

describe('src/capture/ike-ids.ts', () => {
  let dump: string | undefined;
  /** Wireshark's value table for a field: id → label (the full dump is slow: read it once). */
  function wiresharkValues(field: string): Map<number, string> {
    dump ??= execFileSync('tshark', ['-G', 'values'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
    const out = dump;
    const m = new Map<number, string>();
    for (const line of out.split('\n')) {
      const [kind, f, id, label] = line.split('\t');
      if (kind === 'V' && f === field) m.set(Number(id), label ?? '');
    }
    return m;
  }

  it('IKEv2 names agree with Wireshark wherever Wireshark uses the IANA identifier', () => {
    // Wireshark 4.0 labels these differently from IANA (checked by hand against the registry).
    const differs = new Map<string, number[]>([
      ['isakmp.tf.id.encr', [14, 15, 16, 18, 19, 20, 25, 26, 27]],
      ['isakmp.tf.id.prf', [4, 8]],
      ['isakmp.tf.id.integ', []],
    ]);
    const ours: Record<string, (id: number) => string | undefined> = { 'isakmp.tf.id.encr': encrName, 'isakmp.tf.id.prf': prfName, 'isakmp.tf.id.integ': integName };
    for (const [field, skip] of differs) {
      const ws = wiresharkValues(field);
      let compared = 0;
      for (const [id, label] of ws) {
        if (skip.includes(id) || /^(RESERVED|UNASSIGNED|Reserved)/.test(label)) continue;
        assert.equal(ours[field]!(id), label, `${field} ${id}`);
        compared++;
      }
      assert.ok(compared >= 6, `${field}: compared ${compared}`);
    }
    assert.equal(encrName(20), 'ENCR_AES_GCM_16');
    assert.equal(prfName(4), 'PRF_AES128_XCBC');
    assert.equal(integName(14), 'AUTH_HMAC_SHA2_512_256');
    assert.equal(prfName(6), 'PRF_HMAC_SHA2_384');
  });

  it('DH groups, IKEv1 encryption and hash values cover Wireshark’s tables', () => {
    const dh = wiresharkValues('isakmp.tf.id.dh');
    for (const id of dh.keys()) if (id === 0 || (id >= 5 && id !== 6 && id !== 7 && (id < 8 || id > 13))) assert.ok(DH_GROUP_DESCRIPTION.has(id), `group ${id}`);
    assert.equal(DH_GROUP_DESCRIPTION.get(14), '2048-bit MODP Group');
    assert.equal(DH_PUBLIC_VALUE_BYTES.get(19), 64);
    const enc = wiresharkValues('isakmp.ike.attr.encryption_algorithm');
    for (let id = 1; id <= 8; id++) assert.equal(IKEV1_ENCR_NAME.get(id)?.toUpperCase(), enc.get(id)?.toUpperCase(), `enc ${id}`);
    const hash = wiresharkValues('isakmp.ike.attr.hash_algorithm');
    for (let id = 1; id <= 6; id++) assert.equal(IKEV1_HASH_NAME.get(id)?.toUpperCase(), hash.get(id)?.toUpperCase(), `hash ${id}`);
  });

  it('maps both ways and onto IKEv2 names', () => {
    for (const [name, id] of Object.entries(ENCR)) { assert.equal(encrId(name), id); assert.equal(encrName(id), name); }
    for (const [name, id] of Object.entries(PRF)) { assert.equal(prfId(name), id); assert.equal(prfName(id), name); }
    for (const [name, id] of Object.entries(INTEG)) { assert.equal(integId(name), id); assert.equal(integName(id), name); }
    assert.equal(encrId('toString'), undefined);
    assert.equal(encrId('ENCR_AES_CBC'), 12);
    assert.equal(transformName(1, 12), 'ENCR_AES_CBC');
    assert.equal(transformName(3, 12), 'AUTH_HMAC_SHA2_256_128');
    assert.equal(transformName(4, 31), 'Curve25519');
    assert.equal(transformName(9, 1), undefined);
    assert.equal(ikev1EncrId('AES-CBC'), 7);
    assert.equal(ikev1HashId('SHA2-256'), 4);
    assert.equal(ikev1EncrToIkev2(7), 'ENCR_AES_CBC');
    assert.equal(ikev1EncrToIkev2(5), 'ENCR_3DES');
    assert.equal(ikev1EncrToIkev2(1), 'ENCR_DES');
    assert.deepEqual(ikev1HashToIkev2(2), { integrity: 'AUTH_HMAC_SHA1_96', prf: 'PRF_HMAC_SHA1' });
    assert.deepEqual(ikev1HashToIkev2(4), { integrity: 'AUTH_HMAC_SHA2_256_128', prf: 'PRF_HMAC_SHA2_256' });
    assert.deepEqual(ikev1HashToIkev2(5), { integrity: 'AUTH_HMAC_SHA2_384_192', prf: 'PRF_HMAC_SHA2_384' });
    assert.deepEqual(ikev1HashToIkev2(6), { integrity: 'AUTH_HMAC_SHA2_512_256', prf: 'PRF_HMAC_SHA2_512' });
    assert.equal(ikev1HashToIkev2(9), undefined);
  });
});
