import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportProblems, validateReport } from '../../../src/report/validate.js';
import { renderJson } from '../../../src/report/json.js';
import { InputError } from '../../../src/util/errors.js';
import { packageRoot } from '../../../src/util/package-info.js';
import { sampleReport } from './sample-report.js';

function broken(mutate: (r: Record<string, any>) => void): unknown {
  const r = structuredClone(sampleReport()) as Record<string, any>;
  mutate(r);
  return r;
}

function problemsOf(report: unknown): string[] {
  try {
    validateReport(report);
  } catch (err) {
    assert.ok(!(err instanceof InputError), 'a bad report is our bug, not bad input');
    return (err as Error).message.split('\n').slice(1).map((l) => l.trim());
  }
  return [];
}

test('the schema is draft 2020-12 and closes the top level, checks, inputs, findings', () => {
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'src/report/report.schema.json'), 'utf8'));
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.equal(schema.additionalProperties, false);
  assert.equal(schema.$defs.check.additionalProperties, false);
  assert.equal(schema.$defs.input.additionalProperties, false);
  assert.deepEqual(schema.required, ['schema', 'tool', 'generatedAt', 'verdict', 'inputs', 'checks', 'summary']);
});

test('a full realistic report is valid, and one from `cryptgate run` (no inputs, no behaviour ids) too', () => {
  assert.deepEqual(reportProblems(sampleReport()), []);
  validateReport(sampleReport());
  const run = sampleReport();
  run.inputs = [];
  run.checks[0]!.behaviour = [];
  delete run.context;
  delete run.checks[0]!.remediation;
  assert.deepEqual(reportProblems(run), []);
});

test('undefined optional fields are fine: they are not written', () => {
  const r = sampleReport();
  r.checks[1]!.remediation = undefined;
  r.context = undefined;
  assert.deepEqual(reportProblems(r), []);
});

test('a missing field is named by its JSON pointer', () => {
  const problems = problemsOf(broken((r) => delete r.checks[0].title));
  assert.equal(problems.length, 1);
  assert.equal(problems[0], '/checks/0/title: required field is missing');
  assert.deepEqual(problemsOf(broken((r) => delete r.checks[2].findings[0].evidence)), ['/checks/2/findings/0/evidence: required field is missing']);
  assert.deepEqual(problemsOf(broken((r) => delete r.summary)), ['/summary: required field is missing']);
});

test('a bad status, severity or verdict lists the allowed values', () => {
  const problems = problemsOf(broken((r) => (r.checks[1].status = 'passed')));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^\/checks\/1\/status: must be equal to one of the allowed values \(pass, fail, error, skip\), found "passed"/);
  assert.match(problemsOf(broken((r) => (r.checks[0].findings[1].severity = 'urgent')))[0]!, /^\/checks\/0\/findings\/1\/severity: .*critical, high, medium, low, info/);
});

test('extra keys are refused at the top level, in checks, inputs and findings, not in evidence or observed', () => {
  assert.deepEqual(problemsOf(broken((r) => (r.extra = 1))), ['/extra: unknown field "extra"; expected one of: schema, tool, generatedAt, verdict, inputs, checks, summary, context']);
  assert.match(problemsOf(broken((r) => (r.checks[0].notes = 'x')))[0]!, /^\/checks\/0\/notes: unknown field "notes"; expected one of: id, title, behaviour,/);
  assert.match(problemsOf(broken((r) => (r.inputs[0].mtime = 1)))[0]!, /^\/inputs\/0\/mtime: unknown field "mtime"/);
  assert.match(problemsOf(broken((r) => (r.checks[0].findings[0].detail = 1)))[0]!, /^\/checks\/0\/findings\/0\/detail: unknown field/);
  assert.deepEqual(
    problemsOf(
      broken((r) => {
        r.checks[0].findings[0].evidence.anything = { nested: [1, 2] };
        r.checks[0].observed[0].whatever = 'ok';
      }),
    ),
    [],
  );
});

test('every violation is listed, each with its pointer', () => {
  const problems = problemsOf(
    broken((r) => {
      r.schema = 'cryptgate/report@2';
      r.inputs[0].sha256 = 'XYZ';
      r.checks[3].observed = ['not an object'];
    }),
  );
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('/schema: must be equal to constant')));
  assert.ok(problems.some((p) => p.startsWith('/inputs/0/sha256: must match pattern')));
  assert.ok(problems.some((p) => p.startsWith('/checks/3/observed/0: must be object')));
});

test('the summary must count the checks and the verdict must agree with them', () => {
  assert.deepEqual(problemsOf(broken((r) => (r.summary.fail = 0))), ['/summary/fail: says 0, but 1 check(s) have status "fail"']);
  const passWithFailure = problemsOf(broken((r) => (r.verdict = 'pass')));
  assert.ok(passWithFailure.some((p) => p.startsWith('/verdict: "pass" although 1 check(s) failed')));
  const failWithError = problemsOf(broken((r) => (r.verdict = 'fail')));
  assert.ok(failWithError.some((p) => p.includes('the verdict must be "error"')));
});

test('values JSON cannot carry are caught before they silently change', () => {
  const r = sampleReport();
  r.checks[0]!.findings[0]!.evidence.big = 10n;
  r.checks[0]!.observed[0]!.ratio = Number.NaN;
  const problems = problemsOf(r);
  assert.deepEqual(problems, [
    '/checks/0/findings/0/evidence/big: a BigInt (10n) cannot be written as JSON; convert it to a number or string',
    '/checks/0/observed/0/ratio: NaN would be written as null',
  ]);
});

test('generatedAt must be a date-time with a zone', () => {
  assert.match(problemsOf(broken((r) => (r.generatedAt = '2026-03-01 10:00')))[0]!, /^\/generatedAt: must match pattern/);
  assert.deepEqual(problemsOf(broken((r) => (r.generatedAt = '2026-03-01T10:00:00+01:00'))), []);
});

test('the error says it is a bug and names the schema', () => {
  assert.throws(
    () => validateReport(broken((r) => (r.verdict = 'maybe'))),
    (err: unknown) => err instanceof Error && /^internal error: the cryptgate\/report@1 report does not match src\/report\/report\.schema\.json \(1 problem\):\n  \/verdict:/.test(err.message),
  );
});

test('renderJson validates, then pretty-prints what parses back to the same report', () => {
  const report = sampleReport();
  const text = renderJson(report);
  assert.ok(text.endsWith('}\n'));
  assert.match(text, /\n  "schema": "cryptgate\/report@1",\n/);
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(report)));
  assert.throws(() => renderJson(broken((r) => (r.checks[0].status = 'nope')) as never), /\/checks\/0\/status/);
});
