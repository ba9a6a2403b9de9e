// IPsec configuration evidence in an audit: Windows exports (PowerShell ConvertTo-Json and
// netsh text) grouped per node and read into the policy model, then the configuration
// checks and the cross-checks with the capture.
//
// Which node an export is from: the objects' PSComputerName, else the folder the file is in
// (e.g. `node1/ipsec-rules.json`). Exports of several nodes in one folder without
// PSComputerName are told apart by each rule's endpoint 1 (this node, per IPSEC-1); crypto
// and auth sets in such a folder are then shared by those nodes, and the report says so.
import { dirname } from 'node:path';
import type { CaptureJudgement } from '../compliance/capture-judge.js';
import type { NodeSet } from '../compliance/node-set.js';
import type { RuleContext } from '../compliance/rule-kit.js';
import { ipsecMainModeCheck, ipsecQuickModeCheck, ipsecRulesCheck, type NodeConfigEvidence } from '../compliance/rules/ipsec-config.js';
import { ipsecProposalsAllowedCheck, ipsecRuleCoverageCheck } from '../compliance/rules/ipsec-cross.js';
import { readTextFile } from '../evidence/text-source.js';
import { buildNodePolicy, emptyItems, parseNetshConsec, readPowerShellIpsecExport, type WindowsIpsecItems } from '../evidence/windows-ipsec-reader.js';
import { isSingleAddress } from '../ipsec/address-list.js';
import { validateClusterPolicy } from '../ipsec/policy-model.js';
import { InputError } from '../util/errors.js';
import type { Check } from '../report/model.js';
import type { EvidenceFile } from './discover.js';

export interface IpsecEvidence {
  files: string[];
  nodes: NodeConfigEvidence[];
  /** Node addresses the exports name (endpoint 1 of each node's rules). */
  nodeAddresses: string[];
}

function groupOf(rel: string): string {
  const d = dirname(rel);
  return d === '.' ? '(folder)' : d.split('/').pop()!;
}

/** Splits a group whose rules name several different nodes as endpoint 1 (exports of several nodes in one place). */
function splitByEndpoint1(group: string, items: WindowsIpsecItems): [string, WindowsIpsecItems, string[]][] {
  const own = (r: WindowsIpsecItems['rules'][number]): string | undefined => r.endpoint1?.find(isSingleAddress);
  const addresses = [...new Set(items.rules.map(own).filter((a): a is string => a !== undefined))];
  if (addresses.length <= 1) return [[group, items, []]];
  return addresses.map((a) => {
    const name = group === '(folder)' ? `node ${a}` : `${group} ${a}`;
    const sub: WindowsIpsecItems = { ...items, rules: items.rules.filter((r) => own(r) === a) };
    return [name, sub, [`exports of several nodes in "${group}": rules with endpoint 1 ${a} judged as one node; the crypto and authentication sets there are judged as shared by ${addresses.length} nodes`]];
  });
}

export async function readIpsecEvidence(files: readonly EvidenceFile[]): Promise<IpsecEvidence> {
  const mine = files.filter((f) => f.kind === 'windows-ipsec-json' || f.kind === 'netsh-consec' || f.kind === 'ipsec-policy-model');
  const groups = new Map<string, WindowsIpsecItems>();
  const itemsOf = (g: string): WindowsIpsecItems => {
    let it = groups.get(g);
    if (!it) {
      it = emptyItems();
      groups.set(g, it);
    }
    return it;
  };
  const nodes: NodeConfigEvidence[] = [];
  for (const f of mine) {
    const g = groupOf(f.rel);
    if (f.kind === 'ipsec-policy-model') {
      // The simulator's configuration file: every node, every part, already in the model.
      let model;
      try {
        model = validateClusterPolicy(f.json, f.rel);
      } catch (err) {
        throw new InputError((err as Error).message);
      }
      for (const policy of model.nodes) nodes.push({ policy, sources: { rules: [f.rel], mainMode: f.rel, quickMode: f.rel, authentication: f.rel }, notes: [], weakAuth: [] });
      continue;
    }
    if (f.kind === 'netsh-consec') parseNetshConsec((await readTextFile(f.path, 16 << 20)).text, f.rel, g, itemsOf(g));
    else {
      // PSComputerName may send objects of one file to several nodes.
      const read = readPowerShellIpsecExport(f.json, f.rel, g);
      for (const k of ['rules', 'mainMode', 'quickMode', 'auth', 'addressFilters'] as const) {
        for (const item of read[k]) (itemsOf(item.group)[k] as (typeof item)[]).push(item);
      }
    }
  }
  for (const [g, items] of groups) {
    if (items.rules.length === 0) continue; // crypto sets alone say nothing about which node they configure
    for (const [name, sub, notes] of splitByEndpoint1(g, items)) {
      const built = buildNodePolicy(name, sub);
      nodes.push({ ...built, notes: [...notes, ...built.notes] });
    }
  }
  const orphans = [...groups].filter(([, it]) => it.rules.length === 0);
  for (const [g] of orphans) {
    for (const n of nodes) n.notes.push(`crypto or authentication sets in "${g}" without any rule were not attributed to a node`);
  }
  nodes.sort((a, b) => a.policy.name.localeCompare(b.policy.name, 'en', { numeric: true }));
  return { files: mine.map((f) => f.rel), nodes, nodeAddresses: [...new Set(nodes.flatMap((n) => n.policy.addresses))] };
}

export function ipsecChecks(ev: IpsecEvidence, capture: CaptureJudgement | undefined, _nodes: NodeSet | undefined, ctx: RuleContext): Check[] {
  return [
    ipsecRulesCheck(ev.nodes, ctx),
    ipsecMainModeCheck(ev.nodes, ctx),
    ipsecQuickModeCheck(ev.nodes, ctx),
    ipsecRuleCoverageCheck(ev.nodes, capture?.facts, ctx),
    ipsecProposalsAllowedCheck(ev.nodes, capture?.facts, ctx),
  ];
}
