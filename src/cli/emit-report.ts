// Where a command's report goes: to --out (atomically, with a one-line verdict on stderr)
// or to stdout, coloured only for a terminal's text report.
import type { Report } from '../report/model.js';
import { renderReport, writeReportFile, type ReportFormat } from '../report/write.js';
import { colorWanted } from './color.js';

export function emitReport(report: Report, o: { format: ReportFormat; out?: string | undefined; color?: boolean | undefined }): void {
  const color = o.format === 'text' && !o.out && colorWanted(o.color, process.stdout);
  const content = renderReport(report, o.format, { color });
  if (o.out) {
    writeReportFile(o.out, content);
    process.stderr.write(`cryptgate: ${report.verdict.toUpperCase()} (${report.summary.pass} pass, ${report.summary.fail} fail, ${report.summary.skip} skip): report written to ${o.out}\n`);
  } else {
    process.stdout.write(content.endsWith('\n') ? content : `${content}\n`);
  }
}
