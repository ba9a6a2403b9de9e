#!/usr/bin/env node
// Part of `npm run build`, after tsc: writes each shipped JSON Schema's standalone validator
// (dist/validators/<schema>.cjs), so a run does not load and run ajv's compiler. The code
// generation lives in src/report/schemas.ts, next to the run-time fallback that uses the
// same options.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const built = (rel) => import(new URL(`../dist/${rel}`, import.meta.url).href);
const { precompiledFile, precompiledValidatorSource } = await built('src/report/schemas.js');
const { REPORT_SCHEMA_PATH } = await built('src/report/validate.js');
const { POLICY_SCHEMA_PATH } = await built('src/compliance/policy.js');

for (const schema of [REPORT_SCHEMA_PATH, POLICY_SCHEMA_PATH]) {
  const out = join(root, precompiledFile(schema));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, precompiledValidatorSource(schema));
}
