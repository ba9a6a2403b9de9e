#!/usr/bin/env node
// `npm test` after the build: every compiled test file under dist/test, run by `node --test`.
// The files are listed here because Node 20 takes a folder argument and Node 22 does not (it
// reads arguments as glob patterns, which Node 20 does not expand): one list works on both.
// Extra arguments are passed to node --test (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const testDir = join(root, 'dist', 'test');
const files = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.test.js'))
  .sort()
  .map((f) => join(testDir, f));
if (files.length === 0) {
  process.stderr.write(`no *.test.js under ${testDir}: run npm run build first\n`);
  process.exit(2);
}
// The AWS SDK warns once per process on Node 20 that later versions will need Node 22; the CLI
// turns that off (bin/cryptgate.js), and here it would only repeat in every test file's output.
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true' };
const r = spawnSync(process.execPath, ['--test', '--test-timeout=600000', '--test-reporter=spec', ...process.argv.slice(2), ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
