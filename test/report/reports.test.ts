// Every report over a database ingested from the real captures of fixtures/pcaps (IRC, MSNP, the built YMSG, Gadu-Gadu
// and SIP ones, apps), checked against SQL written differently here, tshark, and what the captures are known to hold.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { imtap } from '../helpers/cli.js';
import { fixture, PCAPS } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';
import { openStore, type Store } from '../../src/store/db.js';
import { parseFilters } from '../../src/report/filters.js';
import type { Cell, Report, Section } from '../../src/report/model.js';
import { REPORT_NAMES, runReport } from '../../src/report/run.js';

const tmp = tempDir('reports');
const db = path.join(tmp, 'r.duckdb');
const dbDir = path.join(tmp, 'dir.duckdb');
const LAB = fixture('irc/irc-privmsg.pcap');
const NOW = BigInt(Date.UTC(2030, 0, 1)) * 1_000_000n;

const globIn = (dir: string, re: RegExp) =>
  fs.readdirSync(path.join(PCAPS, dir), { recursive: true, encoding: 'utf8' }).filter((n) => re.test(n)).map((n) => path.join(PCAPS, dir, n)).sort();

let store: Store;
let storeDir: Store;

t.before(async () => {
  // The IRC capture of 9 PRIVMSG lines comes from sensor "lab", so reports can single it out with --sensor.
  const a = await imtap(['ingest', '--db', db, '--sensor', 'lab', LAB]);
  if (a.code !== 0) throw new Error(a.stderr);
  const rest = [
    ...globIn('irc', /\.pcap$/).filter((p) => p !== LAB),
    ...globIn('msnp', /./),
    ...globIn('built', /\.pcap(ng)?$/),
    ...globIn('apps', /\.pcap(ng)?$/),
  ];
  const b = await imtap(['ingest', '--db', db, ...rest]);
  if (b.code !== 0 && b.code !== 3) throw new Error(b.stderr);
  // A copy with a directory and one alert, for the directory's reports.
  fs.copyFileSync(db, dbDir);
  const w = await openStore(dbDir);
  await w.connection.run(`INSERT INTO directory (person, department, kind, value, app, source, imported_at) VALUES
    ('Brian', 'Sales', 'account', 'TESLA_BRIAN@hotmail.com', 'msn', 'test', now()::TIMESTAMP_NS),
    ('Alice', 'Sales', 'ip', '10.1.0.0/16', NULL, 'test', now()::TIMESTAMP_NS),
    ('Gina', 'Ops', 'account', '1234567', 'gadugadu', 'test', now()::TIMESTAMP_NS)`);
  await w.connection.run(`INSERT INTO alerts (ts, capture_id, flow_id, app, source_table, sender, recipient, direction, watchlist, rule, severity, matched, excerpt, detected_at)
    SELECT ts, capture_id, flow_id, app, 'messages', sender, recipient, direction, 'test.txt', 'rule-x', 'high', 'x', 'x', now()::TIMESTAMP_NS
    FROM messages WHERE app = 'yahoo' ORDER BY ts LIMIT 1`);
  w.close();
  store = await openStore(db, { readOnly: true });
  storeDir = await openStore(dbDir, { readOnly: true });
});
t.teardown(() => {
  store?.close();
  storeDir?.close();
});

async function report(name: string, args: Parameters<typeof parseFilters>[0] = {}, s = () => store, limit: number | null = null): Promise<Report> {
  return runReport(s().connection, name, parseFilters(args, NOW), { database: 'x', now: NOW, limit });
}
async function sql(q: string, s = () => store): Promise<(string | number | boolean | null)[][]> {
  return (await s().connection.runAndReadAll(q)).getRowsJson() as (string | number | boolean | null)[][];
}
const one = async (q: string, s = () => store) => Number((await sql(q, s))[0]![0]);
const section = (r: Report, id: string): Section => {
  const s = r.sections.find((x) => x.id === id);
  if (!s) throw new Error(`no section ${id} in ${r.name}: ${r.sections.map((x) => x.id).join(', ')}`);
  return s;
};
/** The rows of a section as objects keyed by column name. */
const objects = (s: Section) => s.rows.map((r) => Object.fromEntries(s.columns.map((c, i) => [c.name, r[i]])) as Record<string, Cell>);
const sum = (s: Section, col: string) => objects(s).reduce((a, o) => a + Number(o[col] ?? 0), 0);
const metric = (r: Report, m: string) => objects(section(r, 'counts')).find((o) => o.metric === m)!.value;

t.test('every report runs, and cells have their column types', async (t) => {
  t.same(REPORT_NAMES, ['summary', 'users', 'apps', 'accounts', 'conversations', 'messages', 'transfers', 'alerts', 'timeline']);
  for (const name of REPORT_NAMES) {
    const r = await report(name);
    t.equal(r.name, name);
    t.ok(r.sections.length > 0, `${name} has sections`);
    for (const s of r.sections) {
      for (const row of s.rows) {
        t.equal(row.length, s.columns.length);
        s.columns.forEach((c, i) => {
          const v = row[i];
          if (v === null || v === undefined) return;
          if (c.type === 'time' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/.test(String(v))) t.fail(`${name}.${s.id}.${c.name}: ${v}`);
          if (['int', 'bytes', 'float', 'percent'].includes(c.type) && typeof v !== 'number') t.fail(`${name}.${s.id}.${c.name}: ${v}`);
        });
      }
      if (s.chart) for (const k of [s.chart.x, ...s.chart.y]) t.ok(s.columns.some((c) => c.name === k), `${name}.${s.id} chart column ${k}`);
    }
  }
});

t.test('IRC capture: the PRIVMSG lines tshark counts', async (t) => {
  const out = run('tshark', ['-n', '-r', LAB, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'irc.request.command', '-e', 'irc.response.command']);
  const privmsg = out.split(/[\t|\n]/).filter((c) => c === 'PRIVMSG').length;
  t.equal(privmsg, 9, 'tshark sees 9 PRIVMSG');
  const m = await report('messages', { sensor: 'lab' });
  t.equal(objects(section(m, 'messages')).filter((o) => o.kind === 'privmsg').length, privmsg);
  t.ok(objects(section(m, 'messages')).every((o) => String(o.capture).endsWith('irc-privmsg.pcap')), 'provenance: the capture');
  // The same messages, grouped into conversations: one per channel, in time order.
  const c = await report('conversations', { sensor: 'lab' });
  const index = objects(section(c, 'conversations'));
  t.equal(sum(section(c, 'conversations'), 'messages'), section(m, 'messages').rows.length);
  const channels = index.filter((o) => o.kind === 'room').map((o) => o.conversation).sort();
  // tshark's request lines (irc.request: one per line, without the prefix), their PRIVMSG targets.
  const lines = run('tshark', ['-n', '-r', LAB, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'irc.request']).split(/[|\n]/);
  const tsharkChannels = [...new Set(lines.filter((l) => l.startsWith('PRIVMSG ')).map((l) => l.split(' ')[1]!))].sort();
  t.same(channels, tsharkChannels, 'the channels PRIVMSG went to, as tshark reads them');
  for (let i = 1; i < c.sections.length; i++) {
    const times = objects(c.sections[i]!).map((o) => String(o.time));
    t.same(times, [...times].sort(), `${c.sections[i]!.title} in time order`);
    t.equal(c.sections[i]!.rows.length, index[i - 1]!.messages, 'the transcript has the index count');
  }
});

t.test('summary: counts against SQL written differently', async (t) => {
  const r = await report('summary');
  t.equal(metric(r, 'flows'), await one('SELECT count(*) FROM flows'));
  t.equal(metric(r, 'im_flows'), await one('SELECT sum(CASE WHEN app IS NULL THEN 0 ELSE 1 END) FROM flows'));
  t.equal(metric(r, 'apps'), await one('SELECT count(*) FROM (SELECT app FROM flows WHERE app IS NOT NULL GROUP BY app)'));
  t.equal(metric(r, 'messages'), await one('SELECT count(*) FROM messages'));
  t.equal(metric(r, 'transfers'), await one('SELECT count(*) FROM transfers'));
  t.equal(metric(r, 'accounts'), await one('SELECT count(*) FROM (SELECT DISTINCT app, account FROM accounts)'));
  t.equal(metric(r, 'alerts'), 0);
  // No directory: an IM user is a client address with IM flows.
  t.equal(metric(r, 'im_users'), await one('SELECT count(*) FROM (SELECT client_ip FROM flows WHERE app IS NOT NULL GROUP BY 1)'));
  const enc = objects(section(r, 'encryption'))[0]!;
  const [e, u] = (await sql('SELECT sum(CASE WHEN encrypted THEN 1 ELSE 0 END), sum(CASE WHEN encrypted AND app IS NULL THEN 1 ELSE 0 END) FROM flows'))[0]!.map(Number);
  t.same([enc.encrypted_flows, enc.unidentified], [e, u]);
  t.equal(enc.share, Math.round((u! / e!) * 10000) / 100);
  const top = objects(section(r, 'top_users'));
  t.ok(top.length <= 10);
  t.equal(top[0]!.user, '172.16.1.10', 'the IRC capture\'s client sent the most messages on its flows');
  t.equal(section(r, 'new_accounts').rows.length, 0, 'no period: nothing to compare');
  t.match(section(r, 'new_accounts').note, /--since/);
});

t.test('summary: new accounts and apps against the previous period of the same length', async (t) => {
  // The MSN capture is from 2006-12-29; the period of 2 days from 2006-12-28 has it, the two days before nothing.
  const r = await report('summary', { since: '2006-12-28', until: '2006-12-30' });
  t.same(objects(section(r, 'new_accounts')).map((o) => `${o.app}/${o.account}`), ['msn/tesla_brian@hotmail.com']);
  t.same(objects(section(r, 'new_apps')).map((o) => o.app), ['msn']);
  // The yahoo captures (built, 2023-11-14) in two periods: the second sees nothing new.
  const r2 = await report('summary', { since: '2023-11-14T22:13:20.1Z', until: '2023-11-14T22:13:20.2Z' });
  t.same(objects(section(r2, 'new_apps')).map((o) => o.app), [], 'yahoo, sip and gadugadu were there before too');
});

t.test('users: sessions, bytes and messages add up to the IM flows', async (t) => {
  const r = await report('users');
  const s = section(r, 'users');
  t.equal(sum(s, 'sessions'), await one('SELECT count(*) FROM flows WHERE app IS NOT NULL'));
  t.equal(sum(s, 'bytes'), await one('SELECT sum(bytes_c2s) + sum(bytes_s2c) FROM flows WHERE app IS NOT NULL'));
  t.equal(
    sum(s, 'messages'),
    await one('SELECT count(*) FROM messages m WHERE EXISTS (SELECT 1 FROM flows f WHERE f.capture_id = m.capture_id AND f.flow_id = m.flow_id AND f.app IS NOT NULL)'),
  );
  const brian = objects(s).find((o) => o.user === '192.168.0.114')!;
  t.equal(brian.messages, await one("SELECT count(*) FROM messages m JOIN flows f USING (capture_id, flow_id) WHERE f.client_ip = '192.168.0.114'"));
  t.equal(brian.accounts, 'tesla_brian@hotmail.com (msn)');
  t.notOk(r.sections.some((x) => x.id === 'unclaimed_accounts'), 'no directory: no unclaimed section');
});

t.test('users with a directory: people, and the accounts no one claimed', async (t) => {
  const r = await report('users', {}, () => storeDir);
  const rows = objects(section(r, 'users'));
  const brian = rows.find((o) => o.user === 'Brian')!;
  t.same([brian.kind, brian.department, brian.apps, brian.addresses], ['person', 'Sales', 'msn', '192.168.0.114'], 'by account (any case)');
  const alice = rows.find((o) => o.user === 'Alice')!;
  t.same([alice.apps, alice.addresses], ['yahoo', '10.1.0.5'], 'by address range');
  t.notOk(rows.some((o) => o.user === '192.168.0.114' || o.user === '10.1.0.5'), 'claimed addresses are not listed on their own');
  const unclaimed = objects(section(r, 'unclaimed_accounts'));
  const names = unclaimed.map((o) => `${o.app}/${o.account}`);
  t.notOk(names.includes('msn/tesla_brian@hotmail.com'));
  t.notOk(names.includes('gadugadu/1234567'));
  t.ok(names.includes('irc/brotest'));
  t.equal(unclaimed.find((o) => o.account === 'alice_tap')!.by_address, 'Alice');
  t.equal(
    unclaimed.length,
    await one("SELECT count(*) FROM (SELECT DISTINCT app, account FROM accounts WHERE coalesce(side, '') <> 'server' AND NOT (app = 'msn' AND lower(account) = 'tesla_brian@hotmail.com') AND NOT (app = 'gadugadu' AND account = '1234567'))"),
  );
});

t.test('apps: flows per app and kind, methods adding up', async (t) => {
  const r = await report('apps');
  const expected = await sql('SELECT app, count(*) FROM flows WHERE app IS NOT NULL GROUP BY app ORDER BY app');
  t.same(objects(section(r, 'apps')).map((o) => [o.app, o.flows]).sort(), expected.map(([a, n]) => [a, Number(n)]));
  for (const o of objects(section(r, 'app_kinds'))) {
    const methods = String(o.methods).split(', ').map((m) => Number(m.split(' ')[1]));
    t.equal(methods.reduce((a, b) => a + b, 0), o.flows, `${o.app} ${o.kind}: methods count every flow`);
    const conf = await one(`SELECT avg(confidence) FROM flows WHERE app = '${o.app}' AND app_kind = '${o.kind}'`);
    t.ok(Math.abs(Number(o.confidence) - conf) < 0.001, `${o.app} ${o.kind} confidence`);
  }
});

t.test('accounts: one row per app and account, messages sent and received', async (t) => {
  const r = await report('accounts');
  const rows = objects(section(r, 'accounts'));
  t.equal(rows.length, await one('SELECT count(*) FROM (SELECT DISTINCT app, account FROM accounts)'));
  for (const o of rows) {
    const sent = await one(`SELECT count(*) FROM messages WHERE app = '${o.app}' AND sender = '${String(o.account).replace(/'/g, "''")}'`);
    t.equal(o.messages_sent, sent, `${o.app}/${o.account} sent`);
  }
  const thomas = rows.find((o) => o.account === 'tesla_thomas@hotmail.com')!;
  t.same([thomas.side, thomas.display_name], ['server', 'Thomas']);
});

t.test('conversations: every message in exactly one, bounded by --limit', async (t) => {
  const all = await report('conversations', {}, () => store, 1000);
  t.equal(sum(section(all, 'conversations'), 'messages'), await one('SELECT count(*) FROM messages'));
  const msn = objects(section(all, 'conversations')).find((o) => o.app === 'msn')!;
  t.same([msn.conversation, msn.kind, msn.messages, msn.senders], ['tesla_brian@hotmail.com ↔ tesla_thomas@hotmail.com', 'pair', 7, 2], 'both directions in one pair');
  const two = await report('conversations', {}, () => store, 2);
  t.equal(section(two, 'conversations').rows.length, 2);
  t.equal(two.sections.length, 3, 'the index and two transcripts');
  t.match(section(two, 'conversations').note, /Showing 2 of \d+/);
  const newest = await sql('SELECT max(ts) FROM messages');
  t.equal(objects(section(two, 'conversations'))[0]!.last, objects(section(all, 'conversations'))[0]!.last);
  t.ok(newest.length === 1);
});

t.test('messages: --grep (any case) and --regex against JavaScript over every body; a bad regex', async (t) => {
  const bodies = (await sql('SELECT body FROM messages')).map((r) => (r[0] as string | null) ?? '');
  const g = await report('messages', { grep: 'HELLO' });
  t.equal(section(g, 'messages').rows.length, bodies.filter((b) => b.toLowerCase().includes('hello')).length);
  t.ok(section(g, 'messages').rows.length > 0, 'the captures say hello');
  const pct = await report('messages', { grep: '%' });
  t.equal(section(pct, 'messages').rows.length, bodies.filter((b) => b.includes('%')).length, '% is not a wildcard');
  const re = await report('messages', { regex: '^[A-Z][a-z]+ ' });
  t.equal(section(re, 'messages').rows.length, bodies.filter((b) => /^[A-Z][a-z]+ /.test(b)).length);
  await t.rejects(report('messages', { regex: '(' }), /--regex "\(" is not a regular expression/);
  const lim = await report('messages', {}, () => store, 5);
  t.equal(section(lim, 'messages').rows.length, 5);
  t.match(section(lim, 'messages').note, new RegExp(`Showing 5 of ${bodies.length}`));
});

t.test('transfers: every transfer with its announced name and size', async (t) => {
  const r = await report('transfers');
  const rows = objects(section(r, 'transfers'));
  const expected = await sql('SELECT filename, size, bytes_seen, complete FROM transfers ORDER BY ts, capture_id, flow_id');
  t.same(rows.map((o) => [o.filename, o.size, o.bytes_seen, o.complete]), expected.map(([f, s, b, c]) => [f, s === null ? null : Number(s), Number(b), c]));
  const yahoo = await report('transfers', { app: ['yahoo'] });
  t.same(objects(section(yahoo, 'transfers')).map((o) => o.method).sort(), ['ymsg_ft15', 'ymsg_p2p', 'ymsg_url'], 'the built YMSG capture\'s three kinds of transfer');
});

t.test('alerts: the table\'s rows, per rule and listed; summary shows them', async (t) => {
  const r = await report('alerts', {}, () => storeDir);
  t.same(objects(section(r, 'alert_rules')).map((o) => [o.rule, o.severity, o.hits]), [['rule-x', 'high', 1]]);
  const a = objects(section(r, 'alerts'))[0]!;
  t.same([a.app, a.source], ['yahoo', 'messages']);
  const s = await report('summary', {}, () => storeDir);
  t.equal(metric(s, 'alerts'), 1);
  t.equal(section(s, 'recent_alerts').rows.length, 1);
  t.equal(section(await report('alerts'), 'alerts').rows.length, 0, 'an empty alerts table is an empty section');
});

t.test('timeline: days and hours add up to the IM flows and the messages', async (t) => {
  const r = await report('timeline');
  for (const id of ['by_day', 'by_hour']) {
    t.equal(sum(section(r, id), 'flows'), await one('SELECT count(*) FROM flows WHERE app IS NOT NULL'), `${id} flows`);
    t.equal(sum(section(r, id), 'messages'), await one('SELECT count(*) FROM messages'), `${id} messages`);
    const times = objects(section(r, id)).map((o) => String(o[id === 'by_day' ? 'day' : 'hour']));
    t.same(times, [...times].sort(), `${id} in order`);
  }
  const day = objects(section(r, 'by_day')).find((o) => o.day === '2006-12-29')!;
  t.same([day.flows, day.messages, day.users], [1, 7, 1], 'the MSN capture\'s day');
});

t.test('filters: time windows at the edges, apps, sensor, users', async (t) => {
  const [first, last, n] = (await sql("SELECT strftime(min(ts), '%Y-%m-%dT%H:%M:%S.%fZ'), strftime(max(ts), '%Y-%m-%dT%H:%M:%S.%fZ'), count(*) FROM messages WHERE app = 'msn'"))[0]!;
  const count = async (args: Parameters<typeof parseFilters>[0], s = () => store) => section(await report('messages', args, s), 'messages').rows.length;
  t.equal(await count({ since: String(first), until: String(last) }), Number(n) - 1, '--since includes its instant, --until excludes its own');
  t.equal(await count({ since: String(last), app: ['msn'] }), 1, 'from the last one');
  t.equal(await count({ until: String(first), app: ['msn'] }), 0, 'until the first one');
  t.equal(await count({ since: '2006-12-29T03:27:00+01:00', until: '2006-12-29T03:29+01:00', app: ['msn'] }), Number(n), 'an offset');
  t.equal(await count({ app: ['msn'] }), 7);
  t.equal(await count({ app: ['MSN,yahoo'] }), 7 + (await one("SELECT count(*) FROM messages WHERE app = 'yahoo'")));
  t.equal(await count({ sensor: 'nowhere' }), 0);
  t.equal(await count({ since: '2040-01-01' }), 0, 'an empty period');
  t.equal(await count({ user: 'Brian' }, () => storeDir), 7, 'a directory person (by account)');
  t.equal(await count({ department: 'sales' }, () => storeDir), 7 + (await one("SELECT count(*) FROM messages WHERE app = 'yahoo'")), 'a department (Brian and Alice)');
  t.equal(await count({ user: 'Nobody' }, () => storeDir), 0);
  t.equal(await count({ user: '10.1.0.5' }), await one("SELECT count(*) FROM messages m JOIN flows f USING (capture_id, flow_id) WHERE f.client_ip = '10.1.0.5'"), 'a client address');
  t.equal(await count({ user: 'tesla_thomas@hotmail.com' }), 7, 'an account on the far side: the messages it sent and received');
  const users = objects(section(await report('users', { user: 'Brian' }, () => storeDir), 'users'));
  t.same(users.map((o) => o.user), ['Brian']);
  const apps = objects(section(await report('apps', { department: 'Sales' }, () => storeDir), 'apps'));
  t.same(apps.map((o) => o.app).sort(), ['msn', 'yahoo']);
  // Every report over an empty period: valid, with empty sections.
  for (const name of REPORT_NAMES) {
    const r = await report(name, { since: '2040-01-01' });
    const nonEmpty = r.sections.filter((s) => s.id !== 'counts' && s.id !== 'encryption' && s.rows.length > 0);
    t.same(nonEmpty.map((s) => s.id), [], `${name}: empty period, empty sections`);
  }
});
