/**
 * Watchlists over real ingests: `ingest --watchlist` on the built captures (text this project wrote) and on a
 * recorded IRC capture (a phrase read with tshark at test time, never written here), checked against SQL written
 * independently (regexp on the lower-cased bodies); `alerts rescan` gives the same alerts as ingest-time evaluation;
 * `--fail-on-alert` exit codes; a failure after the alerts were written rolls back rows and alerts together;
 * countAlerts with report filters.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EXIT } from '../../src/cli/exit-codes.js';
import { countAlerts, evaluateCapture } from '../../src/policy/alerts.js';
import { loadWatchlist } from '../../src/policy/watchlist.js';
import { openStore } from '../../src/store/db.js';
import { ingestCapture } from '../../src/store/ingest.js';
import { imtap } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('alerts');
const root = path.resolve(import.meta.dirname, '..', '..');
const built = ['gadugadu', 'sip', 'ymsg'].flatMap((p) =>
  fs.readdirSync(path.join(root, 'fixtures/pcaps/built', p)).filter((f) => f.endsWith('.pcap')).map((f) => path.join(root, 'fixtures/pcaps/built', p, f)),
);

async function rows(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const q = await imtap(['query', '--db', db, '--format', 'json', sql]);
  if (q.code !== 0) throw new Error(q.stderr);
  return JSON.parse(q.stdout) as Record<string, unknown>[];
}
const ALERT_COLS = "c.path, a.ts, a.flow_id, a.app, a.source_table, a.sender, a.recipient, a.direction, a.rule, a.severity, a.matched, a.excerpt";
const alertsOf = (db: string) => rows(db, `SELECT ${ALERT_COLS} FROM alerts a JOIN captures c USING (capture_id) ORDER BY ALL`);

// A plain database first: the words come from what it holds, the expected hits from SQL over it.
const plain = path.join(dir, 'plain.duckdb');
let word = '';
let expectedMessages = 0;
let expectedFiles = 0;
const list = path.join(dir, 'watch.txt');

t.before(async () => {
  const r = await imtap(['ingest', '--db', plain, ...built]);
  if (r.code !== 0) throw new Error(r.stderr);
  // The longest ASCII word of the text messages (so that SQL's ASCII classes are an exact oracle).
  const bodies = (await rows(plain, "SELECT body FROM messages WHERE body_format = 'text' ORDER BY ts")).map((b) => String(b.body));
  word = bodies.flatMap((b) => b.match(/\b[A-Za-z]{4,}\b/g) ?? []).sort((a, b) => b.length - a.length || a.localeCompare(b))[0]!.toLowerCase();
  const bound = "'(^|[^a-z0-9_])' || ? || '($|[^a-z0-9_])'";
  expectedMessages = Number(
    (await rows(plain, `SELECT count(*) AS n FROM messages WHERE body_format = 'text' AND regexp_matches(lower(body), ${bound.replace('?', `'${word}'`)}) OR body_format = 'html' AND regexp_matches(lower(regexp_replace(body, '<[^>]*>', '', 'g')), ${bound.replace('?', `'${word}'`)})`))[0]!.n,
  );
  expectedFiles = Number((await rows(plain, "SELECT count(*) AS n FROM transfers WHERE regexp_matches(lower(filename), '\\.(jpg|pdf)$')"))[0]!.n);
  fs.writeFileSync(list, `# test watchlist\nhigh ${word.toUpperCase()} name=the-word\nlow /\\.(JPG|pdf)$/ name=files\ncritical "zzqx never said" app=yahoo\n`);
});

t.test('ingest --watchlist on the built captures: hits as SQL finds them, exit 4 with --fail-on-alert', async (t) => {
  t.ok(expectedMessages >= 1, `"${word}" is in ${expectedMessages} messages`);
  t.ok(expectedFiles >= 1, `${expectedFiles} transfers of .jpg/.pdf`);
  const db = path.join(dir, 'ingest.duckdb');
  const r = await imtap(['ingest', '--db', db, '--watchlist', list, '--fail-on-alert', ...built]);
  t.equal(r.code, EXIT.ALERTS, r.stderr);
  t.match(r.stdout, new RegExp(`total: watchlists: ${expectedMessages + expectedFiles} alerts \\(${expectedMessages} high, ${expectedFiles} low\\)\\n$`));
  const byRule = await rows(db, 'SELECT rule, severity, source_table, watchlist, count(*) AS n FROM alerts GROUP BY ALL ORDER BY rule');
  t.same(byRule, [
    { rule: 'files', severity: 'low', source_table: 'transfers', watchlist: list, n: expectedFiles },
    { rule: 'the-word', severity: 'high', source_table: 'messages', watchlist: list, n: expectedMessages },
  ]);
  // Every message alert points at a message of the same capture, flow and time that contains the word.
  const linked = await rows(db, `SELECT count(*) AS n FROM alerts a JOIN messages m ON m.capture_id = a.capture_id AND m.flow_id = a.flow_id AND m.ts = a.ts AND m.sender IS NOT DISTINCT FROM a.sender WHERE a.source_table = 'messages' AND lower(m.body) LIKE '%' || lower(a.matched) || '%' AND lower(a.matched) = '${word}'`);
  t.ok(Number(linked[0]!.n) >= expectedMessages, 'alerts lead back to their messages');
  const files = await rows(db, "SELECT count(*) AS n FROM alerts a JOIN transfers x ON x.capture_id = a.capture_id AND x.flow_id = a.flow_id AND x.ts = a.ts AND x.filename = a.excerpt WHERE a.source_table = 'transfers'");
  t.equal(Number(files[0]!.n), expectedFiles);
  // Without --fail-on-alert the same hits exit 0; a watchlist with no hits exits 0 even with it.
  const quiet = await imtap(['ingest', '--db', path.join(dir, 'q.duckdb'), '--watchlist', list, ...built.slice(0, 2)]);
  t.equal(quiet.code, EXIT.OK);
  const none = path.join(dir, 'none.txt');
  fs.writeFileSync(none, 'critical zzqxnever\n');
  t.equal((await imtap(['ingest', '--db', path.join(dir, 'n.duckdb'), '--watchlist', none, '--fail-on-alert', ...built])).code, EXIT.OK);
  t.equal((await imtap(['ingest', '--db', path.join(dir, 'u.duckdb'), '--fail-on-alert', built[0]!])).code, EXIT.USAGE, '--fail-on-alert needs --watchlist');
  // A bad watchlist stops the run before the database is touched.
  const bad = path.join(dir, 'bad.txt');
  fs.writeFileSync(bad, 'high ok\nhigh /(a+)+/\n');
  const br = await imtap(['ingest', '--db', path.join(dir, 'never.duckdb'), '--watchlist', bad, built[0]!]);
  t.equal(br.code, EXIT.ERROR);
  t.match(br.stderr, new RegExp(`^imtap: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: regular expression`));
  t.notOk(fs.existsSync(path.join(dir, 'never.duckdb')));
});

t.test('alerts rescan gives the alerts ingest-time evaluation gave, and replaces only its own watchlist', async (t) => {
  const db = path.join(dir, 'ingest.duckdb');
  const atIngest = await alertsOf(db);
  t.ok(atIngest.length > 0);
  // Rescanning the database the alerts came from: same rows (detected_at aside), none doubled.
  const r = await imtap(['alerts', 'rescan', '--db', db, '--watchlist', list]);
  t.equal(r.code, EXIT.OK, r.stderr);
  t.same(await alertsOf(db), atIngest);
  // Rescanning the plain database (never evaluated): the same alerts.
  t.equal((await imtap(['alerts', 'rescan', '--db', plain, '--watchlist', list, '--fail-on-alert'])).code, EXIT.ALERTS);
  t.same(await alertsOf(plain), atIngest);
  // Another watchlist's alerts stay when this one is rescanned.
  const other = path.join(dir, 'other.txt');
  fs.writeFileSync(other, `medium ${word}\n`);
  t.equal((await imtap(['alerts', 'rescan', '--db', plain, '--watchlist', other])).code, EXIT.OK);
  const n0 = (await rows(plain, 'SELECT watchlist, count(*) AS n FROM alerts GROUP BY 1 ORDER BY 1')).map((x) => [x.watchlist, x.n]);
  t.same(n0, [[other, expectedMessages], [list, atIngest.length]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  t.equal((await imtap(['alerts', 'rescan', '--db', plain, '--watchlist', list])).code, EXIT.OK);
  t.same((await rows(plain, 'SELECT watchlist, count(*) AS n FROM alerts GROUP BY 1 ORDER BY 1')).map((x) => [x.watchlist, x.n]), n0);
  t.equal((await imtap(['alerts', 'rescan', '--db', path.join(dir, 'missing.duckdb'), '--watchlist', list])).code, EXIT.ERROR);
});

t.test('a phrase read with tshark from a recorded IRC capture', async (t) => {
  const cap = path.join(root, 'fixtures/pcaps/irc/irc-privmsg.pcap');
  const trailers = execFileSync('tshark', ['-r', cap, '-Y', 'irc.request.command == "PRIVMSG"', '-T', 'fields', '-e', 'irc.request.trailer'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => /[A-Za-z]{3,}\s+[A-Za-z]{3,}/.test(l));
  t.ok(trailers.length > 0, 'tshark sees PRIVMSG text');
  const [w1, w2] = /([A-Za-z]{3,})\s+([A-Za-z]{3,})/.exec(trailers[0]!)!.slice(1) as [string, string];
  const phrase = `${w1} ${w2}`.toLowerCase();
  const wl = path.join(dir, 'irc.txt');
  fs.writeFileSync(wl, `medium "${w1.toUpperCase()}   ${w2}" name=phrase\n`);
  const db = path.join(dir, 'irc.duckdb');
  const r = await imtap(['ingest', '--db', db, '--watchlist', wl, '--fail-on-alert', cap]);
  t.equal(r.code, EXIT.ALERTS, r.stderr);
  const expected = Number((await rows(db, `SELECT count(*) AS n FROM messages WHERE regexp_matches(regexp_replace(lower(body), '\\s+', ' ', 'g'), '(^|[^a-z0-9_])${phrase}($|[^a-z0-9_])')`))[0]!.n);
  const tsharkCount = trailers.filter((l) => new RegExp(`(^|[^a-z0-9_])${phrase}($|[^a-z0-9_])`).test(l.toLowerCase().replace(/\s+/g, ' '))).length;
  t.ok(expected >= tsharkCount && tsharkCount >= 1, `${tsharkCount} PRIVMSG lines by tshark, ${expected} messages by SQL`);
  t.equal(Number((await rows(db, 'SELECT count(*) AS n FROM alerts'))[0]!.n), expected);
  t.same((await rows(db, 'SELECT DISTINCT lower(matched) AS m FROM alerts')).map((x) => x.m), [phrase]);
});

t.test('kill safety: rows and alerts commit together', async (t) => {
  const db = path.join(dir, 'kill.duckdb');
  const store = await openStore(db);
  const wl = loadWatchlist(list);
  try {
    let wrote = 0;
    await t.rejects(
      ingestCapture(store, built.find((b) => b.endsWith('ymsg-rooms-files.pcap'))!, {
        afterRows: async (conn, id) => {
          wrote = (await evaluateCapture(conn, id, [wl])).total;
          throw new Error('killed after the alerts were written');
        },
      }),
      /killed/,
    );
    t.ok(wrote > 0, `${wrote} alerts were written before the failure`);
    const c = store.connection;
    const n = async (sql: string) => Number((await c.runAndReadAll(sql)).getRowObjectsJson()[0]!.n);
    t.equal(await n('SELECT count(*) AS n FROM alerts'), 0, 'no alerts');
    t.equal(await n('SELECT count(*) AS n FROM messages') + (await n('SELECT count(*) AS n FROM transfers')), 0, 'no rows');
    t.equal(await n("SELECT count(*) AS n FROM captures WHERE status = 'failed'"), 1);
    // The next ingest of the same file redoes it, alerts included.
    const r = await ingestCapture(store, built.find((b) => b.endsWith('ymsg-rooms-files.pcap'))!, { afterRows: async (conn, id) => void (await evaluateCapture(conn, id, [wl])) });
    t.equal(r.outcome, 'resumed');
    t.equal(await n('SELECT count(*) AS n FROM alerts'), wrote);
  } finally {
    store.close();
  }
});

t.test('countAlerts with report filters', async (t) => {
  const db = path.join(dir, 'ingest.duckdb');
  const store = await openStore(db, { readOnly: true });
  try {
    const all = await rows(db, 'SELECT epoch_ns(ts)::VARCHAR AS ns, app FROM alerts ORDER BY ts');
    t.equal((await countAlerts(store, {})).total, all.length);
    const apps = [...new Set(all.map((a) => String(a.app)))];
    for (const app of apps) t.equal((await countAlerts(store, { apps: [app] })).total, all.filter((a) => a.app === app).length, app);
    const mid = BigInt(String(all[Math.floor(all.length / 2)]!.ns));
    const before = all.filter((a) => BigInt(String(a.ns)) < mid).length;
    t.equal((await countAlerts(store, { until: mid })).total, before);
    t.equal((await countAlerts(store, { since: mid })).total, all.length - before);
    t.equal((await countAlerts(store, { since: mid, until: mid })).total, 0, 'an empty period');
    t.equal((await countAlerts(store, { sensor: 'nowhere' })).total, 0);
    t.equal((await countAlerts(store, { user: 'nobody-at-all' })).total, 0);
    const sev = await countAlerts(store, {});
    t.equal(sev.bySeverity.high, expectedMessages);
    t.equal(sev.bySeverity.low, expectedFiles);
  } finally {
    store.close();
  }
});
