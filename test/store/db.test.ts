import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_OPTIONS, openStore, schemaDifferences } from '../../src/store/db.js';
import { migrationPath, type Migration } from '../../src/store/migrations.js';
import { createStatements, SCHEMA_VERSION, TABLES } from '../../src/store/schema.js';

function tempDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `imtap-store-${name}-`));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Rows of `sql` as plain JS objects (BIGINT as bigint). */
async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

async function scalar(conn: DuckDBConnection, sql: string): Promise<unknown> {
  return (await conn.runAndReadAll(sql)).getRows()[0]?.[0];
}

const dir = tempDir('db');
let n = 0;
const file = () => path.join(dir, `db-${++n}.duckdb`);

/** A hand-made "version 0" file: schema_version at 0, and captures without the `sensor` column. */
async function versionZeroFile(): Promise<string> {
  const f = file();
  const inst = await DuckDBInstance.create(f, { ...DUCKDB_OPTIONS });
  const c = await inst.connect();
  await c.run('CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP_NS NOT NULL)');
  await c.run('INSERT INTO schema_version VALUES (0, now()::TIMESTAMP_NS)');
  for (const s of createStatements(TABLES.filter((x) => x.name === 'captures'))) await c.run(s);
  await c.run('ALTER TABLE captures DROP COLUMN sensor');
  await c.run(`INSERT INTO captures VALUES (7, 'old.pcap', NULL, 'pcap', 10, 3, 180, NULL, NULL, 'complete', NULL, now()::TIMESTAMP_NS)`);
  c.closeSync();
  inst.closeSync();
  return f;
}

/** Steps from version 1 up to the current one that change nothing (the made-up version 0 → 1 step does it all). */
const noopSteps = (): Migration[] => Array.from({ length: SCHEMA_VERSION - 1 }, (_, i) => ({ from: i + 1, to: i + 2, statements: [] }));

/** Version 0 → 1: add the column and create the tables that did not exist (in their current form). */
const testMigrations: Migration[] = [
  {
    from: 0,
    to: 1,
    statements: ['ALTER TABLE captures ADD COLUMN sensor VARCHAR', ...createStatements(TABLES.filter((x) => x.name !== 'captures' && x.name !== 'schema_version'))],
  },
  ...noopSteps(),
];

t.test('a new file gets the schema and its version; reopening keeps both', async (t) => {
  const f = file();
  const s = await openStore(f);
  t.equal(s.version, SCHEMA_VERSION);
  t.equal(s.created, true);
  t.same(await schemaDifferences(s.connection), []);
  t.equal(await scalar(s.connection, 'SELECT count(*) FROM schema_version'), 1n);
  s.close();
  s.close(); // twice is harmless
  const again = await openStore(f);
  t.equal(again.created, false);
  t.equal(again.migratedFrom, null);
  t.equal(await scalar(again.connection, 'SELECT max(version) FROM schema_version'), SCHEMA_VERSION);
  again.close();
});

t.test('extensions are neither installed nor loaded automatically', async (t) => {
  const s = await openStore(':memory:');
  const got = await rows(
    s.connection,
    `SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions') ORDER BY name`,
  );
  t.same(got, [
    { name: 'autoinstall_known_extensions', value: 'false' },
    { name: 'autoload_known_extensions', value: 'false' },
  ]);
  s.close();
});

t.test('a version-0 file is migrated in one transaction, its rows kept', async (t) => {
  const f = await versionZeroFile();
  const s = await openStore(f, { migrations: testMigrations });
  t.equal(s.version, SCHEMA_VERSION);
  t.equal(s.migratedFrom, 0);
  t.same(await schemaDifferences(s.connection), []);
  t.same(await rows(s.connection, 'SELECT capture_id, path, sensor FROM captures'), [{ capture_id: 7n, path: 'old.pcap', sensor: null }]);
  t.same(await rows(s.connection, 'SELECT version FROM schema_version ORDER BY version'), [{ version: 0 }, ...Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 }))]);
  s.close();
});

t.test('a failing migration changes nothing and says which statement failed', async (t) => {
  const f = await versionZeroFile();
  const broken: Migration[] = [{ from: 0, to: 1, statements: ['ALTER TABLE captures ADD COLUMN sensor VARCHAR', 'ALTER TABLE nosuch ADD COLUMN x INTEGER'] }, ...noopSteps()];
  await t.rejects(openStore(f, { migrations: broken }), new RegExp(`migrating schema version 0 to ${SCHEMA_VERSION} failed at statement 2 of \\d+ \\(ALTER TABLE nosuch`));
  // Still at version 0 and without the column added by the first statement: the migration then succeeds.
  const s = await openStore(f, { migrations: testMigrations });
  t.equal(s.migratedFrom, 0);
  s.close();
});

t.test('a missing migration step is named', async (t) => {
  const f = await versionZeroFile();
  await t.rejects(openStore(f, { migrations: [] }), new RegExp(`no migration from schema version 0 \\(needed to go from 0 to ${SCHEMA_VERSION}; steps known: none\\)`));
  t.throws(() => migrationPath([{ from: 0, to: 2, statements: [] }], 0, 2), /from version 0 to 2: a step must go up by exactly one/);
  t.throws(() => migrationPath([{ from: 0, to: 1, statements: [] }], 0, 2), /no migration from schema version 1 \(needed to go from 0 to 2; steps known: 0→1\)/);
  t.same(migrationPath([{ from: 1, to: 2, statements: [] }, { from: 0, to: 1, statements: [] }], 0, 2).map((m) => m.to), [1, 2]);
});

t.test('a file from a newer imtap is refused, and left as it was', async (t) => {
  const f = file();
  const s = await openStore(f);
  await s.connection.run(`INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1}, now()::TIMESTAMP_NS)`);
  s.close();
  await t.rejects(openStore(f), new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than version ${SCHEMA_VERSION} of this imtap`));
  // The refusal released the file: DuckDB can open it again.
  const inst = await DuckDBInstance.create(f, { ...DUCKDB_OPTIONS });
  const c = await inst.connect();
  t.equal(await scalar(c, 'SELECT max(version) FROM schema_version'), SCHEMA_VERSION + 1);
  c.closeSync();
  inst.closeSync();
});

t.test('a DuckDB file that is not imtap\'s is refused', async (t) => {
  const f = file();
  const inst = await DuckDBInstance.create(f, { ...DUCKDB_OPTIONS });
  const c = await inst.connect();
  await c.run('CREATE TABLE other (x INTEGER)');
  c.closeSync();
  inst.closeSync();
  await t.rejects(openStore(f), /not an imtap database \(1 tables, e\.g\. other, and no schema_version\)/);
});

t.test('an undeclared column in the file is found and the file refused', async (t) => {
  const f = file();
  const s = await openStore(f);
  await s.connection.run('ALTER TABLE flows ADD COLUMN extra INTEGER');
  await s.connection.run('CREATE TABLE scratch (x INTEGER)');
  t.same(await schemaDifferences(s.connection), [
    'column flows.extra: in the database, not declared in schema.ts',
    'table scratch: in the database, not declared in schema.ts',
  ]);
  s.close();
  await t.rejects(openStore(f), new RegExp(`tables at schema version ${SCHEMA_VERSION} differ from those declared in schema\\.ts:\\n {2}column flows\\.extra`));
});

t.test('read-only: opens a current file, refuses to create or migrate', async (t) => {
  const f = file();
  (await openStore(f)).close();
  const ro = await openStore(f, { readOnly: true });
  await t.rejects(ro.connection.run('DELETE FROM captures'), /read-only/i);
  ro.close();
  await t.rejects(openStore(await versionZeroFile(), { readOnly: true, migrations: testMigrations }), new RegExp(`schema version 0 needs migrating to ${SCHEMA_VERSION}, and the file is opened read-only`));
});
