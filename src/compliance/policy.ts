// The policy file: what this cluster promises (node addresses, IKE strength, port names,
// its CMK and node roles), the exceptions someone accepted (waivers: a check, a scope, a
// reason, an approver and a last day) and which findings break CI (failOn). YAML or JSON,
// told apart by content; validated against policy.schema.json, then checked for what a
// schema cannot say (addresses parse, dates exist, port ranges are ordered). Every section
// is optional and merges over the defaults.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseAddress } from '../capture/ip.js';
import { fsReason, InputError } from '../util/errors.js';
import { severityRank, type Severity } from '../report/model.js';
import { describeValue, schemaProblems, schemaValidator, showPointer, type SchemaProblem } from '../report/schemas.js';
import { parsePortRange } from './services.js';

export const POLICY_SCHEMA_PATH = 'src/compliance/policy.schema.json';

export interface IkePolicy {
  /** Allowed ciphers, e.g. {name:'ENCR_AES_CBC',keyLengths:[256]}; no keyLengths = any length. */
  encryption: { name: string; keyLengths?: number[] }[];
  /** Allowed integrity algorithms; 'NONE' (no integrity transform) is accepted only with an AEAD cipher. */
  integrity: string[];
  prf: string[];
  minDhGroup: number;
  forbiddenDhGroups: number[];
}

export interface WaiverScope {
  src?: string;
  dst?: string;
  /** Either direction between the two addresses. */
  pair?: [string, string];
  dstPort?: number;
  protocol?: string;
  /** A cluster node by name (node2), as KMS findings name it. */
  node?: string;
  /** An IAM role name, as KMS-3 findings name it. */
  role?: string;
}

export interface Waiver {
  check: string;
  scope?: WaiverScope;
  reason: string;
  approver: string;
  /** YYYY-MM-DD: the waiver applies until the end of that day, UTC. */
  expires: string;
}

export interface Policy {
  /** IPs or CIDRs, IPv4 or IPv6. */
  nodes: string[];
  gatewayNodes?: string[];
  ike: IkePolicy;
  /** Port or "a-b" range → service name, over the built-in map (see services.ts). */
  services: Record<string, string>;
  waivers: Waiver[];
  espNull: { minPackets: number };
  /**
   * The lowest severity that breaks the gate (exit 1): with `high`, medium and low findings
   * are reported but do not fail CI. Absent: `low` (every finding above info breaks it).
   */
  failOn?: GateSeverity;
  /** What the cluster's KMS set-up should be (KMS-3, KMS-4, KMS-8); every field optional. */
  kms?: KmsPolicy;
}

export type GateSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface KmsPolicy {
  /** The CMK the cluster must use. */
  cmkArn?: string;
  region?: string;
  /** The nodes' instance role names: each must be allowed exactly GenerateDataKey and Decrypt. */
  roles?: string[];
  /** The node names whose logs must show they reached the CMK (e.g. node1, node2). */
  nodes?: string[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * The seed documents' IPsec defaults: AES-CBC-256 (AES-GCM-256 also acceptable), SHA-256
 * or stronger, Diffie-Hellman group 14 or stronger but not 22-24 (RFC 5114 groups). Frozen:
 * use `defaultPolicy()` for a copy to change.
 */
export const DEFAULT_POLICY: Policy = deepFreeze({
  nodes: [],
  ike: {
    encryption: [
      { name: 'ENCR_AES_CBC', keyLengths: [256] },
      { name: 'ENCR_AES_GCM_16', keyLengths: [256] },
    ],
    integrity: ['AUTH_HMAC_SHA2_256_128', 'AUTH_HMAC_SHA2_384_192', 'AUTH_HMAC_SHA2_512_256'],
    prf: ['PRF_HMAC_SHA2_256', 'PRF_HMAC_SHA2_384', 'PRF_HMAC_SHA2_512'],
    minDhGroup: 14,
    forbiddenDhGroups: [22, 23, 24],
  },
  services: {},
  waivers: [],
  espNull: { minPackets: 4 },
});

/** A fresh, mutable copy of the defaults. */
export function defaultPolicy(): Policy {
  return structuredClone(DEFAULT_POLICY) as Policy;
}

/** Ciphers that carry their own integrity (so INTEG may be NONE). */
export const AEAD_CIPHER = /^ENCR_(AES_GCM|AES_CCM|CHACHA20_POLY1305|CAMELLIA_CCM)/;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** First instant after the waiver's last day (UTC), or NaN for a date that does not exist. */
export function waiverEnd(waiver: Pick<Waiver, 'expires'>): number {
  const m = DATE.exec(waiver.expires);
  if (!m) return Number.NaN;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = Date.UTC(y, mo - 1, d);
  const check = new Date(start);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return Number.NaN;
  return Date.UTC(y, mo - 1, d + 1);
}

/** Is the waiver still in force at `now`? (A malformed date never is.) */
export function waiverActive(waiver: Pick<Waiver, 'expires'>, now: Date): boolean {
  const end = waiverEnd(waiver);
  return !Number.isNaN(end) && now.getTime() < end;
}

function addressKey(text: string): string {
  const parsed = parseAddress(text.trim());
  return parsed ? `${parsed.af}:${parsed.words.join(',')}` : text.trim().toLowerCase();
}

function evidenceText(evidence: Record<string, unknown>, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = evidence[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}

/** Does every field the scope gives match the finding's evidence? (No scope: every finding of the check.) */
export function scopeMatches(scope: WaiverScope | undefined, evidence: Record<string, unknown>): boolean {
  if (!scope) return true;
  // IKE findings name their endpoints initiator/responder rather than src/dst.
  const src = evidenceText(evidence, 'src', 'initiator');
  const dst = evidenceText(evidence, 'dst', 'responder');
  const same = (a: string | undefined, b: string): boolean => a !== undefined && addressKey(a) === addressKey(b);
  if (scope.src !== undefined && !same(src, scope.src)) return false;
  if (scope.dst !== undefined && !same(dst, scope.dst)) return false;
  if (scope.pair !== undefined) {
    const [a, b] = scope.pair;
    if (!((same(src, a) && same(dst, b)) || (same(src, b) && same(dst, a)))) return false;
  }
  if (scope.dstPort !== undefined) {
    const port = evidence.dstPort;
    if (port === null || port === undefined || port === '' || Number(port) !== scope.dstPort) return false;
  }
  if (scope.protocol !== undefined) {
    const protocol = evidence.protocol;
    if (typeof protocol !== 'string' || protocol.toLowerCase() !== scope.protocol.toLowerCase()) return false;
  }
  if (scope.node !== undefined && evidenceText(evidence, 'node')?.toLowerCase() !== scope.node.toLowerCase()) return false;
  if (scope.role !== undefined && evidenceText(evidence, 'role') !== scope.role) return false;
  return true;
}

/** The first waiver in force at `now` for this check whose scope matches the evidence. */
export function activeWaiver(policy: Pick<Policy, 'waivers'>, checkId: string, evidence: Record<string, unknown>, now: Date): Waiver | undefined {
  return policy.waivers.find((w) => w.check === checkId && waiverActive(w, now) && scopeMatches(w.scope, evidence));
}

/**
 * The waiver for this check and evidence whose last day has passed (when no waiver is in
 * force for it): the finding counts again, and its report says which waiver lapsed.
 */
export function expiredWaiverFor(policy: Pick<Policy, 'waivers'>, checkId: string, evidence: Record<string, unknown>, now: Date): Waiver | undefined {
  return policy.waivers.find((w) => w.check === checkId && !waiverActive(w, now) && scopeMatches(w.scope, evidence));
}

/** Does a finding of this severity break the gate under `failOn`? Info never does. */
export function breaksGate(severity: Severity, failOn: GateSeverity = 'low'): boolean {
  return severity !== 'info' && severityRank(severity) <= severityRank(failOn);
}

/** Waivers whose last day has passed: the findings they covered count again. */
export function expiredWaivers(policy: Pick<Policy, 'waivers'>, now: Date): Waiver[] {
  return policy.waivers.filter((w) => !waiverActive(w, now));
}

// ---------------------------------------------------------------------------------------
// Loading

type Problem = SchemaProblem;

function addressProblem(value: string, allowCidr: boolean): string | undefined {
  const example = allowCidr ? 'an IPv4 or IPv6 address or CIDR (e.g. 10.0.0.11, 10.0.0.0/24 or 2001:db8::/64)' : 'an IPv4 or IPv6 address (e.g. 10.0.0.11 or 2001:db8::11)';
  const [addr, bits, extra] = value.trim().split('/');
  const parsed = parseAddress(addr ?? '');
  if (!parsed || extra !== undefined || (bits !== undefined && !allowCidr)) return `expected ${example}, found ${describeValue(value)}`;
  if (bits !== undefined) {
    const max = parsed.af === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `expected a prefix length 0..${max} after "/", found ${describeValue(value)}`;
  }
  return undefined;
}

/** What the schema cannot say: addresses parse, dates exist, ranges are ordered, NONE needs an AEAD cipher. */
function semanticProblems(doc: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  for (const section of ['nodes', 'gatewayNodes'] as const) {
    const list = doc[section];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, i) => {
      const p = addressProblem(String(entry), true);
      if (p) problems.push({ pointer: `/${section}/${i}`, text: p });
    });
  }
  const services = doc.services as Record<string, unknown> | undefined;
  for (const key of Object.keys(services ?? {})) {
    if (!parsePortRange(key)) {
      problems.push({ pointer: `/services/${key}`, text: `expected a port 0-65535 or a range "low-high" with low <= high, found ${describeValue(key)}` });
    }
  }
  const ike = doc.ike as Partial<IkePolicy> | undefined;
  if (ike?.integrity?.includes('NONE')) {
    const encryption = ike.encryption ?? DEFAULT_POLICY.ike.encryption;
    if (!encryption.some((e) => AEAD_CIPHER.test(e.name))) {
      problems.push({ pointer: `/ike/integrity/${ike.integrity.indexOf('NONE')}`, text: 'NONE (no integrity algorithm) is only acceptable with an AEAD cipher such as ENCR_AES_GCM_16, and none is allowed in ike.encryption' });
    }
  }
  const waivers = (doc.waivers ?? []) as Waiver[];
  waivers.forEach((w, i) => {
    if (Number.isNaN(waiverEnd(w))) problems.push({ pointer: `/waivers/${i}/expires`, text: `expected a real calendar date YYYY-MM-DD, found ${describeValue(w.expires)}` });
    const scope = w.scope ?? {};
    for (const field of ['src', 'dst'] as const) {
      const v = scope[field];
      const p = v === undefined ? undefined : addressProblem(v, false);
      if (p) problems.push({ pointer: `/waivers/${i}/scope/${field}`, text: p });
    }
    scope.pair?.forEach((v, j) => {
      const p = addressProblem(v, false);
      if (p) problems.push({ pointer: `/waivers/${i}/scope/pair/${j}`, text: p });
    });
  });
  return problems;
}

// The YAML parser is loaded when a policy is first read, not when this module is: every
// `check` and `audit` imports the policy defaults, and loading yaml costs ~20 ms of start-up.
let yaml: typeof import('yaml') | undefined;
const yamlParser = (): typeof import('yaml') => (yaml ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));

/** Parses policy text (YAML or JSON, told apart by content) and validates it; `file` names it in errors. */
export function parsePolicy(text: string, file: string): Policy {
  const source = text.replace(/^\uFEFF/, '');
  const kind = /^\s*[{[]/.test(source) ? 'JSON' : 'YAML';
  const document = yamlParser().parseDocument(source, { prettyErrors: true, uniqueKeys: true });
  const syntax = document.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
    const what = (syntax.message.split(/ at line \d+, column \d+/)[0] ?? syntax.message).split('\n')[0];
    throw new InputError(`${file}: ${where}${kind} syntax error: ${what}`);
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`${file}: ${kind} could not be read: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) data = {}; // an empty file (or only comments): all defaults

  const validate = schemaValidator(POLICY_SCHEMA_PATH);
  const problems: Problem[] = validate(data) ? semanticProblems(data as Record<string, unknown>) : schemaProblems(validate.errors);
  if (problems.length > 0) {
    throw new InputError(problems.map((p) => `${file}: ${showPointer(p.pointer)}: ${p.text}`).join('\n'));
  }
  return mergeOverDefaults(data as Partial<Policy> & { $schema?: string });
}

function mergeOverDefaults(doc: Partial<Policy> & { $schema?: string }): Policy {
  const base = defaultPolicy();
  const policy: Policy = {
    nodes: doc.nodes ? doc.nodes.map((n) => n.trim()) : base.nodes,
    ike: { ...base.ike, ...doc.ike },
    services: { ...base.services, ...doc.services },
    waivers: doc.waivers ?? base.waivers,
    espNull: { ...base.espNull, ...doc.espNull },
  };
  if (doc.gatewayNodes) policy.gatewayNodes = doc.gatewayNodes.map((n) => n.trim());
  if (doc.failOn) policy.failOn = doc.failOn;
  if (doc.kms) policy.kms = structuredClone(doc.kms);
  return policy;
}

/** Reads and validates a policy file; every problem is an InputError naming the file and the place. */
export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read the policy file: ${fsReason(err)}`);
  }
  return parsePolicy(text, path);
}
