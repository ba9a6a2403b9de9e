// Audit parity (issue 5's "done means"): after a KMS or simulated-IPsec scenario has passed its
// own steps, `cryptgate audit` runs in-process on the evidence folder it left and must give the
// verdicts its @audit tags declare (src/audit/parity.ts): the behaviours it demonstrates
// violated fail, every other one passes or has no evidence, and something is judged unless the
// scenario says @audit:none. A disagreement fails the scenario, naming the behaviour, what was
// expected, what the audit said and the audit's findings; the audit's per-behaviour results are
// attached as observed facts either way. The Before hook checks the tags first: a malformed
// one, an @audit:none without its reason comment, or a scenario with no folder of its own and
// no @audit:none fails before anything runs.
import { dirname, relative } from 'node:path';
import { After, Before, type ITestCaseHookParameter } from '@cucumber/cucumber';
import { behaviourVerdicts } from '../src/audit/audit-checks.js';
import { compareWithAudit, mismatchMessage, parseAuditTags, reasonAbove, type AuditExpectation } from '../src/audit/parity.js';
import { runAudit } from '../src/audit/run-audit.js';
import { DEFAULT_POLICY, loadPolicy } from '../src/compliance/policy.js';
import { InputError } from '../src/util/errors.js';
import type { CryptgateWorld } from './world.js';

const expectations = new WeakMap<object, AuditExpectation>();

/** Scenarios that leave an evidence folder of their own (the others must say @audit:none, and why). */
const OWN_FOLDER_TAGS = ['@kms', '@simulated-wire'];

type GherkinDocument = ITestCaseHookParameter['gherkinDocument'];

/** The line of the tag with this AST id (feature, rule, scenario or examples tags). */
function tagLine(doc: GherkinDocument, astNodeId: string): number | undefined {
  type Tagged = { tags: readonly { id: string; location: { line: number } }[] };
  const found = (t: Tagged | undefined): number | undefined => t?.tags.find((x) => x.id === astNodeId)?.location.line;
  const feature = doc.feature;
  if (!feature) return undefined;
  const scan = (children: readonly { scenario?: (Tagged & { examples: readonly Tagged[] }) | undefined; rule?: (Tagged & { children: readonly unknown[] }) | undefined }[]): number | undefined => {
    for (const c of children) {
      const line = found(c.scenario) ?? c.scenario?.examples.map(found).find((l) => l !== undefined) ?? found(c.rule) ?? (c.rule ? scan(c.rule.children as typeof children) : undefined);
      if (line !== undefined) return line;
    }
    return undefined;
  };
  return found(feature) ?? scan(feature.children);
}

Before(function (this: CryptgateWorld, { pickle, gherkinDocument }) {
  const where = `${pickle.uri}: scenario "${pickle.name}"`;
  let expectation: AuditExpectation;
  try {
    expectation = parseAuditTags(pickle.tags.map((t) => t.name));
  } catch (err) {
    throw new InputError(`${where}: ${(err as Error).message}`);
  }
  const ownFolder = pickle.tags.some((t) => OWN_FOLDER_TAGS.includes(t.name));
  if (expectation.none) {
    const tag = pickle.tags.find((t) => t.name === '@audit:none')!;
    const line = tagLine(gherkinDocument, tag.astNodeId);
    const reason = line === undefined ? null : reasonAbove(gherkinDocument.comments.map((c) => ({ line: c.location.line, text: c.text })), line);
    if (!reason) throw new InputError(`${pickle.uri}:${line ?? '?'}: @audit:none needs its reason in a comment line right above the tag`);
    this.observe({ audit: 'none', reason });
  } else if (!ownFolder) {
    throw new InputError(`${where}: it leaves no evidence folder of its own for \`cryptgate audit\`: tag it @audit:none, with a comment above the tag saying why`);
  }
  expectations.set(this, expectation);
});

/** The folder the scenario left and the compliance policy file written next to it (IPsec), if any. */
function evidenceOf(world: CryptgateWorld): { folder: string; policyFile?: string } | undefined {
  if (world.kmsScenario) return { folder: world.kmsScenario.dir };
  const r = world.ipsecScenario?.result;
  return r ? { folder: r.dir, policyFile: r.complianceFile } : undefined;
}

After({ timeout: 120_000 }, async function (this: CryptgateWorld, { result }) {
  const expectation = expectations.get(this);
  if (!expectation) return;
  if (result?.status !== 'PASSED') {
    this.observe({ auditParity: `not run: the scenario's own steps ended ${String(result?.status ?? 'unknown').toLowerCase()}` });
    return;
  }
  const target = evidenceOf(this);
  if (!target) {
    // @audit:none on a scenario without a folder of its own (the Before hook made sure of that pairing).
    if (expectation.none) return;
    throw new Error('the scenario passed but left no evidence folder for `cryptgate audit` to read');
  }
  const root = dirname(this.parameters.evidenceDir);
  const command = `cryptgate audit ${relative(root, target.folder)}${target.policyFile ? ` --policy ${relative(root, target.policyFile)}` : ''}`;
  const policy = target.policyFile ? loadPolicy(target.policyFile) : DEFAULT_POLICY;
  const audit = await runAudit({ folder: target.folder, policy, hash: false });
  const results = behaviourVerdicts(audit.checks);
  const mismatches = compareWithAudit(expectation, results, audit.checks);
  this.observe({
    auditParity: mismatches.length === 0 ? 'agrees' : 'disagrees',
    audit: command,
    expected: expectation.none ? 'no evidence for any behaviour' : [...expectation.results].map(([id, want]) => `${id} ${want}`).join(', ') || 'no behaviour fails',
    auditResults: Object.fromEntries(results),
  });
  if (mismatches.length > 0) throw new Error(mismatchMessage(command, mismatches));
});
