// `cryptgate run`: the full Gherkin suite against the simulated cluster and a KMS backend.
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { renderReport, writeReportFile } from '../report/write.js';
import { renderConformance } from '../run/conformance.js';
import { BACKEND_SPEC_HELP, checkBackendSpec } from '../kms/backend-spec.js';
import { EXIT_BAD_INPUT, EXIT_ENVIRONMENT, EXIT_FAIL, EXIT_PASS, InputError } from '../util/errors.js';
import type { CommandResult } from './main.js';
import { colorWanted } from './color.js';
import { WIRE_MODES, type WireMode } from '../../simulators/live/wire-mode.js';

interface RunCommandOptions {
  kms: string;
  wire: WireMode;
  tags?: string;
  reportDir: string;
  color?: boolean;
}

export function registerRunCommand(program: Command, result: CommandResult): void {
  program
    .command('run')
    .description('run the Gherkin suite of documented behaviour and write compliance reports')
    .addOption(new Option('--kms <backend>', `KMS backend: ${BACKEND_SPEC_HELP}`).default('embedded'))
    .addOption(
      new Option('--wire <mode>', 'wire of the IPsec scenarios: simulated, or strongswan (real strongSwan in network namespaces; needs root, else falls back and says why)')
        .choices(WIRE_MODES)
        .default('simulated'),
    )
    .option('--tags <expression>', 'cucumber tag expression selecting scenarios, e.g. "@ipsec and not @slow"')
    .option('--report-dir <dir>', 'where reports and per-scenario evidence go', 'reports')
    .option('--no-color', 'no colour in the summary')
    .addHelpText(
      'after',
      `
Writes into --report-dir: cryptgate.json (one check per scenario with its behaviour ids),
cucumber.html, junit.xml, messages.ndjson, conformance.txt (KMS behaviour → pass, fail or
not reproducible on the --kms backend) and evidence/ (what each scenario left).

A scenario the KMS backend cannot reproduce (e.g. moto ignores disabled keys) is reported
as skipped with "not reproducible on <backend>: <why>", never as a pass. It does not fail
the run by itself; a run in which nothing could be judged does (exit 3), and so does a KMS
backend that cannot be started (exit 3).`,
    )
    .action(async (opts: RunCommandOptions) => {
      checkBackendSpec(opts.kms);
      if (opts.wire === 'strongswan') {
        const { liveWireAvailability } = await import('../../simulators/live/availability.js');
        const live = liveWireAvailability();
        if (!live.ok) process.stderr.write(`cryptgate: --wire strongswan: the live wire cannot run here (${live.why}); the IPsec scenarios run on the simulated wire\n`);
      }
      // Cucumber is heavy to load: only `run` pays for it.
      const { runSuite } = await import('../run/run-suite.js');
      const { report, reportDir, conformance, kmsFailure, nothingJudged } = await runSuite({ reportDir: opts.reportDir, tags: opts.tags, kms: opts.kms, wire: opts.wire });
      writeReportFile(join(reportDir, 'cryptgate.json'), renderReport(report, 'json', { color: false }));
      process.stdout.write(`\n${renderReport(report, 'text', { color: colorWanted(opts.color, process.stdout) })}\n`);
      const written = ['cryptgate.json', 'cucumber.html', 'junit.xml', 'messages.ndjson'];
      if (conformance) {
        const n = conformance.notReproducible.length;
        if (n > 0) process.stdout.write(`Not reproducible on KMS backend ${opts.kms}: ${n} scenario${n === 1 ? '' : 's'}, reported as skipped (never as passed); see the table.\n\n`);
        const table = renderConformance(conformance);
        writeReportFile(join(reportDir, 'conformance.txt'), table);
        process.stdout.write(`${table}\n`);
        written.push('conformance.txt');
      }
      process.stdout.write(`Reports: ${reportDir}/{${written.join(',')}}\n`);
      if (kmsFailure) {
        process.stderr.write(`cryptgate: KMS backend ${opts.kms} could not be started: ${kmsFailure.message}\n`);
        result.exitCode = kmsFailure instanceof InputError ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
      } else if (nothingJudged) {
        process.stderr.write(`cryptgate: nothing was judged: every selected scenario was skipped or is not reproducible here (KMS backend ${opts.kms})\n`);
        result.exitCode = EXIT_ENVIRONMENT;
      } else {
        result.exitCode = report.verdict === 'pass' ? EXIT_PASS : EXIT_FAIL;
      }
    });
}
