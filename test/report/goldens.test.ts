// Goldens of every report in Markdown and of the summary in every format, on the bundled demo day
// (fixtures/pcaps/demo: directory import of people.csv, ingest with watchlist.txt), through `imtap report` as a user
// runs it. Each golden was reviewed line by line against the demo's known content (office-day.expected.json, its
// README, people.csv); a few facts are also checked here against expected.json directly, so that a golden
// regenerated over a regression does not pass unnoticed.
//
// What changes between runs is masked, and only that (fixtures/report/goldens/README.md):
// - the time the report was made (the only ISO time with exactly three fraction digits: rows have nine) -> <generatedAt>
// - the imtap version ("imtap 0.1.0", JSON "version") -> <version>
// - the database path (a temporary file) -> <database>
// - the checkout's absolute path (alerts name their watchlist file as ingested, resolved) -> <root>
// Captures are ingested by their path relative to the checkout (the test runs there), so capture paths are stable.
//
// Messages and conversations are restricted to the apps whose texts this project wrote (IRC and XMPP recorded by
// scripts/make-demo.mjs; Yahoo, SIP and Gadu-Gadu built by test/im/builders): the MSN and ICQ parts of the day come
// from shared captures, whose message texts stay out of goldens.
//
// IMTAP_REGEN=1 rewrites the goldens (never automatic); review the diff before committing.
import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { imtap } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { main } from '../../src/cli/main.js';
import { memoryOutput } from '../../src/cli/output.js';
import { esc } from '../../src/report/format/html.js';
import { mdText } from '../../src/report/format/markdown.js';
import { imtapVersion } from '../../src/report/run.js';

process.chdir(ROOT);
const DEMO = 'fixtures/pcaps/demo';
const GOLDEN = path.join(ROOT, 'fixtures/report/goldens');
const db = path.join(tempDir('goldens'), 'demo.duckdb');
const DAY = ['--since', '2024-03-12', '--until', '2024-03-13'];
/** The apps whose message texts were written by this project (see the head of this file). */
const OWN_TEXT_APPS = ['--app', 'irc,xmpp,yahoo,gadugadu,sip'];
const REGEN = process.env.IMTAP_REGEN === '1';

interface Expected {
  messages: { protocol: string; kind: string; sender: string; recipient: string; text: string; receivers: string[] }[];
  files: { protocol: string; name: string; size: number; sha256: string }[];
}
const expected = JSON.parse(fs.readFileSync(path.join(DEMO, 'office-day.expected.json'), 'utf8')) as Expected;

t.before(async () => {
  const dir = await imtap(['directory', 'import', '--db', db, `${DEMO}/people.csv`]);
  if (dir.code !== 0) throw new Error(dir.stderr);
  const ingest = await imtap(['ingest', '--db', db, '--watchlist', `${DEMO}/watchlist.txt`, `${DEMO}/office-day.pcapng`]);
  if (ingest.code !== 0) throw new Error(ingest.stderr);
});

/** `imtap report …` in-process; `tty`: standard output a 100-column terminal without colour (NO_COLOR). */
async function report(args: string[], tty = false): Promise<string> {
  const stdout = memoryOutput(tty ? { isTTY: true, columns: 100, color: false } : {});
  const stderr = memoryOutput();
  const code = await main(['report', ...args, '--db', db], { stdout, stderr });
  if (code !== 0) throw new Error(`imtap report ${args.join(' ')}: exit ${code}: ${stderr.text()}`);
  return stdout.text();
}

/** A string as each format writes it: raw (table, CSV), Markdown, HTML, inside a JSON string. */
const spellings = (s: string) => [...new Set([s, mdText(s), esc(s), JSON.stringify(s).slice(1, -1)])];

function mask(text: string, format: string): string {
  let out = text;
  if (format === 'json') {
    const doc = JSON.parse(out) as Record<string, unknown>;
    doc.generatedAt = '<generatedAt>';
    doc.version = '<version>';
    doc.database = '<database>';
    out = JSON.stringify(doc, null, 2) + '\n';
  }
  for (const s of spellings(db)) out = out.replaceAll(s, '<database>');
  for (const s of spellings(ROOT)) out = out.replaceAll(s, '<root>');
  out = out.replaceAll(`imtap ${imtapVersion()}`, 'imtap <version>');
  return out.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(?!\d)/g, '<generatedAt>');
}

function golden(t: Test, name: string, text: string): void {
  const file = path.join(GOLDEN, name);
  if (REGEN) fs.writeFileSync(file, text);
  t.equal(text, fs.readFileSync(file, 'utf8'), `matches fixtures/report/goldens/${name} (IMTAP_REGEN=1 rewrites it: review the diff)`);
}

const MD: [string, string[]][] = [
  ['summary', DAY],
  ['users', DAY],
  ['apps', DAY],
  ['accounts', DAY],
  ['conversations', [...DAY, ...OWN_TEXT_APPS]],
  ['messages', [...DAY, ...OWN_TEXT_APPS]],
  ['transfers', DAY],
  ['alerts', DAY],
  ['timeline', DAY],
];

t.test('every report in Markdown', async (t) => {
  for (const [name, args] of MD) {
    const md = mask(await report([name, ...args, '--format', 'md']), 'md');
    t.notMatch(md, /\/tmp\/|\/work\//, `${name}: no absolute path left unmasked`);
    golden(t, `${name}.md`, md);
  }
});

t.test('summary in every format', async (t) => {
  const table = mask(await report(['summary', ...DAY], true), 'table');
  t.notMatch(table, /\x1b/, 'table: no colour');
  t.ok(table.split('\n').every((l) => [...l].length <= 100), 'table: every line fits 100 columns');
  golden(t, 'summary.txt', table);
  for (const format of ['csv', 'json', 'ndjson', 'html']) golden(t, `summary.${format}`, mask(await report(['summary', ...DAY, '--format', format]), format));
});

t.test('masking: exactly the varying parts, in every format', async (t) => {
  const times = (s: string) => (s.match(/<generatedAt>/g) ?? []).length;
  t.equal(times(fs.readFileSync(path.join(GOLDEN, 'summary.md'), 'utf8')), 1, 'md: the Generated line');
  t.equal(times(fs.readFileSync(path.join(GOLDEN, 'summary.html'), 'utf8')), 2, 'html: the heading and the footer');
  t.equal(times(fs.readFileSync(path.join(GOLDEN, 'summary.csv'), 'utf8')), 0, 'csv: none (rows only)');
  t.match(fs.readFileSync(path.join(GOLDEN, 'summary.json'), 'utf8'), /"time": "2024-03-12T14:05:11\.\d{9}Z"/, 'row times kept');
});

// Independent facts: what the clients sent (office-day.expected.json) and people.csv, against the JSON reports.
type Doc = { sections: { id: string; rows: Record<string, unknown>[] }[] };
const json = async (args: string[]) => JSON.parse(await report([...args, ...DAY, '--format', 'json'])) as Doc;
const rowsOf = (d: Doc, id: string) => d.sections.find((s) => s.id === id)?.rows ?? [];

t.test('the goldens agree with what the clients sent', async (t) => {
  // Every message is stored once as sent (c2s) and once per delivery (s2c), so IRC and XMPP rows are 1 + receivers.
  const own = rowsOf(await json(['messages', '--app', 'irc,xmpp']), 'messages').filter((m) => m.kind !== 'notice');
  t.equal(own.length, expected.messages.reduce((n, m) => n + 1 + m.receivers.length, 0), 'IRC and XMPP rows: sent + deliveries');
  t.same(new Set(own.map((m) => m.text)), new Set(expected.messages.map((m) => m.text)), 'the texts the clients sent');

  // Alerts: every stored copy of a message mentioning Project Falcon.
  const falcon = expected.messages.filter((m) => m.text.includes('Project Falcon'));
  const alerts = rowsOf(await json(['alerts']), 'alerts');
  t.equal(alerts.length, falcon.reduce((n, m) => n + 1 + m.receivers.length, 0), 'one alert per stored copy');
  t.ok(fs.readFileSync(path.join(GOLDEN, 'alerts.md'), 'utf8').includes(`| ${alerts.length} |`), 'alerts.md counts them');

  // Transfers: the two files the script sent, complete, with their SHA-256, in the golden.
  const transfers = fs.readFileSync(path.join(GOLDEN, 'transfers.md'), 'utf8');
  for (const f of expected.files) t.ok(transfers.includes(`| ${f.sha256} |`) && transfers.includes(mdText(f.name)), `${f.name}: name and SHA-256`);

  // People: everyone in people.csv is an IM user of the day, in users.md and in the summary's top talkers.
  const people = [...new Set(fs.readFileSync(path.join(DEMO, 'people.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!))];
  t.equal(people.length, 7);
  const users = fs.readFileSync(path.join(GOLDEN, 'users.md'), 'utf8');
  const summary = fs.readFileSync(path.join(GOLDEN, 'summary.md'), 'utf8');
  for (const p of people) {
    t.match(users, new RegExp(`^\\| ${p} \\|`, 'm'), `users.md: ${p}`);
    t.match(summary, new RegExp(`^\\| ${p} \\| person \\|`, 'm'), `summary.md top talkers: ${p}`);
  }
});
