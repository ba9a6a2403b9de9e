// The fast log scanner must see exactly the events the line-by-line parsers see, across
// buffer refills, gzip, UTF-16 and CRLF, and refuse bad framing with the line number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { scanTableauLog } from '../../../src/evidence/log-scan.js';
import { JavaLogParser, NativeLogParser, sniffTableauLog, type KmsLogEvent, type LogSource } from '../../../src/evidence/tableau-logs.js';
import { splitLines } from '../../../src/evidence/lines.js';
import { logTime } from '../../../src/evidence/kms-log-facts.js';
import { FormatError } from '../../../src/util/errors.js';

const RMK = '1abc23de-1234-4567-8901-123456789012';
const ARN = 'arn:aws:kms:us-west-2:867530990073:key/1234567d-a6ba-451b-adf6-3179911b760f';
const SRC: LogSource = { node: 'node2', file: 'vizqlserver_node2-0.log', service: 'vizqlserver' };
const J = (ms: number, level: string, cls: string, msg: string): string =>
  `2024-05-01 10:${String(Math.floor(ms / 60000) % 60).padStart(2, '0')}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}.${String(ms % 1000).padStart(3, '0')} +0000 (,,,,,:,-) main vizqlserver: ${level}  ${cls} - ${msg}`;
const NOISE = (i: number): string => J(i, 'INFO', 'com.tableausoftware.vizql.Session', `Query executed in ${i % 50} ms; session 58F8C1074C3D496EB9B38B46ED14DCAE`);

function javaReference(text: string): KmsLogEvent[] {
  const p = new JavaLogParser(SRC);
  const out: KmsLogEvent[] = [];
  for (const l of splitLines(text)) out.push(...p.push(l));
  return [...out, ...p.end()];
}

async function scan(path: string, format: 'java' | 'native', source: LogSource = SRC): Promise<{ events: KmsLogEvent[]; warnings: string[]; lines: number }> {
  const events: KmsLogEvent[] = [];
  const r = await scanTableauLog(path, source, format, (e) => events.push(e));
  return { events, warnings: r.warnings, lines: r.lines };
}

function bigJavaLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < 70000; i++) {
    lines.push(NOISE(i));
    if (i % 5000 === 17) lines.push(J(i, 'INFO', 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor', `Decrypted RMK with ID ${RMK} using CMK with ARN ${ARN}`));
    if (i % 9000 === 3) {
      // An ERROR whose first line names no keyword, with the CMK only in its stack trace.
      lines.push(J(i, 'ERROR', 'com.example.Startup', 'startup failure'));
      lines.push('java.lang.IllegalStateException: cannot open storage');
      lines.push(`\tcaused by: the CMK ${ARN} refused: (Error Code: AccessDeniedException)`);
      lines.push('\tat com.example.Startup.run(Startup.java:1)');
    }
    if (i % 11000 === 5) {
      lines.push(J(i, 'ERROR', 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor', `Failed to decrypt RMK with ID ${RMK}: (Service: AWSKMS; Status Code: 400; Error Code: KMSInvalidStateException; Request ID: r)`));
      for (let k = 0; k < 30; k++) lines.push(`\tat frame${k}(X.java:${k})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

test('the scanner finds exactly what the line-by-line parser finds, across 4 MiB buffer refills (plain, CRLF, gzip, UTF-16)', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-scan-'));
  try {
    const text = bigJavaLog();
    assert.ok(text.length > 9 << 20, 'spans several buffers');
    const reference = javaReference(text);
    assert.ok(reference.filter((e) => e.kind === 'cmk-error').length >= 14);
    assert.ok(reference.some((e) => e.kind === 'cmk-error' && e.errorCode === 'AccessDeniedException'), 'the keyword only in a continuation line still classifies the event');
    const variants: Record<string, Buffer> = {
      plain: Buffer.from(text),
      crlf: Buffer.from(text.replace(/\n/g, '\r\n')),
      gzip: gzipSync(text),
      'utf-16le': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const file = join(d, `vizqlserver_node2-0.log.${name}`);
      writeFileSync(file, bytes);
      const got = await scan(file, 'java');
      assert.equal(got.events.length, reference.length, name);
      assert.deepEqual(
        got.events.map((e) => [e.line, e.kind, e.errorCode ?? e.rmkId, e.error?.split('\n').length ?? 0]),
        reference.map((e) => [e.line, e.kind, e.errorCode ?? e.rmkId, e.error?.split('\n').length ?? 0]),
        name,
      );
      assert.equal(got.lines, text.split('\n').length - 1, name);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('native logs: KMS keys found, non-KMS objects framed only, a line that is not one JSON object is refused with its number', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-scan-'));
  try {
    const src: LogSource = { node: 'node1', file: 'n.txt', service: 'vizqlserver' };
    const ok = [
      '{"ts":"2019-08-22T16:44:57.924","pid":1,"tid":"1","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"open-log","v":{"path":"/x"}}',
      '',
      `{"ts":"2024-05-01T10:00:00.123","pid":1,"tid":"1","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"kms-storage-open","v":{"mode":"aws","rmk-id":"${RMK}","cmk-arn":"${ARN}"}}`,
    ];
    const file = join(d, 'nativeapi_vizqlserver_1-0_x.txt');
    writeFileSync(file, `${ok.join('\n')}\n{"ts":"2024-05-01T10:00:01`);
    const got = await scan(file, 'native', src);
    assert.deepEqual(got.events.map((e) => [e.line, e.kind, e.cmkArn]), [[3, 'rmk-in-use', ARN]]);
    assert.deepEqual(got.warnings, ['n.txt: line 4: native log line: expected a JSON object with "ts" and "k" (Tableau native log format)']);
    const reference = new NativeLogParser(src);
    const refEvents: KmsLogEvent[] = [];
    for (const l of splitLines(ok.join('\n'))) refEvents.push(...reference.push(l));
    assert.equal(refEvents.length, got.events.length);

    writeFileSync(file, `${ok[0]}\nplain text in a JSON log\n${ok[2]}\n`);
    await assert.rejects(scan(file, 'native', src), (e: Error) => e instanceof FormatError && e.message === 'n.txt: line 2: native log line: expected a JSON object with "ts" and "k" (Tableau native log format)');
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('a Java event line that breaks the format is refused with its line number', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-scan-'));
  try {
    const file = join(d, 'x.log');
    writeFileSync(file, `${NOISE(1)}\n2024-05-01 10:00:00.123 +0000 garbage about the RMK\n`);
    await assert.rejects(scan(file, 'java'), (e: Error) => e instanceof FormatError && /^vizqlserver_node2-0\.log: line 2: Java log line: expected 'YYYY-MM-DD HH:MM:SS\.mmm \+ZZZZ \(site,user,data_sess,vql_sess,job_id,:job_type,req_id\) thread service: LEVEL class - message'$/.test(e.message));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('sniffTableauLog tells the formats apart by their first line', () => {
  assert.equal(sniffTableauLog(`\n${NOISE(1)}\n`), 'java');
  assert.equal(sniffTableauLog('{"ts":"2019-08-22T16:44:57.924","k":"open-log","v":{}}\n'), 'native');
  assert.equal(sniffTableauLog('{"Version":"2012-10-17"}'), undefined);
  assert.equal(sniffTableauLog('2024-05-01 10:00:00.123 +0000 not a tableau line'), undefined);
  assert.equal(sniffTableauLog('KMS mode: AWS'), undefined);
});

test('log timestamps: Java with its offset, native without a zone (UTC), anything else null', () => {
  assert.equal(logTime('2024-05-01 10:00:00.123 +0200'), Date.parse('2024-05-01T10:00:00.123+02:00'));
  assert.equal(logTime('2024-05-01 10:00:00.123 -0430'), Date.parse('2024-05-01T10:00:00.123-04:30'));
  assert.equal(logTime('2024-05-01T10:00:00.123'), Date.parse('2024-05-01T10:00:00.123Z'));
  assert.equal(logTime('2024-05-01T10:00:00.5Z'), Date.parse('2024-05-01T10:00:00.500Z'));
  assert.equal(logTime('2024-13-01 10:00:00.123 +0000'), null);
  assert.equal(logTime('yesterday'), null);
});
