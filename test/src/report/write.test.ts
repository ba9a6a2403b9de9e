import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReportFormat, renderReport, REPORT_FORMATS, writeReportFile } from '../../../src/report/write.js';
import { InputError } from '../../../src/util/errors.js';
import { sampleReport } from './sample-report.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cryptgate-write-'));
}

test('renderReport renders every format from the same report', () => {
  const report = sampleReport();
  assert.deepEqual(JSON.parse(renderReport(report, 'json')).checks.length, 4);
  assert.match(renderReport(report, 'text'), /^ERROR {2}1 passed/);
  assert.match(renderReport(report, 'junit'), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="cryptgate"/);
  assert.equal(JSON.parse(renderReport(report, 'sarif')).version, '2.1.0');
  assert.match(renderReport(report, 'text', { color: true }), /\u001b\[/);
  assert.doesNotMatch(renderReport(report, 'text'), /\u001b\[/, 'colour is off unless asked');
  assert.match(renderReport(report, 'html'), /^<!DOCTYPE html>/);
  assert.deepEqual([...REPORT_FORMATS], ['text', 'json', 'junit', 'sarif', 'html']);
  assert.equal(isReportFormat('sarif'), true);
  assert.equal(isReportFormat('html'), true);
  assert.equal(isReportFormat('pdf'), false);
});

test('every format refuses an invalid report with a plain Error (a bug, not bad input)', () => {
  const report = sampleReport();
  report.summary.pass = 7;
  for (const format of REPORT_FORMATS) {
    assert.throws(
      () => renderReport(report, format),
      (err: unknown) => err instanceof Error && !(err instanceof InputError) && /\/summary\/pass: says 7/.test(err.message),
      format,
    );
  }
});

test('writeReportFile writes, replaces, creates folders and leaves no temporary file', () => {
  const dir = scratch();
  try {
    const target = join(dir, 'reports', 'nested', 'cryptgate.json');
    writeReportFile(target, 'first\n');
    assert.equal(readFileSync(target, 'utf8'), 'first\n');
    writeReportFile(target, 'second — ünïcode\n');
    assert.equal(readFileSync(target, 'utf8'), 'second — ünïcode\n');
    assert.deepEqual(readdirSync(join(dir, 'reports', 'nested')), ['cryptgate.json']);
    const big = 'x'.repeat(3 << 20);
    writeReportFile(target, big);
    assert.equal(readFileSync(target, 'utf8').length, big.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed write leaves the folder as it was and names the path (exit 2)', () => {
  const dir = scratch();
  try {
    // The target is a folder: the rename fails after the temp file was written.
    const folder = join(dir, 'out.json');
    mkdirSync(folder);
    writeFileSync(join(folder, 'keep'), 'kept');
    assert.throws(
      () => writeReportFile(folder, '{}'),
      (err: unknown) => err instanceof InputError && err.message === `${folder}: cannot write the report: it is a directory`,
    );
    assert.deepEqual(readdirSync(dir).sort(), ['out.json']);
    assert.equal(readFileSync(join(folder, 'keep'), 'utf8'), 'kept');
    // A parent that is a file.
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    assert.throws(() => writeReportFile(join(file, 'r.json'), '{}'), InputError);
    assert.deepEqual(readdirSync(dir).sort(), ['out.json', 'plain']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
