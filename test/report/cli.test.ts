// imtap report end to end: usage errors (exit 2), a missing database (exit 1), an empty database, goldens of the JSON
// output, --out written atomically, and a cron-like run (stdout a pipe, CI=1, stdin closed: no colour, no prompt).
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { imtap } from '../helpers/cli.js';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { openStore } from '../../src/store/db.js';

const tmp = tempDir('report-cli');
const db = path.join(tmp, 'built.duckdb');
const empty = path.join(tmp, 'empty.duckdb');
// The built captures (synthetic conversations made by test/im/builders, no real people's messages).
const BUILT = ['gadugadu', 'sip', 'ymsg'].flatMap((d) =>
  fs.readdirSync(fixture(`built/${d}`)).filter((n) => /\.pcap(ng)?$/.test(n)).sort().map((n) => fixture(`built/${d}/${n}`)),
);
const GOLDEN = path.join(ROOT, 'fixtures/report');

t.before(async () => {
  const r = await imtap(['ingest', '--db', db, ...BUILT]);
  if (r.code !== 0 && r.code !== 3) throw new Error(r.stderr);
  (await openStore(empty)).close();
});

t.test('usage errors exit 2 and say what is accepted', async (t) => {
  const since = await imtap(['report', 'summary', '--db', db, '--since', 'yesterday']);
  t.equal(since.code, 2);
  t.equal(since.stdout, '');
  t.match(since.stderr, /--since "yesterday" is not a time: give an ISO 8601 date or date-time .*\(90m, 24h, 7d, 2w\)/);
  t.equal((await imtap(['report', 'summary', '--db', db, '--until', '2024-02-30'])).code, 2);
  t.equal((await imtap(['report', 'summary', '--db', db, '--since', '2024-05-02', '--until', '2024-05-01'])).code, 2);
  t.equal((await imtap(['report', 'conversations', '--db', db, '--limit', '0'])).code, 2);
  t.equal((await imtap(['report', 'nonsense', '--db', db])).code, 2);
  t.equal((await imtap(['report', 'summary', '--db', db, '--format', 'xml'])).code, 2);
  const re = await imtap(['report', 'messages', '--db', db, '--regex', '(unclosed']);
  t.equal(re.code, 2);
  t.match(re.stderr, /--regex "\(unclosed" is not a regular expression \(RE2 syntax\): missing \)/);
  t.equal(re.stdout, '');
});

t.test('a missing database: the open-for-reading message, exit 1', async (t) => {
  const r = await imtap(['report', 'summary', '--db', path.join(tmp, 'none.duckdb')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /no database at .*none\.duckdb: fill one with imtap ingest/);
});

t.test('an empty database: every report valid and empty, exit 0', async (t) => {
  for (const name of ['summary', 'users', 'apps', 'accounts', 'conversations', 'messages', 'transfers', 'alerts', 'timeline']) {
    const r = await imtap(['report', name, '--db', empty, '--format', 'json']);
    t.equal(r.code, 0, `${name}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as { name: string; sections: { id: string; rows: Record<string, unknown>[] }[] };
    t.equal(doc.name, name);
    for (const s of doc.sections) {
      if (s.id === 'counts') t.ok(s.rows.every((o) => o.value === 0), 'counts are zero');
      else if (s.id === 'encryption') t.same(s.rows, [{ encrypted_flows: 0, unidentified: 0, share: null }]);
      else t.same(s.rows, [], `${name}.${s.id} empty`);
    }
  }
});

/** The JSON output with what changes between runs masked. */
function masked(json: string): string {
  const doc = JSON.parse(json) as Record<string, unknown>;
  doc.generatedAt = '<generatedAt>';
  doc.version = '<version>';
  doc.database = '<database>';
  // Capture paths are absolute: the checkout's place is not part of the output's meaning.
  return JSON.stringify(doc, null, 2).replaceAll(JSON.stringify(ROOT).slice(1, -1), '<root>') + '\n';
}

for (const [name, args] of [
  ['accounts', []],
  ['transfers', ['--since', '2023-11-14', '--until', '2023-11-15']],
] as const) {
  t.test(`golden: report ${name} --format json`, async (t) => {
    const r = await imtap(['report', name, '--db', db, '--format', 'json', ...args]);
    t.equal(r.code, 0, r.stderr);
    const file = path.join(GOLDEN, `${name}.json`);
    if (process.env.IMTAP_REGEN === '1') fs.writeFileSync(file, masked(r.stdout));
    t.equal(masked(r.stdout), fs.readFileSync(file, 'utf8'), `matches ${path.relative(ROOT, file)} (IMTAP_REGEN=1 rewrites it; review the diff)`);
  });
}

t.test('--out: written through a temporary file and a rename, replacing what was there', async (t) => {
  const dir = path.join(tmp, 'out');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'summary.csv');
  fs.writeFileSync(file, 'old');
  const r = await imtap(['report', 'summary', '--db', db, '--format', 'csv', '--out', file]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, '');
  t.match(fs.readFileSync(file, 'utf8'), /im_users/);
  t.same(fs.readdirSync(dir), ['summary.csv'], 'no temporary file left');
  const bad = await imtap(['report', 'summary', '--db', db, '--out', path.join(tmp, 'no-such-dir', 'x.txt')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /cannot write .*x\.txt/);
});

t.test('every format renders every report of real rows', async (t) => {
  for (const format of ['table', 'csv', 'json', 'ndjson', 'md', 'html']) {
    for (const name of ['summary', 'conversations', 'timeline']) {
      const r = await imtap(['report', name, '--db', db, '--format', format]);
      t.equal(r.code, 0, `${name} ${format}: ${r.stderr}`);
      t.ok(r.stdout.length > 0);
    }
  }
});

t.test('a cron run: stdout a pipe, CI=1, stdin closed: no colour, no prompt, exit 0', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: '1', TS_NODE_TRANSPILE_ONLY: '1' };
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  const r = spawnSync(process.execPath, ['--import', '@tapjs/typescript/import', path.join(ROOT, 'bin/imtap.ts'), 'report', 'users', '--db', db], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 120_000,
  });
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stdout, /\x1b/, 'no escape sequences');
  t.match(r.stdout, /alice_tap/);
});

t.test('network text in rows and conversation titles is escaped by every format', async (t) => {
  const hostile = path.join(tmp, 'hostile.duckdb');
  fs.copyFileSync(db, hostile);
  const w = await openStore(hostile);
  await w.connection.run(`INSERT INTO messages (ts, capture_id, flow_id, app, sender, recipient, body, direction, kind)
    SELECT ts + INTERVAL 1 SECOND, capture_id, flow_id, 'yahoo', '<script>alert(1)</script>', chr(27) || '[2J|x', '=HYPERLINK("http://x")' || chr(27) || '[31m', 'c2s', 'im'
    FROM messages ORDER BY ts DESC LIMIT 1`);
  w.close();
  const run = async (format: string) => {
    const r = await imtap(['report', 'conversations', '--db', hostile, '--limit', '1', '--format', format]);
    t.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  t.notMatch(await run('table'), /\x1b/, 'table: no escape sequence reaches the terminal');
  t.match(await run('csv'), /'=HYPERLINK/, 'csv: the formula is defused');
  const html = await run('html');
  t.notMatch(html, /<script>alert/, 'html: no markup from the network');
  t.match(html, /&lt;script&gt;/);
  const json = JSON.parse(await run('json')) as { sections: { title: string; rows: Record<string, unknown>[] }[] };
  t.equal(json.sections[1]!.rows[0]!.text, '=HYPERLINK("http://x")\u001b[31m', 'json: the text as stored');
});
