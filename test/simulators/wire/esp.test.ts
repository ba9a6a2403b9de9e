// ESP with real crypto: our own decrypt round-trips and rejects tampering, and — the
// independent proof — tshark, given the same keys in its ESP SA table, decrypts the AES
// packets and verifies their ICVs; ESP-NULL packets show their inner TCP/UDP with the
// NULL heuristic, and their HMAC verifies in tshark at every ICV length.
import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import {
  espDecrypt, espEncapsulate, espInUdp, espTransport, espTunnel, ikeInUdp, natKeepalive, newEspSa, withNonEspMarker,
  type EspSa, type NullIcvLength,
} from '../../../simulators/wire/esp.js';
import { ETHERTYPE, IPPROTO, ethernet, ipv4, ipv6, tcp, udp } from '../../../simulators/wire/frames.js';
import { ikev2SaInitRequest, ikev2Proposal, newSpi } from '../../../simulators/wire/ike.js';
import { PcapWriter } from '../../../simulators/wire/pcap-writer.js';
import { CHECKSUM_GOOD, CHECKSUM_PREFS, TempDir, expertProblems, fields } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const A4 = '10.0.0.1';
const B4 = '10.0.0.2';
const A6 = '2001:db8::a';
const B6 = '2001:db8::b';
const body = Buffer.from('the compliance checker must never read this in clear');
// Ports here are high and unassigned: on a well-known port tshark hands the payload to that
// protocol's dissector (2222 is EtherNet/IP), whose exception on our text would cut the
// ESP trailer fields off the tree.

const eth = (p: Buffer): Buffer => ethernet({ dst: '02:00:00:00:00:0b', src: '02:00:00:00:00:0a', etherType: p[0]! >> 4 === 4 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6 }, p);

function capture(name: string, packets: Buffer[]): string {
  const w = new PcapWriter({ linkType: 1 });
  packets.forEach((p, i) => w.writePacket(eth(p), 1700000000 + i, 0));
  return tmp.file(name, w.toBuffer());
}

const hex = (b: Uint8Array | undefined): string => `0x${Buffer.from(b ?? []).toString('hex')}`;

/** tshark's ESP SA table entry ("uat:esp_sa" record) for an SA between src and dst. */
function saPref(sa: EspSa, family: 'IPv4' | 'IPv6', src: string, dst: string): string[] {
  const spi = `0x${(sa.spi >>> 0).toString(16).padStart(8, '0')}`;
  let enc = 'NULL';
  let auth = 'NULL';
  if (sa.suite === 'aes-cbc-hmac-sha256') { enc = 'AES-CBC [RFC3602]'; auth = 'HMAC-SHA-256-128 [RFC4868]'; }
  if (sa.suite === 'aes-gcm') enc = 'AES-GCM with 16 octet ICV [RFC4106]';
  if (sa.suite === 'null') {
    auth = { 12: 'HMAC-SHA-1-96 [RFC2404]', 16: 'HMAC-SHA-256-128 [RFC4868]', 24: 'HMAC-SHA-384-192 [RFC4868]', 32: 'HMAC-SHA-512-256 [RFC4868]' }[sa.icvLength ?? 16];
  }
  const encKey = sa.suite === 'null' ? '' : hex(sa.encryptionKey);
  const authKey = sa.integrityKey ? hex(sa.integrityKey) : '';
  return ['-o', `uat:esp_sa:"${family}","${src}","${dst}","${spi}","${enc}","${encKey}","${auth}","${authKey}"`];
}

const DECRYPT = ['-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE'];

describe('ESP packet layout and our own decrypt', () => {
  for (const suite of ['aes-cbc-hmac-sha256', 'aes-gcm', 'null'] as const) {
    it(`${suite}: round trip in transport and tunnel mode; tampering is caught`, () => {
      const sa = newEspSa(suite, 0x1234);
      const segment = tcp({ src: A4, dst: B4, srcPort: 45000, dstPort: 45443 }, body);
      for (let extra = 0; extra < 20; extra++) {
        const payload = Buffer.concat([segment, Buffer.alloc(extra, 0x41)]);
        const esp = espTransport(sa, extra + 1, IPPROTO.TCP, payload);
        const open = espDecrypt(sa, esp);
        assert.equal(open.spi, 0x1234);
        assert.equal(open.seq, extra + 1);
        assert.equal(open.nextHeader, IPPROTO.TCP);
        assert.ok(open.payload.equals(payload));
        // RFC 4303: the encrypted part ends on the cipher's block (CBC) or on 4 bytes.
        const ivLen = suite === 'aes-cbc-hmac-sha256' ? 16 : suite === 'aes-gcm' ? 8 : 0;
        const sealed = esp.length - 8 - ivLen - 16;
        assert.equal(sealed % (suite === 'aes-cbc-hmac-sha256' ? 16 : 4), 0);
        assert.ok(open.padLength < (suite === 'aes-cbc-hmac-sha256' ? 16 : 4));
      }
      const inner = ipv6({ src: A6, dst: B6, nextHeader: 17 }, udp({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }, body));
      const tun = espTunnel(sa, 99, inner);
      const opened = espDecrypt(sa, tun);
      assert.equal(opened.nextHeader, IPPROTO.IPV6);
      assert.ok(opened.payload.equals(inner));
      assert.equal(espDecrypt(sa, espTunnel(sa, 1, ipv4({ src: A4, dst: B4, protocol: 17 }, Buffer.alloc(8)))).nextHeader, IPPROTO.IPIP);

      const bad = Buffer.from(tun);
      bad[20] = bad[20]! ^ 0x01;
      assert.throws(() => espDecrypt(sa, bad));
      assert.throws(() => espDecrypt(newEspSa(suite, 0x1234), tun)); // other keys
      assert.throws(() => espDecrypt({ ...sa, spi: 0x999 }, tun), /SPI/);
    });
  }

  it('ESP-NULL carries the payload in clear with pad 1..N and an ICV of the chosen length', () => {
    for (const icv of [12, 16, 24, 32] as NullIcvLength[]) {
      const sa = newEspSa('null', 0x500 + icv, icv);
      const esp = espEncapsulate(sa, 7, IPPROTO.UDP, Buffer.from('abcde'));
      // 5 payload + pad + 2 trailer bytes must end on 4 bytes: pad 1; 8 + 5 + 1 + 2 = 16 before the ICV.
      assert.equal(esp.subarray(8, 13).toString(), 'abcde');
      assert.deepEqual([...esp.subarray(13, 16)], [1, 1, 17]); // pad 1, pad length 1, next header 17
      assert.equal(esp.length, 16 + icv);
      assert.equal(espDecrypt(sa, esp).payload.toString(), 'abcde');
    }
    const sa = newEspSa('null');
    const padded = espEncapsulate(sa, 1, IPPROTO.UDP, Buffer.from('abcde'), { extraPad: 8 });
    assert.deepEqual([...padded.subarray(13, 24)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 17]);
  });

  it('explicit IVs are used as given (GCM: salt from the key, IV on the wire)', () => {
    const gcm = newEspSa('aes-gcm', 0x42);
    const iv = Buffer.from('0102030405060708', 'hex');
    const a = espEncapsulate(gcm, 1, 17, body, { iv });
    assert.ok(a.subarray(8, 16).equals(iv));
    assert.ok(a.equals(espEncapsulate(gcm, 1, 17, body, { iv }))); // deterministic for the same IV
    assert.ok(!a.equals(espEncapsulate(gcm, 2, 17, body, { iv }))); // the sequence number is AAD
    assert.throws(() => espEncapsulate(gcm, 1, 17, body, { iv: Buffer.alloc(16) }), /8 bytes/);
  });
});

describe('tshark decrypts and authenticates our ESP', () => {
  it('AES-256-CBC + HMAC-SHA-256-128 and AES-256-GCM-16, transport and tunnel, IPv4 and IPv6 outer, ESP-in-UDP', () => {
    const cbc = newEspSa('aes-cbc-hmac-sha256', 0x1001);
    const gcm = newEspSa('aes-gcm', 0x2002);
    const cbc6 = newEspSa('aes-cbc-hmac-sha256', 0x3003);
    const gcmUdp = newEspSa('aes-gcm', 0x4004);
    const innerV4 = ipv4({ src: '192.168.1.1', dst: '192.168.1.2', protocol: 17 }, udp({ src: '192.168.1.1', dst: '192.168.1.2', srcPort: 41111, dstPort: 42222 }, body));
    const innerV6 = ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 6 }, tcp({ src: 'fd00::1', dst: 'fd00::2', srcPort: 43333, dstPort: 44444 }, body));
    const packets = [
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.ESP }, espTransport(cbc, 1, IPPROTO.TCP, tcp({ src: A4, dst: B4, srcPort: 45000, dstPort: 45443 }, body))),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.ESP }, espTunnel(cbc, 2, innerV6)),
      ipv4({ src: B4, dst: A4, protocol: IPPROTO.ESP }, espTransport(gcm, 1, IPPROTO.UDP, udp({ src: B4, dst: A4, srcPort: 46000, dstPort: 46001 }, body))),
      ipv4({ src: B4, dst: A4, protocol: IPPROTO.ESP }, espTunnel(gcm, 2, innerV4)),
      ipv6({ src: A6, dst: B6, nextHeader: IPPROTO.ESP }, espTransport(cbc6, 1, IPPROTO.TCP, tcp({ src: A6, dst: B6, srcPort: 45001, dstPort: 45443 }, body))),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.UDP }, espInUdp({ src: A4, dst: B4 }, espTunnel(gcmUdp, 1, innerV4))),
    ];
    const file = capture('esp-aes.pcap', packets);
    const keys = [...saPref(cbc, 'IPv4', A4, B4), ...saPref(gcm, 'IPv4', B4, A4), ...saPref(cbc6, 'IPv6', A6, B6), ...saPref(gcmUdp, 'IPv4', A4, B4)];
    const prefs = [...DECRYPT, ...keys, ...CHECKSUM_PREFS];
    const rows = fields(file, ['esp.spi', 'esp.sequence', 'esp.icv_good', 'esp.protocol', 'tcp.srcport', 'udp.srcport', 'tcp.payload', 'udp.payload', 'tcp.checksum.status'], { prefs });
    const text = body.toString('hex');
    assert.deepEqual(rows.map((r) => r.slice(0, 4)), [
      ['0x00001001', '1', '1', '0x06'], ['0x00001001', '2', '1', '0x29'], ['0x00002002', '1', '1', '0x11'], ['0x00002002', '2', '1', '0x04'],
      ['0x00003003', '1', '1', '0x06'], ['0x00004004', '1', '1', '0x04'],
    ]);
    assert.deepEqual(rows.map((r) => [r[4], r[6] || r[7]!.split(',').pop()]), [
      ['45000', text], ['43333', text], ['', text], ['', text], ['45001', text], ['', text],
    ]);
    assert.equal(rows[0]![8], CHECKSUM_GOOD); // the decrypted transport-mode TCP checksum uses the outer addresses
    assert.equal(rows[3]![5], '41111');
    assert.deepEqual(expertProblems(file, prefs), []);

    // Without the right keys tshark sees only ciphertext.
    const wrong = saPref(newEspSa('aes-cbc-hmac-sha256', 0x1001), 'IPv4', A4, B4);
    const blind = fields(file, ['tcp.payload', 'udp.payload'], { prefs: [...DECRYPT, ...wrong], filter: 'esp.spi == 0x1001' });
    assert.ok(!blind.some((r) => r.includes(text)));
    // With a wrong integrity key tshark finds the ICV bad. (The right cipher key keeps the
    // decrypted next header real: with a wrong one, the garbage names a random protocol, and
    // one whose dissector throws, 1 run in ~30, cuts the ICV fields off the tree.)
    const wrongIntegrity = saPref({ ...cbc, integrityKey: newEspSa('aes-cbc-hmac-sha256').integrityKey! }, 'IPv4', A4, B4);
    const forged = fields(file, ['esp.icv_good', 'esp.icv_bad'], { prefs: [...DECRYPT, ...wrongIntegrity], filter: 'esp.spi == 0x1001' });
    assert.deepEqual(forged.map((r) => r.slice(0, 2)), [['0', '1'], ['0', '1']]);
  });

  it('ESP-NULL: the heuristic shows the inner segment, and the HMAC verifies at ICV 12/16/24/32', () => {
    const sas = ([12, 16, 24, 32] as NullIcvLength[]).map((icv, i) => newEspSa('null', 0x6000 + i, icv));
    const packets = sas.flatMap((sa, i) => [
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.ESP }, espTransport(sa, 1, IPPROTO.TCP, tcp({ src: A4, dst: B4, srcPort: 48000 + i, dstPort: 45443 }, body))),
      ipv4({ src: A4, dst: B4, protocol: IPPROTO.ESP }, espTunnel(sa, 2, ipv4({ src: '192.168.1.1', dst: '192.168.1.2', protocol: 17 }, udp({ src: '192.168.1.1', dst: '192.168.1.2', srcPort: 49000 + i, dstPort: 50000 }, body)))),
    ]);
    const file = capture('esp-null.pcap', packets);
    const heur = fields(file, ['esp.spi', 'tcp.srcport', 'udp.srcport', 'esp.pad_len', 'esp.protocol'], { prefs: ['-o', 'esp.enable_null_encryption_decode_heuristic:TRUE'] });
    assert.deepEqual(heur.map((r) => [r[1], r[2]]), [['48000', ''], ['', '49000'], ['48001', ''], ['', '49001'], ['48002', ''], ['', '49002'], ['48003', ''], ['', '49003']]);
    // Off by default: then tshark shows only ESP.
    assert.deepEqual(fields(file, ['tcp.srcport', 'udp.srcport']).flat().filter(Boolean), []);

    const prefs = [...DECRYPT, ...sas.flatMap((sa) => saPref(sa, 'IPv4', A4, B4))];
    const auth = fields(file, ['esp.spi', 'esp.icv_good', 'tcp.srcport', 'udp.srcport'], { prefs });
    assert.deepEqual(auth.map((r) => r[1]), Array(8).fill('1'));
    assert.deepEqual(auth.map((r) => r[2] || r[3]), ['48000', '49000', '48001', '49001', '48002', '49002', '48003', '49003']);
    assert.deepEqual(expertProblems(file, prefs), []);
  });
});

describe('RFC 3948 UDP encapsulation', () => {
  it('ESP-in-UDP (zero checksum on IPv4, computed on IPv6), IKE behind the non-ESP marker, the 0xFF keepalive', () => {
    const sa = newEspSa('aes-cbc-hmac-sha256', 0x7007);
    const ike = ikev2SaInitRequest({ spiI: newSpi(), dhGroup: 19, proposals: [ikev2Proposal({ encr: 20, keyLength: 256, prf: 5, dh: 19 })] });
    const packets = [
      ipv4({ src: A4, dst: B4, protocol: 17 }, espInUdp({ src: A4, dst: B4 }, espTransport(sa, 1, 6, tcp({ src: A4, dst: B4, srcPort: 1, dstPort: 2 }, body)))),
      ipv6({ src: A6, dst: B6, nextHeader: 17 }, espInUdp({ src: A6, dst: B6, srcPort: 4501 }, espTransport(sa, 2, 6, tcp({ src: A6, dst: B6, srcPort: 1, dstPort: 2 }, body)))),
      ipv4({ src: A4, dst: B4, protocol: 17 }, ikeInUdp({ src: A4, dst: B4, natT: true }, ike)),
      ipv4({ src: A4, dst: B4, protocol: 17 }, ikeInUdp({ src: A4, dst: B4 }, ike)),
      ipv4({ src: A4, dst: B4, protocol: 17 }, natKeepalive({ src: A4, dst: B4 })),
    ];
    assert.ok(withNonEspMarker(ike).subarray(0, 4).equals(Buffer.alloc(4)));
    assert.throws(() => espInUdp({ src: A4, dst: B4 }, Buffer.alloc(20)), /non-ESP marker/);
    const file = capture('udpencap.pcap', packets);
    const rows = fields(file, ['udp.srcport', 'udp.dstport', 'udp.checksum', 'udp.checksum.status', 'esp.spi', 'isakmp.exchangetype', 'isakmp.tf.id.encr', 'frame.protocols'], { prefs: CHECKSUM_PREFS });
    assert.deepEqual(rows.map((r) => r.slice(0, 7)), [
      ['4500', '4500', '0x0000', '3', '0x00007007', '', ''], // 3 = checksum not present
      ['4501', '4500', rows[1]![2]!, CHECKSUM_GOOD, '0x00007007', '', ''],
      ['4500', '4500', rows[2]![2]!, CHECKSUM_GOOD, '', '34', '20'],
      ['500', '500', rows[3]![2]!, CHECKSUM_GOOD, '', '34', '20'],
      ['4500', '4500', rows[4]![2]!, CHECKSUM_GOOD, '', '', ''],
    ]);
    assert.match(rows[2]![7]!, /udpencap:isakmp$/);
    assert.match(rows[4]![7]!, /udpencap$/);
    assert.match(fields(file, ['_ws.col.Info'], { filter: 'frame.number == 5' })[0]![0]!, /NAT-keepalive/);
    assert.deepEqual(expertProblems(file, CHECKSUM_PREFS), []);
  });
});
