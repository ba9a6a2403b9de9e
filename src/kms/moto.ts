// `--kms moto`: moto_server (pip `moto[server]`) as a child process on a free loopback port.
// Found at $MOTO_SERVER, then <repo>/.venv/bin/moto_server (scripts/moto/install.sh puts it
// there), then on PATH. It runs in its own process group, is killed (group and all) on
// stop(), and also when this process exits or is told to stop by SIGINT/SIGTERM/SIGHUP,
// so it is never left running. Its output is kept (the last few KB) for error messages.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { EnvironmentError } from '../util/errors.js';
import { packageRoot } from '../util/package-info.js';
import { httpGet } from './http-get.js';

export const MOTO_INSTALL_HINT = "python3 -m venv .venv && .venv/bin/pip install 'moto[server]' (or: bash scripts/moto/install.sh)";

export interface MotoServerOptions {
  env?: Record<string, string | undefined>;
  /** Folders whose `.venv/bin/moto_server` is tried, in order. Default: the cryptgate package root, then the working directory. */
  searchDirs?: string[];
  /** How long moto_server may take to answer. Default 60 s (it imports every AWS service at start). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  readonly executable: string;
  /** `5.2.5`, or undefined when the interpreter could not say. */
  readonly version: string | undefined;
  /** The last lines moto_server printed (its request log and errors). */
  output(): string;
  stop(): Promise<void>;
}

export interface MotoExecutable {
  path: string;
  /** How it was found. */
  source: 'MOTO_SERVER' | '.venv' | 'PATH';
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where moto_server is, or an EnvironmentError saying where it looked and how to install it. */
export function findMotoServer(env: Record<string, string | undefined> = process.env, searchDirs?: string[]): MotoExecutable {
  const explicit = env['MOTO_SERVER'];
  if (explicit !== undefined && explicit !== '') {
    if (isExecutable(explicit)) return { path: resolve(explicit), source: 'MOTO_SERVER' };
    throw new EnvironmentError(`MOTO_SERVER=${explicit}: no executable file there; point it at a moto_server, or install one: ${MOTO_INSTALL_HINT}`);
  }
  const dirs = searchDirs ?? [...new Set([packageRoot(), process.cwd()])];
  const venvs = dirs.map((d) => join(d, '.venv', 'bin', 'moto_server'));
  for (const candidate of venvs) if (isExecutable(candidate)) return { path: candidate, source: '.venv' };
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'moto_server');
    if (isExecutable(candidate)) return { path: candidate, source: 'PATH' };
  }
  throw new EnvironmentError(`moto_server not found (looked at $MOTO_SERVER, ${venvs.join(', ')} and PATH): install it with: ${MOTO_INSTALL_HINT}`);
}

/** A free TCP port on 127.0.0.1 (free now; the caller retries if it is taken before use). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

// ---- never leave a child running -------------------------------------------------------
const live = new Set<ChildProcess>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooked = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals, evenIfExited = false): void {
  if (child.pid === undefined) return;
  if (!evenIfExited && (child.exitCode !== null || child.signalCode !== null)) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
function killAllNow(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
}
function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  live.clear();
  unhook();
  // If nobody else handles this signal, die of it as we would have without our hook.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}
const signalHandlers = new Map<NodeJS.Signals, () => void>(SIGNALS.map((s) => [s, () => onSignal(s)]));
function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAllNow);
  for (const [s, h] of signalHandlers) process.on(s, h);
}
function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', killAllNow);
  for (const [s, h] of signalHandlers) process.off(s, h);
}
function track(child: ChildProcess): void {
  live.add(child);
  hook();
}
function untrack(child: ChildProcess): void {
  live.delete(child);
  if (live.size === 0) unhook();
}
// -----------------------------------------------------------------------------------------

/** The moto version of the interpreter behind a moto_server script (its shebang's Python). */
function motoVersion(executable: string): Promise<string | undefined> {
  let python: string | undefined;
  try {
    const head = readFileSync(executable, { encoding: 'latin1' }).slice(0, 512);
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
    if (m && /python[\d.]*$/.test(m[1]!)) python = m[1];
    else if (m && m[1]!.endsWith('/env') && m[2] && /^python[\d.]*$/.test(m[2])) python = join(dirname(executable), m[2]);
  } catch {
    // not readable: fall through
  }
  if (python === undefined) {
    const sibling = join(dirname(executable), 'python3');
    if (isExecutable(sibling)) python = sibling;
  }
  if (python === undefined) return Promise.resolve(undefined);
  return new Promise((done) => {
    execFile(python!, ['-c', 'import importlib.metadata as m; print(m.version("moto"))'], { timeout: 10_000 }, (err, stdout) => {
      const v = String(stdout).trim();
      done(!err && /^\d+(\.\d+)*\S*$/.test(v) ? v : undefined);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function tailOf(text: string, lines = 6): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-lines)
    .join(' | ');
}

/** Starts moto_server on a free 127.0.0.1 port and waits until it answers. */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<MotoServer> {
  const env = options.env ?? process.env;
  const exe = findMotoServer(env, options.searchDirs);
  const versionPromise = motoVersion(exe.path);
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  let lastError: EnvironmentError | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      const server = await launch(exe, port, env, startTimeoutMs, options.log);
      const version = await versionPromise;
      return { ...server, version };
    } catch (err) {
      if (!(err instanceof PortTaken)) throw err;
      lastError = new EnvironmentError(`moto_server could not bind 127.0.0.1:${port}: ${err.message}`);
    }
  }
  throw lastError!;
}

class PortTaken extends Error {}

/** $0 is moto_server, "$@" its arguments; stdin is the lifeline pipe from this process. */
const GUARD = 'exec 3<&0; (cat <&3 >/dev/null 2>&1; kill -KILL 0 2>/dev/null) & exec "$0" "$@" </dev/null 3<&-';

async function launch(
  exe: MotoExecutable,
  port: number,
  env: Record<string, string | undefined>,
  startTimeoutMs: number,
  log: ((line: string) => void) | undefined,
): Promise<Omit<MotoServer, 'version'>> {
  const endpoint = `http://127.0.0.1:${port}`;
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  // Through a tiny sh guard, because no hook runs when this process is SIGKILLed: a watcher
  // in moto_server's process group waits for EOF on a pipe only we hold open, then kills the
  // group. The guard then execs moto_server, so the pid we hold is moto_server's own.
  const child = spawn('/bin/sh', ['-c', GUARD, exe.path, '-H', '127.0.0.1', '-p', String(port)], {
    detached: true, // its own process group: we kill the group, and a terminal's Ctrl+C goes through our hook
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...env, PYTHONUNBUFFERED: '1' } as NodeJS.ProcessEnv,
  });
  let spawnError: Error | undefined;
  child.on('error', (err) => {
    spawnError = err;
  });
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (child.pid !== undefined) track(child);
  // A forgotten stop() must not keep this process alive; the exit hook still kills the child.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        killGroup(child, 'SIGTERM');
        const gone = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
        if (!gone) {
          killGroup(child, 'SIGKILL');
          await Promise.race([exited, sleep(2000)]);
        }
      }
      // The group may hold children of moto_server that outlived it (ESRCH when none did).
      killGroup(child, 'SIGKILL', true);
      untrack(child);
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
    })();
    return stopping;
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (spawnError !== undefined) {
      await stop();
      throw new EnvironmentError(`${exe.path}: cannot start moto_server: ${spawnError.message}`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      if (/address already in use/i.test(output)) throw new PortTaken(tailOf(output, 2));
      const how = child.exitCode !== null ? `exited with code ${child.exitCode}` : `was killed by ${child.signalCode}`;
      const said = tailOf(output);
      throw new EnvironmentError(
        `moto_server (${exe.path}) ${how} before answering${said ? `: ${said}` : ''}; reinstall it with: ${MOTO_INSTALL_HINT}`,
      );
    }
    try {
      const res = await httpGet(`${endpoint}/moto-api/`, 2000, 0);
      if (res.status > 0 && res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      const said = tailOf(output);
      throw new EnvironmentError(
        `moto_server (${exe.path}) did not answer on ${endpoint} within ${Math.round(startTimeoutMs / 1000)} s${said ? `; its last output: ${said}` : ''}`,
      );
    }
    await sleep(100);
  }
  log?.(`moto_server ${exe.path} (pid ${child.pid}) ready on ${endpoint}`);
  return { endpoint, port, pid: child.pid!, executable: exe.path, output: () => output, stop };
}
