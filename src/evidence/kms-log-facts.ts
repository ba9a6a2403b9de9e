// Per-node KMS facts folded from log events as they stream by (KMS-7, KMS-8), so auditing
// gigabytes of logs keeps a fixed amount of memory: counts, the CMK ARNs and RMK ids seen
// (bounded), and the first/last event that proves each thing, with its file and line.
import type { KmsEventKind, KmsLogEvent } from './tableau-logs.js';

/** One event kept as proof: where it is and what it says (the message cut to a readable length). */
export interface EventRef {
  file: string;
  line: number;
  ts: string;
  /** Epoch ms, or null when the timestamp could not be read. */
  time: number | null;
  service: string;
  kind: KmsEventKind;
  message: string;
  errorCode?: string;
  rmkId?: string;
  cmkArn?: string;
}

export interface NodeLogFacts {
  node: string;
  files: string[];
  events: number;
  byKind: Partial<Record<KmsEventKind, number>>;
  /** CMK ARN → events naming it. */
  cmkArns: Record<string, number>;
  /** RMK id → events naming it. */
  rmkIds: Record<string, number>;
  /** Distinct values beyond the cap were counted here instead of listed. */
  otherIds: number;
  /** Events proving the node reached the CMK (RMK decrypted/generated with a CMK, storage opened in AWS mode). */
  reached: number;
  firstReached?: EventRef;
  lastReached?: EventRef;
  cmkErrors: number;
  firstCmkError?: EventRef;
  lastCmkError?: EventRef;
  /** RMK decrypted with the local keystore (local KMS mode). */
  localKeystore: number;
  lastRmkInUse?: EventRef;
  serviceFailures: number;
  lastServiceFailure?: EventRef;
  /** IAM roles the node's KMS errors name (`…assumed-role/<role>/i-…`): which role the node runs as. */
  roles: string[];
}

const MAX_IDS = 64;
const MAX_MESSAGE = 400;

const D0 = 48;
const dig = (s: string, i: number): number => s.charCodeAt(i) - D0;

/** `2024-05-01 10:00:00.123 +0000` (Java) or `2024-05-01T10:00:00.123` (native, no zone: read as UTC). */
export function logTime(ts: string): number | null {
  // Fast path for the two fixed layouts (every event is timed, and logs have many).
  if ((ts.length === 29 || ts.length === 23) && ts.charCodeAt(4) === 45 && ts.charCodeAt(13) === 58 && ts.charCodeAt(19) === 46) {
    const y = dig(ts, 0) * 1000 + dig(ts, 1) * 100 + dig(ts, 2) * 10 + dig(ts, 3);
    const mo = dig(ts, 5) * 10 + dig(ts, 6);
    const d = dig(ts, 8) * 10 + dig(ts, 9);
    const h = dig(ts, 11) * 10 + dig(ts, 12);
    const mi = dig(ts, 14) * 10 + dig(ts, 15);
    const se = dig(ts, 17) * 10 + dig(ts, 18);
    const ms = dig(ts, 20) * 100 + dig(ts, 21) * 10 + dig(ts, 22);
    let offset = 0;
    if (ts.length === 29) {
      const sign = ts.charCodeAt(24) === 45 ? -1 : ts.charCodeAt(24) === 43 ? 1 : 0;
      if (sign === 0) return logTimeSlow(ts);
      offset = sign * ((dig(ts, 25) * 10 + dig(ts, 26)) * 60 + dig(ts, 27) * 10 + dig(ts, 28));
    }
    const values = [y, mo, d, h, mi, se, ms, offset];
    if (values.every((v) => Number.isInteger(v) && v >= -1440) && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 61) {
      return Date.UTC(y, mo - 1, d, h, mi, se, ms) - offset * 60_000;
    }
  }
  return logTimeSlow(ts);
}

function logTimeSlow(ts: string): number | null {
  let m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*([+-]\d{2}):?(\d{2})$/.exec(ts);
  if (m) {
    const t = Date.parse(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
    return Number.isNaN(t) ? null : t;
  }
  m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z)?$/.exec(ts);
  if (m) {
    const t = Date.parse(`${m[1]}T${m[2]}Z`);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function ref(e: KmsLogEvent, time: number | null = logTime(e.ts)): EventRef {
  const msg = e.kind === 'cmk-error' || e.kind === 'service-failed' ? (e.error ?? e.message).split('\n')[0]! : e.message;
  return {
    file: e.file,
    line: e.line,
    ts: e.ts,
    time,
    service: e.service,
    kind: e.kind,
    message: msg.length > MAX_MESSAGE ? `${msg.slice(0, MAX_MESSAGE - 1)}…` : msg,
    ...(e.errorCode ? { errorCode: e.errorCode } : {}),
    ...(e.rmkId ? { rmkId: e.rmkId } : {}),
    ...(e.cmkArn ? { cmkArn: e.cmkArn } : {}),
  };
}

/** Later in time; events without a readable time count as later than the previous one in file order. */
function later(t: number | null, b: EventRef | undefined): boolean {
  if (!b) return true;
  if (t !== null && b.time !== null) return t >= b.time;
  return true;
}

function earlier(t: number | null, b: EventRef | undefined): boolean {
  if (!b) return true;
  if (t !== null && b.time !== null) return t < b.time;
  return false;
}

/** Does this event prove the node's services reached the CMK? */
export function provesCmkReached(e: Pick<KmsLogEvent, 'kind' | 'cmkArn'>): boolean {
  return (e.kind === 'rmk-decrypted' || e.kind === 'rmk-generated' || e.kind === 'rmk-in-use') && e.cmkArn !== undefined;
}

export class KmsLogFactsCollector {
  private readonly nodes = new Map<string, NodeLogFacts>();

  private node(name: string): NodeLogFacts {
    let f = this.nodes.get(name);
    if (!f) {
      f = { node: name, files: [], events: 0, byKind: {}, cmkArns: {}, rmkIds: {}, otherIds: 0, reached: 0, cmkErrors: 0, localKeystore: 0, serviceFailures: 0, roles: [] };
      this.nodes.set(name, f);
    }
    return f;
  }

  /** Registers a log file of a node, so a node with logs but no KMS event still shows. */
  addFile(node: string, file: string): void {
    this.node(node).files.push(file);
  }

  add(e: KmsLogEvent): void {
    const f = this.node(e.node);
    f.events++;
    f.byKind[e.kind] = (f.byKind[e.kind] ?? 0) + 1;
    const counts = this.counts(e.node);
    const count = (table: Map<string, number>, key: string | undefined): void => {
      if (key === undefined) return;
      const n = table.get(key);
      if (n !== undefined) table.set(key, n + 1);
      else if (table.size < MAX_IDS) table.set(key, 1);
      else f.otherIds++;
    };
    count(counts.cmkArns, e.cmkArn);
    count(counts.rmkIds, e.rmkId);
    const reached = provesCmkReached(e);
    if (!reached && e.kind !== 'cmk-error' && e.kind !== 'rmk-in-use' && e.kind !== 'service-failed') {
      if (e.kind === 'rmk-decrypted' && /local keystore/i.test(e.message)) f.localKeystore++;
      return;
    }
    // Only events that become first/last are kept (an object per event would cost at scale).
    const t = logTime(e.ts);
    if (reached) {
      f.reached++;
      if (earlier(t, f.firstReached)) f.firstReached = ref(e, t);
      if (later(t, f.lastReached)) f.lastReached = ref(e, t);
    }
    if (e.kind === 'cmk-error') {
      f.cmkErrors++;
      const role = /assumed-role\/([\w+=,.@-]{1,64})\//.exec(e.error ?? e.message)?.[1];
      if (role && !f.roles.includes(role) && f.roles.length < 8) f.roles.push(role);
      if (earlier(t, f.firstCmkError)) f.firstCmkError = ref(e, t);
      if (later(t, f.lastCmkError)) f.lastCmkError = ref(e, t);
    }
    if (e.kind === 'rmk-in-use' && later(t, f.lastRmkInUse)) f.lastRmkInUse = ref(e, t);
    if (e.kind === 'service-failed') {
      f.serviceFailures++;
      if (later(t, f.lastServiceFailure)) f.lastServiceFailure = ref(e, t);
    }
  }

  private readonly tables = new Map<string, { cmkArns: Map<string, number>; rmkIds: Map<string, number> }>();

  private counts(node: string): { cmkArns: Map<string, number>; rmkIds: Map<string, number> } {
    let t = this.tables.get(node);
    if (!t) {
      t = { cmkArns: new Map(), rmkIds: new Map() };
      this.tables.set(node, t);
    }
    return t;
  }

  facts(): NodeLogFacts[] {
    for (const [node, t] of this.tables) {
      const f = this.nodes.get(node)!;
      f.cmkArns = Object.fromEntries(t.cmkArns);
      f.rmkIds = Object.fromEntries(t.rmkIds);
    }
    return [...this.nodes.values()].sort((a, b) => a.node.localeCompare(b.node, 'en', { numeric: true }));
  }
}
