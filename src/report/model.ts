/**
 * The report model: what every report produces and every format renders. A report (`src/report/reports/<name>.ts`)
 * runs parameterised SQL over the store with the user's filters and returns a `Report`; a format
 * (`src/report/format/<format>.ts`) turns a `Report` into text (terminal table, CSV, JSON, NDJSON, Markdown,
 * self-contained HTML with charts). Reports never format, formats never query: a new report works in every format,
 * a new format renders every report.
 *
 * Cells are plain values. Text cells may hold anything that came off the network (message bodies, nicknames, file
 * names): every format escapes them for where they go (terminal control characters, HTML, CSV formula prefixes,
 * Markdown table syntax). Times are ISO 8601 UTC strings with nanoseconds as stored (`2024-05-01T12:00:00.123456789Z`).
 */

/** `percent`: percentage points (12.5 is shown as 12.5 %); `bytes`: a byte count; `time`: ISO 8601 UTC text. */
export type CellType = 'text' | 'int' | 'float' | 'time' | 'bool' | 'bytes' | 'percent';
export type Cell = string | number | boolean | null;

export interface Column {
  /** snake_case key (CSV header, JSON key). */
  name: string;
  /** Heading for people (table, Markdown, HTML). */
  title: string;
  type: CellType;
}

/** A chart of one section's rows, drawn by the formats that can (HTML as inline SVG; others ignore it). */
export interface Chart {
  kind: 'bar' | 'line' | 'stacked-bar';
  /** Column whose values are the categories or the time axis. */
  x: string;
  /** Columns plotted (numbers). */
  y: string[];
  title: string;
}

export interface Section {
  /** Stable id (JSON key, HTML anchor): `apps`, `top_users`… */
  id: string;
  title: string;
  columns: Column[];
  rows: Cell[][];
  /** One line for people under the title (what the rows mean, how they are counted). */
  note?: string;
  chart?: Chart;
}

/** Filters every report takes (`--since/--until/--app/--user/--department/--sensor`); null or empty: no filter. */
export interface Filters {
  /** Nanoseconds since the epoch, inclusive. */
  since: bigint | null;
  /** Nanoseconds since the epoch, exclusive. */
  until: bigint | null;
  apps: string[];
  /** A person (directory), an account, or an address. */
  user: string | null;
  department: string | null;
  sensor: string | null;
  /** `messages` report: substring (case-insensitive) or regular expression over the body. */
  grep?: string | null;
  regex?: string | null;
}

export interface Report {
  /** The report's name (`summary`, `users`…). */
  name: string;
  title: string;
  /** When it was made (ISO 8601 UTC) and by which imtap version. */
  generatedAt: string;
  version: string;
  /** The filters as the user gave them, for the heading (`since 2024-05-01T00:00:00Z`, `app whatsapp`). */
  filters: Record<string, string>;
  /** The database file. */
  database: string;
  sections: Section[];
}
