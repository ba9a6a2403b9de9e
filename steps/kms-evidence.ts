// What the KMS steps read that src/evidence/ does not (yet): an administrator's terminal
// transcript of one command and a scan of files for plaintext key bytes; and the IAM and
// key policy grants the KMS-3 steps assert, judged by src/compliance's least-privilege
// evaluation. Each reads text or bytes a reviewer holding the scenario's evidence folder
// also holds; none looks at simulator state.
import { readFileSync } from 'node:fs';
import { allowedKmsActions } from '../src/compliance/rules/kms-least-privilege.js';
import { parsePolicyDocument, principalNamesRole, roleNameOfArn, type PolicyStatement } from '../src/evidence/aws-policy.js';

// ---------------------------------------------------------------- command lines

/** Splits a command line as a shell would for simple cases: spaces, '…' and "…" quoting. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

// ---------------------------------------------------------------- transcripts

/**
 * One command as an administrator's terminal shows it:
 *   $ tsm security kms set-mode aws --aws-region us-east-1 --key-arn arn:…
 *   <output lines>
 *   cryptgate: <error message>        (only when it failed)
 *   exit code: 2
 */
export interface Transcript {
  command: string;
  output: string[];
  error: string | null;
  exitCode: number;
}

export function formatTranscript(t: Transcript): string {
  const lines = [`$ ${t.command}`, ...t.output];
  if (t.error !== null) lines.push(`cryptgate: ${t.error}`);
  lines.push(`exit code: ${t.exitCode}`);
  return `${lines.join('\n')}\n`;
}

export function parseTranscript(text: string, file: string): Transcript {
  const lines = text.replace(/\n$/, '').split('\n');
  const first = lines[0] ?? '';
  const last = lines[lines.length - 1] ?? '';
  const exit = /^exit code: (\d+)$/.exec(last);
  if (!first.startsWith('$ ') || !exit) throw new Error(`${file}: expected a transcript ('$ <command>' … 'exit code: <n>')`);
  let body = lines.slice(1, -1);
  let error: string | null = null;
  const e = body.length > 0 ? /^cryptgate: (.*)$/.exec(body[body.length - 1]!) : null;
  if (e) {
    error = e[1]!;
    body = body.slice(0, -1);
  }
  return { command: first.slice(2), output: body, error, exitCode: Number(exit[1]) };
}

// ---------------------------------------------------------------- policies (KMS-3)
// Judged as the kms.least-privilege rule judges them (src/compliance): wildcards, NotAction,
// Resource and unconditional Denies evaluated.

/** The KMS actions an identity (IAM) policy document allows on `keyArn`; `at` is its JSON pointer in `file`. */
export function identityGrants(policy: unknown, keyArn: string, file: string, at = ''): string[] {
  return allowedKmsActions(parsePolicyDocument(policy, file, at).statements, keyArn);
}

/**
 * The KMS actions a key policy allows the role `roleArn` (arn:aws:iam::<account>:role/<name>)
 * on `keyArn` directly: its statements naming that role of that account, or "*".
 */
export function keyPolicyGrants(policy: unknown, roleArn: string, keyArn: string, file: string): string[] {
  const role = roleNameOfArn(roleArn);
  if (role === null) throw new Error(`${roleArn}: expected a role ARN (arn:aws:iam::<account>:role/<name>)`);
  const account = roleArn.split(':')[4];
  const inAccount = (p: Record<string, string[]>): Record<string, string[]> => ({ AWS: (p.AWS ?? []).filter((a) => a.split(':')[4] === account) });
  const names = (s: PolicyStatement): boolean => s.principal === '*' || (s.principal !== null && principalNamesRole(inAccount(s.principal), role));
  return allowedKmsActions(parsePolicyDocument(policy, file).statements, keyArn, names);
}

// ---------------------------------------------------------------- plaintext keys

export interface KeyNeedle {
  kind: string;
  id: string;
  bytes: Buffer;
}

const hexPairs = (k: Buffer): string[] => k.toString('hex').match(/../g) ?? [];
/** Half a key is a leak too (and what a truncated log line would keep); none for keys under 16 bytes. */
const half = (k: Buffer, second: boolean): Buffer | undefined => (k.length < 16 ? undefined : second ? k.subarray(k.length >> 1) : k.subarray(0, k.length >> 1));
const hexOf = (b: Buffer | undefined): Buffer | undefined => (b === undefined ? undefined : Buffer.from(b.toString('hex')));

/** Every encoding of a key a careless writer might use, whole or half. */
export const KEY_ENCODINGS: readonly { name: string; of: (k: Buffer) => Buffer | undefined }[] = [
  { name: 'raw', of: (k) => k },
  { name: 'hex', of: (k) => Buffer.from(k.toString('hex')) },
  { name: 'HEX', of: (k) => Buffer.from(k.toString('hex').toUpperCase()) },
  { name: 'base64', of: (k) => Buffer.from(k.toString('base64')) },
  // unpadded: the padded needle would miss it
  { name: 'unpadded base64', of: (k) => Buffer.from(k.toString('base64').replace(/=+$/, '')) },
  { name: 'base64url', of: (k) => Buffer.from(k.toString('base64url')) },
  // a JSON array of bytes ("[12,34,…]") or Buffer.toJSON's data
  { name: 'JSON byte array', of: (k) => Buffer.from(JSON.stringify([...k])) },
  // console.log / util.inspect of a Buffer ("<Buffer 0a 1b …>"), and colon-separated hex
  { name: 'space-separated hex', of: (k) => Buffer.from(hexPairs(k).join(' ')) },
  { name: 'colon-separated hex', of: (k) => Buffer.from(hexPairs(k).join(':')) },
  { name: 'raw first half', of: (k) => half(k, false) },
  { name: 'raw second half', of: (k) => half(k, true) },
  { name: 'hex first half', of: (k) => hexOf(half(k, false)) },
  { name: 'hex second half', of: (k) => hexOf(half(k, true)) },
];

/** The needles for one key: each of KEY_ENCODINGS that applies to its length. */
export function encodings(k: Buffer): { name: string; bytes: Buffer }[] {
  return KEY_ENCODINGS.flatMap((e) => {
    const bytes = e.of(k);
    return bytes === undefined ? [] : [{ name: e.name, bytes }];
  });
}

export interface PlaintextHit {
  file: string;
  kind: string;
  id: string;
  encoding: string;
}

/** Where any of `keys`, in any of KEY_ENCODINGS, appears in `files`. */
export function plaintextKeyHits(files: readonly string[], keys: readonly KeyNeedle[]): PlaintextHit[] {
  const needles = keys.flatMap((k) => encodings(k.bytes).map((e) => ({ k, e })));
  const hits: PlaintextHit[] = [];
  for (const file of files) {
    const data = readFileSync(file);
    for (const { k, e } of needles) {
      if (data.indexOf(e.bytes) !== -1) hits.push({ file, kind: k.kind, id: k.id, encoding: e.name });
    }
  }
  return hits;
}
