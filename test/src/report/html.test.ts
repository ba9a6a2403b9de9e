// The HTML writer, read as markup: escaping of hostile evidence, the sections a reviewer
// needs, and the matrix cell classes the browser test then checks visually.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchorId, escapeHtml, renderHtml } from '../../../src/report/html.js';
import { REPORT_SCHEMA_ID, summarise, type Check, type Report } from '../../../src/report/model.js';
import { validateReport } from '../../../src/report/validate.js';

function report(checks: Check[]): Report {
  return {
    schema: REPORT_SCHEMA_ID,
    tool: { name: 'cryptgate', version: 't' },
    generatedAt: '2024-06-01T00:00:00Z',
    verdict: checks.some((c) => c.status === 'fail') ? 'fail' : 'pass',
    inputs: [{ path: 'logs/node3/<x>.log', sha256: 'a'.repeat(64), bytes: 10, format: 'Tableau Java log', linkTypes: [] }],
    checks,
    summary: summarise(checks),
  };
}

const HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> \u202Egnp.exe & \u0007';

test('escapeHtml: markup, quotes, bidi overrides and control characters cannot act', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
  assert.equal(escapeHtml('a\u202Eb\u0007c'), 'a\\u202eb\\x07c');
  assert.equal(anchorId('check', 'kms.node-reach'), 'check-kms-node-reach');
});

test('hostile evidence text never becomes markup; file evidence links to its input row', () => {
  const checks: Check[] = [
    {
      id: 'kms.node-reach',
      title: 'Every node reached the CMK',
      behaviour: ['KMS-8'],
      status: 'fail',
      severity: 'high',
      findings: [{ message: `node3: ${HOSTILE}`, evidence: { node: 'node3', file: 'logs/node3/<x>.log', error: HOSTILE } }],
      observed: [{ node: 'node3', verdict: HOSTILE }],
      remediation: 'Give the role kms:Decrypt <now>',
    },
  ];
  const r = report(checks);
  validateReport(r);
  const html = renderHtml(r);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/i);
  assert.doesNotMatch(html, /\u202E/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /<a href="#input-1">logs\/node3\/&lt;x&gt;\.log<\/a>/);
  assert.match(html, /<tr id="input-1"><td class="mono">logs\/node3\/&lt;x&gt;\.log<\/td>/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external assets');
  assert.match(html, /<div class="remedy"><strong>Remediation:<\/strong> Give the role kms:Decrypt &lt;now&gt;<\/div>/);
});

test('the traffic matrix colours each pair by what was seen; the MEK timeline draws one bar per MEK', () => {
  const checks: Check[] = [
    {
      id: 'ipsec.esp-only',
      title: 'ESP only',
      behaviour: ['IPSEC-5'],
      status: 'fail',
      severity: 'critical',
      findings: [{ message: 'Plaintext between nodes', evidence: { src: '10.0.0.1', dst: '10.0.0.3' } }],
      observed: [
        { nodeA: '10.0.0.1', nodeB: '10.0.0.2', espPackets: 10, espBytes: 5000, plaintextPackets: 0, plaintextBytes: 0, ahOnlyPackets: 0 },
        { nodeA: '10.0.0.1', nodeB: '10.0.0.3', espPackets: 0, espBytes: 0, plaintextPackets: 4, plaintextBytes: 900, ahOnlyPackets: 0 },
        { nodeA: '10.0.0.2', nodeB: '10.0.0.3', seen: false },
      ],
    },
    {
      id: 'kms.status',
      title: 'status',
      behaviour: ['KMS-6'],
      status: 'pass',
      severity: 'high',
      findings: [],
      observed: [
        { file: 's.txt', mekId: 'm-old', state: 'decryption-only', createdAt: '2024-01-01T00:00:00Z', firstEncryptDecryptAt: '2024-01-01T00:00:00Z', decryptOnlyAt: '2024-03-01T00:00:00Z', timeline: true },
        { file: 's.txt', mekId: 'm-new', state: 'encryption/decryption', createdAt: '2024-03-01T00:00:00Z', firstEncryptDecryptAt: '2024-03-01T00:00:00Z', decryptOnlyAt: null, timeline: true },
      ],
    },
  ];
  const html = renderHtml(report(checks));
  assert.match(html, /<td class="cell-esp" data-pair="10\.0\.0\.1\|10\.0\.0\.2">ESP 4\.9 KiB<br>clear 0 B<\/td>/);
  assert.match(html, /<td class="cell-plaintext" data-pair="10\.0\.0\.3\|10\.0\.0\.1">ESP 0 B<br>clear 900 B<\/td>/);
  assert.match(html, /<td class="cell-none" data-pair="10\.0\.0\.2\|10\.0\.0\.3">no traffic<\/td>/);
  assert.equal((html.match(/<tr data-mek=/g) ?? []).length, 2);
  assert.match(html, /<tr data-mek="m-old">.*<div class="enc" style="left:0\.00%;width:[\d.]+%"><\/div><div class="dec"/);
  assert.match(html, /<tr data-behaviour="IPSEC-5"|id="behaviour-ipsec-5" data-behaviour="IPSEC-5"/);
});
