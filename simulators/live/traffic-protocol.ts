// What the runner and the traffic agent (traffic-agent.ts) say to each other, and the
// deterministic filler bytes both use. Kept apart so importing it never starts an agent.

/** Conversations one client agent keeps open at once. */
export const CONCURRENCY = 16;

export interface AgentFlow {
  id: number;
  dst: string;
  port: number;
  bytes: number;
}

export interface AgentClientSpec {
  src: string;
  seed: number;
  connectTimeoutMs: number;
  ioTimeoutMs: number;
  flows: AgentFlow[];
}

export interface AgentFlowResult {
  id: number;
  ok: boolean;
  sent: number;
  received: number;
  error?: string;
}

/** Deterministic filler: the same seed and flow give the same bytes. */
export function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
