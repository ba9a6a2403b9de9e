// The capability probe names the first thing missing, and captureClusterTraffic falls back
// to the simulated wire only with that reason (returned and announced), never silently.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { assessLiveWire, type ProbeEnvironment } from '../../../simulators/live/availability.js';
import { captureClusterTraffic, type LivePlan } from '../../../simulators/live/index.js';

const INSTALLED = new Set([
  '/usr/lib/ipsec/charon',
  '/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so',
  '/usr/sbin/swanctl',
  '/usr/sbin/ip',
  '/usr/bin/tcpdump',
  '/usr/bin/mount',
  '/usr/bin/sh',
]);

function machine(change: Partial<ProbeEnvironment> & { missing?: string[] } = {}): ProbeEnvironment {
  const files = new Set([...INSTALLED].filter((f) => !(change.missing ?? []).includes(f)));
  return {
    platform: 'linux',
    uid: 0,
    env: { PATH: '/usr/bin' },
    isExecutable: (p) => files.has(p),
    exists: (p) => files.has(p),
    isCharDevice: (p) => p === '/dev/net/tun',
    netnsTrial: () => undefined,
    ...change,
  };
}

describe('assessLiveWire', () => {
  it('is available on a root Linux with strongSwan, iproute2, tcpdump and a TUN device', () => {
    const r = assessLiveWire(machine());
    assert.ok(r.ok);
    assert.deepEqual(r.tools, { charon: '/usr/lib/ipsec/charon', swanctl: '/usr/sbin/swanctl', ip: '/usr/sbin/ip', tcpdump: '/usr/bin/tcpdump', mount: '/usr/bin/mount', sh: '/usr/bin/sh' });
  });

  it('names the first thing missing', () => {
    const cases: [ProbeEnvironment, RegExp][] = [
      [machine({ platform: 'darwin' }), /needs Linux network namespaces; this is darwin/],
      [machine({ uid: 1000 }), /needs root .*running as uid 1000/],
      [machine({ missing: ['/usr/lib/ipsec/charon'] }), /charon is not installed .*strongswan-charon/],
      [machine({ env: { CRYPTGATE_CHARON: '/opt/charon' } }), /CRYPTGATE_CHARON=\/opt\/charon is not an executable file/],
      [machine({ missing: ['/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so'] }), /kernel-libipsec plugin is missing .*libcharon-extra-plugins/],
      [machine({ missing: ['/usr/sbin/swanctl'] }), /swanctl is not installed \(Debian package strongswan-swanctl\)/],
      [machine({ missing: ['/usr/bin/tcpdump'] }), /tcpdump is not installed/],
      [machine({ isCharDevice: () => false }), /\/dev\/net\/tun is missing/],
      [machine({ netnsTrial: () => 'mount --make-shared /run/netns failed: Operation not permitted' }), /`ip netns add` does not work here: mount --make-shared/],
    ];
    for (const [env, why] of cases) {
      const r = assessLiveWire(env);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.why, why);
    }
  });
});

describe('captureClusterTraffic', () => {
  const plan: LivePlan = {
    nodes: [{ name: 'n1', ip: '10.0.0.11' }, { name: 'n2', ip: '10.0.0.12' }],
    pairs: [{ a: 'n1', b: 'n2', outcome: 'esp', natT: false, ike: { version: 2, encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128', dhGroup: 14 }, esp: { protocol: 'esp', encryption: 'ENCR_AES_CBC', keyLength: 256, integrity: 'AUTH_HMAC_SHA2_256_128' } }],
    flows: [{ client: 'n1', server: 'n2', port: 8060 }],
  };

  it('runs the simulated wire when asked to, without probing', async () => {
    const r = await captureClusterTraffic(plan, {
      wire: 'simulated', evidenceDir: '/nonexistent', seed: 1,
      simulate: async () => '/sim.pcap',
      availability: () => assert.fail('probed'),
    });
    assert.deepEqual(r, { capturePath: '/sim.pcap', mode: 'simulated' });
  });

  it('falls back with the reason, and says so', async () => {
    const notices: string[] = [];
    const r = await captureClusterTraffic(plan, {
      wire: 'strongswan', evidenceDir: '/nonexistent', seed: 1,
      simulate: async () => '/sim.pcap',
      availability: () => ({ ok: false, why: 'the live wire needs root; running as uid 1000' }),
      notify: (line) => notices.push(line),
    });
    assert.equal(r.mode, 'simulated');
    assert.equal(r.capturePath, '/sim.pcap');
    assert.equal(r.fallbackReason, 'the live wire needs root; running as uid 1000');
    assert.deepEqual(notices, ['cryptgate: live wire (strongSwan) not used: the live wire needs root; running as uid 1000; this scenario runs on the simulated wire']);
  });

  it('falls back for a plan kernel-libipsec cannot carry (AH), even where strongSwan runs', async () => {
    const notices: string[] = [];
    const ah: LivePlan = { ...plan, pairs: [{ ...plan.pairs[0]!, esp: { protocol: 'ah', encryption: 'ENCR_NULL', integrity: 'AUTH_HMAC_SHA2_256_128' } }] };
    const r = await captureClusterTraffic(ah, {
      wire: 'strongswan', evidenceDir: '/nonexistent', seed: 1,
      simulate: async () => '/sim.pcap',
      availability: () => ({ ok: true, tools: { charon: 'x', swanctl: 'x', ip: 'x', tcpdump: 'x', mount: 'x', sh: 'x' } }),
      notify: (line) => notices.push(line),
    });
    assert.equal(r.mode, 'simulated');
    assert.match(r.fallbackReason ?? '', /uses AH/);
    assert.equal(notices.length, 1);
  });

  it('rejects a broken plan before anything runs', async () => {
    await assert.rejects(
      captureClusterTraffic({ ...plan, flows: [{ client: 'n1', server: 'n7', port: 1 }] }, { wire: 'strongswan', evidenceDir: '/x', seed: 1, simulate: async () => '/sim.pcap', availability: () => assert.fail('probed') }),
      /flows\[0\]\.server: expected a node name, found "n7"/,
    );
  });
});
