// KMS at rest (KMS-1..11): thin steps. Givens and Whens drive the simulated cluster through
// its public API and the run's KMS backend (kms-scenario.ts); Thens judge only from the
// evidence files the scenario left — command transcripts, status text, logs, keystore/kms.json,
// extract and backup files, exported policies — read back through src/evidence/ (and the small
// readers in kms-evidence.ts). Each Then attaches what it saw, so a pass shows its proof.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { After, AfterAll, Before, type DataTable, Given, Then, When } from '@cucumber/cucumber';
import { parseJavaLine, type KmsLogEvent } from '../src/evidence/tableau-logs.js';
import { readLines } from '../src/evidence/lines.js';
import { endKmsSession, kmsBackendForRun, nextScenarioId } from '../src/run/kms-session.js';
import { unmetRequirements, type KmsRunFacts } from '../src/run/reproducibility.js';
import { NOT_REPRODUCIBLE_MEDIA_TYPE, scenarioId, type NotReproducibleMarker } from '../src/run/scenario-report.js';
import { sha256FileSync } from '../src/util/file-hash.js';
import { identityGrants, KEY_ENCODINGS, keyPolicyGrants, plaintextKeyHits } from './kms-evidence.js';
import { KMS_SERVICES, SERVICE_TITLES } from '../simulators/cluster/index.js';
import { KmsScenario, type Snapshot } from './kms-scenario.js';
import type { CryptgateWorld } from './world.js';

// Starting moto_server or LocalStack takes seconds; a multi-round scenario a few more.
const HOOK_TIMEOUT = 180_000;
const STEP_TIMEOUT = 60_000;

function k(world: CryptgateWorld): KmsScenario {
  if (!world.kmsScenario) throw new Error('this step needs a @kms scenario (the KMS Before hook did not run)');
  return world.kmsScenario;
}

function factsOf(backend: KmsScenario['backend']): KmsRunFacts {
  return { backend: backend.name, capabilities: backend.capabilities, perNodeRoles: backend.embedded !== undefined };
}

/** Marks the scenario not reproducible on this backend; the step then returns 'skipped'. */
function markNotReproducible(world: CryptgateWorld, markers: NotReproducibleMarker[]): 'skipped' {
  for (const m of markers) world.attach(JSON.stringify(m), NOT_REPRODUCIBLE_MEDIA_TYPE);
  return 'skipped';
}

// ---------------------------------------------------------------- hooks

Before({ tags: '@kms', timeout: HOOK_TIMEOUT }, async function (this: CryptgateWorld, { pickle }) {
  const id = nextScenarioId(scenarioId(pickle.uri, pickle.name));
  const backend = await kmsBackendForRun(this.parameters.kms);
  const facts = factsOf(backend);
  const unmet = unmetRequirements(
    pickle.tags.map((t) => t.name),
    facts,
  );
  this.observe({ kmsBackend: backend.description });
  if (unmet.length > 0) return markNotReproducible(this, unmet);
  const dir = join(this.parameters.evidenceDir, id);
  this.kmsScenario = new KmsScenario(dir, dirname(this.parameters.evidenceDir), backend, facts);
  this.observe({ evidence: this.kmsScenario.relative(dir) });
  return undefined;
});

After({ tags: '@kms', timeout: HOOK_TIMEOUT }, function (this: CryptgateWorld) {
  const s = this.kmsScenario;
  if (!s) return;
  try {
    // No plaintext key in anything the scenario left: logs, key store, extracts, backups, transcripts.
    const files = s.files();
    const hits = plaintextKeyHits(files, s.keys);
    this.observe({ plaintextKeyScan: `${s.keys.length} keys in ${KEY_ENCODINGS.length} encodings`, files: files.length, hits: hits.length });
    assert.equal(hits.length, 0, `plaintext key material on disk: ${hits.slice(0, 5).map((h) => `${s.relative(h.file)} holds ${h.kind} ${h.id} (${h.encoding})`).join('; ')}`);
  } finally {
    s.end();
  }
});

AfterAll({ timeout: HOOK_TIMEOUT }, async function () {
  await endKmsSession();
});

// ---------------------------------------------------------------- clusters and the CMK

Given('a {int}-node cluster on EC2 with the Advanced Management licence', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, n: number) {
  await k(this).createCluster('cluster', { nodes: n, licence: 'advanced-management', platform: 'ec2' });
});

Given('a {int}-node cluster on EC2 without the Advanced Management licence', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, n: number) {
  await k(this).createCluster('cluster', { nodes: n, licence: 'none', platform: 'ec2' });
});

Given('a {int}-node cluster on {string} with the Advanced Management licence', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, n: number, platform: string) {
  assert.ok(platform === 'on-prem' || platform === 'azure', `platform "${platform}": expected on-prem or azure (EC2 has its own step)`);
  await k(this).createCluster('cluster', { nodes: n, licence: 'advanced-management', platform });
});

Given('a {int}-node cluster {string} on EC2 with the Advanced Management licence', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, n: number, name: string) {
  await k(this).createCluster(name, { nodes: n, licence: 'advanced-management', platform: 'ec2' });
});

Given('a customer master key', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  const arn = await k(this).createCmk();
  this.observe({ cmk: arn });
});

Given(
  "a customer master key whose key policy grants each node's role exactly kms:GenerateDataKey and kms:Decrypt",
  { timeout: STEP_TIMEOUT },
  async function (this: CryptgateWorld) {
    const s = k(this);
    await s.createCmk();
    await s.restrictKeyPolicyToNodeRoles();
  },
);

Given("the CMK's key policy also lets each node's role kms:DescribeKey it", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  await k(this).allowNodeRolesDescribeKey();
});

Given('the CMK is disabled', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  await k(this).disableCmk();
});

Given('the CMK is scheduled for deletion', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  await k(this).scheduleCmkDeletion();
});

Given("{word}'s instance role does not allow {word}", function (this: CryptgateWorld, node: string, action: string) {
  assert.ok(action === 'kms:Decrypt' || action === 'kms:GenerateDataKey', `action ${action}: expected kms:Decrypt or kms:GenerateDataKey`);
  k(this).denyRoleAction(node, action);
});

Given('{word} cannot reach AWS KMS', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, node: string) {
  await k(this).cutOffNode(node);
});

When('the CMK is rotated on demand', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  const s = k(this);
  s.mark('the rotation');
  await s.rotateCmk();
});

// ---------------------------------------------------------------- the administrator's commands

async function runOk(world: CryptgateWorld, line: string): Promise<void> {
  const t = await k(world).run(line);
  assert.equal(t.exitCode, 0, `${t.command}: exit code ${t.exitCode}: ${t.error ?? t.output.slice(-3).join(' | ')}`);
}

Given('the KMS mode is AWS with the CMK', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  await runOk(this, 'tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}');
});

Given("the cluster's KMS mode is {string}", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, mode: string) {
  assert.ok(mode === 'local' || mode === 'aws', `mode "${mode}": expected local or aws`);
  // A new cluster is in local mode (KMS-1): only AWS needs a command.
  if (mode === 'aws') await runOk(this, 'tsm security kms set-mode aws --aws-region {region} --key-arn {cmk}');
  assert.equal(k(this).storage().mode, mode);
});

Given('the administrator has run {string}', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, line: string) {
  await runOk(this, line);
});

Given('extracts are published:', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, table: DataTable) {
  for (const row of table.hashes()) {
    const bytes = Number(row.bytes);
    assert.ok(row.site && row.name && Number.isSafeInteger(bytes), 'columns: site | name | bytes');
    const t = await k(this).publish(row.site, row.name, bytes);
    assert.equal(t.exitCode, 0, `${t.command}: ${t.error}`);
  }
});

When('the administrator runs {string}', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, line: string) {
  await k(this).run(line);
});

// ---------------------------------------------------------------- what the command said (its transcript)

function transcriptFacts(world: CryptgateWorld): ReturnType<KmsScenario['lastTranscript']> {
  const s = k(world);
  const t = s.lastTranscript();
  world.observe({ command: t.command, exitCode: t.exitCode, ...(t.error ? { error: t.error } : {}), evidence: s.relative(s.last!.transcript) });
  return t;
}

Then('the command succeeds', function (this: CryptgateWorld) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, 0, `exit code ${t.exitCode}: ${t.error ?? ''}`);
  assert.equal(t.error, null);
});

Then('the command succeeds and its output includes {string}', async function (this: CryptgateWorld, a: string) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, 0, `exit code ${t.exitCode}: ${t.error ?? ''}`);
  const want = await k(this).expand(a);
  assert.ok(t.output.includes(want), `no output line "${want}" in:\n${t.output.join('\n')}`);
});

Then('the command succeeds and its output includes {string} and {string}', async function (this: CryptgateWorld, a: string, b: string) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, 0, `exit code ${t.exitCode}: ${t.error ?? ''}`);
  for (const x of [a, b]) {
    const want = await k(this).expand(x);
    assert.ok(t.output.includes(want), `no output line "${want}" in:\n${t.output.join('\n')}`);
  }
});

Then('the command fails with exit code {int}: {string}', async function (this: CryptgateWorld, code: number, message: string) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, code, `exit code ${t.exitCode} (${t.error ?? 'no error'}), expected ${code}`);
  assert.equal(t.error, await k(this).expand(message));
});

Then('the command fails with exit code {int} and its message starts with {string}', async function (this: CryptgateWorld, code: number, start: string) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, code, `exit code ${t.exitCode} (${t.error ?? 'no error'}), expected ${code}`);
  const want = await k(this).expand(start);
  assert.ok(t.error?.startsWith(want), `the message does not start with "${want}":\n${t.error}`);
});

Then("the command's message contains {string}", async function (this: CryptgateWorld, part: string) {
  const t = k(this).lastTranscript();
  const want = await k(this).expand(part);
  assert.ok(t.error?.includes(want), `the message does not contain "${want}":\n${t.error}`);
});

Then("the command's message ends with {string}", async function (this: CryptgateWorld, end: string) {
  const t = k(this).lastTranscript();
  const want = await k(this).expand(end);
  assert.ok(t.error?.endsWith(want), `the message does not end with "${want}":\n${t.error}`);
});

Then('the command exits with code {int}', function (this: CryptgateWorld, code: number) {
  const t = transcriptFacts(this);
  assert.equal(t.exitCode, code);
});

function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  if (a.kmsJson !== b.kmsJson) out.push('keystore/kms.json changed');
  for (const [f, h] of a.extracts) if (b.extracts.get(f) !== h) out.push(`${f} ${b.extracts.has(f) ? 'changed' : 'is gone'}`);
  for (const f of b.extracts.keys()) if (!a.extracts.has(f)) out.push(`${f} appeared`);
  if (a.staging !== b.staging) out.push('.restore-staging appeared');
  if (a.restoreJournal !== b.restoreJournal) out.push('jobs/restore.journal.json appeared');
  return out;
}

Then('the key store and the extracts are unchanged', function (this: CryptgateWorld) {
  const s = k(this);
  const before = s.last?.before;
  assert.ok(before, 'no command has run yet');
  const now = s.snapshot();
  const diff = diffSnapshots(before, now);
  this.observe({ unchanged: 'keystore/kms.json and every extract file', kmsJsonSha256: now.kmsJson, extracts: now.extracts.size });
  assert.deepEqual(diff, [], diff.join('; '));
});

Then('the key store and the extracts are as they were before {word} {word}', function (this: CryptgateWorld, the: string, what: string) {
  const s = k(this);
  const mark = s.marks.get(`${the} ${what}`);
  assert.ok(mark, `nothing was recorded before ${the} ${what}`);
  const now = s.snapshot();
  const diff = diffSnapshots(mark.snapshot, now);
  this.observe({ unchangedSince: `${the} ${what}`, kmsJsonSha256: now.kmsJson, extracts: now.extracts.size });
  assert.deepEqual(diff, [], diff.join('; '));
});

Then('no restore was left half-done: no staging folder and no restore journal', function (this: CryptgateWorld) {
  const snap = k(this).snapshot();
  this.observe({ restoreStaging: snap.staging, restoreJournal: snap.restoreJournal });
  assert.equal(snap.staging, false, '.restore-staging/ is still there');
  assert.equal(snap.restoreJournal, false, 'jobs/restore.journal.json is still there');
});

// ---------------------------------------------------------------- tsm security kms status (KMS-6, KMS-8)

async function statusLine(world: CryptgateWorld): Promise<string> {
  const s = k(world);
  await s.status(); // the file must read as a KMS status
  const lines = readFileSync(s.lastStatus!, 'utf8').split('\n').filter((l) => /^Status:/.test(l));
  assert.equal(lines.length, 1, `expected one Status line in ${s.relative(s.lastStatus!)}`);
  return lines[0]!;
}

Then('the KMS status line is {string}', async function (this: CryptgateWorld, expected: string) {
  const line = await statusLine(this);
  this.observe({ statusLine: line, evidence: k(this).relative(k(this).lastStatus!) });
  assert.equal(line, await k(this).expand(expected));
});

Then('the KMS status says the mode is {string} and the status line is {string}', async function (this: CryptgateWorld, mode: string, expected: string) {
  const st = await k(this).status();
  const line = await statusLine(this);
  this.observe({ mode: st.mode, statusLine: line, evidence: k(this).relative(k(this).lastStatus!) });
  assert.equal(st.mode, mode.toLowerCase());
  assert.equal(line, await k(this).expand(expected));
});

Then('the KMS status names the CMK and its region', async function (this: CryptgateWorld) {
  const s = k(this);
  const st = await s.status();
  this.observe({ cmkArn: st.cmkArn, region: st.region });
  assert.equal(st.cmkArn, s.cmk);
  assert.equal(st.region, s.cmk.split(':')[3]);
  assert.equal(st.region, s.storage().region, 'the status region is the key store\'s');
});

Then("the KMS status names no CMK and roots the hierarchy in the cluster's local keystore", async function (this: CryptgateWorld) {
  const s = k(this);
  const st = await s.status();
  const ks = await s.keyStore();
  const root = readFileSync(s.lastStatus!, 'utf8').split('\n').find((l) => l.startsWith('Root of the key hierarchy:'));
  this.observe({ cmkArn: st.cmkArn, root: root ?? null, localKeystore: ks.localKeystore?.rootId ?? null });
  assert.equal(st.cmkArn, null);
  assert.equal(st.region, null);
  assert.ok(ks.localKeystore, 'keystore/local-keystore.json is missing');
  assert.equal(root, `Root of the key hierarchy: local keystore ${ks.localKeystore.rootId}`);
});

Then('the KMS status names the RMK the key store holds', async function (this: CryptgateWorld) {
  const s = k(this);
  const st = await s.status();
  const rmk = s.storage().rmk.id;
  const rmkLines = readFileSync(s.lastStatus!, 'utf8').split('\n').filter((l) => /^Root master key \(RMK\)/i.test(l));
  this.observe({ statusRmk: st.rmkId, keyStoreRmk: rmk, rmkLines: rmkLines.length });
  assert.equal(st.rmkId, rmk);
  assert.equal(rmkLines.length, 1, 'one RMK in use at a time');
});

Then('the KMS status lists every MEK of the key store with its state and timestamps', async function (this: CryptgateWorld) {
  const s = k(this);
  const st = await s.status();
  const store = s.storage();
  const shown = st.meks.map((m) => ({ id: m.id, state: m.state, createdAt: m.createdAt, firstEncryptDecryptAt: m.firstEncryptDecryptAt, decryptOnlyAt: m.decryptOnlyAt }));
  const held = store.meks.map((m) => ({ id: m.id, state: m.state, createdAt: m.createdAt, firstEncryptDecryptAt: m.firstEncryptDecryptAt, decryptOnlyAt: m.decryptOnlyAt }));
  for (const m of shown) this.observe({ mek: m.id, state: m.state, createdAt: m.createdAt, firstEncryptDecryptAt: m.firstEncryptDecryptAt, decryptOnlyAt: m.decryptOnlyAt });
  assert.deepEqual(shown, held);
  for (const m of st.meks) {
    assert.ok(m.createdAt && m.firstEncryptDecryptAt, `MEK ${m.id}: creation and first encrypt/decrypt times are shown`);
    assert.equal(m.decryptOnlyAt === null, m.state === 'encryption/decryption', `MEK ${m.id}: a decrypt-only time exactly when decryption-only`);
  }
});

Then('the KMS status shows exactly {int} MEK(s) in state {string} and {int} in state {string}', async function (this: CryptgateWorld, a: number, sa: string, b: number, sb: string) {
  const st = await k(this).status();
  const count = (state: string): number => st.meks.filter((m) => m.state === state).length;
  this.observe({ [sa]: count(sa), [sb]: count(sb) });
  assert.equal(count(sa), a);
  assert.equal(count(sb), b);
});

Then('every decryption-only MEK moved to decrypt-only after it first became the encryption MEK', async function (this: CryptgateWorld) {
  const st = await k(this).status();
  const old = st.meks.filter((m) => m.state === 'decryption-only');
  assert.ok(old.length > 0, 'no decryption-only MEK to judge');
  for (const m of old) {
    this.observe({ mek: m.id, firstEncryptDecryptAt: m.firstEncryptDecryptAt, decryptOnlyAt: m.decryptOnlyAt });
    assert.ok(Date.parse(m.decryptOnlyAt!) >= Date.parse(m.firstEncryptDecryptAt!), `MEK ${m.id} went decrypt-only before it was ever the encryption MEK`);
  }
});

Then('the KMS status was checked on {string}', async function (this: CryptgateWorld, node: string) {
  const st = await k(this).status();
  this.observe({ checkedOn: st.checkedOn });
  assert.equal(st.checkedOn, node);
});

// ---------------------------------------------------------------- the key store (KMS-5, KMS-9, KMS-11)

Then('the key store is in {string} mode', function (this: CryptgateWorld, mode: string) {
  const st = k(this).storage();
  this.observe({ mode: st.mode, rmkWrappedBy: st.rmk.wrappedBy, evidence: 'keystore/kms.json' });
  assert.equal(st.mode, mode);
  assert.equal(st.rmk.wrappedBy, mode === 'aws' ? 'aws-kms' : 'local-keystore');
});

Then('the key store holds the RMK only as a ciphertext of the CMK, bound to its RMK id', function (this: CryptgateWorld) {
  const s = k(this);
  const st = s.storage();
  this.observe({ rmk: st.rmk.id, wrappedBy: st.rmk.wrappedBy, cmkArn: st.rmk.cmkArn, ciphertextBytes: st.rmk.wrappedBytes, encryptionContext: JSON.stringify(st.rmk.encryptionContext) });
  assert.equal(st.rmk.wrappedBy, 'aws-kms');
  assert.equal(st.rmk.cmkArn, s.cmk);
  assert.equal(st.cmkArn, s.cmk);
  // A 256-bit key is 32 bytes; a KMS ciphertext of it carries the key id, IV and tag besides.
  assert.ok(st.rmk.wrappedBytes > 32, `the stored RMK is ${st.rmk.wrappedBytes} bytes: not a CMK ciphertext`);
  assert.equal(st.rmk.encryptionContext?.['rmk-id'], st.rmk.id, 'the ciphertext is bound (encryption context) to the RMK id');
});

Then('the key store holds the RMK sealed by the local keystore, not by AWS KMS', async function (this: CryptgateWorld) {
  const ks = await k(this).keyStore();
  this.observe({ rmk: ks.storage.rmk.id, wrappedBy: ks.storage.rmk.wrappedBy, localRoot: ks.storage.rmk.localRootId });
  assert.equal(ks.storage.rmk.wrappedBy, 'local-keystore');
  assert.equal(ks.storage.rmk.cmkArn, null);
  assert.equal(ks.storage.rmk.localRootId, ks.localKeystore?.rootId);
});

Then('every MEK in the key store is wrapped under the RMK in use', function (this: CryptgateWorld) {
  const st = k(this).storage();
  this.observe({ rmk: st.rmk.id, meks: st.meks.length, wrappedUnder: [...new Set(st.meks.map((m) => m.rmkId))].join(',') });
  assert.ok(st.meks.length > 0);
  for (const m of st.meks) assert.equal(m.rmkId, st.rmk.id, `MEK ${m.id} is wrapped under RMK ${m.rmkId}`);
});

Then('the key store has exactly {int} encryption MEK(s) and {int} decryption-only MEK(s)', function (this: CryptgateWorld, enc: number, dec: number) {
  const st = k(this).storage();
  const e = st.meks.filter((m) => m.state === 'encryption/decryption');
  const d = st.meks.filter((m) => m.state === 'decryption-only');
  this.observe({ encryptionMeks: e.length, decryptionOnlyMeks: d.length });
  assert.equal(e.length, enc);
  assert.equal(d.length, dec);
  assert.equal(st.meks.length, enc + dec);
});

Then('the RMK in use is not the one before the command', function (this: CryptgateWorld) {
  const s = k(this);
  const now = s.storage().rmk.id;
  this.observe({ rmkBefore: s.last!.before.rmkId, rmkNow: now });
  assert.notEqual(now, s.last!.before.rmkId);
});

Then('{int} extract(s) is/are not yet under the encryption MEK', async function (this: CryptgateWorld, n: number) {
  const ks = await k(this).keyStore();
  this.observe({ extracts: ks.extracts.length, notUnderEncryptionMek: ks.notUnderEncryptionMek.length });
  assert.equal(ks.notUnderEncryptionMek.length, n);
});

Then('every extract is under the encryption MEK, and none under an MEK the key store does not hold', async function (this: CryptgateWorld) {
  const s = k(this);
  const ks = await s.keyStore();
  for (const [mek, n] of Object.entries(ks.extractsByMek)) this.observe({ mek, extracts: n });
  assert.equal(ks.extracts.length, s.extractsHere().length, 'every published extract has its file');
  assert.deepEqual(ks.notUnderEncryptionMek.map((x) => `${x.site}/${x.name} under ${x.mekId}`), []);
  assert.deepEqual(ks.underUnknownMek.map((x) => `${x.site}/${x.name} under ${x.mekId}`), []);
});

Then("the local keystore's secret file is readable by its owner only, unlike the extracts", async function (this: CryptgateWorld) {
  const s = k(this);
  const ks = await s.keyStore();
  const extractModes = ks.extracts.map((x) => (statSync(x.file).mode & 0o777).toString(8).padStart(4, '0'));
  this.observe({ secretFile: ks.secretFileMode, extractFiles: [...new Set(extractModes)].join(',') });
  assert.equal(ks.secretFileMode, '0600');
  assert.ok(extractModes.length > 0 && extractModes.every((m) => m !== '0600'), 'the extracts carry other permissions than the key material');
});

// ---------------------------------------------------------------- logs (KMS-7)

function nodeEvents(events: KmsLogEvent[], node: string, service: string): KmsLogEvent[] {
  return events.filter((e) => e.node === node && e.service === service);
}

/** The line was logged by `cls`: its logger class, whole or as its last dotted name. */
const loggedBy = (logger: string | undefined, cls: string): boolean => logger !== undefined && (logger === cls || logger.endsWith(`.${cls}`));

async function logSays(world: CryptgateWorld, nodes: string[], service: string, message: string, cls: string, after?: Map<string, number>): Promise<void> {
  const s = k(world);
  const want = await s.expand(message);
  const { events } = await s.logs();
  for (const node of nodes) {
    const hits = nodeEvents(events, node, service).filter((e) => e.message === want && (after === undefined || e.line > (after.get(e.file) ?? 0)));
    const proven = hits.find((e) => loggedBy(e.cls, cls));
    assert.ok(proven, `${node}'s ${service} log has no "${want}" from ${cls}${hits.length ? ' (the message is there, from another class)' : ''}`);
    world.observe({ node, service, class: cls, kind: proven.kind, line: `${s.relative(proven.file)}:${proven.line}` });
  }
}

Then("every node's {word} log says {string} from {word}", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, service: string, message: string, cls: string) {
  await logSays(this, k(this).cluster().nodes, service, message, cls);
});

Then("every node's {word} log says {string} from {word} again after the rotation", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, service: string, message: string, cls: string) {
  const mark = k(this).marks.get('the rotation');
  assert.ok(mark, 'the CMK was not rotated in this scenario');
  await logSays(this, k(this).cluster().nodes, service, message, cls, mark.logLines);
});

Then('the {word} log of {word} says {string} from {word}', async function (this: CryptgateWorld, service: string, node: string, message: string, cls: string) {
  await logSays(this, [node], service, message, cls);
});

/**
 * Finds, in one node's service log (`<service>_<node>-0.log`), a Java line at `level` whose
 * message is (or starts with) `text` expanded, from the logger class `cls` when given. Raw
 * lines: the reader in src/evidence keeps only KMS events, and TSM's warnings are not.
 */
async function javaLogHas(world: CryptgateWorld, o: { service: string; node: string; level: string; text: string; startsWith?: boolean; cls?: string }): Promise<void> {
  const s = k(world);
  const file = join(s.cluster().dir, 'logs', o.node, `${o.service}_${o.node}-0.log`);
  const want = await s.expand(o.text);
  let hit: number | undefined;
  for await (const l of readLines(file)) {
    const j = parseJavaLine(l.text);
    if (j?.level === o.level && (o.startsWith ? j.message.startsWith(want) : j.message === want) && (o.cls === undefined || loggedBy(j.cls, o.cls))) {
      hit = l.number;
      break;
    }
  }
  assert.ok(hit !== undefined, `${s.relative(file)} has no ${o.level}${o.startsWith ? ' starting' : ''} "${want}"${o.cls === undefined ? '' : ` from ${o.cls}`}`);
  world.observe({ node: o.node, service: o.service, ...(o.cls === undefined ? { level: o.level } : { class: o.cls }), line: `${s.relative(file)}:${hit}` });
}

Then('the {word} log of {word} records {string} from {word}', async function (this: CryptgateWorld, service: string, node: string, text: string, cls: string) {
  await javaLogHas(this, { service, node, level: 'INFO', text, cls });
});

Then('the {word} log of {word} warns {string}', async function (this: CryptgateWorld, service: string, node: string, text: string) {
  await javaLogHas(this, { service, node, level: 'WARN', text });
});

Then('the {word} log of {word} has an error starting with {string}', async function (this: CryptgateWorld, service: string, node: string, text: string) {
  await javaLogHas(this, { service, node, level: 'ERROR', text, startsWith: true });
});

async function cmkErrors(world: CryptgateWorld, nodes: string[], service: string, start: string, code: string): Promise<void> {
  const s = k(world);
  const want = await s.expand(start);
  const { events } = await s.logs();
  for (const node of nodes) {
    const errs = nodeEvents(events, node, service).filter((e) => e.kind === 'cmk-error');
    const hit = errs.find((e) => e.errorCode === code && e.message.startsWith(want));
    assert.ok(hit, `${node}'s ${service} log has no ${code} error starting "${want}"; it has: ${errs.map((e) => `${e.errorCode}: ${e.message}`).join(' | ') || 'none'}`);
    world.observe({ node, service, errorCode: hit.errorCode, line: `${s.relative(hit.file)}:${hit.line}` });
    const failed = nodeEvents(events, node, service).some((e) => e.kind === 'service-failed' && e.line > hit.line);
    assert.ok(failed, `${node}'s ${service} log does not say the service failed to start after the error`);
  }
}

Then("every node's {word} log has an error starting with {string} and AWS error code {string}", async function (this: CryptgateWorld, service: string, start: string, code: string) {
  await cmkErrors(this, k(this).cluster().nodes, service, start, code);
});

Then("{word}'s {word} log has an error starting with {string} and AWS error code {string}", async function (this: CryptgateWorld, node: string, service: string, start: string, code: string) {
  await cmkErrors(this, [node], service, start, code);
});

Then("every node's native vizqlserver log records kms-storage-open with the RMK in use and the CMK", async function (this: CryptgateWorld) {
  const s = k(this);
  const rmk = s.storage().rmk.id;
  const { events } = await s.logs();
  for (const node of s.cluster().nodes) {
    const hit = events.find((e) => e.node === node && /nativeapi_/.test(e.file) && e.kind === 'rmk-in-use' && e.rmkId === rmk && e.cmkArn === s.cmk);
    assert.ok(hit, `${node}'s native vizqlserver log has no kms-storage-open for RMK ${rmk} and CMK ${s.cmk}`);
    this.observe({ node, k: 'kms-storage-open', rmk, line: `${s.relative(hit.file)}:${hit.line}` });
  }
});

Then('the backgrounder logs show each extract encrypted on publish with the MEK its file names', async function (this: CryptgateWorld) {
  const s = k(this);
  const ks = await s.keyStore();
  const { events } = await s.logs();
  assert.ok(ks.extracts.length > 0, 'no extract to judge');
  for (const x of ks.extracts) {
    const hit = events.find((e) => e.service === 'backgrounder' && e.kind === 'extract-encrypted' && e.extractId === x.extractId);
    assert.ok(hit, `no backgrounder log line encrypting extract ${x.extractId} (${x.site}/${x.name})`);
    assert.equal(hit.mekId, x.mekId, `${x.site}/${x.name}: logged MEK ${hit.mekId}, the file names ${x.mekId}`);
    this.observe({ extract: `${x.site}/${x.name}`, mek: x.mekId, line: `${s.relative(hit.file)}:${hit.line}` });
  }
});

Then('the backgrounder logs show every extract re-encrypted from a decryption-only MEK to the encryption MEK', async function (this: CryptgateWorld) {
  const s = k(this);
  const ks = await s.keyStore();
  const enc = ks.storage.meks.find((m) => m.state === 'encryption/decryption')!.id;
  const old = new Set(ks.storage.meks.filter((m) => m.state === 'decryption-only').map((m) => m.id));
  const { events } = await s.logs();
  assert.ok(ks.extracts.length > 0, 'no extract to judge');
  for (const x of ks.extracts) {
    const hit = events.find((e) => e.service === 'backgrounder' && e.kind === 'extract-reencrypted' && e.extractId === x.extractId && e.mekId === enc);
    assert.ok(hit, `no backgrounder log line re-encrypting ${x.site}/${x.name} (${x.extractId}) to MEK ${enc}`);
    assert.ok(old.has(hit.fromMekId!), `${x.site}/${x.name} was re-encrypted from MEK ${hit.fromMekId}, which is not a decryption-only MEK of the key store`);
    this.observe({ extract: `${x.site}/${x.name}`, from: hit.fromMekId, to: enc, line: `${s.relative(hit.file)}:${hit.line}` });
  }
});

Then('every re-encryption job finished with SUCCESS', async function (this: CryptgateWorld) {
  const s = k(this);
  const { events } = await s.logs();
  const started = events.filter((e) => e.kind === 'reencrypt-job-started');
  assert.ok(started.length > 0, 'no ReencryptExtracts job in the backgrounder logs');
  for (const j of started) {
    const fin = events.find((e) => e.kind === 'reencrypt-job-finished' && e.jobId === j.jobId);
    assert.ok(fin, `job ${j.jobId} never finished`);
    this.observe({ job: j.jobId, site: j.site ?? null, result: fin.result });
    assert.equal(fin.result, 'SUCCESS', `job ${j.jobId}: ${fin.message}`);
  }
});

// ---------------------------------------------------------------- tsm status -v (KMS-8)

Then('the server status is {string}', function (this: CryptgateWorld, overall: string) {
  const st = k(this).tsmStatus();
  this.observe({ server: st.overall, evidence: k(this).relative(k(this).lastTsmStatus!) });
  assert.equal(st.overall, overall);
});

function services(world: CryptgateWorld, node: string): Map<string, { state: string; detail: string | null }> {
  const st = k(world).tsmStatus();
  const n = st.nodes.get(node);
  assert.ok(n, `no ${node} in tsm status -v`);
  return n.services;
}

Then('on {word} the services {string} are in an error state and the others are running', function (this: CryptgateWorld, node: string, list: string) {
  const bad = list.split(/, | and /).map((x) => x.trim());
  for (const name of bad) assert.ok(Object.hasOwn(SERVICE_TITLES, name), `service "${name}": expected one of ${Object.keys(SERVICE_TITLES).join(', ')}`);
  const svc = services(this, node);
  for (const [name, title] of Object.entries(SERVICE_TITLES)) {
    const st = svc.get(title);
    assert.ok(st, `${node}: no line for ${title}`);
    assert.equal(st.state, bad.includes(name) ? 'error' : 'running', `${node}: ${title} is ${st.state}${st.detail ? ` (${st.detail})` : ''}`);
    if (st.state === 'error') this.observe({ node, service: name, state: st.state, why: st.detail });
  }
});

function assertEveryServiceRunning(world: CryptgateWorld, node: string): void {
  const svc = services(world, node);
  for (const title of Object.values(SERVICE_TITLES)) assert.equal(svc.get(title)?.state, 'running', `${node}: ${title} is ${svc.get(title)?.state}`);
  world.observe({ node, services: svc.size, state: 'running' });
}

Then('on {word} every service is running', function (this: CryptgateWorld, node: string) {
  assertEveryServiceRunning(this, node);
});

Then('every service on every node is running', function (this: CryptgateWorld) {
  assert.equal(k(this).tsmStatus().overall, 'RUNNING');
  for (const node of k(this).cluster().nodes) assertEveryServiceRunning(this, node);
});

Then("every node's KMS services are in an error state", function (this: CryptgateWorld) {
  for (const node of k(this).cluster().nodes) {
    const svc = services(this, node);
    for (const name of KMS_SERVICES) {
      const st = svc.get(SERVICE_TITLES[name]);
      assert.equal(st?.state, 'error', `${node}: ${name} is ${st?.state}`);
      this.observe({ node, service: name, state: st.state });
    }
  }
});

// ---------------------------------------------------------------- extracts

Then('every extract opens with the content it was published with', { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  const s = k(this);
  const here = s.extractsHere();
  assert.ok(here.length > 0, 'no published extract on this cluster');
  for (const p of here) {
    const out = `opened/${String(s.nextNumber()).padStart(2, '0')}-${s.cluster().name}-${p.site}-${p.name}.bin`;
    const t = await s.run(`tabcmd open ${p.site} ${p.name} --out ${out}`);
    assert.equal(t.exitCode, 0, `${t.command}: ${t.error}`);
    const got = sha256FileSync(join(s.dir, out));
    this.observe({ extract: `${p.site}/${p.name}`, bytes: p.bytes, sha256: got, evidence: s.relative(join(s.dir, out)) });
    assert.equal(got, p.sha256, `${p.site}/${p.name} opened to other content than was published`);
  }
});

function windows(source: string): Buffer[] {
  const data = readFileSync(source);
  const w = Math.min(48, data.length);
  return [0, Math.floor(data.length / 2), data.length - w].map((o) => data.subarray(o, o + w)).filter((b) => b.length >= 16);
}

Then('no extract file holds its content in plaintext', async function (this: CryptgateWorld) {
  const s = k(this);
  const ks = await s.keyStore();
  for (const x of ks.extracts) {
    const p = s.published.get(`${x.site}/${x.name}`);
    assert.ok(p, `${x.site}/${x.name} was not published in this scenario`);
    const data = readFileSync(x.file);
    for (const w of windows(p.source)) assert.equal(data.indexOf(w), -1, `${s.relative(x.file)} holds its content in plaintext`);
    this.observe({ extract: `${x.site}/${x.name}`, fileBytes: x.fileBytes, cipher: x.cipher, mek: x.mekId });
  }
});

// ---------------------------------------------------------------- backup (KMS-10) and restore (KMS-11)

Then("the backup holds the key store's RMK only as a ciphertext of the CMK, and every MEK of the key store", async function (this: CryptgateWorld) {
  const s = k(this);
  const b = await s.backupEvidence();
  const st = s.storage();
  this.observe({ backup: b.backupId, rmk: b.storage.rmk.id, wrappedBy: b.storage.rmk.wrappedBy, ciphertextBytes: b.storage.rmk.wrappedBytes, meks: b.storage.meks.length, evidence: s.relative(s.lastBackup!) });
  assert.equal(b.storage.rmk.id, st.rmk.id);
  assert.equal(b.storage.rmk.wrappedBy, 'aws-kms');
  assert.equal(b.storage.rmk.cmkArn, s.cmk);
  assert.ok(b.storage.rmk.wrappedBytes > 32);
  assert.deepEqual(b.storage.meks.map((m) => [m.id, m.state, m.rmkId]), st.meks.map((m) => [m.id, m.state, m.rmkId]));
});

Then('the backup holds every extract', async function (this: CryptgateWorld) {
  const s = k(this);
  const b = await s.backupEvidence();
  const ks = await s.keyStore();
  const inBackup = b.extracts.map((x) => `${x.site}/${x.name}:${x.size}`).sort();
  const onDisk = ks.extracts.map((x) => `${x.site}/${x.name}:${x.fileBytes}`).sort();
  this.observe({ extractsInBackup: inBackup.length });
  assert.deepEqual(inBackup, onDisk);
});

Then('no key the cluster used appears in plaintext in {word} {word}', function (this: CryptgateWorld, _the: string, what: string) {
  const s = k(this);
  const files = what === 'backup' ? [s.lastBackup!] : what === 'logs' ? s.files(join(s.cluster().dir, 'logs')) : s.files();
  assert.ok(s.keys.length > 0, 'no key was observed: nothing to look for');
  const hits = plaintextKeyHits(files, s.keys);
  this.observe({ scanned: what, files: files.length, keys: s.keys.length, kinds: [...new Set(s.keys.map((x) => x.kind))].join(','), hits: hits.length });
  assert.deepEqual(hits.map((h) => `${s.relative(h.file)}: ${h.kind} ${h.id} (${h.encoding})`), []);
});

Then("no extract's content appears in plaintext in the backup", function (this: CryptgateWorld) {
  const s = k(this);
  const data = readFileSync(s.lastBackup!);
  for (const p of s.published.values()) {
    for (const w of windows(p.source)) assert.equal(data.indexOf(w), -1, `the backup holds ${p.site}/${p.name} in plaintext`);
  }
  this.observe({ backupBytes: data.length, extractsChecked: s.published.size });
});

Then("the RMK in use is new: neither the backup's RMK nor the one before the restore", async function (this: CryptgateWorld) {
  const s = k(this);
  const b = await s.backupEvidence();
  const now = s.storage().rmk.id;
  this.observe({ rmkNow: now, backupRmk: b.storage.rmk.id, rmkBefore: s.last!.before.rmkId });
  assert.notEqual(now, b.storage.rmk.id, 'the backup\'s RMK was migrated');
  assert.notEqual(now, s.last!.before.rmkId);
});

Then('every MEK of the backup is in the key store as decryption-only, imported from the backup', async function (this: CryptgateWorld) {
  const s = k(this);
  const b = await s.backupEvidence();
  const st = s.storage();
  assert.ok(b.storage.meks.length > 0);
  for (const m of b.storage.meks) {
    const here = st.meks.find((x) => x.id === m.id);
    assert.ok(here, `MEK ${m.id} of the backup is not in the key store`);
    this.observe({ mek: m.id, inBackup: m.state, now: here.state, importedFrom: here.importedFrom, wrappedUnder: here.rmkId });
    assert.equal(here.state, 'decryption-only');
    assert.equal(here.importedFrom, b.backupId);
    assert.equal(here.rmkId, st.rmk.id, 're-wrapped under the new RMK');
    assert.equal(here.createdAt, m.createdAt, 'its creation time is kept');
  }
});

Then('the one encryption MEK is a new one, not from the backup', async function (this: CryptgateWorld) {
  const s = k(this);
  const b = await s.backupEvidence();
  const enc = s.storage().meks.filter((m) => m.state === 'encryption/decryption');
  this.observe({ encryptionMeks: enc.length, mek: enc[0]?.id ?? null });
  assert.equal(enc.length, 1);
  assert.ok(!b.storage.meks.some((m) => m.id === enc[0]!.id));
  assert.equal(enc[0]!.importedFrom, null);
});

// ---------------------------------------------------------------- least privilege (KMS-3)

function rolePolicyFile(world: CryptgateWorld, node: string): { file: string; doc: { PolicyDocument: unknown } } {
  const s = k(world);
  const file = s.path('iam', `${s.roleOf(node)}.json`);
  return { file, doc: JSON.parse(readFileSync(file, 'utf8')) as { PolicyDocument: unknown } };
}

Then("each node's instance role policy allows exactly kms:GenerateDataKey and kms:Decrypt on the CMK", function (this: CryptgateWorld) {
  const s = k(this);
  for (const node of s.cluster().nodes) {
    const { file, doc } = rolePolicyFile(this, node);
    const allows = identityGrants(doc.PolicyDocument, s.cmk, file, '/PolicyDocument');
    this.observe({ node, role: s.roleOf(node), allows: allows.join(','), evidence: s.relative(file) });
    assert.deepEqual(allows, ['kms:Decrypt', 'kms:GenerateDataKey']);
  }
});

Then("{word}'s instance role policy does not allow {word}", function (this: CryptgateWorld, node: string, action: string) {
  const s = k(this);
  const { file, doc } = rolePolicyFile(this, node);
  const allows = identityGrants(doc.PolicyDocument, s.cmk, file, '/PolicyDocument');
  this.observe({ node, role: s.roleOf(node), allows: allows.join(',') || 'nothing', evidence: s.relative(file) });
  assert.ok(!allows.includes(action), `${s.roleOf(node)} allows ${action}`);
});

Then("the key policy grants each node's role exactly kms:GenerateDataKey and kms:Decrypt", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld) {
  const s = k(this);
  const file = await s.exportKeyPolicy();
  const policy = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  const account = s.cmk.split(':')[4]!;
  for (const node of s.cluster().nodes) {
    const arn = `arn:aws:iam::${account}:role/${s.roleOf(node)}`;
    const grants = keyPolicyGrants(policy, arn, s.cmk, file);
    this.observe({ node, principal: arn, grants: grants.join(','), evidence: s.relative(file) });
    assert.deepEqual(grants, ['kms:Decrypt', 'kms:GenerateDataKey']);
  }
});

// ---------------------------------------------------------------- KMS requests (counted at the KMS)

Then('the command made no KMS request', function (this: CryptgateWorld) {
  const s = k(this);
  const r = s.lastRequests();
  this.observe({ command: r.command, kmsRequests: r.total, evidence: s.relative(s.last!.requests!) });
  assert.equal(r.total, 0, `requests: ${JSON.stringify(r.byOperation)}`);
});

Then('the command made exactly these KMS requests:', function (this: CryptgateWorld, table: DataTable) {
  const s = k(this);
  const r = s.lastRequests();
  const seen: Record<string, number> = {};
  for (const [principal, ops] of Object.entries(r.byPrincipal)) {
    const role = /:assumed-role\/([^/]+)\//.exec(principal)?.[1] ?? principal;
    for (const [op, n] of Object.entries(ops)) seen[`${role} ${op}`] = (seen[`${role} ${op}`] ?? 0) + n;
  }
  const want: Record<string, number> = {};
  for (const row of table.hashes()) want[`${s.roleOf(row.node!)} ${row.operation}`] = Number(row.requests);
  for (const [key, n] of Object.entries(seen)) this.observe({ caller: key.split(' ')[0], operation: key.split(' ')[1], requests: n });
  this.observe({ evidence: s.relative(s.last!.requests!) });
  assert.deepEqual(seen, want);
});

// ---------------------------------------------------------------- rotation (KMS-9)

Then("the CMK's rotation history lists {int} on-demand rotation(s)", { timeout: STEP_TIMEOUT }, async function (this: CryptgateWorld, n: number) {
  const s = k(this);
  const unmet = unmetRequirements(['@needs-list-key-rotations'], s.facts);
  if (unmet.length > 0) return markNotReproducible(this, unmet);
  const file = await s.exportRotations();
  const rotations = (JSON.parse(readFileSync(file, 'utf8')) as { Rotations: { RotationType?: string }[] }).Rotations;
  const onDemand = rotations.filter((r) => r.RotationType === 'ON_DEMAND').length;
  this.observe({ onDemandRotations: onDemand, evidence: s.relative(file) });
  assert.equal(onDemand, n);
  return undefined;
});
