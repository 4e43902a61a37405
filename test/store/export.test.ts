// imtap export: Parquet read back by DuckDB, Arrow IPC read back by apache-arrow, CSV read back by DuckDB: the same
// rows as the tables, with the declared types (nanosecond timestamps included).
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import { imtap } from '../helpers/cli.js';
import { openStore } from '../../src/store/db.js';
import { fixture } from '../helpers/fixtures.js';
import { tableDef } from '../../src/store/schema.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-export-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const db = path.join(tmp, 'e.duckdb');


async function q(sql: string) {
  const s = await openStore(db, { readOnly: true });
  try {
    return (await s.connection.runAndReadAll(sql)).getRowsJson();
  } finally {
    s.close();
  }
}

t.before(async () => {
  const r = await imtap(['ingest', '--db', db, fixture('apps/sites.pcapng'), fixture('oscar/icq-oscar-on-443.pcapng')]);
  if (r.code !== 0) throw new Error(r.stderr);
});

t.test('parquet and csv, read back by DuckDB, equal the tables', async (t) => {
  for (const format of ['parquet', 'csv'] as const) {
    const out = path.join(tmp, format);
    const r = await imtap(['export', '--db', db, '--format', format, '--out', out]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, new RegExp(`flows\\.${format}: 65 rows`));
    for (const table of ['captures', 'flows', 'anomalies']) {
      const file = path.join(out, `${table}.${format}`);
      const columns = tableDef(table).columns.map((c) => `'${c.name}': '${c.type}'`).join(', ');
      const reader = format === 'parquet' ? `read_parquet('${file}')` : `read_csv('${file}', header = true, columns = {${columns}})`;
      const diff = await q(`SELECT count(*) FROM ((SELECT * FROM ${table} EXCEPT ALL SELECT * FROM ${reader}) UNION ALL (SELECT * FROM ${reader} EXCEPT ALL SELECT * FROM ${table}))`);
      t.equal(Number(diff[0]![0]), 0, `${format} ${table}: no row differs`);
    }
  }
});

t.test('arrow IPC, read back by apache-arrow, has the declared types and the same values', async (t) => {
  const out = path.join(tmp, 'arrow');
  const r = await imtap(['export', '--db', db, '--format', 'arrow', '--out', out, '--table', 'flows']);
  t.equal(r.code, 0, r.stderr);
  const table = arrow.tableFromIPC(fs.readFileSync(path.join(out, 'flows.arrow')));
  t.equal(table.numRows, 65);
  const field = table.schema.fields.find((f) => f.name === 'ts_start')!;
  t.equal(field.type.typeId, arrow.Type.Timestamp);
  t.equal((field.type as arrow.Timestamp).unit, arrow.TimeUnit.NANOSECOND);
  const want = await q('SELECT epoch_ns(ts_start)::VARCHAR, client_ip, server_port, bytes_c2s::VARCHAR FROM flows ORDER BY capture_id, flow_id');
  // Timestamps as the raw int64 nanoseconds of the Arrow buffers (toJSON would round them to float milliseconds).
  const raw = (name: string) => table.getChild(name)!.data.flatMap((d) => Array.from(d.values as BigInt64Array, String));
  const ts = raw('ts_start');
  const bytes = raw('bytes_c2s');
  const got = table.toArray().map((row, i) => {
    const o = row.toJSON() as Record<string, unknown>;
    return [ts[i], o.client_ip, o.server_port, bytes[i]];
  });
  t.same(got, want);
  t.equal((await imtap(['export', '--db', db, '--format', 'arrow', '--out', out, '--table', 'nope'])).code, 2);
});
