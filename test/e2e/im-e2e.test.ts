/**
 * End to end against real servers and real client libraries: ngircd + irc-framework and prosody + @xmpp/client play a
 * scenario on loopback while tcpdump captures it (test/e2e/lib); `imtap ingest --extract` of that pcap must give
 * exactly the accounts, messages, contacts and transfers the clients logged, and the carved files must be
 * byte-identical to the ones sent. The clients' logs are the oracle: imtap never sees them.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { imtap } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';
import { runIrcScenario, runXmppScenario } from './lib/run.js';

if (process.getuid?.() !== 0) {
  // tcpdump on lo and the servers' user switches need root (CI runs as root); say so instead of failing obscurely.
  t.fail('the end-to-end tests need root (tcpdump on the loopback interface)');
}

type Row = Record<string, unknown>;

async function rows(db: string, sql: string): Promise<Row[]> {
  const r = await imtap(['query', '--db', db, '--format', 'json', sql]);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as Row[];
}

/** Multiset comparison as sorted JSON lines. */
const bag = (items: unknown[]) => items.map((x) => JSON.stringify(x)).sort();
const bare = (jid: unknown) => (typeof jid === 'string' ? jid.split('/')[0]! : jid);

t.test('IRC: ngircd and irc-framework clients, captured and ingested', async (t) => {
  const dir = tempDir('e2e-irc');
  const run = await runIrcScenario(dir);
  const log = run.log;
  t.equal(run.capture.droppedByKernel, 0, 'tcpdump dropped nothing');
  const db = path.join(dir, 'irc.duckdb');
  const carved = path.join(dir, 'carved');
  const ing = await imtap(['ingest', '--db', db, '--extract', carved, run.pcap]);
  t.equal(ing.code, 0, ing.stderr);

  // Accounts: every nick the server accepted (registration and later changes), from 127.0.0.1, with their USER and
  // real name, and "password" where PASS went in clear; the refused client has none.
  const registered = log.accounts.filter((a) => a.registered);
  t.ok(registered.length >= 3 && log.accounts.some((a) => !a.registered), 'the scenario had members and a refused client');
  const nicks = new Set([...registered.map((a) => a.nick), ...log.nickChanges.map((c) => c.to)]);
  const accounts = await rows(db, "SELECT account, login, display_name, auth, client_ip FROM accounts WHERE side = 'client'");
  t.same([...new Set(accounts.map((a) => a.account))].sort(), [...nicks].sort(), 'the nicks');
  for (const a of registered) {
    t.match(accounts.find((r) => r.account === a.nick), { login: a.user, display_name: a.realname, auth: a.usedPass ? 'password' : null, client_ip: '127.0.0.1' }, a.nick);
  }
  const everything = JSON.stringify(await rows(db, 'SELECT * EXCLUDE (body_raw) FROM messages')) + JSON.stringify(await rows(db, 'SELECT * FROM events')) + JSON.stringify(accounts);
  t.notOk(everything.includes(registered.find((a) => a.password)?.password ?? '\u0000none'), 'the server password is stored nowhere');

  // Messages: each one once as sent (c2s, on the sender's connection) and once per recipient as delivered (s2c).
  const msgs = await rows(db, 'SELECT sender, recipient, kind, body, direction FROM messages');
  const fromPeople = msgs.filter((m) => nicks.has(m.sender as string));
  t.same(bag(fromPeople.filter((m) => m.direction === 'c2s').map((m) => [m.sender, m.recipient, m.kind, m.body])), bag(log.messages.map((m) => [m.from, m.to, m.kind, m.text])), 'sent');
  t.same(
    bag(fromPeople.filter((m) => m.direction === 's2c').map((m) => [m.sender, m.recipient, m.kind, m.body])),
    bag(log.messages.flatMap((m) => m.receivedBy.map(() => [m.from, m.to, m.kind, m.text]))),
    'delivered',
  );
  t.ok(log.messages.some((m) => /[^\x00-\x7f]/.test(m.text)), 'non-ASCII text was part of it');

  // Membership: nick changes, joins, parts, quits.
  const events = await rows(db, "SELECT account, event, target, detail, direction FROM events WHERE direction = 'c2s' OR event IN ('nick')");
  for (const c of log.nickChanges) t.ok(events.some((e) => e.event === 'nick' && e.account === c.from && e.detail === c.to), `nick ${c.from} → ${c.to}`);
  for (const j of log.channels) t.ok(events.some((e) => e.event === j.action && e.account === j.nick && String(e.target).toLowerCase() === j.channel.toLowerCase()), `${j.action} ${j.nick} ${j.channel}`);
  for (const q of log.quits) t.ok(events.some((e) => e.event === 'quit' && e.account === q.nick), `quit ${q.nick}`);

  // The DCC file: one transfer, hashed, complete, and carved byte for byte.
  const transfers = await rows(db, 'SELECT sender, recipient, filename, size, bytes_seen, md5, sha256, complete, path, method FROM transfers');
  t.equal(transfers.length, log.dcc.length);
  for (const f of log.dcc) {
    const tr = transfers.find((x) => x.filename === f.name);
    t.match(tr, { sender: f.from, recipient: f.to, size: f.size, bytes_seen: f.size, md5: f.md5, sha256: f.sha256, complete: true, method: 'dcc' }, f.name);
    t.ok(fs.readFileSync(tr!.path as string).equals(fs.readFileSync(f.path)), 'the carved file is the file sent');
  }
  const flows = await rows(db, 'SELECT protocol, method, count(*) AS n FROM flows GROUP BY ALL ORDER BY 1');
  t.same(flows.map((f) => [f.protocol, f.method]), [['irc', 'payload'], ['irc-dcc', 'expected']], 'every flow recognised');
});

t.test('XMPP: prosody and @xmpp/client clients, captured and ingested', async (t) => {
  const dir = tempDir('e2e-xmpp');
  const run = await runXmppScenario(dir);
  const log = run.log;
  t.equal(run.capture.droppedByKernel, 0, 'tcpdump dropped nothing');
  const db = path.join(dir, 'xmpp.duckdb');
  const carved = path.join(dir, 'carved');
  const ing = await imtap(['ingest', '--db', db, '--extract', carved, run.pcap]);
  t.equal(ing.code, 0, ing.stderr);

  const accounts = await rows(db, "SELECT account, auth, client_ip, server FROM accounts WHERE side = 'client'");
  t.same([...new Set(accounts.map((a) => a.account))].sort(), log.accounts.map((a) => a.bareJid).sort(), 'the bare JIDs');
  for (const a of log.accounts) t.match(accounts.find((r) => r.account === a.bareJid), { auth: 'sasl_plain', client_ip: '127.0.0.1' }, a.bareJid);
  const all = JSON.stringify(await rows(db, 'SELECT * FROM accounts')) + JSON.stringify(await rows(db, 'SELECT * FROM events'));
  for (const a of log.accounts) t.notOk(all.includes(a.password), `${a.username}'s password is stored nowhere`);
  const flows = await rows(db, "SELECT DISTINCT server_name FROM flows WHERE protocol = 'xmpp'");
  t.same(flows.map((f) => f.server_name), [log.server.domain], 'the domain');

  // Rosters: every item a client's roster held.
  const contacts = await rows(db, 'SELECT DISTINCT account, contact FROM contacts');
  t.same(bag(contacts.map((c) => [bare(c.account), bare(c.contact)])), bag([...new Set(log.roster.map((r) => JSON.stringify([r.owner, r.jid])))].map((x) => JSON.parse(x) as unknown)), 'roster items');

  // Messages with a body: once as sent (c2s) and once per recipient as delivered (s2c).
  const msgs = await rows(db, 'SELECT sender, recipient, kind, body, subject, direction FROM messages WHERE body IS NOT NULL');
  const withBody = log.messages.filter((m) => m.body !== undefined);
  t.same(bag(msgs.filter((m) => m.direction === 'c2s').map((m) => [bare(m.sender), bare(m.recipient), m.kind, m.body])), bag(withBody.map((m) => [bare(m.from), bare(m.to), m.type, m.body])), 'sent');
  t.same(bag(msgs.filter((m) => m.direction === 's2c').map((m) => [m.kind, m.body])), bag(withBody.flatMap((m) => m.receivedBy.map(() => [m.type, m.body]))), 'delivered');
  t.ok(withBody.some((m) => /[^\x00-\x7f]/.test(m.body!)), 'non-ASCII text was part of it');
  t.ok(withBody.some((m) => m.type === 'groupchat'), 'a MUC room was part of it');

  // The file offered and sent in-band through the server: seen twice, on the sender's connection (uploaded) and on
  // the recipient's (delivered) — one row per flow it was seen on, each hashed, complete and carved byte for byte.
  const transfers = await rows(db, 'SELECT flow_id, sender, recipient, filename, size, bytes_seen, md5, sha256, complete, path, method FROM transfers');
  t.equal(transfers.length, 2 * log.files.length, 'each file on both connections');
  for (const f of log.files) {
    const seen = transfers.filter((x) => x.filename === f.name);
    t.equal(new Set(seen.map((x) => x.flow_id)).size, 2, `${f.name}: on two flows`);
    for (const tr of seen) {
      t.match(tr, { size: f.size, bytes_seen: f.size, md5: f.md5, sha256: f.sha256, complete: true, method: 'ibb' }, f.name);
      t.equal(bare(tr.sender), bare(f.from));
      t.equal(bare(tr.recipient), bare(f.to));
      t.ok(fs.readFileSync(tr.path as string).equals(fs.readFileSync(f.path)), 'the carved file is the file sent');
    }
  }
});
