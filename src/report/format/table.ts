/**
 * `table`: for the terminal. The title and heading lines, then per section its title, note and a cli-table3 table
 * that fits `width` columns: every column gets its natural width; when they do not fit, the widest shrinkable
 * columns give way one column at a time (text first, numbers and times only when they must), and a cell that no
 * longer fits wraps onto at most 3 lines, the last ending in `…`. When even 6 columns per text column do not fit,
 * the section is printed as records (`Title  value`, one line per column). We fit the cells ourselves and hand
 * cli-table3 exact column widths (its own wrapping cannot cap the number of lines, and measures the same way).
 * Numbers are right-aligned. Every text cell goes through `terminalSafe` (escape sequences, C0/C1 controls and
 * bidirectional overrides become visible `\xNN` escapes). Colours (chalk) only when `opts.color`.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import { terminalSafe } from '../../util/escape.js';
import type { Column, Report, Section } from '../model.js';
import { displayCell, headingLines, isNumeric, wellFormed } from './common.js';
import { fitLines, strlen } from './width.js';

/** Lines a wrapped cell may take before it is cut with `…`. */
const CELL_LINES = 3;
const HEAD_LINES = 2;
/** Narrowest a text column is squeezed to before the section switches to records. */
const MIN_TEXT = 6;
/** Widest a column grows when the width is unlimited (a 2 KB message wraps instead of making a 2 KB line). */
const MAX_UNLIMITED = 80;
/** Narrowest width we lay out for: below it, lines may be longer than asked. */
const MIN_WIDTH = 20;

const safe = (s: string) => terminalSafe(wellFormed(s));

function wrapPara(s: string, width: number): string[] {
  return fitLines(safe(s), width, 50);
}

/** Column widths (content, without padding) that sum to at most `avail`, or null when the columns cannot fit. */
function fitWidths(cols: Column[], natural: number[], avail: number): number[] | null {
  const min = cols.map((c, i) => {
    const n = natural[i] ?? 1;
    // Numbers and times stay whole while they can; text can go down to MIN_TEXT; headings may wrap.
    return Math.min(n, isNumeric(c) || c.type === 'time' || c.type === 'bool' ? n : MIN_TEXT);
  });
  const total = (ws: number[]) => ws.reduce((a, b) => a + b, 0);
  let ws = [...natural];
  if (total(min) > avail) {
    // Last resort before records: let numbers and times shrink too (down to MIN_TEXT).
    const hardMin = natural.map((n) => Math.min(n, MIN_TEXT));
    if (total(hardMin) > avail) return null;
    min.splice(0, min.length, ...hardMin);
  }
  let excess = total(ws) - avail;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < ws.length; i++) {
      if ((ws[i] ?? 0) > (min[i] ?? 0) && (widest < 0 || (ws[i] ?? 0) > (ws[widest] ?? 0))) widest = i;
    }
    if (widest < 0) return null;
    ws[widest] = (ws[widest] ?? 0) - 1;
    excess--;
  }
  ws = ws.map((w) => Math.max(1, w));
  return ws;
}

function gridSection(s: Section, cells: string[][], width: number, ch: ChalkInstance): string[] | null {
  const cols = s.columns;
  const heads = cols.map((c) => safe(c.title));
  const cap = Number.isFinite(width) ? Infinity : MAX_UNLIMITED;
  const natural = cols.map((_, i) =>
    Math.min(cap, Math.max(1, strlen(heads[i] ?? ''), ...cells.map((r) => strlen(r[i] ?? '')))),
  );
  // Borders: one more than the columns; padding: one blank each side of every cell.
  const avail = Number.isFinite(width) ? width - (cols.length + 1) - 2 * cols.length : Infinity;
  const ws = Number.isFinite(avail) ? fitWidths(cols, natural, avail) : natural;
  if (!ws) return null;
  const fitted = cells.map((r) => r.map((v, i) => fitLines(v, ws[i] ?? 1, CELL_LINES)));
  const wraps = fitted.some((r) => r.some((lines) => lines.length > 1));
  const table = new Table({
    head: heads.map((h, i) => ch.bold(fitLines(h, ws[i] ?? 1, HEAD_LINES).join('\n'))),
    colWidths: ws.map((w) => w + 2),
    colAligns: cols.map((c) => (isNumeric(c) ? 'right' : 'left')),
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    wordWrap: false,
    // A line between rows only when a cell wraps, so wrapped rows stay apart and short tables stay compact.
    ...(wraps ? {} : { chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } }),
  });
  for (const r of fitted) table.push(r.map((lines) => lines.join('\n')));
  return table.toString().split('\n');
}

/** One block per row: `Title  value` lines, values wrapped under themselves. */
function recordSection(s: Section, cells: string[][], width: number, ch: ChalkInstance): string[] {
  const tw = Math.min(Math.max(...s.columns.map((c) => strlen(safe(c.title)))), Math.floor(width / 3));
  const vw = Math.max(1, width - tw - 2);
  const out: string[] = [];
  cells.forEach((r, n) => {
    if (n > 0) out.push(ch.dim('-'.repeat(Math.min(width, 40))));
    s.columns.forEach((c, i) => {
      const title = fitLines(safe(c.title), tw, 1)[0] ?? '';
      const lines = fitLines(r[i] ?? '', vw, CELL_LINES * 2);
      lines.forEach((l, k) => {
        const label = k === 0 ? ch.bold(title) + ' '.repeat(tw - strlen(title)) : ' '.repeat(tw);
        out.push(`${label}  ${l}`);
      });
    });
  });
  return out;
}

function section(s: Section, width: number, ch: ChalkInstance): string[] {
  const out = ['', ...wrapPara(s.title, width).map((l) => ch.bold.underline(l))];
  if (s.note) out.push(...wrapPara(s.note, width).map((l) => ch.dim(l)));
  if (s.rows.length === 0 || s.columns.length === 0) {
    out.push(ch.dim('(no rows)'));
    return out;
  }
  const cells = s.rows.map((r) => s.columns.map((c, i) => safe(displayCell(r[i], c.type))));
  out.push(...(gridSection(s, cells, width, ch) ?? recordSection(s, cells, width, ch)));
  out.push(ch.dim(`(${s.rows.length} row${s.rows.length === 1 ? '' : 's'})`));
  return out;
}

export function renderTable(report: Report, opts: { color: boolean; width: number }): string {
  const width = Number.isFinite(opts.width) && opts.width > 0 ? Math.max(MIN_WIDTH, Math.floor(opts.width)) : Infinity;
  const ch = new Chalk({ level: opts.color ? 1 : 0 });
  const out = wrapPara(report.title, width).map((l) => ch.bold(l));
  for (const [k, v] of headingLines(report)) {
    const lines = fitLines(safe(`${k}: ${v}`), width, 10);
    out.push(...lines.map((l, i) => (i === 0 && l.startsWith(`${k}:`) ? ch.dim(`${k}:`) + l.slice(k.length + 1) : l)));
  }
  for (const s of report.sections) out.push(...section(s, width, ch));
  return `${out.join('\n')}\n`;
}
