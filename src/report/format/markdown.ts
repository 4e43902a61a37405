/**
 * `md`: Markdown (CommonMark + GitHub tables): the title, the heading lines, then per section a heading, its note and
 * a table (numbers right-aligned). Everything that came from a report is escaped so that network text stays text:
 * - backslash, backtick, `*`, `_`, `[`, `]`, `|`, `~` and `$` get a backslash anywhere: no cell ends early, no code
 *   span, emphasis, strike-through, link, image or math starts; `#`, `-`, `+`, `=` and `1.` only mean something at the
 *   start of a line (heading, list, setext underline) and get one there; leading blanks become `&#32;` (no code block);
 * - `&`, `<` and `>` become entities: no HTML tag, comment or entity trick survives;
 * - `http://` / `www.` are broken with a backslash (`http\://`) so GitHub does not turn them into links;
 * - line breaks become `<br>` (the one tag we write), and control characters and bidirectional overrides become
 *   visible `\xNN` / `\uNNNN` escapes as on a terminal (a .md file is often read with `cat`).
 */
import { terminalSafe } from '../../util/escape.js';
import type { Report, Section } from '../model.js';
import { displayCell, headingLines, isNumeric, wellFormed } from './common.js';

const MD_PUNCT = /[\\`*_[\]|~$]/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Inline Markdown text (table cell, heading, paragraph) that shows exactly `s`, on one line. */
export function mdText(s: string): string {
  const text = wellFormed(s)
    .split(/\r\n|\r|\n/)
    .map((line) =>
      terminalSafe(line)
        .replace(MD_PUNCT, (ch) => `\\${ch}`)
        .replace(/:(?=\/\/)/g, '\\:')
        .replace(/\b(www)\./gi, '$1\\.')
        .replace(/[&<>]/g, (ch) => ENTITY[ch] ?? ch),
    )
    .join('<br>');
  // Block syntax only starts a line: a heading, list item, setext underline or ordered list item.
  return text
    .replace(/^(\d{1,9})([.)])(?=[ \t]|$)/, '$1\\$2')
    .replace(/^[#+\-=]/, (ch) => `\\${ch}`)
    .replace(/^[ \t]+/, (ws) => '&#32;'.repeat(ws.length));
}

function section(s: Section): string {
  const lines = [`## ${mdText(s.title)}`, ''];
  if (s.note) lines.push(mdText(s.note), '');
  if (s.columns.length === 0) return lines.join('\n');
  if (s.rows.length === 0) {
    lines.push('*No rows.*', '');
    return lines.join('\n');
  }
  lines.push(`| ${s.columns.map((c) => mdText(c.title)).join(' | ')} |`);
  lines.push(`|${s.columns.map((c) => (isNumeric(c) ? ' ---: ' : ' --- ')).join('|')}|`);
  for (const r of s.rows) {
    lines.push(`| ${s.columns.map((c, i) => mdText(displayCell(r[i], c.type))).join(' | ')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export function renderMarkdown(report: Report): string {
  const head = [`# ${mdText(report.title)}`, ''];
  for (const [k, v] of headingLines(report)) head.push(`- **${k}:** ${mdText(v)}`);
  head.push('');
  return [head.join('\n'), ...report.sections.map(section)].join('\n');
}
