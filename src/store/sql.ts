/**
 * SQL with parameters on a DuckDB connection, rows as plain JS objects: shared by the store worker and localStore
 * (local-store.ts). No Arrow and no writer here, so that the worker thread loads only DuckDB.
 */
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { SqlParam } from './worker-protocol.js';

/** Integers as BIGINT, other numbers as DOUBLE, strings as VARCHAR, booleans, NULL. */
export function bindParams(stmt: DuckDBPreparedStatement, params: readonly SqlParam[]): void {
  params.forEach((p, i) => {
    const at = i + 1;
    if (p === null) stmt.bindNull(at);
    else if (typeof p === 'bigint') stmt.bindBigInt(at, p);
    else if (typeof p === 'number') {
      if (Number.isSafeInteger(p)) stmt.bindBigInt(at, BigInt(p));
      else stmt.bindDouble(at, p);
    } else if (typeof p === 'boolean') stmt.bindBoolean(at, p);
    else stmt.bindVarchar(at, p);
  });
}

/** Runs `text` with `params`; the rows as JS objects when `read`. */
export async function runSql(conn: DuckDBConnection, text: string, params: readonly SqlParam[], read: boolean): Promise<Record<string, unknown>[] | undefined> {
  if (params.length === 0 && !read) {
    await conn.run(text);
    return undefined;
  }
  const stmt = await conn.prepare(text);
  try {
    bindParams(stmt, params);
    if (!read) {
      await stmt.run();
      return undefined;
    }
    return (await stmt.runAndReadAll()).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    stmt.destroySync();
  }
}
