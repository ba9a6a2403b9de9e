#!/usr/bin/env node
// Judges every capture listed in <dir>/manifest.json and compares the verdicts, the
// plaintext flows and the negotiated IKE SAs with the manifest's ground truth.
// Usage: node scripts/verify-captures.mjs <dir>   (after npm run build)
import { readManifest, verdictMismatches } from '../dist/test/helpers/manifest-verdicts.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/verify-captures.mjs <folder with manifest.json>');
  process.exit(2);
}
let bad = 0;
const entries = readManifest(dir);
for (const entry of entries) {
  const mismatches = await verdictMismatches(dir, entry);
  console.log(`${mismatches.length === 0 ? 'ok  ' : 'FAIL'} ${entry.file} (${entry.scenario})`);
  for (const m of mismatches) {
    bad++;
    console.log(`     ${m.what}: expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`);
  }
}
console.log(`${entries.length} captures checked, ${bad} mismatches`);
process.exit(bad === 0 ? 0 : 1);
