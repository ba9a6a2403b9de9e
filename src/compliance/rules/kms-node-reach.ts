// kms.node-reach (KMS-7, KMS-8): every node's own logs show it reached the CMK. The status
// command checks only the initial node (the Administration Controller), so it can say OK
// while another node, refused by KMS, has its services in Error: this check names that
// node from its own logs, with the failing line.
import type { KmsStatusEvidence } from '../../evidence/kms-status.js';
import type { EventRef, NodeLogFacts } from '../../evidence/kms-log-facts.js';
import type { Check, Finding } from '../../report/model.js';
import { makeCheck, markSkipped, withWaiver, type RuleContext } from '../rule-kit.js';

export const KMS_NODE_REACH = 'kms.node-reach';

export interface NodeReachInput {
  logs: readonly NodeLogFacts[];
  statuses: readonly KmsStatusEvidence[];
  /** Node names that must have logs (policy kms.nodes). */
  expectedNodes?: readonly string[];
}

const where = (r: EventRef): string => `${r.file}:${r.line}`;
const when = (r: EventRef): string => r.ts;

function newer(a: EventRef | undefined, b: EventRef | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  if (a.time !== null && b.time !== null) return a.time > b.time;
  return false;
}

export function kmsNodeReachCheck(input: NodeReachInput, ctx: RuleContext): Check {
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  const okStatus = input.statuses.find((s) => s.ok);
  const awsByStatus = input.statuses.some((s) => s.mode === 'aws');
  const localByStatus = input.statuses.length > 0 && input.statuses.every((s) => s.mode === 'local');
  const anyCmkActivity = input.logs.some((n) => n.reached > 0 || n.cmkErrors > 0);
  const nodes = new Map(input.logs.map((n) => [n.node, n] as const));
  for (const name of input.expectedNodes ?? []) if (!nodes.has(name)) nodes.set(name, undefined as unknown as NodeLogFacts);

  const statusNote = (node: string): string => {
    if (!okStatus) return '';
    const on = okStatus.checkedOn ?? 'the initial node';
    return on === node ? '' : ` — although \`tsm security kms status\` says OK (${okStatus.file}): it checks only ${on}, the node running the Administration Controller (KMS-8)`;
  };

  const judged = awsByStatus || anyCmkActivity;
  for (const [name, n] of [...nodes].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    if (!n) {
      findings.push(withWaiver(ctx, KMS_NODE_REACH, { message: `${name}: no logs from this node in the evidence: nothing shows it can reach the CMK`, behaviour: ['KMS-8'], evidence: { node: name } }));
      observed.push({ node: name, files: 0, verdict: 'no logs' });
      continue;
    }
    const row: Record<string, unknown> = {
      node: name,
      files: n.files.length,
      kmsEvents: n.events,
      reachedCmk: n.reached,
      lastReached: n.lastReached ? `${when(n.lastReached)} (${where(n.lastReached)})` : null,
      cmkErrors: n.cmkErrors,
      lastCmkError: n.lastCmkError ? `${when(n.lastCmkError)} ${n.lastCmkError.errorCode ?? ''} (${where(n.lastCmkError)})`.replace('  ', ' ') : null,
      serviceFailures: n.serviceFailures,
      cmkArns: Object.keys(n.cmkArns),
    };
    if (n.lastCmkError && (!n.lastReached || newer(n.lastCmkError, n.lastReached) || (n.lastCmkError.time === null && n.reached === 0))) {
      const e = n.lastCmkError;
      const failures = n.serviceFailures > 0 ? `; ${n.serviceFailures} service start failure(s), last: "${n.lastServiceFailure!.message}" (${where(n.lastServiceFailure!)})` : '';
      const before = n.lastReached ? ` (it last reached the CMK at ${when(n.lastReached)})` : ' (its logs never show it reaching the CMK)';
      findings.push(
        withWaiver(ctx, KMS_NODE_REACH, {
          // Its logs do show the KMS activity (KMS-7 holds): what fails is the node reaching the CMK.
          behaviour: ['KMS-8'],
          message: `${name} cannot reach the CMK: its last KMS attempt at ${when(e)} failed${e.errorCode ? ` with ${e.errorCode}` : ''} (${where(e)})${before}${failures}${statusNote(name)}`,
          evidence: { node: name, file: e.file, line: e.line, ts: e.ts, errorCode: e.errorCode ?? null, error: e.message, cmkArn: e.cmkArn ?? null, roles: n.roles, cmkErrors: n.cmkErrors, serviceFailures: n.serviceFailures },
        }),
      );
      row.verdict = 'cannot reach the CMK';
    } else if (n.lastReached) {
      row.verdict = 'reached the CMK';
      if (n.cmkErrors > 0) {
        findings.push({
          message: `${name} recovered: ${n.cmkErrors} CMK error(s), the last at ${when(n.lastCmkError!)} (${where(n.lastCmkError!)}), then reached the CMK at ${when(n.lastReached)} (${where(n.lastReached)})`,
          severity: 'info',
          evidence: { node: name, file: n.lastReached.file, line: n.lastReached.line, cmkErrors: n.cmkErrors },
        });
      }
    } else if (judged) {
      findings.push(
        withWaiver(ctx, KMS_NODE_REACH, {
          message: `${name}: its logs (${n.files.length} file(s)) show no CMK access ("Decrypted RMK with ID … using CMK with ARN …"): nothing shows this node can reach the CMK; collect logs that cover a service start on it`,
          severity: 'medium',
          evidence: { node: name, files: n.files.length, localKeystore: n.localKeystore },
        }),
      );
      row.verdict = 'no CMK access in its logs';
    } else {
      row.verdict = n.localKeystore > 0 ? 'local keystore (no CMK)' : 'no KMS events';
    }
    observed.push(row);
  }

  const check = makeCheck({
    id: KMS_NODE_REACH,
    title: "Every node's own logs show it reached the CMK (status checks only the initial node)",
    behaviour: ['KMS-7', 'KMS-8'],
    severity: 'high',
    findings,
    observed,
    remediation:
      "Give the failing node's EC2 instance role kms:GenerateDataKey and kms:Decrypt on the CMK (and name the role in the key policy), make sure the node can reach the KMS endpoint of the CMK's region, then restart it; until then `tsm security kms set-mode local` is the documented fallback.",
  });
  if (input.logs.length === 0 && (input.expectedNodes ?? []).length === 0) {
    markSkipped(check, 'No evidence: no Tableau logs in the folder (collect vizqlserver and backgrounder logs from every node, e.g. `tsm maintenance ziplogs`)', { missing: 'node logs' });
  } else if (!judged && check.status === 'pass') {
    markSkipped(check, localByStatus ? 'Not applicable: the cluster is in local KMS mode, there is no CMK to reach' : 'No evidence: the logs show no CMK activity and no status output says AWS mode', {
      nodes: input.logs.map((n) => n.node),
    });
  }
  return check;
}
