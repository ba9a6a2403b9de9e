// kms.least-privilege (KMS-3): every node's instance role, and the CMK's key policy, allow
// exactly kms:GenerateDataKey and kms:Decrypt on that CMK for that role. Judged from IAM and
// key policy exports; each finding says which statement, what it allows and why it matters.
// Conditions are not evaluated (they depend on the request): a conditional Allow counts as
// an allow (it can grant), a conditional Deny does not count as a deny (it may not apply).
import {
  globMatch,
  KMS_ACTIONS,
  principalIsAccountRoot,
  principalNamesRole,
  REQUIRED_KMS_ACTIONS,
  statementCoversAction,
  statementCoversResource,
  type KeyPolicyEvidence,
  type PolicyStatement,
  type RolePolicyEvidence,
  type AwsPolicyEvidence,
} from '../../evidence/aws-policy.js';
import type { NodeLogFacts } from '../../evidence/kms-log-facts.js';
import type { Check, Finding, Severity } from '../../report/model.js';
import { makeCheck, withWaiver, type RuleContext } from '../rule-kit.js';

export const KMS_LEAST_PRIVILEGE = 'kms.least-privilege';

export interface LeastPrivilegeInput {
  aws: readonly AwsPolicyEvidence[];
  /** The CMK the cluster uses (null: unknown, any key counts). */
  cmkArn: string | null;
  /** Role names the policy file says the nodes run as. */
  expectedRoles?: readonly string[];
  logs?: readonly NodeLogFacts[];
}

const stmtName = (s: PolicyStatement): string => `statement ${s.index}${s.sid ? ` ("${s.sid}")` : ''}`;
const list = (xs: readonly string[]): string => xs.join(', ');

/** The KMS actions a set of statements allows on the key (Allow minus unconditional Deny). Pure. */
export function allowedKmsActions(statements: readonly PolicyStatement[], keyArn: string | null, applies: (s: PolicyStatement) => boolean = () => true): string[] {
  return KMS_ACTIONS.filter((action) => {
    const allow = statements.some((s) => s.effect === 'Allow' && applies(s) && statementCoversAction(s, action) && statementCoversResource(s, keyArn));
    const deny = statements.some((s) => s.effect === 'Deny' && !s.condition && applies(s) && statementCoversAction(s, action) && statementCoversResource(s, keyArn));
    return allow && !deny;
  });
}

/** Does a key policy statement name the role itself (a "*" principal names nobody in particular)? */
const namesRole = (s: PolicyStatement, role: string): boolean => s.principal !== '*' && principalNamesRole(s.principal, role);

/**
 * The KMS actions a key policy's statements allow `role` on the key directly (a key policy alone
 * is enough for KMS to allow them): its Allows naming the role, minus unconditional Denies naming
 * the role or "*". Pure.
 */
export function keyPolicyAllowsRole(statements: readonly PolicyStatement[], role: string, keyArn: string | null): string[] {
  return allowedKmsActions(statements, keyArn, (s) => (s.effect === 'Deny' ? s.principal === '*' || namesRole(s, role) : namesRole(s, role)));
}

const grantsKms = (s: PolicyStatement): boolean => s.effect === 'Allow' && KMS_ACTIONS.some((a) => statementCoversAction(s, a));
const wildcardAction = (s: PolicyStatement): string | undefined => (s.action ?? []).find((a) => a === '*' || globMatch(a, 'kms:*', true) || (a.includes('*') && KMS_ACTIONS.filter((k) => globMatch(a, k, true)).length > 2));

interface RoleUnderReview {
  role: string;
  policies: RolePolicyEvidence[];
  nodes: string[];
  expected: boolean;
}

/** A role's findings, and the KMS actions its IAM policies allow on the CMK (null: no policy in the evidence). */
function roleFindings(r: RoleUnderReview, cmkArn: string | null, keyPolicyGrants: readonly string[] = []): { findings: Finding[]; allowed: string[] | null } {
  const out: Finding[] = [];
  const nodes = r.nodes.length > 0 ? ` (${r.nodes.join(', ')})` : '';
  const add = (message: string, severity: Severity, evidence: Record<string, unknown>): void => {
    out.push({ message: `role ${r.role}${nodes}: ${message}`, severity, evidence: { role: r.role, ...(r.nodes.length ? { nodes: r.nodes } : {}), ...evidence } });
  };
  if (r.policies.length === 0) {
    add(`no IAM policy for this role in the evidence, so nothing shows it is allowed exactly kms:GenerateDataKey and kms:Decrypt on the CMK (export it: \`aws iam get-role-policy\` or \`aws iam get-account-authorization-details\`)`, 'medium', { missing: 'role policy' });
    return { findings: out, allowed: null };
  }
  const statements = r.policies.flatMap((p) => p.document.statements.map((s) => ({ s, p })));
  for (const { s, p } of statements) {
    if (!grantsKms(s)) continue;
    const at = { file: p.file, policy: p.policyName, statement: s.index, ...(s.sid ? { sid: s.sid } : {}) };
    const wild = wildcardAction(s);
    if (wild) add(`${p.policyName ?? p.file} ${stmtName(s)} allows "${wild}": every KMS action it matches, including ScheduleKeyDeletion, PutKeyPolicy and DisableKey, not only kms:GenerateDataKey and kms:Decrypt`, 'high', { ...at, action: wild });
    if (s.notAction) add(`${p.policyName ?? p.file} ${stmtName(s)} allows everything except ${list(s.notAction)} (NotAction): an Allow with NotAction grants every other action, KMS administration included`, 'high', { ...at, notAction: s.notAction });
    if ((s.resource ?? []).includes('*')) add(`${p.policyName ?? p.file} ${stmtName(s)} applies to Resource "*": every KMS key in the account, not just the CMK; scope it to the CMK's ARN`, 'high', { ...at, resource: '*' });
    if (s.notResource) add(`${p.policyName ?? p.file} ${stmtName(s)} uses NotResource: it applies to every key except ${list(s.notResource)}`, 'high', { ...at, notResource: s.notResource });
    if (s.condition) out.push({ message: `role ${r.role}${nodes}: ${p.policyName ?? p.file} ${stmtName(s)} has a Condition (not evaluated: it is judged as if it applied)`, severity: 'info', evidence: { role: r.role, ...at } });
  }
  const allowed = allowedKmsActions(statements.map((x) => x.s), cmkArn);
  const missing = REQUIRED_KMS_ACTIONS.filter((a) => !allowed.includes(a));
  const extra = allowed.filter((a) => !REQUIRED_KMS_ACTIONS.includes(a));
  const files = [...new Set(r.policies.map((p) => p.file))];
  if (missing.length > 0) {
    const coveredByKeyPolicy = missing.every((a) => keyPolicyGrants.includes(a));
    const effect = coveredByKeyPolicy
      ? 'the key policy grants it to the role directly, so KMS still allows it, but KMS-3 asks the role policy to say so too'
      : missing.includes('kms:Decrypt')
        ? 'its services cannot decrypt the RMK and stay in Error (KMS-8)'
        : 'it cannot generate a new RMK (set-mode, regenerate-internal-tokens, restore)';
    add(`not allowed ${list(missing)} on ${cmkArn ?? 'the CMK'} by its IAM policy: ${effect}`, coveredByKeyPolicy ? 'medium' : 'high', { files, missing, allowed });
  }
  if (extra.length > 0) add(`also allowed ${extra.length} more KMS action(s) on ${cmkArn ?? 'the CMK'}: ${list(extra.slice(0, 12))}${extra.length > 12 ? ', …' : ''}; least privilege is exactly kms:GenerateDataKey and kms:Decrypt`, 'medium', { files, extra });
  return { findings: out, allowed };
}

/** A key policy's findings, and per role what it allows that role on the CMK. */
function keyPolicyFindings(k: KeyPolicyEvidence, roles: readonly RoleUnderReview[], cmkArn: string | null): { findings: Finding[]; rows: { keyPolicy: string; role: string; allowed: string[] }[] } {
  const out: Finding[] = [];
  const rows: { keyPolicy: string; role: string; allowed: string[] }[] = [];
  const add = (message: string, severity: Severity, evidence: Record<string, unknown>): void => {
    out.push({ message: `key policy ${k.file}: ${message}`, severity, evidence: { file: k.file, ...evidence } });
  };
  const statements = k.document.statements;
  let delegates = false;
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    const at = { statement: s.index, ...(s.sid ? { sid: s.sid } : {}) };
    if (s.principal === '*') {
      add(`${stmtName(s)} allows Principal "*" ${list(s.action ?? ['(NotAction)'])}: any AWS principal, in any account${s.condition ? ' (a Condition may narrow it; it is not evaluated here)' : ''}, may use the key`, 'high', { ...at, principal: '*' });
    } else if (s.notPrincipal) {
      add(`${stmtName(s)} allows everyone except the NotPrincipal list: any other AWS principal may use the key`, 'high', { ...at, notPrincipal: true });
    } else if (principalIsAccountRoot(s.principal)) {
      if (wildcardAction(s)) delegates = true;
    } else {
      const wild = wildcardAction(s);
      if (wild) add(`${stmtName(s)} allows "${wild}" to ${list(s.principal?.AWS ?? Object.values(s.principal ?? {}).flat())}: every key operation, including deleting the key and changing this policy`, 'high', { ...at, action: wild });
    }
  }
  if (delegates) out.push({ message: `key policy ${k.file}: the account root has kms:* ("Enable IAM User Permissions"): IAM policies may also grant use of the key, so the role policies are judged too`, severity: 'info', evidence: { file: k.file } });
  for (const r of roles) {
    const named = statements.filter((s) => s.effect === 'Allow' && namesRole(s, r.role));
    const allowed = keyPolicyAllowsRole(statements, r.role, cmkArn);
    rows.push({ keyPolicy: k.file, role: r.role, allowed });
    const nodes = r.nodes.length > 0 ? ` (${r.nodes.join(', ')})` : '';
    if (named.length === 0) {
      add(
        delegates
          ? `does not name role ${r.role}${nodes}: it only delegates to IAM through the account root; KMS-3 asks the key policy itself to allow this role kms:GenerateDataKey and kms:Decrypt`
          : `gives role ${r.role}${nodes} no access: without a statement for it (or the account root's delegation to IAM) its nodes cannot use the CMK`,
        delegates ? 'medium' : 'high',
        { role: r.role },
      );
      continue;
    }
    const missing = REQUIRED_KMS_ACTIONS.filter((a) => !allowed.includes(a));
    const extra = allowed.filter((a) => !REQUIRED_KMS_ACTIONS.includes(a));
    if (missing.length > 0) add(`does not allow role ${r.role}${nodes} ${list(missing)}`, 'high', { role: r.role, missing, allowed });
    if (extra.length > 0) add(`also allows role ${r.role}${nodes} ${list(extra.slice(0, 12))}${extra.length > 12 ? ', …' : ''}: least privilege is exactly kms:GenerateDataKey and kms:Decrypt`, 'medium', { role: r.role, extra });
  }
  return { findings: out, rows };
}

export function kmsLeastPrivilegeCheck(input: LeastPrivilegeInput, ctx: RuleContext): Check {
  const roles = new Map<string, RoleUnderReview>();
  const role = (name: string): RoleUnderReview => {
    let r = roles.get(name);
    if (!r) {
      r = { role: name, policies: [], nodes: [], expected: false };
      roles.set(name, r);
    }
    return r;
  };
  const unnamed: RolePolicyEvidence[] = [];
  for (const a of input.aws) {
    if (a.kind !== 'role-policy') continue;
    if (a.roleName) role(a.roleName).policies.push(a);
    else unnamed.push(a);
  }
  for (const name of input.expectedRoles ?? []) role(name).expected = true;
  for (const n of input.logs ?? []) for (const name of n.roles) if (!role(name).nodes.includes(n.node)) role(name).nodes.push(n.node);
  const reviewed = [...roles.values()].sort((a, b) => a.role.localeCompare(b.role, 'en', { numeric: true }));

  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  const keyPolicies = input.aws.filter((a): a is KeyPolicyEvidence => a.kind === 'key-policy');
  const byKeyPolicy = keyPolicies.map((k) => keyPolicyFindings(k, reviewed, input.cmkArn));
  // What the key policies grant each role directly (a key policy alone is enough for KMS to allow it).
  const grantedByKeyPolicy = (role: string): string[] => byKeyPolicy.flatMap(({ rows }) => rows.filter((row) => row.role === role).flatMap((row) => row.allowed));
  for (const r of reviewed) {
    const { findings: rf, allowed } = roleFindings(r, input.cmkArn, grantedByKeyPolicy(r.role));
    for (const f of rf) findings.push(f.severity === 'info' ? f : withWaiver(ctx, KMS_LEAST_PRIVILEGE, f));
    observed.push({ role: r.role, nodes: r.nodes, policies: r.policies.map((p) => `${p.policyName ?? '(document)'} (${p.file})`), allowedOnCmk: allowed, expected: r.expected });
  }
  for (const p of unnamed) {
    const pseudo: RoleUnderReview = { role: `(unnamed, ${p.file})`, policies: [p], nodes: [], expected: false };
    findings.push({ message: `${p.file}: a bare identity policy document that does not say which role it belongs to; judged on its own (export with \`aws iam get-role-policy\` so the role is named)`, severity: 'low', evidence: { file: p.file } });
    for (const f of roleFindings(pseudo, input.cmkArn).findings) findings.push(f.severity === 'info' ? f : withWaiver(ctx, KMS_LEAST_PRIVILEGE, f));
  }
  for (const { findings: kf, rows } of byKeyPolicy) {
    for (const f of kf) findings.push(f.severity === 'info' ? f : withWaiver(ctx, KMS_LEAST_PRIVILEGE, f));
    observed.push(...rows);
  }
  const rolePolicies = input.aws.filter((a) => a.kind === 'role-policy').length;
  if (keyPolicies.length === 0 && rolePolicies > 0) {
    findings.push({ message: 'Not judged: no key policy export in the evidence (`aws kms get-key-policy --key-id <ARN> --policy-name default`), so only the role policies were checked', severity: 'info', evidence: { missing: 'key policy' } });
  }
  const check = makeCheck({
    id: KMS_LEAST_PRIVILEGE,
    title: 'Node roles and the key policy allow exactly kms:GenerateDataKey and kms:Decrypt on the CMK',
    behaviour: ['KMS-3'],
    severity: 'high',
    findings,
    observed,
    remediation:
      'Give each node\'s instance role one statement: {"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt"],"Resource":"<CMK ARN>"}, and add to the key policy a statement allowing that role (Principal {"AWS":"arn:aws:iam::<account>:role/<role>"}) the same two actions; remove kms:*, "*" principals and "*" resources.',
  });
  if (keyPolicies.length === 0 && rolePolicies === 0) {
    // Nothing to judge: the roles we know of are listed, not failed one by one.
    check.status = 'skip';
    check.findings = [
      {
        message: `No evidence: no IAM role policy or key policy export in the folder${reviewed.length ? ` (roles known from the policy file or logs: ${reviewed.map((r) => r.role).join(', ')})` : ''}`,
        severity: 'info',
        evidence: { missing: 'role and key policies' },
      },
    ];
  }
  return check;
}
