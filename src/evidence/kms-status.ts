// Reads `tsm security kms status` output (KMS-6) into facts. Tableau documents the fields,
// not the layout, so this reader keys on labels, not positions, and tolerates what a real
// capture of the command brings: CRLF, a BOM, banner/job lines, blank lines, indentation,
// label case, "Created at: …Z." with a trailing full stop, "none"/"-" for missing times.
// What it cannot read as a KMS status (a MEK state it does not know, a timestamp that is not
// one, no Status line at all) is a FormatError naming the line.
import { LineFormatError, splitLines } from './lines.js';
import { readTextFile } from './text-source.js';

export type MekStateEvidence = 'encryption/decryption' | 'decryption-only';

export interface MekEvidence {
  id: string;
  state: MekStateEvidence;
  createdAt: string | null;
  firstEncryptDecryptAt: string | null;
  decryptOnlyAt: string | null;
  /** The line the MEK's id is on. */
  line: number;
}

export interface KmsStatusEvidence {
  file: string;
  /** 'aws', 'local', 'azure', or null when the output names no mode. */
  mode: 'aws' | 'local' | 'azure' | null;
  cmkArn: string | null;
  region: string | null;
  rmkId: string | null;
  /** Every RMK id the output names (KMS-6: there must be exactly one). */
  rmkIds: string[];
  meks: MekEvidence[];
  ok: boolean;
  /** The status line's text after "Status:" when it is not OK. */
  error: string | null;
  /** The node the status was taken on, when the output says. */
  checkedOn: string | null;
}

const NONE = /^(none|-|n\/a|null|never|\(none\))$/i;

function value(raw: string): string | null {
  const v = raw.trim().replace(/^["']|["']$/g, '');
  return v === '' || NONE.test(v) ? null : v;
}

function timestamp(file: string, line: number, field: string, raw: string): string | null {
  let v = value(raw);
  if (v === null) return null;
  v = v.replace(/[.,;]$/, '').replace(/^"|"$/g, '');
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(v) || Number.isNaN(Date.parse(v))) {
    throw new LineFormatError(file, line, field, 'an ISO 8601 timestamp such as 2019-05-29T23:46:54Z, or none', `'${raw.trim()}'`);
  }
  return v;
}

function mekState(file: string, line: number, raw: string): MekStateEvidence {
  const v = raw.trim().toLowerCase();
  if (/decrypt(ion)?[-_ ]?only/.test(v)) return 'decryption-only';
  if (/encrypt(ion)?\s*(\/|or|and|&)\s*decrypt(ion)?/.test(v)) return 'encryption/decryption';
  throw new LineFormatError(file, line, 'MEK state', '"encryption/decryption" or "decryption-only"', `'${raw.trim()}'`);
}

/** Parses status text. Pure: `file` only names the source in errors. */
export function parseKmsStatus(text: string, file = '<kms status>'): KmsStatusEvidence {
  const out: KmsStatusEvidence = { file, mode: null, cmkArn: null, region: null, rmkId: null, rmkIds: [], meks: [], ok: false, error: null, checkedOn: null };
  let statusLine: { text: string; line: number } | undefined;
  let mek: MekEvidence | undefined;
  let recognised = 0;
  const stateSeen = new Set<MekEvidence>();
  for (const { text: raw, number } of splitLines(text)) {
    const t = raw.trim();
    if (t === '') continue;
    const m = /^([^:]+?)\s*:\s*(.*)$/.exec(t);
    if (!m) continue;
    const label = m[1]!.toLowerCase().replace(/\s+/g, ' ');
    const rest = m[2]!;
    // Order matters: "state" before "status", MEK fields before the generic ones.
    if (/^(mek )?id$/.test(label) || /^(master extract key|mek) id$/.test(label)) {
      const id = value(rest);
      if (id === null) throw new LineFormatError(file, number, 'MEK ID', 'an id');
      mek = { id, state: 'decryption-only', createdAt: null, firstEncryptDecryptAt: null, decryptOnlyAt: null, line: number };
      out.meks.push(mek);
      recognised++;
    } else if (label === 'state' || label === 'mek state' || label === 'key state') {
      if (!mek) throw new LineFormatError(file, number, 'State', 'a MEK ID line before it');
      mek.state = mekState(file, number, rest);
      stateSeen.add(mek);
    } else if (/^created( at| on)?$/.test(label) || label === 'creation timestamp') {
      if (!mek) throw new LineFormatError(file, number, 'Created at', 'a MEK ID line before it');
      mek.createdAt = timestamp(file, number, 'Created at', rest);
    } else if (/first transition/.test(label)) {
      if (!mek) throw new LineFormatError(file, number, 'First transition', 'a MEK ID line before it');
      mek.firstEncryptDecryptAt = timestamp(file, number, 'First transition to encrypt/decrypt', rest);
    } else if (/transition to decrypt/.test(label)) {
      if (!mek) throw new LineFormatError(file, number, 'Transition to decrypt-only', 'a MEK ID line before it');
      mek.decryptOnlyAt = timestamp(file, number, 'Transition to decrypt-only', rest);
    } else if (/(^| )mode$/.test(label)) {
      const v = rest.toLowerCase();
      out.mode = /aws/.test(v) ? 'aws' : /azure/.test(v) ? 'azure' : /local/.test(v) ? 'local' : null;
      if (out.mode === null) throw new LineFormatError(file, number, 'KMS mode', 'AWS, local or Azure', `'${rest.trim()}'`);
      recognised++;
    } else if (/\barn\b/.test(label) && /^arn:/.test(rest.trim())) {
      out.cmkArn = rest.trim().split(/\s+/)[0]!;
      recognised++;
    } else if (/(^| )region$/.test(label)) {
      out.region = value(rest);
      recognised++;
    } else if (/\brmk\b|root master key/.test(label)) {
      out.rmkId = value(rest);
      if (out.rmkId !== null) out.rmkIds.push(out.rmkId);
      recognised++;
    } else if (/^checked on$/.test(label)) {
      out.checkedOn = value(rest)?.split(/\s+/)[0] ?? null;
    } else if (label === 'status') {
      statusLine = { text: rest.trim(), line: number };
    }
  }
  for (const m of out.meks) {
    if (!stateSeen.has(m)) throw new LineFormatError(file, m.line, `MEK ${m.id}`, 'a State line (encryption/decryption or decryption-only)');
  }
  if (!statusLine) {
    if (recognised === 0) throw new LineFormatError(file, 1, 'KMS status', 'the output of `tsm security kms status` (mode, RMK, MEKs, Status)');
    throw new LineFormatError(file, 1, 'Status', "a 'Status:' line (OK or the error)");
  }
  if (/^ok\b/i.test(statusLine.text)) out.ok = true;
  else out.error = statusLine.text.replace(/^(error|failed|fail)\s*[:-]?\s*/i, '') || statusLine.text;
  return out;
}

/** Reads a status capture from a file (status output is small; read whole; UTF-16 from PowerShell too). */
export async function readKmsStatus(path: string): Promise<KmsStatusEvidence> {
  return parseKmsStatus((await readTextFile(path, 4 << 20)).text, path);
}

/** Does this text look like `tsm security kms status` output? (Its labels, not its name.) Pure. */
export function looksLikeKmsStatus(head: string): boolean {
  // Labels at the start of a line, before its first colon (a JSON or log line that merely
  // mentions a CMK ARN is not status output).
  const labels = [
    /^[ \t]*(kms )?mode[ \t]*:/im,
    /^[ \t]*[^:\n{}"]*\bcmk\b[^:\n{}"]*\barn\b[^:\n{}"]*:/im,
    /^[ \t]*[^:\n{}"]*(\brmk\b|root master key)[^:\n{}"]*:/im,
    /^[ \t]*(mek id|master extract key)[^:\n{}"]*:/im,
    /^[ \t]*status[ \t]*:/im,
    /^[ \t]*root of the key hierarchy[ \t]*:/im,
  ];
  return labels.filter((re) => re.test(head)).length >= 2;
}
