import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeSet } from '../../../src/compliance/node-set.js';
import { InputError } from '../../../src/util/errors.js';

test('NodeSet matches single addresses and CIDRs, v4 and v6', () => {
  const nodes = new NodeSet(['10.0.0.11', '192.168.8.0/22', '2001:db8::/32', 'fe80::1']);
  assert.equal(nodes.contains('10.0.0.11'), true);
  assert.equal(nodes.contains('10.0.0.12'), false);
  assert.equal(nodes.contains('192.168.11.255'), true);
  assert.equal(nodes.contains('192.168.12.0'), false);
  assert.equal(nodes.contains('2001:db8:ffff::1'), true);
  assert.equal(nodes.contains('2001:db9::1'), false);
  assert.equal(nodes.contains('fe80::1'), true);
  assert.equal(nodes.contains('fe80::2'), false);
  assert.deepEqual(nodes.singleAddresses, ['10.0.0.11', 'fe80::1']);
  assert.equal(nodes.isDirectedBroadcast(4, 0xc0a80bff), true);
  assert.equal(nodes.isDirectedBroadcast(4, 0xc0a80bfe), false);
});

test('NodeSet refuses what is not an address or CIDR, naming the entry', () => {
  assert.throws(() => new NodeSet(['10.0.0.1', '10.0.0.300']), (e: unknown) => e instanceof InputError && /"10\.0\.0\.300"/.test(e.message));
  assert.throws(() => new NodeSet(['10.0.0.0/33']), /prefix length must be 0\.\.32/);
  assert.throws(() => new NodeSet(['10.0.0.0/8x']), InputError);
  assert.throws(() => new NodeSet(['', ' ']), /at least one node/);
});
