// `cryptgate run`: the full Gherkin suite against the simulated cluster and a KMS backend.
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { renderReport, writeReportFile } from '../report/write.js';
import { EXIT_FAIL, EXIT_PASS } from '../util/errors.js';
import type { CommandResult } from './main.js';
import { colorWanted } from './color.js';

interface RunCommandOptions {
  kms: string;
  tags?: string;
  reportDir: string;
  color?: boolean;
}

export function registerRunCommand(program: Command, result: CommandResult): void {
  program
    .command('run')
    .description('run the Gherkin suite of documented behaviour and write compliance reports')
    .addOption(new Option('--kms <backend>', 'KMS backend: embedded, moto, localstack, or an endpoint URL').default('embedded'))
    .option('--tags <expression>', 'cucumber tag expression selecting scenarios, e.g. "@ipsec and not @slow"')
    .option('--report-dir <dir>', 'where reports and per-scenario evidence go', 'reports')
    .option('--no-color', 'no colour in the summary')
    .addHelpText(
      'after',
      `
Writes into --report-dir: cryptgate.json (one check per scenario with its behaviour ids),
cucumber.html, junit.xml, messages.ndjson, and evidence/ (what each scenario left).`,
    )
    .action(async (opts: RunCommandOptions) => {
      // Cucumber is heavy to load: only `run` pays for it.
      const { runSuite } = await import('../run/run-suite.js');
      const { report, reportDir } = await runSuite({ reportDir: opts.reportDir, tags: opts.tags, kms: opts.kms });
      writeReportFile(join(reportDir, 'cryptgate.json'), renderReport(report, 'json', { color: false }));
      process.stdout.write(`\n${renderReport(report, 'text', { color: colorWanted(opts.color, process.stdout) })}\n`);
      process.stdout.write(`Reports: ${reportDir}/{cryptgate.json,cucumber.html,junit.xml,messages.ndjson}\n`);
      result.exitCode = report.verdict === 'pass' ? EXIT_PASS : EXIT_FAIL;
    });
}
