// imtap ingest into a real DuckDB file: rows equal what the flow table found, captures rows equal capinfos' view,
// re-ingest is idempotent, damage is recorded, a kill -9 at any moment followed by a re-ingest gives exactly the rows
// of a clean ingest, and a database held by another process gets a clear message.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { openStore } from '../../src/store/db.js';
import { ingestCapture } from '../../src/store/ingest.js';
import { collectFlows } from '../helpers/flows.js';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { capinfos } from '../helpers/tools.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-ingest-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bin = path.join(ROOT, 'dist/bin/imtap.js');
let n = 0;
const dbPath = () => path.join(tmp, `db${n++}.duckdb`);

async function rows(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const s = await openStore(db);
  try {
    const r = await s.connection.runAndReadAll(sql);
    return r.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    s.close();
  }
}

t.test('flows and captures rows are what the flow table and capinfos see', async (t) => {
  const db = dbPath();
  const store = await openStore(db);
  const files = ['irc/irc-privmsg.pcap', 'apps/sites.pcapng', 'sip/gprs-sip-gtpu.pcap', 'irc/irc-353.pcap'];
  for (const f of files) {
    const r = await ingestCapture(store, fixture(f));
    t.equal(r.outcome, 'ingested');
    t.equal(r.status, 'complete');
  }
  store.close();
  const caps = await rows(db, "SELECT capture_id, path, sha256, format, packets, bytes, status FROM captures ORDER BY capture_id");
  t.equal(caps.length, files.length);
  for (const [i, f] of files.entries()) {
    const c = caps[i]!;
    const ci = capinfos(fixture(f));
    t.equal(c.sha256, createHash('sha256').update(fs.readFileSync(fixture(f))).digest('hex'), `${f}: sha256`);
    t.equal(Number(c.packets), ci.packets, `${f}: packets`);
    t.equal(Number(c.bytes), ci.dataBytes, `${f}: bytes`);
    t.equal(c.status, 'complete');
    const expected = await collectFlows(fixture(f));
    const got = await rows(db, `SELECT flow_id, transport, client_ip, client_port, server_ip, server_port, packets_c2s, packets_s2c, bytes_c2s, bytes_s2c, orientation, end_reason FROM flows WHERE capture_id = ${c.capture_id} ORDER BY flow_id`);
    t.same(
      got.map((g) => [Number(g.flow_id), g.transport, g.client_ip, g.client_port, g.server_ip, g.server_port, Number(g.packets_c2s), Number(g.packets_s2c), Number(g.bytes_c2s), Number(g.bytes_s2c), g.orientation, g.end_reason]),
      expected.map((e) => [e.id, e.transport, e.client, e.clientPort, e.server, e.serverPort, e.packets[0], e.packets[1], e.bytes[0], e.bytes[1], e.orientation, e.endReason]),
      `${f}: ${expected.length} flows`,
    );
  }
  // nanosecond timestamps survive: sites.pcapng has nanosecond interfaces
  const ns = await rows(db, "SELECT max(nanosecond(ts_end) % 1000) AS sub_us FROM flows WHERE capture_id = 2");
  t.ok(Number(ns[0]!.sub_us) > 0, 'sub-microsecond digits kept');
});

t.test('re-ingest does nothing; --replace and an interrupted ingest rewrite under the same id', async (t) => {
  const db = dbPath();
  const f = fixture('apps/whatsapp_login_chat.pcap');
  const store = await openStore(db);
  const first = await ingestCapture(store, f);
  const count = async () => (await store.connection.runAndReadAll('SELECT (SELECT count(*) FROM captures) c, (SELECT count(*) FROM flows) f')).getRowObjectsJson()[0];
  const before = await count();
  const again = await ingestCapture(store, f);
  t.equal(again.outcome, 'already');
  t.equal(again.captureId, first.captureId);
  t.same(await count(), before);
  const rep = await ingestCapture(store, f, { replace: true });
  t.equal(rep.outcome, 'replaced');
  t.equal(rep.captureId, first.captureId);
  t.same(await count(), before);
  await store.connection.run(`UPDATE captures SET status = 'partial' WHERE capture_id = ${first.captureId}`);
  const res = await ingestCapture(store, f);
  t.equal(res.outcome, 'resumed');
  t.same(await count(), before);
  store.close();
});

t.test('a damaged capture is stored as partial with the offset of the damage; not a capture: failed, exit 1', async (t) => {
  const whole = fs.readFileSync(fixture('irc/irc-privmsg.pcap'));
  const cut = path.join(tmp, 'cut.pcap');
  fs.writeFileSync(cut, whole.subarray(0, whole.length - 10));
  const db = dbPath();
  const r = spawnSync(process.execPath, [bin, 'ingest', '--db', db, cut], { encoding: 'utf8' });
  t.equal(r.status, 3, r.stderr);
  t.match(r.stdout, /47 packets, 1 flows, .*partial/);
  const cap = await rows(db, 'SELECT status, error FROM captures');
  t.equal(cap[0]!.status, 'partial');
  t.match(cap[0]!.error as string, /^pcap_truncated_record at byte \d+$/);
  const an = await rows(db, 'SELECT code, file_offset FROM anomalies');
  t.same(an.map((a) => a.code), ['capture_pcap_truncated_record']);

  const text = path.join(tmp, 'notes.txt');
  fs.writeFileSync(text, 'not a capture\n');
  const bad = spawnSync(process.execPath, [bin, 'ingest', '--db', db, text], { encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /not a pcap or pcapng capture/);
  t.same((await rows(db, "SELECT status FROM captures WHERE path LIKE '%notes.txt'")).map((x) => x.status), ['failed']);
});

t.test('kill -9 at random moments, then ingest again: exactly the rows of a clean ingest', async (t) => {
  // A capture large enough for the ingest to take a while: 40 fixtures merged.
  const big = path.join(tmp, 'big.pcapng');
  const parts = ['apps/whatsappfiles.pcap', 'apps/KakaoTalk_talk.pcap', 'apps/whatsapp_login_call.pcap', 'sip/sv-sip-method.pcap'];
  execFileSync('mergecap', ['-a', '-F', 'pcapng', '-w', big, ...Array.from({ length: 10 }, () => parts.map(fixture)).flat()]);
  const clean = dbPath();
  t.equal(spawnSync(process.execPath, [bin, 'ingest', '--db', clean, big]).status, 0);
  const dump = async (db: string) => ({
    captures: await rows(db, 'SELECT capture_id, path, sha256, format, packets, bytes, ts_first, ts_last, status FROM captures ORDER BY capture_id'),
    flows: await rows(db, 'SELECT * FROM flows ORDER BY capture_id, flow_id'),
    anomalies: await rows(db, 'SELECT * FROM anomalies ORDER BY capture_id, flow_id, code'),
  });
  const want = await dump(clean);
  t.ok(want.flows.length > 100, `${want.flows.length} flows in the clean ingest`);
  // Above 4 MiB the SHA-256 is computed in a worker thread (small captures, as in the first test, on the decoding one).
  t.ok(fs.statSync(big).size > 4 << 20);
  t.equal(want.captures[0]!.sha256, createHash('sha256').update(fs.readFileSync(big)).digest('hex'), 'the SHA-256 of a large capture');
  const db = dbPath();
  let killedMidway = 0;
  for (const delay of [150, 400, 700, 1000]) {
    const child = spawn(process.execPath, [bin, 'ingest', '--db', db, big], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, delay));
    const alive = child.exitCode === null;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    if (alive) killedMidway++;
    // the database is readable after every kill
    const caps = await rows(db, 'SELECT status FROM captures');
    t.ok(caps.length <= 1, 'one captures row at most');
  }
  t.ok(killedMidway >= 1, `${killedMidway} of 4 kills hit a running ingest`);
  const again = spawnSync(process.execPath, [bin, 'ingest', '--db', db, big], { encoding: 'utf8' });
  t.equal(again.status, 0, again.stderr);
  t.same(await dump(db), want, 'same rows as the clean ingest');
});

t.test('a database held by another process: one clear sentence, exit 1', async (t) => {
  const db = dbPath();
  const holder = await openStore(db);
  const r = spawnSync(process.execPath, [bin, 'ingest', '--db', db, fixture('irc/irc-353.pcap')], { encoding: 'utf8' });
  holder.close();
  t.equal(r.status, 1);
  t.match(r.stderr, /^imtap: the database .* is in use by another imtap process \(PID \d+\): wait for it to finish, or name another file with --db\n$/);
});

t.test('a progress bar on a terminal only; none in a pipe or under CI', async (t) => {
  const f = fixture('apps/whatsappfiles.pcap');
  const env = { ...process.env };
  delete env.CI;
  // `script` (util-linux) runs the command on a pseudo-terminal, as a person's shell would.
  const tty = spawnSync('script', ['-qec', `'${process.execPath}' '${bin}' ingest --db '${dbPath()}' '${f}'`, '/dev/null'], { encoding: 'utf8', env });
  t.equal(tty.status, 0, tty.stderr);
  t.match(tty.stdout, /100% 0\.5\/0\.5 MB/, 'the bar reached 100%');
  t.match(tty.stdout, /ingested as capture 1: 620 packets/);
  const piped = spawnSync(process.execPath, [bin, 'ingest', '--db', dbPath(), f], { encoding: 'utf8', env });
  t.equal(piped.status, 0);
  t.notMatch(piped.stdout + piped.stderr, /\u001b|%/, 'no bar, no escape sequences');
  t.match(piped.stdout, /^total: 1 captures ingested, 0 already there; 620 packets, \d+ flows, \d+ anomaly rows; in .*: (no IM flows|IM flows [^;]+); \d+ encrypted flows unidentified; \d+ distinct accounts, \d+ messages, \d+ transfers$/m);
  const ci = spawnSync('script', ['-qec', `'${process.execPath}' '${bin}' ingest --db '${dbPath()}' '${f}'`, '/dev/null'], { encoding: 'utf8', env: { ...env, CI: 'true' } });
  t.notMatch(ci.stdout, /%/, 'no bar under CI');
});

t.test('a missing file is named, the others are still ingested', async (t) => {
  const db = dbPath();
  const r = spawnSync(process.execPath, [bin, 'ingest', '--db', db, path.join(tmp, 'missing.pcap'), fixture('irc/irc-353.pcap')], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /missing\.pcap: cannot open: no such file/);
  t.match(r.stdout, /irc-353\.pcap: ingested as capture 1: 12 packets/);
});

t.test('standard input ("-"), plain and gzip, as a slow pipe: the same rows and SHA-256 as the file; the same bytes again are "already there"', async (t) => {
  const f = fixture('apps/whatsapp_login_call.pcap');
  const sha = createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  const want = await (async () => {
    const db = dbPath();
    t.equal(spawnSync(process.execPath, [bin, 'ingest', '--db', db, f], { encoding: 'utf8' }).status, 0);
    return rows(db, 'SELECT flow_id, client_ip, server_port, packets_c2s, packets_s2c, protocol, app FROM flows ORDER BY flow_id');
  })();
  t.ok(want.length > 10, `${want.length} flows from the file`);
  // The bytes come in slowly (a pipe from tcpdump or ssh): the reader must not lose what arrives while the store is
  // still being prepared.
  const slow = (cmd: string, db: string) => spawnSync('sh', ['-c', `(sleep 0.5; ${cmd}) | '${process.execPath}' '${bin}' ingest --db '${db}' -`], { encoding: 'utf8' });
  for (const [name, cmd] of [
    ['plain', `cat '${f}'`],
    ['gzip', `gzip -c '${f}'`],
  ] as const) {
    const db = dbPath();
    const r = slow(cmd, db);
    t.equal(r.status, 0, `${name}: ${r.stderr}`);
    t.same(await rows(db, 'SELECT flow_id, client_ip, server_port, packets_c2s, packets_s2c, protocol, app FROM flows ORDER BY flow_id'), want, `${name}: the same flows as the file`);
    const cap = await rows(db, 'SELECT path, sha256, status FROM captures');
    if (name === 'plain') t.same(cap, [{ path: '-', sha256: sha, status: 'complete' }], 'plain: the SHA-256 of the bytes read');
    else t.same(cap.map((c) => [c.path, c.status]), [['-', 'complete']]);
    const again = slow(cmd, db);
    t.equal(again.status, 0);
    t.match(again.stdout, /already in .* \(same SHA-256\); nothing done/, `${name}: the same bytes again are recognised`);
  }
});
