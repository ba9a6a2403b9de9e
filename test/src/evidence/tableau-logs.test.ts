// Tableau logs as KMS evidence: Java multi-line logs (LogShark's line format), native
// JSON-lines logs, file naming, streaming a folder, and malformed input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  classifyLogFile,
  JavaLogParser,
  NativeLogParser,
  parseJavaLine,
  readTableauLog,
  readTableauLogFolder,
  type KmsLogEvent,
} from '../../../src/evidence/tableau-logs.js';
import { splitLines } from '../../../src/evidence/lines.js';
import { FormatError } from '../../../src/util/errors.js';

const RMK = '1abc23de-1234-4567-8901-123456789012';
const ARN = 'arn:aws:kms:us-west-2:867530990073:key/1234567d-a6ba-451b-adf6-3179911b760f';

function parseJava(text: string, o = {}): KmsLogEvent[] {
  const p = new JavaLogParser({ node: 'node2', file: 'vizqlserver_node2-0.log', service: 'vizqlserver' }, o);
  const out: KmsLogEvent[] = [];
  for (const l of splitLines(text)) out.push(...p.push(l));
  return [...out, ...p.end()];
}

test('Java logs: the documented KMS-7 messages, with continuation lines folded into their event', () => {
  const text = [
    '2020-04-03 03:01:02.166 -0400 (CareBI,,,,3752821,:refresh_extracts,25fb3ebd-8aa0-481b-8a9e-affb480d469d) ActiveMQ Task-1 backgrounder: INFO  org.apache.activemq.transport.failover.FailoverTransport - Successfully connected to ssl',
    `2024-05-01 10:00:00.123 +0000 (,,,,,:,-) main vizqlserver: INFO  com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor - Decrypted RMK with ID ${RMK} using CMK with ARN ${ARN}`,
    `2024-05-01 10:00:00.124 +0000 (,,,,,:,-) main vizqlserver: INFO  com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelope - Using RMK with ID ${RMK} to decrypt KMS storage`,
    `2024-05-01 10:00:01.000 +0000 12345 (Default,admin,,,,:,-) main vizqlserver: ERROR com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor - Failed to decrypt RMK with ID ${RMK} using CMK with ARN ${ARN}: User: x is not authorized (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: r-1)`,
    'com.amazonaws.services.kms.model.AWSKMSException: User: x is not authorized',
    '\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)',
    '2024-05-01 10:00:02.000 +0000 (Default,admin,,,42,:reencrypt_extracts,abc) scheduled-background-job-runner-1 backgrounder: INFO  com.tableausoftware.backgrounder.runner.BackgroundJobRunner - Running job of type ReencryptExtracts; no timeout; priority: 0; id: 42; args: [Default]',
    '2024-05-01 10:00:02.500 +0000 (Default,admin,,,42,:reencrypt_extracts,abc) scheduled-background-job-runner-1 backgrounder: INFO  c.t.ExtractEncryptionService - Re-encrypted extract e-0000001 (site \'Default\', datasource \'s\') from MEK m-0000001 to MEK m-0000002',
    '2024-05-01 10:00:03.000 +0000 (Default,admin,,,42,:reencrypt_extracts,abc) scheduled-background-job-runner-1 backgrounder: INFO  com.tableausoftware.backgrounder.runner.BackgroundJobRunner - Job finished: SUCCESS; name: Reencrypt Extracts; type :reencrypt_extracts; id: 42; notes: null; total time: 1 sec; run time: 1 sec',
  ].join('\n');
  const ev = parseJava(`${text}\n`);
  assert.deepEqual(
    ev.map((e) => [e.line, e.kind, e.service, e.level]),
    [
      [2, 'rmk-decrypted', 'vizqlserver', 'INFO'],
      [3, 'rmk-in-use', 'vizqlserver', 'INFO'],
      [4, 'cmk-error', 'vizqlserver', 'ERROR'],
      [7, 'reencrypt-job-started', 'backgrounder', 'INFO'],
      [8, 'extract-reencrypted', 'backgrounder', 'INFO'],
      [9, 'reencrypt-job-finished', 'backgrounder', 'INFO'],
    ],
  );
  assert.equal(ev[0]!.rmkId, RMK);
  assert.equal(ev[0]!.cmkArn, ARN);
  assert.equal(ev[0]!.ts, '2024-05-01 10:00:00.123 +0000');
  assert.equal(ev[0]!.node, 'node2');
  assert.equal(ev[2]!.errorCode, 'AccessDeniedException');
  assert.equal(ev[2]!.rmkId, RMK);
  assert.equal(ev[2]!.site, 'Default');
  assert.match(ev[2]!.error!, /\n\tat com\.amazonaws\.http/);
  assert.deepEqual([ev[4]!.extractId, ev[4]!.fromMekId, ev[4]!.mekId, ev[4]!.jobId], ['e-0000001', 'm-0000001', 'm-0000002', '42']);
  assert.equal(ev[5]!.result, 'SUCCESS');
  assert.equal(ev[0]!.cls, 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor');
  assert.equal(ev[4]!.cls, 'c.t.ExtractEncryptionService');
});

test('a Java line read on its own: its fields (the logger class too), or undefined when it is not one', () => {
  const line = `2024-05-01 10:00:01.000 +0000 12345 (Default,admin,,,42,:reencrypt_extracts,-) main vizqlserver: ERROR com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor {call=x} - Failed - see below`;
  assert.deepEqual(parseJavaLine(line), {
    ts: '2024-05-01 10:00:01.000 +0000',
    site: 'Default',
    jobId: '42',
    service: 'vizqlserver',
    level: 'ERROR',
    cls: 'com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor',
    message: 'Failed - see below',
  });
  assert.equal(parseJavaLine('\tat com.amazonaws.http.AmazonHttpClient.execute(AmazonHttpClient.java:1)'), undefined);
  assert.equal(parseJavaLine('2024-05-01 10:00:00.123 +0000 no context here'), undefined);
});

test('Java logs: orphan continuation lines are a warning; a broken event line is a FormatError with its line (or a warning when lenient)', () => {
  const p = new JavaLogParser({ node: 'node1', file: 'f.log', service: 'vizqlserver' });
  for (const l of splitLines('\tat x.y(Z.java:1)\n')) p.push(l);
  assert.deepEqual(p.warnings, ['f.log: line 1: continuation line before the first event (log rotated mid-event?)']);
  const broken = '2024-05-01 10:00:00.123 +0000 no context here\n';
  assert.throws(
    () => parseJava(broken),
    (e: Error) => e instanceof FormatError && /^vizqlserver_node2-0\.log: line 1: Java log line: expected 'YYYY-MM-DD HH:MM:SS\.mmm \+ZZZZ \(site,user/.test(e.message),
  );
  assert.deepEqual(parseJava(broken, { lenient: true }), []);
});

test('native JSON-lines logs: the fields Tableau writes, the KMS keys, a cut last line tolerated, a bad line refused', () => {
  const p = new NativeLogParser({ node: 'node1', file: 'nativeapi_vizqlserver_1-0_2024_05_01_00_00_00.txt', service: 'vizqlserver' });
  const lines = [
    '{"ts":"2019-08-22T16:44:57.924","pid":60222,"tid":"4a1638","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"open-log","v":{"path":"/x/log.txt"}}',
    `{"ts":"2024-05-01T10:00:00.123","pid":4001,"tid":"1a01","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"kms-storage-open","v":{"mode":"aws","rmk-id":"${RMK}","cmk-arn":"${ARN}"}}`,
    `{"ts":"2024-05-01T10:00:01.000","pid":4001,"tid":"1a01","sev":"info","req":"q","sess":"-","site":"Default","user":"admin","k":"kms-decrypt-extract","v":{"extract-id":"e1","mek-id":"m1","rmk-id":"${RMK}","bytes":10}}`,
    `{"ts":"2024-05-01T10:00:02.000","pid":4001,"tid":"1a01","sev":"error","req":"-","sess":"-","site":"-","user":"-","k":"kms-storage-error","v":{"mode":"aws","rmk-id":"${RMK}","error-code":"DisabledException","error":"disabled"}}`,
    `{"ts":"2024-05-01T10:00:03.000","pid":4001,"tid":"1a01","sev":"info","req":"-","sess":"-","site":"-","user":"-","k":"msg","v":{"msg":"Using RMK with ID ${RMK} to decrypt KMS storage"}}`,
  ];
  const ev: KmsLogEvent[] = [];
  for (const l of splitLines(`${lines.join('\n')}\n{"ts":"2024-05-01T10:00:04`)) ev.push(...p.push(l));
  assert.deepEqual(ev.map((e) => [e.line, e.kind]), [[2, 'rmk-in-use'], [3, 'extract-decrypted'], [4, 'cmk-error'], [5, 'rmk-in-use']]);
  assert.equal(ev[0]!.cmkArn, ARN);
  assert.equal(ev[1]!.site, 'Default');
  assert.equal(ev[1]!.mekId, 'm1');
  assert.equal(ev[2]!.errorCode, 'DisabledException');
  assert.ok(ev.every((e) => e.cls === undefined), 'native lines name no logger class');
  assert.equal(p.warnings.length, 1);
  assert.match(p.warnings[0]!, /line 6: native log line: expected a JSON object/);
  const strict = new NativeLogParser({ node: 'node1', file: 'n.txt', service: 'vizqlserver' });
  assert.throws(() => strict.push({ text: 'not json', number: 7, terminated: true }), /^FormatError: n\.txt: line 7: native log line: expected a JSON object with "ts" and "k"/);
  assert.throws(() => strict.push({ text: '{"k":"x"}', number: 8, terminated: true }), /line 8/);
});

test('file names: which format, which node, which service', () => {
  assert.deepEqual(classifyLogFile('/l/node2/backgrounder_node2-1.log.2018-08-08'), { format: 'java', service: 'backgrounder', node: 'node2', file: '/l/node2/backgrounder_node2-1.log.2018-08-08' });
  assert.deepEqual(classifyLogFile('/l/vizqlserver_node1-0.log'), { format: 'java', service: 'vizqlserver', node: 'node1', file: '/l/vizqlserver_node1-0.log' });
  assert.equal(classifyLogFile('/l/node3/vizqlserver_0.2018/logs/nativeapi_vizqlserver_3-0_2018_08_08_00_00_00.txt')!.node, 'node3');
  assert.equal(classifyLogFile('/l/nativeapi_backgrounder_2-1_2018_08_08_00_00_00.txt')!.node, 'node2');
  assert.equal(classifyLogFile('/l/readme.txt'), undefined);
});

test('a folder of logs is streamed file by file; CRLF files read the same', async () => {
  const d = mkdtempSync(join(tmpdir(), 'cg-logs-'));
  try {
    mkdirSync(join(d, 'node1'));
    mkdirSync(join(d, 'node2'));
    writeFileSync(
      join(d, 'node1', 'vizqlserver_node1-0.log'),
      `2024-05-01 10:00:00.123 +0000 (,,,,,:,-) main vizqlserver: INFO  a.AwsKmsEncryptionEnvelopeAccessor - Decrypted RMK with ID ${RMK} using CMK with ARN ${ARN}\r\n`,
    );
    writeFileSync(
      join(d, 'node2', 'nativeapi_vizqlserver_2-0_2024_05_01_00_00_00.txt'),
      `{"ts":"2024-05-01T10:00:00.000","pid":1,"tid":"1","sev":"error","req":"-","sess":"-","site":"-","user":"-","k":"kms-storage-error","v":{"error-code":"AccessDeniedException"}}\n`,
    );
    writeFileSync(join(d, 'node2', 'notes.txt'), 'ignored');
    const r = await readTableauLogFolder(d);
    assert.deepEqual(r.files, ['node1/vizqlserver_node1-0.log', 'node2/nativeapi_vizqlserver_2-0_2024_05_01_00_00_00.txt']);
    assert.deepEqual(r.events.map((e) => [e.node, e.kind, e.errorCode ?? e.cmkArn]), [
      ['node1', 'rmk-decrypted', ARN],
      ['node2', 'cmk-error', 'AccessDeniedException'],
    ]);
    await assert.rejects(readTableauLog(join(d, 'node2', 'notes.txt')), /file name: expected a Tableau log name/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
