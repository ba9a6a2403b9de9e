// `cryptgate render <report.json>`: one audit or check, many audiences. A JSON report (the
// one `check` or `audit` wrote, signed or not) is read, validated against the shipped schema
// and written again as text, HTML, SARIF, JUnit or JSON, so a CI job audits its evidence
// once (hashing gigabytes of captures once) instead of once per report format.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseJsonText } from '../evidence/json-doc.js';
import { REPORT_SCHEMA_ID, type Report } from '../report/model.js';
import { reportProblems } from '../report/validate.js';
import { REPORT_FORMATS, type ReportFormat } from '../report/write.js';
import { EXIT_PASS, fsReason, InputError } from '../util/errors.js';
import { emitReport } from './emit-report.js';
import type { CommandResult } from './main.js';

interface RenderOptions {
  format: ReportFormat;
  out?: string;
  color?: boolean;
}

export function registerRenderCommand(program: Command, result: CommandResult): void {
  program
    .command('render')
    .description('write a JSON report (from check or audit) again in another format')
    .argument('<report>', `a ${REPORT_SCHEMA_ID} JSON report, as \`--format json --out <report>\` wrote it`)
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).default('text'))
    .option('--out <file>', 'write the report here (atomically) instead of stdout')
    .option('--no-color', 'no colour in the text report (also: NO_COLOR=1)')
    .addHelpText(
      'after',
      `
The report is validated against the shipped schema first; nothing is judged again, so the
verdict, findings and input hashes are the audit's own.

Exit codes: 0 written (whatever the report's verdict: the gate is the audit's exit code),
2 the file is not a valid ${REPORT_SCHEMA_ID} report (the message names the place).

Examples:
  cryptgate audit evidence/ --format json --out audit.json; gate=$?
  cryptgate render audit.json --format html --out audit.html
  cryptgate render audit.json --format sarif --out audit.sarif`,
    )
    .action((file: string, opts: RenderOptions) => {
      emitReport(readReport(file), opts);
      result.exitCode = EXIT_PASS;
    });
}

/** Reads and validates a JSON report; every problem is an InputError naming the file and the place. */
export function readReport(file: string): Report {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(`${file}: cannot read the report: ${fsReason(err)}`);
  }
  const report = parseJsonText(text, file);
  const problems = reportProblems(report);
  if (problems.length > 0) {
    throw new InputError(`${file}: not a valid ${REPORT_SCHEMA_ID} report (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return report as Report;
}
