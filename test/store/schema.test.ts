import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/db.js';
import { renderSchemaDoc } from '../../src/store/schema-doc.js';
import { createStatements, TABLES, tableDef } from '../../src/store/schema.js';
import type { DuckDBConnection } from '@duckdb/node-api';

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

t.test('every table is declared by the rules', async (t) => {
  t.equal(new Set(TABLES.map((x) => x.name)).size, TABLES.length, 'table names are unique');
  for (const table of TABLES) {
    t.equal(new Set(table.columns.map((c) => c.name)).size, table.columns.length, `${table.name}: column names are unique`);
    for (const c of table.columns) {
      t.match(c.name, /^[a-z][a-z0-9_]*$/, `${table.name}.${c.name} is snake_case`);
      t.ok(c.doc.length > 5 && !c.doc.includes('\n'), `${table.name}.${c.name} has a one-line meaning`);
    }
    if (table.name === 'captures' || table.name === 'schema_version' || table.name === 'directory') continue;
    // Any row leads back to its packets.
    t.same(
      table.columns.slice(0, 3).map((c) => [c.name, c.type]),
      [[table.name === 'flows' ? 'ts_start' : 'ts', 'TIMESTAMP_NS'], ['capture_id', 'BIGINT'], ['flow_id', 'BIGINT']],
      `${table.name} starts with its timestamp, capture_id and flow_id`,
    );
  }
  t.throws(() => tableDef('nosuch'), /no table nosuch in the schema \(tables: schema_version, captures/);
});

t.test('a fresh database has exactly the declared columns, both ways', async (t) => {
  const s = await openStore(':memory:');
  const live = await rows(
    s.connection,
    `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS n FROM information_schema.columns
     WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );
  const declared = TABLES.flatMap((x) => x.columns.map((c) => ({ t: x.name, c: c.name, type: c.type, n: c.nullable ? 'YES' : 'NO' })));
  const key = (r: Record<string, unknown>) => `${r.t}.${r.c} ${r.type} ${r.n}`;
  t.same(live.map(key).filter((k) => !declared.map(key).includes(k)), [], 'no column in the database is undeclared');
  t.same(declared.map(key).filter((k) => !live.map(key).includes(k)), [], 'every declared column is in the database');
  t.equal(live.length, declared.length, 'as many columns as declared');
  // Column order matters to the appender: compare per table, in order.
  for (const table of TABLES) {
    t.same(live.filter((r) => r.t === table.name).map((r) => r.c), table.columns.map((c) => c.name), `${table.name} columns in order`);
  }
  // The meanings reach the database as comments.
  const comment = await rows(s.connection, `SELECT comment FROM duckdb_columns() WHERE table_name = 'flows' AND column_name = 'server_port'`);
  t.same(comment, [{ comment: 'Server port.' }]);
  // The DDL is idempotent.
  for (const sql of createStatements()) await s.connection.run(sql);
  s.close();
});

t.test('CHECK constraints hold the closed value sets', async (t) => {
  const s = await openStore(':memory:');
  await t.rejects(
    s.connection.run(`INSERT INTO captures (capture_id, path, format, packets, bytes, status, ingested_at) VALUES (1, 'x', 'pcap', 0, 0, 'done', now()::TIMESTAMP_NS)`),
    /CHECK constraint/i,
  );
  s.close();
});

t.test('docs/schema.md is what `npm run docs:schema` generates now', async (t) => {
  const file = path.join(root, 'docs/schema.md');
  const now = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)';
  t.equal(now, renderSchemaDoc(), 'docs/schema.md is out of date: run npm run docs:schema');
});
