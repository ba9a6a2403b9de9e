import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  activeWaiver,
  breaksGate,
  DEFAULT_POLICY,
  defaultPolicy,
  expiredWaiverFor,
  expiredWaivers,
  loadPolicy,
  parsePolicy,
  waiverActive,
  type Policy,
  type Waiver,
} from '../../../src/compliance/policy.js';
import { InputError } from '../../../src/util/errors.js';
import { packageRoot } from '../../../src/util/package-info.js';

function withFile<T>(name: string, content: string, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'cryptgate-policy-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, content);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The InputError message a policy text earns (fails the test if it is accepted). */
function rejection(text: string, file = 'policy.yaml'): string {
  try {
    parsePolicy(text, file);
  } catch (err) {
    assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
    assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace in the message');
    return err.message;
  }
  assert.fail(`policy was accepted:\n${text}`);
}

const FULL_YAML = `# cluster policy
nodes:
  - 10.0.0.11
  - 10.0.0.12
  - 10.0.1.0/24
  - 2001:db8::/64
gatewayNodes: [10.0.0.12]
ike:
  encryption:
    - { name: ENCR_AES_GCM_16, keyLengths: [256] }
  minDhGroup: 19
services:
  8443: custom portal
  "9100-9199": metrics exporters
waivers:
  - check: ipsec.esp-only
    scope: { pair: [10.0.0.12, 10.0.0.11], dstPort: 8060, protocol: tcp }
    reason: repository migration, CHG-1234
    approver: security-team
    expires: 2026-06-30
espNull:
  minPackets: 6
`;

test('the defaults are the seed documents\' IPsec settings', () => {
  assert.deepEqual(DEFAULT_POLICY.ike.encryption, [
    { name: 'ENCR_AES_CBC', keyLengths: [256] },
    { name: 'ENCR_AES_GCM_16', keyLengths: [256] },
  ]);
  assert.deepEqual(DEFAULT_POLICY.ike.integrity, ['AUTH_HMAC_SHA2_256_128', 'AUTH_HMAC_SHA2_384_192', 'AUTH_HMAC_SHA2_512_256']);
  assert.equal(DEFAULT_POLICY.ike.minDhGroup, 14);
  assert.deepEqual(DEFAULT_POLICY.ike.forbiddenDhGroups, [22, 23, 24]);
  assert.equal(DEFAULT_POLICY.espNull.minPackets, 4);
  assert.deepEqual([DEFAULT_POLICY.nodes, DEFAULT_POLICY.waivers, DEFAULT_POLICY.services], [[], [], {}]);
  // Shared and frozen; defaultPolicy() hands out a copy to change.
  assert.throws(() => (DEFAULT_POLICY.ike.integrity as string[]).push('AUTH_HMAC_MD5_96'), TypeError);
  const copy = defaultPolicy();
  copy.ike.minDhGroup = 2;
  assert.equal(DEFAULT_POLICY.ike.minDhGroup, 14);
});

test('a YAML policy loads, merged over the defaults section by section', () => {
  const policy = withFile('cluster.yaml', FULL_YAML, loadPolicy);
  assert.deepEqual(policy.nodes, ['10.0.0.11', '10.0.0.12', '10.0.1.0/24', '2001:db8::/64']);
  assert.deepEqual(policy.gatewayNodes, ['10.0.0.12']);
  assert.deepEqual(policy.ike.encryption, [{ name: 'ENCR_AES_GCM_16', keyLengths: [256] }]);
  assert.equal(policy.ike.minDhGroup, 19);
  assert.deepEqual(policy.ike.integrity, DEFAULT_POLICY.ike.integrity, 'fields left out keep their defaults');
  assert.deepEqual(policy.ike.forbiddenDhGroups, [22, 23, 24]);
  assert.deepEqual(policy.services, { '8443': 'custom portal', '9100-9199': 'metrics exporters' });
  assert.equal(policy.waivers.length, 1);
  assert.deepEqual(policy.waivers[0]!.scope, { pair: ['10.0.0.12', '10.0.0.11'], dstPort: 8060, protocol: 'tcp' });
  assert.equal(policy.waivers[0]!.expires, '2026-06-30', 'an unquoted YAML date stays a string');
  assert.equal(policy.espNull.minPackets, 6);
  assert.equal('$schema' in policy, false);
});

test('JSON is recognised by content, with any extension or none', () => {
  const json = JSON.stringify({ $schema: './policy.schema.json', nodes: ['10.0.0.11', 'fe80::1'], espNull: { minPackets: 5 } }, null, '\t');
  for (const name of ['policy.json', 'policy', 'policy.yaml']) {
    const policy = withFile(name, json, loadPolicy);
    assert.deepEqual(policy.nodes, ['10.0.0.11', 'fe80::1']);
    assert.equal(policy.espNull.minPackets, 5);
    assert.deepEqual(policy.ike, DEFAULT_POLICY.ike);
  }
  assert.match(rejection('{"nodes": ["10.0.0.1"], "nodes": []}', 'p.json'), /^p\.json: line 1, column 25: JSON syntax error: Map keys must be unique$/);
});

test('an empty file (or only comments) means all defaults', () => {
  assert.deepEqual(parsePolicy('', 'p.yaml'), defaultPolicy());
  assert.deepEqual(parsePolicy('# nothing yet\n', 'p.yaml'), defaultPolicy());
});

test('schema violations name the file, the JSON pointer and what was expected', () => {
  assert.equal(
    rejection('waivers:\n  - check: ipsec.esp-only\n    reason: migration\n    approver: sec\n    expires: next week\n'),
    'policy.yaml: /waivers/0/expires: expected a date YYYY-MM-DD, found "next week"',
  );
  assert.equal(rejection('node: [10.0.0.1]\n'), 'policy.yaml: /node: unknown field "node"; expected one of: $schema, nodes, gatewayNodes, ike, services, waivers, failOn, kms, espNull');
  assert.equal(rejection('ike:\n  minDhGroup: "14"\n'), 'policy.yaml: /ike/minDhGroup: expected a Diffie-Hellman group number like 14, found "14"');
  assert.equal(rejection('- a\n'), 'policy.yaml: (top level): expected a mapping of policy sections (nodes, gatewayNodes, ike, services, waivers, espNull, failOn, kms), found a list of 1');
  assert.equal(rejection('services:\n  "80a": web\n'), 'policy.yaml: /services/80a: invalid key: expected a port like "8060" or a port range like "27000-27009", found "80a"');
  assert.equal(rejection('espNull: {minPackets: 0}\n'), 'policy.yaml: /espNull/minPackets: expected a packet count (1-1000), like 4, found 0');
  assert.equal(rejection('ike: {encryption: [{name: AES}]}\n'), 'policy.yaml: /ike/encryption/0/name: expected an IANA encryption transform name like ENCR_AES_CBC or ENCR_AES_GCM_16, found "AES"');
});

test('every problem is listed, one line each', () => {
  const lines = rejection('waivers:\n  - check: ipsec.esp-only\n    scope: { pair: [10.0.0.1], proto: tcp }\n').split('\n');
  assert.deepEqual(lines, [
    'policy.yaml: /waivers/0/reason: expected a non-empty reason (why the exception is accepted), found nothing (this field is required)',
    'policy.yaml: /waivers/0/approver: expected a non-empty approver (who accepted the risk), found nothing (this field is required)',
    'policy.yaml: /waivers/0/expires: expected a date YYYY-MM-DD, found nothing (this field is required)',
    'policy.yaml: /waivers/0/scope/proto: unknown field "proto"; expected one of: src, dst, pair, dstPort, protocol, node, role',
    'policy.yaml: /waivers/0/scope/pair: expected a list of exactly two IP addresses, found a list of 1',
  ]);
});

test('YAML syntax errors give line and column', () => {
  assert.equal(rejection('nodes: [10.0.0.1, 10.0.0.2\nike: {}\n'), 'policy.yaml: line 2, column 1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]');
  assert.match(rejection('nodes:\n  - 10.0.0.1\n - 10.0.0.2\n'), /^policy\.yaml: line 3, column \d+: YAML syntax error: /);
});

test('node addresses are checked, IPv4 and IPv6, with and without a prefix', () => {
  assert.deepEqual(parsePolicy('nodes: [10.0.0.1, 10.0.0.0/8, "::1", "2001:db8::/32", "fe80::1:2:3:4", "::ffff:10.0.0.1"]\n', 'p').nodes.length, 6);
  assert.equal(
    rejection('nodes: [10.0.0.1, 10.0.0.300]\n'),
    'policy.yaml: /nodes/1: expected an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.11, 10.0.0.0/24 or 2001:db8::/64), found "10.0.0.300"',
  );
  assert.equal(rejection('nodes: ["2001:db8::/129"]\n'), 'policy.yaml: /nodes/0: expected a prefix length 0..128 after "/", found "2001:db8::/129"');
  assert.equal(rejection('nodes: [10.0.0.0/33]\n'), 'policy.yaml: /nodes/0: expected a prefix length 0..32 after "/", found "10.0.0.0/33"');
  assert.match(rejection('gatewayNodes: ["2001:db8:::1"]\n'), /^policy\.yaml: \/gatewayNodes\/0: expected an IPv4 or IPv6 address or CIDR/);
  assert.match(rejection('nodes: [node1.example.com]\n'), /^policy\.yaml: \/nodes\/0: expected .*found "node1\.example\.com"$/);
});

test('what a schema cannot say: real dates, single addresses in scopes, ordered port ranges, NONE only with AEAD', () => {
  const waiver = (extra: string): string => `waivers:\n  - {check: ipsec.esp-only, reason: r, approver: a, ${extra}}\n`;
  assert.equal(rejection(waiver('expires: 2026-02-30')), 'policy.yaml: /waivers/0/expires: expected a real calendar date YYYY-MM-DD, found "2026-02-30"');
  assert.equal(
    rejection(waiver('expires: 2026-02-28, scope: {src: 10.0.0.0/24}')),
    'policy.yaml: /waivers/0/scope/src: expected an IPv4 or IPv6 address (e.g. 10.0.0.11 or 2001:db8::11), found "10.0.0.0/24"',
  );
  assert.match(rejection(waiver('expires: 2026-02-28, scope: {pair: [10.0.0.1, "10.0.0"]}')), /^policy\.yaml: \/waivers\/0\/scope\/pair\/1: expected an IPv4 or IPv6 address/);
  assert.equal(rejection('services: {"9000-8000": x}\n'), 'policy.yaml: /services/9000-8000: expected a port 0-65535 or a range "low-high" with low <= high, found "9000-8000"');
  assert.match(rejection('services: {"70000": x}\n'), /^policy\.yaml: \/services\/70000: expected a port 0-65535/);
  assert.match(rejection('ike: {integrity: [NONE], encryption: [{name: ENCR_AES_CBC}]}\n'), /^policy\.yaml: \/ike\/integrity\/0: NONE \(no integrity algorithm\) is only acceptable with an AEAD cipher/);
  assert.deepEqual(parsePolicy('ike: {integrity: [NONE, AUTH_HMAC_SHA2_256_128]}\n', 'p').ike.integrity, ['NONE', 'AUTH_HMAC_SHA2_256_128'], 'the default ciphers include AES-GCM');
});

test('an unreadable file is an InputError naming it', () => {
  const missing = join(tmpdir(), 'cryptgate-no-such-policy.yaml');
  assert.throws(() => loadPolicy(missing), (e: unknown) => e instanceof InputError && e.message === `${missing}: cannot read the policy file: no such file`);
  assert.throws(() => loadPolicy(tmpdir()), (e: unknown) => e instanceof InputError && e.message === `${tmpdir()}: cannot read the policy file: it is a directory`);
  const bad = withFile('bad.yml', 'waivers: [{check: x, reason: r, approver: a, expires: soon}]\n', (path) => {
    try {
      loadPolicy(path);
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  });
  assert.match(bad, /bad\.yml: \/waivers\/0\/expires: expected a date YYYY-MM-DD, found "soon"$/);
});

test('the published schema file is draft 2020-12 and closed at the top', () => {
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'src/compliance/policy.schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.additionalProperties, false);
});

// ---------------------------------------------------------------------------------------
// Waivers

function policyWith(...waivers: Waiver[]): Policy {
  return { ...defaultPolicy(), waivers };
}

const base: Omit<Waiver, 'check' | 'scope'> = { reason: 'migration', approver: 'sec-team', expires: '2026-06-30' };
const flow = { src: '10.0.0.11', dst: '10.0.0.12', protocol: 'tcp', dstPort: 8060, packets: 4 };

test('a waiver holds through the whole of its last day (UTC) and not a millisecond longer', () => {
  const w: Waiver = { check: 'ipsec.esp-only', ...base };
  const p = policyWith(w);
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, new Date('2026-06-30T00:00:00Z')), w);
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, new Date('2026-06-30T23:59:59.999Z')), w);
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, new Date('2026-07-01T00:00:00Z')), undefined);
  // Local time zones do not move the boundary: 23:30 in New York on the 30th is already July 1st UTC.
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, new Date('2026-06-30T23:30:00-04:00')), undefined);
  assert.equal(activeWaiver(p, 'ipsec.no-esp-null', flow, new Date('2026-01-01T00:00:00Z')), undefined, 'another check');
  assert.equal(waiverActive({ expires: '2026-02-30' }, new Date('2020-01-01T00:00:00Z')), false, 'a date that does not exist is never in force');
});

test('expiredWaivers lists the waivers whose last day has passed', () => {
  const old: Waiver = { check: 'ipsec.esp-only', ...base, expires: '2025-12-31' };
  const current: Waiver = { check: 'ipsec.ike-policy', ...base, expires: '2026-01-01' };
  const p = policyWith(old, current);
  assert.deepEqual(expiredWaivers(p, new Date('2026-01-01T12:00:00Z')), [old]);
  assert.deepEqual(expiredWaivers(p, new Date('2026-01-02T00:00:00Z')), [old, current]);
  assert.deepEqual(expiredWaivers(p, new Date('2025-12-31T23:59:59Z')), []);
});

test('scope: every given field must match the evidence; a pair matches either direction', () => {
  const now = new Date('2026-03-01T00:00:00Z');
  const waived = (scope: Waiver['scope'], evidence: Record<string, unknown> = flow): boolean =>
    activeWaiver(policyWith({ check: 'ipsec.esp-only', ...base, scope }), 'ipsec.esp-only', evidence, now) !== undefined;
  assert.equal(waived(undefined), true, 'no scope: the whole check');
  assert.equal(waived({}), true);
  assert.equal(waived({ src: '10.0.0.11' }), true);
  assert.equal(waived({ src: '10.0.0.12' }), false);
  assert.equal(waived({ src: '10.0.0.11', dst: '10.0.0.12', dstPort: 8060, protocol: 'TCP' }), true, 'protocol case does not matter');
  assert.equal(waived({ src: '10.0.0.11', dst: '10.0.0.12', dstPort: 8061 }), false, 'one field off is enough');
  assert.equal(waived({ protocol: 'udp' }), false);
  assert.equal(waived({ pair: ['10.0.0.11', '10.0.0.12'] }), true);
  assert.equal(waived({ pair: ['10.0.0.12', '10.0.0.11'] }), true, 'reverse direction');
  assert.equal(waived({ pair: ['10.0.0.11', '10.0.0.13'] }), false);
  assert.equal(waived({ dstPort: 8060 }, { ...flow, dstPort: null }), false, 'evidence without a port cannot match a port scope');
  assert.equal(waived({ dstPort: 8060 }, { ...flow, dstPort: '8060' }), true);
  // IPv6 in any spelling.
  assert.equal(waived({ pair: ['2001:DB8::1', '2001:db8:0:0::2'] }, { src: '2001:db8::2', dst: '2001:db8::1', protocol: 'tcp', dstPort: 445 }), true);
  // IKE findings name initiator and responder.
  assert.equal(waived({ pair: ['10.0.0.12', '10.0.0.11'] }, { initiator: '10.0.0.11', responder: '10.0.0.12', dhGroup: 2 }), true);
});

test('the first matching waiver in force wins', () => {
  const expired: Waiver = { check: 'ipsec.esp-only', ...base, expires: '2025-01-01', reason: 'old' };
  const narrow: Waiver = { check: 'ipsec.esp-only', ...base, scope: { dstPort: 8060 }, reason: 'narrow' };
  const broad: Waiver = { check: 'ipsec.esp-only', ...base, reason: 'broad' };
  const p = policyWith(expired, narrow, broad);
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, new Date('2026-03-01T00:00:00Z'))?.reason, 'narrow');
  assert.equal(activeWaiver(p, 'ipsec.esp-only', { ...flow, dstPort: 445 }, new Date('2026-03-01T00:00:00Z'))?.reason, 'broad');
});

test('an expired waiver that still matches a finding is found, so the finding can say it counts again', () => {
  const lapsed: Waiver = { check: 'ipsec.esp-only', ...base, expires: '2025-12-31', scope: { dstPort: 8060 } };
  const p = policyWith(lapsed);
  const now = new Date('2026-03-01T00:00:00Z');
  assert.equal(activeWaiver(p, 'ipsec.esp-only', flow, now), undefined);
  assert.equal(expiredWaiverFor(p, 'ipsec.esp-only', flow, now), lapsed);
  assert.equal(expiredWaiverFor(p, 'ipsec.esp-only', { ...flow, dstPort: 445 }, now), undefined, 'out of its scope');
  assert.equal(expiredWaiverFor(p, 'ipsec.esp-only', flow, new Date('2025-12-31T12:00:00Z')), undefined, 'still in force');
});

test('failOn: the lowest severity that breaks the gate; info never does', () => {
  assert.equal(parsePolicy('failOn: high\n', 'p').failOn, 'high');
  assert.equal(parsePolicy('', 'p').failOn, undefined);
  assert.equal(rejection('failOn: info\n'), 'policy.yaml: /failOn: expected a severity: critical, high, medium or low, found "info"');
  assert.deepEqual(
    (['critical', 'high', 'medium', 'low', 'info'] as const).map((s) => breaksGate(s, 'high')),
    [true, true, false, false, false],
  );
  assert.deepEqual(
    (['critical', 'high', 'medium', 'low', 'info'] as const).map((s) => breaksGate(s)),
    [true, true, true, true, false],
    'default: low',
  );
});

test('the kms section: CMK, region, node roles and node names, checked by the schema', () => {
  const policy = parsePolicy(
    'kms:\n  cmkArn: arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\n  region: us-west-2\n  roles: [tableau-server-node1, tableau-server-node2]\n  nodes: [node1, node2]\n',
    'p',
  );
  assert.deepEqual(policy.kms, {
    cmkArn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    region: 'us-west-2',
    roles: ['tableau-server-node1', 'tableau-server-node2'],
    nodes: ['node1', 'node2'],
  });
  assert.match(rejection('kms: {cmkArn: "arn:aws:kms:us-west-2:86753099990073:key/x"}\n'), /^policy\.yaml: \/kms\/cmkArn: expected a key ARN like arn:aws:kms:us-west-2:111122223333:key\//);
  assert.equal(rejection('kms: {roles: ["bad role"]}\n'), 'policy.yaml: /kms/roles/0: expected an IAM role name like tableau-server-node1, found "bad role"');
});

test('node and role scopes match KMS findings', () => {
  const now = new Date('2026-03-01T00:00:00Z');
  const p = policyWith({ check: 'kms.node-reach', ...base, scope: { node: 'node3' } }, { check: 'kms.least-privilege', ...base, scope: { role: 'tableau-server-node3' } });
  assert.ok(activeWaiver(p, 'kms.node-reach', { node: 'NODE3' }, now));
  assert.equal(activeWaiver(p, 'kms.node-reach', { node: 'node2' }, now), undefined);
  assert.ok(activeWaiver(p, 'kms.least-privilege', { role: 'tableau-server-node3' }, now));
  assert.equal(activeWaiver(p, 'kms.least-privilege', { role: 'tableau-server-node1' }, now), undefined);
});
