// Storage write throughput: rows/s of 1,000,000 synthetic `flows` rows into a DuckDB file through TableWriter
// (column-wise, Arrow batches copied into data chunks), against DuckDB's appender fed value by value. Not part of
// `npm test` (it takes about 20 s and the numbers depend on the machine). Goal: ≥ 500k rows/s into a file.
//
// Measured on the 2-core dev machine (node 20, DuckDB 1.5.6), 1M rows into a file: flows (29 columns, 12 of them
// text) 187k rows/s through TableWriter.append, 65k value by value; DuckDB's own single-threaded INSERT … SELECT
// of the same rows 366k (the bound for one appender); anomalies (6 columns) 1.14M rows/s. In memory: flows 270–320k.
// The goal holds for narrow tables, not for flows: there DuckDB's compression of the row groups is about half the
// time, and the rest is JS building the batches (the two could overlap with the appender in a worker thread).
//
//   npm run build && node bench/writer.mjs [rows] [--memory] [--only=NAME-PART]
//
// It imports the built dist/ (there is no TypeScript loader at run time). Each case writes to a fresh file in a
// temporary directory and includes the final flush and close (the checkpoint to disk).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist/src/store', p));
const { openStore } = await dist('db.js');
const { TableWriter } = await dist('writer.js');
const { tableDef } = await dist('schema.js');

const args = process.argv.slice(2);
const ROWS = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const inMemory = args.includes('--memory');
const flows = tableDef('flows');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-bench-writer-'));
const T0 = 1_700_000_000;

/** Row i of the synthetic flows: every column filled, a few NULLs, strings of typical lengths. */
function flowRow(i) {
  const tcp = i % 5 !== 0;
  return {
    ts_start: [T0 + (i >> 4), (i * 7919) % 1e9],
    capture_id: 1,
    flow_id: i,
    ts_end: [T0 + (i >> 4) + 30, (i * 104729) % 1e9],
    transport: tcp ? 'tcp' : 'udp',
    client_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    client_port: 1024 + (i % 60000),
    server_ip: `192.0.2.${i % 250}`,
    server_port: tcp ? 6667 : 5060,
    orientation: 'syn',
    packets_c2s: i % 1000,
    packets_s2c: (i * 3) % 1000,
    bytes_c2s: i * 60,
    bytes_s2c: i * 120,
    payload_bytes_c2s: i * 20,
    payload_bytes_s2c: i * 80,
    end_reason: 'fin',
    gaps: tcp ? i % 3 : null,
    gap_bytes: tcp ? (i % 3) * 1460 : null,
    retransmissions: tcp ? i % 7 : null,
    vlan: i % 11 === 0 ? 100 : null,
    tunnel_depth: 0,
    protocol: tcp ? 'irc' : 'sip',
    app: tcp ? 'libera.chat' : null,
    app_kind: 'chat',
    method: 'payload',
    confidence: 0.95,
    server_name: tcp ? 'irc.libera.chat' : null,
    anomalies: i % 97 === 0 ? 'tcp_gap,irc_line_size_exceeded' : null,
  };
}

async function fresh(name) {
  const file = inMemory ? ':memory:' : path.join(dir, `${name}.duckdb`);
  return openStore(file);
}

const only = args.find((a) => a.startsWith('--only='))?.slice(7);

async function timed(name, rows, fn) {
  if (only !== undefined && !name.includes(only)) return 0;
  const store = await fresh(name);
  const t = process.hrtime.bigint();
  await fn(store);
  store.close();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  console.log(`${name.padEnd(34)} ${String(rows).padStart(9)} rows  ${s.toFixed(2).padStart(6)} s  ${Math.round(rows / s).toLocaleString('en').padStart(11)} rows/s`);
  return rows / s;
}

const names = flows.columns.map((c) => c.name);
console.log(`flows: ${names.length} columns, ${inMemory ? 'in memory' : `files in ${dir}`}, node ${process.version}`);

await timed('TableWriter.append (objects)', ROWS, async (store) => {
  const w = await TableWriter.open(store.connection, flows);
  for (let i = 0; i < ROWS; i++) w.append(flowRow(i));
  await w.close();
});

await timed('TableWriter.appendRow (arrays)', ROWS, async (store) => {
  const w = await TableWriter.open(store.connection, flows);
  for (let i = 0; i < ROWS; i++) {
    const r = flowRow(i);
    w.appendRow(names.map((n) => r[n]));
  }
  await w.close();
});

// DuckDB alone, for scale: the same rows copied by SQL from the file the first case wrote, on one thread (the
// appender is single-threaded too) — the bound for any writer, since it includes no JS at all.
if (!inMemory && (only === undefined || 'DuckDB INSERT SELECT'.includes(only))) {
  const src = path.join(dir, 'TableWriter.append (objects).duckdb');
  if (fs.existsSync(src)) {
    await timed('DuckDB INSERT SELECT, 1 thread', ROWS, async (store) => {
      await store.connection.run(`ATTACH '${src.replaceAll("'", "''")}' AS src (READ_ONLY)`);
      await store.connection.run('SET threads = 1');
      await store.connection.run('INSERT INTO flows SELECT * FROM src.flows');
    });
  }
}

// A narrow table (anomalies: 6 columns, 2 of them text), where DuckDB's share of the work is smaller.
const anomalies = tableDef('anomalies');
await timed('TableWriter.append, anomalies', ROWS, async (store) => {
  const w = await TableWriter.open(store.connection, anomalies);
  for (let i = 0; i < ROWS; i++) {
    w.append({ ts: [T0 + (i >> 4), i * 13], capture_id: 1, flow_id: i >> 2, code: i % 3 ? 'tcp_gap' : 'irc_line_size_exceeded', detail: null, file_offset: i * 1514 });
  }
  await w.close();
});

// Value by value through DuckDB's appender: what the writer replaces. Timestamps need a BigInt and an object each.
const { DuckDBTimestampNanosecondsValue } = await import('@duckdb/node-api');
const ROW_ROWS = Math.min(ROWS, 300_000);
await timed('appender value by value', ROW_ROWS, async (store) => {
  const a = await store.connection.createAppender('flows');
  const ts = (p) => new DuckDBTimestampNanosecondsValue(BigInt(p[0]) * 1_000_000_000n + BigInt(p[1]));
  for (let i = 0; i < ROW_ROWS; i++) {
    const r = flowRow(i);
    for (const c of flows.columns) {
      const v = r[c.name];
      if (v === null || v === undefined) a.appendNull();
      else if (c.type === 'TIMESTAMP_NS') a.appendTimestampNanoseconds(ts(v));
      else if (c.type === 'BIGINT') a.appendBigInt(BigInt(v));
      else if (c.type === 'INTEGER') a.appendInteger(v);
      else if (c.type === 'USMALLINT') a.appendUSmallInt(v);
      else if (c.type === 'UTINYINT') a.appendUTinyInt(v);
      else if (c.type === 'DOUBLE') a.appendDouble(v);
      else a.appendVarchar(v);
    }
    a.endRow();
  }
  a.closeSync();
});

const check = await fresh('check');
const w = await TableWriter.open(check.connection, flows);
for (let i = 0; i < 5000; i++) w.append(flowRow(i));
await w.close();
const got = (await check.connection.runAndReadAll('SELECT count(*), sum(flow_id), count(vlan) FROM flows')).getRows()[0];
check.close();
console.log(`check: ${got.join(', ')} (expected 5000, 12497500, ${Array.from({ length: 5000 }, (_, i) => i % 11 === 0).filter(Boolean).length})`);
fs.rmSync(dir, { recursive: true, force: true });
