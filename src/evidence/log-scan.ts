// The fast path through big Tableau logs (KMS-7, KMS-8). A real server writes gigabytes of
// log lines of which a handful say anything about KMS, so the scanner works on UTF-8 bytes in
// one reused buffer and never decodes a line that cannot carry a KMS event:
//  - a native search (Buffer.indexOf) finds the next occurrence of each keyword that every KMS
//    message contains (see KEYWORDS); lines without one are only framed, not parsed;
//  - framing is checked on every line: a Java line either starts with its timestamp (an event)
//    or continues the event before it; a native line is one `{…}` JSON object;
//  - candidate lines (and the continuation lines of a candidate event) are decoded and handed
//    to the same pure parsers (JavaLogParser, NativeLogParser) the line-by-line reader uses,
//    so both paths see the same events.
// Memory is the buffer plus one pending event, whatever the file's size.
import { LineFormatError, MAX_LINE_BYTES } from './lines.js';
import { openUtf8Source, type TextSourceInfo } from './text-source.js';
import { JavaLogParser, NativeLogParser, type KmsLogEvent, type LogFormat, type LogSource, type ParseOptions } from './tableau-logs.js';

/**
 * Every message classifyMessage() turns into an event contains one of these:
 * RMK/CMK (`…RMK with ID…`, errors naming the CMK) → "MK"; extract and re-encryption job
 * lines → "xtract"; native keys `kms-storage-open`… → "kms-"; errors from the KMS classes
 * (`AwsKmsEncryptionEnvelopeAccessor`, `LocalKmsEncryption…`) → "Kms"; `Service failed to
 * start` → "ailed". A keyword hit only makes a line a candidate; the parser decides.
 */
export const KEYWORDS: readonly string[] = ['MK', 'xtract', 'kms-', 'Kms', 'ailed'];
const KEYWORD_BYTES = KEYWORDS.map((k) => Buffer.from(k, 'latin1'));

/** Events longer than this (a huge stack trace) are not kept for a late keyword in their continuation. */
const MAX_HELD_EVENT = 1 << 20;
const CHUNK = 4 << 20;

export interface LogScanOptions extends ParseOptions {
  /** Called after each buffer with the raw (on-disk) bytes read so far. */
  onProgress?: (rawBytes: number) => void;
}

export interface LogScanResult {
  file: string;
  format: LogFormat;
  info: TextSourceInfo;
  /** Lines read (all of them, framed). */
  lines: number;
  /** UTF-8 bytes of text read (after decompression/transcoding). */
  textBytes: number;
  /** Lines decoded and parsed because they could carry a KMS event. */
  candidateLines: number;
  events: number;
  warnings: string[];
}

const D = (b: number | undefined): boolean => b !== undefined && b >= 48 && b <= 57;
const WS = (b: number | undefined): boolean => b === 32 || b === 9;

/** `YYYY-MM-DD HH:MM:SS.mmm ` at `p` (JavaLogParser's JAVA_START, on bytes). */
export function isJavaEventStart(b: Buffer, p: number, end: number): boolean {
  if (end - p < 24) return false;
  return (
    D(b[p]) && D(b[p + 1]) && D(b[p + 2]) && D(b[p + 3]) && b[p + 4] === 45 &&
    D(b[p + 5]) && D(b[p + 6]) && b[p + 7] === 45 && D(b[p + 8]) && D(b[p + 9]) &&
    WS(b[p + 10]) && D(b[p + 11]) && D(b[p + 12]) && b[p + 13] === 58 && D(b[p + 14]) && D(b[p + 15]) &&
    b[p + 16] === 58 && D(b[p + 17]) && D(b[p + 18]) && b[p + 19] === 46 && D(b[p + 20]) && D(b[p + 21]) && D(b[p + 22]) &&
    WS(b[p + 23])
  );
}

/** A native line is one JSON object: `{` … `}` (surrounding blanks allowed); blank lines are fine. */
function nativeFrame(b: Buffer, p: number, end: number): 'blank' | 'object' | 'bad' {
  let s = p;
  let e = end;
  while (s < e && (b[s] === 32 || b[s] === 9)) s++;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  if (s === e) return 'blank';
  return b[s] === 123 && b[e - 1] === 125 ? 'object' : 'bad';
}

/**
 * Streams one Tableau log (Java or native, plain/gzip/UTF-16) and hands each KMS event to
 * `onEvent`. Malformed framing is a LineFormatError naming the line (a cut last line, a live
 * writer caught mid-line, is a warning).
 */
export async function scanTableauLog(path: string, source: LogSource, format: LogFormat, onEvent: (e: KmsLogEvent) => void, o: LogScanOptions = {}): Promise<LogScanResult> {
  const text = await openUtf8Source(path);
  const parser = format === 'java' ? new JavaLogParser(source, o) : new NativeLogParser(source, o);
  const result: LogScanResult = { file: path, format, info: text.info, lines: 0, textBytes: 0, candidateLines: 0, events: 0, warnings: parser.warnings };
  const emit = (events: KmsLogEvent[]): void => {
    for (const e of events) {
      result.events++;
      onEvent(e);
    }
  };
  let buf = Buffer.allocUnsafe(CHUNK);
  // Scanning state that survives a buffer refill.
  let carry = 0; // bytes kept at the start of buf from the previous fill
  let resume = 0; // where scanning resumes inside the kept bytes
  let lineNo = 0;
  let tracked = false; // the parser holds a pending Java event we are feeding
  const next = new Array<number>(KEYWORD_BYTES.length).fill(-1);

  const feed = (start: number, stop: number, number: number, terminated: boolean): void => {
    result.candidateLines++;
    const cut = stop > start && buf[stop - 1] === 13 ? stop - 1 : stop;
    emit(parser.push({ text: buf.toString('utf8', start, cut), number, terminated }));
  };

  /**
   * The first line of the Java event that the line at `pos` continues: walking back line by
   * line (only ever done for a keyword hit, so it costs nothing on ordinary lines), at most
   * MAX_HELD_EVENT bytes and never before the start of the buffer.
   */
  const eventStartBefore = (pos: number, end: number): { at: number; back: number } | undefined => {
    let p = pos;
    let back = 0;
    while (p > 0 && pos - p <= MAX_HELD_EVENT) {
      const prev = p >= 2 ? buf.lastIndexOf(10, p - 2) + 1 : 0;
      back++;
      if (isJavaEventStart(buf, prev, end)) return { at: prev, back };
      p = prev;
    }
    return undefined;
  };

  try {
    for (;;) {
      if (carry >= buf.length - (1 << 16)) {
        if (buf.length >= MAX_LINE_BYTES) throw new LineFormatError(path, lineNo + 1, 'line', `at most ${MAX_LINE_BYTES} bytes`, 'a longer line');
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const got = await text.fill(buf, carry);
      result.textBytes += got;
      const end = carry + got;
      const last = got === 0;
      let minHit = Infinity;
      for (let k = 0; k < KEYWORD_BYTES.length; k++) {
        const at = buf.indexOf(KEYWORD_BYTES[k]!, resume);
        next[k] = at >= 0 && at < end ? at : -1;
        if (next[k]! >= 0 && next[k]! < minHit) minHit = next[k]!;
      }
      let pos = resume;
      for (;;) {
        let nl = buf.indexOf(10, pos);
        let terminated = true;
        if (nl === -1 || nl >= end) {
          if (!last || pos >= end) break;
          nl = end; // the last line, with no newline after it
          terminated = false;
        }
        lineNo++;
        const hit = minHit < nl;
        if (format === 'java') {
          // Every Java line is valid framing: an event's first line (timestamp) or a
          // continuation of the event before it. Only lines that matter are looked at.
          let handled = false;
          if (tracked) {
            if (isJavaEventStart(buf, pos, end)) {
              emit(parser.end());
              tracked = false;
            } else {
              feed(pos, nl, lineNo, terminated);
              handled = true;
            }
          }
          if (!handled && hit) {
            if (isJavaEventStart(buf, pos, end)) {
              feed(pos, nl, lineNo, terminated);
              tracked = true;
            } else {
              // A keyword in a continuation line whose event's first line had none: parse the
              // event from its first line (kept in the buffer across refills, see below).
              const start = eventStartBefore(pos, end);
              if (start) {
                let p = start.at;
                let n = lineNo - start.back;
                while (p < pos) {
                  const e = buf.indexOf(10, p);
                  feed(p, e, n++, true);
                  p = e + 1;
                }
                tracked = true;
              }
              feed(pos, nl, lineNo, terminated); // with no event before it, the parser warns
            }
          }
        } else {
          const stop = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
          const frame = nativeFrame(buf, pos, stop);
          if (frame === 'object' && hit) feed(pos, nl, lineNo, terminated);
          else if (frame === 'bad') feed(pos, nl, lineNo, terminated); // the parser names the line (or warns when cut/lenient)
        }
        if (hit) {
          minHit = Infinity;
          for (let k = 0; k < KEYWORD_BYTES.length; k++) {
            if (next[k]! >= 0 && next[k]! <= nl) {
              const at = buf.indexOf(KEYWORD_BYTES[k]!, nl);
              next[k] = at >= 0 && at < end ? at : -1;
            }
            if (next[k]! >= 0 && next[k]! < minHit) minHit = next[k]!;
          }
        }
        pos = nl + 1;
      }
      o.onProgress?.(text.rawBytesRead);
      if (last) break;
      // Keep the partial last line; for Java, keep the current event's lines too (when it is
      // small and not already with the parser), so a keyword in its continuation on the next
      // fill can still parse it from its first line.
      let keepFrom = pos;
      if (format === 'java' && !tracked && pos > 0) {
        const partialIsStart = end - pos >= 24 && isJavaEventStart(buf, pos, end);
        if (!partialIsStart) {
          const start = eventStartBefore(pos, end);
          if (start) keepFrom = start.at;
        }
      }
      buf.copy(buf, 0, keepFrom, end);
      carry = end - keepFrom;
      resume = pos - keepFrom;
    }
    emit(parser.end());
    result.lines = lineNo;
    return result;
  } finally {
    text.close();
  }
}
