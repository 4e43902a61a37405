/**
 * The bundled demo capture (fixtures/pcaps/demo, made by scripts/make-demo.mjs): the README's main job run on it —
 * directory import, ingest with the demo watchlist, the summary report — and what the day contains, checked against
 * facts imtap never computes: the clients' own log of what they sent (office-day.expected.json), the parts the day
 * was assembled from, capinfos and tshark readings of the file, and people.csv read here with a plain split.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { imtap } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { capinfos, run } from '../helpers/tools.js';

const dir = path.resolve('fixtures/pcaps/demo');
const pcap = path.join(dir, 'office-day.pcapng');
const watchlist = path.join(dir, 'watchlist.txt');
const people = path.join(dir, 'people.csv');

interface Expected {
  day: string;
  messages: { protocol: 'irc' | 'xmpp'; kind: string; sender: string; recipient: string; text: string; receivers: string[]; at: string }[];
  files: { protocol: string; method: string; sender: string; recipient: string; name: string; size: number; sha256: string; md5: string; at: string }[];
  parts: { app: string; start: string; packets: number; source: string }[];
  capture: { sha256: string; bytes: number };
}
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'office-day.expected.json'), 'utf8')) as Expected;

type Row = Record<string, unknown>;
async function rows(db: string, sql: string): Promise<Row[]> {
  const r = await imtap(['query', '--db', db, '--format', 'json', sql]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Row[];
}
const bag = (items: unknown[]) => items.map((x) => JSON.stringify(x)).sort();
const bare = (jid: unknown) => String(jid).split('/')[0]!;
const ms = (ts: unknown) => Date.parse(`${String(ts).replace(' ', 'T').slice(0, 23)}Z`);

t.test('the file is the one the expectations describe, and spans one working day', async (t) => {
  const bytes = fs.readFileSync(pcap);
  t.equal(crypto.createHash('sha256').update(bytes).digest('hex'), expected.capture.sha256, 'sha256 as the script wrote it');
  t.ok(bytes.length < 4 << 20, `bounded size (${bytes.length} bytes)`);
  const info = capinfos(pcap);
  t.equal(info.packets, expected.parts.reduce((n, p) => n + p.packets, 0), 'packets: the sum of the parts');
  const day = Date.parse(`${expected.day}T00:00:00Z`) / 1000;
  t.ok(Number(info.first) >= day + 9 * 3600 && Number(info.last) < day + 18 * 3600, `09:00–18:00 UTC (${info.first}–${info.last})`);
  // Every IPv4 packet has an office address (10.1.0.0/24) on one side: the rewrite left no source address behind.
  const foreign = run('tshark', ['-n', '-r', pcap, '-Y', 'ip && !(ip.addr == 10.1.0.0/24)', '-T', 'fields', '-e', 'frame.number']).trim();
  t.equal(foreign, '', 'no IPv4 packet without an office address');
  const clients = new Set(run('tshark', ['-n', '-r', pcap, '-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip', '-T', 'fields', '-e', 'ip.src']).trim().split('\n'));
  t.same([...clients].sort(), ['10.1.0.11', '10.1.0.12', '10.1.0.13', '10.1.0.14', '10.1.0.15', '10.1.0.16', '10.1.0.17'], 'IPv4 connections opened by the seven office clients');
});

t.test('the main job: directory, ingest with the watchlist, summary', async (t) => {
  const db = path.join(tempDir('demo'), 'demo.duckdb');
  const imported = await imtap(['directory', 'import', '--db', db, people]);
  t.equal(imported.code, 0, imported.stderr);
  const ingest = await imtap(['ingest', '--db', db, '--watchlist', watchlist, pcap]);
  t.equal(ingest.code, 0, ingest.stderr);
  const summary = await imtap(['report', 'summary', '--db', db]);
  t.equal(summary.code, 0, summary.stderr);
  t.match(summary.stdout, /Summary/);

  t.test('apps: those of the parts the day was made from', async (t) => {
    const apps = (await rows(db, 'SELECT DISTINCT app FROM flows WHERE app IS NOT NULL')).map((r) => r.app);
    t.same([...apps].sort(), [...new Set(expected.parts.map((p) => p.app))].sort());
    const flows = await rows(db, 'SELECT app, epoch_ms(ts_start)::DOUBLE AS start FROM flows WHERE app IS NOT NULL');
    for (const part of expected.parts) {
      const at = Date.parse(part.start);
      const n = flows.filter((f) => f.app === part.app && Number(f.start) >= at && Number(f.start) < at + 300_000).length;
      t.ok(n > 0, `${part.app} from ${part.start} (${part.source}): ${n} flows`);
    }
  });

  t.test('every message the clients sent, and every delivery, with its text and time', async (t) => {
    const msgs = await rows(db, "SELECT app, direction, kind, sender, recipient, body, ts::VARCHAR AS ts FROM messages WHERE app IN ('irc', 'xmpp') AND body IS NOT NULL");
    const texts = new Set(expected.messages.map((m) => m.text));
    const sent = msgs.filter((m) => m.direction === 'c2s');
    t.same(
      bag(sent.map((m) => [m.app, m.kind, m.app === 'xmpp' ? bare(m.sender) : m.sender, m.recipient, m.body])),
      bag(expected.messages.map((m) => [m.protocol, m.kind, m.sender, m.recipient, m.text])),
      'sent (c2s)',
    );
    t.same(
      bag(msgs.filter((m) => m.direction === 's2c' && texts.has(String(m.body))).map((m) => [m.app, m.kind, m.body])),
      bag(expected.messages.flatMap((m) => m.receivers.map(() => [m.protocol, m.kind, m.text]))),
      'delivered (s2c), once per recipient',
    );
    for (const m of expected.messages) {
      const row = sent.find((r) => r.body === m.text);
      const d = Math.abs(ms(row?.ts) - Date.parse(m.at));
      t.ok(d < 2000, `"${m.text.slice(0, 24)}…" at ${String(row?.ts)}, the client logged ${m.at}`);
    }
  });

  t.test('the files sent: DCC and in-band bytestream, name, size, hash', async (t) => {
    const got = await rows(db, "SELECT app, filename, size, sha256, complete FROM transfers WHERE app IN ('irc', 'xmpp')");
    for (const f of expected.files) {
      const row = got.find((r) => r.filename === f.name);
      t.same(row && [row.app, Number(row.size), row.sha256, row.complete], [f.protocol, f.size, f.sha256, true], f.name);
    }
  });

  t.test('the watchlist hit: "Project Falcon", on every copy of the messages that say it', async (t) => {
    const hits = expected.messages.filter((m) => /project\s+falcon/i.test(m.text));
    t.ok(hits.length >= 1, 'the day has a message for the demo watchlist');
    const alerts = await rows(db, 'SELECT a.app, a.severity, a.rule, a.matched, a.direction, m.body FROM alerts a LEFT JOIN messages m USING (capture_id, flow_id, ts) ORDER BY a.ts');
    t.same(
      bag(alerts.map((a) => [a.app, a.severity, a.rule, String(a.matched).toLowerCase()])),
      bag(hits.flatMap((m) => Array.from({ length: 1 + m.receivers.length }, () => [m.protocol, 'high', 'project-falcon', 'project falcon']))),
      'one alert per message row: the sent copy and each delivery',
    );
    t.ok(alerts.every((a) => hits.some((h) => h.text === a.body)), 'alerts point at the messages that say it');
  });

  t.test('people: the directory names every office client', async (t) => {
    const lines = fs.readFileSync(people, 'utf8').trim().split('\n').slice(1);
    const persons = new Set(lines.map((l) => l.split(',')[0]));
    const users = JSON.parse((await imtap(['report', 'users', '--db', db, '--format', 'json'])).stdout) as { sections: { id: string; rows: Row[] }[] };
    const section = users.sections.find((s) => s.id === 'users');
    t.same(bag((section?.rows ?? []).map((r) => r.user)), bag([...persons]), 'each person once, no bare address left');
    const ben = section?.rows.find((r) => r.user === 'Ben Okafor');
    t.equal(ben?.department, 'Engineering');
    t.match(String(ben?.apps), /irc.*teams.*xmpp/);
  });
});
