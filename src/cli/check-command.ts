// `cryptgate check capture <file…>`: judge packet captures of one cluster.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { judgeCaptures } from '../compliance/capture-judge.js';
import { NodeSet } from '../compliance/node-set.js';
import { DEFAULT_POLICY, loadPolicy, type Policy } from '../compliance/policy.js';
import { isGzip } from '../evidence/text-source.js';
import { newReport } from '../report/model.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/write.js';
import { EXIT_BAD_INPUT, EXIT_FAIL, EXIT_PASS, InputError } from '../util/errors.js';
import { progressBar } from './progress.js';
import type { CommandResult } from './main.js';
import { emitReport } from './emit-report.js';

interface CheckCaptureOptions {
  nodes?: string;
  policy?: string;
  format: ReportFormat;
  out?: string;
  allowTruncated?: boolean;
  color?: boolean;
  hash?: boolean;
}

export function registerCheckCommand(program: Command, result: CommandResult): void {
  const check = program.command('check').description('judge evidence files from a real (or simulated) cluster');
  check
    .command('capture')
    .description('judge pcap/pcapng captures (gzip allowed): ESP-only between nodes, no ESP-NULL, no AH-only, IKE strength')
    .argument('<file...>', 'capture files of one cluster (e.g. one per node): judged together as one verdict')
    .option('--nodes <list>', 'node addresses: comma-separated IPs or CIDRs (IPv4/IPv6); overrides the policy file\'s nodes')
    .option('--policy <file>', 'policy file (YAML or JSON): nodes, allowed IKE algorithms, service ports, waivers')
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).default('text'))
    .option('--out <file>', 'write the report to this file (atomically) instead of standard output')
    .option('--allow-truncated', 'judge a capture cut short mid-record on its complete records (the report says the evidence is incomplete)')
    .option('--no-color', 'no colour in the text report (also: NO_COLOR=1)')
    .option('--no-hash', 'do not compute the inputs\' SHA-256 (faster on huge files; the report then has no digest)')
    .addHelpText(
      'after',
      `
What is judged (check ids):
  ipsec.esp-only      every clear-text flow between nodes, with pair, protocol, port, service,
                      packets, bytes and first/last seen (IPSEC-5); non-node traffic is info
  ipsec.no-esp-null   ESP flows that carry clear text behind an integrity check (IPSEC-4)
  ipsec.no-ah-only    AH without ESP between nodes (IPSEC-4)
  ipsec.ike-policy    each negotiated IKE SA against the policy: AES-CBC-256 or AES-GCM-256,
                      SHA-256 or stronger, DH group >= 14 and not 22-24 by default (IPSEC-3)
  capture.evidence    what was read, and what could not be (truncation, snaplen cuts)

Exit codes: 0 pass, 1 a check failed, 2 bad input (or no traffic between the nodes), 3 environment.

Examples:
  cryptgate check capture switch.pcapng --nodes 10.0.0.11,10.0.0.12,10.0.0.13
  cryptgate check capture n1.pcap.gz n2.pcap.gz --policy cluster.yaml --format junit --out ipsec.xml`,
    )
    .action(async (files: string[], opts: CheckCaptureOptions) => {
      result.exitCode = await checkCapture(files, opts);
    });
}

async function checkCapture(files: string[], opts: CheckCaptureOptions): Promise<number> {
  const policy: Policy = opts.policy ? loadPolicy(opts.policy) : DEFAULT_POLICY;
  const nodeList = opts.nodes !== undefined ? opts.nodes.split(',') : policy.nodes;
  if (nodeList.length === 0) {
    throw new InputError('no node addresses: pass --nodes 10.0.0.11,10.0.0.12 (or a CIDR), or list nodes in the --policy file');
  }
  const nodes = new NodeSet(nodeList, opts.nodes !== undefined ? '--nodes' : `${opts.policy}: nodes`);
  const progress = progressBar((file) => (isGzipFile(file) ? undefined : statSync(file).size));
  let judgement;
  try {
    judgement = await judgeCaptures({
      files,
      nodes,
      policy,
      allowTruncated: opts.allowTruncated ?? false,
      hash: opts.hash !== false,
      onProgress: (file, bytes) => progress.update(file, bytes),
    });
  } finally {
    progress.done();
  }
  const report = newReport({
    checks: judgement.checks,
    inputs: judgement.inputs,
    judged: !judgement.inconclusive,
    context: { command: 'check capture', nodes: nodes.entries, policy: opts.policy ?? 'built-in default' },
  });
  emitReport(report, opts);
  if (judgement.inconclusive) {
    process.stderr.write(`cryptgate: no traffic between the listed nodes (${nodes.entries.join(', ')}) in ${files.join(', ')}: nothing to judge; check --nodes and where the capture was taken\n`);
    return EXIT_BAD_INPUT;
  }
  return report.verdict === 'pass' ? EXIT_PASS : EXIT_FAIL;
}

/** Is the file gzip (its progress then has no known total)? A file that cannot be read is not; the judge says why. */
function isGzipFile(file: string): boolean {
  try {
    const fd = openSync(file, 'r');
    try {
      const head = Buffer.alloc(3);
      return isGzip(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
