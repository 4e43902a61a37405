/**
 * `csv`: one RFC 4180 document (csv-stringify), so a spreadsheet opens it as one table. A report of one section is
 * that section's columns; with several sections, a `section` column (the section id) comes first and the header is
 * the union of the sections' columns in order of first appearance; a row leaves the columns its section does not have
 * empty. Values are the stored ones (no grouping, bytes as counts, times as ISO 8601 with nanoseconds); null is an
 * empty cell, booleans are true/false. Text that a spreadsheet would run as a formula (= + - @ tab CR first) gets a
 * leading apostrophe (`csvSafe`); lone surrogates become U+FFFD.
 */
import { stringify } from 'csv-stringify/sync';
import { csvSafe } from '../../util/escape.js';
import type { Cell, Report } from '../model.js';
import { wellFormed } from './common.js';

function csvCell(v: Cell | undefined): Cell {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' ? csvSafe(wellFormed(v)) : v;
}

export function renderCsv(report: Report): string {
  const sections = report.sections;
  const multi = sections.length > 1;
  const header: string[] = [];
  const seen = new Map<string, number>();
  if (multi) header.push('section');
  for (const s of sections) {
    for (const c of s.columns) {
      // A column named `section` in a multi-section CSV would be ambiguous with the section id: `section_column`.
      const name = multi && c.name === 'section' ? 'section_column' : c.name;
      if (!seen.has(name)) {
        seen.set(name, header.length);
        header.push(name);
      }
    }
  }
  const records: Cell[][] = [header.map((h) => csvCell(h))];
  for (const s of sections) {
    const at = s.columns.map((c) => seen.get(multi && c.name === 'section' ? 'section_column' : c.name) ?? 0);
    for (const r of s.rows) {
      const rec: Cell[] = new Array<Cell>(header.length).fill(null);
      if (multi) rec[0] = csvCell(s.id);
      at.forEach((pos, i) => {
        rec[pos] = csvCell(r[i]);
      });
      records.push(rec);
    }
  }
  return stringify(records, { cast: { boolean: (b) => String(b) } });
}
