// Can this machine run the live wire? Root (network namespaces, bridges, tcpdump),
// strongSwan's charon with the kernel-libipsec plugin and swanctl, iproute2 with working
// `ip netns`, tcpdump and /dev/net/tun. The answer names the first thing missing, so a run
// that falls back to the simulated wire says exactly why.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** Paths of the programs the live wire runs. */
export interface LiveTools {
  charon: string;
  swanctl: string;
  ip: string;
  tcpdump: string;
  mount: string;
  sh: string;
}

export type LiveWireAvailability = { ok: true; tools: LiveTools } | { ok: false; why: string };

/** Where distributions put charon (Debian/Ubuntu first). */
export const CHARON_CANDIDATES = [
  '/usr/lib/ipsec/charon',
  '/usr/libexec/ipsec/charon',
  '/usr/lib/strongswan/charon',
  '/usr/libexec/strongswan/charon',
] as const;

/** What the probe looks at; injectable so the decision logic is tested without root. */
export interface ProbeEnvironment {
  platform: string;
  uid: number | undefined;
  env: Readonly<Record<string, string | undefined>>;
  isExecutable(path: string): boolean;
  exists(path: string): boolean;
  isCharDevice(path: string): boolean;
  /** Creates and deletes a throw-away namespace: undefined when that works, else the error text. */
  netnsTrial(ip: string): string | undefined;
}

function which(probe: ProbeEnvironment, cmd: string): string | undefined {
  // root's PATH in containers often lacks the sbin folders where ip and swanctl live
  const dirs = [...(probe.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (d !== '' && probe.isExecutable(join(d, cmd))) return join(d, cmd);
  }
  return undefined;
}

/** The decision, from an environment description. */
export function assessLiveWire(probe: ProbeEnvironment): LiveWireAvailability {
  if (probe.platform !== 'linux') return { ok: false, why: `the live wire needs Linux network namespaces; this is ${probe.platform}` };
  if (probe.uid !== 0) return { ok: false, why: `the live wire needs root (network namespaces, a bridge, tcpdump); running as uid ${probe.uid ?? 'unknown'}` };
  const wanted = probe.env.CRYPTGATE_CHARON;
  const charon = wanted ? (probe.isExecutable(wanted) ? wanted : undefined) : CHARON_CANDIDATES.find((c) => probe.isExecutable(c));
  if (!charon) {
    return {
      ok: false,
      why: wanted
        ? `CRYPTGATE_CHARON=${wanted} is not an executable file`
        : `strongSwan's charon is not installed (looked in ${CHARON_CANDIDATES.join(', ')}; Debian: apt-get install strongswan-charon strongswan-swanctl libcharon-extra-plugins, or set CRYPTGATE_CHARON)`,
    };
  }
  const plugin = join(dirname(charon), 'plugins', 'libstrongswan-kernel-libipsec.so');
  if (!probe.exists(plugin)) return { ok: false, why: `strongSwan's kernel-libipsec plugin is missing (${plugin}; Debian: libcharon-extra-plugins); it does ESP in userspace, which this kernel needs` };
  const tools: Partial<LiveTools> = { charon };
  for (const [key, cmd, pkg] of [
    ['swanctl', 'swanctl', 'strongswan-swanctl'],
    ['ip', 'ip', 'iproute2'],
    ['tcpdump', 'tcpdump', 'tcpdump'],
    ['mount', 'mount', 'mount'],
    ['sh', 'sh', 'dash'],
  ] as const) {
    const path = which(probe, cmd);
    if (!path) return { ok: false, why: `${cmd} is not installed (Debian package ${pkg})` };
    tools[key] = path;
  }
  if (!probe.isCharDevice('/dev/net/tun')) return { ok: false, why: '/dev/net/tun is missing (kernel-libipsec needs a TUN device)' };
  const netnsError = probe.netnsTrial(tools.ip!);
  if (netnsError !== undefined) return { ok: false, why: `\`ip netns add\` does not work here: ${netnsError}` };
  return { ok: true, tools: tools as LiveTools };
}

/** The real machine. */
export function systemProbe(): ProbeEnvironment {
  return {
    platform: process.platform,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
    env: process.env,
    isExecutable(path) {
      try {
        accessSync(path, constants.X_OK);
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
    exists(path) {
      try {
        statSync(path);
        return true;
      } catch {
        return false;
      }
    },
    isCharDevice(path) {
      try {
        return statSync(path).isCharacterDevice();
      } catch {
        return false;
      }
    },
    netnsTrial(ip) {
      const name = `cgl-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
      const add = spawnSync(ip, ['netns', 'add', name], { encoding: 'utf8', timeout: 5000 });
      if (add.status !== 0) return (add.stderr || add.error?.message || `exit ${add.status}`).trim().split('\n')[0];
      spawnSync(ip, ['netns', 'del', name], { encoding: 'utf8', timeout: 5000 });
      return undefined;
    },
  };
}

let cached: LiveWireAvailability | undefined;

/** Whether the live wire can run here (cached per process; `fresh` probes again). */
export function liveWireAvailability(options: { fresh?: boolean } = {}): LiveWireAvailability {
  if (!cached || options.fresh) cached = assessLiveWire(systemProbe());
  return cached;
}
