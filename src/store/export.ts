/**
 * Export of the store's tables: Parquet and CSV through DuckDB's built-in writers (COPY … TO), Arrow IPC files built
 * from the same Arrow column buffers the writer uses, so that pyarrow, polars or apache-arrow read them with the
 * declared types (timestamps as timestamp[ns, UTC]). Table names come from the schema declaration, never from input,
 * and file names are `<table>.<ext>` inside the directory given.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { arrowSchema, columnBuffers } from './column-buffer.js';
import { quoteIdent, quoteString, TABLES, type TableDef } from './schema.js';

export type ExportFormat = 'parquet' | 'csv' | 'arrow';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['parquet', 'csv', 'arrow'];
const EXT: Record<ExportFormat, string> = { parquet: 'parquet', csv: 'csv', arrow: 'arrow' };

/** The data tables (schema_version is bookkeeping), or the one named; an unknown name is an error listing the names. */
export function exportTables(name?: string | null): TableDef[] {
  const tables = TABLES.filter((t) => t.name !== 'schema_version');
  if (!name) return tables;
  const t = tables.find((x) => x.name === name);
  if (!t) throw new Error(`no table ${name}: the tables are ${tables.map((x) => x.name).join(', ')}`);
  return [t];
}

export interface ExportedFile {
  table: string;
  file: string;
  rows: number;
}

const BATCH = 8192;

export async function exportTable(conn: DuckDBConnection, table: TableDef, format: ExportFormat, dir: string): Promise<ExportedFile> {
  const file = path.join(dir, `${table.name}.${EXT[format]}`);
  const count = Number((await conn.runAndReadAll(`SELECT count(*) FROM ${quoteIdent(table.name)}`)).getRows()[0]![0]);
  if (format !== 'arrow') {
    const opts = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : '(FORMAT csv, HEADER true)';
    await conn.run(`COPY (SELECT * FROM ${quoteIdent(table.name)}) TO ${quoteString(file)} ${opts}`);
    return { table: table.name, file, rows: count };
  }
  // Arrow IPC: read in batches (timestamps as nanosecond integers), refill the writer's column buffers.
  const schema = arrowSchema(table);
  const select = table.columns.map((c) => (c.type === 'TIMESTAMP_NS' ? `epoch_ns(${quoteIdent(c.name)})` : quoteIdent(c.name))).join(', ');
  // A stable order: by capture, flow, time (the columns each table has of these).
  const order = ['capture_id', 'flow_id', 'ts', 'ts_start', 'version']
    .filter((n) => table.columns.some((c) => c.name === n))
    .map(quoteIdent)
    .join(', ');
  const batches: arrow.RecordBatch[] = [];
  let pending: unknown[][] = [];
  const emit = () => {
    if (pending.length === 0) return;
    const cols = columnBuffers(table, pending.length);
    pending.forEach((r, i) => {
      r.forEach((v, c) => {
        // BLOB values arrive as objects holding their bytes
        const value = v !== null && typeof v === 'object' && 'bytes' in v ? (v as { bytes: Uint8Array }).bytes : v;
        cols[c]!.set(i, value as never);
      });
    });
    const children = cols.map((c) => c.toArrow(pending.length));
    batches.push(new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: pending.length, nullCount: 0, children })));
    pending = [];
  };
  const result = await conn.stream(`SELECT ${select} FROM ${quoteIdent(table.name)}${order ? ` ORDER BY ${order}` : ''}`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const r of chunk.getRows()) {
      pending.push(r);
      if (pending.length >= BATCH) emit();
    }
  }
  emit();
  const table2 = new arrow.Table(schema, batches);
  fs.writeFileSync(file, arrow.tableToIPC(table2, 'file'));
  return { table: table.name, file, rows: count };
}
