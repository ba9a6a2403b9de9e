// The per-backend conformance table: for each KMS behaviour id, what the run's scenarios
// showed on the KMS backend used — pass, fail, or not reproducible there. Pure: built from
// the report's checks, rendered as plain text (reports/conformance.txt and the run's
// stdout) and kept in cryptgate.json's context.
import type { Check } from '../report/model.js';
import { isNotReproducible } from './scenario-report.js';

/**
 * pass: every scenario passed; partial: some passed, the others are not reproducible (or
 * skipped) on this backend; not reproducible: none could be reproduced; fail/error: at least
 * one scenario failed/errored; skip: none was judged for another reason.
 */
export type ConformanceStatus = 'pass' | 'partial' | 'not reproducible' | 'fail' | 'error' | 'skip';

export interface ConformanceRow {
  behaviour: string;
  status: ConformanceStatus;
  scenarios: number;
  pass: number;
  fail: number;
  error: number;
  notReproducible: number;
  skip: number;
}

export interface ConformanceTable {
  /** The backend as reports name it, e.g. "moto_server 5.2.5 at http://127.0.0.1:40121". */
  backend: string;
  rows: ConformanceRow[];
  /** The scenarios the backend could not reproduce, with why. */
  notReproducible: { check: string; behaviour: string[]; why: string }[];
}

const byId = (a: string, b: string): number => {
  const [fa, na] = split(a);
  const [fb, nb] = split(b);
  return fa.localeCompare(fb) || na - nb;
};
const split = (id: string): [string, number] => {
  const m = /^(.*?)-(\d+)$/.exec(id);
  return m ? [m[1]!, Number(m[2])] : [id, 0];
};

/** One row per behaviour id matching `family` (default: KMS-…) among the checks. */
export function conformanceTable(checks: readonly Check[], backend: string, family = /^KMS-\d+$/): ConformanceTable {
  const rows = new Map<string, ConformanceRow>();
  const notReproducible: ConformanceTable['notReproducible'] = [];
  for (const check of checks) {
    const ids = check.behaviour.filter((b) => family.test(b));
    if (ids.length === 0) continue;
    const nr = isNotReproducible(check);
    if (nr) notReproducible.push({ check: check.id, behaviour: ids, why: check.findings.find((f) => f.evidence?.notReproducible === true)!.message });
    for (const id of ids) {
      let row = rows.get(id);
      if (!row) {
        row = { behaviour: id, status: 'skip', scenarios: 0, pass: 0, fail: 0, error: 0, notReproducible: 0, skip: 0 };
        rows.set(id, row);
      }
      row.scenarios++;
      if (nr) row.notReproducible++;
      else row[check.status]++;
    }
  }
  for (const row of rows.values()) row.status = rowStatus(row);
  return { backend, rows: [...rows.values()].sort((a, b) => byId(a.behaviour, b.behaviour)), notReproducible };
}

function rowStatus(r: ConformanceRow): ConformanceStatus {
  if (r.fail > 0) return 'fail';
  if (r.error > 0) return 'error';
  if (r.pass === r.scenarios) return 'pass';
  if (r.pass > 0) return 'partial';
  if (r.notReproducible > 0) return 'not reproducible';
  return 'skip';
}

/** The table as fixed-width text, then the not-reproducible scenarios with why. */
export function renderConformance(t: ConformanceTable): string {
  const head = ['behaviour', 'result', 'pass', 'fail', 'error', 'not reproducible', 'skipped', 'scenarios'];
  const body = t.rows.map((r) => [r.behaviour, r.status, r.pass, r.fail, r.error, r.notReproducible, r.skip, r.scenarios].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`KMS conformance on ${t.backend}`, line(head), line(widths.map((w) => '-'.repeat(w)))];
  if (body.length === 0) out.push('(no KMS scenario ran)');
  for (const row of body) out.push(line(row));
  if (t.notReproducible.length > 0) {
    out.push('', 'Not reproducible on this backend:');
    for (const n of t.notReproducible) out.push(`  ${n.check} [${n.behaviour.join(', ')}]: ${n.why}`);
  }
  return `${out.join('\n')}\n`;
}
