// The HTML report as a reviewer sees it: opened in headless Chromium (Debian's `chromium`,
// driven by playwright-core through executablePath), from an audit of a folder where the
// capture leaks between two nodes and node3 cannot reach the CMK. Asserts what is on the
// screen (verdict, table cells, the leaking pair highlighted red, no request leaving the
// file) and keeps a screenshot as a CI artefact.
//
// Chromium missing is a failure, not a skip: a reviewer-facing report that nobody rendered
// is not tested. The message says how to install it; CI (.ci/run) installs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { runAudit } from '../../../src/audit/run-audit.js';
import { defaultPolicy } from '../../../src/compliance/policy.js';
import { evaluateGate } from '../../../src/compliance/gate.js';
import { REPORT_SCHEMA_ID, summarise, verdictOf, type Report } from '../../../src/report/model.js';
import { renderReport } from '../../../src/report/write.js';
import { packageRoot } from '../../../src/util/package-info.js';
import { CAPTURE_NODES, writeEvidenceFolder } from '../../helpers/audit-evidence.js';

const CANDIDATES = [process.env.CRYPTGATE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'].filter((p): p is string => !!p);

function chromiumPath(): string {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    assert.fail(
      `Chromium not found (looked at ${CANDIDATES.join(', ')}). The HTML report is tested in a real browser: ` +
        'install it with `sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this), or set CRYPTGATE_CHROMIUM=/path/to/chromium.',
    );
  }
  return found;
}

const artefacts = process.env.CRYPTGATE_ARTIFACT_DIR ?? join(packageRoot(), 'reports', 'html-report-test');

test('a reviewer opens the audit report: verdict, behaviours, the leaking pair in red, no outside request', async () => {
  const executablePath = chromiumPath();
  const dir = mkdtempSync(join(tmpdir(), 'cg-html-'));
  try {
    const ev = join(dir, 'evidence');
    writeEvidenceFolder(ev, { capture: 'leaking-pair.pcap' });
    const now = new Date('2024-06-01T00:00:00Z');
    const r = await runAudit({ folder: ev, policy: { ...defaultPolicy(), nodes: CAPTURE_NODES }, now });
    const report: Report = {
      schema: REPORT_SCHEMA_ID,
      tool: { name: 'cryptgate', version: 'test' },
      generatedAt: now.toISOString(),
      verdict: verdictOf(r.checks),
      inputs: r.inputs,
      checks: r.checks,
      summary: summarise(r.checks),
      context: { command: 'audit', folder: 'evidence', gate: evaluateGate(r.checks), ...r.context },
    };
    mkdirSync(artefacts, { recursive: true });
    const file = join(artefacts, 'audit-report.html');
    writeFileSync(file, renderReport(report, 'html'));

    const browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(pathToFileURL(file).href);

      assert.equal(await page.locator('#verdict').innerText(), 'FAIL');
      assert.match(await page.locator('p.gate').innerText(), /^CI gate \(failOn: low\): FAIL 3 breaking finding\(s\)/);
      // Behaviour by behaviour: the failing promises say FAIL, the unjudged ones NO EVIDENCE.
      const cells = async (b: string): Promise<string[]> => page.locator(`tr[data-behaviour="${b}"] td`).allInnerTexts();
      assert.deepEqual((await cells('IPSEC-5')).slice(0, 3), ['IPSEC-5', 'All traffic between nodes inside ESP', 'FAIL']);
      assert.equal((await cells('KMS-8'))[2], 'FAIL');
      assert.equal((await cells('KMS-6'))[2], 'PASS');
      assert.equal((await cells('KMS-10'))[2], 'NO EVIDENCE');
      // The link to the check's evidence leads to its section.
      await page.locator('tr[data-behaviour="KMS-8"] a', { hasText: 'kms.node-reach' }).click();
      assert.match(page.url(), /#check-kms-node-reach$/);
      assert.match(await page.locator('#check-kms-node-reach').innerText(), /node3 cannot reach the CMK/);

      // The matrix: the leaking pair is red and outlined, a protected pair green.
      const leak = page.locator('td[data-pair="10.77.0.11|10.77.0.13"]');
      assert.equal(await leak.getAttribute('class'), 'cell-plaintext');
      assert.match(await leak.innerText(), /clear 32\.2 KiB/);
      // (Runs in the page: the test's own lib has no DOM types.)
      const background = (el: unknown): string => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor;
      const red = await leak.evaluate(background);
      const green = await page.locator('td[data-pair="10.77.0.11|10.77.0.12"]').evaluate(background);
      const rgb = (s: string): number[] => (s.match(/\d+/g) ?? []).map(Number);
      assert.ok(rgb(red)[0]! > rgb(red)[1]!, `leaking pair is reddish: ${red}`);
      assert.ok(rgb(green)[1]! > rgb(green)[0]!, `protected pair is greenish: ${green}`);
      // IKE proposals and the MEK timeline are on the page.
      assert.equal(await page.locator('table.ike tbody tr').count(), 2);
      assert.deepEqual(await page.locator('table.meks tbody tr td:nth-child(2)').allInnerTexts(), ['decryption-only', 'encryption/decryption']);
      // Inputs carry their SHA-256.
      assert.match(await page.locator('table.inputs').innerText(), /switch-port\.bin\tpcap microsecond little-endian\t160\.4 KiB\t2b98484d4ad392e6/);
      assert.equal(await page.locator('script').count(), 0);
      assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'the report loads nothing from outside');

      await page.goto(pathToFileURL(file).href);
      await page.screenshot({ path: join(artefacts, 'audit-report.png'), fullPage: true });
      await page.locator('#traffic').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(artefacts, 'audit-report-matrix.png') });
    } finally {
      await browser.close();
    }
    assert.ok(existsSync(join(artefacts, 'audit-report.png')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
