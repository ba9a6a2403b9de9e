// Windows IPsec configuration exports read into the cluster policy model the simulator uses
// (src/ipsec/policy-model.ts), so the audit judges a real configuration with the same words:
//   Get-NetIPsecRule | ConvertTo-Json                      → connection security rules
//     (LocalAddress/RemoteAddress on the object, as `Select-Object *, @{n='LocalAddress';…}`
//     adds them, or from Get-NetFirewallAddressFilter objects joined on InstanceID)
//   Get-NetIPsecMainModeCryptoSet | ConvertTo-Json          → key exchange (main mode) defaults
//   Get-NetIPsecQuickModeCryptoSet | ConvertTo-Json         → data protection (quick mode)
//   Get-NetIPsecPhase1AuthSet | ConvertTo-Json              → authentication methods
//   netsh advfirewall consec show rule name=all             → rules, as text
// Enumerations come as names (`-EnumsAsStrings`, PowerShell 7) or as the numbers Windows
// PowerShell 5 writes; numbers are read in the NetSecurity module's documented value order
// (e.g. Encryption: None, DES, DES3, AES128, …). Which node an export belongs to: its
// PSComputerName (Invoke-Command/-CimSession exports), else the folder it sits in.
// Everything is pure: the audit hands in parsed documents and text.
import {
  validateNodePolicy,
  type AuthMethod, type ConnectionSecurityRule, type FirewallProfile, type KeyModule, type MainModeCryptoSet, type MainModeProposal,
  type NodeIpsecPolicy, type PfsGroup, type QuickModeCryptoSet, type QuickModeProposal, type Requirement, type RuleProtocol,
} from '../ipsec/policy-model.js';
import { isSingleAddress, parseAddressEntry } from '../ipsec/address-list.js';
import { InputError } from '../util/errors.js';
import { describeJson, isObject, JsonFormatError, ptr } from './json-doc.js';
import { LineFormatError } from './lines.js';
import { DH, enumName, HASH, MM_ENCRYPTION, modelCipher, NETSH_REQUIREMENTS, normWord as norm, PFS, SECURITY } from './windows-ipsec.js';

// ---------------------------------------------------------------- PowerShell vocabulary

/** One value of a PowerShell enum: its name (any case) or its number in the listed order. */
function enumOf<T extends string>(file: string, at: string, v: unknown, names: readonly T[], what: string): T {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v]!;
  if (typeof v === 'string') {
    const hit = enumName(names, v);
    if (hit) return hit;
  }
  throw new JsonFormatError(file, at, `${what}: one of ${names.join(', ')} (or its number 0..${names.length - 1})`, describeJson(v));
}

function list(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function addresses(file: string, at: string, v: unknown): string[] {
  const raw = list(v).flatMap((x) => (typeof x === 'string' ? x.split(',') : [x]));
  const out: string[] = [];
  raw.forEach((x, i) => {
    if (typeof x !== 'string' || x.trim() === '') throw new JsonFormatError(file, `${at}${raw.length > 1 ? `/${i}` : ''}`, 'an address list ("Any", IPs, CIDRs or a-b ranges)', describeJson(x));
    const t = x.trim();
    const e = parseAddressEntry(/^any$/i.test(t) ? 'Any' : t.replace(/\/255\.255\.255\.255$/, ''));
    if (typeof e === 'string') throw new JsonFormatError(file, at, `an address list ("Any", IPs, CIDRs or a-b ranges): ${e}`, JSON.stringify(t));
    out.push(e.text);
  });
  return out;
}

function boolOf(file: string, at: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  // NetSecurity's Enabled enum: True = 1, False = 2.
  if (v === 1 || (typeof v === 'string' && /^(true|yes|1)$/i.test(v))) return true;
  if (v === 2 || v === 0 || (typeof v === 'string' && /^(false|no|2|0)$/i.test(v))) return false;
  throw new JsonFormatError(file, at, 'True or False', describeJson(v));
}

/** Profile flags: Any = 0, Domain = 1, Private = 2, Public = 4; or names "Domain, Private". */
function profilesOf(file: string, at: string, v: unknown): FirewallProfile[] {
  const all: FirewallProfile[] = ['domain', 'private', 'public'];
  if (v === undefined || v === null) return all;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 7) return v === 0 ? all : all.filter((_, i) => v & (1 << i));
  if (typeof v === 'string') {
    const parts = v.split(/[,\s]+/).filter(Boolean).map((p) => p.toLowerCase());
    if (parts.includes('any')) return all;
    if (parts.every((p) => (all as string[]).includes(p))) return parts as FirewallProfile[];
  }
  throw new JsonFormatError(file, at, 'a profile: Any, Domain, Private, Public (or their flags 0..7)', describeJson(v));
}

/** KeyModule flags: Default = 0, IKEv1 = 1, AuthIP = 2, IKEv2 = 4. */
function keyModuleOf(file: string, at: string, v: unknown): KeyModule {
  if (v === undefined || v === null) return 'default';
  if (typeof v === 'number') {
    if (v === 0) return 'default';
    if (v === 4) return 'ikev2';
    if (v === 1) return 'ikev1';
    if (v === 2 || v === 3) return 'authip';
  }
  if (typeof v === 'string') {
    const s = norm(v);
    if (s === 'default' || s === '') return 'default';
    if (s.includes('ikev2')) return 'ikev2';
    if (s.includes('authip')) return 'authip';
    if (s.includes('ikev1')) return 'ikev1';
  }
  throw new JsonFormatError(file, at, 'a key module: Default, IKEv1, AuthIP or IKEv2 (or 0, 1, 2, 4)', describeJson(v));
}

function protocolOf(file: string, at: string, v: unknown): RuleProtocol {
  if (v === undefined || v === null || v === 256) return 'any';
  if (v === 6) return 'tcp';
  if (v === 17) return 'udp';
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'any' || s === '') return 'any';
    if (s === 'tcp' || s === '6') return 'tcp';
    if (s === 'udp' || s === '17') return 'udp';
  }
  throw new JsonFormatError(file, at, 'a protocol: Any, TCP or UDP', describeJson(v));
}

function portsOf(v: unknown): string[] {
  return list(v)
    .flatMap((x) => String(x).split(','))
    .map((x) => x.trim())
    .filter((x) => x !== '' && !/^any$/i.test(x));
}

// ---------------------------------------------------------------- exported objects

export interface ExportedRule {
  file: string;
  where: string;
  group: string;
  name: string;
  enabled: boolean;
  endpoint1: string[] | null;
  endpoint2: string[] | null;
  instanceId: string | null;
  inbound: Requirement;
  outbound: Requirement;
  profiles: FirewallProfile[];
  protocol: RuleProtocol;
  endpoint1Ports: string[];
  endpoint2Ports: string[];
  keyModule: KeyModule;
  mode: 'transport' | 'tunnel';
  phase1AuthSet: string | null;
  quickModeCryptoSet: string | null;
  /** netsh gives methods and proposals on the rule itself. */
  authentication?: AuthMethod[];
  quickModeProposals?: QuickModeProposal[];
  /** Methods the model cannot hold (pre-shared key, NTLM, anonymous). */
  weakAuth: string[];
}

export interface ExportedMainModeSet {
  file: string;
  where: string;
  group: string;
  name: string;
  displayName: string;
  set: MainModeCryptoSet;
}

export interface ExportedQuickModeSet {
  file: string;
  where: string;
  group: string;
  name: string;
  displayName: string;
  set: QuickModeCryptoSet;
}

export interface ExportedAuthSet {
  file: string;
  where: string;
  group: string;
  name: string;
  displayName: string;
  methods: AuthMethod[];
  weakAuth: string[];
}

export interface ExportedAddressFilter {
  group: string;
  instanceId: string;
  local: string[];
  remote: string[];
}

export interface WindowsIpsecItems {
  rules: ExportedRule[];
  mainMode: ExportedMainModeSet[];
  quickMode: ExportedQuickModeSet[];
  auth: ExportedAuthSet[];
  addressFilters: ExportedAddressFilter[];
}

export const emptyItems = (): WindowsIpsecItems => ({ rules: [], mainMode: [], quickMode: [], auth: [], addressFilters: [] });

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

function mmProposal(file: string, at: string, p: unknown): MainModeProposal {
  if (!isObject(p)) throw new JsonFormatError(file, at, 'a main mode proposal {Encryption, Hash, KeyExchange}', describeJson(p));
  const encryption = modelCipher(enumOf(file, ptr(at, 'Encryption'), p.Encryption, MM_ENCRYPTION, 'an encryption algorithm'));
  const hash = enumOf(file, ptr(at, 'Hash'), p.Hash, HASH, 'a hash algorithm');
  const dh = enumOf(file, ptr(at, 'KeyExchange'), p.KeyExchange, DH, 'a key exchange (Diffie-Hellman group)');
  if (encryption === 'None' || hash === 'None' || dh === 'None' || hash.startsWith('AESGMAC')) {
    throw new JsonFormatError(file, at, 'a main mode proposal with an encryption, an HMAC hash and a Diffie-Hellman group', `${encryption}/${hash}/${dh}`);
  }
  return { encryption, integrity: hash, keyExchange: dh } as MainModeProposal;
}

function qmProposal(file: string, at: string, p: unknown): QuickModeProposal {
  if (!isObject(p)) throw new JsonFormatError(file, at, 'a quick mode proposal {Encapsulation, Encryption, ESPHash, AHHash}', describeJson(p));
  const enc = p.Encapsulation;
  let encapsulation: QuickModeProposal['encapsulation'];
  if (enc === 1 || (typeof enc === 'string' && norm(enc) === 'ah')) encapsulation = 'AH';
  else if (enc === 2 || (typeof enc === 'string' && norm(enc) === 'esp')) encapsulation = 'ESP';
  else if (enc === 3 || (typeof enc === 'string' && /^(ah,?\+?esp|esp,?\+?ah)$/.test(norm(enc).replace(/,/g, ',')))) encapsulation = 'AH+ESP';
  else throw new JsonFormatError(file, ptr(at, 'Encapsulation'), 'ESP, AH or "AH, ESP" (flags 2, 1, 3)', describeJson(enc));
  return {
    encapsulation,
    espEncryption: modelCipher(enumOf(file, ptr(at, 'Encryption'), p.Encryption ?? 'None', MM_ENCRYPTION, 'an ESP encryption algorithm')) as QuickModeProposal['espEncryption'],
    espIntegrity: enumOf(file, ptr(at, 'ESPHash'), p.ESPHash ?? 'None', HASH, 'an ESP hash') as QuickModeProposal['espIntegrity'],
    ahIntegrity: enumOf(file, ptr(at, 'AHHash'), p.AHHash ?? 'None', HASH, 'an AH hash') as QuickModeProposal['ahIntegrity'],
    lifetimeMinutes: typeof p.MaxMinutes === 'number' && p.MaxMinutes > 0 ? p.MaxMinutes : 60,
    lifetimeKilobytes: typeof p.MaxKiloBytes === 'number' && p.MaxKiloBytes > 0 ? p.MaxKiloBytes : 100_000,
  };
}

/** Phase 1 authentication proposals: computer certificate (with its CA) or computer Kerberos. */
function authMethods(file: string, at: string, proposals: unknown[]): { methods: AuthMethod[]; weak: string[] } {
  const methods: AuthMethod[] = [];
  const weak: string[] = [];
  proposals.forEach((p, i) => {
    const pat = `${at}/${i}`;
    if (!isObject(p)) throw new JsonFormatError(file, pat, 'an authentication proposal', describeJson(p));
    const m = String(p.AuthenticationMethod ?? '').toLowerCase();
    const ca = str(p.Authority) ?? str(p.CAName) ?? str(p.CertAuthority);
    if (m.includes('kerb')) methods.push({ kind: 'computer-kerberos' });
    else if (m.includes('cert') || (m === '' && ca)) {
      const signing = String(p.Signing ?? 'RSA').toUpperCase();
      methods.push({ kind: 'computer-certificate', caName: ca ?? '(any CA)', signing: signing === 'ECDSA256' || signing === 'ECDSA384' ? signing : 'RSA' });
    } else if (m !== '') weak.push(String(p.AuthenticationMethod));
    else throw new JsonFormatError(file, ptr(pat, 'AuthenticationMethod'), 'an authentication method (MachineCert, MachineKerberos, …)', 'nothing');
  });
  return { methods, weak };
}

/** Reads one `ConvertTo-Json` document (an object or a list of them). `group` is its node (folder) when the objects do not say. */
export function readPowerShellIpsecExport(doc: unknown, file: string, group: string, into: WindowsIpsecItems = emptyItems()): WindowsIpsecItems {
  const items = Array.isArray(doc) ? doc : [doc];
  items.forEach((o, i) => {
    const at = Array.isArray(doc) ? `/${i}` : '';
    if (!isObject(o)) throw new JsonFormatError(file, at, 'a NetIPsec object', describeJson(o));
    const g = str(o.PSComputerName) ?? group;
    const name = str(o.IPsecRuleName) ?? str(o.Name) ?? str(o.DisplayName) ?? `${file}${at}`;
    const displayName = str(o.DisplayName) ?? name;
    if ('InboundSecurity' in o || 'OutboundSecurity' in o) {
      const proto = protocolOf(file, ptr(at, 'Protocol'), o.Protocol);
      into.rules.push({
        file,
        where: at || '(top level)',
        group: g,
        name: displayName,
        enabled: boolOf(file, ptr(at, 'Enabled'), o.Enabled, true),
        endpoint1: o.LocalAddress === undefined ? null : addresses(file, ptr(at, 'LocalAddress'), o.LocalAddress),
        endpoint2: o.RemoteAddress === undefined ? null : addresses(file, ptr(at, 'RemoteAddress'), o.RemoteAddress),
        instanceId: str(o.InstanceID) ?? str(o.IPsecRuleName) ?? str(o.Name),
        inbound: enumOf(file, ptr(at, 'InboundSecurity'), o.InboundSecurity ?? 'None', SECURITY, 'an inbound requirement').toLowerCase() as Requirement,
        outbound: enumOf(file, ptr(at, 'OutboundSecurity'), o.OutboundSecurity ?? 'None', SECURITY, 'an outbound requirement').toLowerCase() as Requirement,
        profiles: profilesOf(file, ptr(at, 'Profile'), o.Profile),
        protocol: proto,
        endpoint1Ports: proto === 'any' ? [] : portsOf(o.LocalPort),
        endpoint2Ports: proto === 'any' ? [] : portsOf(o.RemotePort),
        keyModule: keyModuleOf(file, ptr(at, 'KeyModule'), o.KeyModule),
        mode: o.Mode === 2 || (typeof o.Mode === 'string' && /tunnel/i.test(o.Mode)) ? 'tunnel' : 'transport',
        phase1AuthSet: str(o.Phase1AuthSet),
        quickModeCryptoSet: str(o.QuickModeCryptoSet),
        weakAuth: [],
      });
    } else if ('Proposal' in o && ('ForceDiffieHellman' in o || 'MaxSessions' in o)) {
      const proposals = list(o.Proposal).map((p, j) => mmProposal(file, `${ptr(at, 'Proposal')}${Array.isArray(o.Proposal) ? `/${j}` : ''}`, p));
      if (proposals.length === 0) throw new JsonFormatError(file, ptr(at, 'Proposal'), 'at least one main mode proposal', 'none');
      into.mainMode.push({
        file, where: at || '(top level)', group: g, name, displayName,
        set: {
          proposals,
          lifetimeMinutes: typeof o.MaxMinutes === 'number' && o.MaxMinutes > 0 ? Math.min(o.MaxMinutes, 2880) : 480,
          lifetimeSessions: typeof o.MaxSessions === 'number' && o.MaxSessions >= 0 ? o.MaxSessions : 0,
          forceDiffieHellman: boolOf(file, ptr(at, 'ForceDiffieHellman'), o.ForceDiffieHellman, false),
        },
      });
    } else if ('Proposal' in o && 'PerfectForwardSecrecyGroup' in o) {
      const proposals = list(o.Proposal).map((p, j) => qmProposal(file, `${ptr(at, 'Proposal')}${Array.isArray(o.Proposal) ? `/${j}` : ''}`, p));
      if (proposals.length === 0) throw new JsonFormatError(file, ptr(at, 'Proposal'), 'at least one quick mode proposal', 'none');
      // PowerShell has no "require encryption" flag: the console's checkbox leaves only
      // encrypting proposals in the set, so that is how it shows in an export.
      const requireEncryption = proposals.every((p) => p.encapsulation !== 'AH' && p.espEncryption !== 'None');
      into.quickMode.push({ file, where: at || '(top level)', group: g, name, displayName, set: { requireEncryption, perfectForwardSecrecy: enumOf(file, ptr(at, 'PerfectForwardSecrecyGroup'), o.PerfectForwardSecrecyGroup, PFS, 'a PFS group') as PfsGroup, proposals } });
    } else if ('Proposal' in o) {
      const { methods, weak } = authMethods(file, ptr(at, 'Proposal'), list(o.Proposal));
      into.auth.push({ file, where: at || '(top level)', group: g, name, displayName, methods, weakAuth: weak });
    } else if ('InstanceID' in o && ('LocalAddress' in o || 'RemoteAddress' in o)) {
      into.addressFilters.push({ group: g, instanceId: String(o.InstanceID), local: addresses(file, ptr(at, 'LocalAddress'), o.LocalAddress ?? 'Any'), remote: addresses(file, ptr(at, 'RemoteAddress'), o.RemoteAddress ?? 'Any') });
    } else {
      throw new JsonFormatError(file, at, 'a NetIPsec rule, crypto set, auth set or address filter object', 'an object of another kind');
    }
  });
  return into;
}

// ---------------------------------------------------------------- netsh text

/** `ESP:SHA256-AES256+60min+100000kb`, `AH:SHA1+60min+100000kb`, `AH+ESP:SHA1-AES128+…`. */
function netshQuickMode(file: string, line: number, text: string): QuickModeProposal[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^(AH\+ESP|ESP|AH):([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:-([A-Za-z0-9]+))?(?:\+(\d+)min)?(?:\+(\d+)kb)?$/i.exec(t);
      if (!m) throw new LineFormatError(file, line, 'QuickModeSecMethods', 'ESP:<integrity>-<encryption>+<min>min+<kb>kb or AH:<integrity>+…', `'${t}'`);
      const protocol = m[1]!.toUpperCase() as QuickModeProposal['encapsulation'];
      const pick = <T extends string>(v: string | undefined, names: readonly T[]): T => {
        const hit = enumName(names, v ?? 'None');
        if (!hit) throw new LineFormatError(file, line, 'QuickModeSecMethods', `one of ${names.join(', ')}`, `'${v}' in '${t}'`);
        return hit;
      };
      const integrity = pick(m[2], HASH);
      const encryption = protocol === 'AH' ? 'None' : modelCipher(pick(m[protocol === 'AH+ESP' ? 4 : 3], MM_ENCRYPTION));
      return {
        encapsulation: protocol,
        espEncryption: encryption as QuickModeProposal['espEncryption'],
        espIntegrity: (protocol === 'AH' ? 'None' : protocol === 'AH+ESP' ? pick(m[3], HASH) : integrity) as QuickModeProposal['espIntegrity'],
        ahIntegrity: (protocol === 'ESP' ? 'None' : integrity) as QuickModeProposal['ahIntegrity'],
        lifetimeMinutes: m[5] ? Number(m[5]) : 60,
        lifetimeKilobytes: m[6] ? Number(m[6]) : 100_000,
      };
    });
}

/** `netsh advfirewall consec show rule name=all` (verbose or not): one rule per "Rule Name:" block. */
export function parseNetshConsec(text: string, file: string, group: string, into: WindowsIpsecItems = emptyItems()): WindowsIpsecItems {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let cur: { start: number; fields: Map<string, { value: string; line: number }> } | undefined;
  const flush = (): void => {
    if (!cur) return;
    const f = cur.fields;
    const get = (k: string): { value: string; line: number } | undefined => f.get(k.toLowerCase());
    const need = (k: string): { value: string; line: number } => {
      const v = get(k);
      if (!v) throw new LineFormatError(file, cur!.start, k, `a "${k}:" line in the rule`);
      return v;
    };
    const name = need('Rule Name').value;
    const endpointList = (k: string): string[] => {
      const v = need(k);
      return v.value.split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
        const e = parseAddressEntry(/^any$/i.test(x) ? 'Any' : x.replace(/\/32$/, '').replace(/\/128$/, ''));
        if (typeof e === 'string') throw new LineFormatError(file, v.line, k, e, `'${x}'`);
        return e.text;
      });
    };
    const action = need('Action');
    const req = NETSH_REQUIREMENTS[norm(action.value)];
    if (!req) throw new LineFormatError(file, action.line, 'Action', `one of ${Object.keys(NETSH_REQUIREMENTS).join(', ')}`, `'${action.value}'`);
    const enabled = get('Enabled');
    const profiles = get('Profiles');
    const proto = get('Protocol');
    const auth1 = get('Auth1');
    const methods: AuthMethod[] = [];
    const weak: string[] = [];
    for (const a of (auth1?.value ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
      const s = a.toLowerCase();
      if (s.includes('kerb')) methods.push({ kind: 'computer-kerberos' });
      else if (s.includes('cert')) {
        const sig = (get('Auth1CertSigning')?.value ?? 'RSA').toUpperCase();
        methods.push({ kind: 'computer-certificate', caName: get('Auth1CAName')?.value ?? '(any CA)', signing: sig === 'ECDSA256' || sig === 'ECDSA384' ? sig : 'RSA' });
      } else weak.push(a);
    }
    const qm = get('QuickModeSecMethods');
    const protocol = ((): RuleProtocol => {
      const p = (proto?.value ?? 'Any').toLowerCase();
      if (p === 'any') return 'any';
      if (p === 'tcp' || p === '6') return 'tcp';
      if (p === 'udp' || p === '17') return 'udp';
      throw new LineFormatError(file, proto!.line, 'Protocol', 'Any, TCP or UDP', `'${proto!.value}'`);
    })();
    const prof = (profiles?.value ?? 'Domain,Private,Public').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
    const allProfiles: FirewallProfile[] = ['domain', 'private', 'public'];
    if (!prof.every((p) => p === 'any' || (allProfiles as string[]).includes(p))) throw new LineFormatError(file, profiles!.line, 'Profiles', 'Domain, Private, Public or Any', `'${profiles!.value}'`);
    into.rules.push({
      file,
      where: `line ${cur.start}`,
      group,
      name,
      enabled: !/^no$/i.test(enabled?.value ?? 'Yes'),
      endpoint1: endpointList('Endpoint1'),
      endpoint2: endpointList('Endpoint2'),
      instanceId: null,
      inbound: req[0],
      outbound: req[1],
      profiles: prof.includes('any') ? allProfiles : (prof as FirewallProfile[]),
      protocol,
      endpoint1Ports: protocol === 'any' ? [] : portsOf(get('Port1')?.value),
      endpoint2Ports: protocol === 'any' ? [] : portsOf(get('Port2')?.value),
      keyModule: 'default',
      mode: /tunnel/i.test(get('Mode')?.value ?? '') ? 'tunnel' : 'transport',
      phase1AuthSet: null,
      quickModeCryptoSet: null,
      authentication: methods,
      ...(qm ? { quickModeProposals: netshQuickMode(file, qm.line, qm.value) } : {}),
      weakAuth: weak,
    });
    cur = undefined;
  };
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (/^Rule Name:/i.test(line)) {
      flush();
      cur = { start: i + 1, fields: new Map() };
    }
    if (/^-{5,}$/.test(line) || line.trim() === '' || /^Ok\.$/i.test(line.trim())) return;
    const m = /^([A-Za-z][A-Za-z0-9 ]*?):\s*(.*)$/.exec(line);
    if (!m) {
      if (cur) throw new LineFormatError(file, i + 1, 'netsh rule field', "'<Field>: <value>' (as `netsh advfirewall consec show rule name=all` prints)", `'${line.trim().slice(0, 60)}'`);
      return;
    }
    if (!cur) throw new LineFormatError(file, i + 1, 'Rule Name', 'each rule to start with a "Rule Name:" line', `'${line.trim().slice(0, 60)}'`);
    cur.fields.set(m[1]!.trim().toLowerCase(), { value: m[2]!.trim(), line: i + 1 });
  });
  flush();
  return into;
}

// ---------------------------------------------------------------- into the model

export interface BuiltNode {
  policy: NodeIpsecPolicy;
  /** Where each part came from; null = not exported (the Windows default was assumed). */
  sources: { rules: string[]; mainMode: string | null; quickMode: string | null; authentication: string | null };
  /** Things the model cannot hold or the export did not say, for the report. */
  notes: string[];
  /** Methods the model has no room for (pre-shared key…), per rule name. */
  weakAuth: { rule: string; methods: string[] }[];
}

const isDefault = (s: { name: string; displayName: string }): boolean => /default|\{E5A5D32A-4BCE-4E4D-B07F-4AB1BA7E5FE/i.test(`${s.name} ${s.displayName}`);

function pickDefault<T extends { name: string; displayName: string; file: string }>(sets: readonly T[], what: string, notes: string[]): T | undefined {
  if (sets.length === 0) return undefined;
  const d = sets.find(isDefault) ?? sets[0]!;
  if (sets.length > 1) notes.push(`${sets.length} ${what} exported; "${d.displayName}" (${d.file}) judged as the IPsec defaults`);
  return d;
}

/** One node's model from its exports; a combination the model refuses is malformed evidence (exit 2). */
export function buildNodePolicy(group: string, items: WindowsIpsecItems): BuiltNode {
  const notes: string[] = [];
  const filters = new Map(items.addressFilters.map((f) => [f.instanceId, f] as const));
  const mm = pickDefault(items.mainMode, 'main mode crypto sets', notes);
  const qmDefault = pickDefault(items.quickMode.filter((q) => isDefault(q) || items.quickMode.length === 1), 'quick mode crypto sets', notes) ?? pickDefault(items.quickMode, 'quick mode crypto sets', notes);
  const authDefault = items.auth.find(isDefault);
  const rules: ConnectionSecurityRule[] = [];
  const weakAuth: BuiltNode['weakAuth'] = [];
  for (const r of items.rules) {
    const f = r.instanceId ? filters.get(r.instanceId) : undefined;
    const endpoint1 = r.endpoint1 ?? f?.local;
    const endpoint2 = r.endpoint2 ?? f?.remote;
    if (!endpoint1 || !endpoint2) {
      throw new InputError(`${r.file}: ${r.where}: rule "${r.name}": expected its addresses: LocalAddress and RemoteAddress on the rule (Get-NetIPsecRule | Select-Object *, @{n='LocalAddress';e={($_ | Get-NetFirewallAddressFilter).LocalAddress}}, …) or a Get-NetFirewallAddressFilter export with InstanceID ${r.instanceId ?? '(none)'}`);
    }
    let authentication = r.authentication ?? [];
    let weak = r.weakAuth;
    if (!r.authentication && r.phase1AuthSet && !/^default$/i.test(r.phase1AuthSet)) {
      const set = items.auth.find((a) => a.name === r.phase1AuthSet || a.displayName === r.phase1AuthSet);
      if (set) {
        authentication = set.methods;
        weak = set.weakAuth;
      } else notes.push(`rule "${r.name}" uses authentication set "${r.phase1AuthSet}", which was not exported (Get-NetIPsecPhase1AuthSet)`);
    }
    if (weak.length > 0) weakAuth.push({ rule: r.name, methods: weak });
    const rule: ConnectionSecurityRule = {
      name: r.name,
      enabled: r.enabled,
      type: r.protocol === 'any' && endpoint1[0] !== 'Any' ? 'server-to-server' : r.protocol === 'any' ? 'isolation' : 'custom',
      endpoint1,
      endpoint2,
      inbound: r.inbound,
      outbound: r.outbound,
      authentication,
      profiles: r.profiles,
      protocol: r.protocol,
      endpoint1Ports: [],
      endpoint2Ports: [],
      keyModule: r.keyModule,
    };
    if (r.protocol !== 'any') {
      rule.endpoint1Ports = r.endpoint1Ports.map(portRange);
      rule.endpoint2Ports = r.endpoint2Ports.map(portRange);
    }
    const qmSet = r.quickModeProposals
      ? { requireEncryption: r.quickModeProposals.every((p) => p.encapsulation !== 'AH' && p.espEncryption !== 'None'), perfectForwardSecrecy: 'None' as PfsGroup, proposals: r.quickModeProposals }
      : r.quickModeCryptoSet && !/^default$/i.test(r.quickModeCryptoSet)
        ? items.quickMode.find((q) => (q.name === r.quickModeCryptoSet || q.displayName === r.quickModeCryptoSet) && q !== qmDefault)?.set
        : undefined;
    if (qmSet) rule.quickMode = qmSet;
    if (r.mode === 'tunnel') notes.push(`rule "${r.name}" is a tunnel-mode rule: judged on its endpoints like a transport rule`);
    rules.push(rule);
  }
  const own = [...new Set(rules.flatMap((r) => r.endpoint1).filter(isSingleAddress))];
  if (own.length === 0) {
    const where = items.rules[0] ?? items.mainMode[0] ?? items.quickMode[0] ?? items.auth[0];
    throw new InputError(`${where?.file ?? group}: ${group}: expected at least one connection security rule whose endpoint 1 is this node's own address (export Get-NetIPsecRule on the node), found ${items.rules.length === 0 ? 'no rule' : 'no single address in endpoint 1'}`);
  }
  const data = {
    name: group,
    addresses: own,
    rules: rules.map((r) => ({ ...r, endpoint1Ports: r.endpoint1Ports.map((p) => `${p.from}-${p.to}`), endpoint2Ports: r.endpoint2Ports.map((p) => `${p.from}-${p.to}`), ...(r.protocol === 'any' ? { endpoint1Ports: undefined, endpoint2Ports: undefined } : {}) })),
    defaults: {
      ...(mm ? { mainMode: mm.set } : {}),
      ...(qmDefault ? { quickMode: qmDefault.set } : {}),
      ...(authDefault && authDefault.methods.length > 0 ? { authentication: authDefault.methods } : {}),
    },
  };
  const source = items.rules[0]?.file ?? group;
  let policy: NodeIpsecPolicy;
  try {
    policy = validateNodePolicy(JSON.parse(JSON.stringify(data)), source, group);
  } catch (err) {
    throw new InputError(`${(err as Error).message} (read from the Windows IPsec exports of ${group})`);
  }
  return {
    policy,
    sources: {
      rules: [...new Set(items.rules.map((r) => r.file))],
      mainMode: mm ? `${mm.file} (${mm.displayName})` : null,
      quickMode: qmDefault ? `${qmDefault.file} (${qmDefault.displayName})` : null,
      authentication: authDefault ? `${authDefault.file} (${authDefault.displayName})` : null,
    },
    notes,
    weakAuth,
  };
}

function portRange(text: string): { from: number; to: number } {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const from = m ? Number(m[1]) : 0;
  return { from, to: m?.[2] ? Number(m[2]) : from };
}
