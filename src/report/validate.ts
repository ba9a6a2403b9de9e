// Validates a report before any writer renders it: the JSON shape users' pipelines rely
// on (report.schema.json) plus what a schema cannot say (the summary counts the checks,
// the verdict agrees with them, every value survives JSON). A violation is a bug in
// cryptgate, not bad user input, so it is a plain Error listing every problem.
import { REPORT_SCHEMA_ID, summarise, type Report } from './model.js';
import { pointerToken, schemaProblems, schemaValidator, showPointer } from './schemas.js';

export const REPORT_SCHEMA_PATH = 'src/report/report.schema.json';

/** Values JSON cannot carry faithfully (they would vanish, turn into null, or throw). */
function jsonProblems(value: unknown, pointer: string, ancestors: object[], out: string[]): void {
  switch (typeof value) {
    case 'bigint':
      out.push(`${showPointer(pointer)}: a BigInt (${String(value)}n) cannot be written as JSON; convert it to a number or string`);
      return;
    case 'function':
    case 'symbol':
      out.push(`${showPointer(pointer)}: a ${typeof value} cannot be written as JSON`);
      return;
    case 'number':
      if (!Number.isFinite(value)) out.push(`${showPointer(pointer)}: ${String(value)} would be written as null`);
      return;
    case 'object': {
      if (value === null || value instanceof Date) return;
      if (ancestors.includes(value)) {
        out.push(`${showPointer(pointer)}: circular reference`);
        return;
      }
      ancestors.push(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (item === undefined) out.push(`${pointer}/${i}: undefined in a list would be written as null`);
          else jsonProblems(item, `${pointer}/${i}`, ancestors, out);
        });
      } else {
        for (const [k, v] of Object.entries(value)) jsonProblems(v, `${pointer}/${pointerToken(k)}`, ancestors, out);
      }
      ancestors.pop();
      return;
    }
    default:
      return;
  }
}

/** Every problem with the report, one line each (`<JSON pointer>: <what is wrong>`); empty when valid. */
export function reportProblems(report: unknown): string[] {
  const problems: string[] = [];
  jsonProblems(report, '', [], problems);
  if (problems.length > 0) return problems;
  // Judge what will actually be written: undefined optional fields drop out, Dates become strings.
  const data = JSON.parse(JSON.stringify(report)) as unknown;
  const validate = schemaValidator(REPORT_SCHEMA_PATH);
  if (!validate(data)) {
    return schemaProblems(validate.errors).map((p) => `${showPointer(p.pointer)}: ${p.text}`);
  }
  const r = data as Report;
  if (Number.isNaN(Date.parse(r.generatedAt))) problems.push(`/generatedAt: "${r.generatedAt}" is not a real date-time`);
  const counted = summarise(r.checks);
  for (const status of ['pass', 'fail', 'error', 'skip'] as const) {
    if (r.summary[status] !== counted[status]) {
      problems.push(`/summary/${status}: says ${r.summary[status]}, but ${counted[status]} check(s) have status "${status}"`);
    }
  }
  if (r.verdict === 'pass' && (counted.fail > 0 || counted.error > 0)) {
    problems.push(`/verdict: "pass" although ${counted.fail} check(s) failed and ${counted.error} errored`);
  }
  if (r.verdict === 'fail' && counted.fail === 0) problems.push('/verdict: "fail" but no check has status "fail"');
  if (r.verdict === 'fail' && counted.error > 0) problems.push(`/verdict: "fail" but ${counted.error} check(s) errored: the verdict must be "error"`);
  return problems;
}

/** Throws an Error listing every violation with its JSON pointer. */
export function validateReport(report: unknown): asserts report is Report {
  const problems = reportProblems(report);
  if (problems.length === 0) return;
  throw new Error(
    `internal error: the ${REPORT_SCHEMA_ID} report does not match ${REPORT_SCHEMA_PATH} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  ${p}`).join('\n'),
  );
}
