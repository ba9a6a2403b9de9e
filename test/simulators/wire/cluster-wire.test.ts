// The simulated cluster's wire, checked from the outside: a seed reproduces the capture
// byte for byte; tshark reads it without complaint and, given the SA keys, decrypts every
// ESP packet to the services' TCP segments; and `cryptgate check capture` (the CLI, as a CI
// gate runs it) gives the verdicts the negotiation plan predicts.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { suiteProblems } from '../../../src/compliance/rules/ike-policy.js';
import { DEFAULT_POLICY } from '../../../src/compliance/policy.js';
import type { DirectionPlan } from '../../../src/ipsec/negotiate.js';
import type { ClusterIpsecPolicy } from '../../../src/ipsec/policy-model.js';
import { parseMainModeProposal, parseQuickModeProposal } from '../../../src/ipsec/proposal-text.js';
import { nodeNamed, seedSetupPolicy } from '../../../src/ipsec/seed-setup.js';
import type { Report } from '../../../src/report/model.js';
import { packageRoot } from '../../../src/util/package-info.js';
import { clusterTopology, planDependencies, SIMULATED_SERVICE_NAMES, wireInputs } from '../../../simulators/cluster/network.js';
import { clusterCaptureBytes, writeClusterCapture, type ChildSaInfo, type ClusterWireOptions, type WireStats } from '../../../simulators/wire/cluster-wire.js';
import type { EspKeys } from '../../../simulators/wire/ipsec-transforms.js';
import { CHECKSUM_PREFS, TempDir, expertProblems, fields } from './tshark-oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const CLI = join(packageRoot(), 'bin/cryptgate.js');

function nodes(n: number): { name: string; address: string }[] {
  return Array.from({ length: n }, (_, i) => ({ name: `node${i + 1}`, address: `10.0.0.${11 + i}` }));
}

interface Built {
  file: string;
  stats: WireStats;
  plans: DirectionPlan[];
  sas: ChildSaInfo[];
  policyFile: string;
}

function build(name: string, policy: ClusterIpsecPolicy, o: Partial<ClusterWireOptions> & { externalClients?: number } = {}): Built {
  const addrs = policy.nodes.map((n) => ({ name: n.name, address: n.addresses[0]! }));
  const net = clusterTopology(addrs, { externalClients: o.externalClients ?? 0 });
  const planned = planDependencies(net, policy);
  const { hosts, flows } = wireInputs(net, planned);
  const sas: ChildSaInfo[] = [];
  const file = tmp.file(`${name}.${o.format ?? 'pcap'}`);
  const stats = writeClusterCapture(file, hosts, flows, { seed: o.seed ?? 'test', format: o.format ?? 'pcap', seconds: o.seconds ?? 5, natTraversal: o.natTraversal ?? false, onChildSa: (sa) => sas.push(sa) });
  const policyFile = tmp.file(`${name}.policy.json`);
  writeFileSync(policyFile, JSON.stringify({ nodes: addrs.map((a) => a.address), services: SIMULATED_SERVICE_NAMES }));
  return { file, stats, plans: planned.map((p) => p.plan), sas, policyFile };
}

function checkCapture(b: Built): { status: number | null; report: Report } {
  const out = tmp.file(`${b.file.split('/').pop()}.report.json`);
  const r = spawnSync(process.execPath, [CLI, 'check', 'capture', b.file, '--policy', b.policyFile, '--no-hash', '--format', 'json', '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.ok(r.status === 0 || r.status === 1, `cryptgate check capture exited ${r.status}: ${r.stderr}`);
  return { status: r.status, report: JSON.parse(readFileSync(out, 'utf8')) as Report };
}

/** What the plan says each check must conclude about the capture. */
function expectedVerdicts(plans: readonly DirectionPlan[]): Record<string, 'pass' | 'fail' | 'skip'> {
  const between = plans.filter((p) => p.initiator.node !== null && p.responder.node !== null);
  // Clear packets between nodes: plaintext flows, AH-only, and the SYNs of a blocked connection whose initiator sends in clear.
  const clear = between.some((p) => p.outcome === 'plaintext' || p.protection === 'AH'
    || (p.outcome === 'blocked' && (p.ike === null || p.rules.initiator?.requirement === 'request')));
  const espPlans = between.filter((p) => p.outcome === 'protected' && p.protection !== 'AH');
  const espNull = espPlans.some((p) => !p.encrypted);
  const ahOnly = between.some((p) => p.outcome === 'protected' && p.protection === 'AH');
  const ikeSeen = between.filter((p) => p.ike?.mainMode.chosenSuite);
  const weakIke = ikeSeen.some((p) => suiteProblems(p.ike!.mainMode.chosenSuite!, DEFAULT_POLICY.ike).length > 0)
    || between.some((p) => p.ike?.keying === 'ikev2' && p.ike.result === 'no-proposal-chosen');
  return {
    'ipsec.esp-only': clear ? 'fail' : 'pass',
    'ipsec.no-esp-null': espPlans.length === 0 ? 'skip' : espNull ? 'fail' : 'pass',
    'ipsec.no-ah-only': ahOnly ? 'fail' : 'pass',
    'ipsec.ike-policy': ikeSeen.length === 0 ? 'skip' : weakIke ? 'fail' : 'pass',
  };
}

const verdictsOf = (r: Report): Record<string, string> => Object.fromEntries(r.checks.filter((c) => c.id.startsWith('ipsec.')).map((c) => [c.id, c.status]));

describe('reproducibility', () => {
  it('the same seed gives the same bytes; another seed other bytes (pcap and pcapng)', () => {
    const policy = seedSetupPolicy(nodes(3));
    const net = clusterTopology(nodes(3), { externalClients: 1 });
    const { hosts, flows } = wireInputs(net, planDependencies(net, policy));
    for (const format of ['pcap', 'pcapng'] as const) {
      const a = clusterCaptureBytes(hosts, flows, { seed: 7, format, seconds: 4 });
      const b = clusterCaptureBytes(hosts, flows, { seed: 7, format, seconds: 4 });
      const c = clusterCaptureBytes(hosts, flows, { seed: 8, format, seconds: 4 });
      assert.ok(a.bytes.equals(b.bytes), `${format}: same seed, different bytes`);
      assert.ok(!a.bytes.equals(c.bytes), `${format}: different seeds, same bytes`);
      assert.equal(a.stats.packets, b.stats.packets);
      assert.equal(a.stats.fileBytes, a.bytes.length);
    }
  });

  it('writes the file atomically: nothing but the capture is left in its folder', () => {
    const dir = new TempDir();
    try {
      const net = clusterTopology(nodes(2));
      const { hosts, flows } = wireInputs(net, planDependencies(net, seedSetupPolicy(nodes(2))));
      writeClusterCapture(dir.file('wire.pcap'), hosts, flows, { seed: 1, format: 'pcap', seconds: 2 });
      assert.deepEqual(readdirSync(dir.path), ['wire.pcap']);
      assert.throws(() => writeClusterCapture(dir.file('bad.pcap'), hosts.slice(0, 1), flows, { seed: 1, format: 'pcap' }), /not a host on the wire/);
      assert.deepEqual(readdirSync(dir.path), ['wire.pcap']);
    } finally {
      dir.remove();
    }
  });
});

const hex = (b: Buffer): string => `0x${b.toString('hex')}`;
const TSHARK_ENC: Record<string, string> = { ENCR_AES_CBC: 'AES-CBC [RFC3602]', ENCR_AES_GCM_16: 'AES-GCM with 16 octet ICV [RFC4106]', ENCR_3DES: 'TripleDES-CBC [RFC2451]', ENCR_NULL: 'NULL' };
const TSHARK_AUTH: Record<string, string> = { AUTH_HMAC_SHA2_256_128: 'HMAC-SHA-256-128 [RFC4868]', AUTH_HMAC_SHA1_96: 'HMAC-SHA-1-96 [RFC2404]' };

function saPrefs(sas: readonly ChildSaInfo[]): string[] {
  const one = (k: EspKeys, src: string, dst: string): string[] => [
    '-o',
    `uat:esp_sa:"IPv4","${src}","${dst}","0x${(k.spi >>> 0).toString(16).padStart(8, '0')}","${TSHARK_ENC[k.encryption!]}","${k.encryption === 'ENCR_AES_GCM_16' ? hex(Buffer.concat([k.encKey, k.salt])) : k.encKey.length ? hex(k.encKey) : ''}","${k.integrity ? TSHARK_AUTH[k.integrity] : 'NULL'}","${k.integKey.length ? hex(k.integKey) : ''}"`,
  ];
  return [
    '-o', 'esp.enable_encryption_decode:TRUE', '-o', 'esp.enable_authentication_check:TRUE',
    ...sas.flatMap((sa) => [...one(sa.espOut!, sa.initiator, sa.responder), ...one(sa.espIn!, sa.responder, sa.initiator)]),
  ];
}

describe('tshark reads the capture', () => {
  for (const variant of [
    { name: 'ikev1-cbc', format: 'pcap' as const, nat: false, qm: 'ESP AES256/SHA256', ikev2: false },
    { name: 'ikev2-gcm-nat', format: 'pcapng' as const, nat: true, qm: 'ESP AESGCM256/AESGMAC256', ikev2: true },
    { name: 'ikev1-3des', format: 'pcap' as const, nat: false, qm: 'ESP 3DES/SHA1', ikev2: false },
  ]) {
    it(`${variant.name}: no warnings, good checksums, and with the keys every ESP packet opens to the service's TCP`, () => {
      const policy = seedSetupPolicy(nodes(2));
      for (const n of policy.nodes) {
        n.defaults.quickMode.proposals = [parseQuickModeProposal(variant.qm)];
        if (variant.ikev2) n.rules[0]!.keyModule = 'ikev2';
      }
      const b = build(variant.name, policy, { format: variant.format, natTraversal: variant.nat, seconds: 3 });
      assert.equal(b.sas.length, 1);
      assert.deepEqual(expertProblems(b.file, CHECKSUM_PREFS), []);
      const prefs = saPrefs(b.sas);
      const rows = fields(b.file, ['esp.spi', 'esp.icv_good', 'tcp.dstport', 'tcp.srcport', 'udp.dstport'], { prefs, filter: 'esp' });
      assert.equal(rows.length, b.stats.espPackets);
      const ports = new Set(['8850', '8060', '27000', '8300', '8400', '8600']);
      for (const [spi, icvGood, dport, sport, udpPort] of rows) {
        if (!variant.qm.includes('GCM')) assert.equal(icvGood, '1', `ICV of SPI ${spi}`);
        assert.ok(ports.has(dport!) || ports.has(sport!), `decrypted segment ${sport} → ${dport} is not a service connection`);
        assert.equal(udpPort, variant.nat ? '4500' : '');
      }
      assert.deepEqual(expertProblems(b.file, [...prefs, ...CHECKSUM_PREFS]), []);
      const ike = fields(b.file, ['isakmp.version'], { filter: 'isakmp' });
      assert.equal(ike.length, b.stats.ikePackets);
      assert.ok(ike.every((r) => r[0] === (variant.ikev2 ? '0x20' : '0x10')));
    });
  }
});

describe('cryptgate check capture gives the verdicts the plan predicts', () => {
  const cases: { name: string; edit: (p: ClusterIpsecPolicy) => void }[] = [
    { name: 'seed set-up', edit: () => undefined },
    {
      name: 'node3 without its rule, others request',
      edit: (p) => { for (const n of p.nodes) for (const r of n.rules) { r.inbound = 'request'; r.outbound = 'request'; } nodeNamed(p, 'node3').rules = []; },
    },
    { name: 'node3 without its rule, others require', edit: (p) => { nodeNamed(p, 'node3').rules = []; } },
    {
      // node3 only requests outbound, the others require inbound, and their CAs differ: node3 falls back to clear and is dropped.
      name: 'node3 requests outbound with an untrusted certificate',
      edit: (p) => { const r = nodeNamed(p, 'node3').rules[0]!; r.outbound = 'request'; nodeNamed(p, 'node3').credentials.certificateIssuers = ['Contoso Lab CA']; },
    },
    { name: 'weak main mode', edit: (p) => { for (const n of p.nodes) n.defaults.mainMode.proposals = [parseMainModeProposal('SHA1/3DES/DH2')]; } },
    { name: 'ESP-NULL', edit: (p) => { for (const n of p.nodes) n.defaults.quickMode = { requireEncryption: false, perfectForwardSecrecy: 'None', proposals: [parseQuickModeProposal('ESP None/SHA256')] }; } },
    { name: 'AH only', edit: (p) => { for (const n of p.nodes) n.defaults.quickMode = { requireEncryption: false, perfectForwardSecrecy: 'None', proposals: [parseQuickModeProposal('AH SHA256')] }; } },
    { name: 'untrusted certificate on node3', edit: (p) => { nodeNamed(p, 'node3').credentials.certificateIssuers = ['Contoso Lab CA']; } },
    {
      // node2 (the initiator towards node1 and node3) offers another group first: the responder asks for group 14 (INVALID_KE_PAYLOAD) and node2 retries.
      name: 'IKEv2, node2 offers DH20 first',
      edit: (p) => { for (const n of p.nodes) n.rules[0]!.keyModule = 'ikev2'; nodeNamed(p, 'node2').defaults.mainMode.proposals = [parseMainModeProposal('SHA384/AES256/DH20'), parseMainModeProposal('SHA256/AES256/DH14')]; },
    },
    { name: 'AuthIP key module', edit: (p) => { for (const n of p.nodes) n.rules[0]!.keyModule = 'authip'; } },
    {
      name: 'IKEv2, node3 main mode shares nothing',
      edit: (p) => { for (const n of p.nodes) n.rules[0]!.keyModule = 'ikev2'; nodeNamed(p, 'node3').defaults.mainMode.proposals = [parseMainModeProposal('SHA1/3DES/DH2')]; },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const policy = seedSetupPolicy(nodes(3));
      c.edit(policy);
      const b = build(c.name.replace(/\W+/g, '-'), policy, { externalClients: 1 });
      const { status, report } = checkCapture(b);
      const want = expectedVerdicts(b.plans);
      assert.deepEqual(verdictsOf(report), want);
      assert.equal(status, Object.values(want).includes('fail') ? 1 : 0);
      // Every negotiated IKE SA the checker saw is one the plan chose.
      const chosen = new Set(b.plans.flatMap((p) => (p.ike?.mainMode.chosenSuite ? [JSON.stringify([p.ike.mainMode.chosenSuite.encryption, p.ike.mainMode.chosenSuite.keyLength, p.ike.mainMode.chosenSuite.dhGroup])] : [])));
      const seen = report.checks.find((x) => x.id === 'ipsec.ike-policy')!.observed.filter((o) => o.status === 'negotiated');
      for (const sa of seen) assert.ok(chosen.has(JSON.stringify([sa.encryption, sa.keyLength, sa.dhGroup])), `IKE SA ${JSON.stringify(sa)} is not in the plan`);
    });
  }

  it('a blocked connection shows its attempts and no service data; a request fallback shows data after the IKE attempts', () => {
    const policy = seedSetupPolicy(nodes(2));
    nodeNamed(policy, 'node2').rules = [];
    const blocked = build('blocked', policy, { seconds: 8 });
    const ikeTimes = fields(blocked.file, ['frame.time_relative'], { filter: 'isakmp && ip.src == 10.0.0.11' }).map((r) => Number(r[0]));
    assert.ok(ikeTimes.length >= 3, 'IKE retransmissions');
    assert.ok(ikeTimes[1]! - ikeTimes[0]! > 0.9 && ikeTimes[2]! - ikeTimes[1]! > 1.9, `back-off: ${ikeTimes.join(', ')}`);
    assert.deepEqual(fields(blocked.file, ['frame.number'], { filter: 'tcp.len > 0 || esp' }), []);
    for (const n of policy.nodes) for (const r of n.rules) { r.inbound = 'request'; r.outbound = 'request'; }
    const fallback = build('fallback', policy, { seconds: 8 });
    const firstIke = Number(fields(fallback.file, ['frame.time_relative'], { filter: 'isakmp' })[0]![0]);
    // node1 → node2's services: node1 tries IKE first and falls back to clear about 3 s later.
    const data = fields(fallback.file, ['frame.time_relative'], { filter: 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.src == 10.0.0.11 && tcp.dstport in {8300, 8400, 8600}' }).map((r) => Number(r[0]));
    assert.ok(data.length > 0, 'clear connections after the fallback');
    for (const t of data) assert.ok(t >= firstIke + 2.9, `a clear connection at ${t}s, before the fallback (IKE at ${firstIke}s)`);
    assert.equal(expectedVerdicts(fallback.plans)['ipsec.esp-only'], 'fail');
  });
});
