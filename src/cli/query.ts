/**
 * `imtap query [--db FILE] [--format table|csv|json|ndjson] "SQL"`: run SQL on the database (read-only) and print
 * the result. Everything in the result may come from the network, so each format escapes it for where it goes:
 * terminal control characters in tables, CSV formula prefixes, JSON by JSON.stringify.
 */
import type { DuckDBResultReader } from '@duckdb/node-api';
import { csvSafe, terminalSafe } from '../util/escape.js';
import { EXIT } from './exit-codes.js';
import { openForReading } from './open-store.js';
import type { Output } from './output.js';

export type QueryFormat = 'table' | 'csv' | 'json' | 'ndjson';
export const QUERY_FORMATS: readonly QueryFormat[] = ['table', 'csv', 'json', 'ndjson'];

export interface QueryArgs {
  db: string;
  sql: string;
  format: QueryFormat;
}

type Cell = string | number | boolean | null;

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;

/** Rows as plain values: integers as numbers where exact (else decimal text), timestamps and others as DuckDB prints them. */
export function plainRows(result: DuckDBResultReader): { columns: string[]; rows: Cell[][] } {
  const columns = result.columnNames();
  const ints = result.columnTypes().map((t) => INTEGER_TYPES.test(t.toString()));
  const rows = (result.getRowsJson() as Cell[][]).map((r) =>
    r.map((v, i) => {
      if (ints[i] && typeof v === 'string') {
        const n = Number(v);
        return Number.isSafeInteger(n) ? n : v;
      }
      return v;
    }),
  );
  return { columns, rows };
}

/** Moved to src/util/escape.ts (the report formats use it too); re-exported for existing importers. */
export { csvSafe };

export async function queryCommand(args: QueryArgs, io: { stdout: Output; stderr: Output }): Promise<number> {
  const store = await openForReading(args.db, io.stderr);
  if (!store) return EXIT.ERROR;
  try {
    let result: DuckDBResultReader;
    try {
      result = await store.connection.runAndReadAll(args.sql);
    } catch (e) {
      // Bad SQL: DuckDB's own message and nothing else.
      const msg = e instanceof Error ? e.message : String(e);
      io.stderr.write(`${msg.split('\n').map(terminalSafe).join('\n')}\n`);
      return EXIT.ERROR;
    }
    const { columns, rows } = plainRows(result);
    io.stdout.write(await render(args.format, columns, rows, io.stdout));
    return EXIT.OK;
  } finally {
    store.close();
  }
}

export async function render(format: QueryFormat, columns: string[], rows: Cell[][], out: Output): Promise<string> {
  switch (format) {
    case 'json':
      return JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i]]))), null, 2) + '\n';
    case 'ndjson':
      return rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]]))) + '\n').join('');
    case 'csv': {
      const { stringify } = await import('csv-stringify/sync');
      return stringify([columns.map((c) => csvSafe(c)), ...rows.map((r) => r.map(csvSafe))], { cast: { boolean: (b) => String(b) } });
    }
    case 'table': {
      const { default: Table } = await import('cli-table3');
      const table = new Table({ head: columns.map(terminalSafe), style: { head: out.color ? ['bold'] : [], border: [] } });
      for (const r of rows) table.push(r.map((v) => (v === null ? '' : terminalSafe(String(v)))));
      return `${table.toString()}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
    }
  }
}
