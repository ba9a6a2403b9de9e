// Line-oriented evidence: a format error that names the line, and a streaming line reader
// that knows whether the last line was terminated (a live log may end mid-line).
import { createReadStream } from 'node:fs';
import { FormatError } from '../util/errors.js';

/** Malformed line-oriented evidence: `file: line N: field: expected …` (still a FormatError, exit 2). */
export class LineFormatError extends FormatError {
  constructor(
    file: string,
    readonly line: number,
    field: string,
    expected: string,
    found?: string,
  ) {
    super(file, 0, field, expected, found);
    this.message = `${file}: line ${line}: ${field}: expected ${expected}${found === undefined ? '' : `, found ${found}`}`;
    this.name = 'FormatError';
  }
}

export interface Line {
  text: string;
  /** 1-based. */
  number: number;
  /** False only for a last line with no newline after it. */
  terminated: boolean;
}

/** Splits text into lines (LF or CRLF; a leading BOM dropped). Pure. */
export function* splitLines(text: string): Generator<Line> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let start = 0;
  let n = 0;
  while (start < body.length) {
    const nl = body.indexOf('\n', start);
    const end = nl === -1 ? body.length : nl;
    let t = body.slice(start, end);
    if (t.endsWith('\r')) t = t.slice(0, -1);
    yield { text: t, number: ++n, terminated: nl !== -1 };
    start = end + 1;
  }
}

/** Streams a file's lines without holding the file in memory. */
export async function* readLines(path: string): AsyncGenerator<Line> {
  let carry = '';
  let n = 0;
  let first = true;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    let s = carry + (chunk as string);
    if (first) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      first = false;
    }
    let start = 0;
    for (;;) {
      const nl = s.indexOf('\n', start);
      if (nl === -1) break;
      let t = s.slice(start, nl);
      if (t.endsWith('\r')) t = t.slice(0, -1);
      yield { text: t, number: ++n, terminated: true };
      start = nl + 1;
    }
    carry = s.slice(start);
  }
  if (carry.length > 0) yield { text: carry.endsWith('\r') ? carry.slice(0, -1) : carry, number: ++n, terminated: false };
}
