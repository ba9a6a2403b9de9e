import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SERVICES, DYNAMIC_RANGE_NAME, parsePortRange, serviceFor } from '../../../src/compliance/services.js';

test('the analytics server\'s own ports', () => {
  assert.equal(serviceFor(80, 'tcp', {}), 'gateway (HTTP)');
  assert.equal(serviceFor(443, 'tcp', {}), 'gateway (TLS)');
  assert.equal(serviceFor(8850, 'tcp', {}), 'TSM administration controller');
  assert.equal(serviceFor(8060, 'tcp', {}), 'repository (PostgreSQL)');
  assert.equal(serviceFor(8061, 'tcp', {}), 'repository backup verification');
  assert.equal(serviceFor(27000, 'tcp', {}), 'licensing service');
  assert.equal(serviceFor(27009, 'tcp', {}), 'licensing service');
  assert.equal(serviceFor(27010, 'tcp', {}), undefined);
  assert.equal(serviceFor(8000, 'tcp', {}), DYNAMIC_RANGE_NAME);
  assert.equal(serviceFor(9000, 'tcp', {}), 'Tableau dynamic process range (8000-9000)');
  assert.equal(serviceFor(9001, 'tcp', {}), undefined);
  assert.equal(serviceFor(7999, 'tcp', {}), undefined);
});

test('infrastructure ports between Windows nodes, by protocol', () => {
  assert.equal(serviceFor(445, 'tcp', {}), 'SMB');
  assert.equal(serviceFor(135, 'tcp', {}), 'RPC endpoint mapper');
  assert.equal(serviceFor(88, 'udp', {}), 'Kerberos');
  assert.equal(serviceFor(88, 'tcp', {}), 'Kerberos');
  assert.equal(serviceFor(389, 'udp', {}), 'LDAP');
  assert.equal(serviceFor(53, 'udp', {}), 'DNS');
  assert.equal(serviceFor(53, 'TCP', {}), 'DNS', 'protocol case does not matter');
  assert.equal(serviceFor(123, 'udp', {}), 'NTP');
  assert.equal(serviceFor(123, 'tcp', {}), undefined, 'NTP is UDP only');
  assert.equal(serviceFor(3389, 'tcp', {}), 'RDP');
  assert.equal(serviceFor(5985, 'tcp', {}), 'WinRM (HTTP)');
  assert.equal(serviceFor(5986, 'tcp', {}), 'WinRM (HTTPS)');
  assert.equal(serviceFor(8060, 'udp', {}), undefined, 'the repository is TCP');
  assert.equal(serviceFor(445, 'icmp', {}), undefined, 'other protocols only match policy entries');
});

test('a single port beats the range that contains it', () => {
  // 8060, 8061 and 8850 sit inside 8000-9000.
  assert.equal(serviceFor(8060, 'tcp', {}), 'repository (PostgreSQL)');
  assert.equal(serviceFor(8850, 'tcp', {}), 'TSM administration controller');
  assert.equal(serviceFor(8062, 'tcp', {}), DYNAMIC_RANGE_NAME);
});

test('policy entries: most specific wins, the policy wins ties, and they apply to any protocol', () => {
  const overrides = {
    '8000-9000': 'our process range',
    '8500-8599': 'vizql workers',
    '8520': 'vizql primary',
    '27000-27009': 'FlexNet',
    '50000-50100': 'custom',
    '3389': '',
  };
  assert.equal(serviceFor(8520, 'tcp', overrides), 'vizql primary', 'single port over ranges');
  assert.equal(serviceFor(8521, 'tcp', overrides), 'vizql workers', 'narrower range over wider');
  assert.equal(serviceFor(8700, 'tcp', overrides), 'our process range', 'equal width: the policy over the default');
  assert.equal(serviceFor(8060, 'tcp', overrides), 'repository (PostgreSQL)', 'a default single port still beats a policy range');
  assert.equal(serviceFor(27005, 'tcp', overrides), 'FlexNet');
  assert.equal(serviceFor(50050, 'udp', overrides), 'custom');
  assert.equal(serviceFor(50050, 'sctp', overrides), 'custom');
  assert.equal(serviceFor(3389, 'tcp', overrides), undefined, 'an empty name removes a default');
  assert.equal(serviceFor(8520, 'tcp', {}), DYNAMIC_RANGE_NAME, 'other override maps are not affected (cache per object)');
  assert.equal(serviceFor(8060, 'tcp', { '8060': 'pg primary' }), 'pg primary');
});

test('out-of-range ports and malformed override keys give nothing rather than a guess', () => {
  assert.equal(serviceFor(-1, 'tcp', {}), undefined);
  assert.equal(serviceFor(65536, 'tcp', {}), undefined);
  assert.equal(serviceFor(80.5, 'tcp', {}), undefined);
  assert.equal(serviceFor(1234, 'tcp', { 'x1234': 'bad', '2000-1000': 'backwards' }), undefined);
  assert.equal(serviceFor(80, 'tcp'), 'gateway (HTTP)', 'overrides are optional');
});

test('parsePortRange', () => {
  assert.deepEqual(parsePortRange('8060'), [8060, 8060]);
  assert.deepEqual(parsePortRange('27000-27009'), [27000, 27009]);
  assert.deepEqual(parsePortRange('0-65535'), [0, 65535]);
  assert.equal(parsePortRange('65536'), undefined);
  assert.equal(parsePortRange('9000-8000'), undefined);
  assert.equal(parsePortRange('80/tcp'), undefined);
  assert.equal(parsePortRange(''), undefined);
});

test('the default table is frozen and names every entry', () => {
  assert.ok(Object.isFrozen(DEFAULT_SERVICES));
  assert.ok(DEFAULT_SERVICES.every((e) => e.name !== '' && e.from <= e.to && e.protocols.length > 0));
});
