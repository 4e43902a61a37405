// The HTML report in headless Chromium: the page loads with no console message (a CSP violation would be one; a
// tampered copy with a script proves the scan sees them), every chart's <svg> is in the DOM, the hostile text of
// fixtures/report/format/hostile-report.json reads back from Chromium's DOM as text, and a screenshot is a PNG.
import t from 'tap';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from '../../src/report/model.js';
import { renderReport } from '../../src/report/format/index.js';
import { tempDir } from '../helpers/temp.js';
import { chromium, consoleLines, runChromium } from '../helpers/chromium.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const report = JSON.parse(
  fs.readFileSync(path.join(here, '../../fixtures/report/format/hostile-report.json'), 'utf8'),
) as Report;
const html = renderReport(report, 'html', { color: false, width: 80 });
const dir = tempDir('html-report');
const page = path.join(dir, 'report.html');
fs.writeFileSync(page, html);

const run = (args: string[], file: string) => runChromium(dir, args, file);

/** Text of an element as Chromium serialised it (the HTML serialisation escapes only & < > and U+00A0 in text). */
const textOf = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

/** What the page shows for a stored string: controls other than tab and line feed as \xNN, CRLF as LF. */
const shown = (s: string) =>
  s
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/\r\n/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
      const n = ch.charCodeAt(0);
      return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
    });

t.test('the file is self-contained and forbids scripts and remote loads', async (t) => {
  t.notMatch(html, /<script/i, 'no script element');
  // Network text is escaped, so every `<letter` in the file is markup we wrote: check those tags.
  const tags = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
  const names = new Set(tags.map((tag) => /^<([a-zA-Z0-9]+)/.exec(tag)![1]!.toLowerCase()));
  for (const bad of ['script', 'img', 'iframe', 'object', 'embed', 'link', 'base', 'form', 'image', 'use', 'foreignobject'])
    t.notOk(names.has(bad), `no <${bad}>`);
  const attrs = tags.flatMap((tag) => [...tag.matchAll(/\s([a-zA-Z:-]+)=/g)].map((m) => m[1]!.toLowerCase()));
  t.same(attrs.filter((a) => a.startsWith('on') || a === 'src' || a === 'style' || a.endsWith('href') && a !== 'href'), [], 'no event handler, src, style or xlink:href');
  t.same(tags.filter((tag) => /\shref="(?!#)/.test(tag)), [], 'links only to anchors in the page');
  t.same(tags.flatMap((tag) => tag.match(/https?:\/\/[^\s"']*/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg'), [], 'no URL in markup but the SVG namespace');
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
  t.match(csp, /default-src 'none'/);
  t.match(csp, /script-src 'none'/);
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  t.equal(styles.length, 1, 'one stylesheet');
  const hash = createHash('sha256').update(styles[0]!, 'utf8').digest('base64');
  t.ok(csp.includes(`style-src 'sha256-${hash}'`), 'the stylesheet allowed by its hash, no unsafe-inline');
  t.match(styles[0]!, /@media print/, 'a print stylesheet');
  t.notMatch(styles[0]!, /url\(|@import|@font-face/, 'the stylesheet loads nothing');
});

t.test('Chromium: loads without console messages, charts as SVG, hostile text as text, screenshot', async (t) => {
  const shot = path.join(dir, 'report.png');
  const tampered = path.join(dir, 'tampered.html');
  fs.writeFileSync(tampered, html.replace('</main>', '</main><script>console.log("ran")</script><p style="color:red">x</p>'));
  const [dom, neg] = await Promise.all([run(['--dump-dom'], page), run(['--dump-dom'], tampered)]);
  const png = await run([`--screenshot=${shot}`, '--window-size=1280,2000', '--hide-scrollbars'], page);

  t.same(consoleLines(dom.stderr), [], 'no console message (no CSP violation, no error)');
  t.same(consoleLines(png.stderr), [], 'none while taking the screenshot either');
  const negLines = consoleLines(neg.stderr);
  t.ok(negLines.some((l) => /Content Security Policy/.test(l) && /script/i.test(l)), 'control: an injected script is refused and logged');
  t.ok(negLines.some((l) => /inline style/.test(l)), 'control: an injected style attribute is refused and logged');
  t.notMatch(neg.stdout, /<p>ran<\/p>|ran"\)<\/script><script/, 'control: the script did not run');

  const out = dom.stdout;
  t.match(out, /<main>/, 'Chromium returned the DOM');
  t.notMatch(out, /<script/i, 'no script element in the DOM');
  const charted = report.sections.filter((s) => s.chart && s.rows.length > 0);
  t.equal((out.match(/<svg[\s>]/g) ?? []).length, charted.length, 'one <svg> per chart');
  for (const s of charted) {
    const sec = new RegExp(`<section id="s-${s.id}">([\\s\\S]*?)</section>`).exec(out)?.[1] ?? '';
    t.match(sec, /<svg[^>]*class="chart"[\s\S]*<\/svg>/, `${s.id}: the chart is in its section`);
    t.match(sec, new RegExp(`<title[^>]*>${s.chart!.title.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!).replace(/[()]/g, '\\$&')}</title>`), `${s.id}: titled`);
    t.ok((sec.match(/<(rect|polyline|circle) /g) ?? []).length >= s.rows.length, `${s.id}: a mark per row`);
  }

  // The hostile table, cell by cell, as Chromium parsed it.
  const sec = /<section id="s-hostile">([\s\S]*?)<\/section>/.exec(out)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(sec)?.[1] ?? '';
  const rows = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
  const hostile = report.sections.find((s) => s.id === 'hostile')!;
  t.equal(rows.length, hostile.rows.length, 'every row');
  hostile.rows.forEach((r, k) => {
    const cells = rows[k] ?? [];
    t.equal(cells.length, hostile.columns.length, `row ${k}: every cell, no element broke out`);
    t.notMatch(cells[2] ?? '', /</, `row ${k}: the cell holds text only`);
    t.equal(textOf(cells[2] ?? ''), shown(r[2] as string), `row ${k}: the body reads back as the text`);
  });
  t.match(out, /<h1>Hostile &lt;b&gt;report&lt;\/b&gt; &amp; `co`<\/h1>/, 'the title as text');
  t.match(out, /user &lt;img src=x onerror=alert\(1\)&gt;/, 'the filter as text');

  const buf = fs.readFileSync(shot);
  t.ok(buf.length > 10_000, `screenshot of ${buf.length} bytes`);
  t.same([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  t.equal(buf.toString('latin1', 12, 16), 'IHDR');
  t.same([buf.readUInt32BE(16), buf.readUInt32BE(20)], [1280, 2000], 'the window size asked for');
});
