// Child processes for the live wire, with a deadline on every wait: short tools (ip,
// swanctl) run to completion under a timeout; daemons (charon, tcpdump, the traffic agents)
// are started, watched and stopped TERM-then-KILL. Every failure is an EnvironmentError
// that names the command and the last lines it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import { EnvironmentError } from '../../src/util/errors.js';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
}

const MAX_OUTPUT = 1024 * 1024;

function tail(text: string, lines = 4): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

export function commandLine(file: string, args: readonly string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a short-lived tool; kills it (and fails) after the timeout. */
export function runTool(file: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < MAX_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_OUTPUT) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new EnvironmentError(`${commandLine(file, args)}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (timedOut) reject(new EnvironmentError(`${commandLine(file, args)}: no answer after ${timeoutMs / 1000} s`));
      else if (code !== 0 && !options.allowFailure) {
        reject(new EnvironmentError(`${commandLine(file, args)}: exit ${code ?? signal}: ${tail(stderr || stdout) || 'no output'}`));
      } else resolvePromise(result);
    });
  });
}

/** A long-running child we own: its output is kept (bounded) and it is stopped on request. */
export class Daemon {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly label: string,
    file: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe' } = {},
  ) {
    // Own process group: a Ctrl-C on the terminal reaches us, and we stop children in order.
    this.child = spawn(file, args, { env: options.env ?? process.env, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (this.stdout.length < MAX_OUTPUT) this.stdout += d;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderr.length < MAX_OUTPUT) this.stderr += d;
      this.notify();
    });
    this.exitPromise = new Promise((resolvePromise) => {
      this.child.on('error', (err) => {
        this.stderr += `\n${err.message}`;
        this.exitInfo ??= { code: null, signal: null };
        this.notify();
        resolvePromise();
      });
      this.child.on('close', (code, signal) => {
        this.exitInfo = { code, signal };
        this.notify();
        resolvePromise();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  describeExit(): string {
    const e = this.exitInfo;
    const how = e ? `exited (${e.code ?? e.signal})` : 'is running';
    return `${this.label} ${how}: ${tail(this.stderr || this.stdout) || 'no output'}`;
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /** Waits until the predicate over the output holds; fails on timeout or if the daemon exits first. */
  waitForOutput(what: string, predicate: (d: Daemon) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const check = (): boolean => {
        if (predicate(this)) {
          done();
          resolvePromise();
          return true;
        }
        if (this.exited) {
          done();
          reject(new EnvironmentError(`${this.label}: ${what}: ${this.describeExit()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new EnvironmentError(`${this.label}: ${what}: nothing after ${timeoutMs / 1000} s (${this.describeExit()})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => void check();
      this.listeners.add(listener);
      check();
    });
  }

  /** Sends a signal (to the whole group), waits up to graceMs, then kills. Resolves once it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> {
    if (this.exited) return;
    this.signal(signal);
    if (!(await this.waitExit(graceMs))) {
      this.signal('SIGKILL');
      await this.waitExit(2000);
    }
  }

  /** Waits for the exit (without signalling) up to timeoutMs; true when it exited. */
  waitExit(timeoutMs: number): Promise<boolean> {
    return withTimeout(this.exitPromise.then(() => true), timeoutMs, false);
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  exitCode(): number | null | undefined {
    return this.exitInfo?.code;
  }
}

/** The promise's value, or `fallback` after timeoutMs; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((r) => {
    timer = setTimeout(() => r(fallback), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Environment of every process of a live run: the run id marks them (for operators, sweeps and tests). */
export function liveEnv(runId: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CRYPTGATE_LIVE_RUN: runId, ...extra };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls an async condition until it holds; EnvironmentError naming `what` after the timeout. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new EnvironmentError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}
