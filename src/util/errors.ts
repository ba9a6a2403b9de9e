// Errors that carry the CLI's exit-code contract (DESIGN.md): a user mistake is never a
// stack trace, it is one clear line naming the file, the place and what was expected.

export const EXIT_PASS = 0;
export const EXIT_FAIL = 1;
export const EXIT_BAD_INPUT = 2;
export const EXIT_ENVIRONMENT = 3;

/** Bad input or usage: exit 2. */
export class InputError extends Error {
  readonly exitCode = EXIT_BAD_INPUT;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * Malformed evidence: names the file, the byte offset, the field and what was expected,
 * e.g. `cap.pcap: offset 4096: record caplen 900000: expected at most 262144`.
 */
export class FormatError extends InputError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly field: string,
    readonly expected: string,
    readonly found?: string,
  ) {
    super(`${file}: offset ${offset}: ${field}: expected ${expected}${found === undefined ? '' : `, found ${found}`}`);
    this.name = 'FormatError';
  }
}

/** The environment or a backend let us down (KMS unreachable, tool missing): exit 3. */
export class EnvironmentError extends Error {
  readonly exitCode = EXIT_ENVIRONMENT;
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

/**
 * Why a file could not be opened or read, in words for a one-line message (the caller names
 * the file and what it was for): the common errno codes in plain words, else the system's message.
 */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
}
