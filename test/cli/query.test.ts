// imtap query: every format from a real database, values typed, hostile text escaped per format, bad SQL.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imtap } from '../helpers/cli.js';
import { csvSafe } from '../../src/cli/query.js';
import { fixture } from '../helpers/fixtures.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-query-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const db = path.join(tmp, 'q.duckdb');


t.before(async () => {
  const r = await imtap(['ingest', '--db', db, fixture('irc/irc-privmsg.pcap'), fixture('irc/irc-353.pcap')]);
  if (r.code !== 0) throw new Error(r.stderr);
});

const SQL = "SELECT capture_id, packets, path LIKE '%353%' AS is353, '=HYPERLINK(\"x\")' AS formula, chr(27) || '[2J' AS esc, NULL AS nothing FROM captures ORDER BY capture_id";

t.test('json and ndjson: integers as numbers, text as it is, null as null', async (t) => {
  const j = await imtap(['query', '--db', db, '--format', 'json', SQL]);
  t.equal(j.code, 0, j.stderr);
  const rows = JSON.parse(j.stdout);
  t.same(rows, [
    { capture_id: 1, packets: 48, is353: false, formula: '=HYPERLINK("x")', esc: '\u001b[2J', nothing: null },
    { capture_id: 2, packets: 12, is353: true, formula: '=HYPERLINK("x")', esc: '\u001b[2J', nothing: null },
  ]);
  const nd = await imtap(['query', '--db', db, '--format', 'ndjson', SQL]);
  t.same(nd.stdout.trim().split('\n').map((l) => JSON.parse(l)), rows);
});

t.test('csv: RFC 4180 quoting, formulas defused', async (t) => {
  const c = await imtap(['query', '--db', db, '--format', 'csv', SQL]);
  t.equal(c.code, 0);
  const lines = c.stdout.trim().split('\n');
  t.equal(lines[0], 'capture_id,packets,is353,formula,esc,nothing');
  t.equal(lines[1], `1,48,false,"'=HYPERLINK(""x"")",\u001b[2J,`);
  t.equal(csvSafe('-1+2'), "'-1+2");
  t.equal(csvSafe('@SUM(A1)'), "'@SUM(A1)");
  t.equal(csvSafe('plain'), 'plain');
});

t.test('table: control characters made visible', async (t) => {
  const tb = await imtap(['query', '--db', db, SQL]);
  t.equal(tb.code, 0);
  t.notMatch(tb.stdout, /\u001b/);
  t.match(tb.stdout, '\\x1b[2J');
  t.match(tb.stdout, '(2 rows)');
});

t.test('bad SQL: DuckDB\'s message only, exit 1; a missing database is named', async (t) => {
  const bad = await imtap(['query', '--db', db, 'SELEC 1']);
  t.equal(bad.code, 1);
  t.equal(bad.stdout, '');
  t.match(bad.stderr, /^Parser Error: syntax error at or near "SELEC"/);
  const none = await imtap(['query', '--db', path.join(tmp, 'none.duckdb'), 'SELECT 1']);
  t.equal(none.code, 1);
  t.match(none.stderr, /no database at .*none\.duckdb: fill one with imtap ingest/);
  t.equal((await imtap(['query', '--db', db, '--format', 'xml', 'SELECT 1'])).code, 2);
});
