// JSON evidence documents (AWS CLI output, PowerShell ConvertTo-Json exports): parsed with a
// syntax error that names the line and column, and shape errors that name the JSON pointer
// of the offending value and what was expected there.
import { FormatError } from '../util/errors.js';

/** `file: /Statement/2/Effect: expected "Allow" or "Deny", found "Alow"` (exit 2). */
export class JsonFormatError extends FormatError {
  constructor(
    file: string,
    readonly pointer: string,
    expected: string,
    found?: string,
  ) {
    super(file, 0, pointer, expected, found);
    this.message = `${file}: ${pointer === '' ? '(top level)' : pointer}: expected ${expected}${found === undefined ? '' : `, found ${found}`}`;
    this.name = 'FormatError';
  }
}

/** `file: line 3, column 7: JSON syntax: expected valid JSON, found Unexpected token '}'` (exit 2). */
export class JsonSyntaxError extends FormatError {
  constructor(
    file: string,
    readonly line: number,
    readonly column: number,
    problem: string,
  ) {
    super(file, 0, 'JSON syntax', 'valid JSON', problem);
    this.message = `${file}: line ${line}, column ${column}: JSON syntax: expected valid JSON, found ${problem}`;
    this.name = 'FormatError';
  }
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Parses JSON text (a BOM dropped); a syntax error names the line and column. */
export function parseJsonText(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    // V8 says "… at position N" (Node 20) or "… (line L column C)" (Node 22+).
    const lc = /\(line (\d+) column (\d+)\)/.exec(msg);
    const pos = /at position (\d+)/.exec(msg);
    const where = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : pos ? lineColumn(body, Number(pos[1])) : body.trim() === '' ? { line: 1, column: 1 } : lineColumn(body, body.length);
    const what = msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '').replace(/^JSON\.parse: /, '');
    throw new JsonSyntaxError(file, where.line, where.column, what);
  }
}

/** Short description of a found value for messages. */
export function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 6901 token escaping. */
export function ptr(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
