// Windows IPsec configuration exports (IPSEC-1..4), told apart by content. The reader that
// maps them into the policy model (src/ipsec/policy-model.ts) is in windows-ipsec-reader.ts.
import { isObject } from './json-doc.js';

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
