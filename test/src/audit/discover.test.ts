// Discovery goes by content: misleading names, no extensions, gzip, UTF-16 PowerShell output.
// A file that starts like a known format but breaks it stops the audit with file and place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { classifyEvidenceFile, discoverEvidence } from '../../../src/audit/discover.js';
import { FormatError, InputError } from '../../../src/util/errors.js';
import { CAPTURES, keyPolicy, reachedLog, rolePolicy, statusText } from '../../helpers/audit-evidence.js';

function folder(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), 'cg-discover-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
  return d;
}

test('every kind of evidence is recognised by content, whatever its name', async () => {
  const utf16 = (s: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
  const d = folder({
    'a.pcap.txt': Buffer.alloc(0),
    'b.log': statusText(),
    'c.txt': reachedLog(),
    'd.json.gz': gzipSync(reachedLog()),
    'e': utf16(statusText().replace(/\n/g, '\r\n')),
    'f.txt': JSON.stringify({ Policy: JSON.stringify(keyPolicy(['r'])) }),
    'g.out': utf16(JSON.stringify(rolePolicy('r'), null, 2)),
    'h.txt': '{"ts":"2024-05-01T10:00:00.000","pid":1,"tid":"1","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"open-log","v":{}}\n',
    'i.yaml': 'nodes: [10.0.0.1]\n',
    'j.json': '{"name":"something else"}',
    'k.bin': Buffer.from([0, 1, 2, 3, 0, 0, 7, 8, 9, 0, 11, 12]),
    'l.jsonl': '{"a":1}\n{"b":2}\n{"c":3}\n',
    'm.txt': 'Rule Name:                            node1-ipsec\n----------------------------------------------------------------------\nEnabled:                              Yes\nEndpoint1:                            10.0.0.11/32\nEndpoint2:                            10.0.0.12/32\nAction:                               RequireInRequireOut\n',
  });
  try {
    copyFileSync(join(CAPTURES, 'compliant.pcapng'), join(d, 'a.pcap.txt'));
    writeFileSync(join(d, 'n.dat'), gzipSync(readFileSync(join(CAPTURES, 'compliant.pcap'))));
    const files = await discoverEvidence(d);
    assert.deepEqual(
      files.map((f) => [f.rel, f.kind, f.format]),
      [
        ['a.pcap.txt', 'capture', 'pcapng'],
        ['b.log', 'kms-status', 'tsm security kms status'],
        ['c.txt', 'java-log', 'Tableau Java log'],
        ['d.json.gz', 'java-log', 'Tableau Java log (gzip)'],
        ['e', 'kms-status', 'tsm security kms status (UTF-16 LE)'],
        ['f.txt', 'aws-policy', 'AWS policy export (key-policy)'],
        ['g.out', 'aws-policy', 'AWS policy export (role-policy) (UTF-16 LE)'],
        ['h.txt', 'native-log', 'Tableau native JSON log'],
        ['i.yaml', 'unrecognised', 'text'],
        ['j.json', 'unrecognised', 'JSON'],
        ['k.bin', 'unrecognised', 'binary'],
        ['l.jsonl', 'unrecognised', 'JSON lines'],
        ['m.txt', 'netsh-consec', 'netsh advfirewall consec rules'],
        ['n.dat', 'capture', 'pcap (gzip)'],
      ],
    );
    assert.equal(files.find((f) => f.rel === 'j.json')!.reason, 'JSON of no known evidence shape');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a file that claims to be JSON but is not stops the audit naming line and column', async () => {
  const d = folder({ 'broken.json': '{\n  "Policy": "x",\n  }\n' });
  try {
    await assert.rejects(classifyEvidenceFile(join(d, 'broken.json'), 'broken.json'), (e: Error) => e instanceof FormatError && /^broken\.json: line 3, column 3: JSON syntax: expected valid JSON, found /.test(e.message));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a binary file that happens to start with { (a random key) is no evidence, not broken JSON', async () => {
  // '{', two control bytes, one undecodable byte: too little for the general binary sniff.
  const d = folder({});
  try {
    writeFileSync(join(d, 'cluster.secret'), Buffer.from([0x7b, 0x01, 0x02, 0xff, 0x7d, 0x0a]));
    const f = await classifyEvidenceFile(join(d, 'cluster.secret'), 'cluster.secret');
    assert.deepEqual([f.kind, f.format, f.reason], ['unrecognised', 'binary', 'binary data of no known evidence format']);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a missing folder or a file instead of a folder is an InputError', async () => {
  await assert.rejects(discoverEvidence(join(tmpdir(), 'cg-no-such-folder')), (e: Error) => e instanceof InputError && /cg-no-such-folder: no such folder \(expected a folder of evidence files\)$/.test(e.message));
  const d = folder({ 'x.txt': 'x' });
  try {
    await assert.rejects(discoverEvidence(join(d, 'x.txt')), (e: Error) => e instanceof InputError && /x\.txt: not a folder/.test(e.message));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
