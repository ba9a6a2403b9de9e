// Port → service names, so a clear-text finding says what leaked ("8060: repository
// (PostgreSQL)") rather than a bare number. The defaults follow the analytics server's
// ports page (gateway, TSM controller, repository, licensing, the dynamically mapped
// 8000-9000 range) plus the infrastructure ports Windows nodes talk to each other on.
// A policy's `services` section adds or renames entries: "8060" or "27000-27009" keys,
// protocol-agnostic; an empty name marks a port as "no service".
//
// The most specific entry wins: a single port over a range, a narrower range over a wider
// one, and at equal width the policy over the defaults. Lookups run per flow (and per
// packet in the analyzer), so each override map compiles once into flat tables.

export type ServiceProtocol = 'tcp' | 'udp';

export interface ServiceEntry {
  from: number;
  to: number;
  protocols: readonly ServiceProtocol[];
  name: string;
}

const TCP: readonly ServiceProtocol[] = ['tcp'];
const UDP: readonly ServiceProtocol[] = ['udp'];
const BOTH: readonly ServiceProtocol[] = ['tcp', 'udp'];

/** Name used for the dynamically mapped process range; exported for tests and docs. */
export const DYNAMIC_RANGE_NAME = 'Tableau dynamic process range (8000-9000)';

export const DEFAULT_SERVICES: readonly ServiceEntry[] = Object.freeze([
  // The analytics server's own ports.
  { from: 80, to: 80, protocols: TCP, name: 'gateway (HTTP)' },
  { from: 443, to: 443, protocols: TCP, name: 'gateway (TLS)' },
  { from: 8850, to: 8850, protocols: TCP, name: 'TSM administration controller' },
  { from: 8060, to: 8060, protocols: TCP, name: 'repository (PostgreSQL)' },
  { from: 8061, to: 8061, protocols: TCP, name: 'repository backup verification' },
  { from: 27000, to: 27009, protocols: TCP, name: 'licensing service' },
  // vizqlserver, data server, file store, backgrounder, coordination service…: picked at install time.
  { from: 8000, to: 9000, protocols: TCP, name: DYNAMIC_RANGE_NAME },
  // Infrastructure between Windows nodes.
  { from: 53, to: 53, protocols: BOTH, name: 'DNS' },
  { from: 88, to: 88, protocols: BOTH, name: 'Kerberos' },
  { from: 123, to: 123, protocols: UDP, name: 'NTP' },
  { from: 135, to: 135, protocols: TCP, name: 'RPC endpoint mapper' },
  { from: 389, to: 389, protocols: BOTH, name: 'LDAP' },
  { from: 445, to: 445, protocols: TCP, name: 'SMB' },
  { from: 3389, to: 3389, protocols: BOTH, name: 'RDP' },
  { from: 5985, to: 5985, protocols: TCP, name: 'WinRM (HTTP)' },
  { from: 5986, to: 5986, protocols: TCP, name: 'WinRM (HTTPS)' },
]);

const PORT_KEY = /^(\d{1,5})(?:-(\d{1,5}))?$/;

/** Parses a `services` key: "8060" or "27000-27009"; undefined if it is not a valid port or range. */
export function parsePortRange(key: string): [number, number] | undefined {
  const m = PORT_KEY.exec(key.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from > 65535 || to > 65535 || from > to) return undefined;
  return [from, to];
}

interface Tables {
  names: string[];
  /** Index into names + 1 (0 = no service), one table per protocol family. */
  tcp: Uint16Array;
  udp: Uint16Array;
  other: Uint16Array;
}

interface Candidate {
  from: number;
  to: number;
  protocols: readonly string[] | 'any';
  name: string;
  fromPolicy: boolean;
}

function compile(overrides: Readonly<Record<string, string>>): Tables {
  const candidates: Candidate[] = DEFAULT_SERVICES.map((e) => ({ ...e, fromPolicy: false }));
  for (const [key, name] of Object.entries(overrides)) {
    const range = parsePortRange(key);
    if (!range || typeof name !== 'string') continue; // loadPolicy rejects these; code callers get no surprise
    candidates.push({ from: range[0], to: range[1], protocols: 'any', name, fromPolicy: true });
  }
  // Widest first, defaults before the policy at equal width: later fills overwrite earlier.
  const ordered = candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.to - b.c.from - (a.c.to - a.c.from) || Number(a.c.fromPolicy) - Number(b.c.fromPolicy) || a.i - b.i)
    .map((x) => x.c);
  const names: string[] = [];
  const tables: Tables = { names, tcp: new Uint16Array(65536), udp: new Uint16Array(65536), other: new Uint16Array(65536) };
  for (const c of ordered) {
    let index = 0; // empty name: explicitly "not a service"
    if (c.name !== '') {
      index = names.indexOf(c.name) + 1;
      if (index === 0) index = names.push(c.name);
    }
    const targets = c.protocols === 'any' ? [tables.tcp, tables.udp, tables.other] : c.protocols.map((p) => (p === 'tcp' ? tables.tcp : tables.udp));
    for (const t of targets) t.fill(index, c.from, c.to + 1);
  }
  return tables;
}

const NO_OVERRIDES: Readonly<Record<string, string>> = Object.freeze({});
const cache = new WeakMap<object, Tables>();

function tablesFor(overrides: Readonly<Record<string, string>>): Tables {
  let t = cache.get(overrides);
  if (!t) {
    t = compile(overrides);
    cache.set(overrides, t);
  }
  return t;
}

/**
 * The service listening on `port` for `protocol` ('tcp', 'udp'; anything else only
 * matches policy entries), or undefined. The overrides object is compiled once and
 * cached by identity: do not mutate it after the first lookup.
 */
export function serviceFor(port: number, protocol: string, overrides: Readonly<Record<string, string>> = NO_OVERRIDES): string | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const t = tablesFor(overrides);
  const proto = protocol.toLowerCase();
  const table = proto === 'tcp' ? t.tcp : proto === 'udp' ? t.udp : t.other;
  const index = table[port] ?? 0;
  return index === 0 ? undefined : t.names[index - 1];
}
