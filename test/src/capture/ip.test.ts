import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress, IpView, IP_MALFORMED, IP_OK, IP_TRUNCATED, parseAddress, parseCidr } from '../../../src/capture/ip.js';

test('parseAddress and formatAddress round-trip IPv4 and RFC 5952 IPv6', () => {
  for (const text of ['10.77.0.11', '0.0.0.0', '255.255.255.255', 'fe80::1', '2001:db8::8:800:200c:417a', '::', '::1', '2001:db8:0:1:1:1:1:1', 'ff02::1:ff00:1']) {
    const p = parseAddress(text);
    assert.ok(p, text);
    assert.equal(formatAddress(p.af, ...p.words), text);
  }
  assert.equal(formatAddress(6, ...parseAddress('2001:0db8:0000:0000:0000:0000:0000:0001')!.words), '2001:db8::1');
  assert.equal(formatAddress(6, ...parseAddress('::ffff:10.0.0.1')!.words), '::ffff:a00:1');
});

test('parseAddress rejects what is not an address', () => {
  for (const text of ['10.0.0.256', '10.0.0', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7:8:9', 'gggg::1', '', 'host.example']) {
    assert.equal(parseAddress(text), undefined, text);
  }
});

test('IpView decodes IPv4 with options and fragment fields, and refuses bad headers', () => {
  const h = Buffer.alloc(28);
  h[0] = 0x46; // IHL 6: 4 bytes of options
  h.writeUInt16BE(28, 2);
  h.writeUInt16BE(0x1234, 4);
  h.writeUInt16BE(0x2000 | 3, 6); // MF, offset 3*8
  h[9] = 17;
  h.writeUInt32BE(0x0a000001, 12);
  h.writeUInt32BE(0xe0000001, 16);
  const v = new IpView();
  assert.equal(v.decode(h, 0, 28, 4), IP_OK);
  assert.equal(v.l4Offset, 24);
  assert.equal(v.l4Length, 4);
  assert.equal(v.fragOffset, 24);
  assert.equal(v.moreFragments, true);
  assert.equal(v.fragId, 0x1234);
  assert.equal(v.multicast, true);
  assert.equal(v.decode(h, 0, 22, 4), IP_TRUNCATED);
  h[0] = 0x44;
  assert.equal(v.decode(h, 0, 28, 4), IP_MALFORMED);
});

test('IpView walks an IPv6 extension chain to the upper layer, and stops at a non-first fragment', () => {
  const buf = Buffer.alloc(40 + 8 + 8 + 8);
  buf[0] = 0x60;
  buf.writeUInt16BE(24, 4);
  buf[6] = 0; // hop-by-hop
  buf[8] = 0x20; // 2000::…
  buf[24] = 0x20;
  buf[40] = 60; // → destination options
  buf[41] = 0;
  buf[48] = 44; // → fragment
  buf[49] = 0;
  buf[56] = 6; // fragment: next TCP
  buf.writeUInt16BE(0, 58); // offset 0
  buf.writeUInt32BE(77, 60);
  const v = new IpView();
  assert.equal(v.decode(buf, 0, buf.length, 6), IP_OK);
  assert.equal(v.proto, 6);
  assert.equal(v.l4Offset, 64);
  assert.equal(v.fragId, 77);
  buf.writeUInt16BE(100 << 3, 58); // non-first fragment
  assert.equal(v.decode(buf, 0, buf.length, 6), IP_OK);
  assert.equal(v.fragOffset, 800);
  assert.equal(v.proto, 6);
  assert.equal(v.decode(buf, 0, 50, 6), IP_TRUNCATED);
});

test('parseCidr: an address is its own whole prefix; a bad address or prefix length says which part is wrong', () => {
  assert.deepEqual(parseCidr('10.0.0.11'), { af: 4, words: [0x0a00000b, 0, 0, 0], bits: 32 });
  assert.deepEqual(parseCidr('10.0.0.0/24'), { af: 4, words: [0x0a000000, 0, 0, 0], bits: 24 });
  assert.deepEqual(parseCidr('2001:db8::/32'), { af: 6, words: [0x20010db8, 0, 0, 0], bits: 32 });
  assert.deepEqual(parseCidr('10.0.0.0/33'), { bad: 'prefix', max: 32 });
  assert.deepEqual(parseCidr('2001:db8::/129'), { bad: 'prefix', max: 128 });
  assert.deepEqual(parseCidr('10.0.0.0/x'), { bad: 'prefix', max: 32 });
  assert.deepEqual(parseCidr('10.0.0.0/'), { bad: 'prefix', max: 32 });
  assert.deepEqual(parseCidr('10.0.0.0/8/8'), { bad: 'address' });
  assert.deepEqual(parseCidr('10.0.0.256/8'), { bad: 'address' });
  assert.deepEqual(parseCidr('node1'), { bad: 'address' });
});
