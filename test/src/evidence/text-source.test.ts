// Text as real servers leave it: gzip'd rotations, CRLF, UTF-8 BOM, UTF-16 LE/BE PowerShell
// exports with and without a BOM, all told apart by content.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isGzip, readTextFile, readTextHead, sniffEncoding } from '../../../src/evidence/text-source.js';
import { readLines, type Line } from '../../../src/evidence/lines.js';
import { FormatError } from '../../../src/util/errors.js';

const TEXT = 'Rule Name:    node1-to-others\r\nEnabled:      Yes\r\nÉtat: échange ✓\r\nlast line without newline';

function utf16be(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const t = le[i]!;
    le[i] = le[i + 1]!;
    le[i + 1] = t;
  }
  return le;
}

const VARIANTS: Record<string, Buffer> = {
  'utf-8': Buffer.from(TEXT, 'utf8'),
  'utf-8 BOM': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT, 'utf8')]),
  'utf-16le BOM (PowerShell 5 Out-File)': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]),
  'utf-16le no BOM': Buffer.from(TEXT, 'utf16le'),
  'utf-16be BOM': Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]),
  'utf-16be no BOM': utf16be(TEXT),
};

async function lines(path: string): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of readLines(path)) out.push(l);
  return out;
}

test('sniffEncoding: BOMs decide, otherwise the zero-byte pattern of UTF-16; gzip by magic', () => {
  assert.deepEqual(sniffEncoding(VARIANTS['utf-8']!), { encoding: 'utf-8', bomLength: 0 });
  assert.deepEqual(sniffEncoding(VARIANTS['utf-8 BOM']!), { encoding: 'utf-8', bomLength: 3 });
  assert.deepEqual(sniffEncoding(VARIANTS['utf-16le BOM (PowerShell 5 Out-File)']!), { encoding: 'utf-16le', bomLength: 2 });
  assert.deepEqual(sniffEncoding(VARIANTS['utf-16le no BOM']!), { encoding: 'utf-16le', bomLength: 0 });
  assert.deepEqual(sniffEncoding(VARIANTS['utf-16be no BOM']!), { encoding: 'utf-16be', bomLength: 0 });
  // Binary with scattered zeros is not mistaken for UTF-16.
  assert.equal(sniffEncoding(Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])).encoding, 'utf-8');
  assert.equal(isGzip(gzipSync('x')), true);
  assert.equal(isGzip(Buffer.from('x')), false);
});

test('every encoding, plain and gzip-compressed, reads as the same lines (CRLF stripped, last line unterminated)', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-text-'));
  try {
    const expected = TEXT.split('\r\n');
    for (const [name, bytes] of Object.entries(VARIANTS)) {
      for (const gz of [false, true]) {
        const file = join(d, `${name.replace(/\W+/g, '_')}${gz ? '.bin' : ''}`);
        writeFileSync(file, gz ? gzipSync(bytes) : bytes);
        const got = await lines(file);
        assert.deepEqual(got.map((l) => l.text), expected, `${name}${gz ? ' (gzip)' : ''}`);
        assert.deepEqual(got.map((l) => l.terminated), [true, true, true, false], name);
        const whole = await readTextFile(file);
        assert.equal(whole.text, TEXT, name);
        assert.equal(whole.info.gzip, gz);
        const head = await readTextHead(file, 16);
        assert.equal(head.complete, false);
        assert.equal(head.text, TEXT.slice(0, head.text.length), `${name}: the head is a prefix`);
      }
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('long input across many buffers: line numbers and a split multi-byte character survive', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-text-'));
  try {
    const body = Array.from({ length: 60000 }, (_, i) => `line ${i} ✓ ${'x'.repeat(i % 97)}`).join('\n');
    const file = join(d, 'big.txt.gz');
    writeFileSync(file, gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(body, 'utf16le')])));
    let n = 0;
    for await (const l of readLines(file)) {
      assert.equal(l.text, `line ${n} ✓ ${'x'.repeat(n % 97)}`);
      n++;
      assert.equal(l.number, n);
    }
    assert.equal(n, 60000);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a corrupt gzip file is a FormatError naming the file; a missing file too', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-text-'));
  try {
    const file = join(d, 'cut.log.gz');
    const gz = gzipSync(Buffer.from('a\n'.repeat(100000)));
    writeFileSync(file, gz.subarray(0, gz.length - 40));
    await assert.rejects(
      (async () => {
        for await (const _ of readLines(file)) void _;
      })(),
      (e: Error) => e instanceof FormatError && e.message.startsWith(`${file}: offset `) && /gzip stream: expected a complete gzip file/.test(e.message),
    );
    await assert.rejects(readTextFile(join(d, 'nope.txt')), (e: Error) => e instanceof FormatError && /nope\.txt: offset 0: file: expected a readable file, found no such file/.test(e.message));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
