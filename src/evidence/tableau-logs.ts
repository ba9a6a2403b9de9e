// Tableau Server logs as KMS evidence (KMS-7, KMS-8). Two formats (research/kms.md §1.6):
//  - Java service logs (vizqlserver_node1-0.log, backgrounder_node2-1.log[.2024-05-01], …):
//      2020-04-03 03:01:02.166 -0400 [pid] (site,user,data_sess,vql_sess,job_id,:job_type,req_id) thread service: LEVEL  class [{callinfo}] - message
//    A line that does not start with a timestamp continues the event before it (stack traces).
//  - Native JSON-lines logs (nativeapi_vizqlserver_2-0_2018_08_08_00_00_00.txt):
//      {"ts","pid","tid","sev","req","sess","site","user","k","v"}
// Parsing is pure (JavaLogParser / NativeLogParser take lines and return events); the
// readers stream files line by line, so a multi-GB log costs flat memory. Only events that
// say something about KMS come out; every other line is read and dropped.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { LineFormatError, type Line } from './lines.js';
import { scanTableauLog } from './log-scan.js';

export type KmsEventKind =
  | 'rmk-decrypted'
  | 'rmk-in-use'
  | 'rmk-generated'
  | 'cmk-error'
  | 'extract-encrypted'
  | 'extract-decrypted'
  | 'extract-reencrypted'
  | 'extract-error'
  | 'reencrypt-job-started'
  | 'reencrypt-job-finished'
  | 'service-failed';

export interface KmsLogEvent {
  node: string;
  file: string;
  /** The line the event starts on (1-based). */
  line: number;
  /** As written in the log (Java: `YYYY-MM-DD HH:MM:SS.mmm +ZZZZ`; native: ISO without zone). */
  ts: string;
  /** vizqlserver, backgrounder, tabadmincontroller, … */
  service: string;
  level: string;
  /** The logger class, as written (Java events only; e.g. `com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelope`). */
  cls?: string;
  kind: KmsEventKind;
  rmkId?: string;
  cmkArn?: string;
  mekId?: string;
  fromMekId?: string;
  extractId?: string;
  site?: string;
  jobId?: string;
  result?: string;
  /** The AWS error code (AccessDeniedException…) for cmk-error. */
  errorCode?: string;
  error?: string;
  /** The whole message (first line only for Java events with a stack trace). */
  message: string;
}

export interface LogSource {
  node: string;
  file: string;
  service: string;
}

export interface ParseOptions {
  /** Collect malformed lines as warnings instead of failing (default: fail). */
  lenient?: boolean;
}

// ---------------------------------------------------------------- message classification

const UUIDISH = '([0-9A-Za-z][0-9A-Za-z-]{7,})';
const PATTERNS: { re: RegExp; kind: KmsEventKind; fields: (m: RegExpExecArray) => Partial<KmsLogEvent> }[] = [
  { re: new RegExp(`Decrypted RMK with ID ${UUIDISH} using CMK with ARN (arn:\\S+)`), kind: 'rmk-decrypted', fields: (m) => ({ rmkId: m[1]!, cmkArn: trimArn(m[2]!) }) },
  { re: new RegExp(`Decrypted RMK with ID ${UUIDISH}`), kind: 'rmk-decrypted', fields: (m) => ({ rmkId: m[1]! }) },
  { re: new RegExp(`Using RMK with ID ${UUIDISH} to decrypt KMS storage`), kind: 'rmk-in-use', fields: (m) => ({ rmkId: m[1]! }) },
  { re: new RegExp(`Generated RMK with ID ${UUIDISH} using CMK with ARN (arn:\\S+)`), kind: 'rmk-generated', fields: (m) => ({ rmkId: m[1]!, cmkArn: trimArn(m[2]!) }) },
  {
    re: new RegExp(`Re-?encrypted extract ${UUIDISH}.*? from MEK ${UUIDISH} to MEK ${UUIDISH}`, 'i'),
    kind: 'extract-reencrypted',
    fields: (m) => ({ extractId: m[1]!, fromMekId: m[2]!, mekId: m[3]! }),
  },
  { re: new RegExp(`Encrypted extract ${UUIDISH}.*? with MEK ${UUIDISH}`), kind: 'extract-encrypted', fields: (m) => ({ extractId: m[1]!, mekId: m[2]! }) },
  { re: new RegExp(`Decrypted extract ${UUIDISH}.*? with MEK ${UUIDISH}`), kind: 'extract-decrypted', fields: (m) => ({ extractId: m[1]!, mekId: m[2]! }) },
  { re: /Running job of type ReencryptExtracts;.*?id: ([^;]+);/, kind: 'reencrypt-job-started', fields: (m) => ({ jobId: m[1]!.trim() }) },
  {
    re: /Job finished: (\w+);\s*name: [^;]*;\s*type\s*:reencrypt_extracts;\s*id: ([^;]+);/,
    kind: 'reencrypt-job-finished',
    fields: (m) => ({ result: m[1]!, jobId: m[2]!.trim() }),
  },
];

const trimArn = (s: string): string => s.replace(/[.,;:)]+$/, '');

/** What a KMS-related message says; undefined when it says nothing about KMS. */
export function classifyMessage(message: string, level: string, cls: string): Pick<KmsLogEvent, 'kind'> & Partial<KmsLogEvent> | undefined {
  const isError = /^(ERROR|FATAL|error|fatal)$/.test(level);
  if (isError && /Service failed to start/i.test(message)) return { kind: 'service-failed', error: message };
  if (isError && (/KmsEncryption|AwsKms/i.test(cls) || /\b(RMK|CMK)\b/.test(message))) {
    const code = /Error Code: (\w+)/.exec(message)?.[1] ?? /\b(\w+Exception)\b/.exec(message)?.[1];
    const rmk = new RegExp(`RMK with ID ${UUIDISH}`).exec(message)?.[1];
    const arn = /(arn:aws[\w-]*:kms:\S+)/.exec(message)?.[1];
    return {
      kind: 'cmk-error',
      ...(code ? { errorCode: code } : {}),
      ...(rmk ? { rmkId: rmk } : {}),
      ...(arn ? { cmkArn: trimArn(arn) } : {}),
      error: message,
    };
  }
  for (const p of PATTERNS) {
    const m = p.re.exec(message);
    if (m) return { kind: p.kind, ...p.fields(m) };
  }
  return undefined;
}

// ---------------------------------------------------------------- Java logs

const JAVA_START = /^\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}\.\d{3}\s/;
// LogShark's BackgrounderEventParser regex, with its pattern whitespace removed.
const JAVA_LINE =
  /^(\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}\.\d{3})\s(\S+)\s?(\S*)\s\(([^,]*),([^,]*),([^,]*),([^,]*),([^,]*),:?([^,]*),(\S*)\)\s?(\S*)?\s(\S*)\s(\S*):\s([A-Z]+)\s+(\S*)\s?(\{.*\})?\s-\s(.*)$/;

/** One Java log line's fields (its first line only: continuation lines carry none). */
export interface JavaLine {
  /** `YYYY-MM-DD HH:MM:SS.mmm +ZZZZ` */
  ts: string;
  site: string;
  jobId: string;
  service: string;
  level: string;
  /** The logger class. */
  cls: string;
  message: string;
}

/** The fields of a Java log line (JAVA_LINE); undefined when the line is not one. Pure. */
export function parseJavaLine(text: string): JavaLine | undefined {
  const m = JAVA_LINE.exec(text);
  if (!m) return undefined;
  return { ts: `${m[1]} ${m[2]}`, site: m[4]!, jobId: m[8]!, service: m[13]!, level: m[14]!, cls: m[15]!, message: m[17]! };
}

interface JavaEvent extends JavaLine {
  line: number;
  continuation: string[];
}

/** Pure: feed lines in order, take events; call end() after the last line. */
export class JavaLogParser {
  private pending: JavaEvent | undefined;
  readonly warnings: string[] = [];

  constructor(
    private readonly source: LogSource,
    private readonly o: ParseOptions = {},
  ) {}

  push(l: Line): KmsLogEvent[] {
    if (!JAVA_START.test(l.text)) {
      if (this.pending) this.pending.continuation.push(l.text);
      else if (l.text.trim() !== '') this.warnings.push(`${this.source.file}: line ${l.number}: continuation line before the first event (log rotated mid-event?)`);
      return [];
    }
    const out = this.flush();
    const j = parseJavaLine(l.text);
    if (!j) {
      const e = new LineFormatError(
        this.source.file,
        l.number,
        'Java log line',
        "'YYYY-MM-DD HH:MM:SS.mmm +ZZZZ (site,user,data_sess,vql_sess,job_id,:job_type,req_id) thread service: LEVEL class - message'",
      );
      if (!this.o.lenient && l.terminated) throw e;
      this.warnings.push(e.message);
      return out;
    }
    this.pending = { ...j, line: l.number, continuation: [] };
    return out;
  }

  end(): KmsLogEvent[] {
    return this.flush();
  }

  private flush(): KmsLogEvent[] {
    const p = this.pending;
    this.pending = undefined;
    if (!p) return [];
    const full = p.continuation.length ? `${p.message}\n${p.continuation.join('\n')}` : p.message;
    const c = classifyMessage(full, p.level, p.cls);
    if (!c) return [];
    return [
      {
        node: this.source.node,
        file: this.source.file,
        line: p.line,
        ts: p.ts,
        service: p.service || this.source.service,
        level: p.level,
        ...(p.cls ? { cls: p.cls } : {}),
        ...(p.site ? { site: p.site } : {}),
        ...(p.jobId ? { jobId: p.jobId } : {}),
        ...c,
        message: p.message,
      },
    ];
  }
}

// ---------------------------------------------------------------- native JSON logs

interface NativeRecord {
  ts?: unknown;
  sev?: unknown;
  site?: unknown;
  k?: unknown;
  v?: unknown;
}

const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' && x !== '-' ? x : undefined);

/** Pure: one JSON object per line. */
export class NativeLogParser {
  readonly warnings: string[] = [];

  constructor(
    private readonly source: LogSource,
    private readonly o: ParseOptions = {},
  ) {}

  push(l: Line): KmsLogEvent[] {
    if (l.text.trim() === '') return [];
    let rec: NativeRecord;
    try {
      rec = JSON.parse(l.text) as NativeRecord;
      if (!rec || typeof rec !== 'object' || Array.isArray(rec) || typeof rec.ts !== 'string' || typeof rec.k !== 'string') throw new Error('shape');
    } catch {
      const e = new LineFormatError(this.source.file, l.number, 'native log line', 'a JSON object with "ts" and "k" (Tableau native log format)');
      // A last line without a newline is a live writer caught mid-line: a warning, not an error.
      if (!this.o.lenient && l.terminated) throw e;
      this.warnings.push(e.message);
      return [];
    }
    const base = {
      node: this.source.node,
      file: this.source.file,
      line: l.number,
      ts: rec.ts as string,
      service: this.source.service,
      level: typeof rec.sev === 'string' ? rec.sev : 'info',
      ...(str(rec.site) ? { site: str(rec.site)! } : {}),
    };
    const k = rec.k as string;
    const v = (rec.v && typeof rec.v === 'object' ? rec.v : {}) as Record<string, unknown>;
    const g = (name: string): string | undefined => str(v[name]);
    const withIds = (): Partial<KmsLogEvent> => ({
      ...(g('rmk-id') ? { rmkId: g('rmk-id')! } : {}),
      ...(g('cmk-arn') ? { cmkArn: g('cmk-arn')! } : {}),
      ...(g('mek-id') ? { mekId: g('mek-id')! } : {}),
      ...(g('extract-id') ? { extractId: g('extract-id')! } : {}),
    });
    switch (k) {
      case 'kms-storage-open':
        return [{ ...base, kind: 'rmk-in-use', ...withIds(), message: `${k} ${JSON.stringify(v)}` }];
      case 'kms-storage-error':
        return [{ ...base, kind: 'cmk-error', ...withIds(), ...(g('error-code') ? { errorCode: g('error-code')! } : {}), ...(g('error') ? { error: g('error')! } : {}), message: `${k} ${JSON.stringify(v)}` }];
      case 'kms-decrypt-extract':
        return [{ ...base, kind: 'extract-decrypted', ...withIds(), message: `${k} ${JSON.stringify(v)}` }];
      case 'kms-decrypt-extract-error':
        return [{ ...base, kind: 'extract-error', ...(g('error') ? { error: g('error')! } : {}), message: `${k} ${JSON.stringify(v)}` }];
      default: {
        // Any other native event whose text carries a KMS message (e.g. a "msg" value).
        const text = typeof rec.v === 'string' ? rec.v : typeof v.msg === 'string' ? v.msg : undefined;
        if (text === undefined) return [];
        const c = classifyMessage(text, base.level, '');
        return c ? [{ ...base, ...c, message: text }] : [];
      }
    }
  }

  end(): KmsLogEvent[] {
    return [];
  }
}

// ---------------------------------------------------------------- files and folders

export type LogFormat = 'java' | 'native';

/**
 * Which Tableau log format a text is, from its first non-blank line (content, not name):
 * a Java line (timestamp, context, thread, service, level, class, message) or a native JSON
 * object with "ts" and "k". Undefined when it is neither. Pure.
 */
export function sniffTableauLog(head: string): LogFormat | undefined {
  for (const raw of head.split('\n', 20)) {
    const line = raw.replace(/\r$/, '').replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    if (JAVA_START.test(line)) return JAVA_LINE.test(line) ? 'java' : undefined;
    if (/^\s*\{/.test(line)) {
      try {
        const rec = JSON.parse(line) as NativeRecord;
        return rec && typeof rec === 'object' && typeof rec.ts === 'string' && typeof rec.k === 'string' ? 'native' : undefined;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  return undefined;
}

export interface LogFileInfo extends LogSource {
  format: LogFormat;
}

/**
 * What a log file is, from its name and folder: `nativeapi_<service>_<N>-<i>_….txt` (native),
 * `<service>_node<N>-<i>.log[.date]` (Java). The node comes from the name, else from a
 * `node<N>` folder on the path; undefined when the file is not a Tableau log.
 */
export function classifyLogFile(path: string): LogFileInfo | undefined {
  const name = basename(path);
  const folderNode = path.split(/[\\/]/).reverse().find((p) => /^node\d+$/.test(p));
  let m = /^nativeapi_([a-z]+)_(\d+)-\d+.*\.txt(\.gz)?$/.exec(name);
  if (m) return { format: 'native', service: m[1]!, node: folderNode ?? `node${m[2]}`, file: path };
  m = /^([a-z]+)_node(\d+)-\d+\.log(\.[\w-]+)*$/.exec(name);
  if (m) return { format: 'java', service: m[1]!, node: `node${m[2]}`, file: path };
  return undefined;
}

export interface LogReadResult {
  events: KmsLogEvent[];
  warnings: string[];
  files: string[];
}

/** Streams one log file (plain, gzip, UTF-16) into KMS events; see log-scan.ts for the fast path. */
export async function readTableauLog(path: string, o: ParseOptions & { info?: LogFileInfo } = {}): Promise<LogReadResult> {
  const info = o.info ?? classifyLogFile(path);
  if (!info) throw new LineFormatError(path, 1, 'file name', 'a Tableau log name: <service>_node<N>-<i>.log or nativeapi_<service>_<N>-<i>_<date>.txt');
  const events: KmsLogEvent[] = [];
  const r = await scanTableauLog(path, info, info.format, (e) => events.push(e), o);
  return { events, warnings: r.warnings, files: [path] };
}

/** Every Tableau log under `dir` (recursively), events in file order then line order. */
export async function readTableauLogFolder(dir: string, o: ParseOptions = {}): Promise<LogReadResult> {
  const files: LogFileInfo[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const info = classifyLogFile(p);
        if (info) files.push(info);
      }
    }
  };
  if (!(await stat(dir)).isDirectory()) throw new LineFormatError(dir, 1, 'logs', 'a folder of Tableau logs');
  await walk(dir);
  const out: LogReadResult = { events: [], warnings: [], files: [] };
  for (const f of files) {
    const r = await readTableauLog(f.file, { ...o, info: f });
    out.events.push(...r.events);
    out.warnings.push(...r.warnings);
    out.files.push(relative(dir, f.file).split(sep).join('/'));
  }
  return out;
}
