/**
 * `imtap ingest` with the IM analyzers, through the command line: the flows carry their verdicts, the IM tables are
 * filled, and `--extract` writes the DCC file, byte-identical to what tshark reassembles from the data connection.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { imtap } from '../helpers/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('ingest-im');

async function json(db: string, sql: string): Promise<Record<string, unknown>[]> {
  const r = await imtap(['query', '--db', db, '--format', 'json', sql]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

/** The server→client bytes of TCP stream `n`, reassembled by tshark. */
function tsharkServerBytes(file: string, n: number): Buffer {
  const out = execFileSync('tshark', ['-r', file, '-q', '-z', `follow,tcp,raw,${n}`], { encoding: 'utf8' });
  return Buffer.from(
    out
      .split('\n')
      .filter((l) => /^\t[0-9a-f]+$/.test(l))
      .map((l) => l.trim())
      .join(''),
    'hex',
  );
}

t.test('ingest --extract: the DCC file carved, named safely, hashed, and equal to the stream tshark sees', async (t) => {
  const db = path.join(dir, 'dcc.duckdb');
  const carved = path.join(dir, 'carved', 'nested');
  const cap = fixture('irc/irc-dcc-first-command.pcap');
  const r = await imtap(['ingest', '--db', db, '--extract', carved, cap]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /IM: 2 flows, \d+ accounts, \d+ messages, 1 transfers/);
  t.match(r.stdout, /total: .*; \d+ encrypted flows unidentified; /);
  t.match(r.stdout, /IM flows irc 2/);
  const [tr] = await json(db, 'SELECT filename, size, bytes_seen, complete, md5, sha256, path, method FROM transfers');
  const data = tsharkServerBytes(cap, 1);
  t.ok(data.length > 0, 'tshark sees the data connection');
  t.match(tr, { size: data.length, bytes_seen: data.length, complete: true, method: 'dcc' });
  t.equal(path.dirname(tr!.path as string), carved, 'inside the extraction directory (created)');
  t.same(fs.readFileSync(tr!.path as string), data, 'byte-identical');
  const flows = await json(db, 'SELECT protocol, app, app_kind, method FROM flows ORDER BY flow_id');
  t.same(flows, [
    { protocol: 'irc', app: 'irc', app_kind: 'chat', method: 'payload' },
    { protocol: 'irc-dcc', app: 'irc', app_kind: 'file', method: 'expected' },
  ]);
});

t.test('ingest fills accounts, messages, events, contacts; a non-IM capture leaves its flows unclassified', async (t) => {
  const db = path.join(dir, 'irc.duckdb');
  const r = await imtap(['ingest', '--db', db, fixture('irc/irc-basic.pcap'), fixture('negatives/tcp_http-on-irc-port-missing-syn.pcapng')]);
  t.equal(r.code, 0, r.stderr);
  t.same(await json(db, "SELECT account, login, client_ip, side FROM accounts"), [{ account: 'brotest', login: 'brotest', client_ip: (await json(db, 'SELECT client_ip FROM flows WHERE capture_id = 1'))[0]!.client_ip, side: 'client' }]);
  t.same(await json(db, 'SELECT capture_id, count(*) AS n FROM messages GROUP BY ALL'), [{ capture_id: 1, n: 5 }]);
  t.same(await json(db, "SELECT count(*) AS n FROM flows WHERE capture_id = 2 AND (app IS NOT NULL OR protocol = 'irc')"), [{ n: 0 }], 'HTTP on the IRC port is not IRC');
  t.same(await json(db, 'SELECT count(*) AS n FROM flows WHERE protocol IS NULL'), [{ n: 0 }], 'every flow gets a protocol');
  t.same(await json(db, "SELECT DISTINCT target FROM events WHERE event = 'join'"), [{ target: '#brotest' }]);
  t.ok((await json(db, 'SELECT count(*) AS n FROM contacts'))[0]!.n as number > 0, 'channel members');
});

t.test('--extract into a path that cannot be a directory: a clear error, exit 1', async (t) => {
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'x');
  const r = await imtap(['ingest', '--db', path.join(dir, 'x.duckdb'), '--extract', file, fixture('irc/irc-basic.pcap')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /--extract .*a-file: cannot create the directory/);
});
