// The audit's own two checks: audit.evidence (what was read, what was not recognised, what
// was read with a warning) and audit.coverage (every documented behaviour, and whether any
// evidence spoke to it). Neither ever fails; they make gaps visible.
import { behaviourResult, type BehaviourResult, type Check, type Finding } from '../report/model.js';
import type { EvidenceFile } from './discover.js';

export const AUDIT_EVIDENCE = 'audit.evidence';
export const AUDIT_COVERAGE = 'audit.coverage';

/** The documented behaviours (MISSION.md), and what evidence would show the ones audit has no check for. */
export const BEHAVIOURS: readonly { id: string; title: string; needs?: string }[] = [
  { id: 'IPSEC-1', title: 'One server-to-server connection security rule per node, covering every other node' },
  { id: 'IPSEC-2', title: 'Authentication required inbound and outbound (certificate or Kerberos)' },
  { id: 'IPSEC-3', title: 'Main mode: SHA-256, AES-CBC-256, strong Diffie-Hellman group' },
  { id: 'IPSEC-4', title: 'Quick mode: require encryption, AES 256 first (the seed: AES-CBC 256); no AH-only or ESP-NULL' },
  { id: 'IPSEC-5', title: 'All traffic between nodes inside ESP' },
  { id: 'IPSEC-6', title: 'External clients over TLS; gateway-only node traffic reported separately' },
  { id: 'KMS-1', title: 'KMS mode is AWS (not local)' },
  { id: 'KMS-2', title: 'AWS prerequisites: EC2, Advanced Management licence, control of a CMK', needs: 'licence and platform facts (`tsm licenses list`, instance metadata); not read by audit' },
  { id: 'KMS-3', title: 'Node roles and key policy allow exactly GenerateDataKey and Decrypt' },
  { id: 'KMS-4', title: 'set-mode aws with a valid key ARN in the right region' },
  { id: 'KMS-5', title: 'CMK → RMK → MEKs → extracts hierarchy', needs: 'the key store and extract headers (judged by `cryptgate run` on the simulator); not read by audit' },
  { id: 'KMS-6', title: 'status: CMK ARN, region, one RMK, MEK states and transitions' },
  { id: 'KMS-7', title: 'vizqlserver/backgrounder logs show the CMK and RMK in use' },
  { id: 'KMS-8', title: 'Every node (not only the initial one) reaches the CMK' },
  { id: 'KMS-9', title: 'After CMK rotation: regenerate internal tokens, re-encrypt every site', needs: 'logs spanning a rotation (regenerate + reencryptextracts jobs) and the sites list; not judged by audit' },
  { id: 'KMS-10', title: 'Backups hold only encrypted RMKs/MEKs', needs: 'a backup file; not read by audit' },
  { id: 'KMS-11', title: 'Restore imports the backup MEKs decrypt-only and makes a new RMK', needs: 'status output before and after a restore; not judged by audit' },
];

/** Behaviours an audit check can judge (the others need evidence the audit does not read). */
export const AUDITED_BEHAVIOURS: readonly string[] = BEHAVIOURS.filter((b) => b.needs === undefined).map((b) => b.id);

/** Every documented behaviour's result in a set of audit checks (see behaviourResult). */
export function behaviourVerdicts(checks: readonly Check[]): Map<string, BehaviourResult> {
  return new Map(BEHAVIOURS.map((b) => [b.id, behaviourResult(checks, b.id)] as const));
}

export function auditEvidenceCheck(files: readonly EvidenceFile[], warnings: readonly Finding[], stats: { logFiles: number; logNodes: number }): Check {
  const findings: Finding[] = [];
  const unrecognised = files.filter((f) => f.kind === 'unrecognised');
  const MAX = 50;
  for (const f of unrecognised.slice(0, MAX)) {
    findings.push({ message: `${f.rel}: not read: ${f.reason ?? 'not a known evidence format'} (${f.format}, ${f.bytes} bytes)`, severity: 'info', evidence: { file: f.rel, format: f.format, bytes: f.bytes } });
  }
  if (unrecognised.length > MAX) findings.push({ message: `… and ${unrecognised.length - MAX} more unrecognised files`, severity: 'info', evidence: { count: unrecognised.length - MAX } });
  findings.push(...warnings);
  const byKind = new Map<string, EvidenceFile[]>();
  for (const f of files) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
  const observed: Record<string, unknown>[] = [...byKind].map(([kind, list]) => ({ kind, files: list.length, bytes: list.reduce((n, f) => n + f.bytes, 0) }));
  observed.push({ kind: 'log nodes', files: stats.logFiles, bytes: 0, nodes: stats.logNodes });
  const check: Check = {
    id: AUDIT_EVIDENCE,
    title: 'Evidence found in the folder (by content), and what could not be read',
    behaviour: [],
    status: files.length === 0 ? 'skip' : 'pass',
    severity: 'info',
    findings,
    observed,
  };
  if (files.length === 0) check.findings.push({ message: 'No evidence: the folder is empty', severity: 'info', evidence: {} });
  return check;
}

export function auditCoverageCheck(checks: readonly Check[]): Check {
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const b of BEHAVIOURS) {
    const covering = checks.filter((c) => c.behaviour.includes(b.id));
    const judged = covering.filter((c) => c.status === 'pass' || c.status === 'fail' || c.status === 'error');
    const result = behaviourResult(checks, b.id);
    observed.push({ behaviour: b.id, title: b.title, checks: covering.map((c) => `${c.id}: ${c.status}`), result });
    if (judged.length === 0) {
      const why = covering.length === 0 ? `no audit check judges it (${b.needs ?? 'no evidence kind for it'})` : `every check of it was skipped (${covering.map((c) => c.id).join(', ')})`;
      findings.push({ message: `${b.id} (${b.title}): no evidence: ${why}`, severity: 'info', evidence: { behaviour: b.id, checks: covering.map((c) => c.id) } });
    }
  }
  return {
    id: AUDIT_COVERAGE,
    title: 'Documented behaviours the evidence speaks to',
    behaviour: [],
    status: findings.length > 0 ? 'skip' : 'pass',
    severity: 'info',
    findings,
    observed,
  };
}
