// The IPsec policy of a cluster, in the words an administrator sees in Windows Firewall with
// Advanced Security (and in New-NetIPsecRule / New-NetIPsecMainModeCryptoSet /
// New-NetIPsecQuickModeCryptoSet): per node, its connection security rules and its IPsec
// defaults (main-mode and quick-mode crypto sets). A real exported configuration is read
// into this same model, so it holds no simulator concerns (no wire, no seeds, no NAT) and
// does no I/O. `validateClusterPolicy` turns untrusted JSON/YAML data into the model or
// throws one InputError naming the field path and what was expected.
import { InputError } from '../util/errors.js';
import { isSingleAddress, parseAddressEntry } from './address-list.js';

// ------------------------------------------------------------------------ vocabulary

/** Rule requirement for one direction ("Request authentication", "Require authentication", or none). */
export type Requirement = 'none' | 'request' | 'require';
export const REQUIREMENTS: readonly Requirement[] = ['none', 'request', 'require'];

/** Windows Firewall network profiles; a rule applies when the node's active profile is among its profiles. */
export type FirewallProfile = 'domain' | 'private' | 'public';
export const PROFILES: readonly FirewallProfile[] = ['domain', 'private', 'public'];

/** Rule types of the New Connection Security Rule wizard; only server-to-server and custom carry traffic requirements here. */
export type RuleType = 'server-to-server' | 'isolation' | 'custom';
export const RULE_TYPES: readonly RuleType[] = ['server-to-server', 'isolation', 'custom'];

/** Keying module of a rule (New-NetIPsecRule -KeyModule). Default is IKEv1 main mode (with AuthIP between Windows peers). */
export type KeyModule = 'default' | 'ikev1' | 'ikev2' | 'authip';
export const KEY_MODULES: readonly KeyModule[] = ['default', 'ikev1', 'ikev2', 'authip'];

/** First authentication method ("Computer certificate from this certification authority", or "Computer (Kerberos V5)"). */
export type AuthMethod =
  | { kind: 'computer-certificate'; caName: string; signing: CertificateSigning }
  | { kind: 'computer-kerberos' };
export type CertificateSigning = 'RSA' | 'ECDSA256' | 'ECDSA384';
export const CERTIFICATE_SIGNING: readonly CertificateSigning[] = ['RSA', 'ECDSA256', 'ECDSA384'];

/** Main mode (key exchange) integrity, as the Customize Advanced Key Exchange Settings dialog lists them. */
export type MainModeIntegrity = 'MD5' | 'SHA1' | 'SHA256' | 'SHA384';
export const MAIN_MODE_INTEGRITY: readonly MainModeIntegrity[] = ['MD5', 'SHA1', 'SHA256', 'SHA384'];

/** Main mode encryption. AES-GCM is only negotiable with IKEv2 (IKEv1 phase 1 has no GCM value). */
export type MainModeEncryption = 'DES' | '3DES' | 'AES128' | 'AES192' | 'AES256' | 'AESGCM128' | 'AESGCM192' | 'AESGCM256';
export const MAIN_MODE_ENCRYPTION: readonly MainModeEncryption[] = ['DES', '3DES', 'AES128', 'AES192', 'AES256', 'AESGCM128', 'AESGCM192', 'AESGCM256'];

/** Key exchange algorithm (Diffie-Hellman group): DH19/DH20 are the elliptic-curve P-256/P-384 groups. */
export type KeyExchange = 'DH1' | 'DH2' | 'DH14' | 'DH19' | 'DH20' | 'DH24';
export const KEY_EXCHANGE: readonly KeyExchange[] = ['DH1', 'DH2', 'DH14', 'DH19', 'DH20', 'DH24'];

/** Quick mode (data protection) protocols of one proposal. */
export type Encapsulation = 'ESP' | 'AH' | 'AH+ESP';
export const ENCAPSULATIONS: readonly Encapsulation[] = ['ESP', 'AH', 'AH+ESP'];

/** Quick mode ESP encryption; 'None' is an integrity-only (ESP-NULL) proposal. */
export type QuickModeEncryption = 'None' | 'DES' | '3DES' | 'AES128' | 'AES192' | 'AES256' | 'AESGCM128' | 'AESGCM192' | 'AESGCM256';
export const QUICK_MODE_ENCRYPTION: readonly QuickModeEncryption[] = ['None', 'DES', '3DES', 'AES128', 'AES192', 'AES256', 'AESGCM128', 'AESGCM192', 'AESGCM256'];

/** Quick mode integrity (ESP or AH); AES-GMAC pairs with the AES-GCM cipher of the same size. */
export type QuickModeIntegrity = 'None' | 'MD5' | 'SHA1' | 'SHA256' | 'SHA384' | 'AESGMAC128' | 'AESGMAC192' | 'AESGMAC256';
export const QUICK_MODE_INTEGRITY: readonly QuickModeIntegrity[] = ['None', 'MD5', 'SHA1', 'SHA256', 'SHA384', 'AESGMAC128', 'AESGMAC192', 'AESGMAC256'];

/** Perfect forward secrecy of quick mode: none, a group, or the main mode's group. */
export type PfsGroup = 'None' | KeyExchange | 'SameAsMainMode';
export const PFS_GROUPS: readonly PfsGroup[] = ['None', ...KEY_EXCHANGE, 'SameAsMainMode'];

export type RuleProtocol = 'any' | 'tcp' | 'udp';
export const RULE_PROTOCOLS: readonly RuleProtocol[] = ['any', 'tcp', 'udp'];

// ------------------------------------------------------------------------ model

/** A port or a port range ("8060", "27000-27009"), inclusive. */
export interface PortRange {
  from: number;
  to: number;
}

/** One connection security rule (Connection Security Rules node of the console). */
export interface ConnectionSecurityRule {
  name: string;
  enabled: boolean;
  type: RuleType;
  /** Endpoint 1 (for the seed's set-up: this node). Entries: "Any", IPs, CIDRs, a-b ranges. */
  endpoint1: string[];
  /** Endpoint 2 (for the seed's set-up: every other node this node talks to). */
  endpoint2: string[];
  /** Requirement for connections this node accepts. */
  inbound: Requirement;
  /** Requirement for connections this node opens. */
  outbound: Requirement;
  /** First authentication methods in preference order; empty = use the IPsec defaults' methods. */
  authentication: AuthMethod[];
  /** Profiles the rule applies in (the seed selects all three). */
  profiles: FirewallProfile[];
  /** Protocol and ports (custom rules only; server-to-server rules cover any protocol). */
  protocol: RuleProtocol;
  endpoint1Ports: PortRange[];
  endpoint2Ports: PortRange[];
  keyModule: KeyModule;
  /** A rule-specific quick mode crypto set; absent = the IPsec defaults' data protection. */
  quickMode?: QuickModeCryptoSet;
}

export interface MainModeProposal {
  integrity: MainModeIntegrity;
  encryption: MainModeEncryption;
  keyExchange: KeyExchange;
}

/** Key exchange (main mode) settings of the IPsec defaults. */
export interface MainModeCryptoSet {
  /** In preference order (the dialog's "Security methods" list, top first). */
  proposals: MainModeProposal[];
  /** Key lifetime in minutes (Windows default 480). */
  lifetimeMinutes: number;
  /** Key lifetime in sessions (Windows default 0 = unlimited). */
  lifetimeSessions: number;
  /** "Use Diffie-Hellman for enhanced security" (the seed turns it on). */
  forceDiffieHellman: boolean;
}

export interface QuickModeProposal {
  encapsulation: Encapsulation;
  /** ESP encryption; 'None' (ESP-NULL) only for integrity-only proposals. Ignored for AH. */
  espEncryption: QuickModeEncryption;
  /** ESP integrity; 'None' is allowed only with an AES-GCM cipher. Ignored for AH. */
  espIntegrity: QuickModeIntegrity;
  /** AH integrity (AH and AH+ESP proposals). */
  ahIntegrity: QuickModeIntegrity;
  /** Key lifetime in minutes (Windows default 60) and kilobytes (default 100 000). */
  lifetimeMinutes: number;
  lifetimeKilobytes: number;
}

/** Data protection (quick mode) settings. */
export interface QuickModeCryptoSet {
  /** "Require encryption for all connection security rules that use these settings". */
  requireEncryption: boolean;
  perfectForwardSecrecy: PfsGroup;
  /** In preference order; integrity-only proposals are not offered when requireEncryption is set. */
  proposals: QuickModeProposal[];
}

/** IPsec defaults (Windows Firewall Properties → IPsec Settings → Customize). */
export interface IpsecDefaults {
  mainMode: MainModeCryptoSet;
  quickMode: QuickModeCryptoSet;
  /** Default first authentication methods (Windows default: Computer Kerberos V5). */
  authentication: AuthMethod[];
}

/** What a node can prove about itself: its computer certificates and its Kerberos domain. */
export interface NodeCredentials {
  /** Issuing CA of each computer certificate in the node's store (the root it chains to). */
  certificateIssuers: string[];
  /** Active Directory domain the node is joined to, if any. */
  kerberosDomain?: string;
}

/** One node's IPsec configuration. */
export interface NodeIpsecPolicy {
  name: string;
  /** The node's own addresses. */
  addresses: string[];
  /** Profile of the network the cluster traffic uses. */
  activeProfile: FirewallProfile;
  rules: ConnectionSecurityRule[];
  defaults: IpsecDefaults;
  credentials: NodeCredentials;
}

export interface ClusterIpsecPolicy {
  nodes: NodeIpsecPolicy[];
}

// ------------------------------------------------------------------------ well-known sets

/** Windows' own IPsec defaults (what a node has before anyone customises them). */
export function windowsDefaultMainMode(): MainModeCryptoSet {
  return {
    proposals: [
      { integrity: 'SHA1', encryption: 'AES128', keyExchange: 'DH2' },
      { integrity: 'SHA1', encryption: '3DES', keyExchange: 'DH2' },
    ],
    lifetimeMinutes: 480,
    lifetimeSessions: 0,
    forceDiffieHellman: false,
  };
}

export function windowsDefaultQuickMode(): QuickModeCryptoSet {
  return {
    requireEncryption: false,
    perfectForwardSecrecy: 'None',
    proposals: [
      qm('ESP', 'AES128', 'SHA1'),
      qm('ESP', '3DES', 'SHA1'),
      qm('ESP', 'None', 'SHA1'),
      { ...qm('AH', 'None', 'None'), ahIntegrity: 'SHA1' },
    ],
  };
}

/** The seed's customised key exchange: SHA-256, AES-CBC 256, Diffie-Hellman for enhanced security. */
export function seedMainMode(): MainModeCryptoSet {
  return {
    proposals: [{ integrity: 'SHA256', encryption: 'AES256', keyExchange: 'DH14' }],
    lifetimeMinutes: 480,
    lifetimeSessions: 0,
    forceDiffieHellman: true,
  };
}

/** The seed's data protection: require encryption, AES-CBC 256 at the top. */
export function seedQuickMode(): QuickModeCryptoSet {
  return {
    requireEncryption: true,
    perfectForwardSecrecy: 'None',
    proposals: [qm('ESP', 'AES256', 'SHA256'), qm('ESP', 'AESGCM256', 'AESGMAC256')],
  };
}

/** A quick-mode proposal with Windows' default lifetimes. */
export function qm(encapsulation: Encapsulation, espEncryption: QuickModeEncryption, espIntegrity: QuickModeIntegrity, ahIntegrity: QuickModeIntegrity = 'None'): QuickModeProposal {
  return { encapsulation, espEncryption, espIntegrity, ahIntegrity, lifetimeMinutes: 60, lifetimeKilobytes: 100_000 };
}

/** Does this proposal encrypt (ESP with a cipher)? */
export function proposalEncrypts(p: QuickModeProposal): boolean {
  return p.encapsulation !== 'AH' && p.espEncryption !== 'None';
}

/** Proposals a quick-mode set actually offers/accepts: with "require encryption", only encrypting ones. */
export function offeredQuickModeProposals(set: QuickModeCryptoSet): QuickModeProposal[] {
  return set.requireEncryption ? set.proposals.filter(proposalEncrypts) : set.proposals.slice();
}

/** Human wording of proposals, as the dialogs list them. */
export function describeMainModeProposal(p: MainModeProposal): string {
  return `${p.integrity}/${p.encryption}/${p.keyExchange}`;
}

export function describeQuickModeProposal(p: QuickModeProposal): string {
  switch (p.encapsulation) {
    case 'AH': return `AH ${p.ahIntegrity}`;
    case 'ESP': return `ESP ${p.espEncryption}/${p.espIntegrity}`;
    case 'AH+ESP': return `AH ${p.ahIntegrity} + ESP ${p.espEncryption}/${p.espIntegrity}`;
  }
}

export function describeAuthMethod(m: AuthMethod): string {
  return m.kind === 'computer-kerberos' ? 'Computer (Kerberos V5)' : `computer certificate from "${m.caName}" (${m.signing})`;
}

// ------------------------------------------------------------------------ validation

/**
 * Checks untrusted data (parsed JSON/YAML, or an importer's output) and returns the typed
 * model with defaults filled in. Throws InputError `<source>: <path>: <what was expected>`.
 * Optional fields and their defaults follow Windows: a rule is enabled, applies in all
 * profiles, covers any protocol and uses the default key module; a node's IPsec defaults
 * are Windows' own (SHA-1/AES-128/DH2 main mode) unless given.
 */
export function validateClusterPolicy(input: unknown, source = 'policy'): ClusterIpsecPolicy {
  const v = new Validator(source);
  const root = v.object(input, '');
  const nodesRaw = v.array(root['nodes'], 'nodes', 1);
  const nodes = nodesRaw.map((n, i) => v.node(n, `nodes[${i}]`));
  const seenNames = new Set<string>();
  const seenAddresses = new Map<string, string>();
  nodes.forEach((n, i) => {
    const key = n.name.toLowerCase();
    if (seenNames.has(key)) v.fail(`nodes[${i}].name`, `a unique node name, "${n.name}" is used twice`);
    seenNames.add(key);
    n.addresses.forEach((a, j) => {
      const owner = seenAddresses.get(a);
      if (owner !== undefined) v.fail(`nodes[${i}].addresses[${j}]`, `an address no other node has, "${a}" is also ${owner}'s`);
      seenAddresses.set(a, n.name);
    });
  });
  return { nodes };
}

/** Validates one node's data (for importers that read one node's export at a time). */
export function validateNodePolicy(input: unknown, source = 'policy', path = ''): NodeIpsecPolicy {
  return new Validator(source).node(input, path);
}

type Obj = Record<string, unknown>;

class Validator {
  constructor(private readonly source: string) {}

  fail(path: string, expected: string): never {
    throw new InputError(`${this.source}: ${path === '' ? '(top level)' : path}: expected ${expected}`);
  }

  object(x: unknown, path: string): Obj {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) this.fail(path, `an object, found ${describe(x)}`);
    return x as Obj;
  }

  array(x: unknown, path: string, min = 0): unknown[] {
    if (!Array.isArray(x)) this.fail(path, `a list, found ${describe(x)}`);
    if (x.length < min) this.fail(path, `at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
    return x;
  }

  string(x: unknown, path: string): string {
    if (typeof x !== 'string' || x.trim() === '') this.fail(path, `a non-empty string, found ${describe(x)}`);
    return x.trim();
  }

  bool(x: unknown, path: string, dflt: boolean): boolean {
    if (x === undefined) return dflt;
    if (typeof x !== 'boolean') this.fail(path, `true or false, found ${describe(x)}`);
    return x;
  }

  int(x: unknown, path: string, dflt: number, min: number, max: number): number {
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) this.fail(path, `an integer ${min}..${max}, found ${describe(x)}`);
    return x;
  }

  /** One of a fixed vocabulary; matching ignores case, '-', '_' and spaces ("AES-CBC 256" is not accepted: names are Windows' PowerShell names). */
  oneOf<T extends string>(x: unknown, path: string, allowed: readonly T[], dflt?: T): T {
    if (x === undefined && dflt !== undefined) return dflt;
    if (typeof x === 'string') {
      const norm = (s: string): string => s.toLowerCase().replace(/[\s_-]/g, '');
      const hit = allowed.find((a) => norm(a) === norm(x));
      if (hit !== undefined) return hit;
    }
    this.fail(path, `one of ${allowed.join(', ')}, found ${describe(x)}`);
  }

  node(x: unknown, path: string): NodeIpsecPolicy {
    const o = this.object(x, path);
    const name = this.string(o['name'], `${path}.name`);
    const addresses = this.array(o['addresses'], `${path}.addresses`, 1).map((a, i) => {
      const s = this.string(a, `${path}.addresses[${i}]`);
      if (!isSingleAddress(s)) this.fail(`${path}.addresses[${i}]`, `a single IPv4 or IPv6 address, found "${s}"`);
      return s;
    });
    const activeProfile = this.oneOf(o['activeProfile'], `${path}.activeProfile`, PROFILES, 'domain');
    const defaultsRaw = o['defaults'] === undefined ? {} : this.object(o['defaults'], `${path}.defaults`);
    const defaults: IpsecDefaults = {
      mainMode: defaultsRaw['mainMode'] === undefined ? windowsDefaultMainMode() : this.mainMode(defaultsRaw['mainMode'], `${path}.defaults.mainMode`),
      quickMode: defaultsRaw['quickMode'] === undefined ? windowsDefaultQuickMode() : this.quickMode(defaultsRaw['quickMode'], `${path}.defaults.quickMode`),
      authentication: defaultsRaw['authentication'] === undefined
        ? [{ kind: 'computer-kerberos' }]
        : this.array(defaultsRaw['authentication'], `${path}.defaults.authentication`, 1).map((m, i) => this.auth(m, `${path}.defaults.authentication[${i}]`)),
    };
    const rules = (o['rules'] === undefined ? [] : this.array(o['rules'], `${path}.rules`)).map((r, i) => this.rule(r, `${path}.rules[${i}]`));
    const ruleNames = new Set<string>();
    rules.forEach((r, i) => {
      if (ruleNames.has(r.name)) this.fail(`${path}.rules[${i}].name`, `a rule name unique on the node, "${r.name}" is used twice`);
      ruleNames.add(r.name);
    });
    const credRaw = o['credentials'] === undefined ? {} : this.object(o['credentials'], `${path}.credentials`);
    const credentials: NodeCredentials = {
      certificateIssuers: (credRaw['certificateIssuers'] === undefined ? [] : this.array(credRaw['certificateIssuers'], `${path}.credentials.certificateIssuers`))
        .map((c, i) => this.string(c, `${path}.credentials.certificateIssuers[${i}]`)),
    };
    if (credRaw['kerberosDomain'] !== undefined) credentials.kerberosDomain = this.string(credRaw['kerberosDomain'], `${path}.credentials.kerberosDomain`);
    return { name, addresses, activeProfile, rules, defaults, credentials };
  }

  rule(x: unknown, path: string): ConnectionSecurityRule {
    const o = this.object(x, path);
    const addressList = (key: string): string[] => this.array(o[key], `${path}.${key}`, 1).map((a, i) => {
      const s = this.string(a, `${path}.${key}[${i}]`);
      const parsed = parseAddressEntry(s);
      if (typeof parsed === 'string') this.fail(`${path}.${key}[${i}]`, `${parsed.replace(/^expected /, '')}, found "${s}"`);
      return parsed.text;
    });
    const protocol = this.oneOf(o['protocol'], `${path}.protocol`, RULE_PROTOCOLS, 'any');
    const ports = (key: string): PortRange[] => {
      if (o[key] === undefined) return [];
      const listed = this.array(o[key], `${path}.${key}`);
      if (listed.length === 0) return [];
      if (protocol === 'any') this.fail(`${path}.${key}`, 'no ports unless protocol is tcp or udp (Windows allows ports only for TCP/UDP rules)');
      return listed.map((p, i) => this.port(p, `${path}.${key}[${i}]`));
    };
    const rule: ConnectionSecurityRule = {
      name: this.string(o['name'], `${path}.name`),
      enabled: this.bool(o['enabled'], `${path}.enabled`, true),
      type: this.oneOf(o['type'], `${path}.type`, RULE_TYPES, 'server-to-server'),
      endpoint1: addressList('endpoint1'),
      endpoint2: addressList('endpoint2'),
      inbound: this.oneOf(o['inbound'], `${path}.inbound`, REQUIREMENTS),
      outbound: this.oneOf(o['outbound'], `${path}.outbound`, REQUIREMENTS),
      authentication: (o['authentication'] === undefined ? [] : this.array(o['authentication'], `${path}.authentication`))
        .map((m, i) => this.auth(m, `${path}.authentication[${i}]`)),
      profiles: o['profiles'] === undefined
        ? [...PROFILES]
        : this.array(o['profiles'], `${path}.profiles`, 1).map((p, i) => this.oneOf(p, `${path}.profiles[${i}]`, PROFILES)),
      protocol,
      endpoint1Ports: ports('endpoint1Ports'),
      endpoint2Ports: ports('endpoint2Ports'),
      keyModule: this.oneOf(o['keyModule'], `${path}.keyModule`, KEY_MODULES, 'default'),
    };
    if (o['quickMode'] !== undefined) rule.quickMode = this.quickMode(o['quickMode'], `${path}.quickMode`);
    return rule;
  }

  port(x: unknown, path: string): PortRange {
    const text = typeof x === 'number' ? String(x) : x;
    if (typeof text === 'string') {
      const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text.trim());
      if (m) {
        const from = Number(m[1]);
        const to = m[2] === undefined ? from : Number(m[2]);
        if (from >= 1 && to <= 65535 && from <= to) return { from, to };
      }
    }
    this.fail(path, `a port 1..65535 or a range such as "27000-27009", found ${describe(x)}`);
  }

  auth(x: unknown, path: string): AuthMethod {
    const o = this.object(x, path);
    const kind = this.oneOf(o['kind'], `${path}.kind`, ['computer-certificate', 'computer-kerberos'] as const);
    if (kind === 'computer-kerberos') return { kind };
    return {
      kind,
      caName: this.string(o['caName'], `${path}.caName`),
      signing: this.oneOf(o['signing'], `${path}.signing`, CERTIFICATE_SIGNING, 'RSA'),
    };
  }

  mainMode(x: unknown, path: string): MainModeCryptoSet {
    const o = this.object(x, path);
    const proposals = this.array(o['proposals'], `${path}.proposals`, 1).map((p, i) => {
      const q = this.object(p, `${path}.proposals[${i}]`);
      return {
        integrity: this.oneOf(q['integrity'], `${path}.proposals[${i}].integrity`, MAIN_MODE_INTEGRITY),
        encryption: this.oneOf(q['encryption'], `${path}.proposals[${i}].encryption`, MAIN_MODE_ENCRYPTION),
        keyExchange: this.oneOf(q['keyExchange'], `${path}.proposals[${i}].keyExchange`, KEY_EXCHANGE),
      };
    });
    return {
      proposals,
      // Windows' dialog bounds: 1..2880 minutes, 0..2147483647 sessions.
      lifetimeMinutes: this.int(o['lifetimeMinutes'], `${path}.lifetimeMinutes`, 480, 1, 2880),
      lifetimeSessions: this.int(o['lifetimeSessions'], `${path}.lifetimeSessions`, 0, 0, 2147483647),
      forceDiffieHellman: this.bool(o['forceDiffieHellman'], `${path}.forceDiffieHellman`, false),
    };
  }

  quickMode(x: unknown, path: string): QuickModeCryptoSet {
    const o = this.object(x, path);
    const requireEncryption = this.bool(o['requireEncryption'], `${path}.requireEncryption`, false);
    const proposals = this.array(o['proposals'], `${path}.proposals`, 1).map((p, i) => this.quickModeProposal(p, `${path}.proposals[${i}]`));
    const set: QuickModeCryptoSet = {
      requireEncryption,
      perfectForwardSecrecy: this.oneOf(o['perfectForwardSecrecy'], `${path}.perfectForwardSecrecy`, PFS_GROUPS, 'None'),
      proposals,
    };
    if (requireEncryption && offeredQuickModeProposals(set).length === 0) {
      this.fail(`${path}.proposals`, 'at least one ESP proposal with encryption when requireEncryption is true (integrity-only proposals are not offered then)');
    }
    return set;
  }

  quickModeProposal(x: unknown, path: string): QuickModeProposal {
    const q = this.object(x, path);
    const encapsulation = this.oneOf(q['encapsulation'], `${path}.encapsulation`, ENCAPSULATIONS);
    const p: QuickModeProposal = {
      encapsulation,
      espEncryption: this.oneOf(q['espEncryption'], `${path}.espEncryption`, QUICK_MODE_ENCRYPTION, 'None'),
      espIntegrity: this.oneOf(q['espIntegrity'], `${path}.espIntegrity`, QUICK_MODE_INTEGRITY, 'None'),
      ahIntegrity: this.oneOf(q['ahIntegrity'], `${path}.ahIntegrity`, QUICK_MODE_INTEGRITY, 'None'),
      lifetimeMinutes: this.int(q['lifetimeMinutes'], `${path}.lifetimeMinutes`, 60, 5, 2880),
      lifetimeKilobytes: this.int(q['lifetimeKilobytes'], `${path}.lifetimeKilobytes`, 100_000, 20_480, 2147483647),
    };
    if (encapsulation !== 'ESP' && p.ahIntegrity === 'None') this.fail(`${path}.ahIntegrity`, 'an AH integrity algorithm (AH proposals always carry one)');
    if (encapsulation !== 'AH') {
      const gcm = p.espEncryption.startsWith('AESGCM');
      const gmac = p.espIntegrity.startsWith('AESGMAC');
      if (p.espEncryption === 'None' && p.espIntegrity === 'None') this.fail(`${path}.espIntegrity`, 'an integrity algorithm when espEncryption is None (ESP with neither protects nothing)');
      if (gcm && p.espIntegrity !== 'None' && p.espIntegrity !== `AESGMAC${p.espEncryption.slice(6)}`) {
        this.fail(`${path}.espIntegrity`, `AESGMAC${p.espEncryption.slice(6)} (or None) with ${p.espEncryption}, as Windows pairs them, found ${p.espIntegrity}`);
      }
      if (!gcm && gmac && p.espEncryption !== 'None') this.fail(`${path}.espIntegrity`, `an HMAC integrity with ${p.espEncryption} (AES-GMAC pairs only with AES-GCM or None), found ${p.espIntegrity}`);
      if (!gcm && p.espEncryption !== 'None' && p.espIntegrity === 'None') this.fail(`${path}.espIntegrity`, `an integrity algorithm with ${p.espEncryption} (only AES-GCM carries its own)`);
    }
    return p;
  }
}

function describe(x: unknown): string {
  if (x === undefined) return 'nothing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'string') return `"${x.length > 60 ? `${x.slice(0, 57)}...` : x}"`;
  if (typeof x === 'object') return 'an object';
  return String(x);
}
