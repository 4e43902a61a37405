/**
 * `html`: one self-contained file. No script, no remote anything: the stylesheet is inline and allowed by its hash in
 * a Content-Security-Policy meta tag (`default-src 'none'`: scripts, images, fonts, frames and fetches are refused,
 * so even a mistake in escaping could not run or load anything); charts are inline SVG (`svg.ts`) with the data also
 * in a table under them. Prints cleanly (print stylesheet: no navigation, black on white, tables not split inside a
 * row, headers repeated); follows the reader's dark mode.
 *
 * Text and attribute values are escaped (`& < > " '`); control characters and bidirectional overrides in network
 * text become visible `\xNN` / `\uNNNN` escapes as on a terminal (an override could make a file name read backwards),
 * line breaks and tabs are kept (cells wrap with `white-space: pre-wrap`), lone surrogates become U+FFFD.
 */
import { createHash } from 'node:crypto';
import type { Column, Report, Section } from '../model.js';
import { displayCell, headingLines, humanBytes, isNumeric, wellFormed } from './common.js';
import { chartSvg } from './svg.js';

// As terminalSafe, but keeping tab and line feed (the page shows them) and CR of CRLF.
const HTML_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The text people see for `s` (controls as escapes), before HTML escaping. */
export function visibleText(s: string): string {
  return wellFormed(s)
    .replace(/\r\n/g, '\n')
    .replace(HTML_UNSAFE, (ch) => {
      const n = ch.charCodeAt(0);
      return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
    });
}

/** Text or attribute value: safe between tags and inside double or single quotes. */
export function esc(s: string): string {
  return visibleText(s).replace(/[&<>"']/g, (ch) => ENTITY[ch] ?? ch);
}

/** An id usable in `id=` and `#fragment`: the section id's safe characters. */
function anchor(id: string): string {
  return `s-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

const CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de; --stripe: #f6f8fa; --accent: #0a5cad; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --stripe: #161b22; --accent: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.6em; margin: 0 0 8px; }
h2 { font-size: 1.25em; margin: 32px 0 6px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 16px; color: var(--muted); }
.meta dt { font-weight: 600; }
.meta dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
nav ul { margin: 0; padding-left: 20px; columns: 2; }
nav a { color: var(--accent); }
.note { color: var(--muted); margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 8px 0 12px; }
svg.chart { max-width: 100%; height: auto; color: var(--fg); }
svg.chart text { fill: currentColor; font-size: 11px; font-family: inherit; }
svg.chart .chart-title { font-size: 14px; font-weight: 600; }
svg.chart .axis line { stroke: currentColor; stroke-width: 1; }
svg.chart .axis line.grid { stroke: var(--line); }
.chart-missing, .empty { color: var(--muted); font-style: italic; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; }
th { background: var(--stripe); }
tbody tr:nth-child(even) { background: var(--stripe); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; }
td.text { min-width: 8em; }
.count { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  :root { --fg: #000; --bg: #fff; --muted: #333; --line: #999; --stripe: #eee; --accent: #000; }
  body { padding: 0; max-width: none; font-size: 10pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  thead { display: table-header-group; }
  .scroll { overflow: visible; }
  svg.chart { max-width: 100%; }
}
`;

function cellHtml(v: unknown, c: Column): string {
  const cell = v === undefined ? null : (v as Parameters<typeof displayCell>[0]);
  const text = displayCell(cell, c.type);
  const cls = isNumeric(c) ? ' class="num"' : c.type === 'time' ? ' class="time"' : c.type === 'text' ? ' class="text"' : '';
  // Exact value on hover where the display rounds it (bytes in units, times to the second).
  let title = '';
  if (typeof cell === 'number' && c.type === 'bytes' && humanBytes(cell) !== `${cell} B`) title = `${cell} bytes`;
  if (typeof cell === 'string' && c.type === 'time' && text !== cell) title = cell;
  return `<td${cls}${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</td>`;
}

function sectionHtml(s: Section): string {
  const id = anchor(s.id);
  const out = [`<section id="${esc(id)}">`, `<h2>${esc(s.title)}</h2>`];
  if (s.note) out.push(`<p class="note">${esc(s.note)}</p>`);
  if (s.rows.length === 0 || s.columns.length === 0) {
    out.push('<p class="empty">No rows.</p>', '</section>');
    return out.join('\n');
  }
  if (s.chart) {
    const svg = chartSvg(s, s.chart, esc, `${id}-chart`);
    out.push(
      svg
        ? `<figure>${svg}</figure>`
        : `<p class="chart-missing">Chart ${esc(s.chart.title)} not drawn: it names a column this section does not have.</p>`,
    );
  }
  out.push('<div class="scroll"><table>');
  out.push(
    `<thead><tr>${s.columns.map((c) => `<th scope="col"${isNumeric(c) ? ' class="num"' : ''}>${esc(c.title)}</th>`).join('')}</tr></thead>`,
  );
  out.push('<tbody>');
  for (const r of s.rows) out.push(`<tr>${s.columns.map((c, i) => cellHtml(r[i], c)).join('')}</tr>`);
  out.push('</tbody></table></div>');
  out.push(`<p class="count">${s.rows.length} row${s.rows.length === 1 ? '' : 's'}</p>`);
  out.push('</section>');
  return out.join('\n');
}

export function renderHtml(report: Report): string {
  const hash = createHash('sha256').update(CSS, 'utf8').digest('base64');
  const csp = `default-src 'none'; script-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
  const meta = headingLines(report)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join('\n');
  const nav =
    report.sections.length > 1
      ? `<nav><ul>${report.sections.map((s) => `<li><a href="#${esc(anchor(s.id))}">${esc(s.title)}</a></li>`).join('')}</ul></nav>`
      : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="imtap ${esc(report.version)}">
<title>${esc(report.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(report.title)}</h1>
<dl class="meta">
${meta}
</dl>
${nav}
</header>
<main>
${report.sections.map(sectionHtml).join('\n')}
</main>
<footer>Made by imtap ${esc(report.version)} at ${esc(report.generatedAt)}. Times are UTC.</footer>
</body>
</html>
`;
}
