// The shipped JSON Schemas against the draft 2020-12 meta-schema (schemaValidator skips that
// check: it costs every run ~40 ms of start-up), and the build's precompiled validators: used,
// judging as the run-time compile does, and never when made from other schema text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import { POLICY_SCHEMA_PATH } from '../../../src/compliance/policy.js';
import { precompiledFile, precompiledValidatorSource, schemaProblems, schemaValidator } from '../../../src/report/schemas.js';
import { REPORT_SCHEMA_PATH } from '../../../src/report/validate.js';
import { packageRoot } from '../../../src/util/package-info.js';

const Ajv2020 = Ajv2020Module.default;

function metaSchemaErrors(schema: unknown): string[] {
  const ajv = new Ajv2020({ strict: true });
  ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
  ajv.validateSchema(schema as object);
  return (ajv.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

for (const rel of [REPORT_SCHEMA_PATH, POLICY_SCHEMA_PATH]) {
  test(`${rel} is a valid draft 2020-12 schema and compiles in strict mode`, () => {
    const schema = JSON.parse(readFileSync(join(packageRoot(), rel), 'utf8')) as unknown;
    assert.deepEqual(metaSchemaErrors(schema), []);
    assert.equal(typeof schemaValidator(rel), 'function');
  });
}

test('the meta-schema check can fail: a wrongly typed keyword is found', () => {
  const errors = metaSchemaErrors({ type: 'object', properties: { a: { type: 'integer', minimum: 'zero' } } });
  assert.ok(errors.some((e) => e.startsWith('/properties/a/minimum')), errors.join('; '));
});

const invalid: Record<string, unknown> = {
  [REPORT_SCHEMA_PATH]: { schema: 'cryptgate/report@1', verdict: 'maybe', checks: [{ id: 7, findings: [{}] }], inputs: 'none' },
  [POLICY_SCHEMA_PATH]: { nodes: 'x', ike: { dhGroups: ['fourteen'] }, waivers: [{ check: 'ipsec.esp-only', expires: 'soon' }], extra: 1 },
};

for (const rel of [REPORT_SCHEMA_PATH, POLICY_SCHEMA_PATH]) {
  test(`${rel}: the build's precompiled validator is the one used, and judges as a fresh compile does`, () => {
    const used = schemaValidator(rel) as ReturnType<typeof schemaValidator> & { schemaSha256?: string };
    assert.match(used.schemaSha256 ?? '', /^[0-9a-f]{64}$/, `run npm run build: ${precompiledFile(rel)} is missing or was made from other schema text`);
    // Beside the built ones, so that its require('ajv/dist/runtime/…') resolves.
    const dir = mkdtempSync(join(packageRoot(), 'dist', 'validators-test-'));
    try {
      // The source the build writes, made again now and loaded: the same verdict and problems.
      const file = join(dir, 'v.cjs');
      writeFileSync(file, precompiledValidatorSource(rel));
      const fresh = createRequire(file)(file) as typeof used;
      assert.equal(fresh.schemaSha256, used.schemaSha256);
      assert.equal(fresh(invalid[rel]), false);
      assert.equal(used(invalid[rel]), false);
      const problems = schemaProblems(used.errors);
      assert.ok(problems.length >= 3, JSON.stringify(problems));
      assert.deepEqual(schemaProblems(fresh.errors), problems);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
