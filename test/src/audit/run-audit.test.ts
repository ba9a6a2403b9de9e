// One audit over a folder: every check runs, missing evidence is a skip that says so, each
// input carries its real SHA-256 and size, and the verdicts are what the evidence shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../../../src/audit/run-audit.js';
import { defaultPolicy, type Policy } from '../../../src/compliance/policy.js';
import { evaluateGate } from '../../../src/compliance/gate.js';
import { REPORT_SCHEMA_ID, summarise, verdictOf, type Check, type Report } from '../../../src/report/model.js';
import { validateReport } from '../../../src/report/validate.js';
import { FormatError } from '../../../src/util/errors.js';
import { CAPTURE_NODES, writeEvidenceFolder } from '../../helpers/audit-evidence.js';

const NOW = new Date('2024-06-01T00:00:00Z');
const status = (checks: Check[]): Record<string, string> => Object.fromEntries(checks.map((c) => [c.id, c.status]));

function withFolder<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const d = mkdtempSync(join(tmpdir(), 'cg-audit-'));
  return fn(d).finally(() => rmSync(d, { recursive: true, force: true }));
}

function policy(extra: Partial<Policy> = {}): Policy {
  return { ...defaultPolicy(), nodes: CAPTURE_NODES, ...extra };
}

test('the KMS-8 pitfall folder: node3 named, captures judged, every input hashed', () =>
  withFolder(async (d) => {
    writeEvidenceFolder(d);
    const r = await runAudit({ folder: d, policy: policy({ kms: { roles: ['tableau-node1', 'tableau-node2', 'tableau-node3'] } }), now: NOW });
    assert.deepEqual(status(r.checks), {
      'ipsec.esp-only': 'pass',
      'ipsec.no-esp-null': 'pass',
      'ipsec.no-ah-only': 'pass',
      'ipsec.ike-policy': 'pass',
      'capture.evidence': 'pass',
      'ipsec.rules': 'skip',
      'ipsec.main-mode': 'skip',
      'ipsec.quick-mode': 'skip',
      'ipsec.rule-coverage': 'skip',
      'ipsec.proposals-allowed': 'skip',
      'kms.status': 'pass',
      'kms.key-consistency': 'pass',
      'kms.node-reach': 'fail',
      'kms.least-privilege': 'pass',
      'audit.evidence': 'pass',
      'audit.coverage': 'skip',
    });
    const reach = r.checks.find((c) => c.id === 'kms.node-reach')!;
    assert.match(reach.findings[0]!.message, /^node3 cannot reach the CMK: .*although `tsm security kms status` says OK \(out1\.txt\): it checks only node1/);
    assert.equal(r.judgedAnything, true);
    for (const input of r.inputs) {
      const bytes = readFileSync(join(d, input.path));
      assert.equal(input.sha256, createHash('sha256').update(bytes).digest('hex'), input.path);
      assert.equal(input.bytes, statSync(join(d, input.path)).size);
    }
    assert.deepEqual(r.inputs.find((i) => i.path === 'switch-port.bin')?.linkTypes, [1]);
    // The report the CLI builds from it is valid against the published schema.
    const report: Report = { schema: REPORT_SCHEMA_ID, tool: { name: 'cryptgate', version: 't' }, generatedAt: NOW.toISOString(), verdict: verdictOf(r.checks), inputs: r.inputs, checks: r.checks, summary: summarise(r.checks), context: r.context };
    validateReport(report);
    assert.equal(report.verdict, 'fail');
    // Coverage: which behaviours no evidence spoke to.
    const coverage = r.checks.find((c) => c.id === 'audit.coverage')!;
    assert.deepEqual(
      coverage.findings.map((f) => f.evidence.behaviour),
      ['IPSEC-1', 'IPSEC-2', 'KMS-2', 'KMS-5', 'KMS-9', 'KMS-10', 'KMS-11'],
    );
  }));

test('a leaking capture and a clean KMS side; a folder without captures skips the capture checks with "No evidence"', () =>
  withFolder(async (d) => {
    writeEvidenceFolder(d, { capture: 'leaking-pair.pcap', node3Refused: false });
    const r = await runAudit({ folder: d, policy: policy(), now: NOW });
    assert.equal(status(r.checks)['ipsec.esp-only'], 'fail');
    assert.equal(status(r.checks)['kms.node-reach'], 'pass');
    rmSync(join(d, 'switch-port.bin'));
    const none = await runAudit({ folder: d, policy: policy(), now: NOW });
    const meta = (c: Check): unknown => ({ title: c.title, behaviour: c.behaviour, severity: c.severity });
    for (const id of ['ipsec.esp-only', 'ipsec.no-esp-null', 'ipsec.no-ah-only', 'ipsec.ike-policy', 'capture.evidence']) {
      const c = none.checks.find((x) => x.id === id)!;
      assert.equal(c.status, 'skip', id);
      assert.match(c.findings[0]!.message, /^No evidence: no packet capture/);
      // The skipped check is the same check as the judged one: same title, behaviours and severity.
      assert.deepEqual(meta(c), meta(r.checks.find((x) => x.id === id)!), id);
    }
  }));

test('failOn decides what breaks the gate; an expired waiver breaks it again', () =>
  withFolder(async (d) => {
    writeEvidenceFolder(d);
    const waiver = { check: 'kms.node-reach', scope: { node: 'node3' }, reason: 'node3 rebuild', approver: 'sec-lead', expires: '2024-05-31' };
    const before = await runAudit({ folder: d, policy: policy({ waivers: [waiver] }), now: new Date('2024-05-30T00:00:00Z') });
    assert.equal(evaluateGate(before.checks).result, 'pass');
    const after = await runAudit({ folder: d, policy: policy({ waivers: [waiver] }), now: NOW });
    const gate = evaluateGate(after.checks);
    assert.deepEqual([gate.result, gate.breaking, gate.expiredWaivers], ['fail', 1, 1]);
    assert.match(gate.examples[0]!.message, /^\[waiver expired on 2024-05-31 \(approved by sec-lead: node3 rebuild\): counts again\]/);
    // With failOn critical, a high finding is reported but does not break the gate.
    const lenient = evaluateGate(after.checks, 'critical');
    assert.deepEqual([lenient.result, lenient.breaking, lenient.belowThreshold], ['pass', 0, 1]);
  }));

test('an empty folder judges nothing (never a silent pass); malformed evidence stops the audit with file and line', () =>
  withFolder(async (d) => {
    const empty = await runAudit({ folder: d, policy: policy(), now: NOW });
    assert.equal(empty.judgedAnything, false);
    assert.ok(empty.checks.every((c) => c.status === 'skip' || c.id === 'audit.evidence'));
    writeFileSync(join(d, 'status.txt'), 'KMS mode: AWS\nRoot master key (RMK) ID in use: x\n  MEK ID: m1\n    State: sideways\nStatus: OK\n');
    await assert.rejects(runAudit({ folder: d, policy: policy(), now: NOW }), (e: Error) => e instanceof FormatError && /status\.txt: line 4: MEK state: expected "encryption\/decryption" or "decryption-only", found 'sideways'$/.test(e.message));
    rmSync(join(d, 'status.txt'));
    writeFileSync(join(d, 'vizqlserver_node1-0.log'), `${'2024-05-01 09:00:01.000 +0000 (,,,,,:,-) main vizqlserver: INFO  a.B - ok\n'}2024-05-01 09:00:02.000 +0000 broken line about the RMK\n`);
    await assert.rejects(runAudit({ folder: d, policy: policy(), now: NOW }), (e: Error) => e instanceof FormatError && /vizqlserver_node1-0\.log: line 2: Java log line: expected /.test(e.message));
  }));
