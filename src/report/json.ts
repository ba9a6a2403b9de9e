// The JSON report: the contract users' pipelines parse. Validated against the published
// schema first, so a bug shows up here rather than in someone's CI gate.
import type { Report } from './model.js';
import { validateReport } from './validate.js';

export function renderJson(report: Report): string {
  validateReport(report);
  return `${JSON.stringify(report, null, 2)}\n`;
}
