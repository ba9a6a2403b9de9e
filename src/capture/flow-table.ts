// An open-addressing hash table keyed by a fixed number of 32-bit words. The hot path
// (millions of packets a second) looks flows up by address words without building
// strings or objects; each entry maps to a dense index into the caller's own arrays.

export class FlowTable {
  private keys: Uint32Array;
  private slots: Int32Array; // dense index + 1, 0 = empty
  private mask: number;
  private count = 0;
  /** The key being looked up; fill it, then call find/findOrAdd. */
  readonly probe: Uint32Array;

  constructor(readonly width: number, initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.keys = new Uint32Array(cap * width);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    this.probe = new Uint32Array(width);
  }

  get size(): number {
    return this.count;
  }

  private hash(key: Uint32Array, base: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.width; i++) {
      h = Math.imul(h ^ key[base + i]!, 0x01000193);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) >>> 0;
  }

  /** Index of the probe key, or -1. */
  find(): number {
    const w = this.width;
    const probe = this.probe;
    let slot = this.hash(probe, 0) & this.mask;
    for (;;) {
      const v = this.slots[slot]!;
      if (v === 0) return -1;
      const base = slot * w;
      let same = true;
      for (let i = 0; i < w; i++) {
        if (this.keys[base + i] !== probe[i]) {
          same = false;
          break;
        }
      }
      if (same) return v - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Index of the probe key, adding it (with the next dense index) if absent. `added` tells which. */
  added = false;
  findOrAdd(): number {
    const found = this.find();
    if (found >= 0) {
      this.added = false;
      return found;
    }
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const index = this.count++;
    this.insert(this.probe, 0, index);
    this.added = true;
    return index;
  }

  /** The stored key words of a dense index (for reporting; allocates). */
  keyOf(index: number): number[] {
    for (let slot = 0; slot < this.slots.length; slot++) {
      if (this.slots[slot] === index + 1) return Array.from(this.keys.subarray(slot * this.width, slot * this.width + this.width));
    }
    throw new Error(`flow index ${index} not in table`);
  }

  private insert(key: Uint32Array, base: number, index: number): void {
    const w = this.width;
    let slot = this.hash(key, base) & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = index + 1;
    this.keys.set(key.subarray(base, base + w), slot * w);
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    const cap = oldSlots.length * 2;
    this.keys = new Uint32Array(cap * this.width);
    this.slots = new Int32Array(cap);
    this.mask = cap - 1;
    for (let slot = 0; slot < oldSlots.length; slot++) {
      const v = oldSlots[slot]!;
      if (v !== 0) this.insert(oldKeys, slot * this.width, v - 1);
    }
  }
}
