// `npm run bench` (or `node dist/bench/audit-bench.js`): generates a folder of Tableau logs
// (Java and native JSON, four nodes, rotated files, ~1 % KMS lines, stack traces; node4
// refused by KMS) plus a status output and a key policy, then times in one run:
//   - `cryptgate audit <folder>` (hashing every file, as an audit does) and with --no-hash,
//   - `grep -rc AwsKmsEncryptionEnvelope <folder>`, the reference a reviewer would reach for,
// and prints MB/s, the ratio to grep, and the peak RSS of an audit of a quarter of the folder
// next to the whole one: memory must not grow with the evidence.
//
// Size: CRYPTGATE_AUDIT_BENCH_BYTES (default 1 GB, well under a minute). The 5 GB run:
//   npm run build && CRYPTGATE_AUDIT_BENCH_BYTES=5e9 node dist/bench/audit-bench.js
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-info.js';
import { hasCommand, measureMedian } from './measure.js';

const TARGET = Number(process.env.CRYPTGATE_AUDIT_BENCH_BYTES ?? 1e9);
const root = packageRoot();
const dir = join(root, 'bench', 'out', 'audit-logs');
const CLI = join(root, 'bin', 'cryptgate.js');
const CMK = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const RMK = 'c4d7e3b2-1111-4222-8333-944455556666';
const NODES = ['node1', 'node2', 'node3', 'node4'];

function ts(i: number): string {
  const s = i % 86400;
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `2024-05-01 ${hh}:${mm}:${ss}.${String(i % 1000).padStart(3, '0')} +0000`;
}

/** ~4 MiB of Java log lines for a node: service chatter, 1 % KMS lines, an occasional stack trace. */
function javaBlock(node: string, service: string, start: number, refused: boolean): Buffer {
  const lines: string[] = [];
  let i = start;
  let bytes = 0;
  while (bytes < 4 << 20) {
    const t = ts(i);
    let line: string;
    const k = i % 100;
    if (k === 7 && !refused) line = `${t} (,,,,,:,-) main ${service}: INFO  com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor - Decrypted RMK with ID ${RMK} using CMK with ARN ${CMK}`;
    else if (k === 8 && !refused) line = `${t} (,,,,,:,-) main ${service}: INFO  com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelope - Using RMK with ID ${RMK} to decrypt KMS storage`;
    else if (k === 9 && refused)
      line = `${t} (,,,,,:,-) main ${service}: ERROR com.tableausoftware.security.kms.aws.AwsKmsEncryptionEnvelopeAccessor - Failed to decrypt RMK with ID ${RMK} using CMK with ARN ${CMK}: User: arn:aws:sts::111122223333:assumed-role/tableau-${node}/i-0abc is not authorized to perform: kms:Decrypt (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException; Request ID: r-${i})\ncom.amazonaws.services.kms.model.AWSKMSException: not authorized\n\tat com.amazonaws.http.AmazonHttpClient$RequestExecutor.handleErrorResponse(AmazonHttpClient.java:1879)`;
    else if (k === 42) line = `${t} (Default,admin,,,,:,-) http-nio-8600-exec-${i % 16} ${service}: WARN  com.tableausoftware.vizql.Query - Slow query: ${i % 5000} ms\njava.lang.Throwable: trace\n\tat com.tableausoftware.vizql.Query.run(Query.java:${i % 900})\n\tat java.base/java.lang.Thread.run(Thread.java:833)`;
    else line = `${t} (Default,user${i % 40},${(i * 7919).toString(16).toUpperCase()},,,:,${(i * 104729).toString(36)}) http-nio-8600-exec-${i % 16} ${service}: INFO  com.tableausoftware.vizql.Session - Query executed in ${i % 97} ms; rows returned ${i % 12345}; session ${(i * 2654435761 >>> 0).toString(16).toUpperCase()}`;
    lines.push(line);
    bytes += line.length + 1;
    i++;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function nativeBlock(start: number): Buffer {
  const lines: string[] = [];
  let bytes = 0;
  for (let i = start; bytes < 4 << 20; i++) {
    const t = `2024-05-01T${ts(i).slice(11, 23)}`;
    const line =
      i % 100 === 3
        ? JSON.stringify({ ts: t, pid: 4001, tid: '1a01', sev: 'info', req: '-', sess: '-', site: '-', user: '-', k: 'kms-storage-open', v: { mode: 'aws', 'rmk-id': RMK, 'cmk-arn': CMK } })
        : JSON.stringify({ ts: t, pid: 4001, tid: (i % 64).toString(16), sev: 'info', req: (i * 31).toString(36), sess: '-', site: 'Default', user: `user${i % 40}`, k: 'end-query', v: { query: `SELECT "Orders"."Region" AS "Region" FROM "Orders" WHERE id = ${i}`, elapsed: (i % 1000) / 1000 } });
    lines.push(line);
    bytes += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function generate(): number {
  if (existsSync(dir)) {
    let have = 0;
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (!e.isDirectory()) have += statSync(join(e.parentPath, e.name)).size;
    if (Math.abs(have - TARGET) < TARGET * 0.05) return have;
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kms-status.txt'), `KMS mode: AWS\nCustomer master key (CMK) ARN: ${CMK}\nRegion: us-east-1\nRoot master key (RMK) ID in use: ${RMK}\nMaster extract keys (MEKs): 1\n  MEK ID: 9eee70df-be67-4dbf-9c35-1f0aa2421522\n    State: encryption/decryption\n    Created at: 2024-05-01T09:00:00Z\n    First transition to encrypt/decrypt: 2024-05-01T09:00:00Z\n    Transition to decrypt-only: none\nChecked on: node1\nStatus: OK\n`);
  // Per node: two rotated vizqlserver files, a backgrounder file and a native log, in a ratio of 3:1:1:1.
  const perNode = TARGET / NODES.length;
  let total = 0;
  for (const node of NODES) {
    mkdirSync(join(dir, node), { recursive: true });
    const n = node.slice(4);
    // Start times: the rotated file is the oldest; node4's role lost kms:Decrypt after it.
    const files: [string, number, () => Buffer][] = [
      [`vizqlserver_node${n}-0.log.2024-04-30`, perNode * 0.25, () => javaBlock(node, 'vizqlserver', 1_000, false)],
      [`vizqlserver_node${n}-0.log`, perNode * 0.25, () => javaBlock(node, 'vizqlserver', 40_000, node === 'node4')],
      [`backgrounder_node${n}-0.log`, perNode * 0.3, () => javaBlock(node, 'backgrounder', 40_000, node === 'node4')],
      [`nativeapi_vizqlserver_${n}-0_2024_05_01_00_00_00.txt`, perNode * 0.2, () => nativeBlock(20_000)],
    ];
    for (const [name, bytes, make] of files) {
      const block = make();
      const fd = openSync(join(dir, node, name), 'w');
      let written = 0;
      while (written < bytes) written += writeSync(fd, block);
      closeSync(fd);
      total += written;
    }
  }
  return total;
}

const mb = (bytes: number, s: number): string => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;

function main(): void {
  const t0 = Date.now();
  const bytes = generate();
  process.stdout.write(`audit bench: ${(bytes / 1e9).toFixed(2)} GB of Tableau logs in ${dir} (${((Date.now() - t0) / 1000).toFixed(1)} s to prepare)\n`);
  const out = join(root, 'bench', 'out', 'audit-bench.json');
  const audit = (folder: string, ...extra: string[]): string[] => [process.execPath, CLI, 'audit', folder, '--format', 'json', '--out', out, ...extra];
  const hashed = measureMedian(audit(dir), 3);
  const unhashed = measureMedian(audit(dir, '--no-hash'), 3);
  if (hashed.status !== 1) process.stdout.write(`  note: audit exit ${hashed.status} (expected 1: node4 cannot reach the CMK)\n`);
  const quarterBytes = (() => {
    let n = 0;
    for (const f of readdirSync(join(dir, 'node1'))) n += statSync(join(dir, 'node1', f)).size;
    return n;
  })();
  const quarter = measureMedian(audit(join(dir, 'node1')), 1);
  const rows: string[][] = [['tool', 'time', 'throughput', 'peak RSS']];
  rows.push(['cryptgate audit (SHA-256 of every file)', `${hashed.seconds.toFixed(2)} s`, mb(bytes, hashed.seconds), `${(hashed.maxRssKiB / 1024).toFixed(0)} MiB`]);
  rows.push(['cryptgate audit --no-hash', `${unhashed.seconds.toFixed(2)} s`, mb(bytes, unhashed.seconds), `${(unhashed.maxRssKiB / 1024).toFixed(0)} MiB`]);
  rows.push([`cryptgate audit of one node (${(quarterBytes / 1e9).toFixed(2)} GB)`, `${quarter.seconds.toFixed(2)} s`, mb(quarterBytes, quarter.seconds), `${(quarter.maxRssKiB / 1024).toFixed(0)} MiB`]);
  let grepSeconds: number | undefined;
  if (hasCommand('grep')) {
    const g = measureMedian(['grep', '-rc', 'AwsKmsEncryptionEnvelope', dir], 3);
    grepSeconds = g.seconds;
    const hits = g.stdout.split('\n').filter(Boolean).reduce((n, l) => n + Number(l.split(':').pop()), 0);
    rows.push([`grep -rc AwsKmsEncryptionEnvelope (${hits} lines)`, `${g.seconds.toFixed(2)} s`, mb(bytes, g.seconds), `${(g.maxRssKiB / 1024).toFixed(0)} MiB`]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) process.stdout.write(`  ${r.map((c, i) => c.padEnd(w[i]!)).join('  ')}\n`);
  if (grepSeconds !== undefined) {
    process.stdout.write(`  ratio: cryptgate audit takes ${(hashed.seconds / grepSeconds).toFixed(1)}× grep's time (${(unhashed.seconds / grepSeconds).toFixed(1)}× without hashing); grep only counts lines, the audit parses every KMS event, frames every line and judges the nodes\n`);
  }
  process.stdout.write(`  memory: peak RSS ${(quarter.maxRssKiB / 1024).toFixed(0)} MiB for a quarter of the logs, ${(hashed.maxRssKiB / 1024).toFixed(0)} MiB for all of them\n`);
}

main();
