// The text `tsm security kms status` prints in the simulator (KMS-6). Tableau documents the
// fields, not the layout; this layout is ours, and src/evidence/kms-status.ts reads it (and
// is tolerant enough for the real tool's variations: CRLF, BOM, extra lines, label case).
//
//   KMS mode: AWS
//   Customer master key (CMK) ARN: arn:aws:kms:us-west-2:111122223333:key/…
//   Region: us-west-2
//   Root master key (RMK) ID in use: 6d3f…
//   Master extract keys (MEKs): 2
//     MEK ID: 8ddd70df-be67-4dbf-9c35-1f0aa2421521
//       State: encryption/decryption
//       Created at: 2019-05-29T23:46:54Z
//       First transition to encrypt/decrypt: 2019-05-29T23:46:54Z
//       Transition to decrypt-only: none
//   Checked on: node1 (initial node, Tableau Server Administration Controller)
//   Status: OK                      (or: Status: ERROR: <what the initial node saw>)
import type { KmsStorage } from './model.js';

export interface StatusView {
  storage: KmsStorage;
  checkedOn: string;
  localRootId?: string;
  error?: string;
}

export function formatKmsStatus(v: StatusView): string {
  const s = v.storage;
  const lines: string[] = [];
  lines.push(`KMS mode: ${s.mode === 'aws' ? 'AWS' : 'local'}`);
  if (s.mode === 'aws' && s.aws) {
    lines.push(`Customer master key (CMK) ARN: ${s.aws.cmkArn}`);
    lines.push(`Region: ${s.aws.region}`);
  } else {
    lines.push(`Root of the key hierarchy: local keystore${v.localRootId ? ` ${v.localRootId}` : ''}`);
  }
  lines.push(`Root master key (RMK) ID in use: ${s.rmk.id}`);
  lines.push(`Master extract keys (MEKs): ${s.meks.length}`);
  for (const m of s.meks) {
    lines.push(`  MEK ID: ${m.id}`);
    lines.push(`    State: ${m.state}`);
    lines.push(`    Created at: ${m.createdAt}`);
    lines.push(`    First transition to encrypt/decrypt: ${m.firstEncryptDecryptAt ?? 'none'}`);
    lines.push(`    Transition to decrypt-only: ${m.decryptOnlyAt ?? 'none'}`);
  }
  lines.push(`Checked on: ${v.checkedOn} (initial node, Tableau Server Administration Controller)`);
  lines.push(v.error === undefined ? 'Status: OK' : `Status: ERROR: ${v.error.replace(/[\r\n]+/g, ' ')}`);
  return `${lines.join('\n')}\n`;
}
