// Judges one cluster's capture evidence (one or several files, e.g. one per node):
// reads every file through the same analyzer, then runs the capture rules over the
// merged facts. Pure of CLI concerns: returns checks and input records.
import { statSync } from 'node:fs';
import { openCaptureSource } from '../capture/byte-source.js';
import { readCapture, type CaptureSummary } from '../capture/reader.js';
import { portRanks, TrafficAnalyzer } from '../capture/traffic-analyzer.js';
import type { CaptureFacts } from '../capture/facts.js';
import type { Check, InputRecord } from '../report/model.js';
import { sha256FileInWorker } from '../util/file-hash.js';
import { NodeSet } from './node-set.js';
import type { Policy } from './policy.js';
import { serviceFor } from './services.js';
import type { RuleContext } from './rule-kit.js';
import { espOnlyCheck, ESP_ONLY } from './rules/esp-only.js';
import { noEspNullCheck } from './rules/no-esp-null.js';
import { noAhOnlyCheck } from './rules/no-ah-only.js';
import { ikePolicyCheck } from './rules/ike-policy.js';
import { captureEvidenceCheck } from './rules/capture-evidence.js';

export interface CaptureJudgeOptions {
  files: readonly string[];
  nodes: NodeSet;
  policy: Policy;
  allowTruncated?: boolean;
  now?: Date;
  /** Skip hashing the inputs (the report then says so); hashing overlaps with parsing. */
  hash?: boolean;
  onProgress?: (file: string, bytes: number) => void;
}

export interface CaptureJudgement {
  checks: Check[];
  inputs: InputRecord[];
  facts: CaptureFacts;
  /** The evidence held nothing to judge the main promise on (no traffic between nodes). */
  inconclusive: boolean;
}

export async function judgeCaptures(options: CaptureJudgeOptions): Promise<CaptureJudgement> {
  const { policy } = options;
  const analyzer = new TrafficAnalyzer({
    nodes: options.nodes,
    portRanks: portRanks((port) => serviceFor(port, 'tcp', policy.services) !== undefined),
    espNullPackets: policy.espNull.minPackets,
  });
  const read: { path: string; summary: CaptureSummary }[] = [];
  const inputs: InputRecord[] = [];
  for (const path of options.files) {
    const source = openCaptureSource(path);
    const digest = options.hash === false ? Promise.resolve('') : sha256FileInWorker(path);
    // Settle the hash even if reading fails, so no worker outlives the error.
    digest.catch(() => undefined);
    analyzer.beginFile(path);
    const summary = await readCapture(path, source, analyzer, {
      allowTruncated: options.allowTruncated ?? false,
      onProgress: (bytes) => options.onProgress?.(path, bytes),
    });
    read.push({ path, summary });
    const { size } = statSync(path);
    inputs.push({
      path,
      sha256: await digest,
      bytes: size,
      format: summary.compressed ? `${summary.formatDetail} (gzip)` : summary.formatDetail,
      linkTypes: summary.linkTypes,
    });
  }
  const facts = analyzer.facts();
  const ctx: RuleContext = { policy, now: options.now ?? new Date() };
  const gatewayNodes = policy.gatewayNodes && policy.gatewayNodes.length > 0 ? new NodeSet(policy.gatewayNodes, 'policy gatewayNodes') : undefined;
  const nodes = options.nodes;
  const checks: Check[] = [
    espOnlyCheck({ facts, nodes, gatewayNodes }, ctx),
    noEspNullCheck(facts, ctx, (f) => nodes.contains(f.src) && nodes.contains(f.dst)),
    noAhOnlyCheck(facts, ctx),
    ikePolicyCheck(facts.ike, ctx, (a) => nodes.contains(a)),
    captureEvidenceCheck(read, facts.totals),
  ];
  const inconclusive = checks.find((c) => c.id === ESP_ONLY)?.status === 'skip';
  return { checks, inputs, facts, inconclusive };
}
