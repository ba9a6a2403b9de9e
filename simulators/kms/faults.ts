// Fault knobs: the failures a KMS client must survive, on demand. Each decision is made
// per request, after the request is authenticated and counted, so a counter shows every
// attempt the SDK made (a throttled-then-retried call counts as several requests).
//  - latencyMs: added before every answer
//  - throttle: ThrottlingException (HTTP 400) for the next N requests, every Nth request,
//    or with a probability drawn from a seeded RNG (repeatable runs)
//  - outage: KMSInternalException (HTTP 500) or ServiceUnavailableException (HTTP 503) for the next N
//  - hang: never answer the next N requests (clients time out)
// Any of them may be limited to some operations.
import { InputError } from '../../src/util/errors.js';

export interface ThrottleFault {
  next?: number;
  everyNth?: number;
  probability?: number;
  /** Seed for `probability`; the same seed throttles the same requests. Default 1. */
  seed?: number;
  operations?: string[];
}
export interface OutageFault {
  next: number;
  status?: 500 | 503;
  operations?: string[];
}
export interface HangFault {
  next: number;
  operations?: string[];
}
/** Fields left out are unchanged; `null` clears one. */
export interface FaultSettings {
  latencyMs?: number | null;
  throttle?: ThrottleFault | null;
  outage?: OutageFault | null;
  hang?: HangFault | null;
}

export type FaultDecision = { kind: 'none' } | { kind: 'hang' } | { kind: 'outage'; status: 500 | 503 } | { kind: 'throttle' };

/** mulberry32: a tiny seeded PRNG. Fault timing needs repeatability, not secrecy. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fail = (path: string, expected: string, found: unknown): never => {
  throw new InputError(`faults.${path}: expected ${expected}, found ${JSON.stringify(found)}`);
};
const count = (v: unknown, path: string, min: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(path, `an integer ≥ ${min}`, v);
  return v as number;
};
function operations(v: unknown, path: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((o) => typeof o !== 'string')) fail(path, 'a list of operation names', v);
  return v as string[];
}
function object(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'an object or null', v);
  return v as Record<string, unknown>;
}
const known = (o: Record<string, unknown>, path: string, fields: string[]): void => {
  for (const k of Object.keys(o)) if (!fields.includes(k)) fail(`${path}.${k}`, `one of the fields ${fields.join(', ')}`, k);
};

interface ThrottleState {
  next: number;
  everyNth?: number;
  seen: number;
  probability?: number;
  seed: number;
  rng?: () => number;
  operations?: string[];
}

export class Faults {
  private latency = 0;
  private throttle?: ThrottleState;
  private outage?: { next: number; status: 500 | 503; operations?: string[] };
  private hang?: { next: number; operations?: string[] };

  /** Validates first, then applies: a bad setting changes nothing. */
  set(input: unknown): void {
    const s = object(input, '(root)');
    known(s, '(root)', ['latencyMs', 'throttle', 'outage', 'hang']);
    let latency = this.latency;
    let throttle = this.throttle;
    let outage = this.outage;
    let hang = this.hang;
    if (s.latencyMs !== undefined) latency = s.latencyMs === null ? 0 : count(s.latencyMs, 'latencyMs', 0);
    if (s.throttle !== undefined) {
      if (s.throttle === null) throttle = undefined;
      else {
        const t = object(s.throttle, 'throttle');
        known(t, 'throttle', ['next', 'everyNth', 'probability', 'seed', 'operations']);
        const next = t.next === undefined ? 0 : count(t.next, 'throttle.next', 0);
        const everyNth = t.everyNth === undefined ? undefined : count(t.everyNth, 'throttle.everyNth', 1);
        let probability: number | undefined;
        if (t.probability !== undefined) {
          if (typeof t.probability !== 'number' || !(t.probability >= 0 && t.probability <= 1)) fail('throttle.probability', 'a number from 0 to 1', t.probability);
          probability = t.probability as number;
        }
        const seed = t.seed === undefined ? 1 : count(t.seed, 'throttle.seed', 0);
        if (next === 0 && everyNth === undefined && probability === undefined) fail('throttle', 'next, everyNth or probability', t);
        throttle = { next, seen: 0, seed };
        if (everyNth !== undefined) throttle.everyNth = everyNth;
        if (probability !== undefined) {
          throttle.probability = probability;
          throttle.rng = mulberry32(seed);
        }
        const ops = operations(t.operations, 'throttle.operations');
        if (ops) throttle.operations = ops;
      }
    }
    if (s.outage !== undefined) {
      if (s.outage === null) outage = undefined;
      else {
        const o = object(s.outage, 'outage');
        known(o, 'outage', ['next', 'status', 'operations']);
        const status = o.status === undefined ? 500 : o.status;
        if (status !== 500 && status !== 503) fail('outage.status', '500 or 503', status);
        outage = { next: count(o.next, 'outage.next', 1), status: status as 500 | 503 };
        const ops = operations(o.operations, 'outage.operations');
        if (ops) outage.operations = ops;
      }
    }
    if (s.hang !== undefined) {
      if (s.hang === null) hang = undefined;
      else {
        const h = object(s.hang, 'hang');
        known(h, 'hang', ['next', 'operations']);
        hang = { next: count(h.next, 'hang.next', 1) };
        const ops = operations(h.operations, 'hang.operations');
        if (ops) hang.operations = ops;
      }
    }
    this.latency = latency;
    this.throttle = throttle;
    this.outage = outage;
    this.hang = hang;
  }

  clear(): void {
    this.latency = 0;
    this.throttle = undefined;
    this.outage = undefined;
    this.hang = undefined;
  }

  /** What is set now, with the counts still to come. */
  snapshot(): FaultSettings {
    const t = this.throttle;
    return {
      latencyMs: this.latency,
      throttle: t
        ? {
            next: t.next,
            ...(t.everyNth !== undefined ? { everyNth: t.everyNth } : {}),
            ...(t.probability !== undefined ? { probability: t.probability, seed: t.seed } : {}),
            ...(t.operations ? { operations: t.operations } : {}),
          }
        : null,
      outage: this.outage ? { ...this.outage } : null,
      hang: this.hang ? { ...this.hang } : null,
    };
  }

  latencyMs(): number {
    return this.latency;
  }

  /** Decides (and consumes) the fault for one request. Hang beats outage beats throttle. */
  decide(operation: string): FaultDecision {
    const applies = (ops?: string[]): boolean => !ops || ops.includes(operation);
    if (this.hang && applies(this.hang.operations)) {
      if (--this.hang.next <= 0) this.hang = undefined;
      return { kind: 'hang' };
    }
    if (this.outage && applies(this.outage.operations)) {
      const status = this.outage.status;
      if (--this.outage.next <= 0) this.outage = undefined;
      return { kind: 'outage', status };
    }
    const t = this.throttle;
    if (t && applies(t.operations)) {
      t.seen++;
      let hit = false;
      if (t.next > 0) {
        t.next--;
        hit = true;
      }
      if (t.everyNth !== undefined && t.seen % t.everyNth === 0) hit = true;
      if (t.rng && t.rng() < t.probability!) hit = true;
      if (t.next === 0 && t.everyNth === undefined && t.probability === undefined) this.throttle = undefined;
      if (hit) return { kind: 'throttle' };
    }
    return { kind: 'none' };
  }
}
