// `cryptgate audit <folder>`: one report over an evidence folder from a real (or simulated)
// cluster, with every input hashed, every behaviour accounted for, a CI gate from the
// policy's failOn, and optionally a KMS signature that `cryptgate verify` checks.
import { Command, Option } from 'commander';
import { runAudit } from '../audit/run-audit.js';
import { evaluateGate } from '../compliance/gate.js';
import { NodeSet } from '../compliance/node-set.js';
import { DEFAULT_POLICY, loadPolicy, type Policy } from '../compliance/policy.js';
import { BACKEND_SPEC_HELP } from '../kms/backend-spec.js';
import { newReport } from '../report/model.js';
import { writeReportFile, REPORT_FORMATS, type ReportFormat } from '../report/write.js';
import { EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_FAIL, EXIT_PASS, InputError } from '../util/errors.js';
import { emitReport } from './emit-report.js';
import type { CommandResult } from './main.js';
import { progressBar } from './progress.js';

interface AuditCliOptions {
  policy?: string;
  nodes?: string;
  format: ReportFormat;
  out?: string;
  sign?: string;
  kms: string;
  kmsState?: string;
  region?: string;
  now?: string;
  allowTruncated?: boolean;
  hash?: boolean;
  color?: boolean;
}

export function registerAuditCommand(program: Command, result: CommandResult): void {
  program
    .command('audit')
    .description('judge a folder of evidence from a real cluster: captures, logs, kms status, IAM/key policies, Windows IPsec exports')
    .argument('<folder>', 'the evidence folder (files are recognised by content, in any sub-folder)')
    .option('--policy <file>', 'policy file (YAML or JSON): nodes, IKE algorithms, kms (cmkArn, roles, nodes), waivers, failOn')
    .option('--nodes <list>', "node addresses for the captures: comma-separated IPs or CIDRs (default: the policy's, else the IPsec exports')")
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).default('text'))
    .option('--out <file>', 'write the report to this file (atomically) instead of standard output')
    .option('--sign <key>', 'sign the report with this asymmetric KMS key (id or ARN; needs --out): writes <out>.sig.json')
    .addOption(new Option('--kms <backend>', `KMS for --sign: ${BACKEND_SPEC_HELP}`).default('embedded'))
    .option('--kms-state <dir>', "the embedded KMS's state folder (as `cryptgate kms serve --state <dir>`): where the signing key lives")
    .option('--region <region>', 'KMS region for --sign (default: the key ARN\'s, else $AWS_REGION, else us-east-1)')
    .option('--now <date>', 'judge waiver expiry as of this date (YYYY-MM-DD or ISO date-time; default: now)')
    .option('--allow-truncated', 'judge a capture cut short mid-record on its complete records')
    .option('--no-hash', "do not compute the inputs' SHA-256")
    .option('--no-color', 'no colour in the text report (also: NO_COLOR=1)')
    .addHelpText(
      'after',
      `
Evidence is recognised by content, not by name:
  pcap / pcapng (gzip too)                 ipsec.esp-only, no-esp-null, no-ah-only, ike-policy, capture.evidence
  Tableau Java and native JSON logs        kms.node-reach (KMS-8), kms.key-consistency (KMS-7)
    (rotated, .gz, CRLF, UTF-16)
  \`tsm security kms status\` output         kms.status (KMS-6), kms.key-consistency
  AWS exports: get-key-policy, describe-key, get-role-policy, get-account-authorization-details
                                           kms.least-privilege (KMS-3), kms.key-consistency
  PowerShell Get-NetIPsecRule / …CryptoSet / Phase1AuthSet (ConvertTo-Json), netsh advfirewall consec
                                           ipsec.rules, ipsec.main-mode, ipsec.quick-mode, ipsec.rule-coverage,
                                           ipsec.proposals-allowed (IPSEC-1..4)
A check with no evidence says skip with a "No evidence" finding; audit.coverage lists every
documented behaviour nothing in the folder speaks to; audit.evidence lists files it could not read.

Exit codes: 0 the gate passed (nothing at or above the policy's failOn failed), 1 it failed,
2 bad input (malformed evidence names file, line/offset and what was expected; or no usable
evidence at all), 3 environment (KMS unreachable when signing).

Examples:
  cryptgate audit evidence/ --policy cluster.yaml --format html --out audit.html
  cryptgate kms serve --state kms-state &      # or any KMS: --kms https://kms.eu-west-1.amazonaws.com
  cryptgate audit evidence/ --format json --out audit.json --sign <key-arn> --kms http://127.0.0.1:4566
  cryptgate verify audit.json --kms http://127.0.0.1:4566`,
    )
    .action(async (folder: string, opts: AuditCliOptions) => {
      result.exitCode = await audit(folder, opts);
    });
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T12:00:00Z` : text);
  if (Number.isNaN(d.getTime())) throw new InputError(`--now ${text}: expected a date YYYY-MM-DD or an ISO date-time`);
  return d;
}

async function audit(folder: string, opts: AuditCliOptions): Promise<number> {
  if (opts.sign !== undefined && opts.out === undefined) throw new InputError('--sign needs --out <file>: the signature is written beside the report file');
  const policy: Policy = opts.policy ? loadPolicy(opts.policy) : DEFAULT_POLICY;
  const nodes = opts.nodes !== undefined ? new NodeSet(opts.nodes.split(','), '--nodes') : undefined;
  const now = parseNow(opts.now);
  const progress = progressBar(() => undefined);
  let audited;
  try {
    audited = await runAudit({ folder, policy, nodes, now, hash: opts.hash !== false, allowTruncated: opts.allowTruncated ?? false, onProgress: (file, bytes) => progress.update(file, bytes) });
  } finally {
    progress.done();
  }
  const gate = evaluateGate(audited.checks, policy.failOn ?? 'low');
  const report = newReport({
    checks: audited.checks,
    inputs: audited.inputs,
    judged: audited.judgedAnything,
    context: {
      command: 'audit',
      folder,
      policy: opts.policy ?? 'built-in default',
      judgedAt: now.toISOString(),
      gate,
      ...audited.context,
    },
  });
  emitReport(report, opts);
  if (opts.sign !== undefined && opts.out !== undefined) {
    // Loaded only to sign: an audit without --sign should not pay for the AWS SDK.
    const [{ withKmsClient }, { signReport }] = await Promise.all([import('../kms/backend.js'), import('../audit/signature.js')]);
    const out = opts.out;
    const key = opts.sign;
    await withKmsClient(opts.kms, { keyId: key, region: opts.region, stateDir: opts.kmsState }, async (client, backend) => {
      const sig = await signReport(out, client, key, backend.description);
      const sigPath = `${out}.sig.json`;
      writeReportFile(sigPath, `${JSON.stringify(sig, null, 2)}\n`);
      process.stderr.write(`cryptgate: signed ${out} with ${sig.keyId} (${sig.signingAlgorithm}, ${backend.description}): ${sigPath}\n`);
    });
  }
  if (!audited.judgedAnything) {
    process.stderr.write(`cryptgate: nothing to judge in ${folder}: no recognised evidence (${audited.files.length} file(s) read; see audit.evidence in the report)\n`);
    return EXIT_BAD_INPUT;
  }
  const lapsed = gate.expiredWaivers ? `; ${gate.expiredWaivers} finding(s) count again because their waiver expired` : '';
  if (gate.result === 'error') {
    process.stderr.write('cryptgate: gate ERROR: a check could not be judged\n');
    return EXIT_ENVIRONMENT;
  }
  if (gate.result === 'fail') {
    process.stderr.write(`cryptgate: gate FAIL (failOn: ${gate.failOn}): ${gate.breaking} finding(s) at or above ${gate.failOn}${lapsed}; worst: [${gate.examples[0]!.severity}] ${gate.examples[0]!.check}: ${gate.examples[0]!.message.split('\n')[0]}\n`);
    return EXIT_FAIL;
  }
  if (report.verdict === 'fail') {
    process.stderr.write(`cryptgate: gate PASS (failOn: ${gate.failOn}): ${gate.belowThreshold} finding(s) below the threshold are reported but do not break the gate\n`);
  }
  return EXIT_PASS;
}
