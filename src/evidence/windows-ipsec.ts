// Windows IPsec configuration exports (IPSEC-1..4), told apart by content, and the words
// Windows writes in them. The reader that maps them into the policy model
// (src/ipsec/policy-model.ts) is in windows-ipsec-reader.ts, its inverse in windows-ipsec-export.ts.
import type { Requirement } from '../ipsec/policy-model.js';
import { isObject } from './json-doc.js';

// ---------------------------------------------------------------- PowerShell and netsh vocabulary

// The NetSecurity module's enumerations, names in their documented value order: Windows
// PowerShell 5 writes an enum as its number (the index here), PowerShell 7 -EnumsAsStrings as its name.
export const MM_ENCRYPTION = ['None', 'DES', 'DES3', 'AES128', 'AES192', 'AES256', 'AESGCM128', 'AESGCM192', 'AESGCM256'] as const;
export const HASH = ['None', 'MD5', 'SHA1', 'SHA256', 'SHA384', 'AESGMAC128', 'AESGMAC192', 'AESGMAC256'] as const;
export const DH = ['None', 'DH1', 'DH2', 'DH14', 'DH19', 'DH20', 'DH24'] as const;
export const PFS = ['None', 'DH1', 'DH2', 'DH14', 'DH19', 'DH20', 'DH24', 'SameAsMainMode'] as const;
export const SECURITY = ['None', 'Request', 'Require'] as const;

/** The model writes 3DES; PowerShell writes DES3. */
export const modelCipher = (v: string): string => (v === 'DES3' ? '3DES' : v);
export const powerShellCipher = (v: string): string => (v === '3DES' ? 'DES3' : v);

/** A Windows word as compared: any case, without white space, underscores or dashes. */
export const normWord = (s: string): string => s.toLowerCase().replace(/[\s_-]/g, '');

/** The enum name `v` stands for (any case; 3DES for DES3), or undefined. Pure. */
export function enumName<T extends string>(names: readonly T[], v: string): T | undefined {
  return names.find((n) => normWord(n) === normWord(v) || (n === 'DES3' && normWord(v) === '3des'));
}

/** netsh's consec rule Action for each inbound/outbound requirement pair it has a word for. */
export const NETSH_ACTION: Readonly<Record<string, string>> = {
  'require/require': 'RequireInRequireOut',
  'require/request': 'RequireInRequestOut',
  'request/request': 'RequestInRequestOut',
  'request/require': 'RequestInRequireOut',
  'require/none': 'RequireInClearOut',
  'none/none': 'NoAuthentication',
};

/** The inverse of NETSH_ACTION: an Action (as normWord gives it) to its [inbound, outbound] requirements. */
export const NETSH_REQUIREMENTS: Readonly<Record<string, [Requirement, Requirement]>> = Object.fromEntries(
  Object.entries(NETSH_ACTION).map(([pair, action]) => [normWord(action), pair.split('/') as [Requirement, Requirement]]),
);

// ---------------------------------------------------------------- which export a file is

export type WindowsIpsecExportKind = 'Get-NetIPsecRule' | 'Get-NetIPsecMainModeCryptoSet' | 'Get-NetIPsecQuickModeCryptoSet' | 'Get-NetIPsecPhase1AuthSet' | 'Get-NetFirewallAddressFilter' | 'NetIPsec export';

/** `netsh advfirewall consec show rule name=all` output: "Rule Name:" blocks with Endpoint1/Endpoint2 and Action. Pure. */
export function looksLikeNetshConsec(head: string): boolean {
  return /^Rule Name:\s*\S/m.test(head) && /^Endpoint1:\s*\S/m.test(head) && /^(Action|Endpoint2):\s*\S/m.test(head);
}

function kindOfObject(o: Record<string, unknown>): WindowsIpsecExportKind | undefined {
  const has = (k: string): boolean => k in o;
  if ((has('InboundSecurity') || has('OutboundSecurity')) && (has('DisplayName') || has('IPsecRuleName') || has('Name'))) return 'Get-NetIPsecRule';
  if (has('Proposal') && (has('ForceDiffieHellman') || has('MaxSessions'))) return 'Get-NetIPsecMainModeCryptoSet';
  if (has('Proposal') && has('PerfectForwardSecrecyGroup')) return 'Get-NetIPsecQuickModeCryptoSet';
  if (has('Proposal') && Array.isArray(o.Proposal) && o.Proposal.some((p) => isObject(p) && ('AuthenticationMethod' in p || 'Authority' in p))) return 'Get-NetIPsecPhase1AuthSet';
  if (has('Proposal') && isObject(o.Proposal) && ('AuthenticationMethod' in o.Proposal || 'Authority' in o.Proposal)) return 'Get-NetIPsecPhase1AuthSet';
  if (has('InstanceID') && (has('LocalAddress') || has('RemoteAddress')) && !has('Proposal')) return 'Get-NetFirewallAddressFilter';
  return undefined;
}

/**
 * Which PowerShell NetIPsec export a parsed JSON document is (`ConvertTo-Json` of one object
 * or a list), or undefined. A `{"node": …, "rules": …}` bundle of several exports is one too.
 */
export function windowsIpsecShape(doc: unknown): WindowsIpsecExportKind | undefined {
  const items = Array.isArray(doc) ? doc : [doc];
  if (items.length === 0) return undefined;
  const kinds = new Set<WindowsIpsecExportKind>();
  for (const it of items) {
    if (!isObject(it)) return undefined;
    const k = kindOfObject(it);
    if (!k) return undefined;
    kinds.add(k);
  }
  return kinds.size === 1 ? [...kinds][0] : 'NetIPsec export';
}

/**
 * The simulated cluster's own IPsec configuration file (`<cluster>/network/ipsec-policy.json`,
 * the policy model as JSON: `{"nodes": [{"name", "addresses", "rules", …}]}`): the same facts a
 * Windows export gives, for auditing the simulator's evidence. Pure.
 */
export function looksLikeIpsecPolicyModel(doc: unknown): boolean {
  if (!isObject(doc) || !Array.isArray(doc.nodes) || doc.nodes.length === 0) return false;
  return doc.nodes.every((n) => isObject(n) && typeof n.name === 'string' && Array.isArray(n.addresses) && ('rules' in n || 'defaults' in n));
}
