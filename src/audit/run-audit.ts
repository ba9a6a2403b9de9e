// `cryptgate audit <folder>`: one verdict over everything an auditor collected from a real
// (or simulated) cluster. Each file is recognised by content (discover.ts), read by the
// evidence readers, and every check runs, whether or not its evidence is there: a check
// without evidence says `skip` with an explicit "No evidence" finding, and audit.coverage
// lists the documented behaviours nothing in the folder speaks to. Never a silent pass.
import { relative } from 'node:path';
import { judgeCaptures, type CaptureJudgement } from '../compliance/capture-judge.js';
import { NodeSet } from '../compliance/node-set.js';
import type { Policy } from '../compliance/policy.js';
import { skippedCheck, type CheckMeta, type RuleContext } from '../compliance/rule-kit.js';
import { ESP_ONLY_META } from '../compliance/rules/esp-only.js';
import { NO_ESP_NULL_META } from '../compliance/rules/no-esp-null.js';
import { NO_AH_ONLY_META } from '../compliance/rules/no-ah-only.js';
import { IKE_POLICY_META } from '../compliance/rules/ike-policy.js';
import { CAPTURE_EVIDENCE_META } from '../compliance/rules/capture-evidence.js';
import { kmsStatusCheck } from '../compliance/rules/kms-status.js';
import { kmsNodeReachCheck } from '../compliance/rules/kms-node-reach.js';
import { consensusCmk, keySightings, kmsKeyConsistencyCheck } from '../compliance/rules/kms-key-consistency.js';
import { kmsLeastPrivilegeCheck } from '../compliance/rules/kms-least-privilege.js';
import { readAwsPolicyEvidence, type AwsPolicyEvidence } from '../evidence/aws-policy.js';
import { readKmsStatus, type KmsStatusEvidence } from '../evidence/kms-status.js';
import { KmsLogFactsCollector } from '../evidence/kms-log-facts.js';
import { scanTableauLog } from '../evidence/log-scan.js';
import { classifyLogFile } from '../evidence/tableau-logs.js';
import type { Check, Finding, InputRecord } from '../report/model.js';
import { HashPool } from '../util/file-hash.js';
import { discoverEvidence, type EvidenceFile } from './discover.js';
import { auditCoverageCheck, auditEvidenceCheck } from './audit-checks.js';
import { readIpsecEvidence, ipsecChecks, type IpsecEvidence } from './ipsec-evidence.js';

export interface AuditOptions {
  folder: string;
  policy: Policy;
  /** --nodes: replaces the policy's node list for the capture checks. */
  nodes?: NodeSet | undefined;
  now?: Date;
  /** Compute SHA-256 of every input (default true). */
  hash?: boolean;
  allowTruncated?: boolean;
  /** Progress per file: raw bytes read so far of that file. */
  onProgress?: (file: string, bytes: number) => void;
}

export interface AuditResult {
  checks: Check[];
  inputs: InputRecord[];
  files: EvidenceFile[];
  /** Facts worth a place in the report context. */
  context: Record<string, unknown>;
  /** False when no check could judge anything: the folder held no usable evidence. */
  judgedAnything: boolean;
}

/** A log file's node: from its name (`…_node2-0.log`) or a `node<N>` folder; else the file itself. */
function logNode(file: EvidenceFile): { node: string; known: boolean } {
  const info = classifyLogFile(file.path);
  if (info) return { node: info.node, known: true };
  const folder = file.rel.split('/').reverse().find((p) => /^node\d+$/i.test(p));
  if (folder) return { node: folder.toLowerCase(), known: true };
  return { node: `(unknown node: ${file.rel})`, known: false };
}

function serviceOf(file: EvidenceFile): string {
  return classifyLogFile(file.path)?.service ?? /^(?:nativeapi_)?([a-z]+)/.exec(file.rel.split('/').pop() ?? '')?.[1] ?? 'unknown';
}

/** The capture checks, for a "no evidence" skip when there is no capture or no node list. */
const CAPTURE_CHECKS: readonly CheckMeta[] = [ESP_ONLY_META, NO_ESP_NULL_META, NO_AH_ONLY_META, IKE_POLICY_META, CAPTURE_EVIDENCE_META];

export async function runAudit(o: AuditOptions): Promise<AuditResult> {
  const now = o.now ?? new Date();
  const ctx: RuleContext = { policy: o.policy, now };
  const files = await discoverEvidence(o.folder);
  const pool = o.hash === false ? undefined : new HashPool();
  const digests = new Map<string, Promise<string>>();
  try {
    for (const f of files) {
      const d = pool ? pool.hash(f.path) : Promise.resolve('');
      d.catch(() => undefined);
      digests.set(f.path, d);
    }
    const warnings: Finding[] = [];

    // ---- KMS evidence
    const statuses: KmsStatusEvidence[] = [];
    const aws: AwsPolicyEvidence[] = [];
    const logFacts = new KmsLogFactsCollector();
    let logFiles = 0;
    for (const f of files) {
      if (f.kind === 'kms-status') statuses.push({ ...(await readKmsStatus(f.path)), file: f.rel });
      else if (f.kind === 'aws-policy') aws.push(...readAwsPolicyEvidence(f.json, f.rel));
      else if (f.kind === 'java-log' || f.kind === 'native-log') {
        logFiles++;
        const { node, known } = logNode(f);
        if (!known) warnings.push({ message: `${f.rel}: the log does not say which node wrote it (name it <service>_node<N>-<i>.log, or put it in a node<N> folder); judged as its own node`, severity: 'info', evidence: { file: f.rel } });
        logFacts.addFile(node, f.rel);
        const r = await scanTableauLog(f.path, { node, file: f.rel, service: serviceOf(f) }, f.kind === 'java-log' ? 'java' : 'native', (e) => logFacts.add(e), {
          ...(o.onProgress ? { onProgress: (bytes: number) => o.onProgress!(f.rel, bytes) } : {}),
        });
        for (const w of r.warnings) warnings.push({ message: `${w} (judged without that line)`, severity: 'info', evidence: { file: f.rel } });
      }
    }
    const logs = logFacts.facts();

    // ---- IPsec configuration exports
    const ipsec: IpsecEvidence = await readIpsecEvidence(files);

    // ---- captures (judged together: one cluster)
    const captures = files.filter((f) => f.kind === 'capture');
    const nodeList = o.nodes ?? (o.policy.nodes.length > 0 ? new NodeSet(o.policy.nodes, 'policy nodes') : ipsec.nodeAddresses.length > 0 ? new NodeSet(ipsec.nodeAddresses, 'IPsec exports') : undefined);
    let captureJudgement: CaptureJudgement | undefined;
    const checks: Check[] = [];
    if (captures.length === 0) {
      for (const meta of CAPTURE_CHECKS) checks.push(skippedCheck(meta, 'No evidence: no packet capture (pcap/pcapng) in the folder; capture node-to-node traffic (e.g. `pktmon` or `tcpdump -i any -s 0 -w node1.pcap`) to judge it'));
    } else if (!nodeList) {
      for (const meta of CAPTURE_CHECKS) checks.push(skippedCheck(meta, `Not judged: ${captures.length} capture(s) but no node list; pass --nodes, list nodes in the policy file, or add the nodes' IPsec exports`));
    } else {
      captureJudgement = await judgeCaptures({
        files: captures.map((c) => c.path),
        nodes: nodeList,
        policy: o.policy,
        now,
        hash: false,
        allowTruncated: o.allowTruncated ?? false,
        ...(o.onProgress ? { onProgress: (file: string, bytes: number) => o.onProgress!(relative(o.folder, file), bytes) } : {}),
      });
      for (const c of captureJudgement.checks) checks.push(relabelFiles(c, o.folder));
    }
    checks.push(...ipsecChecks(ipsec, captureJudgement, nodeList, ctx));

    // ---- KMS checks
    const sightings = keySightings({ statuses, logs, aws, kms: o.policy.kms });
    const cmkArn = consensusCmk(sightings);
    checks.push(kmsStatusCheck(statuses, ctx));
    checks.push(kmsKeyConsistencyCheck({ statuses, logs, aws, kms: o.policy.kms }, ctx));
    checks.push(kmsNodeReachCheck({ logs, statuses, ...(o.policy.kms?.nodes ? { expectedNodes: o.policy.kms.nodes } : {}) }, ctx));
    checks.push(kmsLeastPrivilegeCheck({ aws, cmkArn, ...(o.policy.kms?.roles ? { expectedRoles: o.policy.kms.roles } : {}), logs }, ctx));

    // ---- what was read, and what nothing speaks to
    const inputs: InputRecord[] = [];
    for (const f of files) {
      const fromCapture = captureJudgement?.inputs.find((i) => i.path === f.path);
      inputs.push({ path: f.rel, sha256: await digests.get(f.path)!, bytes: f.bytes, format: fromCapture?.format ?? f.format, linkTypes: fromCapture?.linkTypes ?? [] });
    }
    checks.push(auditEvidenceCheck(files, warnings, { logFiles, logNodes: logs.length }));
    checks.push(auditCoverageCheck(checks));
    const judgedAnything = checks.some((c) => (c.status === 'pass' || c.status === 'fail') && !c.id.startsWith('audit.'));
    return {
      checks,
      inputs,
      files,
      judgedAnything,
      context: {
        cmkArn,
        nodes: nodeList?.entries ?? [],
        logNodes: logs.map((n) => n.node),
        evidence: countKinds(files),
      },
    };
  } finally {
    await pool?.close();
  }
}

function countKinds(files: readonly EvidenceFile[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of files) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return out;
}

/** Capture checks name files by the path given; the audit report names them relative to its folder. */
function relabelFiles(c: Check, folder: string): Check {
  const rel = (v: unknown): unknown => (typeof v === 'string' && v.startsWith(folder) ? relative(folder, v).split('\\').join('/') : v);
  const fix = (row: Record<string, unknown>): Record<string, unknown> => ({ ...row, ...(row.file !== undefined ? { file: rel(row.file) } : {}) });
  return {
    ...c,
    findings: c.findings.map((f) => ({ ...f, message: f.message.split(folder.endsWith('/') ? folder : `${folder}/`).join(''), evidence: fix(f.evidence) })),
    observed: c.observed.map(fix),
  };
}
