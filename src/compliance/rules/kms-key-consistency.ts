// kms.key-consistency (KMS-4, KMS-6, KMS-7): the status output, every node's logs, the key
// policy export, describe-key and the role policies all name the same CMK; its region is the
// one configured; and the RMK the status says is in use is the one the logs show in use.
// With fewer than two sources naming a key there is nothing to cross-check: skip, never a
// vacuous pass.
import type { KmsStatusEvidence } from '../../evidence/kms-status.js';
import type { NodeLogFacts } from '../../evidence/kms-log-facts.js';
import { statementCoversAction, type AwsPolicyEvidence } from '../../evidence/aws-policy.js';
import { isKmsKeyArn, readKmsKeyArn } from '../../evidence/aws-arn.js';
import type { KmsPolicy } from '../policy.js';
import type { Check, Finding } from '../../report/model.js';
import { makeCheck, markSkipped, withWaiver, type RuleContext } from '../rule-kit.js';

export const KMS_KEY_CONSISTENCY = 'kms.key-consistency';

export interface KeyConsistencyInput {
  statuses: readonly KmsStatusEvidence[];
  logs: readonly NodeLogFacts[];
  aws: readonly AwsPolicyEvidence[];
  kms?: KmsPolicy | undefined;
}

export interface KeySighting {
  source: 'status' | 'logs' | 'key-policy' | 'describe-key' | 'role-policy' | 'policy file';
  arn: string;
  file?: string;
  node?: string;
  role?: string;
  /** How many events/statements name it. */
  count?: number;
}

/** Every place the evidence names a CMK. Pure. */
export function keySightings(input: KeyConsistencyInput): KeySighting[] {
  const out: KeySighting[] = [];
  for (const s of input.statuses) if (s.cmkArn) out.push({ source: 'status', arn: s.cmkArn, file: s.file });
  for (const n of input.logs) for (const [arn, count] of Object.entries(n.cmkArns)) out.push({ source: 'logs', arn, node: n.node, count });
  for (const a of input.aws) {
    if (a.kind === 'key-policy' && a.keyArn) out.push({ source: 'key-policy', arn: a.keyArn, file: a.file });
    if (a.kind === 'key-metadata') out.push({ source: 'describe-key', arn: a.arn, file: a.file });
    if (a.kind === 'role-policy') {
      const arns = new Set<string>();
      for (const st of a.document.statements) {
        if (st.effect !== 'Allow' || !(statementCoversAction(st, 'kms:Decrypt') || statementCoversAction(st, 'kms:GenerateDataKey'))) continue;
        for (const r of st.resource ?? []) if (isKmsKeyArn(r)) arns.add(r);
      }
      for (const arn of arns) out.push({ source: 'role-policy', arn, file: a.file, ...(a.roleName ? { role: a.roleName } : {}) });
    }
  }
  if (input.kms?.cmkArn) out.push({ source: 'policy file', arn: input.kms.cmkArn });
  return out;
}

const label = (s: KeySighting): string => `${s.source}${s.node ? ` ${s.node}` : ''}${s.role ? ` ${s.role}` : ''}${s.file ? ` (${s.file})` : ''}`;

/** The CMK most of the evidence names (status first): the key the other checks judge against. */
export function consensusCmk(sightings: readonly KeySighting[]): string | null {
  const status = sightings.find((s) => s.source === 'status');
  if (status) return status.arn;
  const policy = sightings.find((s) => s.source === 'policy file');
  if (policy) return policy.arn;
  const votes = new Map<string, number>();
  for (const s of sightings) votes.set(s.arn, (votes.get(s.arn) ?? 0) + 1);
  let best: string | null = null;
  for (const [arn, n] of votes) if (best === null || n > votes.get(best)!) best = arn;
  return best;
}

export function kmsKeyConsistencyCheck(input: KeyConsistencyInput, ctx: RuleContext): Check {
  const sightings = keySightings(input);
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = sightings.map((s) => ({ source: s.source, cmkArn: s.arn, ...(s.file ? { file: s.file } : {}), ...(s.node ? { node: s.node } : {}), ...(s.role ? { role: s.role } : {}), ...(s.count !== undefined ? { events: s.count } : {}) }));
  const expected = consensusCmk(sightings);
  const distinct = [...new Set(sightings.map((s) => s.arn))];
  if (expected && distinct.length > 1) {
    const expectedFrom = sightings.filter((s) => s.arn === expected).map(label);
    for (const arn of distinct.filter((a) => a !== expected)) {
      for (const s of sightings.filter((x) => x.arn === arn)) {
        findings.push(
          withWaiver(ctx, KMS_KEY_CONSISTENCY, {
            message: `${label(s)} names CMK ${arn}, but ${expectedFrom.join(', ')} name${expectedFrom.length === 1 ? 's' : ''} ${expected}: the evidence is about two different keys`,
            evidence: { source: s.source, cmkArn: arn, expected, ...(s.file ? { file: s.file } : {}), ...(s.node ? { node: s.node } : {}), ...(s.role ? { role: s.role } : {}) },
          }),
        );
      }
    }
  }
  for (const arn of distinct) {
    const r = readKmsKeyArn(arn);
    if (!r.ok) findings.push(withWaiver(ctx, KMS_KEY_CONSISTENCY, { behaviour: ['KMS-4'], message: `CMK ARN ${arn} (${sightings.filter((s) => s.arn === arn).map(label).join(', ')}) is not a valid key ARN: ${r.problem}`, evidence: { cmkArn: arn } }));
  }
  // The region shown and configured must be the ARN's.
  const arnRegion = expected ? (readKmsKeyArn(expected) as { ok: boolean; value?: { region: string } }).value?.region : undefined;
  if (arnRegion) {
    for (const s of input.statuses) {
      if (s.region && s.region !== arnRegion) findings.push(withWaiver(ctx, KMS_KEY_CONSISTENCY, { behaviour: ['KMS-4'], message: `${s.file}: region ${s.region}, but the CMK ${expected} is in ${arnRegion}`, evidence: { file: s.file, region: s.region, cmkArn: expected } }));
    }
    if (input.kms?.region && input.kms.region !== arnRegion) findings.push(withWaiver(ctx, KMS_KEY_CONSISTENCY, { behaviour: ['KMS-4'], message: `the policy file says region ${input.kms.region}, but the CMK ${expected} is in ${arnRegion}`, evidence: { region: input.kms.region, cmkArn: expected } }));
  }
  // The RMK in use: the status's must be the one the logs show in use.
  const rmkSources = input.logs.filter((n) => Object.keys(n.rmkIds).length > 0);
  for (const s of input.statuses) {
    if (!s.rmkId || rmkSources.length === 0) continue;
    const seenIn = rmkSources.filter((n) => s.rmkId! in n.rmkIds).map((n) => n.node);
    observed.push({ source: 'status', file: s.file, rmkId: s.rmkId, inLogsOf: seenIn });
    if (seenIn.length === 0) {
      findings.push(
        withWaiver(ctx, KMS_KEY_CONSISTENCY, {
          behaviour: ['KMS-6', 'KMS-7'],
          message: `${s.file}: RMK ${s.rmkId} is in use per the status, but no node's logs ever use it (they show ${[...new Set(rmkSources.flatMap((n) => Object.keys(n.rmkIds)))].slice(0, 5).join(', ')}): the logs and the status are not from the same key hierarchy, or the logs end before the RMK changed`,
          severity: 'medium',
          evidence: { file: s.file, rmkId: s.rmkId },
        }),
      );
    }
    for (const n of rmkSources) {
      const last = n.lastRmkInUse;
      if (last?.rmkId && last.rmkId !== s.rmkId && seenIn.length > 0) {
        findings.push({ message: `${n.node} last used RMK ${last.rmkId} at ${last.ts} (${last.file}:${last.line}), not ${s.rmkId} (the status's): logs ending before a regenerate, or a node not restarted since`, severity: 'info', evidence: { node: n.node, rmkId: last.rmkId, file: last.file, line: last.line } });
      }
    }
  }
  const check = makeCheck({
    id: KMS_KEY_CONSISTENCY,
    title: 'Status, logs and key/role policies name the same CMK (and the RMK in use agrees)',
    behaviour: ['KMS-4', 'KMS-6', 'KMS-7'],
    severity: 'high',
    findings,
    observed,
    remediation:
      'Point every node at one CMK: `tsm security kms set-mode aws --aws-region <region of the ARN> --key-arn <ARN>`; scope the role policies and the key policy to that key; then collect status, logs and policies again from the same moment.',
  });
  const sources = new Set(sightings.map((s) => `${s.source}|${s.file ?? s.node ?? ''}`));
  if (sightings.length === 0) {
    markSkipped(check, 'No evidence: nothing in the folder names a CMK (status output, node logs, key policy or describe-key export)', { missing: 'CMK ARN' });
  } else if (sources.size < 2 && check.status === 'pass') {
    markSkipped(check, `Only one source names the CMK (${label(sightings[0]!)}): nothing to cross-check it with; add the status output, node logs or the key policy export`, { cmkArn: sightings[0]!.arn });
  }
  return check;
}
