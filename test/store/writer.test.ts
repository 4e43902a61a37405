import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as arrow from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import { openStore, type Store } from '../../src/store/db.js';
import { createStatements, SCHEMA_VERSION, tableDef, type TableDef } from '../../src/store/schema.js';
import { TableWriter, type CellValue } from '../../src/store/writer.js';
import { openWorkerStore, prewarmStoreWorker } from '../../src/store/worker-store.js';
import { localStore, type SqlStore } from '../../src/store/local-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-store-writer-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => path.join(dir, `w-${++n}.duckdb`);

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A table with one column of every type the schema uses (a test table, created next to the real ones). */
const ALL: TableDef = {
  name: 'all_types',
  doc: 'test',
  columns: [
    { name: 'id', type: 'INTEGER', nullable: false, doc: 'row number' },
    { name: 'i64', type: 'BIGINT', nullable: true, doc: 'x' },
    { name: 'ts', type: 'TIMESTAMP_NS', nullable: true, doc: 'x' },
    { name: 'i32', type: 'INTEGER', nullable: true, doc: 'x' },
    { name: 'u16', type: 'USMALLINT', nullable: true, doc: 'x' },
    { name: 'u8', type: 'UTINYINT', nullable: true, doc: 'x' },
    { name: 'f64', type: 'DOUBLE', nullable: true, doc: 'x' },
    { name: 's', type: 'VARCHAR', nullable: true, doc: 'x' },
    { name: 'b', type: 'BLOB', nullable: true, doc: 'x' },
    { name: 'bo', type: 'BOOLEAN', nullable: true, doc: 'x' },
    { name: 'kind', type: 'VARCHAR', nullable: true, doc: 'x', values: ['a', 'b'] },
  ],
};

async function storeWithAll(f = ':memory:'): Promise<Store> {
  const s = await openStore(f);
  for (const sql of createStatements([ALL])) await s.connection.run(sql);
  return s;
}

const READ_ALL = `SELECT id, i64, epoch_ns(ts)::VARCHAR AS ts, i32, u16, u8, f64, s, hex(b) AS b, bo, kind FROM all_types ORDER BY id`;

t.test('every type round-trips, NULL included, timestamps to the nanosecond', async (t) => {
  const s = await storeWithAll(file());
  const w = await TableWriter.open(s.connection, ALL, { batchRows: 2 });
  w.append({ id: 0, i64: Number.MAX_SAFE_INTEGER, ts: [4294967295, 999999999], i32: -2147483648, u16: 65535, u8: 255, f64: -0.5, s: 'hello', b: Buffer.from([0, 1, 255]), bo: true, kind: 'a' });
  w.append({ id: 1 });
  w.appendRow([2, -Number.MAX_SAFE_INTEGER, [0, 1], 2147483647, 0, 0, 1e300, '', new Uint8Array(0), false, null]);
  w.append({ id: 3, i64: 2n ** 63n - 1n, ts: 2n ** 63n - 1n, f64: Number.NaN });
  w.append({ id: 4, i64: -(2n ** 63n), ts: [-1, 500000000], s: 'x'.repeat(13), b: new Uint8Array(13).fill(0xfe) });
  w.append({ id: 5, ts: [8589934592, 5], i64: 0 });
  w.append({ id: 6, ts: [1700000000, 123456789], i64: -1, f64: Number.POSITIVE_INFINITY });
  await w.close();
  t.equal(w.rowsWritten, 7);
  t.equal(w.batchesWritten, 4);
  const got = await rows(s.connection, READ_ALL);
  const nul = { i64: null, ts: null, i32: null, u16: null, u8: null, f64: null, s: null, b: null, bo: null, kind: null };
  t.same(got, [
    { id: 0, i64: 9007199254740991n, ts: '4294967295999999999', i32: -2147483648, u16: 65535, u8: 255, f64: -0.5, s: 'hello', b: '0001FF', bo: true, kind: 'a' },
    { id: 1, ...nul },
    { ...nul, id: 2, i64: -9007199254740991n, ts: '1', i32: 2147483647, u16: 0, u8: 0, f64: 1e300, s: '', b: '', bo: false },
    { ...nul, id: 3, i64: 9223372036854775807n, ts: '9223372036854775807', f64: Number.NaN },
    { ...nul, id: 4, i64: -9223372036854775808n, ts: '-500000000', s: 'x'.repeat(13), b: 'FE'.repeat(13) },
    { ...nul, id: 5, i64: 0n, ts: '8589934592000000005' },
    { ...nul, id: 6, i64: -1n, ts: '1700000000123456789', f64: Number.POSITIVE_INFINITY },
  ]);
  t.same(await rows(s.connection, `SELECT ts::VARCHAR AS t FROM all_types WHERE id = 6`), [{ t: '2023-11-14 22:13:20.123456789' }]);
  s.close();
});

t.test('(seconds, nanoseconds) becomes exact int64 nanoseconds without BigInt', async (t) => {
  const s = await storeWithAll();
  const got: bigint[] = [];
  const want: bigint[] = [];
  const w = await TableWriter.open(s.connection, ALL, { batchRows: 1000, onBatch: (b) => got.push(...(b.getChild('ts')!.toArray() as BigInt64Array)) });
  const edges = [0, 1, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 33 - 1];
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 5000; i++) {
    const sec = i < edges.length ? edges[i]! : Math.floor(rand() * 2 ** 33);
    const ns = i % 3 === 0 ? 999999999 : i % 3 === 1 ? 0 : Math.floor(rand() * 1e9);
    w.append({ id: i, ts: [sec, ns] });
    want.push(BigInt(sec) * 1_000_000_000n + BigInt(ns));
  }
  await w.close();
  t.same(got, want);
  s.close();
});

t.test('NULLs in one batch do not leak into the next; big batches are split into DuckDB chunks', async (t) => {
  const s = await storeWithAll();
  const w = await TableWriter.open(s.connection, ALL, { batchRows: 5000 });
  for (let i = 0; i < 12000; i++) {
    // Nulls only in the first 5000 rows, around the 2048-row chunk boundaries too.
    const nulls = i < 5000 && i % 7 === 0;
    w.append({ id: i, i64: nulls ? null : i, s: nulls ? null : `v${i % 10}`, bo: nulls ? null : i % 2 === 0, ts: nulls ? null : [i, i] });
  }
  await w.close();
  t.equal(w.batchesWritten, 3);
  const [r] = await rows(
    s.connection,
    `SELECT count(*) AS n, count(i64) AS i64, sum(i64) AS sum, count(s) AS s, count(bo) AS bo, count(*) FILTER (bo) AS yes,
            count(*) FILTER (id >= 5000 AND i64 IS NULL) AS late_nulls, count(*) FILTER (i64 <> id) AS wrong,
            count(*) FILTER (epoch_ns(ts) <> id::BIGINT * 1000000000 + id) AS wrong_ts
     FROM all_types`,
  );
  const nullCount = Math.ceil(5000 / 7);
  let sum = 0n;
  for (let i = 0; i < 12000; i++) if (!(i < 5000 && i % 7 === 0)) sum += BigInt(i);
  t.same(r, { n: 12000n, i64: BigInt(12000 - nullCount), sum, s: BigInt(12000 - nullCount), bo: BigInt(12000 - nullCount), yes: BigInt(6000 - Math.ceil(5000 / 14)), late_nulls: 0n, wrong: 0n, wrong_ts: 0n });
  s.close();
});

t.test('Arrow batches outlive the writer and can be appended elsewhere, sliced too', async (t) => {
  const a = await storeWithAll();
  const batches: arrow.RecordBatch[] = [];
  const w = await TableWriter.open(a.connection, ALL, { batchRows: 4, onBatch: (b) => batches.push(b) });
  for (let i = 0; i < 10; i++) w.append({ id: i, i64: i % 3 === 0 ? null : i * 1000, s: i % 4 === 0 ? null : `row ${i} ${'·'.repeat(i)}`, bo: i % 2 === 0, b: Buffer.from([i]), ts: [i, 7] });
  t.equal(w.toArrowBatch()?.numRows, 2, 'toArrowBatch hands over the buffered rows');
  await w.close();
  t.same(batches.map((b) => b.numRows), [4, 4, 2]);
  t.same(batches[0]!.getChild('id')!.toArray(), new Int32Array([0, 1, 2, 3]), 'the first batch still holds its rows');
  t.same(batches[0]!.getChild('s')!.toArray(), [null, 'row 1 ·', 'row 2 ··', 'row 3 ···']);
  t.equal(batches[0]!.schema.fields.find((f) => f.name === 'ts')!.type.toString(), 'Timestamp<NANOSECOND>');

  const b = await storeWithAll();
  const w2 = await TableWriter.open(b.connection, ALL);
  for (const batch of batches) w2.appendBatch(batch);
  const whole = batches[0]!;
  w2.appendBatch(whole.slice(1, 4)); // offset 1: validity bits not on a byte boundary
  await w2.close();
  t.equal(w2.rowsWritten, 13);
  const want = await rows(a.connection, READ_ALL);
  const got = await rows(b.connection, READ_ALL.replace('ORDER BY id', 'ORDER BY rowid'));
  t.same(got.slice(0, 10), want);
  t.same(got.slice(10), want.slice(1, 4), 'the sliced batch');
  t.throws(() => w2.append({ id: 1 }), /writer for all_types is closed \(13 rows written\)/);
  a.close();
  b.close();
});

t.test('bad rows throw with the table, column and value, and leave no trace', async (t) => {
  const s = await storeWithAll();
  const w = await TableWriter.open(s.connection, ALL);
  const cases: [Record<string, CellValue>, RegExp][] = [
    [{ id: 1, nosuch: 1 }, /all_types has no column nosuch \(columns: id, i64/],
    [{ s: 'x' }, /all_types\.id is NOT NULL; row 0 of the batch leaves it out/],
    [{ id: null }, /all_types\.id is NOT NULL; row 0 of the batch has object null/],
    [{ id: 1, i64: 2 ** 53 }, /all_types\.i64 takes a safe integer \(or a bigint\); row 0 of the batch has number 9007199254740992/],
    [{ id: 1, i64: 2n ** 63n }, /all_types\.i64 takes a value in the int64 range; row 0 of the batch has 9223372036854775808n/],
    [{ id: 1, u16: 65536 }, /all_types\.u16 takes an integer from 0 to 65535; row 0 of the batch has number 65536/],
    [{ id: 1, u8: -1 }, /all_types\.u8 takes an integer from 0 to 255/],
    [{ id: 1.5 }, /all_types\.id takes an integer from -2147483648 to 2147483647; row 0 of the batch has number 1\.5/],
    [{ id: 1, ts: [1, 1e9] }, /all_types\.ts takes \[seconds, nanoseconds\] with integer seconds and 0 ≤ nanoseconds < 1e9; row 0 of the batch has \[number 1, number 1000000000\]/],
    [{ id: 1, ts: 1.5 }, /all_types\.ts takes \[seconds, nanoseconds\] or a bigint of nanoseconds/],
    [{ id: 1, s: 5 }, /all_types\.s takes a string; row 0 of the batch has number 5/],
    [{ id: 1, b: 'text' }, /all_types\.b takes a Uint8Array; row 0 of the batch has "text"/],
    [{ id: 1, bo: 1 }, /all_types\.bo takes a boolean/],
    [{ id: 1, kind: 'c' }, /all_types\.kind takes one of a, b; row 0 of the batch has "c"/],
  ];
  for (const [row, re] of cases) t.throws(() => w.append({ i64: 5, s: 'left behind', ...row }), re);
  t.throws(() => w.appendRow([1, 2]), /all_types row has 2 values, the table 11 columns/);
  w.append({ id: 9 });
  await w.close();
  t.same(await rows(s.connection, 'SELECT id, i64, s FROM all_types'), [{ id: 9, i64: null, s: null }], 'only the good row, with nothing of the failed ones');
  t.equal(w.rowsWritten, 1);
  await t.rejects(TableWriter.open(s.connection, ALL, { batchRows: 0 }), /batchRows 0 for all_types: must be an integer from 1 to 1048576/);
  s.close();
});

t.test('a writer refuses a table whose columns differ from the declaration', async (t) => {
  const s = await storeWithAll();
  await t.rejects(TableWriter.open(s.connection, { ...ALL, columns: ALL.columns.slice(0, 3) }), /table all_types has 11 columns in the database, 3 in schema\.ts/);
  const swapped = ALL.columns.map((c) => (c.name === 'u8' ? { ...c, type: 'USMALLINT' as const } : c));
  await t.rejects(TableWriter.open(s.connection, { ...ALL, columns: swapped }), /column all_types\.u8 is UTINYINT in the database, USMALLINT in schema\.ts/);
  s.close();
});

/** Strings a network peer can send; what comes back is the string, with lone surrogates as U+FFFD. */
const HOSTILE = [
  `quotes ' " \` and a '); DROP TABLE messages; --`,
  'back\\slash \\0 \\x00 %s %n',
  '\0',
  '\0leading NUL',
  'trailing NUL\0',
  'mid\0dle\0\0NULs',
  'new\nline\r\ncr\ttab\vvt\ffeed',
  Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('') + '\x7f',
  '\x80\x9f C1 controls and ÿ',
  'emoji 😀 family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👍🏽',
  'combining é (e + U+0301), RTL \u202e override \u202c, BOM \ufeff, U+FFFF \uffff, U+FFFD \ufffd',
  'lone high \ud800 here',
  'lone low \udc00 here',
  'reversed \udc00\ud800 pair',
  '\ud83d', // half an emoji at the very end of a (truncated) message
  '123456789012', // 12 bytes: the longest inline DuckDB string
  '1234567890123', // 13 bytes: the shortest heap one
  'ééééé12', // 12 bytes in 7 characters
  'éééééé1', // 13 bytes in 7 characters
  '中文字符', // 12 bytes
  '<b>html</b> &amp; ]]> <![CDATA[',
  'x'.repeat(100_000),
  '',
];

t.test('hostile strings survive (lone surrogates become U+FFFD), across batches and a reopen', async (t) => {
  const f = file();
  let s = await openStore(f);
  const def = tableDef('messages');
  let w = await TableWriter.open(s.connection, def, { batchRows: 5 });
  HOSTILE.forEach((body, i) => w.append({ ts: [1700000000, i], capture_id: 1, flow_id: i, app: 'irc', body, sender: body.slice(0, 20), body_raw: Buffer.from([0xff, 0xfe, 0, 0xc3, 0x28, i]) }));
  await w.close();
  s.close();
  s = await openStore(f);
  const got = await rows(s.connection, 'SELECT flow_id, body, sender, octet_length(encode(body)) AS bytes, hex(body_raw) AS raw FROM messages ORDER BY flow_id');
  const wellFormed = (x: string) => Buffer.from(x, 'utf8').toString('utf8');
  t.same(
    got.map((r) => r.body),
    HOSTILE.map(wellFormed),
  );
  t.same(got.map((r) => r.sender), HOSTILE.map((x) => wellFormed(x.slice(0, 20))));
  t.same(got.map((r) => r.bytes), HOSTILE.map((x) => BigInt(Buffer.byteLength(x, 'utf8'))));
  t.same(got.map((r) => r.raw), HOSTILE.map((_, i) => `FFFE00C328${i.toString(16).toUpperCase().padStart(2, '0')}`), 'BLOB bytes, invalid UTF-8 included, unchanged');
  t.equal(wellFormed('lone high \ud800 here'), 'lone high \ufffd here');
  // Equality and grouping see inline strings written by the writer as equal to SQL literals (zeroed padding).
  w = await TableWriter.open(s.connection, def);
  for (let i = 0; i < 3000; i++) w.append({ ts: [1, 0], capture_id: 2, flow_id: i, app: i % 2 ? 'irc' : 'xmpp-client-long' });
  await w.close();
  t.same(await rows(s.connection, `SELECT app, count(*) AS n FROM messages WHERE capture_id = 2 GROUP BY app ORDER BY app`), [
    { app: 'irc', n: 1500n },
    { app: 'xmpp-client-long', n: 1500n },
  ]);
  t.same(await rows(s.connection, `SELECT count(*) AS n FROM messages WHERE app = 'irc' AND capture_id = 2`), [{ n: 1500n }]);
  t.same(await rows(s.connection, `SELECT flow_id FROM messages WHERE body = 'mid' || chr(0) || 'dle' || chr(0) || chr(0) || 'NULs'`), [{ flow_id: 5n }]);
  s.close();
});

t.test('rows written earlier are there after a reopen, and more can be added', async (t) => {
  const f = file();
  const flows = tableDef('flows');
  const flow = (i: number): Record<string, CellValue> => ({
    ts_start: [1600000000 + i, 1],
    capture_id: 1,
    flow_id: i,
    ts_end: [1600000000 + i, 2],
    transport: 'tcp',
    client_ip: '10.0.0.1',
    client_port: 40000,
    server_ip: '2001:db8::1',
    server_port: 6667,
    packets_c2s: 1,
    packets_s2c: 2,
    bytes_c2s: 60,
    bytes_s2c: 120,
    tunnel_depth: 0,
  });
  for (let round = 0; round < 3; round++) {
    const s = await openStore(f);
    const w = await TableWriter.open(s.connection, flows);
    for (let i = 0; i < 1000; i++) w.append(flow(round * 1000 + i));
    await w.close();
    s.close();
  }
  const s = await openStore(f);
  t.same(await rows(s.connection, 'SELECT count(*) AS n, count(DISTINCT flow_id) AS d, max(ts_start)::VARCHAR AS last FROM flows'), [
    { n: 3000n, d: 3000n, last: new Date((1600000000 + 2999) * 1000).toISOString().replace('T', ' ').replace('.000Z', '.000000001') },
  ]);
  s.close();
});

// ---- WorkerStore: the same writer with DuckDB in a worker thread ----

/** Rows exercising every type: NULLs, long and short strings (inline, heap, repeated, across chunks), hostile text. */
function allRow(i: number): Record<string, CellValue> {
  const s = i % 13 === 0 ? null : i % 5 === 0 ? HOSTILE[i % HOSTILE.length]! : i % 3 === 0 ? `a long value number ${i % 40}` : i % 2 ? 'short' : `v${i}`;
  return {
    id: i,
    i64: i % 7 === 0 ? null : i % 2 ? -i * 1e9 : BigInt(i) * 10n ** 12n,
    ts: i % 11 === 0 ? null : [1700000000 + i, (i * 7919) % 1e9],
    i32: i % 9 === 0 ? null : -i,
    u16: i % 65536,
    u8: i % 256,
    f64: i / 3,
    s,
    b: i % 4 === 0 ? null : new Uint8Array(i % 30).fill(i & 255),
    bo: i % 6 === 0 ? null : i % 2 === 0,
    kind: i % 3 === 0 ? null : i % 2 ? 'a' : 'b',
  };
}

t.test('a worker store writes exactly the rows TableWriter writes', async (t) => {
  const N = 9000;
  const a = await storeWithAll(file());
  const wa = await TableWriter.open(a.connection, ALL);
  for (let i = 0; i < N; i++) wa.append(allRow(i));
  await wa.close();
  const want = await rows(a.connection, READ_ALL);
  a.close();

  const f = file();
  const s = await openWorkerStore(f, { maxBatchesInFlight: 2 });
  t.equal(s.version, SCHEMA_VERSION);
  t.equal(s.created, true);
  for (const sql of createStatements([ALL])) await s.run(sql);
  const threads = async () => Number((await s.query(`SELECT current_setting('threads') AS n`))[0]!.n);
  const cores = os.availableParallelism();
  t.equal(await threads(), cores, 'every core for DuckDB while no writer is open');
  await s.run('BEGIN TRANSACTION');
  const w = await s.writer(ALL, { batchRows: 3000 });
  t.equal(await threads(), Math.max(1, cores - 1), 'one core left to the thread building rows');
  for (let i = 0; i < N; i++) {
    if (i % 2) w.append(allRow(i));
    else w.appendRow(ALL.columns.map((c) => allRow(i)[c.name] ?? null));
  }
  t.equal(w.pending, 0);
  await w.close();
  t.equal(w.rowsWritten, N);
  t.equal(w.batchesWritten, 3);
  t.equal(await threads(), cores);
  await s.run('COMMIT');
  t.same(await s.query('SELECT count(*) AS n FROM all_types WHERE id >= ?', [N - 10]), [{ n: 10n }], 'parameters are bound');
  t.same(await s.query(READ_ALL), want);
  await s.close();
  await s.close();
});

t.test('a worker writer: bad rows throw at once, and a batch DuckDB refuses fails the writer naming the table', async (t) => {
  const s = await openWorkerStore(file());
  // The database is stricter than the declaration: DuckDB, not the writer, refuses these values.
  await s.run(`CREATE TABLE strict (id INTEGER NOT NULL, s VARCHAR CHECK (s <> 'bad'), n INTEGER NOT NULL)`);
  const STRICT: TableDef = {
    name: 'strict',
    doc: 'test',
    columns: [
      { name: 'id', type: 'INTEGER', nullable: false, doc: 'x' },
      { name: 's', type: 'VARCHAR', nullable: true, doc: 'x' },
      { name: 'n', type: 'INTEGER', nullable: true, doc: 'x' },
    ],
  };
  await s.run('BEGIN TRANSACTION');
  const w = await s.writer(STRICT, { batchRows: 100 });
  t.throws(() => w.append({ id: 1, s: 5 }), /strict\.s takes a string; row 0 of the batch has number 5/);
  t.throws(() => w.append({ id: 1, nosuch: 1 }), /strict has no column nosuch/);
  for (let i = 0; i < 150; i++) w.append({ id: i, s: i === 120 ? 'bad' : 'ok', n: i });
  // The refusal arrives while rows go on; it is thrown by the writer at the latest when it hands over a batch.
  const err = await (async () => {
    try {
      for (let i = 150; i < 100_000; i++) w.append({ id: i, s: 'ok', n: i });
      await w.close();
    } catch (e) {
      return e as Error;
    }
    return null;
  })();
  // DuckDB checks constraints when its appender flushes (every 204,800 rows, and at the close).
  t.match(err?.message, /^strict: (appending rows \d+–\d+|closing the appender) failed after \d+ rows: .*CHECK constraint failed on table strict/);
  t.throws(() => w.append({ id: 1 }), /writer for strict is closed|strict: appending rows/);
  await w.close();
  await s.run('ROLLBACK');
  const w2 = await s.writer(STRICT);
  w2.append({ id: 1, s: 'x' }); // n is NULL: refused by DuckDB at the flush
  await t.rejects(w2.flush(), /strict: flushing failed after 1 rows: .*NOT NULL constraint failed: strict\.n/);
  await t.rejects(w2.close(), /NOT NULL constraint failed: strict\.n/);
  t.same(await s.query('SELECT count(*) AS n FROM strict'), [{ n: 0n }], 'nothing of the failed writers was kept');
  await t.rejects(s.query('SELECT nonsense FROM strict'), /nonsense/, 'SQL errors are DuckDB messages');
  await t.rejects(s.writer({ ...STRICT, columns: STRICT.columns.slice(0, 2) }), /table strict has 3 columns in the database, 2 in schema\.ts/);
  await s.close();
  await t.rejects(s.query('SELECT 1'), /the store is closed/);
});

t.test('a worker store that dies keeps what was committed, and the file opens again', async (t) => {
  const f = file();
  const flows = tableDef('flows');
  const flow = (i: number): Record<string, CellValue> => ({
    ts_start: [1600000000 + i, 1],
    capture_id: 1,
    flow_id: i,
    ts_end: [1600000000 + i, 2],
    transport: 'tcp',
    client_ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
    client_port: 40000,
    server_ip: '2001:db8::1:2:3:4',
    server_port: 6667,
    packets_c2s: 1,
    packets_s2c: 2,
    bytes_c2s: 60,
    bytes_s2c: 120,
    tunnel_depth: 0,
  });
  const s = await openWorkerStore(f);
  let w = await s.writer(flows);
  for (let i = 0; i < 1000; i++) w.append(flow(i));
  await w.close(); // auto-commit: these rows are committed
  await s.run('BEGIN TRANSACTION');
  w = await s.writer(flows);
  for (let i = 1000; i < 300_000; i++) w.append(flow(i)); // more than a row group: DuckDB writes some to the file
  await s.terminate();
  t.throws(() => {
    for (let i = 0; i < 5000; i++) w.append(flow(i));
  }, /the store worker was terminated/);
  await t.rejects(s.query('SELECT 1'), /terminated/);
  const again = await openStore(f);
  t.same(await rows(again.connection, 'SELECT count(*) AS n, max(flow_id) AS m FROM flows'), [{ n: 1000n, m: 999n }]);
  again.close();
});

t.test('a worker store refuses what openStore refuses, with its message', async (t) => {
  const f = file();
  const s = await openStore(f);
  await s.connection.run(`INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1}, now()::TIMESTAMP_NS)`);
  s.close();
  await t.rejects(openWorkerStore(f), { name: 'StoreError', message: /is newer than version/ });
});

t.test('a worker started ahead of time is the one the next open uses; a refusal still says why', async (t) => {
  const newer = file();
  const s0 = await openStore(newer);
  await s0.connection.run(`INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1}, now()::TIMESTAMP_NS)`);
  s0.close();
  const early = prewarmStoreWorker();
  t.equal(prewarmStoreWorker(), early, 'asked twice, one worker');
  await t.rejects(openWorkerStore(newer), { name: 'StoreError', message: /is newer than version/ }, 'the prewarmed worker reports the refusal');

  const id = prewarmStoreWorker();
  t.not(id, early, 'a new worker after the first was used');
  const f = file();
  const s = await openWorkerStore(f);
  t.equal(s.threadId, id, 'the store runs in the prewarmed worker');
  t.equal(s.created, true);
  await s.run('BEGIN TRANSACTION');
  const w = await s.writer(tableDef('anomalies'), { fixed: { capture_id: 7 } });
  for (let i = 0; i < 3000; i++) w.append({ ts: [1700000000 + i, 0], flow_id: i, code: 'test_code', detail: `row ${i}` });
  await w.close();
  await s.run('COMMIT');
  t.same(await s.query('SELECT count(*) AS n, max(flow_id) AS m FROM anomalies WHERE capture_id = 7'), [{ n: 3000n, m: 2999n }]);
  await s.close();

  const again = await openWorkerStore(f);
  t.not(again.threadId, id, 'with none prewarmed, a worker of its own');
  t.same(await again.query('SELECT count(*) AS n FROM anomalies'), [{ n: 3000n }], 'what the prewarmed worker wrote is in the file');
  await again.close();
});

t.test('a prewarmed worker nobody uses does not keep the process alive', async (t) => {
  const mod = path.join(process.cwd(), 'dist/src/store/worker-store.js');
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(mod)}); m.prewarmStoreWorker(); console.log('left');`], { encoding: 'utf8', timeout: 20_000 });
  t.equal(r.error, undefined, 'the process ended by itself (no timeout)');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'left\n');
  t.ok(Date.now() - started < 20_000);
});

t.test('the same code writes through localStore (this thread) and a WorkerStore, with the same result', async (t) => {
  const job = async (s: SqlStore): Promise<Record<string, unknown>[]> => {
    for (const sql of createStatements([ALL])) await s.run(sql);
    await s.run('BEGIN TRANSACTION');
    const w = await s.writer(ALL, { batchRows: 700 });
    for (let i = 0; i < 2500; i++) w.append(allRow(i));
    t.equal(w.pending, 2500 % 700);
    await w.close();
    t.equal(w.rowsWritten, 2500);
    await s.run('DELETE FROM all_types WHERE id % ? = 0', [100]);
    await s.run('COMMIT');
    const got = await s.query(READ_ALL);
    t.same(await s.query('SELECT count(*) AS n, ? AS x, ? AS y, ? AS z FROM all_types', [1.5, true, null]), [{ n: 2475n, x: 1.5, y: true, z: null }]);
    await s.close();
    return got;
  };
  const here = await job(localStore(await openStore(file())));
  const there = await job(await openWorkerStore(file()));
  t.equal(here.length, 2475);
  t.same(there, here);
});
