/**
 * Opening an imtap DuckDB file: creates the schema in a new file, migrates a file written by an older imtap (every
 * step in one transaction), refuses a file from a newer imtap, and checks that the tables found are exactly the ones
 * declared in schema.ts, so that a writer never appends to a table of another shape.
 *
 * Extensions are never installed or loaded automatically: DuckDB would otherwise download one from the network the
 * first time a query needs it (a tap sensor may have no route out, and a run must not depend on one). Parquet and
 * JSON are built into @duckdb/node-api.
 */
import { DuckDBInstance, type DuckDBConnection } from './duckdb.js';
import { MIGRATIONS, migrationPath, type Migration } from './migrations.js';
import { createStatements, SCHEMA_VERSION, TABLES, type TableDef } from './schema.js';

/** DuckDB settings every imtap database is opened with. */
export const DUCKDB_OPTIONS: Readonly<Record<string, string>> = {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
  allow_community_extensions: 'false',
};

export interface OpenOptions {
  /** Migrations to apply to an older file; the real list by default (tests pass their own). */
  migrations?: readonly Migration[];
  /** Open without writing: a new or older file is refused instead of created or migrated. */
  readOnly?: boolean;
}

export interface Store {
  path: string;
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  /** The schema version of the file, SCHEMA_VERSION once opened. */
  version: number;
  /** The version the file was at before this open migrated it; null when nothing was migrated or created. */
  migratedFrom: number | null;
  /** True when this open created the schema in an empty file. */
  created: boolean;
  /** Closes the connection and the database (DuckDB checkpoints the file). Safe to call twice. */
  close(): void;
}

/** Thrown for a file that cannot be used as it is: newer, foreign, or of a different shape. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * Opens (creating if needed) the imtap database at `path` (`:memory:` for one in memory). DuckDB allows one writing
 * process per file; a second one gets DuckDB's lock error, which names the process holding the file.
 */
export async function openStore(path: string, options: OpenOptions = {}): Promise<Store> {
  const migrations = options.migrations ?? MIGRATIONS;
  const settings = options.readOnly ? { ...DUCKDB_OPTIONS, access_mode: 'READ_ONLY' } : { ...DUCKDB_OPTIONS };
  const instance = await DuckDBInstance.create(path, settings);
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    const found = await fileVersion(connection, path);
    let version = found ?? SCHEMA_VERSION;
    let migratedFrom: number | null = null;
    if (found !== null && found > SCHEMA_VERSION) {
      throw new StoreError(
        `${path}: schema version ${found} is newer than version ${SCHEMA_VERSION} of this imtap; open it with a newer imtap`,
      );
    }
    if (options.readOnly && (found === null || found < SCHEMA_VERSION)) {
      throw new StoreError(
        found === null
          ? `${path}: no imtap schema, and the file is opened read-only so it cannot be created`
          : `${path}: schema version ${found} needs migrating to ${SCHEMA_VERSION}, and the file is opened read-only`,
      );
    }
    if (found === null) {
      await inTransaction(connection, path, 'creating the schema', [...createStatements(), versionInsert(SCHEMA_VERSION)]);
    } else if (found < SCHEMA_VERSION) {
      const steps = migrationPath(migrations, found, SCHEMA_VERSION);
      await inTransaction(
        connection,
        path,
        `migrating schema version ${found} to ${SCHEMA_VERSION}`,
        steps.flatMap((s) => [...s.statements, versionInsert(s.to)]),
      );
      migratedFrom = found;
      version = SCHEMA_VERSION;
    }
    const diff = await schemaDifferences(connection);
    if (diff.length > 0) {
      throw new StoreError(`${path}: tables at schema version ${version} differ from those declared in schema.ts:\n  ${diff.join('\n  ')}`);
    }
    const conn = connection;
    let closed = false;
    return {
      path,
      instance,
      connection: conn,
      version,
      migratedFrom,
      created: found === null,
      close() {
        if (closed) return;
        closed = true;
        conn.closeSync();
        instance.closeSync();
      },
    };
  } catch (err) {
    // Release the file (and its lock) before reporting: the caller has no handle to close.
    connection?.closeSync();
    instance.closeSync();
    throw err;
  }
}

const versionInsert = (v: number): string => `INSERT INTO schema_version VALUES (${v}, now()::TIMESTAMP_NS)`;

/** Names of the tables in the file's main schema. */
async function tableNames(conn: DuckDBConnection): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name`,
  );
  return r.getRows().map((row) => String(row[0]));
}

/**
 * The file's schema version: null for a file without tables (new), the highest `schema_version` row otherwise.
 * A file with tables but no `schema_version` was not written by imtap and is refused rather than written into.
 */
async function fileVersion(conn: DuckDBConnection, path: string): Promise<number | null> {
  const names = await tableNames(conn);
  if (names.length === 0) return null;
  if (!names.includes('schema_version')) {
    throw new StoreError(`${path}: not an imtap database (${names.length} tables, e.g. ${names.slice(0, 5).join(', ')}, and no schema_version)`);
  }
  const r = await conn.runAndReadAll('SELECT max(version) FROM schema_version');
  const v = r.getRows()[0]?.[0];
  if (v === null || v === undefined) throw new StoreError(`${path}: table schema_version is empty`);
  return Number(v);
}

/** Runs `statements` in one transaction; on failure rolls back and says what was being done, and which statement. */
async function inTransaction(conn: DuckDBConnection, path: string, what: string, statements: readonly string[]): Promise<void> {
  await conn.run('BEGIN TRANSACTION');
  let i = 0;
  try {
    for (; i < statements.length; i++) await conn.run(statements[i]!);
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => undefined);
    const sql = (statements[i] ?? 'COMMIT').replace(/\s+/g, ' ').slice(0, 200);
    throw new StoreError(`${path}: ${what} failed at statement ${i + 1} of ${statements.length} (${sql}), nothing was changed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * How the tables in the database differ from `tables` (TABLES by default), one line per difference: a missing or
 * undeclared table or column, a column of another type, nullability or position (the appender writes by position).
 * Empty when they match.
 */
export async function schemaDifferences(conn: DuckDBConnection, tables: readonly TableDef[] = TABLES): Promise<string[]> {
  const r = await conn.runAndReadAll(
    `SELECT table_name, column_name, column_index, data_type, is_nullable FROM duckdb_columns()
     WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name, column_index`,
  );
  const live = new Map<string, { name: string; type: string; nullable: boolean }[]>();
  for (const [table, column, , type, nullable] of r.getRows()) {
    const cols = live.get(String(table)) ?? [];
    cols.push({ name: String(column), type: String(type), nullable: Boolean(nullable) });
    live.set(String(table), cols);
  }
  const out: string[] = [];
  for (const t of tables) {
    const cols = live.get(t.name);
    if (cols === undefined) {
      out.push(`table ${t.name}: declared, not in the database`);
      continue;
    }
    t.columns.forEach((c, i) => {
      const at = cols.findIndex((x) => x.name === c.name);
      const found = cols[at];
      if (found === undefined) return void out.push(`column ${t.name}.${c.name}: declared, not in the database`);
      if (at !== i) out.push(`column ${t.name}.${c.name}: declared at position ${i + 1}, is at ${at + 1}`);
      if (found.type !== c.type) out.push(`column ${t.name}.${c.name}: declared ${c.type}, is ${found.type}`);
      if (found.nullable !== c.nullable) {
        out.push(`column ${t.name}.${c.name}: declared ${c.nullable ? 'nullable' : 'NOT NULL'}, is ${found.nullable ? 'nullable' : 'NOT NULL'}`);
      }
    });
    for (const x of cols) {
      if (!t.columns.some((c) => c.name === x.name)) out.push(`column ${t.name}.${x.name}: in the database, not declared in schema.ts`);
    }
  }
  for (const name of live.keys()) {
    if (!tables.some((t) => t.name === name)) out.push(`table ${name}: in the database, not declared in schema.ts`);
  }
  return out;
}
