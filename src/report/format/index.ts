/**
 * The report formats: one function turns a `Report` (`../model.ts`) into text. Reports never format, formats never
 * query; each format escapes network text for where it goes (docs/reports.md, "Formats").
 */
import type { Report } from '../model.js';
import { renderCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson, renderNdjson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderTable } from './table.js';

export type ReportFormat = 'table' | 'csv' | 'json' | 'ndjson' | 'md' | 'html';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'csv', 'json', 'ndjson', 'md', 'html'];

export interface RenderOptions {
  /** ANSI colours (table only); the CLI passes `Output.color` (TTY, NO_COLOR, FORCE_COLOR). */
  color: boolean;
  /** Terminal columns the table must fit (table only); Infinity: no limit. */
  width: number;
}

export function renderReport(report: Report, format: ReportFormat, opts: RenderOptions): string {
  switch (format) {
    case 'table':
      return renderTable(report, opts);
    case 'csv':
      return renderCsv(report);
    case 'json':
      return renderJson(report);
    case 'ndjson':
      return renderNdjson(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
  }
}
