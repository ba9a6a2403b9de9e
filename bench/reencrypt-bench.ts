// `npm run bench` (re-encryption part): is `tabcmd reencryptextracts` limited by the cipher,
// and does it stream in flat memory? In one run, on one machine, for the disk (bench/out, or
// --where DIR) and, when there is one, a RAM file system (/dev/shm; --no-ramdisk skips it):
//  1. builds a simulated cluster in AWS KMS mode (embedded KMS) holding ≥ 2 GiB of extracts
//     of mixed sizes (--bytes or CRYPTGATE_REENCRYPT_BYTES, e.g. 512MiB; default 2GiB) on site
//     Default, plus a site Small with 1/16 of that, then rotates (regenerate-internal-tokens)
//     so every extract is under a decryption-only MEK;
//  2. measures, each in a fresh child process so a peak RSS belongs to one job:
//     - the baseline: raw AES-256-GCM with Node crypto on the same plaintext volume, in memory,
//       one thread, doing exactly the cryptography re-encryption must do per 1 MiB chunk:
//       decrypt under the old data key (AAD set, tag checked) and encrypt under a new one.
//       No file I/O, no parsing, no scrubbing: the cipher's ceiling, so the ratio shows what
//       reading, writing, fsync and bookkeeping cost on top. Run before and after the job;
//       the faster run is used (the stricter baseline);
//     - `SimCluster.reencryptExtracts('Small')` and `…('Default')` on a running cluster (the
//       backgrounder holds the RMK, as after `tsm start`): wall time of the job itself, the KMS
//       requests it made (counted at the embedded KMS; expected 0), and the peak RSS. The job,
//       too, runs its cipher on one thread (a worker); its reads, writes and fsyncs run on
//       libuv's pool, so it needs a second core for them where the baseline needs none;
//     - on each storage, its write ceiling: files of the extracts' sizes replaced by new ones
//       written, fsynced and renamed exactly as the job does, no crypto (re-encryption cannot
//       go faster than that; on tmpfs the fsync is free but allocating and filling the new
//       pages is not, and on a VM whose host backs guest memory lazily it is slow and varies
//       with what the memory held before);
//  3. prints MB/s (10^6 plaintext bytes per second), the ratio to the baseline (goal ≥ 70 %),
//     the best ratio the storage allows (the slower of the cipher and the write, over the
//     cipher), and peak RSS for the small and the large site (flat memory: the two should match).
// The extracts were just written, so reads come from the page cache, as they would on a server
// with the RAM to hold them. The RAM file system run shows the code's own cost: there fsync is
// free and only the cipher, the copies and the bookkeeping remain.
//
//   npm run build && node dist/bench/reencrypt-bench.js [--bytes 2GiB] [--where DIR] [--no-ramdisk] [--keep]
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { packageRoot } from '../src/util/package-info.js';
import { startEmbeddedKms, type EmbeddedKms } from '../simulators/kms/index.js';
import { DEFAULT_CHUNK, embeddedKmsAccess, initCluster, readConfig, SimCluster } from '../simulators/cluster/index.js';
import { SYNC_EVERY } from '../simulators/cluster/reencrypt-body.js';

// The AWS SDK warns on Node 20 when a client is made; the bench's output is its report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SELF = fileURLToPath(import.meta.url);

interface ChildResult {
  seconds: number;
  plainBytes: number;
  fileBytes: number;
  extracts: number;
  kmsRequests: number;
  rssBeforeKiB: number;
  maxRssKiB: number;
  /** CPU time of the measured part, all threads (user + system), in seconds. */
  cpuSeconds: number;
}

const cpuSince = (start: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
};

/** "2GiB", "512MiB", "3e9", "1500000000" → bytes. */
function parseBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(v.trim());
  if (!m) throw new Error(`--bytes ${v}: expected a size such as 2GiB, 512MiB or 2147483648`);
  const unit = (m[2] ?? 'B').toLowerCase();
  const mult: Record<string, number> = { b: 1, kib: 1024, mib: MiB, gib: GiB, kb: 1e3, mb: 1e6, gb: 1e9 };
  return Math.round(Number(m[1]) * mult[unit]!);
}

/** Extract sizes summing to at least `total`: a few large, a few middling, some tiny and edge sizes. */
function mixedSizes(total: number): number[] {
  const small = [0, 1, 4096, 37 * 1024 + 3, DEFAULT_CHUNK - 1, DEFAULT_CHUNK + 1, 3 * DEFAULT_CHUNK + 17];
  const rest = Math.max(0, total - small.reduce((a, b) => a + b, 0));
  const shares = [0.38, 0.24, 0.14, 0.1, 0.07, 0.04, 0.03];
  const big = shares.map((s, i) => Math.floor(rest * s) + 7 * i);
  const short = rest - big.reduce((a, b) => a + b, 0);
  if (short > 0) big[0]! += short;
  return [...big, ...small];
}

function kib(n: number): string {
  return `${(n / 1024).toFixed(0)} MiB`;
}

// ---------------------------------------------------------------- child: baseline

/**
 * The cipher's ceiling: per 1 MiB chunk, AES-256-GCM decrypt (old key, AAD, tag verified) then
 * encrypt (new key, AAD, tag), as re-encryption does, over `bytes` of plaintext. The
 * ciphertext cycles through a 64 MiB pool (larger than the CPU's caches, like a file would be).
 */
function baselineChild(bytes: number): ChildResult {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const aad = Buffer.from('cryptgate/extract-chunk@1\0extract:00000000-0000-0000-0000-000000000000\0\0\0\0\0\0\0\0\0\0', 'utf8');
  const nonce = (i: number): Buffer => {
    const n = Buffer.alloc(12);
    n.writeUInt32BE(i, 8);
    return n;
  };
  const POOL = 64;
  const pool: { ct: Buffer; tag: Buffer }[] = [];
  for (let i = 0; i < POOL; i++) {
    const c = createCipheriv('aes-256-gcm', oldKey, nonce(i));
    c.setAAD(aad);
    const ct = c.update(randomBytes(DEFAULT_CHUNK));
    c.final();
    pool.push({ ct, tag: c.getAuthTag() });
  }
  // Whole chunks only (the last one rounded up): the baseline never does less work than asked.
  const chunks = Math.max(1, Math.ceil(bytes / DEFAULT_CHUNK));
  const rssBefore = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < chunks; i++) {
    const p = pool[i % POOL]!;
    const d = createDecipheriv('aes-256-gcm', oldKey, nonce(i % POOL));
    d.setAAD(aad);
    d.setAuthTag(p.tag);
    const plain = d.update(p.ct);
    d.final();
    const e = createCipheriv('aes-256-gcm', newKey, nonce(i));
    e.setAAD(aad);
    e.update(plain);
    e.final();
    e.getAuthTag();
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, plainBytes: chunks * DEFAULT_CHUNK, fileBytes: 0, extracts: 0, kmsRequests: 0, rssBeforeKiB: Math.round(rssBefore / 1024), maxRssKiB: process.resourceUsage().maxRSS, cpuSeconds: cpuSince(cpu0) };
}

// ---------------------------------------------------------------- child: the job

async function reencryptChild(dir: string, site: string): Promise<ChildResult> {
  const cfg = readConfig(dir);
  const kms = await startEmbeddedKms({ port: 0, stateDir: join(dir, 'aws-kms'), region: cfg.region });
  let c: SimCluster | undefined;
  try {
    c = await SimCluster.open(dir, { kms: embeddedKmsAccess(kms, cfg.nodes, { maxAttempts: 1 }) });
    await c.start(); // a running server: the backgrounder holds the RMK
    const todo = c.listExtracts(site);
    const plainBytes = todo.reduce((a, x) => a + x.header.plainSize, 0);
    const fileBytes = todo.reduce((a, x) => a + statSync(x.path).size, 0);
    kms.resetCounters();
    const rssBefore = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await c.reencryptExtracts(site);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const kmsRequests = kms.counters().total;
    if (r.reencrypted !== todo.length) throw new Error(`re-encrypted ${r.reencrypted} of ${todo.length} extracts on ${site}`);
    const cpuSeconds = cpuSince(cpu0);
    return { seconds, plainBytes, fileBytes, extracts: todo.length, kmsRequests, rssBeforeKiB: Math.round(rssBefore / 1024), maxRssKiB: process.resourceUsage().maxRSS, cpuSeconds };
  } finally {
    c?.close();
    await kms.stop();
  }
}

function runChild(...args: string[]): ChildResult {
  const r = spawnSync(process.execPath, [SELF, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

// ---------------------------------------------------------------- set-up

async function buildCluster(dir: string, total: number): Promise<{ sizes: Record<string, number[]>; seconds: number }> {
  await initCluster(dir, { nodes: 2, licence: 'advanced-management', region: 'us-east-1' });
  const kms: EmbeddedKms = await startEmbeddedKms({ port: 0, stateDir: join(dir, 'aws-kms'), region: 'us-east-1' });
  const admin = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let c: SimCluster | undefined;
  try {
    const arn = (await admin.send(new CreateKeyCommand({ Description: 'reencrypt bench CMK' }))).KeyMetadata!.Arn!;
    c = await SimCluster.open(dir, { kms: embeddedKmsAccess(kms, readConfig(dir).nodes) });
    await c.setModeAws({ region: 'us-east-1', keyArn: arn });
    c.createSite('Small');
    const sizes = { Default: mixedSizes(total), Small: mixedSizes(Math.ceil(total / 16)) };
    const t0 = process.hrtime.bigint();
    for (const [site, list] of Object.entries(sizes)) {
      for (const [i, size] of list.entries()) await c.publish(site, `extract-${String(i).padStart(2, '0')}`, { size });
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await c.regenerateInternalTokens(); // every extract now under a decryption-only MEK
    return { sizes, seconds };
  } finally {
    c?.close();
    admin.destroy();
    await kms.stop();
  }
}

// ---------------------------------------------------------------- child: the storage's ceiling

/**
 * The least I/O re-encryption must do to the storage, done the way the job does it, without
 * the cipher and without the reads: given files of the extracts' sizes (written first, not
 * timed), replace each with a new file of the same size (1 MiB writes, one in flight, on
 * libuv's pool, a background fdatasync every SYNC_EVERY bytes, then fsync and rename over the
 * old one, whose pages the next file may reuse). Re-encryption cannot beat it while it keeps
 * its promise that a renamed extract is on the disk.
 */
async function writeChild(dir: string, sizes: number[]): Promise<ChildResult> {
  const area = join(dir, `write-ceiling-${process.pid}`);
  mkdirSync(area);
  const buf = randomBytes(MiB);
  const writeFile = async (file: string, size: number): Promise<void> => {
    const fh = await open(file, 'wx', 0o600);
    try {
      let syncing: Promise<void> | undefined;
      let syncedTo = 0;
      for (let pos = 0; pos < size; pos += MiB) {
        const len = Math.min(MiB, size - pos);
        let off = 0;
        while (off < len) off += (await fh.write(buf, off, len - off, pos + off)).bytesWritten;
        if (!syncing && pos + len - syncedTo >= SYNC_EVERY) {
          syncedTo = pos + len;
          syncing = fh.datasync().finally(() => (syncing = undefined));
        }
      }
      await syncing;
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  try {
    const files = sizes.map((_, i) => join(area, `extract-${i}`));
    for (const [i, size] of sizes.entries()) await writeFile(files[i]!, size);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const [i, size] of sizes.entries()) {
      await writeFile(`${files[i]}.new`, size);
      await rename(`${files[i]}.new`, files[i]!);
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const bytes = sizes.reduce((a, b) => a + b, 0);
    return { seconds, plainBytes: bytes, fileBytes: bytes, extracts: sizes.length, kmsRequests: 0, rssBeforeKiB: 0, maxRssKiB: process.resourceUsage().maxRSS, cpuSeconds: cpuSince(cpu0) };
  } finally {
    rmSync(area, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main

interface Storage {
  label: string;
  dir: string;
  /** fsync is a no-op there (tmpfs): no durable-write ceiling to measure. */
  volatile: boolean;
}

const mbps = (r: ChildResult): number => r.plainBytes / 1e6 / r.seconds;
/** CPU work per GB, all threads: unlike wall time, it barely moves when other processes share the CPUs. */
const cpuPerGb = (r: ChildResult): string => `${(r.cpuSeconds / (r.plainBytes / 1e9)).toFixed(2)} CPU-s/GB`;
const gb = (n: number): string => `${(n / 1e9).toFixed(2)} GB`;

/** One storage: build, rotate, measure, print. Returns the headline figures. */
async function benchOn(st: Storage, total: number, keep: boolean): Promise<{ ratio: number; bound: number; job: number; base: number; flat: boolean; kms: number }> {
  mkdirSync(st.dir, { recursive: true });
  const dir = join(st.dir, `reencrypt-cluster-${process.pid}`);
  try {
    console.log(`\n== ${st.label}: ${dir}`);
    const built = await buildCluster(dir, total);
    const published = Object.values(built.sizes).flat().reduce((a, b) => a + b, 0);
    console.log(
      `cluster: AWS KMS mode (embedded KMS), 2 nodes; ${built.sizes.Default!.length} extracts (${gb(built.sizes.Default!.reduce((a, b) => a + b, 0))}) on Default, ${built.sizes.Small!.length} on Small; ` +
        `published ${gb(published)} in ${built.seconds.toFixed(1)} s; rotated (regenerate-internal-tokens)`,
    );
    const defaultBytes = built.sizes.Default!.reduce((a, b) => a + b, 0);
    const base1 = runChild('baseline', String(defaultBytes));
    const small = runChild('reencrypt', dir, 'Small');
    const large = runChild('reencrypt', dir, 'Default');
    const ceiling = runChild('write', dir, built.sizes.Default!.join(','));
    const base2 = runChild('baseline', String(defaultBytes));
    const base = base1.seconds <= base2.seconds ? base1 : base2;
    const ratio = mbps(large) / mbps(base);
    console.log(`raw AES-256-GCM (Node crypto, in memory, 1 MiB chunks, decrypt + encrypt, one thread) on ${gb(base.plainBytes)}: ${mbps(base1).toFixed(0)} MB/s before the job, ${mbps(base2).toFixed(0)} MB/s after; baseline = the faster, ${mbps(base).toFixed(0)} MB/s; ${cpuPerGb(base)}`);
    for (const [name, r] of [['Small', small], ['Default', large]] as const) {
      console.log(
        `reencryptExtracts('${name}'): ${r.extracts} extracts, ${gb(r.plainBytes)} plaintext in ${r.seconds.toFixed(2)} s = ${mbps(r).toFixed(0)} MB/s; ` +
          `${cpuPerGb(r)}; KMS requests: ${r.kmsRequests}; RSS ${kib(r.rssBeforeKiB)} before the job, peak ${kib(r.maxRssKiB)}`,
      );
    }
    console.log(
      `storage ceiling: replacing ${ceiling.extracts} files of the extracts' sizes (${gb(ceiling.plainBytes)}) with new ones as the job does, no crypto${st.volatile ? ' (fsync is free here; allocating and filling the pages is not)' : ''}: ` +
        `${mbps(ceiling).toFixed(0)} MB/s; re-encryption reached ${((mbps(large) / mbps(ceiling)) * 100).toFixed(0)} % of it`,
    );
    // Re-encryption must both run the cipher and write every byte anew: even perfectly
    // overlapped on two cores it cannot beat the slower of the two.
    const bound = Math.min(mbps(base), mbps(ceiling)) / mbps(base);
    console.log(`bound: re-encryption cannot outrun the slower of the cipher and the write, here about ${(bound * 100).toFixed(1)} % of the baseline (both vary by tens of % from run to run on this kind of VM)`);
    const growth = large.maxRssKiB - small.maxRssKiB;
    // Buffers that scaled with the data would add ~1 GB per GB; GC timing moves the peak by tens of MiB.
    const flat = growth < 64 * 1024;
    console.log(`peak RSS ${kib(small.maxRssKiB)} for ${gb(small.plainBytes)}, ${kib(large.maxRssKiB)} for ${gb(large.plainBytes)} (${growth >= 0 ? '+' : ''}${kib(growth)} for ${(large.plainBytes / small.plainBytes).toFixed(0)}× the data): ${flat ? 'flat' : 'NOT flat'}`);
    console.log(`ratio re-encryption / raw AES-256-GCM: ${(ratio * 100).toFixed(1)} % (goal ≥ 70 %): ${ratio >= 0.7 ? 'met' : 'NOT met'}`);
    return { ratio, bound, job: mbps(large), base: mbps(base), flat, kms: large.kmsRequests + small.kmsRequests };
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** /dev/shm when it is a RAM file system with room for the cluster (twice its size, plus slack). */
function ramDisk(total: number): string | undefined {
  const dir = '/dev/shm';
  try {
    const s = statfsSync(dir);
    return s.type === 0x01021994 /* TMPFS_MAGIC */ && s.bavail * s.bsize > 2.5 * total ? dir : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const r = args[1] === 'baseline' ? baselineChild(Number(args[2])) : args[1] === 'write' ? await writeChild(args[2]!, args[3]!.split(',').map(Number)) : await reencryptChild(args[2]!, args[3]!);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const total = parseBytes(opt('--bytes') ?? process.env.CRYPTGATE_REENCRYPT_BYTES ?? '2GiB');
  const keep = args.includes('--keep');
  const storages: Storage[] = [{ label: 'disk', dir: opt('--where') ?? join(packageRoot(), 'bench/out'), volatile: false }];
  const ram = args.includes('--no-ramdisk') ? undefined : ramDisk(total);
  if (ram) storages.push({ label: 'RAM file system (tmpfs: fsync costs nothing, so this isolates the code from the disk)', dir: ram, volatile: true });
  console.log(`re-encryption benchmark: ${(total / GiB).toFixed(2)} GiB of extracts on site Default; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), load average ${os.loadavg()[0]!.toFixed(2)}`);
  const results = [];
  for (const st of storages) results.push({ st, r: await benchOn(st, total, keep) });
  console.log('\nsummary (MB/s = 10^6 plaintext bytes per second):');
  for (const { st, r } of results) {
    console.log(`  ${st.label.split(' (')[0]}: re-encryption ${r.job.toFixed(0)} MB/s vs raw AES-256-GCM ${r.base.toFixed(0)} MB/s = ${(r.ratio * 100).toFixed(1)} % (goal ≥ 70 %: ${r.ratio >= 0.7 ? 'met' : 'NOT met'}; the write alone allows about ${(r.bound * 100).toFixed(1)} %); memory ${r.flat ? 'flat' : 'NOT flat'}; KMS requests during reencryptextracts: ${r.kms}`);
  }
  console.log(`  load average now ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} CPUs: re-encryption needs a second core for its I/O, the baseline does not`);
}

await main();
