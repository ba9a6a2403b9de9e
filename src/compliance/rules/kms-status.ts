// kms.status (KMS-1, KMS-6): what `tsm security kms status` says must hold together: AWS
// mode, a well-formed CMK ARN whose region is the region shown, one RMK in use, exactly one
// MEK that encrypts, every other MEK decrypt-only, and transition times in order (a MEK
// becomes the encryption key only once the previous one has gone decrypt-only).
import type { KmsStatusEvidence, MekEvidence } from '../../evidence/kms-status.js';
import { readKmsKeyArn } from '../../evidence/aws-arn.js';
import type { Check, Finding, Severity } from '../../report/model.js';
import { makeCheck, markSkipped, withWaiver, type RuleContext } from '../rule-kit.js';

export const KMS_STATUS = 'kms.status';

const time = (t: string | null): number | null => {
  if (t === null) return null;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`);
  return Number.isNaN(ms) ? null : ms;
};

function mekRow(m: MekEvidence, file: string): Record<string, unknown> {
  return { file, line: m.line, mekId: m.id, state: m.state, createdAt: m.createdAt, firstEncryptDecryptAt: m.firstEncryptDecryptAt, decryptOnlyAt: m.decryptOnlyAt };
}

/** Invariant problems of one status output. */
export function statusFindings(s: KmsStatusEvidence): Finding[] {
  const out: Finding[] = [];
  // KMS-1 is the mode; everything else the status shows is KMS-6.
  const add = (message: string, severity: Severity, evidence: Record<string, unknown> = {}, behaviour = 'KMS-6'): void => {
    out.push({ message: `${s.file}: ${message}`, severity, behaviour: [behaviour], evidence: { file: s.file, ...evidence } });
  };
  if (!s.ok) add(`the status reports an error: ${s.error ?? 'not OK'}`, 'high', { status: s.error, checkedOn: s.checkedOn });
  if (s.mode === 'local' || s.mode === 'azure') {
    add(`KMS mode is ${s.mode}: extracts are not under a key hierarchy rooted in an AWS KMS CMK (set it with \`tsm security kms set-mode aws --aws-region R --key-arn ARN\`)`, 'high', { mode: s.mode }, 'KMS-1');
  } else if (s.mode === null && s.cmkArn === null) {
    add('the status names neither the KMS mode nor a CMK ARN', 'medium');
  }
  if (s.mode === 'aws' || s.cmkArn !== null) {
    if (s.cmkArn === null) add('AWS mode but no CMK ARN in the status', 'high');
    else {
      const arn = readKmsKeyArn(s.cmkArn);
      if (!arn.ok) add(`CMK ARN ${s.cmkArn} is not a valid KMS key ARN: ${arn.problem}`, 'high', { cmkArn: s.cmkArn });
      else if (s.region === null) add('no region in the status (the CMK ARN says ' + arn.value.region + ')', 'medium', { cmkArn: s.cmkArn });
      else if (s.region !== arn.value.region) add(`region ${s.region} but the CMK ARN is in ${arn.value.region}: the region and the ARN must name the same region`, 'high', { cmkArn: s.cmkArn, region: s.region });
    }
  }
  if (s.rmkIds.length === 0) add('no root master key (RMK) in use', 'high');
  else if (new Set(s.rmkIds).size > 1) add(`${new Set(s.rmkIds).size} RMK ids (${[...new Set(s.rmkIds)].join(', ')}): there is only one RMK in use at a time`, 'high', { rmkIds: s.rmkIds });

  const encrypting = s.meks.filter((m) => m.state === 'encryption/decryption');
  if (s.meks.length === 0) add('no master extract keys (MEKs) listed', 'high');
  else if (encrypting.length === 0) add('no MEK is in the encryption/decryption state: new extracts have no key to be encrypted with', 'high');
  else if (encrypting.length > 1) add(`${encrypting.length} MEKs are in the encryption/decryption state (${encrypting.map((m) => m.id).join(', ')}): exactly one may encrypt`, 'high', { mekIds: encrypting.map((m) => m.id) });

  for (const m of s.meks) {
    const c = time(m.createdAt);
    const f = time(m.firstEncryptDecryptAt);
    const d = time(m.decryptOnlyAt);
    const row = mekRow(m, s.file);
    if (m.state === 'decryption-only' && m.decryptOnlyAt === null) add(`MEK ${m.id} (line ${m.line}) is decryption-only but shows no transition-to-decrypt-only time`, 'low', row);
    if (m.state === 'encryption/decryption' && m.decryptOnlyAt !== null) add(`MEK ${m.id} (line ${m.line}) encrypts but shows a transition to decrypt-only at ${m.decryptOnlyAt}`, 'medium', row);
    if (c !== null && f !== null && f < c) add(`MEK ${m.id} (line ${m.line}) became an encryption key (${m.firstEncryptDecryptAt}) before it was created (${m.createdAt})`, 'medium', row);
    if (f !== null && d !== null && d < f) add(`MEK ${m.id} (line ${m.line}) went decrypt-only (${m.decryptOnlyAt}) before it first encrypted (${m.firstEncryptDecryptAt})`, 'medium', row);
  }
  // One encryption key at a time: ordered by when each began to encrypt, each must have gone
  // decrypt-only no later than the next one began.
  const timeline = s.meks
    .filter((m) => time(m.firstEncryptDecryptAt) !== null)
    .sort((a, b) => time(a.firstEncryptDecryptAt)! - time(b.firstEncryptDecryptAt)!);
  for (let i = 0; i + 1 < timeline.length; i++) {
    const a = timeline[i]!;
    const b = timeline[i + 1]!;
    const aEnd = time(a.decryptOnlyAt);
    if (aEnd !== null && aEnd > time(b.firstEncryptDecryptAt)!) {
      add(`MEK ${a.id} still encrypted until ${a.decryptOnlyAt}, after MEK ${b.id} became the encryption key at ${b.firstEncryptDecryptAt}: two encryption keys at once`, 'medium', { mekIds: [a.id, b.id] });
    }
  }
  return out;
}

export function kmsStatusCheck(statuses: readonly KmsStatusEvidence[], ctx: RuleContext): Check {
  const findings: Finding[] = [];
  const observed: Record<string, unknown>[] = [];
  for (const s of statuses) {
    for (const f of statusFindings(s)) findings.push(withWaiver(ctx, KMS_STATUS, f));
    observed.push({ file: s.file, mode: s.mode, cmkArn: s.cmkArn, region: s.region, rmkId: s.rmkId, meks: s.meks.length, encryptionMeks: s.meks.filter((m) => m.state === 'encryption/decryption').length, status: s.ok ? 'OK' : (s.error ?? 'not OK'), checkedOn: s.checkedOn });
    for (const m of s.meks) observed.push({ ...mekRow(m, s.file), timeline: true });
  }
  const check = makeCheck({
    id: KMS_STATUS,
    title: '`tsm security kms status`: AWS mode, one RMK, exactly one encryption MEK, transitions in order',
    behaviour: ['KMS-1', 'KMS-6'],
    severity: 'high',
    findings,
    observed,
    remediation:
      'Set AWS mode with `tsm security kms set-mode aws --aws-region <region> --key-arn <ARN>` (the region must be the one in the ARN). If the MEK states are inconsistent, run `tsm security regenerate-internal-tokens`, then `tabcmd reencryptextracts <site>` on every site, and capture the status again.',
  });
  if (statuses.length === 0) {
    markSkipped(check, 'No evidence: no `tsm security kms status` output in the folder (save it with `tsm security kms status > kms-status.txt` on the initial node)', { missing: 'kms status output' });
  }
  return check;
}
