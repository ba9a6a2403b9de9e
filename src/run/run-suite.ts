// `cryptgate run`: the Gherkin suite through cucumber's programmatic API, writing
// cucumber's own html, junit and message reports plus the cryptgate compliance report
// built from the same message stream.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { REPORT_SCHEMA_ID, summarise, verdictOf, type Report } from '../report/model.js';
import { packageRoot, toolInfo } from '../util/package-info.js';
import { ScenarioReportBuilder, type Envelope } from './scenario-report.js';

export interface RunOptions {
  reportDir: string;
  tags?: string | undefined;
  kms: string;
  /** Where the scenarios leave their evidence (captures, logs, key stores). */
  evidenceDir?: string;
  /** Extra world parameters for the steps. */
  worldParameters?: Record<string, unknown>;
  stdout?: NodeJS.WritableStream;
}

export interface RunResult {
  report: Report;
  success: boolean;
  reportDir: string;
}

export async function runSuite(options: RunOptions): Promise<RunResult> {
  const root = packageRoot();
  const reportDir = resolve(options.reportDir);
  const evidenceDir = options.evidenceDir ?? join(reportDir, 'evidence');
  mkdirSync(evidenceDir, { recursive: true });
  const { runConfiguration } = await loadConfiguration(
    {
      file: false,
      provided: {
        paths: [join(root, 'features/**/*.feature')],
        import: [join(root, 'dist/steps/**/*.js')],
        tags: options.tags ?? '',
        format: [
          'progress',
          ['html', join(reportDir, 'cucumber.html')],
          ['junit', join(reportDir, 'junit.xml')],
          ['message', join(reportDir, 'messages.ndjson')],
        ],
        formatOptions: { junit: { suiteName: 'cryptgate' } },
        worldParameters: { kms: options.kms, evidenceDir, ...options.worldParameters },
        strict: true,
      },
    },
    { cwd: root },
  );
  const builder = new ScenarioReportBuilder();
  const { success } = await runCucumber(runConfiguration, { cwd: root, stdout: (options.stdout ?? process.stdout) as never }, (envelope) => builder.add(envelope as Envelope));
  const checks = builder.checks();
  const report: Report = {
    schema: REPORT_SCHEMA_ID,
    tool: toolInfo(),
    generatedAt: new Date().toISOString(),
    verdict: checks.length === 0 ? 'error' : verdictOf(checks),
    inputs: [],
    checks,
    summary: summarise(checks),
    context: { command: 'run', kms: options.kms, tags: options.tags ?? null, evidenceDir },
  };
  return { report, success, reportDir };
}
