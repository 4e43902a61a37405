// Storage write throughput: rows/s of 1,000,000 synthetic `flows` rows into a DuckDB file through TableWriter (rows
// built column-wise in DuckDB's vector layout and copied into data chunks on this thread), through a WorkerStore's
// writer (the same rows built here, DuckDB's appender in a worker thread), against DuckDB's appender fed value by
// value and DuckDB's own INSERT … SELECT of the same rows. Not part of `npm test` (it takes about a minute and the
// numbers depend on the machine). Goal (issue 4): ≥ 500k rows/s into a file.
//
// 2026-11-23, 2-core dev machine shared with other builds (load average 5-13 during the runs, so every wall time is
// 1.5-3× what an idle machine gives; compare within a run), node 20, DuckDB 1.5.6, medians of 5 runs of the whole
// bench: flows (30 columns, 11 of them text) 77k rows/s through TableWriter.append, 136k through the WorkerStore,
// DuckDB's own single-threaded INSERT … SELECT 225k (2 threads: 160k, no faster on this machine); anomalies
// (6 columns) 624k / 552k; value by value 31k. Alternating runs against the previous writer (Arrow batches copied
// into chunks) gave TableWriter.append 93k → 177k rows/s (medians of 7), CPU per row down by a quarter.
// Where the time goes now (perf, --cpu-prof): the JS side (row objects → column buffers) is about 1 µs per flows row;
// DuckDB's appender about 2.5-3, more than half of it in VARCHAR handling (string statistics and distinct-count
// sketches, dictionary and FSST analysis and compression). With the worker, the wall time is DuckDB's alone, so
// flows stay below 500k rows/s whatever the JS does: the bound is DuckDB's single-threaded append of 11 text
// columns. Declaring the seven low-cardinality text columns as ENUM halves DuckDB's CPU for the same rows (INSERT …
// SELECT, 500k rows, 1 thread: median 1.85 → 0.99 CPU s over 5 runs).
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
const { openWorkerStore } = await dist('worker-store.js');

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

/** Times `fn` on a fresh store, from after the open to after the close (the checkpoint); CPU time of all threads too. */
async function timed(name, rows, fn, { worker = false } = {}) {
  if (only !== undefined && !name.includes(only)) return 0;
  const file = inMemory ? ':memory:' : path.join(dir, `${name}.duckdb`);
  const store = worker ? await openWorkerStore(file) : await fresh(name);
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  await fn(store);
  if (worker) await store.close();
  else store.close();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const c = process.cpuUsage(cpu);
  const cs = (c.user + c.system) / 1e6;
  console.log(`${name.padEnd(40)} ${String(rows).padStart(9)} rows  ${s.toFixed(2).padStart(6)} s  ${Math.round(rows / s).toLocaleString('en').padStart(11)} rows/s  cpu ${cs.toFixed(2).padStart(5)} s`);
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

// The same rows, built on this thread and written by DuckDB in the store's worker thread (worker-store.ts): the two
// halves of the work overlap on two cores.
await timed('WorkerStore writer.append (objects)', ROWS, async (store) => {
  const w = await store.writer(flows);
  for (let i = 0; i < ROWS; i++) w.append(flowRow(i));
  await w.close();
}, { worker: true });

// Rows written straight into the column buffers through the setters (appendWith: no row object, as the flows of an
// ingest are), then DuckDB on the worker: the JS share of a row is smallest here.
const col = Object.fromEntries(names.map((n, i) => [n, i]));
function fillFlow(c, r, i) {
  const tcp = i % 5 !== 0;
  c[col.ts_start].setTsParts(r, T0 + (i >> 4), (i * 7919) % 1e9);
  c[col.capture_id].setI64(r, 1);
  c[col.flow_id].setI64(r, i);
  c[col.ts_end].setTsParts(r, T0 + (i >> 4) + 30, (i * 104729) % 1e9);
  c[col.transport].setStr(r, tcp ? 'tcp' : 'udp');
  c[col.client_ip].setStr(r, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  c[col.client_port].setU16(r, 1024 + (i % 60000));
  c[col.server_ip].setStr(r, `192.0.2.${i % 250}`);
  c[col.server_port].setU16(r, tcp ? 6667 : 5060);
  c[col.orientation].setStr(r, 'syn');
  c[col.packets_c2s].setI64(r, i % 1000);
  c[col.packets_s2c].setI64(r, (i * 3) % 1000);
  c[col.bytes_c2s].setI64(r, i * 60);
  c[col.bytes_s2c].setI64(r, i * 120);
  c[col.payload_bytes_c2s].setI64(r, i * 20);
  c[col.payload_bytes_s2c].setI64(r, i * 80);
  c[col.end_reason].setStr(r, 'fin');
  if (tcp) {
    c[col.gaps].setI32(r, i % 3);
    c[col.gap_bytes].setI64(r, (i % 3) * 1460);
    c[col.retransmissions].setI64(r, i % 7);
  }
  if (i % 11 === 0) c[col.vlan].setI32(r, 100);
  c[col.tunnel_depth].setU8(r, 0);
  c[col.protocol].setStr(r, tcp ? 'irc' : 'sip');
  if (tcp) c[col.app].setStr(r, 'libera.chat');
  c[col.app_kind].setStr(r, 'chat');
  c[col.method].setStr(r, 'payload');
  c[col.confidence].setF64(r, 0.95);
  if (tcp) c[col.server_name].setStr(r, 'irc.libera.chat');
  if (i % 97 === 0) c[col.anomalies].setStr(r, 'tcp_gap,irc_line_size_exceeded');
}
await timed('TableWriter.appendWith (setters)', ROWS, async (store) => {
  const w = await TableWriter.open(store.connection, flows);
  for (let i = 0; i < ROWS; i++) w.appendWith(fillFlow, i);
  await w.close();
});
await timed('WorkerStore writer.appendWith (setters)', ROWS, async (store) => {
  const w = await store.writer(flows);
  for (let i = 0; i < ROWS; i++) w.appendWith(fillFlow, i);
  await w.close();
}, { worker: true });

// DuckDB alone, for scale: the same rows copied by SQL from the file the first case wrote, on one thread (the
// appender is single-threaded too) — the bound for any writer, since it includes no JS at all.
if (!inMemory && (only === undefined || 'DuckDB INSERT SELECT'.includes(only))) {
  const src = path.join(dir, 'TableWriter.append (objects).duckdb');
  if (fs.existsSync(src)) {
    for (const threads of [1, 2]) {
      await timed(`DuckDB INSERT SELECT, ${threads} thread${threads > 1 ? 's' : ''}`, ROWS, async (store) => {
        await store.connection.run(`ATTACH '${src.replaceAll("'", "''")}' AS src (READ_ONLY)`);
        await store.connection.run(`SET threads = ${threads}`);
        await store.connection.run('INSERT INTO flows SELECT * FROM src.flows');
      });
    }
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

await timed('WorkerStore writer.append, anomalies', ROWS, async (store) => {
  const w = await store.writer(anomalies);
  for (let i = 0; i < ROWS; i++) {
    w.append({ ts: [T0 + (i >> 4), i * 13], capture_id: 1, flow_id: i >> 2, code: i % 3 ? 'tcp_gap' : 'irc_line_size_exceeded', detail: null, file_offset: i * 1514 });
  }
  await w.close();
}, { worker: true });

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
const CHECK_SQL = 'SELECT count(*) AS n, sum(flow_id) AS s, count(vlan) AS v, sum(length(server_name)) AS sn FROM flows';
const got = Object.values((await check.connection.runAndReadAll(CHECK_SQL)).getRowObjectsJS()[0]);
check.close();
const checkW = await openWorkerStore(path.join(dir, 'check-worker.duckdb'));
const ww = await checkW.writer(flows);
for (let i = 0; i < 5000; i++) ww.append(flowRow(i));
await ww.close();
const gotW = Object.values((await checkW.query(CHECK_SQL))[0]);
await checkW.close();
const vlans = Array.from({ length: 5000 }, (_, i) => i % 11 === 0).filter(Boolean).length;
console.log(`check: ${got.join(', ')}; worker ${gotW.join(', ')} (expected 5000, 12497500, ${vlans}, ${4000 * 15})`);
fs.rmSync(dir, { recursive: true, force: true });
