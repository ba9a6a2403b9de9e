// Seed captures for fuzzing: the real strongSwan fixtures (written by tcpdump and
// editcap) plus synthetic files covering every format branch the reader has.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/package-info.js';
import { syntheticCaptures } from './synthetic-captures.js';

export const REAL_CAPTURE_DIR = join(packageRoot(), 'test/fixtures/captures/strongswan');

/** Real captures, cut to their first 8 KiB so each fuzz iteration stays cheap. */
export function realCaptureHeads(bytes = 8192): Buffer[] {
  return readdirSync(REAL_CAPTURE_DIR)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort()
    .map((f) => readFileSync(join(REAL_CAPTURE_DIR, f)).subarray(0, bytes));
}

export function fuzzSeeds(): Buffer[] {
  return [...realCaptureHeads(), ...syntheticCaptures().map((c) => c.bytes)];
}
