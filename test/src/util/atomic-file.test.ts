// Atomic writes and the pid lock, with real files and real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takePidLock, TEMP_MARK, writeFileAtomic } from '../../../src/util/atomic-file.js';
import { InputError } from '../../../src/util/errors.js';

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-atomic-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** A pid no process has: one past the kernel's limit. */
function deadPid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
  } catch {
    return 2 ** 22 + 1;
  }
}

test('writeFileAtomic replaces a file whole and leaves no temp file', () =>
  withDir((dir) => {
    const f = join(dir, 'state.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, Buffer.from('two'));
    assert.equal(readFileSync(f, 'utf8'), 'two');
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(TEMP_MARK)), []);
  }));

test('the pid lock: refused while held, taken over when its holder is dead or it holds no pid, released once', () =>
  withDir((dir) => {
    const lock = join(dir, '.lock');
    const release = takePidLock(lock, (pid) => `busy ${pid}`);
    assert.equal(readFileSync(lock, 'utf8'), String(process.pid));
    assert.throws(() => takePidLock(lock, (pid) => `busy ${pid}`), (e: Error) => e instanceof InputError && e.message === `busy ${process.pid}`);
    release();
    release();
    assert.equal(existsSync(lock), false);
    for (const stale of [String(deadPid()), '']) {
      writeFileSync(lock, stale);
      const r = takePidLock(lock, () => 'busy');
      assert.equal(readFileSync(lock, 'utf8'), String(process.pid), `taking over a lock holding ${JSON.stringify(stale)}`);
      r();
    }
    assert.deepEqual(readdirSync(dir), []);
  }));

// Each child takes the lock (stale at the start), logs "in <pid>", holds it, logs "out <pid>",
// releases; a busy refusal is retried. Two holders at once would show as "in a, in b".
const CHILD = `
const { takePidLock } = await import(process.argv[1]);
const { appendFileSync } = await import('node:fs');
const [lock, log] = process.argv.slice(2);
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (;;) {
  let release;
  try { release = takePidLock(lock, () => 'busy'); } catch (e) { if (e.message !== 'busy') throw e; pause(2); continue; }
  appendFileSync(log, 'in ' + process.pid + '\\n');
  pause(30);
  appendFileSync(log, 'out ' + process.pid + '\\n');
  release();
  break;
}
`;

test('processes racing for a stale pid lock hold it one at a time', () =>
  withDir(async (dir) => {
    const lock = join(dir, '.lock');
    const log = join(dir, 'log');
    writeFileSync(lock, String(deadPid()));
    writeFileSync(log, '');
    const module = new URL('../../../src/util/atomic-file.js', import.meta.url).href;
    const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['--input-type=module', '-e', CHILD, module, lock, log], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const codes = await Promise.all(
      children.map(
        (c) =>
          new Promise<string>((resolve) => {
            let err = '';
            c.stderr.on('data', (d: Buffer) => (err += d.toString()));
            c.on('close', (code) => resolve(`${code}${err}`));
          }),
      ),
    );
    assert.deepEqual(codes, children.map(() => '0'));
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 12);
    for (let i = 0; i < lines.length; i += 2) {
      assert.match(lines[i]!, /^in \d+$/);
      assert.equal(lines[i + 1], lines[i]!.replace('in', 'out'), `two holders at once: ${lines.join(', ')}`);
    }
    assert.equal(existsSync(lock), false);
  }));
