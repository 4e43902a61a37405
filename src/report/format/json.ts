/**
 * `json`: the Report as one JSON document, each section's rows as objects keyed by column name. `ndjson`: one line per
 * row, `{"section": id, ...columns}`, for log pipelines. JSON.stringify escapes what JSON needs (quotes, controls, lone
 * surrogates as \udXXX), so network text goes through as it was stored; readers escape it for where they put it.
 * DEL, C1 controls, bidirectional overrides and the JavaScript line separators are written as \uXXXX too (the same
 * value once parsed), so the document shown on a terminal cannot be reordered or carry a C1 escape sequence.
 */
import type { Cell, Report, Section } from '../model.js';

const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function stringify(v: unknown, indent?: number): string {
  return JSON.stringify(v, null, indent).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function rowObject(section: Section, row: Cell[]): Record<string, Cell> {
  const o: Record<string, Cell> = {};
  section.columns.forEach((c, i) => {
    o[c.name] = row[i] ?? null;
  });
  return o;
}

export function renderJson(report: Report): string {
  const doc = {
    name: report.name,
    title: report.title,
    generatedAt: report.generatedAt,
    version: report.version,
    database: report.database,
    filters: report.filters,
    sections: report.sections.map((s) => ({
      id: s.id,
      title: s.title,
      ...(s.note !== undefined ? { note: s.note } : {}),
      columns: s.columns,
      ...(s.chart !== undefined ? { chart: s.chart } : {}),
      rows: s.rows.map((r) => rowObject(s, r)),
    })),
  };
  return `${stringify(doc, 2)}\n`;
}

/**
 * One line per row. `section` comes first; a column that is itself named `section` (none is today) is written as
 * `section_column` so it cannot overwrite the section id.
 */
export function renderNdjson(report: Report): string {
  let out = '';
  for (const s of report.sections) {
    for (const r of s.rows) {
      const o: Record<string, Cell> = { section: s.id };
      s.columns.forEach((c, i) => {
        o[c.name === 'section' ? 'section_column' : c.name] = r[i] ?? null;
      });
      out += `${stringify(o)}\n`;
    }
  }
  return out;
}
