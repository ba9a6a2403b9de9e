// The HTML report: one self-contained file a security reviewer opens in a browser (inline
// CSS, no scripts, no external assets; a Content-Security-Policy forbids both, so even a
// hostile string that slipped past escaping could not run). Everything it shows comes from
// the report model, the same one the JSON carries:
//   verdict and gate → behaviour by behaviour (links to the checks) → node × node traffic
//   matrix (ESP / clear-text bytes, colour-coded) → IKE proposals → MEK timeline → findings
//   with their evidence (files link to the inputs table) and remediation → every check's
//   observations → inputs with SHA-256.
// Every piece of evidence text is escaped; bidi controls are shown as escapes so a log line
// cannot reorder what the reviewer reads.
import { formatBytes } from '../util/format.js';
import { behaviourResult, findingSeverity, severityRank, SEVERITY_ORDER, type Check, type Finding, type Report, type Severity } from './model.js';

export interface HtmlOptions {
  /** Findings shown per check before "… N more" (default 200). */
  maxFindings?: number;
  /** Observation rows shown per check (default 500). */
  maxRows?: number;
}

const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

/** Escapes text for HTML element content and attribute values (double or single quoted). */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(BIDI, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A fragment id from any text: letters, digits and '-' only. */
export function anchorId(prefix: string, text: string): string {
  return `${prefix}-${text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--error:#8250df;--skip:#9a6700;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:0;padding:24px 32px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:15px;margin:20px 0 6px}
.meta{color:var(--muted);font-size:13px}
.verdict{display:inline-block;font-weight:700;font-size:20px;padding:4px 14px;border-radius:6px;color:#fff;margin:10px 0}
.verdict.pass{background:var(--pass)}.verdict.fail{background:var(--fail)}.verdict.error{background:var(--error)}
.badge{display:inline-block;font-size:12px;font-weight:600;padding:1px 7px;border-radius:10px;color:#fff;white-space:nowrap}
.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.error{background:var(--error)}.badge.skip,.badge.no-evidence{background:var(--skip)}
.sev{display:inline-block;font-size:11px;font-weight:700;padding:1px 6px;border-radius:4px;text-transform:uppercase}
.sev.critical{background:#82071e;color:#fff}.sev.high{background:var(--fail);color:#fff}.sev.medium{background:#bf8700;color:#fff}.sev.low{background:#0969da;color:#fff}.sev.info{background:#eaeef2;color:#424a53}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}th{background:var(--bg)}
td.num{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.matrix td{text-align:center;min-width:120px}.cell-esp{background:#dafbe1}.cell-plaintext{background:#ffebe9;outline:2px solid var(--fail);outline-offset:-2px;font-weight:600}.cell-none{background:#f6f8fa;color:var(--muted)}.cell-self{background:#eaeef2}
tr.weak td{background:#ffebe9}
.finding{border-left:4px solid var(--line);padding:4px 10px;margin:6px 0;background:#fff}.finding.critical,.finding.high{border-color:var(--fail)}.finding.medium{border-color:#bf8700}.finding.low{border-color:#0969da}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:0 10px;margin:4px 0 0;font-size:12px}.finding dt{color:var(--muted)}.finding dd{margin:0}
.remedy{background:#ddf4ff;border:1px solid #54aeff;border-radius:6px;padding:6px 10px;margin:6px 0}
.timeline{position:relative;height:18px;background:#f6f8fa;border:1px solid var(--line);min-width:360px}
.timeline .enc{position:absolute;top:0;bottom:0;background:#2da44e}.timeline .dec{position:absolute;top:0;bottom:0;background:#8c959f}
.legend span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 12px}
details{margin:4px 0}summary{cursor:pointer}
`;

type Row = Record<string, unknown>;

const byId = (report: Report, id: string): Check | undefined => report.checks.find((c) => c.id === id);
const checkLink = (c: Check): string => `<a href="#${anchorId('check', c.id)}">${escapeHtml(c.id)}</a>`;
const badge = (status: string): string => `<span class="badge ${escapeHtml(status.replace(/\s+/g, '-'))}">${escapeHtml(status.toUpperCase())}</span>`;
const sevTag = (s: Severity): string => `<span class="sev ${s}">${s}</span>`;

function cellValue(v: unknown): string {
  if (v === null || v === undefined) return '<span class="meta">–</span>';
  if (Array.isArray(v)) return v.length === 0 ? '<span class="meta">none</span>' : v.map((x) => (typeof x === 'object' && x !== null ? `<code>${escapeHtml(JSON.stringify(x))}</code>` : escapeHtml(x))).join(', ');
  if (typeof v === 'object') return `<code>${escapeHtml(JSON.stringify(v))}</code>`;
  return escapeHtml(v);
}

function table(rows: readonly Row[], maxRows: number, cls = ''): string {
  if (rows.length === 0) return '<p class="meta">none</p>';
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const body = rows
    .slice(0, maxRows)
    .map((r) => `<tr>${keys.map((k) => `<td${typeof r[k] === 'number' ? ' class="num"' : ''}>${cellValue(r[k])}</td>`).join('')}</tr>`)
    .join('\n');
  const more = rows.length > maxRows ? `<p class="meta">… and ${rows.length - maxRows} more rows (see the JSON report)</p>` : '';
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${keys.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>${more}`;
}

// ---------------------------------------------------------------- sections

function behaviourSection(report: Report): string {
  const coverage = byId(report, 'audit.coverage');
  const ids: string[] = [];
  const titles = new Map<string, string>();
  for (const r of coverage?.observed ?? []) {
    const b = String(r.behaviour);
    ids.push(b);
    titles.set(b, String(r.title ?? ''));
  }
  for (const c of report.checks) for (const b of c.behaviour) if (!ids.includes(b)) ids.push(b);
  const order = (b: string): [number, number] => [b.startsWith('IPSEC') ? 0 : 1, Number(/\d+$/.exec(b)?.[0] ?? 0)];
  ids.sort((a, b) => order(a)[0] - order(b)[0] || order(a)[1] - order(b)[1]);
  const rows = ids.map((b) => {
    const checks = report.checks.filter((c) => c.behaviour.includes(b));
    const result = behaviourResult(report.checks, b);
    return `<tr id="${anchorId('behaviour', b)}" data-behaviour="${escapeHtml(b)}"><td><strong>${escapeHtml(b)}</strong></td><td>${escapeHtml(titles.get(b) ?? '')}</td><td>${badge(result)}</td><td>${checks.length ? checks.map((c) => `${checkLink(c)} ${badge(c.status)}`).join('<br>') : '<span class="meta">no check</span>'}</td></tr>`;
  });
  return `<h2 id="behaviours">Behaviour by behaviour</h2>
<table class="behaviours"><thead><tr><th>Behaviour</th><th>Documented promise</th><th>Result</th><th>Checks (evidence)</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function checksSection(report: Report): string {
  const rows = report.checks.map(
    (c) => `<tr data-check="${escapeHtml(c.id)}"><td>${checkLink(c)}</td><td>${escapeHtml(c.title)}</td><td>${escapeHtml(c.behaviour.join(', '))}</td><td>${badge(c.status)}</td><td>${sevTag(c.severity)}</td><td class="num">${c.findings.filter((f) => findingSeverity(c, f) !== 'info').length}</td></tr>`,
  );
  return `<h2 id="checks">Checks</h2>
<table class="checks"><thead><tr><th>Check</th><th>What it proves</th><th>Behaviours</th><th>Status</th><th>Severity</th><th>Findings</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function matrixSection(report: Report): string {
  const esp = byId(report, 'ipsec.esp-only');
  const rows = (esp?.observed ?? []).filter((r) => typeof r.nodeA === 'string' && typeof r.nodeB === 'string');
  if (!esp || rows.length === 0) return `<h2 id="traffic">Node × node traffic</h2><p class="meta">No capture was judged${esp ? `: ${escapeHtml(esp.findings[0]?.message ?? '')}` : ''}.</p>`;
  const nodes = [...new Set(rows.flatMap((r) => [String(r.nodeA), String(r.nodeB)]))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pair = new Map<string, Row>();
  for (const r of rows) {
    pair.set(`${r.nodeA}|${r.nodeB}`, r);
    pair.set(`${r.nodeB}|${r.nodeA}`, r);
  }
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const head = `<tr><th></th>${nodes.map((n) => `<th>${escapeHtml(n)}</th>`).join('')}</tr>`;
  const body = nodes
    .map((a) => {
      const cells = nodes.map((b) => {
        if (a === b) return '<td class="cell-self">–</td>';
        const r = pair.get(`${a}|${b}`);
        if (!r || r.seen === false) return `<td class="cell-none" data-pair="${escapeHtml(`${a}|${b}`)}">no traffic</td>`;
        const clear = num(r.plaintextBytes) + num(r.ahOnlyPackets);
        const cls = clear > 0 ? 'cell-plaintext' : num(r.espBytes) > 0 ? 'cell-esp' : 'cell-none';
        return `<td class="${cls}" data-pair="${escapeHtml(`${a}|${b}`)}">ESP ${escapeHtml(formatBytes(num(r.espBytes)))}<br>clear ${escapeHtml(formatBytes(num(r.plaintextBytes)))}${num(r.ahOnlyPackets) ? `<br>AH-only ${num(r.ahOnlyPackets)} pkts` : ''}</td>`;
      });
      return `<tr><th>${escapeHtml(a)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<h2 id="traffic">Node × node traffic</h2>
<p class="meta legend">Bytes between each pair of nodes, both directions (from ${checkLink(esp)}).<span class="cell-esp"></span>inside ESP only<span class="cell-plaintext"></span>clear text seen<span class="cell-none"></span>no traffic</p>
<table class="matrix"><thead>${head}</thead><tbody>
${body}
</tbody></table>`;
}

function ikeSection(report: Report, maxRows: number): string {
  const ike = byId(report, 'ipsec.ike-policy');
  const rows = ike?.observed ?? [];
  const allowed = byId(report, 'ipsec.proposals-allowed');
  if (!ike || rows.length === 0) return `<h2 id="ike">IKE proposals</h2><p class="meta">No IKE negotiation was judged${ike ? `: ${escapeHtml(ike.findings[0]?.message ?? '')}` : ''}.</p>`;
  const weak = new Set(ike.findings.filter((f) => findingSeverity(ike, f) !== 'info').map((f) => String(f.evidence.spiI ?? '')));
  const cols = ['initiator', 'responder', 'ikeVersion', 'mode', 'encryption', 'keyLength', 'integrity', 'prf', 'dhGroup', 'status', 'firstSeen'];
  const body = rows
    .slice(0, maxRows)
    .map((r) => `<tr${weak.has(String(r.spiI ?? '')) ? ' class="weak"' : ''}>${cols.map((k) => `<td>${cellValue(r[k])}</td>`).join('')}</tr>`)
    .join('\n');
  return `<h2 id="ike">IKE proposals</h2>
<p class="meta">Each negotiated IKE SA as seen on the wire (from ${checkLink(ike)}${allowed ? `; against the exported crypto sets: ${checkLink(allowed)} ${badge(allowed.status)}` : ''}); rows in red break the policy.</p>
<table class="ike"><thead><tr>${cols.map((k) => `<th>${escapeHtml(k)}</th>`).join('')}</tr></thead><tbody>
${body}
</tbody></table>`;
}

function timelineSection(report: Report): string {
  const status = byId(report, 'kms.status');
  const rows = (status?.observed ?? []).filter((r) => r.timeline === true);
  if (!status || rows.length === 0) return `<h2 id="meks">MEK timeline</h2><p class="meta">No \`tsm security kms status\` output was judged.</p>`;
  const t = (v: unknown): number | null => {
    if (typeof v !== 'string') return null;
    const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`);
    return Number.isNaN(ms) ? null : ms;
  };
  const times = rows.flatMap((r) => [t(r.createdAt), t(r.firstEncryptDecryptAt), t(r.decryptOnlyAt)]).filter((x): x is number => x !== null);
  const start = Math.min(...times);
  const end = Math.max(...times, start + 1);
  const span = (end - start) * 1.05 || 1;
  const pct = (ms: number): string => `${(((ms - start) / span) * 100).toFixed(2)}%`;
  const byFile = new Map<string, Row[]>();
  for (const r of rows) byFile.set(String(r.file), [...(byFile.get(String(r.file)) ?? []), r]);
  const parts: string[] = [];
  for (const [file, meks] of byFile) {
    const body = meks
      .map((r) => {
        const f = t(r.firstEncryptDecryptAt);
        const d = t(r.decryptOnlyAt);
        const encStart = f ?? t(r.createdAt) ?? start;
        const encEnd = d ?? end;
        const bar =
          `<div class="timeline" title="${escapeHtml(`${r.createdAt ?? '?'} → ${r.firstEncryptDecryptAt ?? '?'} → ${r.decryptOnlyAt ?? 'still encrypting'}`)}">` +
          `<div class="enc" style="left:${pct(encStart)};width:${(((encEnd - encStart) / span) * 100).toFixed(2)}%"></div>` +
          (d !== null ? `<div class="dec" style="left:${pct(d)};width:${(((end - d) / span) * 100 + 1).toFixed(2)}%"></div>` : '') +
          '</div>';
        return `<tr data-mek="${escapeHtml(r.mekId)}"><td class="mono">${escapeHtml(r.mekId)}</td><td>${escapeHtml(r.state)}</td><td>${cellValue(r.createdAt)}</td><td>${cellValue(r.firstEncryptDecryptAt)}</td><td>${cellValue(r.decryptOnlyAt)}</td><td>${bar}</td></tr>`;
      })
      .join('\n');
    parts.push(`<h3>${escapeHtml(file)}</h3>
<table class="meks"><thead><tr><th>MEK</th><th>State</th><th>Created</th><th>First encrypt/decrypt</th><th>Decrypt-only since</th><th>Timeline</th></tr></thead><tbody>
${body}
</tbody></table>`);
  }
  return `<h2 id="meks">MEK timeline</h2>
<p class="meta legend">Created → encrypt/decrypt → decrypt-only, from ${checkLink(status)}.<span style="background:#2da44e"></span>encryption key<span style="background:#8c959f"></span>decrypt-only</p>
${parts.join('\n')}`;
}

function evidenceList(evidence: Record<string, unknown>, inputAnchors: Map<string, string>): string {
  const entries = Object.entries(evidence).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '';
  const dd = (k: string, v: unknown): string => {
    if (typeof v === 'string' && (k === 'file' || k === 'input' || k === 'path') && inputAnchors.has(v)) return `<a href="#${inputAnchors.get(v)}">${escapeHtml(v)}</a>`;
    return cellValue(v);
  };
  return `<dl>${entries.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${dd(k, v)}</dd>`).join('')}</dl>`;
}

function findingsSection(report: Report, maxFindings: number, maxRows: number, inputAnchors: Map<string, string>): string {
  const ordered = [...report.checks].sort((a, b) => statusRank(a) - statusRank(b) || severityRank(a.severity) - severityRank(b.severity));
  const parts = ordered.map((c) => {
    const findings = [...c.findings].sort((a, b) => severityRank(findingSeverity(c, a)) - severityRank(findingSeverity(c, b)));
    const shown = findings.slice(0, maxFindings);
    const items = shown
      .map((f: Finding) => {
        const s = findingSeverity(c, f);
        return `<div class="finding ${s}">${sevTag(s)} ${escapeHtml(f.message)}${evidenceList(f.evidence, inputAnchors)}</div>`;
      })
      .join('\n');
    const more = findings.length > maxFindings ? `<p class="meta">… and ${findings.length - maxFindings} more findings (see the JSON report)</p>` : '';
    const remedy = c.remediation && c.status === 'fail' ? `<div class="remedy"><strong>Remediation:</strong> ${escapeHtml(c.remediation)}</div>` : '';
    return `<section id="${anchorId('check', c.id)}" class="check" data-status="${c.status}">
<h3>${escapeHtml(c.id)} ${badge(c.status)} ${sevTag(c.severity)}</h3>
<p>${escapeHtml(c.title)}${c.behaviour.length ? ` <span class="meta">(${c.behaviour.map((b) => `<a href="#${anchorId('behaviour', b)}">${escapeHtml(b)}</a>`).join(', ')})</span>` : ''}</p>
${remedy}
${items || '<p class="meta">No findings.</p>'}
${more}
<details><summary>What was observed (${c.observed.length})</summary>${table(c.observed, maxRows)}</details>
</section>`;
  });
  return `<h2 id="findings">Findings and remediation, check by check</h2>\n${parts.join('\n')}`;
}

function statusRank(c: Check): number {
  return { fail: 0, error: 1, skip: 2, pass: 3 }[c.status];
}

function inputsSection(report: Report, anchors: Map<string, string>): string {
  if (report.inputs.length === 0) return '<h2 id="inputs">Inputs</h2><p class="meta">none</p>';
  const rows = report.inputs.map(
    (i) => `<tr id="${anchors.get(i.path)}"><td class="mono">${escapeHtml(i.path)}</td><td>${escapeHtml(i.format)}</td><td class="num">${escapeHtml(formatBytes(i.bytes))}</td><td class="mono">${i.sha256 ? escapeHtml(i.sha256) : '<span class="meta">not computed</span>'}</td></tr>`,
  );
  return `<h2 id="inputs">Inputs</h2>
<table class="inputs"><thead><tr><th>File</th><th>Format</th><th>Size</th><th>SHA-256</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`;
}

function gateLine(report: Report): string {
  const gate = report.context?.gate as { failOn?: string; result?: string; breaking?: number; belowThreshold?: number; expiredWaivers?: number } | undefined;
  if (!gate) return '';
  const below = gate.belowThreshold ? `; ${gate.belowThreshold} finding(s) below the threshold are reported but do not break it` : '';
  const expired = gate.expiredWaivers ? `; ${gate.expiredWaivers} finding(s) count again because their waiver expired` : '';
  return `<p class="gate" data-gate="${escapeHtml(gate.result)}">CI gate (failOn: ${escapeHtml(gate.failOn)}): ${badge(gate.result ?? 'pass')} ${escapeHtml(gate.breaking ?? 0)} breaking finding(s)${escapeHtml(below)}${escapeHtml(expired)}</p>`;
}

/** Renders the report as one self-contained HTML page. Pure. */
export function renderHtml(report: Report, o: HtmlOptions = {}): string {
  const maxFindings = o.maxFindings ?? 200;
  const maxRows = o.maxRows ?? 500;
  const anchors = new Map(report.inputs.map((i, n) => [i.path, `input-${n + 1}`] as const));
  const s = report.summary;
  const ctx = report.context ?? {};
  const where = typeof ctx.folder === 'string' ? ctx.folder : typeof ctx.command === 'string' ? ctx.command : '';
  const worst = SEVERITY_ORDER.filter((sv) => report.checks.some((c) => c.status === 'fail' && c.findings.some((f) => findingSeverity(c, f) === sv)));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cryptgate report: ${escapeHtml(report.verdict.toUpperCase())}${where ? ` · ${escapeHtml(where)}` : ''}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>cryptgate compliance report</h1>
<div class="meta">${escapeHtml(report.tool.name)} ${escapeHtml(report.tool.version)} · generated ${escapeHtml(report.generatedAt)}${where ? ` · <span class="mono">${escapeHtml(where)}</span>` : ''}${typeof ctx.policy === 'string' ? ` · policy ${escapeHtml(ctx.policy)}` : ''}</div>
<div id="verdict" class="verdict ${report.verdict}">${escapeHtml(report.verdict.toUpperCase())}</div>
<p class="summary">${s.pass} passed, ${s.fail} failed, ${s.error} errored, ${s.skip} skipped (${report.checks.length} checks)${worst.length ? ` · worst failing severity: ${sevTag(worst[0]!)}` : ''}</p>
${gateLine(report)}
<nav class="meta"><a href="#behaviours">Behaviours</a> · <a href="#checks">Checks</a> · <a href="#traffic">Traffic matrix</a> · <a href="#ike">IKE proposals</a> · <a href="#meks">MEK timeline</a> · <a href="#findings">Findings</a> · <a href="#inputs">Inputs</a></nav>
</header>
<main>
${behaviourSection(report)}
${checksSection(report)}
${matrixSection(report)}
${ikeSection(report, maxRows)}
${timelineSection(report)}
${findingsSection(report, maxFindings, maxRows, anchors)}
${inputsSection(report, anchors)}
</main>
</body>
</html>
`;
}
