// One entry point for every report format, and the report file write: atomic (temp file in
// the target's own folder, flushed, renamed over the target), so a crashed or killed run
// leaves either the previous report or the new one, never half.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Report } from './model.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';
import { renderJunit } from './junit.js';
import { renderSarif } from './sarif.js';
import { renderHtml } from './html.js';
import { validateReport } from './validate.js';
import { EnvironmentError, InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';

export const REPORT_FORMATS = ['text', 'json', 'junit', 'sarif', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface RenderOptions {
  /** Colour in the text format (the CLI decides from TTY / NO_COLOR / FORCE_COLOR). */
  color?: boolean;
}

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/** Renders a report; every format validates it first (a bug must not reach any consumer). */
export function renderReport(report: Report, format: ReportFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'text':
      validateReport(report);
      return renderText(report, { color: opts.color ?? false });
    case 'junit':
      validateReport(report);
      return renderJunit(report);
    case 'sarif':
      validateReport(report);
      return renderSarif(report);
    case 'html':
      validateReport(report);
      return renderHtml(report);
    default: {
      const never: never = format;
      throw new InputError(`--format ${String(never)}: expected one of ${REPORT_FORMATS.join(', ')}`);
    }
  }
}

const USER_PATH_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  EROFS: 'the file system is read-only',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'a parent of it is a file',
};

/** Writes `content` to `path` atomically (temp file in the same folder, fsync, rename). Creates missing folders. */
export function writeReportFile(path: string, content: string): void {
  const target = resolve(path);
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileAtomic(target, content, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = USER_PATH_ERRORS[code];
    if (why) throw new InputError(`${path}: cannot write the report: ${why}`);
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO') {
      throw new EnvironmentError(`${path}: cannot write the report: ${(err as Error).message}`);
    }
    throw err;
  }
}
