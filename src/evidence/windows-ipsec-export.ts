// The inverse of windows-ipsec-reader.ts: what Windows prints for one node of the policy
// model. Used to make example evidence from the simulated cluster's IPsec policy and to test
// that the reader reads back exactly the model it was given. Pure; the shapes are those of
// `Get-NetIPsecRule | Select-Object *, LocalAddress, RemoteAddress | ConvertTo-Json`,
// `Get-NetIPsecMainModeCryptoSet | ConvertTo-Json` (…QuickMode…, …Phase1AuthSet) and
// `netsh advfirewall consec show rule name=all`.
import type { AuthMethod, MainModeProposal, NodeIpsecPolicy, QuickModeProposal } from '../ipsec/policy-model.js';
import { DH, HASH, MM_ENCRYPTION, NETSH_ACTION, PFS, powerShellCipher, SECURITY } from './windows-ipsec.js';

export interface ExportOptions {
  /** Enumerations as names (PowerShell 7 `-EnumsAsStrings`) or numbers (Windows PowerShell 5). */
  enums?: 'names' | 'numbers';
  /** Add PSComputerName (exports taken with Invoke-Command / -CimSession). */
  computerName?: boolean;
}

export const DEFAULT_MM_SET = '{E5A5D32A-4BCE-4e4d-B07F-4AB1BA7E5FE2}';
export const DEFAULT_QM_SET = '{E5A5D32A-4BCE-4e4d-B07F-4AB1BA7E5FE3}';
export const DEFAULT_AUTH_SET = '{E5A5D32A-4BCE-4e4d-B07F-4AB1BA7E5FE1}';

function en(names: readonly string[], value: string, o: ExportOptions): string | number {
  const v = powerShellCipher(value);
  return o.enums === 'numbers' ? names.indexOf(v) : v;
}

function authProposal(m: AuthMethod): Record<string, unknown> {
  return m.kind === 'computer-kerberos' ? { AuthenticationMethod: 'MachineKerberos' } : { AuthenticationMethod: 'MachineCert', Authority: m.caName, AuthorityType: 'Root', Signing: m.signing };
}

function mm(p: MainModeProposal, o: ExportOptions): Record<string, unknown> {
  return { Encryption: en(MM_ENCRYPTION, p.encryption, o), Hash: en(HASH, p.integrity, o), KeyExchange: en(DH, p.keyExchange, o) };
}

function qm(p: QuickModeProposal, o: ExportOptions): Record<string, unknown> {
  const encapsulation = o.enums === 'numbers' ? { ESP: 2, AH: 1, 'AH+ESP': 3 }[p.encapsulation] : p.encapsulation === 'AH+ESP' ? 'AH, ESP' : p.encapsulation;
  return { Encapsulation: encapsulation, Encryption: en(MM_ENCRYPTION, p.espEncryption, o), ESPHash: en(HASH, p.espIntegrity, o), AHHash: en(HASH, p.ahIntegrity, o), MaxMinutes: p.lifetimeMinutes, MaxKiloBytes: p.lifetimeKilobytes };
}

/** The node's rules as one `ConvertTo-Json` document (a list), with the auth sets they use. */
export function ruleExport(node: NodeIpsecPolicy, o: ExportOptions = {}): Record<string, unknown>[] {
  const pc = o.computerName ? { PSComputerName: node.name } : {};
  const out: Record<string, unknown>[] = [];
  node.rules.forEach((r, i) => {
    const authSet = r.authentication.length > 0 ? `{7B2F4C1E-0000-4000-8000-${String(i + 1).padStart(12, '0')}}` : 'Default';
    const profiles = ['domain', 'private', 'public'].filter((p) => r.profiles.includes(p as never));
    out.push({
      Name: `{5C3B8A10-0000-4000-8000-${String(i + 1).padStart(12, '0')}}`,
      IPsecRuleName: `{5C3B8A10-0000-4000-8000-${String(i + 1).padStart(12, '0')}}`,
      DisplayName: r.name,
      Description: '',
      Enabled: o.enums === 'numbers' ? (r.enabled ? 1 : 2) : r.enabled ? 'True' : 'False',
      Profile: o.enums === 'numbers' ? profiles.reduce((n, p) => n | (1 << ['domain', 'private', 'public'].indexOf(p)), 0) : profiles.map((p) => p[0]!.toUpperCase() + p.slice(1)).join(', '),
      Mode: o.enums === 'numbers' ? 1 : 'Transport',
      InboundSecurity: en(SECURITY, r.inbound[0]!.toUpperCase() + r.inbound.slice(1), o),
      OutboundSecurity: en(SECURITY, r.outbound[0]!.toUpperCase() + r.outbound.slice(1), o),
      QuickModeCryptoSet: r.quickMode ? `${r.name} data protection` : 'Default',
      Phase1AuthSet: authSet,
      Phase2AuthSet: 'None',
      KeyModule: o.enums === 'numbers' ? { default: 0, ikev1: 1, authip: 2, ikev2: 4 }[r.keyModule] : { default: 'Default', ikev1: 'IKEv1', authip: 'AuthIP', ikev2: 'IKEv2' }[r.keyModule],
      PolicyStoreSource: 'PersistentStore',
      LocalAddress: r.endpoint1.length === 1 ? r.endpoint1[0] : r.endpoint1,
      RemoteAddress: r.endpoint2.length === 1 ? r.endpoint2[0] : r.endpoint2,
      ...pc,
    });
  });
  return out;
}

export function mainModeExport(node: NodeIpsecPolicy, o: ExportOptions = {}): Record<string, unknown> {
  const s = node.defaults.mainMode;
  return { Name: DEFAULT_MM_SET, DisplayName: 'Default Main Mode Crypto Set', Proposal: s.proposals.map((p) => mm(p, o)), MaxMinutes: s.lifetimeMinutes, MaxSessions: s.lifetimeSessions, ForceDiffieHellman: s.forceDiffieHellman, ...(o.computerName ? { PSComputerName: node.name } : {}) };
}

export function quickModeExport(node: NodeIpsecPolicy, o: ExportOptions = {}): Record<string, unknown>[] {
  const pc = o.computerName ? { PSComputerName: node.name } : {};
  const sets = [{ Name: DEFAULT_QM_SET, DisplayName: 'Default Quick Mode Crypto Set', Proposal: node.defaults.quickMode.proposals.map((p) => qm(p, o)), PerfectForwardSecrecyGroup: en(PFS, node.defaults.quickMode.perfectForwardSecrecy, o), ...pc }];
  for (const r of node.rules) if (r.quickMode) sets.push({ Name: `${r.name} data protection`, DisplayName: `${r.name} data protection`, Proposal: r.quickMode.proposals.map((p) => qm(p, o)), PerfectForwardSecrecyGroup: en(PFS, r.quickMode.perfectForwardSecrecy, o), ...pc });
  return sets;
}

export function authSetExport(node: NodeIpsecPolicy, o: ExportOptions = {}): Record<string, unknown>[] {
  const pc = o.computerName ? { PSComputerName: node.name } : {};
  const sets: Record<string, unknown>[] = [{ Name: DEFAULT_AUTH_SET, DisplayName: 'Default Phase 1 Auth Set', Proposal: node.defaults.authentication.map(authProposal), ...pc }];
  node.rules.forEach((r, i) => {
    if (r.authentication.length > 0) sets.push({ Name: `{7B2F4C1E-0000-4000-8000-${String(i + 1).padStart(12, '0')}}`, DisplayName: `${r.name} authentication`, Proposal: r.authentication.map(authProposal), ...pc });
  });
  return sets;
}

function netshQm(p: QuickModeProposal): string {
  const life = `+${p.lifetimeMinutes}min+${p.lifetimeKilobytes}kb`;
  // netsh writes the model's own cipher names (3DES, not PowerShell's DES3).
  if (p.encapsulation === 'AH') return `AH:${p.ahIntegrity}${life}`;
  if (p.encapsulation === 'AH+ESP') return `AH+ESP:${p.ahIntegrity}-${p.espIntegrity}-${p.espEncryption}${life}`;
  return `ESP:${p.espIntegrity}-${p.espEncryption}${life}`;
}

/** `netsh advfirewall consec show rule name=all` for the node (CRLF, as Windows prints it). */
export function netshConsecText(node: NodeIpsecPolicy): string {
  const row = (k: string, v: string): string => `${`${k}:`.padEnd(38)}${v}`;
  const blocks = node.rules.map((r) => {
    const auth = r.authentication.length > 0 ? r.authentication : node.defaults.authentication;
    const lines = [
      row('Rule Name', r.name),
      '----------------------------------------------------------------------',
      row('Enabled', r.enabled ? 'Yes' : 'No'),
      row('Profiles', r.profiles.length === 3 ? 'Domain,Private,Public' : r.profiles.map((p) => p[0]!.toUpperCase() + p.slice(1)).join(',')),
      row('Type', 'Static'),
      row('Mode', 'Transport'),
      row('Endpoint1', r.endpoint1.map((a) => (a === 'Any' ? 'Any' : /[/-]/.test(a) ? a : `${a}/${a.includes(':') ? 128 : 32}`)).join(',')),
      row('Endpoint2', r.endpoint2.map((a) => (a === 'Any' ? 'Any' : /[/-]/.test(a) ? a : `${a}/${a.includes(':') ? 128 : 32}`)).join(',')),
      row('Port1', 'Any'),
      row('Port2', 'Any'),
      row('Protocol', r.protocol === 'any' ? 'Any' : r.protocol.toUpperCase()),
      row('Action', NETSH_ACTION[`${r.inbound}/${r.outbound}`] ?? 'NoAuthentication'),
      row('Auth1', auth.map((m) => (m.kind === 'computer-kerberos' ? 'ComputerKerb' : 'ComputerCert')).join(',')),
    ];
    const cert = auth.find((m): m is Extract<AuthMethod, { kind: 'computer-certificate' }> => m.kind === 'computer-certificate');
    if (cert) lines.push(row('Auth1CAName', cert.caName), row('Auth1CertMapping', 'No'), row('Auth1ExcludeCAName', 'No'), row('Auth1CertType', 'Root'), row('Auth1HealthCert', 'No'));
    const qmSet = r.quickMode ?? node.defaults.quickMode;
    lines.push(row('QuickModeSecMethods', qmSet.proposals.map(netshQm).join(',')), row('ApplyAuthorization', 'No'));
    return lines.join('\r\n');
  });
  return `\r\n${blocks.join('\r\n\r\n')}\r\nOk.\r\n\r\n`;
}
