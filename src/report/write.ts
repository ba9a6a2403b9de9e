// One entry point for every report format, and an atomic file write: the report goes to a
// temporary file in the target's own folder, is flushed, then renamed over the target, so
// a crashed or killed run leaves either the previous report or the new one, never half.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Report } from './model.js';
import { renderJson } from './json.js';
import { renderText } from './text.js';
import { renderJunit } from './junit.js';
import { renderSarif } from './sarif.js';
import { validateReport } from './validate.js';
import { EnvironmentError, InputError } from '../util/errors.js';

export const REPORT_FORMATS = ['text', 'json', 'junit', 'sarif'] as const;
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
  const dir = dirname(target);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(temp, 'wx', 0o644);
    const data = Buffer.from(content, 'utf8');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = USER_PATH_ERRORS[code];
    if (why) throw new InputError(`${path}: cannot write the report: ${why}`);
    if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EIO') {
      throw new EnvironmentError(`${path}: cannot write the report: ${(err as Error).message}`);
    }
    throw err;
  }
  // Make the rename itself durable where the platform allows it.
  try {
    const dirFd = openSync(dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // not supported (e.g. Windows): the data itself is already flushed
  }
}
