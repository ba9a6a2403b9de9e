// ESP and AH for every negotiable child suite: each seals and opens with real crypto,
// tampering is caught, single DES (built from EDE3 with equal keys) matches the FIPS 81
// known answer, and AH covers the IP header's immutable fields. A seeded stream makes the
// same keys and bytes every time.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { childSuite } from '../../../src/ipsec/iana.js';
import { parseQuickModeProposal } from '../../../src/ipsec/proposal-text.js';
import { IPPROTO, ipv4, ipv6, tcp } from '../../../simulators/wire/frames.js';
import { ahLength, ahSeal, ahVerify, espIvBytes, espOpen, espSeal, newAhKeys, newEspKeys } from '../../../simulators/wire/ipsec-transforms.js';
import { SeededRandom } from '../../../simulators/wire/seeded-random.js';

const segment = tcp({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 50000, dstPort: 8060 }, Buffer.from('SELECT secret FROM repository'));

describe('SeededRandom', () => {
  it('gives the same bytes for the same seed and label, and independent forks', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    assert.ok(a.bytes(100).equals(b.bytes(100)));
    assert.equal(a.u32(), b.u32());
    assert.ok(!new SeededRandom(43).bytes(32).equals(new SeededRandom(42).bytes(32)));
    const used = new SeededRandom(42);
    used.bytes(5000);
    assert.ok(used.fork('x').bytes(16).equals(new SeededRandom(42).fork('x').bytes(16)), 'a fork does not depend on how much the parent was used');
    for (let i = 0; i < 1000; i++) {
      const v = a.int(3, 7);
      assert.ok(v >= 3 && v <= 7 && Number.isInteger(v));
    }
    // Across a pool refill, bytes stay a continuous stream.
    const c = new SeededRandom('s');
    const d = new SeededRandom('s');
    const whole = c.bytes(70_000);
    const parts = Buffer.concat([d.bytes(65_530), d.bytes(4470)]);
    assert.ok(whole.equals(parts));
  });
});

describe('ESP for negotiated suites', () => {
  const suites = [
    'ESP AES128/SHA1', 'ESP AES192/SHA256', 'ESP AES256/SHA256', 'ESP AES256/SHA384', 'ESP AES128/MD5', 'ESP 3DES/SHA1', 'ESP DES/SHA1',
    'ESP AESGCM128/AESGMAC128', 'ESP AESGCM256/None', 'ESP None/SHA1', 'ESP None/SHA256', 'ESP None/AESGMAC128',
  ];
  for (const text of suites) {
    it(`${text}: seals, opens, and rejects a flipped bit`, () => {
      const rnd = new SeededRandom(text);
      const keys = newEspKeys(childSuite(parseQuickModeProposal(text)), 0x1001, rnd);
      for (let extra = 0; extra < 17; extra++) {
        const payload = Buffer.concat([segment, Buffer.alloc(extra, 0x61)]);
        const iv = rnd.bytes(espIvBytes(keys));
        const esp = espSeal(keys, extra + 1, IPPROTO.TCP, payload, iv);
        assert.equal(esp.readUInt32BE(0), 0x1001);
        assert.equal(esp.readUInt32BE(4), extra + 1);
        const open = espOpen(keys, esp);
        assert.equal(open.nextHeader, IPPROTO.TCP);
        assert.ok(open.payload.equals(payload));
        const clear = text.startsWith('ESP None');
        assert.equal(esp.includes(Buffer.from('SELECT secret')), clear, clear ? 'ESP-NULL shows the payload' : 'the payload is encrypted');
        const bad = Buffer.from(esp);
        bad[bad.length - 20] = bad[bad.length - 20]! ^ 0x40;
        assert.throws(() => espOpen(keys, bad));
      }
    });
  }

  it('single DES is exactly DES: FIPS 81 known answer (key 0123456789abcdef, "Now is t")', () => {
    const keys = newEspKeys(childSuite(parseQuickModeProposal('ESP DES/SHA1')), 0x2002, new SeededRandom(1));
    keys.encKey = Buffer.from('0123456789abcdef', 'hex');
    // With a zero IV, CBC's first ciphertext block is the ECB encryption of the first 8 bytes.
    const payload = Buffer.from('Now is the time for all ', 'ascii');
    const esp = espSeal(keys, 1, IPPROTO.UDP, payload, Buffer.alloc(8));
    assert.equal(esp.subarray(16, 24).toString('hex'), '3fa40e8a984d4815');
  });

  it('the same seed gives the same keys and packets', () => {
    const s = childSuite(parseQuickModeProposal('ESP AES256/SHA256'));
    const make = (): Buffer => {
      const r = new SeededRandom('same');
      const k = newEspKeys(s, 7, r);
      return espSeal(k, 1, 6, segment, r.bytes(16));
    };
    assert.equal(createHash('sha256').update(make()).digest('hex'), createHash('sha256').update(make()).digest('hex'));
  });
});

describe('AH', () => {
  for (const text of ['AH SHA1', 'AH SHA256', 'AH SHA384', 'AH MD5', 'AH AESGMAC128']) {
    for (const v6 of [false, true]) {
      it(`${text} over IPv${v6 ? 6 : 4}: the ICV covers the packet, mutable fields excluded`, () => {
        const rnd = new SeededRandom(text);
        const keys = newAhKeys(childSuite(parseQuickModeProposal(text)), 0x3003, rnd);
        const len = ahLength(keys, v6);
        assert.equal(len % (v6 ? 8 : 4), 0);
        const src = v6 ? '2001:db8::1' : '10.0.0.1';
        const dst = v6 ? '2001:db8::2' : '10.0.0.2';
        const hdr = (v6 ? ipv6({ src, dst, nextHeader: IPPROTO.AH, hopLimit: 64 }, Buffer.alloc(len + segment.length)) : ipv4({ src, dst, protocol: IPPROTO.AH, ttl: 64, id: 9 }, Buffer.alloc(len + segment.length))).subarray(0, v6 ? 40 : 20);
        const packet = ahSeal(keys, 5, Buffer.from(hdr), IPPROTO.TCP, segment, text.includes('GMAC') ? rnd.bytes(8) : undefined);
        const ok = ahVerify(keys, packet);
        assert.equal(ok.nextHeader, IPPROTO.TCP);
        assert.ok(ok.payload.equals(segment));
        // A router decrementing the TTL/hop limit does not break the ICV; changing an address does.
        const routed = Buffer.from(packet);
        routed[v6 ? 7 : 8] = 63;
        assert.doesNotThrow(() => ahVerify(keys, routed));
        const spoofed = Buffer.from(packet);
        spoofed[v6 ? 23 : 15] = 9;
        assert.throws(() => ahVerify(keys, spoofed), /ICV mismatch/);
        const tampered = Buffer.from(packet);
        tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
        assert.throws(() => ahVerify(keys, tampered), /ICV mismatch/);
      });
    }
  }
});
