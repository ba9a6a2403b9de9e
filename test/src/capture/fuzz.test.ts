// Mutation fuzzing of the capture reader and classifier: ≥ 100k corrupted captures made
// from real and synthetic seeds. Every one must either be judged or be refused with an
// InputError naming the file and offset: no other exception, no hang (the test has a
// timeout), no runaway memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../../src/capture/byte-source.js';
import { readCapture } from '../../../src/capture/reader.js';
import { portRanks, TrafficAnalyzer } from '../../../src/capture/traffic-analyzer.js';
import { NodeSet } from '../../../src/compliance/node-set.js';
import { InputError } from '../../../src/util/errors.js';
import { fuzzSeeds } from '../../helpers/seed-captures.js';

const ITERATIONS = Number(process.env.CRYPTGATE_FUZZ_ITERATIONS ?? 100_000);

/** A small deterministic PRNG (xorshift32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 12, 16, 28, 32, 262144, 262145, 0x0a0d0d0a, 0x1a2b3c4d];

function mutate(seed: Buffer, next: () => number, seeds: Buffer[]): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + (next() % 4);
  for (let r = 0; r < rounds; r++) {
    const op = next() % 7;
    if (b.length === 0) break;
    if (op === 0) {
      const flips = 1 + (next() % 8);
      for (let i = 0; i < flips; i++) b[next() % b.length]! ^= 1 << (next() % 8);
    } else if (op === 1 && b.length >= 4) {
      // Length fields live at 4-byte alignment in both formats: hit them with boundary values.
      const at = (next() % (b.length >> 2)) << 2;
      const v = INTERESTING[next() % INTERESTING.length]!;
      if (at + 4 <= b.length) next() & 1 ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at);
    } else if (op === 2) {
      b = b.subarray(0, next() % b.length);
    } else if (op === 3) {
      const at = next() % b.length;
      const len = next() % Math.min(256, b.length - at + 1);
      b = Buffer.concat([b.subarray(0, at), b.subarray(at + len)]);
    } else if (op === 4) {
      const at = next() % b.length;
      const len = next() % Math.min(512, b.length - at + 1);
      b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    } else if (op === 5) {
      const other = seeds[next() % seeds.length]!;
      const cut = next() % b.length;
      b = Buffer.concat([b.subarray(0, cut), other.subarray(next() % Math.max(1, other.length))]);
    } else {
      b[next() % b.length] = next() & 0xff;
    }
  }
  return b;
}

test('≥ 100k corrupted captures are judged or refused with an InputError, never a crash', { timeout: 900_000 }, async () => {
  const seeds = fuzzSeeds();
  assert.ok(seeds.length >= 4, 'need seeds');
  const nodes = new NodeSet(['10.77.0.0/24', '192.0.2.0/24', '2001:db8::/32']);
  const ranks = portRanks((p) => p === 8060 || p === 8850);
  const next = rng(0xc0ffee);
  let judged = 0;
  let refused = 0;
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(seeds[i % seeds.length]!, next, seeds);
    const analyzer = new TrafficAnalyzer({ nodes, portRanks: ranks, espNullPackets: 4 });
    analyzer.beginFile(`fuzz-${i}`);
    try {
      await readCapture(`fuzz-${i}`, new BufferSource(input), analyzer, { allowTruncated: (i & 1) === 1 });
      analyzer.facts();
      judged++;
    } catch (err) {
      if (!(err instanceof InputError)) {
        assert.fail(`iteration ${i}: ${(err as Error).stack}\ninput (hex): ${input.subarray(0, 256).toString('hex')}`);
      }
      assert.match(err.message, new RegExp(`^fuzz-${i}: `), 'the error names the file');
      refused++;
    }
  }
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.equal(judged + refused, ITERATIONS);
  assert.ok(judged > ITERATIONS / 20, `too few inputs judged (${judged}): the mutations are not exercising the decoders`);
  assert.ok(refused > ITERATIONS / 20, `too few inputs refused (${refused})`);
  assert.ok(grown < 200, `memory grew by ${grown.toFixed(0)} MiB`);
});
