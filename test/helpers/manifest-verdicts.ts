// Compares cryptgate's verdicts on a folder of real captures with the ground truth in
// its manifest.json (written by scripts/fixtures/make-strongswan-captures.sh). Used by the
// test suite on the committed fixtures and by CI on captures made fresh in the run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeCaptures } from '../../src/compliance/capture-judge.js';
import { NodeSet } from '../../src/compliance/node-set.js';
import { DEFAULT_POLICY } from '../../src/compliance/policy.js';

export interface ManifestEntry {
  file: string;
  scenario: string;
  nodes: string[];
  expect: Record<string, string>;
  plaintextFlows?: { src: string; dst: string; protocol: string; dstPort: number | null }[];
  ikeSAs?: { initiator: string; responder: string; ikeVersion: number; encryption: string; keyLength: number | null; integrity: string; prf: string; dhGroup: number }[];
}

export interface Mismatch {
  file: string;
  what: string;
  expected: unknown;
  actual: unknown;
}

export function readManifest(dir: string): ManifestEntry[] {
  const raw = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ManifestEntry[] | { captures: ManifestEntry[] };
  return Array.isArray(raw) ? raw : raw.captures;
}

const key = (o: Record<string, unknown>, fields: string[]): string => fields.map((f) => String(o[f] ?? null)).join('|');

export async function verdictMismatches(dir: string, entry: ManifestEntry): Promise<Mismatch[]> {
  const file = join(dir, entry.file);
  const judgement = await judgeCaptures({ files: [file], nodes: new NodeSet(entry.nodes), policy: DEFAULT_POLICY });
  const out: Mismatch[] = [];
  for (const [id, expected] of Object.entries(entry.expect)) {
    const check = judgement.checks.find((c) => c.id === id);
    if (check?.status !== expected) out.push({ file: entry.file, what: `${id} status`, expected, actual: check?.status });
  }
  if (entry.plaintextFlows) {
    const espOnly = judgement.checks.find((c) => c.id === 'ipsec.esp-only');
    const fields = ['src', 'dst', 'protocol', 'dstPort'];
    const actual = (espOnly?.findings ?? [])
      .filter((f) => f.severity !== 'info')
      .map((f) => key(f.evidence, fields))
      .sort();
    const expected = entry.plaintextFlows.map((f) => key(f, fields)).sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) out.push({ file: entry.file, what: 'plaintext flows between nodes', expected, actual });
  }
  if (entry.ikeSAs) {
    const ike = judgement.checks.find((c) => c.id === 'ipsec.ike-policy');
    const fields = ['initiator', 'responder', 'ikeVersion', 'encryption', 'keyLength', 'integrity', 'prf', 'dhGroup'];
    const actual = [...new Set((ike?.observed ?? []).filter((o) => o.status === 'negotiated').map((o) => key(o, fields)))].sort();
    const expected = [...new Set(entry.ikeSAs.map((s) => key(s, fields)))].sort();
    if (JSON.stringify(actual) !== JSON.stringify(expected)) out.push({ file: entry.file, what: 'negotiated IKE SAs', expected, actual });
  }
  return out;
}
