// A reproducible byte source for the simulated wire: the AES-256-CTR keystream under a key
// derived from the seed, so the same seed gives byte-for-byte the same capture (SPIs, keys,
// IVs, nonces, ports, sequence numbers, timings). It stands in for the nodes' random
// number generators only; the cryptography applied to the traffic is real.
import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const CHUNK = 64 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

export class SeededRandom {
  private readonly stream: Cipher;
  private pool = Buffer.alloc(0);
  private pos = 0;

  /** `label` separates independent streams drawn from one seed. */
  constructor(readonly seed: string | number, label = 'wire') {
    const key = createHash('sha256').update(`cryptgate/seeded-random/${label}/${String(seed)}`).digest();
    this.stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  }

  /** A derived, independent stream (e.g. one per node pair), unaffected by how much this one was used. */
  fork(label: string): SeededRandom {
    return new SeededRandom(this.seed, label);
  }

  private refill(): void {
    this.pool = this.stream.update(ZEROS);
    this.pos = 0;
  }

  /** Fresh bytes (a copy: callers may keep them). */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    this.fill(out, 0, n);
    return out;
  }

  /** Writes n random bytes into buf at off. */
  fill(buf: Uint8Array, off: number, n: number): void {
    let done = 0;
    while (done < n) {
      if (this.pos >= this.pool.length) this.refill();
      const take = Math.min(n - done, this.pool.length - this.pos);
      buf.set(this.pool.subarray(this.pos, this.pos + take), off + done);
      this.pos += take;
      done += take;
    }
  }

  u32(): number {
    if (this.pos + 4 > this.pool.length) this.refill();
    const v = this.pool.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
}
