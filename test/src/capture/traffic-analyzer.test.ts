// TrafficAnalyzer facts on the synthetic captures, each compared with what tshark sees in
// the same file: per-pair packet and byte counts, ESP flows (SPI, encapsulation, packet
// counts), ESP-NULL against Wireshark's NULL heuristic (ICV length and inner protocol),
// IKE messages and their proposals, control traffic, keepalives, AH, fragments and
// decrypted copies.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openCaptureSource } from '../../../src/capture/byte-source.js';
import { readCapture } from '../../../src/capture/reader.js';
import { portRanks, protocolName, TrafficAnalyzer } from '../../../src/capture/traffic-analyzer.js';
import type { CaptureFacts } from '../../../src/capture/facts.js';
import { NodeSet } from '../../../src/compliance/node-set.js';
import { serviceFor } from '../../../src/compliance/services.js';
import { syntheticCaptureNamed, syntheticCaptures, type SyntheticCapture } from '../../helpers/synthetic-captures.js';
import { ESP_NULL_HEURISTIC, IP_FIELDS, NO_REASSEMBLY, outerAddresses, outerIpLength, records, TempDir } from './oracle.js';

const tmp = new TempDir();
after(() => tmp.remove());

const captures = syntheticCaptures();
const byName = (name: string): SyntheticCapture => syntheticCaptureNamed(captures, name);
const fileOf = (c: SyntheticCapture): string => tmp.file(`${c.name}.pcap`, c.bytes);

async function analyze(c: SyntheticCapture): Promise<{ file: string; facts: CaptureFacts }> {
  const file = fileOf(c);
  const a = new TrafficAnalyzer({
    nodes: new NodeSet(c.nodes ?? ['10.77.0.0/24']),
    portRanks: portRanks((p) => serviceFor(p, 'tcp') !== undefined),
    espNullPackets: 4,
  });
  a.beginFile(file);
  await readCapture(file, openCaptureSource(file), a);
  return { file, facts: a.facts() };
}

const count = <K>(list: K[], key: (k: K) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const k of list) m.set(key(k), (m.get(key(k)) ?? 0) + 1);
  return m;
};
const sorted = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));

const judged = captures.filter((c) => c.nodes);

describe('facts agree with tshark on every synthetic capture', () => {
  for (const c of judged) {
    it(`${c.name}: pairs, ESP flows, IKE messages, control, keepalives, AH`, async () => {
      const { file, facts } = await analyze(c);
      // (tshark also lists custom and journal blocks as frames without encapsulation: not packets.)
      const frames = records(file, [...IP_FIELDS, 'esp.spi', 'udp.srcport', 'udp.dstport', 'udp.length', 'isakmp.exchangetype', 'ah.spi', 'frame.encap_type'], { prefs: NO_REASSEMBLY, occurrence: 'f' })
        .filter((r) => r['frame.encap_type'] !== '');

      // Per direction: packets and bytes of the outer IP header.
      const pairs = new Map<string, { packets: number; bytes: number }>();
      for (const r of frames) {
        const a = outerAddresses(r);
        if (!a) continue;
        const p = pairs.get(`${a.src}>${a.dst}`) ?? { packets: 0, bytes: 0 };
        p.packets++;
        p.bytes += outerIpLength(r);
        pairs.set(`${a.src}>${a.dst}`, p);
      }
      const ours = new Map(facts.pairs.map((p) => [`${p.src}>${p.dst}`, { packets: p.packets, bytes: p.bytes }]));
      assert.deepEqual([...ours.entries()].sort(), [...pairs.entries()].sort(), 'pairs: packets and bytes');
      assert.equal(facts.totals.ipPackets, frames.filter((r) => outerAddresses(r)).length);
      assert.equal(facts.totals.packets, frames.length);

      // ESP flows (first fragments only: tshark, like cryptgate, sees no ESP header in the rest).
      const esp = count(frames.filter((r) => r['esp.spi']), (r) => `${outerAddresses(r)!.src}>${outerAddresses(r)!.dst} ${r['esp.spi']} ${r['udp.srcport'] ? 'udp' : 'ip'}`);
      const ourEsp = new Map(facts.espFlows.map((f) => [`${f.src}>${f.dst} ${f.spi} ${f.udpEncapsulated ? 'udp' : 'ip'}`, f.packets]));
      assert.deepEqual(sorted(ourEsp), sorted(esp), 'ESP flows');

      // IKE: every ISAKMP frame is one observation, in order, per pair too.
      const ike = frames.filter((r) => r['isakmp.exchangetype']);
      assert.deepEqual(facts.ike.map((o) => `${o.src}>${o.dst} ${o.message.exchange}`), ike.map((r) => `${outerAddresses(r)!.src}>${outerAddresses(r)!.dst} ${r['isakmp.exchangetype']}`));
      for (const p of facts.pairs) assert.equal(p.ikePackets, ike.filter((r) => outerAddresses(r)!.src === p.src && outerAddresses(r)!.dst === p.dst).length, `${p.src}>${p.dst} ikePackets`);

      // NAT keepalives: one 0xff byte on 4500.
      const ka = frames.filter((r) => r['udp.length'] === '9' && (r['udp.srcport'] === '4500' || r['udp.dstport'] === '4500'));
      assert.equal(facts.pairs.reduce((s, p) => s + p.keepalives, 0), ka.length, 'keepalives');

      // AH alone versus AH around ESP.
      const ahOnly = frames.filter((r) => r['ah.spi'] && !r['esp.spi']).length;
      const ahEsp = frames.filter((r) => r['ah.spi'] && r['esp.spi']).length;
      assert.equal(facts.pairs.reduce((s, p) => s + p.ahOnlyPackets, 0), ahOnly, 'AH-only packets');
      assert.equal(facts.pairs.reduce((s, p) => s + p.ahWithEspPackets, 0), ahEsp, 'AH+ESP packets');
    });
  }
});

describe('control traffic is counted as tshark would classify it', () => {
  const CONTROL = 'arp || (icmpv6.type >= 133 && icmpv6.type <= 137) || ip.dst == 224.0.0.0/4 || ipv6.dst == ff00::/8 || eth.dst.ig == 1 || ip.dst == 255.255.255.255';
  for (const c of judged) {
    it(c.name, async () => {
      const { file, facts } = await analyze(c);
      const expected = records(file, ['frame.number'], { filter: CONTROL }).length;
      assert.equal(facts.totals.controlPackets, expected);
    });
  }

  it('the control capture: 2 ARP, NS to the solicited-node group, unicast NA, mDNS v4/v6, IGMP, limited and directed broadcast', async () => {
    const { facts } = await analyze(byName('control-arp-nd-multicast-broadcast'));
    assert.equal(facts.totals.controlPackets, 9);
    assert.equal(facts.conversations.length, 0, 'none of it becomes a conversation');
    const interNode = facts.pairs.filter((p) => p.srcNode && p.dstNode);
    assert.equal(interNode.reduce((s, p) => s + p.plaintextPackets, 0), 0);
    // The unicast neighbour advertisement between two nodes is control, not clear text.
    const na = facts.pairs.find((p) => p.src === '2001:db8:77::12' && p.dst === '2001:db8:77::11')!;
    assert.deepEqual([na.packets, na.controlPackets, na.plaintextPackets], [1, 1, 0]);
  });
});

describe('ESP-NULL against Wireshark\'s NULL-encryption heuristic', () => {
  const cases: [string, number, string][] = [
    ['esp-null-icv12-tcp', 12, 'tcp'],
    ['esp-null-icv16-udp', 16, 'udp'],
    ['esp-null-icv24-icmp', 24, 'icmp'],
    ['esp-null-icv32-tunnel-ipv4', 32, 'ipip'],
    ['esp-null-in-udp-4500', 16, 'udp'],
  ];
  for (const [name, icv, inner] of cases) {
    it(`${name}: every flow is NULL with ICV ${icv} and inner ${inner}, as tshark decodes each packet`, async () => {
      const { file, facts } = await analyze(byName(name));
      assert.ok(facts.espFlows.length >= 1);
      const t = records(file, ['esp.spi', 'esp.icv', 'esp.protocol', 'esp.pad_len'], { prefs: ESP_NULL_HEURISTIC, filter: 'esp' });
      for (const f of facts.espFlows) {
        assert.equal(f.verdict, 'null', `${f.spi}`);
        assert.equal(f.icvLength, icv);
        assert.equal(protocolName(f.innerProtocol!), inner);
        assert.ok(f.nullMatches >= 4);
        const rows = t.filter((r) => r['esp.spi'] === f.spi);
        assert.equal(rows.length, f.packets);
        for (const r of rows) {
          assert.notEqual(r['esp.pad_len'], '', `tshark's heuristic decodes ${f.spi}`);
          assert.equal(r['esp.icv']!.replace(/:/g, '').length / 2, icv, 'tshark found the same ICV length');
          assert.equal(Number(r['esp.protocol']), f.innerProtocol, 'and the same next header');
        }
      }
    });
  }

  for (const name of ['esp-aes-cbc-hmac-sha256', 'esp-aes-gcm', 'esp-in-udp-4500', 'ah-with-esp', 'ipv6-extension-headers', 'pcap-usec-le-ethernet']) {
    it(`${name}: real AES is judged encrypted, and tshark's heuristic decodes none of it`, async () => {
      const { file, facts } = await analyze(byName(name));
      assert.ok(facts.espFlows.length >= 1);
      for (const f of facts.espFlows) {
        assert.equal(f.verdict, 'encrypted', f.spi);
        assert.equal(f.nullMatches, 0);
      }
      const decoded = records(file, ['esp.pad_len'], { prefs: ESP_NULL_HEURISTIC, filter: 'esp.pad_len' });
      assert.equal(decoded.length, 0);
    });
  }

  it('snaplen-cut ESP is neither NULL nor encrypted: unjudged, and the IKE message is marked truncated', async () => {
    const { facts } = await analyze(byName('snaplen-96-ike-esp'));
    for (const f of facts.espFlows) {
      assert.equal(f.verdict, 'unsure');
      assert.equal(f.unjudged, f.packets);
    }
    const saInit = facts.ike.filter((o) => o.message.exchange === 34);
    assert.equal(saInit.length, 2);
    for (const o of saInit) {
      assert.equal(o.message.truncated, true);
      assert.equal(o.message.proposals.length, 0);
    }
  });
});

describe('IKE messages decode as tshark dissects them', () => {
  const ikeCaptures = judged.filter((c) => /^(ikev|authip|esp-in-udp|snaplen)/.test(c.name));
  for (const c of ikeCaptures) {
    it(c.name, async () => {
      const { file, facts } = await analyze(c);
      const t = records(file, [
        'isakmp.exchangetype', 'isakmp.ispi', 'isakmp.rspi', 'isakmp.flag_r', 'isakmp.notify.msgtype',
        'isakmp.tf.id.encr', 'isakmp.ike2.attr.key_length', 'isakmp.tf.id.prf', 'isakmp.tf.id.integ', 'isakmp.tf.id.dh',
        'isakmp.ike.attr.encryption_algorithm', 'isakmp.ike.attr.key_length', 'isakmp.ike.attr.hash_algorithm', 'isakmp.ike.attr.group_description',
        'isakmp.ike.attr.authentication_method',
      ], { filter: 'isakmp' });
      assert.equal(facts.ike.length, t.length);
      const list = (s: string | undefined): number[] => (s ? s.split(',').map(Number) : []);
      facts.ike.forEach((o, i) => {
        const r = t[i]!;
        const m = o.message;
        const what = `${c.name} IKE message ${i + 1}`;
        assert.equal(m.exchange, Number(r['isakmp.exchangetype']), what);
        assert.equal(m.spiI, r['isakmp.ispi'], what);
        assert.equal(m.spiR, r['isakmp.rspi'], what);
        if (m.version === 2) assert.equal(m.response, r['isakmp.flag_r'] === '1', `${what}: R flag`);
        assert.deepEqual(m.notifies, list(r['isakmp.notify.msgtype']), `${what}: notifies`);
        if (m.truncated) return; // tshark shows what survived the snaplen; we keep nothing of a cut SA
        if (m.version === 2) {
          assert.deepEqual(m.proposals.flatMap((p) => p.encryption.map((e) => e.id)), list(r['isakmp.tf.id.encr']), `${what}: encr`);
          assert.deepEqual(m.proposals.flatMap((p) => p.encryption.flatMap((e) => (e.keyLength === undefined ? [] : [e.keyLength]))), list(r['isakmp.ike2.attr.key_length']), `${what}: key length`);
          assert.deepEqual(m.proposals.flatMap((p) => p.prf), list(r['isakmp.tf.id.prf']), `${what}: prf`);
          assert.deepEqual(m.proposals.flatMap((p) => p.integrity), list(r['isakmp.tf.id.integ']), `${what}: integ`);
          assert.deepEqual(m.proposals.flatMap((p) => p.dhGroup), list(r['isakmp.tf.id.dh']), `${what}: dh`);
        } else {
          assert.deepEqual(m.proposals.flatMap((p) => p.encryption.map((e) => e.id)), list(r['isakmp.ike.attr.encryption_algorithm']), `${what}: encryption`);
          assert.deepEqual(m.proposals.flatMap((p) => p.encryption.flatMap((e) => (e.keyLength === undefined ? [] : [e.keyLength]))), list(r['isakmp.ike.attr.key_length']), `${what}: key length`);
          assert.deepEqual(m.proposals.flatMap((p) => p.hash ?? []), list(r['isakmp.ike.attr.hash_algorithm']), `${what}: hash`);
          assert.deepEqual(m.proposals.flatMap((p) => p.dhGroup), list(r['isakmp.ike.attr.group_description']), `${what}: group`);
          assert.deepEqual(m.proposals.flatMap((p) => p.authMethod ?? []), list(r['isakmp.ike.attr.authentication_method']), `${what}: auth method`);
          assert.equal(m.authIp, m.exchange === 243);
        }
      });
    });
  }

  it('IKE on 4500 behind the non-ESP marker is IKE, not ESP, and keepalives are neither', async () => {
    const { facts } = await analyze(byName('esp-in-udp-4500'));
    const on4500 = facts.ike.filter((o) => o.srcPort === 4500);
    assert.deepEqual(on4500.map((o) => o.message.exchange), [35, 35]);
    assert.ok(on4500.every((o) => o.message.encrypted));
    assert.equal(facts.pairs.reduce((s, p) => s + p.keepalives, 0), 2);
    assert.equal(facts.pairs.reduce((s, p) => s + p.espInUdpPackets, 0), 8);
    assert.equal(facts.conversations.length, 0, 'no clear text: IKE, ESP-in-UDP and keepalives only');
  });
});

describe('fragments belong to their conversation', () => {
  for (const [name, v] of [['ipv4-fragments', 'ip'], ['ipv6-fragments', 'ipv6']] as const) {
    it(`${name}: clear TCP fragments (in and out of order) counted whole; fragmented ESP-in-UDP is not clear text`, async () => {
      const { file, facts } = await analyze(byName(name));
      // tshark without reassembly: the fragments of each datagram share (src, dst, id); the
      // first one names the TCP port.
      const idField = v === 'ip' ? 'ip.id' : 'ipv6.fraghdr.ident';
      const rows = records(file, [...IP_FIELDS, idField, 'tcp.dstport', 'udp.dstport', 'esp.spi', 'frame.time_epoch'], { prefs: NO_REASSEMBLY, occurrence: 'f' });
      const byDatagram = new Map<string, Record<string, string>[]>();
      for (const r of rows) {
        const a = outerAddresses(r)!;
        const k = `${a.src}>${a.dst}#${r[idField]}`;
        byDatagram.set(k, [...(byDatagram.get(k) ?? []), r]);
      }
      const expected: string[] = [];
      for (const [k, frags] of byDatagram) {
        const head = frags.find((r) => r['tcp.dstport']);
        if (!head) continue;
        const a = outerAddresses(head)!;
        const bytes = frags.reduce((s, r) => s + outerIpLength(r), 0);
        const times = frags.map((r) => Number(r['frame.time_epoch']));
        expected.push(`${a.src}>${a.dst}:${head['tcp.dstport']} ${frags.length} ${bytes} ${Math.min(...times).toFixed(6)} ${Math.max(...times).toFixed(6)} ${k.split('#')[1]}`);
      }
      const ours = facts.conversations.map((c) => `${c.src}>${c.dst}:${c.dstPort} ${c.packets} ${c.bytes} ${c.firstSeen.toFixed(6)} ${c.lastSeen.toFixed(6)}`);
      assert.deepEqual(ours.sort(), expected.map((e) => e.replace(/ [^ ]+$/, '')).sort());
      assert.equal(facts.conversations.length, 2);
      assert.ok(facts.conversations.every((c) => c.protocol === 'tcp' && !c.fragmentsOnly));
      // The ESP pairs carry no clear text at all, though some of their fragments came before the first.
      for (const p of facts.pairs) {
        const espDatagrams = [...byDatagram.values()].some((f) => f.some((r) => r['esp.spi'] && `${outerAddresses(r)!.src}>${outerAddresses(r)!.dst}` === `${p.src}>${p.dst}`));
        if (espDatagrams && !facts.conversations.some((c) => c.src === p.src && c.dst === p.dst)) assert.equal(p.plaintextPackets, 0, `${p.src}>${p.dst}`);
      }
      // A first fragment holds no ESP trailer: fragmented ESP is counted but never judged.
      for (const f of facts.espFlows) {
        assert.equal(f.verdict, 'unsure');
        assert.equal(f.nullMatches, 0);
        assert.ok(f.unjudged > 0);
      }
    });
  }

  it('a reversed datagram (first fragment last) keeps the earliest arrival as first seen', async () => {
    const { facts } = await analyze(byName('ipv4-fragments'));
    const rev = facts.conversations.find((c) => c.dstPort === 27000)!;
    assert.equal(rev.packets, 2);
    assert.ok(rev.firstSeen < rev.lastSeen);
    assert.equal(rev.src, '10.77.0.12');
    assert.equal(rev.dst, '10.77.0.13');
  });
});

describe('decrypted copies', () => {
  it('Ethernet (no host metadata): only the very next packet after its ESP packet is a copy', async () => {
    const { facts } = await analyze(byName('decrypted-copies-ethernet'));
    const pair = facts.pairs.find((p) => p.src === '10.77.0.11' && p.dst === '10.77.0.12')!;
    assert.equal(pair.decryptedCopies, 4);
    assert.deepEqual(facts.conversations.map((c) => `${c.dstPort}:${c.packets}`).sort(), ['27000:1', '8000:1', '8061:1', '8062:1', '8063:1', '8850:1']);
  });

  it('Linux cooked v2: an inbound burst of copies and TUN copies 12 ms from their ESP packets are proven; the rest are leaks', async () => {
    const { facts } = await analyze(byName('decrypted-copies-sll2'));
    const inbound = facts.pairs.find((p) => p.src === '10.77.0.11' && p.dst === '10.77.0.12')!;
    const outbound = facts.pairs.find((p) => p.src === '10.77.0.12' && p.dst === '10.77.0.11')!;
    assert.equal(inbound.decryptedCopies, 4);
    assert.equal(outbound.decryptedCopies, 2);
    assert.deepEqual(facts.conversations.map((c) => `${c.src}>${c.dst}:${c.dstPort}:${c.packets}`).sort(), ['10.77.0.11>10.77.0.12:27000:1', '10.77.0.11>10.77.0.12:8061:1', '10.77.0.11>10.77.0.12:8063:1', '10.77.0.12>10.77.0.11:8000:1', '10.77.0.12>10.77.0.11:8852:1']);
  });

  it('the link-layer probes: a clear SYN before any ESP is never a copy, on any link type', async () => {
    for (const name of ['ethernet-8021q', 'ethernet-qinq', 'raw-101', 'ipv4-228', 'ipv6-229', 'linux-sll-113', 'linux-sll2-276', 'null-0-host-order', 'loop-108']) {
      const { facts } = await analyze(byName(name));
      const syns = facts.conversations.filter((c) => c.dstPort === 8060 && c.protocol === 'tcp');
      assert.ok(syns.length >= 1, name);
      assert.ok(syns.every((c) => c.packets === 1 && c.bytes === (c.src.includes(':') ? 60 : 40)), name);
      assert.equal(facts.pairs.reduce((s, p) => s + p.decryptedCopies, 0), 0, name);
      assert.equal(facts.totals.undecodablePackets, 0, name);
    }
  });
});
