// Request counters: how many KMS requests arrived, per operation and per caller principal,
// and how many faults were injected. Every attempt counts (a retried call counts once per
// attempt), which is what lets a test see the SDK's retry behaviour from the server side.

export interface PrincipalCounts {
  total: number;
  byOperation: Record<string, number>;
}

export interface CounterSnapshot {
  total: number;
  byOperation: Record<string, number>;
  /** Keyed by principal ARN; requests that failed authentication count under "anonymous". */
  byPrincipal: Record<string, PrincipalCounts>;
  faults: { throttled: number; outages: number; hangs: number };
}

export const ANONYMOUS = 'anonymous';

export class Counters {
  private state: CounterSnapshot = Counters.empty();

  private static empty(): CounterSnapshot {
    return { total: 0, byOperation: {}, byPrincipal: {}, faults: { throttled: 0, outages: 0, hangs: 0 } };
  }

  count(operation: string, principal: string): void {
    const s = this.state;
    s.total++;
    s.byOperation[operation] = (s.byOperation[operation] ?? 0) + 1;
    const p = (s.byPrincipal[principal] ??= { total: 0, byOperation: {} });
    p.total++;
    p.byOperation[operation] = (p.byOperation[operation] ?? 0) + 1;
  }

  fault(kind: keyof CounterSnapshot['faults']): void {
    this.state.faults[kind]++;
  }

  /** A deep copy: callers may keep it while counting goes on. */
  snapshot(): CounterSnapshot {
    return structuredClone(this.state);
  }

  reset(): void {
    this.state = Counters.empty();
  }
}
