// JSON Schema plumbing shared by the report and the policy file: both schemas ship with
// the package as source files (src/report/report.schema.json,
// src/compliance/policy.schema.json) and are read at run time from the package root, so
// the published schema and the one we validate with can never drift apart.
//
// Schemas may carry `x-expected` annotations: a short noun phrase ("a date YYYY-MM-DD")
// that turns an ajv error into a message a person can act on.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { packageRoot } from '../util/package-info.js';

// ajv is CommonJS: under NodeNext the default import is the module object, whose
// `default` is the class (ajv sets both `module.exports` and `exports.default`).
const Ajv2020 = Ajv2020Module.default;

const compiled = new Map<string, ValidateFunction>();

/** Compiles (once) the schema at `relPath` below the package root. */
export function schemaValidator(relPath: string): ValidateFunction {
  let validate = compiled.get(relPath);
  if (!validate) {
    const schema = JSON.parse(readFileSync(join(packageRoot(), relPath), 'utf8')) as object;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true });
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
    validate = ajv.compile(schema);
    compiled.set(relPath, validate);
  }
  return validate;
}

/** Escapes one JSON-pointer reference token (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Shows a found value briefly: strings quoted (and cut), containers by kind. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value instanceof Date) return `a date-time ${JSON.stringify(value.toISOString())}`;
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(cut);
  }
  return String(value);
}

export interface SchemaProblem {
  /** JSON pointer of the offending value ('' for the document itself). */
  pointer: string;
  /** What was expected and what was found. */
  text: string;
}

function expectedOf(schema: unknown): string | undefined {
  if (schema && typeof schema === 'object' && 'x-expected' in schema) {
    const x = (schema as Record<string, unknown>)['x-expected'];
    return typeof x === 'string' ? x : undefined;
  }
  return undefined;
}

/**
 * Turns ajv errors (compiled with `verbose: true`) into one problem per offending place,
 * phrased "expected X, found Y" from the schema's `x-expected` annotations where present.
 */
export function schemaProblems(errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  const add = (pointer: string, text: string): void => {
    if (seen.has(pointer)) return;
    seen.add(pointer);
    problems.push({ pointer, text });
  };
  for (const e of errors ?? []) {
    // The inner error of a `propertyNames` failure: its outer error says it better.
    if ((e as { propertyName?: string }).propertyName !== undefined) continue;
    const params = e.params as Record<string, unknown>;
    const parent = e.parentSchema as Record<string, unknown> | undefined;
    if (e.keyword === 'required') {
      const missing = String(params.missingProperty);
      const props = (parent?.properties ?? {}) as Record<string, unknown>;
      const expected = expectedOf(props[missing]);
      add(`${e.instancePath}/${pointerToken(missing)}`, expected ? `expected ${expected}, found nothing (this field is required)` : 'required field is missing');
    } else if (e.keyword === 'additionalProperties') {
      const extra = String(params.additionalProperty);
      const allowed = Object.keys((parent?.properties ?? {}) as object);
      add(`${e.instancePath}/${pointerToken(extra)}`, `unknown field "${extra}"${allowed.length > 0 ? `; expected one of: ${allowed.join(', ')}` : ''}`);
    } else if (e.keyword === 'propertyNames') {
      const name = String(params.propertyName);
      const inner = (parent?.propertyNames ?? {}) as Record<string, unknown>;
      const expected = expectedOf(inner) ?? (typeof inner.pattern === 'string' ? `a key matching ${inner.pattern}` : 'a valid key');
      add(`${e.instancePath}/${pointerToken(name)}`, `invalid key: expected ${expected}, found ${describeValue(name)}`);
    } else {
      const expected = expectedOf(parent);
      add(e.instancePath, expected ? `expected ${expected}, found ${describeValue(e.data)}` : `${e.message ?? 'is invalid'}${e.keyword === 'enum' ? ` (${((params.allowedValues as unknown[]) ?? []).join(', ')})` : ''}, found ${describeValue(e.data)}`);
    }
  }
  return problems;
}

/** A pointer for messages: the document itself reads "(top level)". */
export function showPointer(pointer: string): string {
  return pointer === '' ? '(top level)' : pointer;
}
