import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderJunit, xmlAttr, xmlText } from '../../../src/report/junit.js';
import { findAll, parseXml, type XmlElement } from './strict-xml.js';
import { sampleChecks, sampleReport } from './sample-report.js';

/** xmllint, when installed (CI installs libxml2-utils), must agree that the document is well-formed. */
function xmllintAgrees(xml: string): void {
  const probe = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
  if (probe.error) return; // not installed here: the strict parser below still judges
  const dir = mkdtempSync(join(tmpdir(), 'cryptgate-junit-'));
  try {
    const file = join(dir, 'junit.xml');
    writeFileSync(file, xml);
    const run = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
    assert.equal(run.status, 0, `xmllint: ${run.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function wellFormed(xml: string): XmlElement {
  xmllintAgrees(xml);
  return parseXml(xml);
}

function testcases(root: XmlElement): XmlElement[] {
  return findAll(root, 'testcase');
}

test('one testsuite named cryptgate with the counts Jenkins and GitLab read', () => {
  const xml = renderJunit(sampleReport());
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  const root = wellFormed(xml);
  assert.equal(root.name, 'testsuites');
  const suites = findAll(root, 'testsuite');
  assert.equal(suites.length, 1);
  const suite = suites[0]!;
  assert.equal(suite.attrs.name, 'cryptgate');
  assert.deepEqual([suite.attrs.tests, suite.attrs.failures, suite.attrs.errors, suite.attrs.skipped], ['4', '1', '1', '1']);
  assert.equal(suite.attrs.timestamp, '2026-03-01T10:06:00');
  const props = Object.fromEntries(findAll(suite.children.find((c) => c.name === 'properties')!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
  assert.equal(props.verdict, 'error');
  assert.equal(props.generatedAt, '2026-03-01T10:06:00.000Z');
});

test('a testcase per check: classname = behaviour ids, name = "<id>: <title>", and its properties', () => {
  const cases = testcases(wellFormed(renderJunit(sampleReport())));
  assert.equal(cases.length, 4);
  const esp = cases[0]!;
  assert.equal(esp.attrs.classname, 'IPSEC-5,IPSEC-6');
  assert.equal(esp.attrs.name, 'ipsec.esp-only: All traffic between cluster nodes travels inside IPsec ESP');
  const props = findAll(esp.children.find((c) => c.name === 'properties')!, 'property').map((p) => `${p.attrs.name}=${p.attrs.value}`);
  assert.deepEqual(props, ['behaviour=IPSEC-5', 'behaviour=IPSEC-6', 'severity=critical', 'check=ipsec.esp-only', 'status=fail']);
});

test('fail → <failure> listing the findings worst first; error → <error>; skip → <skipped/>; pass → proof in system-out', () => {
  const [esp, espNull, ike, evidence] = testcases(wellFormed(renderJunit(sampleReport())));
  const failure = esp!.children.find((c) => c.name === 'failure')!;
  assert.equal(failure.attrs.type, 'critical');
  assert.match(failure.attrs.message!, /^2 findings \(1 critical, 1 info\): Plaintext between nodes: TCP 10\.0\.0\.11/);
  assert.ok(failure.text.indexOf('[critical] Plaintext between nodes') < failure.text.indexOf('[info] Traffic with a non-node endpoint'));
  assert.match(failure.text, /evidence: \{"src":"10\.0\.0\.11","dst":"10\.0\.0\.12","protocol":"tcp","dstPort":8060/);
  assert.match(failure.text, /Remediation: Add or fix/);

  assert.equal(espNull!.children.filter((c) => ['failure', 'error', 'skipped'].includes(c.name)).length, 0);
  assert.match(espNull!.children.find((c) => c.name === 'system-out')!.text, /^observed \(2\):\n {2}\{"nodeA":"10\.0\.0\.11","nodeB":"10\.0\.0\.12","flows":2,"encrypted":2/);

  const skipped = ike!.children.find((c) => c.name === 'skipped')!;
  assert.match(skipped.attrs.message!, /^No IKE SA negotiation/);
  assert.equal(ike!.children.filter((c) => c.name === 'failure' || c.name === 'error').length, 0);

  const error = evidence!.children.find((c) => c.name === 'error')!;
  assert.equal(error.attrs.type, 'error');
  assert.match(error.text, /\[medium\] Evidence incomplete/);
});

test('hostile strings are escaped, and the characters XML 1.0 forbids become visible text', () => {
  const hostile = 'a<b>&c"d\'e ]]> \u0000nul \u001besc \u0008bs \ud800lone \uffff \u0085nel 😀 \u007fdel';
  const checks = sampleChecks();
  checks[0]!.id = `ipsec.esp-only${hostile}`;
  checks[0]!.title = `Line one\nline two\ttabbed ${hostile}`;
  checks[0]!.behaviour = ['IPSEC-5', `X"<${hostile}`];
  checks[0]!.findings[1]!.message = `Plaintext ${hostile}`;
  checks[0]!.findings[1]!.evidence.service = hostile;
  checks[1]!.observed.push({ note: hostile });
  checks[2]!.findings[0]!.message = `skip ${hostile}`;
  const xml = renderJunit(sampleReport(checks));
  const root = wellFormed(xml);
  const esp = testcases(root)[0]!;
  const visible = 'a<b>&c"d\'e ]]> \\u0000nul \\u001besc \\u0008bs \\ud800lone \\uffff \\u0085nel 😀 \\u007fdel';
  // Attributes keep line breaks and tabs (as character references) and every printable character.
  assert.equal(esp.attrs.name, `ipsec.esp-only${visible}: Line one\nline two\ttabbed ${visible}`);
  assert.equal(esp.attrs.classname, `IPSEC-5,X"<${visible}`);
  const failure = esp.children.find((c) => c.name === 'failure')!;
  assert.ok(failure.text.includes(`[critical] Plaintext ${visible}`), failure.text);
  assert.match(testcases(root)[2]!.children.find((c) => c.name === 'skipped')!.attrs.message!, /^skip a<b>&c/);
  assert.doesNotMatch(xml, /[\u0000\u0008\u001b\u007f\u0085\uffff]/);
});

test('xmlText and xmlAttr escape the markup characters', () => {
  assert.equal(xmlText('<a & b>'), '&lt;a &amp; b&gt;');
  assert.equal(xmlAttr(`"it's"\n<&>`), '&quot;it&apos;s&quot;&#10;&lt;&amp;&gt;');
  assert.equal(xmlText('ok \ud83d\ude00 pair'), 'ok \ud83d\ude00 pair');
  assert.equal(xmlText('lone \udc00 low'), 'lone \\udc00 low');
});

test('a check with no behaviour ids gets a stable classname; big lists are capped', () => {
  const checks = sampleChecks();
  checks[0]!.behaviour = [];
  for (let i = 0; i < 30; i++) checks[0]!.findings.push({ message: `flow ${i}`, evidence: { i } });
  const cases = testcases(wellFormed(renderJunit(sampleReport(checks), { maxFindings: 5 })));
  assert.equal(cases[0]!.attrs.classname, 'cryptgate');
  const body = cases[0]!.children.find((c) => c.name === 'failure')!.text;
  assert.equal((body.match(/^\[/gm) ?? []).length, 5);
  assert.match(body, /… and 27 more \(see the JSON report\)/);
});

test('the strict parser used above does refuse malformed XML', () => {
  for (const bad of ['<a>&</a>', '<a b=c/>', '<a>\u0001</a>', '<a></b>', '<a b="1" b="2"/>', '<a b="<"/>', '<a>&nbsp;</a>', '<a>&#1;</a>', '<a/><b/>', '<a>]]></a>']) {
    assert.throws(() => parseXml(bad), Error, bad);
  }
  assert.equal(parseXml('<a b="x&#10;y\nz">t&amp;u</a>').attrs.b, 'x\ny z');
});
