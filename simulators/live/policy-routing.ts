// What the runner adds to each node's policy routing (`ip rule`), because strongSwan alone
// cannot say it: a node whose rule *requires* authentication for a peer it has no SA with
// drops the clear traffic (nothing but charon's own, marked, IKE/ESP packets leaves for
// that peer, so a clear connection never completes), and a node with *no* rule for a peer
// never answers that peer's IKE (as Windows does; charon would send NO_PROPOSAL_CHOSEN).
// Pure: returns `ip -n <node> …` argument lists per node.
//
// Inbound drops need the `local` table looked up after them, so a node that drops inbound
// IKE first moves the `local` rule from preference 0 to 1000 (added before the old one is
// deleted, so local delivery never stops).
import { requiringSides, silentResponder, type LivePlan } from './plan.js';
import { CHARON_FWMARK } from './swanctl.js';

export const LOCAL_RULE_PREF = '1000';

export function policyRoutingCommands(plan: LivePlan): Map<string, string[][]> {
  const ipOf = new Map(plan.nodes.map((n) => [n.name, n.ip]));
  const blocks = new Map<string, string[]>();
  const silences = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, node: string, peer: string) => {
    const list = map.get(node) ?? [];
    if (!list.includes(peer)) list.push(peer);
    map.set(node, list);
  };
  for (const p of plan.pairs) {
    for (const side of requiringSides(p)) add(blocks, p[side], ipOf.get(p[side === 'a' ? 'b' : 'a'])!);
    const silent = silentResponder(p);
    if (silent) add(silences, p[silent], ipOf.get(p[silent === 'a' ? 'b' : 'a'])!);
  }
  const out = new Map<string, string[][]>();
  for (const n of plan.nodes) {
    const cmds: string[][] = [];
    const silent = silences.get(n.name) ?? [];
    const blocked = blocks.get(n.name) ?? [];
    if (silent.length) {
      cmds.push(['rule', 'add', 'pref', LOCAL_RULE_PREF, 'lookup', 'local'], ['rule', 'del', 'pref', '0']);
      for (const peer of silent) {
        for (const port of ['500', '4500']) cmds.push(['rule', 'add', 'pref', '102', 'from', `${peer}/32`, 'ipproto', 'udp', 'dport', port, 'blackhole']);
      }
    }
    if (blocked.length) {
      cmds.push(['rule', 'add', 'pref', '100', 'fwmark', CHARON_FWMARK, 'lookup', 'main']);
      for (const peer of blocked) cmds.push(['rule', 'add', 'pref', '101', 'to', `${peer}/32`, 'blackhole']);
    }
    if (cmds.length) out.set(n.name, cmds);
  }
  return out;
}
