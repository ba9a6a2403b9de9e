// ipsec.esp-only (IPSEC-5, IPSEC-6): every byte between nodes travels inside ESP.
// One finding per clear-text conversation, with pair, protocol, port, counts, first/last
// seen and the service that port belongs to. Traffic with a non-node endpoint is info;
// traffic with a gateway-only node is reported separately, never guessed about.
import type { CaptureFacts, ConversationFacts } from '../../capture/facts.js';
import type { Check, Finding } from '../../report/model.js';
import { serviceFor } from '../services.js';
import { formatBytes } from '../../util/format.js';
import { isoTime, makeCheck, markSkipped, pairKey, withWaiver, type CheckMeta, type RuleContext } from '../rule-kit.js';
import type { NodeSet } from '../node-set.js';

export const ESP_ONLY = 'ipsec.esp-only';
export const ESP_ONLY_META: CheckMeta = {
  id: ESP_ONLY,
  title: 'All traffic between cluster nodes travels inside IPsec ESP',
  // IPSEC-6 (external clients, gateway-only nodes) is only ever reported here, as info: a
  // failure is always a flow between nodes, IPSEC-5, and its findings say so.
  behaviour: ['IPSEC-5', 'IPSEC-6'],
  severity: 'critical',
};

export interface EspOnlyInput {
  facts: CaptureFacts;
  nodes: NodeSet;
  gatewayNodes?: NodeSet | undefined;
}

function conversationEvidence(c: ConversationFacts, ctx: RuleContext): Record<string, unknown> {
  const service = c.dstPort === null ? null : (serviceFor(c.dstPort, c.protocol, ctx.policy.services) ?? null);
  const evidence: Record<string, unknown> = {
    src: c.src,
    dst: c.dst,
    protocol: c.protocol,
    dstPort: c.dstPort,
    packets: c.packets,
    bytes: c.bytes,
    firstSeen: isoTime(c.firstSeen),
    lastSeen: isoTime(c.lastSeen),
    service,
  };
  if (c.peerCount !== undefined) {
    evidence.peerCount = c.peerCount;
    evidence.peers = c.peers;
  }
  if (c.fragmentsOnly) evidence.fragmentsOnly = true;
  return evidence;
}

function describe(c: ConversationFacts, evidence: Record<string, unknown>): string {
  const port = c.dstPort === null ? '' : `:${c.dstPort}`;
  const service = evidence.service ? ` (${String(evidence.service)})` : '';
  return `${c.protocol.toUpperCase()} ${c.src} → ${c.dst}${port}${service}: ${c.packets} packets, ${formatBytes(c.bytes)} in clear text, ${evidence.firstSeen} … ${evidence.lastSeen}`;
}

export function espOnlyCheck(input: EspOnlyInput, ctx: RuleContext): Check {
  const { facts, gatewayNodes } = input;
  const findings: Finding[] = [];

  const sorted = [...facts.conversations].sort((a, b) => b.bytes - a.bytes);
  for (const c of sorted) {
    const evidence = conversationEvidence(c, ctx);
    const betweenNodes = c.srcNode && c.dstNode;
    if (betweenNodes && (gatewayNodes?.contains(c.src) || gatewayNodes?.contains(c.dst))) {
      findings.push(
        withWaiver(ctx, ESP_ONLY, {
          message: `Gateway-only node traffic, reported separately (IPSEC-6 leaves it open): ${describe(c, evidence)}`,
          severity: 'info',
          evidence: { ...evidence, gatewayNode: true },
        }),
      );
    } else if (betweenNodes) {
      findings.push(withWaiver(ctx, ESP_ONLY, { message: `Plaintext between nodes: ${describe(c, evidence)}`, behaviour: ['IPSEC-5'], evidence }));
    } else {
      findings.push(
        withWaiver(ctx, ESP_ONLY, {
          message: `Traffic with a non-node endpoint (not judged): ${describe(c, evidence)}`,
          severity: 'info',
          evidence: { ...evidence, nonNode: true },
        }),
      );
    }
  }

  // AH without ESP carries its payload in clear text: not "through ESP" either.
  for (const p of facts.pairs) {
    if (!(p.srcNode && p.dstNode) || p.ahOnlyPackets === 0) continue;
    const evidence = { src: p.src, dst: p.dst, protocol: 'ah', dstPort: null, packets: p.ahOnlyPackets, bytes: p.ahOnlyBytes, firstSeen: isoTime(p.firstSeen), lastSeen: isoTime(p.lastSeen), service: null, innerProtocols: p.ahOnlyInnerProtocols };
    findings.push(withWaiver(ctx, ESP_ONLY, { message: `AH without ESP between nodes ${p.src} → ${p.dst}: ${p.ahOnlyPackets} packets authenticated but not encrypted`, behaviour: ['IPSEC-5'], evidence }));
  }

  const observed = nodePairObservations(input);
  const interNode = facts.pairs.filter((p) => p.srcNode && p.dstNode && p.packets > p.controlPackets);
  const check = makeCheck({
    ...ESP_ONLY_META,
    findings,
    observed,
    remediation:
      'Add or fix the server-to-server connection security rule on both nodes of each listed pair (endpoint 1 = this node, endpoint 2 = every other node, "Require authentication for inbound and outbound connections"), and require encryption in the IPsec defaults; then capture again.',
  });
  if (interNode.length === 0 && check.status === 'pass') {
    markSkipped(check, 'No traffic between the listed nodes in the capture: nothing to judge (check --nodes and the capture point)', { nodes: input.nodes.entries });
  }
  return check;
}

/** One line per node pair (both directions), so a pass shows its proof. */
function nodePairObservations(input: EspOnlyInput): Record<string, unknown>[] {
  const byPair = new Map<string, Record<string, number | string>>();
  for (const p of input.facts.pairs) {
    if (!(p.srcNode && p.dstNode)) continue;
    const [a, b] = pairKey(p.src, p.dst);
    const key = `${a}|${b}`;
    let row = byPair.get(key);
    if (!row) {
      row = { nodeA: a, nodeB: b, espPackets: 0, espBytes: 0, ikePackets: 0, plaintextPackets: 0, plaintextBytes: 0, ahOnlyPackets: 0, decryptedCopies: 0, controlPackets: 0 };
      byPair.set(key, row);
    }
    row.espPackets = (row.espPackets as number) + p.espPackets;
    row.espBytes = (row.espBytes as number) + p.espBytes;
    row.ikePackets = (row.ikePackets as number) + p.ikePackets;
    row.plaintextPackets = (row.plaintextPackets as number) + p.plaintextPackets;
    row.plaintextBytes = (row.plaintextBytes as number) + p.plaintextBytes;
    row.ahOnlyPackets = (row.ahOnlyPackets as number) + p.ahOnlyPackets;
    row.decryptedCopies = (row.decryptedCopies as number) + p.decryptedCopies;
    row.controlPackets = (row.controlPackets as number) + p.controlPackets;
  }
  const rows: Record<string, unknown>[] = [...byPair.values()].sort((x, y) => String(x.nodeA).localeCompare(String(y.nodeA)) || String(x.nodeB).localeCompare(String(y.nodeB)));
  // Listed nodes that never talked: shown, so an empty pass is visible as such.
  const singles = input.nodes.singleAddresses;
  for (let i = 0; i < singles.length; i++) {
    for (let j = i + 1; j < singles.length; j++) {
      const [a, b] = pairKey(singles[i]!, singles[j]!);
      if (!byPair.has(`${a}|${b}`)) rows.push({ nodeA: a, nodeB: b, seen: false });
    }
  }
  return rows;
}
