/**
 * What the formats for people (table, Markdown, HTML) share: cells as display text, the heading lines. CSV, JSON and
 * NDJSON keep the stored values; these show them (grouped integers, binary byte units, times to the second).
 */
import type { Cell, CellType, Column, Report } from '../model.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Lone UTF-16 surrogates (a decoder's bad guess at a byte string) become U+FFFD, as writing them as UTF-8 would do
 * anyway; done first so widths and escapes see the character that will be shown.
 */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const FLOAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(n: number): string {
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const sign = n < 0 ? '-' : '';
  return u === 0 ? `${sign}${v} B` : `${sign}${v < 10 ? v.toFixed(1) : Math.round(v)} ${UNITS[u]}`;
}

const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/;

/**
 * A cell as people read it. `percent` holds percentage points (12.5 means 12.5 %); `bytes` a byte count; `time` an ISO
 * 8601 UTC string (shown to the second; the heading says UTC). A value that does not have its column's type (a big
 * integer as decimal text) is shown as it is. Not escaped: each format escapes for where the text goes.
 */
export function displayCell(v: Cell | undefined, type: CellType): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    switch (type) {
      case 'int':
        return INT.format(v);
      case 'bytes':
        return humanBytes(v);
      case 'percent':
        return `${FLOAT.format(v)} %`;
      default:
        return Number.isInteger(v) ? INT.format(v) : FLOAT.format(v);
    }
  }
  if (type === 'time') {
    const m = ISO.exec(v);
    if (m) return `${m[1]} ${m[2]}`;
  }
  return wellFormed(v);
}

/** Numbers read right-aligned. */
export function isNumeric(c: Column): boolean {
  return c.type === 'int' || c.type === 'float' || c.type === 'bytes' || c.type === 'percent';
}

/** `since 2024-05-01T00:00:00Z, app whatsapp`, or `none` (everything in the database). */
export function filterText(report: Report): string {
  const parts = Object.entries(report.filters)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? 'none (everything in the database)' : parts.join(', ');
}

/** The heading lines under the title, as plain text (each format escapes them). */
export function headingLines(report: Report): [string, string][] {
  return [
    ['Filters', filterText(report)],
    ['Database', report.database],
    ['Generated', `${report.generatedAt} by imtap ${report.version} (times in UTC)`],
  ];
}
