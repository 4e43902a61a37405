// The real HTML reports in headless Chromium: `imtap report summary|timeline --format html --out F` on the bundled demo
// day (people.csv imported, office-day.pcapng ingested with the demo watchlist). The page loads with no console
// message (errors and CSP violations are console messages), Chromium's DOM holds one <svg> per chart the report
// declares (counted from the JSON output of the same report, not from the HTML), the Project Falcon alert and every
// person of people.csv read back as text, and a screenshot is a PNG of the size asked for.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { imtap } from '../helpers/cli.js';
import { ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { chromium, consoleLines, runChromium } from '../helpers/chromium.js';

const DEMO = path.join(ROOT, 'fixtures/pcaps/demo');
const dir = tempDir('html-real');
const db = path.join(dir, 'demo.duckdb');

const run = (args: string[], file: string) => runChromium(dir, args, file);
/** Text of serialised DOM: tags dropped, the entities Chromium writes in text decoded. */
const text = (html: string) =>
  html.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
const sectionOf = (dom: string, id: string) => new RegExp(`<section id="s-${id}">([\\s\\S]*?)</section>`).exec(dom)?.[1] ?? '';

type Doc = { sections: { id: string; title: string; rows: unknown[]; chart?: { title: string } }[] };
const people = [...new Set(fs.readFileSync(path.join(DEMO, 'people.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]!))];

t.before(async () => {
  const dirImport = await imtap(['directory', 'import', '--db', db, path.join(DEMO, 'people.csv')]);
  if (dirImport.code !== 0) throw new Error(dirImport.stderr);
  const ingest = await imtap(['ingest', '--db', db, '--watchlist', path.join(DEMO, 'watchlist.txt'), path.join(DEMO, 'office-day.pcapng')]);
  if (ingest.code !== 0) throw new Error(ingest.stderr);
});

t.test('summary and timeline as HTML in Chromium', async (t) => {
  const pages: Record<string, { file: string; doc: Doc }> = {};
  for (const name of ['summary', 'timeline']) {
    const file = path.join(dir, `${name}.html`);
    const out = await imtap(['report', name, '--db', db, '--format', 'html', '--out', file]);
    t.equal(out.code, 0, out.stderr);
    t.equal(out.stdout, '', `${name}: nothing on standard output with --out`);
    const json = await imtap(['report', name, '--db', db, '--format', 'json']);
    t.equal(json.code, 0, json.stderr);
    pages[name] = { file, doc: JSON.parse(json.stdout) as Doc };
  }
  const summary = pages.summary!;
  const timeline = pages.timeline!;
  const shot = path.join(dir, 'summary.png');
  const [sDom, tDom, png] = await Promise.all([
    run(['--dump-dom'], summary.file),
    run(['--dump-dom'], timeline.file),
    run([`--screenshot=${shot}`, '--window-size=1280,2400', '--hide-scrollbars'], summary.file),
  ]);

  for (const [name, dom, doc] of [['summary', sDom, summary.doc], ['timeline', tDom, timeline.doc]] as const) {
    t.same(consoleLines(dom.stderr), [], `${name}: no console message (no error, no CSP violation)`);
    t.match(dom.stdout, /<main>/, `${name}: Chromium returned the DOM`);
    t.notMatch(dom.stdout, /<script/i, `${name}: no script element`);
    const charted = doc.sections.filter((s) => s.chart && s.rows.length > 0);
    t.ok(charted.length >= 2, `${name}: the demo day fills ${charted.length} charts`);
    t.equal((dom.stdout.match(/<svg[\s>]/g) ?? []).length, charted.length, `${name}: one <svg> per chart in the report`);
    for (const s of charted) {
      const sec = sectionOf(dom.stdout, s.id);
      t.match(sec, /<svg[^>]*class="chart"[\s\S]*<\/svg>/, `${name} ${s.id}: its chart is in its section`);
      t.ok(text(sec).includes(s.chart!.title), `${name} ${s.id}: titled "${s.chart!.title}"`);
    }
  }
  t.same(consoleLines(png.stderr), [], 'no console message while taking the screenshot');

  // The watchlist alert and the people, as text in the sections that show them.
  const alerts = text(sectionOf(sDom.stdout, 'recent_alerts'));
  t.match(alerts, /project-falcon/, 'the watchlist rule');
  t.match(alerts, /Project Falcon/, 'the matched text');
  t.match(text(sectionOf(sDom.stdout, 'counts')), /Alerts 7/, 'seven alerts counted');
  const talkers = text(sectionOf(sDom.stdout, 'top_users'));
  t.equal(people.length, 7, 'people.csv names seven people');
  for (const p of people) t.ok(talkers.includes(p), `top talkers: ${p}`);
  // The timeline's hours: the demo day runs 09:12-17:26 UTC, so nine hourly rows 09..17.
  const hours = [...sectionOf(tDom.stdout, 'by_hour').matchAll(/<tr><td class="time"[^>]*>(\d{4}-\d\d-\d\d \d\d):/g)].map((m) => m[1]);
  t.same(hours, ['09', '10', '11', '12', '13', '14', '15', '16', '17'].map((h) => `2024-03-12 ${h}`), 'timeline: every hour of the day, in order');

  const buf = fs.readFileSync(shot);
  t.ok(buf.length > 20_000, `screenshot of ${buf.length} bytes`);
  t.same([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  t.equal(buf.toString('latin1', 12, 16), 'IHDR');
  t.same([buf.readUInt32BE(16), buf.readUInt32BE(20)], [1280, 2400], 'the window size asked for');
});
