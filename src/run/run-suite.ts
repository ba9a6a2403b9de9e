// `cryptgate run`: the Gherkin suite through cucumber's programmatic API, writing
// cucumber's own html, junit and message reports plus the cryptgate compliance report
// built from the same message stream, and the per-backend KMS conformance table.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfiguration, runCucumber } from '@cucumber/cucumber/api';
import { newReport, type Report } from '../report/model.js';
import { packageRoot } from '../util/package-info.js';
import { conformanceTable, type ConformanceTable } from './conformance.js';
import { beginKmsSession, endKmsSession, kmsSessionState } from './kms-session.js';
import { ScenarioReportBuilder, type Envelope } from './scenario-report.js';
import type { WireMode } from '../../simulators/live/wire-mode.js';

/** Whether the strongSwan wire could run, for the report's context (a fallback is never silent). */
async function liveWireContext(): Promise<Record<string, unknown>> {
  const { liveWireAvailability } = await import('../../simulators/live/availability.js');
  const live = liveWireAvailability();
  return live.ok ? { wireLive: true } : { wireLive: false, wireFallback: live.why };
}

export interface RunOptions {
  reportDir: string;
  tags?: string | undefined;
  kms: string;
  /** Wire of the IPsec scenarios (world parameter `wire`); strongswan falls back, saying why, where it cannot run. */
  wire?: WireMode;
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
  /** KMS behaviour → pass/fail/not reproducible on the backend used; undefined when no KMS scenario ran. */
  conformance?: ConformanceTable;
  /** The KMS backend could not be started (every KMS scenario failed for it): exit 3. */
  kmsFailure?: Error;
  /** Every selected scenario was not reproducible (or skipped): nothing was judged. */
  nothingJudged: boolean;
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
        worldParameters: { kms: options.kms, evidenceDir, wire: options.wire ?? 'simulated', ...options.worldParameters },
        strict: true,
      },
    },
    { cwd: root },
  );
  const builder = new ScenarioReportBuilder();
  beginKmsSession(options.kms);
  let success: boolean;
  try {
    ({ success } = await runCucumber(runConfiguration, { cwd: root, stdout: (options.stdout ?? process.stdout) as never }, (envelope) => builder.add(envelope as Envelope)));
  } finally {
    await endKmsSession();
  }
  const checks = builder.checks();
  const kms = kmsSessionState();
  const backendLabel = kms?.backend?.description ?? options.kms;
  const conformance = checks.some((c) => c.behaviour.some((b) => b.startsWith('KMS-'))) ? conformanceTable(checks, backendLabel) : undefined;
  const nothingJudged = checks.length > 0 && checks.every((c) => c.status === 'skip');
  const report = newReport({
    checks,
    inputs: [],
    // Nothing judged (no scenario, or every one skipped or not reproducible) is never a pass.
    judged: checks.length > 0 && !nothingJudged,
    context: {
      command: 'run',
      kms: options.kms,
      wire: options.wire ?? 'simulated',
      ...(options.wire === 'strongswan' ? await liveWireContext() : {}),
      ...(kms
        ? {
            kmsBackend: kms.backend
              ? { name: kms.backend.name, kind: kms.backend.kind, description: kms.backend.description, region: kms.backend.region, capabilities: { ...kms.backend.capabilities } }
              : { name: kms.spec, failure: kms.failure?.message ?? 'not started' },
          }
        : {}),
      ...(conformance ? { conformance } : {}),
      tags: options.tags ?? null,
      evidenceDir,
    },
  });
  return { report, success, reportDir, ...(conformance ? { conformance } : {}), ...(kms?.failure ? { kmsFailure: kms.failure } : {}), nothingJudged };
}
