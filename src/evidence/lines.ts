// Line-oriented evidence: a format error that names the line, and a streaming line reader
// that knows whether the last line was terminated (a live log may end mid-line). The reader
// takes rotated .gz logs, CRLF and UTF-16 PowerShell exports (text-source.ts).
import { FormatError } from '../util/errors.js';
import { openUtf8Source } from './text-source.js';

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

/** The longest line a reader accepts: a "line" beyond this is not text evidence. */
export const MAX_LINE_BYTES = 64 << 20;

/**
 * Streams a file's lines without holding the file in memory: plain, gzip'd or UTF-16 (BOM or
 * not), LF or CRLF, told apart by content (see text-source.ts).
 */
export async function* readLines(path: string): AsyncGenerator<Line> {
  const source = await openUtf8Source(path);
  try {
    let buf = Buffer.allocUnsafe(1 << 20);
    let carry = 0;
    let n = 0;
    for (;;) {
      if (carry === buf.length) {
        if (buf.length >= MAX_LINE_BYTES) throw new LineFormatError(path, n + 1, 'line', `at most ${MAX_LINE_BYTES} bytes`, 'a longer line');
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const got = await source.fill(buf, carry);
      const end = carry + got;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl === -1 || nl >= end) break;
        const stop = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        yield { text: buf.toString('utf8', start, stop), number: ++n, terminated: true };
        start = nl + 1;
      }
      if (got === 0) {
        if (end > start) {
          const stop = buf[end - 1] === 13 ? end - 1 : end;
          yield { text: buf.toString('utf8', start, stop), number: ++n, terminated: false };
        }
        return;
      }
      buf.copy(buf, 0, start, end);
      carry = end - start;
    }
  } finally {
    source.close();
  }
}
