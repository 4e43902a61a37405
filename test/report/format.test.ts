// Report formats on a Report full of hostile network text (fixtures/report/format/hostile-report.json): every format
// parsed back by a reader written here (JSON.parse, an RFC 4180 reader, a GitHub-table cell reader, string-width on
// every terminal line) and compared with the values the fixture holds; md and csv against reviewed goldens.
import t from 'tap';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cell, Report } from '../../src/report/model.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../../src/report/format/index.js';

const require = createRequire(import.meta.url);
const stringWidth = require('string-width') as (s: string) => number;

const here = path.dirname(fileURLToPath(import.meta.url));
const FIX = path.join(here, '../../fixtures/report/format');
const load = (): Report => JSON.parse(fs.readFileSync(path.join(FIX, 'hostile-report.json'), 'utf8')) as Report;
const render = (r: Report, f: ReportFormat, width = 100, color = false) => renderReport(r, f, { color, width });
const UPDATE = process.env.UPDATE_GOLDENS === '1';

type TT = Parameters<Parameters<typeof t.test>[0]>[0];

function golden(t: TT, name: string, actual: string) {
  const file = path.join(FIX, name);
  if (UPDATE) fs.writeFileSync(file, actual);
  t.equal(actual, fs.readFileSync(file, 'utf8'), `${name} matches the reviewed golden (UPDATE_GOLDENS=1 rewrites it)`);
}

const report = load();
const hostile = report.sections.find((s) => s.id === 'hostile')!;
const bodies = hostile.rows.map((r) => r[2] as string);

t.test('the fixture holds what the tests claim', async (t) => {
  const all = bodies.join('');
  for (const needle of ['<script>', "=cmd|' /C calc'!A0", '|', '`', '\u001b[31m', '\u202e', '\u0000', '\n', '\ud800', '\udc00'])
    t.ok(all.includes(needle), `has ${JSON.stringify(needle)}`);
  t.ok(bodies.some((b) => b.length >= 2048 && !/\s/.test(b)), 'a 2 KB word');
  t.same(REPORT_FORMATS, ['table', 'csv', 'json', 'ndjson', 'md', 'html']);
});

t.test('json: one document, rows as objects keyed by column name, every value exactly as in the report', async (t) => {
  const doc = JSON.parse(render(report, 'json'));
  t.equal(doc.name, report.name);
  t.equal(doc.title, report.title);
  t.same(doc.filters, report.filters);
  t.equal(doc.sections.length, report.sections.length);
  report.sections.forEach((s, i) => {
    const d = doc.sections[i];
    t.equal(d.id, s.id);
    t.same(d.columns, s.columns);
    t.same(d.chart, s.chart);
    t.equal(d.rows.length, s.rows.length, `${s.id}: row count`);
    s.rows.forEach((r, k) => {
      t.same(Object.keys(d.rows[k]), s.columns.map((c) => c.name));
      s.columns.forEach((c, j) => {
        // Lone surrogates and NUL come back as they were (JSON \u escapes).
        if (d.rows[k][c.name] !== r[j]) t.fail(`${s.id}[${k}].${c.name} differs`);
      });
    });
  });
  t.match(render(report, 'json'), /\\ud800/, 'a lone surrogate is written as an escape, not as broken UTF-8');
  t.notMatch(render(report, 'json'), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no raw control or bidi character');
  t.match(render(report, 'ndjson'), /abc\\u202etxt/, 'the bidi override as an escape');
});

t.test('ndjson: one line per row, section first, values exact', async (t) => {
  const out = render(report, 'ndjson');
  const lines = out.split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  const total = report.sections.reduce((n, s) => n + s.rows.length, 0);
  t.equal(lines.length, total);
  const objs = lines.map((l) => JSON.parse(l) as Record<string, Cell>);
  t.same(objs.map((o) => Object.keys(o)[0]), new Array(total).fill('section'));
  const mine = objs.filter((o) => o.section === 'hostile');
  t.same(mine.map((o) => o.body), bodies);
  t.equal(render({ ...report, sections: [] }, 'ndjson'), '', 'no sections: nothing');
});

/** RFC 4180 reader: quoted fields with "" and line breaks; CRLF or LF records. */
function readCsv(s: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < s.length) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      field += ch; i++; continue;
    }
    if (ch === '"' && field === '') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\n' || (ch === '\r' && s[i + 1] === '\n')) {
      row.push(field); rows.push(row); row = []; field = '';
      i += ch === '\r' ? 2 : 1; continue;
    }
    field += ch; i++;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

t.test('csv: one table, section column first, formulas neutralised, every other value as stored', async (t) => {
  const out = render(report, 'csv');
  const rows = readCsv(out);
  const header = rows.shift()!;
  t.equal(header[0], 'section');
  t.same(header, ['section', 'app', 'messages', 'bytes', 'share', 'encrypted', 'hour', 'irc', 'xmpp', 'ts', 'nick', 'body', 'n', 'ratio', 'x']);
  t.equal(rows.length, report.sections.reduce((n, s) => n + s.rows.length, 0), 'one record per row (line breaks inside cells stay inside)');
  for (const r of rows) t.equal(r.length, header.length, 'every record as wide as the header');
  let k = 0;
  for (const s of report.sections) {
    for (const r of s.rows) {
      const rec = rows[k++]!;
      t.equal(rec[0], s.id);
      s.columns.forEach((c, j) => {
        const v = r[j];
        const got = rec[header.indexOf(c.name)];
        let want = v === null || v === undefined ? '' : String(v);
        if (typeof v === 'string') want = wellFormed(v);
        if (/^[=+\-@\t\r]/.test(want) && typeof v === 'string') want = `'${want}`;
        if (got !== want) t.fail(`${s.id}.${c.name}: ${JSON.stringify(got).slice(0, 60)} is not ${JSON.stringify(want).slice(0, 60)}`);
      });
      // Columns of other sections stay empty.
      header.forEach((h, j) => {
        if (j > 0 && !s.columns.some((c) => c.name === h) && rec[j] !== '') t.fail(`${s.id}: ${h} not empty`);
      });
    }
  }
  for (const r of rows) for (const cell of r) if (/^[=+\-@\t\r]/.test(cell)) t.fail(`formula-like cell ${cell.slice(0, 30)}`);
  t.ok(rows.some((r) => r.includes("'=cmd|' /C calc'!A0")), 'the DDE payload is text');
  t.ok(rows.some((r) => r.includes('two\nlines\r\nthree')), 'line breaks kept inside the quoted cell');

  // One section: its columns, no section column.
  const one = readCsv(render({ ...report, sections: [report.sections[0]!] }, 'csv'));
  t.same(one[0], ['app', 'messages', 'bytes', 'share', 'encrypted']);
  t.same(one[1], ['irc', '1234', '5000000', '55.5', 'false']);
  t.same(one[3], ["'=HYPERLINK(\"http://evil\")", '0', '', '', '']);
  golden(t, 'hostile.csv', out);
});

/** The cells of one GitHub table row: backslash escapes undone, `|` splits, entities and <br> decoded. */
function mdCells(line: string): string[] {
  if (!line.startsWith('| ') || !line.endsWith(' |')) throw new Error(`not a table row: ${line.slice(0, 40)}`);
  const cells: string[] = [];
  let cur = '';
  for (let i = 1; i < line.length - 1; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length - 1 && /[!-/:-@[-`{-~]/.test(line[i + 1]!)) {
      cur += line[++i];
      continue;
    }
    if (ch === '|') { cells.push(cur); cur = ''; continue; }
    cur += ch;
  }
  cells.push(cur);
  return cells.map((c) =>
    c.trim().replace(/<br>/g, '\n').replace(/&#32;/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'),
  );
}

/** What a terminal or page shows of a control character: the \xNN / \uNNNN escape. */
const visible = (s: string) =>
  s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const n = ch.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });

t.test('md: tables keep their shape, cells read back as the text, no HTML but <br>', async (t) => {
  const out = render(report, 'md');
  const lines = out.split('\n');
  const head = lines.findIndex((l) => l.startsWith('| Time | Nick |'));
  t.ok(head > 0, 'the hostile table is there');
  t.equal(lines[head + 1], '| --- | --- | --- | ---: | ---: |', 'numbers right-aligned');
  const rows = lines.slice(head + 2, head + 2 + hostile.rows.length);
  rows.forEach((line, k) => {
    const cells = mdCells(line);
    t.equal(cells.length, 5, `row ${k}: five cells (no | broke out)`);
    const body = wellFormed(bodies[k]!).split(/\r\n|\r|\n/).map(visible).join('\n');
    if (cells[2] !== body) t.fail(`row ${k}: body reads back as ${JSON.stringify(cells[2]).slice(0, 80)}`);
  });
  t.equal(lines[head + 2 + hostile.rows.length], '', 'the table ends after its rows');
  // Structure: no raw HTML besides <br>, no unescaped backtick/emphasis/link syntax, no raw controls.
  t.notMatch(out.replace(/<br>/g, ''), /</, 'no < left (no tag, no comment)');
  t.notMatch(out, /(?<!\\)`/, 'every backtick escaped');
  t.notMatch(out, /(?<!\\)\[/, 'every [ escaped: no link or image');
  t.notMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no raw control or bidi character');
  t.equal(out, wellFormed(out), 'no lone surrogate');
  t.match(out, /^## Messages \\\| with \\`hostile\\` text$/m, 'the section title escaped too');
  t.match(out, /^- \*\*Filters:\*\* since 2024-05-01T00:00:00Z, until 2024-05-02T00:00:00Z, app irc, user &lt;img src=x onerror=alert\(1\)&gt;$/m);
  t.match(out, /^\*No rows\.\*$/m, 'an empty section says so');
  t.match(out, /^\| \\=HYPERLINK\("http\\:\/\/evil"\) \| 0 \|  \|  \|  \|$/m, 'http:// not autolinked, nulls empty');
  golden(t, 'hostile.md', out);
});

const ANSI = /\u001b\[[0-9;]*m/g;

t.test('table: no line wider than the terminal, numbers right-aligned, text made safe', async (t) => {
  for (const width of [60, 80, 200, 30, 20]) {
    for (const color of [false, true]) {
      const out = render(report, 'table', width, color);
      const lines = out.split('\n');
      const wide = lines.filter((l) => stringWidth(l.replace(ANSI, '')) > width);
      t.same(wide.map((l) => l.slice(0, 40)), [], `width ${width}${color ? ' colour' : ''}: no line wider`);
      const plain = color ? out.replace(ANSI, '') : out;
      t.notMatch(plain, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/, 'no control or bidi character');
      t.equal(plain, wellFormed(plain), 'no lone surrogate');
      if (!color) t.notMatch(out, /\u001b/, 'no colour without color');
      else t.match(out, /\u001b\[1m/, 'colour with color');
    }
  }
  const wide = render(report, 'table', 200);
  t.match(wide, /\\x1b\[31mred\\x1b\[0m/, 'the escape sequence shown as text');
  t.match(wide, /abc\\u202etxt\.exe/, 'the bidi override shown as an escape');
  t.match(wide, /nul\\x00here\\x07bell\\x9bcsi/, 'NUL, BEL and C1 CSI shown');
  t.match(wide, /bad \ufffd surrogates \ufffd end/, 'lone surrogates as U+FFFD');
  t.match(wide, /…/, 'the 2 KB word cut with an ellipsis');
  t.notMatch(wide, /x{300}/, 'and not printed whole');
  // Right alignment: the Messages column ends at the same place on every row of the apps table.
  const apps = wide.split('\n').filter((l) => /│ (irc|xmpp|=HYPERLINK)/.test(l));
  t.equal(apps.length, 3);
  const ends = apps.map((l) => {
    const cells = l.split('│');
    return cells[2]!;
  });
  t.same(ends.map((c) => c.trimStart()), ['1,234 ', '10 ', '0 ']);
  t.equal(new Set(ends.map((c) => c.length)).size, 1);
  t.match(wide, /4\.8 MiB/, 'bytes for people');
  t.match(wide, /55\.5 %/);
  t.match(wide, /\(no rows\)/, 'an empty section says so');
  t.match(wide, /\(13 rows\)/);
  // Unlimited width (a pipe): still no 2 KB line.
  const unlimited = render(report, 'table', Infinity);
  t.ok(Math.max(...unlimited.split('\n').map((l) => stringWidth(l))) < 400, 'unlimited width caps the columns');
  // Narrow: records rather than a broken grid.
  t.match(render(report, 'table', 20), /^Body {2}/m, 'records below the width a grid needs');
});

t.test('every format renders an empty period as a valid empty report', async (t) => {
  const empty: Report = { ...report, sections: report.sections.map((s) => ({ ...s, rows: [] })) };
  for (const f of REPORT_FORMATS) t.type(render(empty, f), 'string', f);
  t.same(JSON.parse(render(empty, 'json')).sections.map((s: { rows: unknown[] }) => s.rows.length), [0, 0, 0, 0]);
  t.equal(render(empty, 'ndjson'), '');
  t.equal(readCsv(render(empty, 'csv')).length, 1, 'csv: the header only');
  t.equal((render(empty, 'md').match(/^\*No rows\.\*$/gm) ?? []).length, 4);
  t.equal((render(empty, 'table').match(/\(no rows\)/g) ?? []).length, 4);
  t.equal((render(empty, 'html').match(/No rows\./g) ?? []).length, 4);
  t.notMatch(render(empty, 'html'), /<svg/, 'no chart without rows');
});
