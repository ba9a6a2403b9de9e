// Finds the evidence in an audit folder by what each file contains, never by its name: a
// capture by its magic number (under gzip too), a Tableau log by the shape of its first line,
// `tsm security kms status` output by its labels, `netsh advfirewall consec` output by its
// fields, and JSON by its shape (AWS policy exports, PowerShell NetIPsec exports, the simulated
// cluster's IPsec policy model). Every file
// is listed; one that is none of these is "unrecognised" and the report says so. A file that
// starts like a known format but breaks it is malformed evidence: a FormatError (exit 2).
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { readRawHead, readTextFile, readTextHead, type TextSourceInfo } from '../evidence/text-source.js';
import { sniffTableauLog } from '../evidence/tableau-logs.js';
import { looksLikeKmsStatus } from '../evidence/kms-status.js';
import { awsPolicyShape } from '../evidence/aws-policy.js';
import { parseJsonText } from '../evidence/json-doc.js';
import { looksLikeIpsecPolicyModel, looksLikeNetshConsec, windowsIpsecShape } from '../evidence/windows-ipsec.js';
import { InputError } from '../util/errors.js';

export type EvidenceKind = 'capture' | 'java-log' | 'native-log' | 'kms-status' | 'aws-policy' | 'windows-ipsec-json' | 'netsh-consec' | 'ipsec-policy-model' | 'unrecognised';

export interface EvidenceFile {
  /** As given (folder joined with the relative path). */
  path: string;
  /** Relative to the audit folder, with forward slashes: the name the report uses. */
  rel: string;
  bytes: number;
  kind: EvidenceKind;
  /** What a reviewer reads in the inputs table: "pcapng", "Tableau Java log (gzip)", … */
  format: string;
  /** Why a file was not recognised. */
  reason?: string;
  /** JSON evidence: the parsed document (small files; read once). */
  json?: unknown;
}

const CAPTURE_MAGIC: Record<string, string> = {
  a1b2c3d4: 'pcap',
  d4c3b2a1: 'pcap',
  a1b23c4d: 'pcap (nanosecond)',
  '4d3cb2a1': 'pcap (nanosecond)',
  '0a0d0d0a': 'pcapng',
};

function encodingNote(info: TextSourceInfo): string {
  const parts: string[] = [];
  if (info.gzip) parts.push('gzip');
  if (info.encoding !== 'utf-8') parts.push(info.encoding.toUpperCase().replace('UTF-16', 'UTF-16 '));
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Text that is not text: NULs or a run of undecodable bytes. */
function binary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  let bad = 0;
  for (let i = 0; i < text.length && i < 4096; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  return bad > 8;
}

/**
 * Bytes JSON can never hold: C0 controls other than white space (JSON escapes them even in
 * strings) and undecodable bytes. A binary file whose first byte happens to be '{' (a random
 * key, 1 in 256) has some; it is not malformed JSON evidence but no evidence at all.
 */
const NOT_JSON = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/;

/** JSON-lines of some other tool: every one of the first lines is a JSON value on its own. */
function jsonLines(head: string): boolean {
  const lines = head.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 5);
  if (lines.length < 2) return false;
  return lines.slice(0, -1).every((l) => {
    try {
      JSON.parse(l);
      return true;
    } catch {
      return false;
    }
  });
}

/** What one file is. Pure of the folder walk; reads at most a head, or a whole small JSON document. */
export async function classifyEvidenceFile(path: string, rel: string): Promise<EvidenceFile> {
  const raw = await readRawHead(path, 8);
  const base = { path, rel, bytes: raw.size };
  if (raw.size === 0) return { ...base, kind: 'unrecognised', format: 'empty', reason: 'empty file' };
  const magic = raw.bytes.subarray(0, 4).toString('hex');
  if (raw.bytes.length >= 4 && CAPTURE_MAGIC[magic]) return { ...base, kind: 'capture', format: `${CAPTURE_MAGIC[magic]}${raw.gzip ? ' (gzip)' : ''}` };
  const head = await readTextHead(path, 64 << 10);
  if (binary(head.text)) return { ...base, kind: 'unrecognised', format: `binary${raw.gzip ? ' (gzip)' : ''}`, reason: 'binary data of no known evidence format' };
  const note = encodingNote(head.info);
  const log = sniffTableauLog(head.text);
  if (log === 'java') return { ...base, kind: 'java-log', format: `Tableau Java log${note}` };
  if (log === 'native') return { ...base, kind: 'native-log', format: `Tableau native JSON log${note}` };
  const trimmed = head.text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    if (NOT_JSON.test(head.text)) return { ...base, kind: 'unrecognised', format: `binary${raw.gzip ? ' (gzip)' : ''}`, reason: 'binary data of no known evidence format' };
    if (jsonLines(head.text)) return { ...base, kind: 'unrecognised', format: `JSON lines${note}`, reason: 'JSON lines of no known evidence format' };
    const doc = parseJsonText((await readTextFile(path)).text, rel);
    if (awsPolicyShape(doc)) return { ...base, kind: 'aws-policy', format: `AWS policy export (${awsPolicyShape(doc)})${note}`, json: doc };
    const win = windowsIpsecShape(doc);
    if (win) return { ...base, kind: 'windows-ipsec-json', format: `PowerShell ${win} (ConvertTo-Json)${note}`, json: doc };
    if (looksLikeIpsecPolicyModel(doc)) return { ...base, kind: 'ipsec-policy-model', format: `cryptgate IPsec policy model (simulated cluster)${note}`, json: doc };
    return { ...base, kind: 'unrecognised', format: `JSON${note}`, reason: 'JSON of no known evidence shape' };
  }
  if (looksLikeNetshConsec(head.text)) return { ...base, kind: 'netsh-consec', format: `netsh advfirewall consec rules${note}` };
  if (looksLikeKmsStatus(head.text)) return { ...base, kind: 'kms-status', format: `tsm security kms status${note}` };
  return { ...base, kind: 'unrecognised', format: `text${note}`, reason: 'text of no known evidence format' };
}

/** Every file under `folder` (recursively, sorted), classified by content. */
export async function discoverEvidence(folder: string): Promise<EvidenceFile[]> {
  let top;
  try {
    top = await stat(folder);
  } catch {
    throw new InputError(`${folder}: no such folder (expected a folder of evidence files)`);
  }
  if (!top.isDirectory()) throw new InputError(`${folder}: not a folder (expected a folder of evidence files)`);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(p);
      else if (e.isSymbolicLink()) {
        const s = await stat(p).catch(() => undefined);
        if (s?.isFile()) files.push(p);
      }
    }
  };
  await walk(folder);
  const out: EvidenceFile[] = [];
  for (const p of files) out.push(await classifyEvidenceFile(p, relative(folder, p).split(sep).join('/')));
  return out;
}
