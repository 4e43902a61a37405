/**
 * The store as an ingest sees it (SQL with parameters, writers by table, close), two ways: a WorkerStore
 * (worker-store.ts: DuckDB in a worker thread) or `localStore` below (the same calls on this thread, through an open
 * Store and TableWriters). Code written against `SqlStore` runs with either, so tests and small jobs can keep
 * DuckDB on one thread while `imtap ingest` puts it beside the decoder.
 */
import type { CellValue } from './columns.js';
import type { Store } from './db.js';
import type { DirectFill, Row } from './rows.js';
import type { TableDef } from './schema.js';
import { runSql } from './sql.js';
import type { SqlParam } from './worker-protocol.js';
import { TableWriter } from './writer.js';

/** What SqlStore.writer returns: TableWriter and WorkerTableWriter both are one. */
export interface RowWriter {
  readonly table: TableDef;
  readonly rowsWritten: number;
  readonly pending: number;
  append(row: Row): void;
  appendRow(values: readonly CellValue[]): void;
  appendWith<T>(fill: DirectFill<T>, arg: T): void;
  flush(): Promise<unknown>;
  close(): Promise<void>;
}

export interface SqlStore {
  readonly path: string;
  /** Rows as objects of plain JS values (BIGINT as bigint). Parameters `?` bound in order. */
  query(sql: string, params?: readonly SqlParam[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params?: readonly SqlParam[]): Promise<void>;
  /** `fixed`: columns with the same value in every row (see RowBatcher). */
  writer(table: TableDef, options?: { batchRows?: number; fixed?: Row }): Promise<RowWriter>;
  close(): Promise<void>;
}

/** An open Store as a SqlStore on this thread; `close` closes the Store. */
export function localStore(store: Store): SqlStore {
  const conn = store.connection;
  return {
    path: store.path,
    query: async (sql, params = []) => (await runSql(conn, sql, params, true))!,
    run: async (sql, params = []) => void (await runSql(conn, sql, params, false)),
    writer: (table, options = {}) => TableWriter.open(conn, table, options),
    close: async () => store.close(),
  };
}
