/**
 * `imtap live` end to end against real servers (issue 9): ngircd and prosody on loopback, `imtap live --interface lo`
 * (the built bin, through tcpdump) capturing their ports, and real clients (irc-framework, @xmpp/client; the e2e
 * harness's scenarios in test/e2e/lib) logging in and chatting with non-ASCII text in private and in a channel/MUC
 * room. A query from a second process must succeed while `live` runs; SIGTERM must end it with exit 0 and a
 * `complete` capture. The database is then compared with the clients' own logs: every account, and every message
 * sent and delivered (sender, recipient, kind, text). imtap never sees the logs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { ROOT } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/temp.js';
import { findCommand, freePorts, startProcess, type Managed } from '../e2e/lib/proc.js';
import { startIrcServer, type IrcServer } from '../e2e/lib/irc-server.js';
import { startXmppServer, type XmppServer } from '../e2e/lib/xmpp-server.js';
import { runIrcClients } from '../e2e/lib/irc-scenario.js';
import { runXmppClients, XMPP_USERS } from '../e2e/lib/xmpp-scenario.js';
import { IRC_PASSWORD } from '../e2e/lib/run.js';

const bin = path.join(ROOT, 'dist/bin/imtap.js');

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (tcpdump on lo, the servers drop privileges)';
  for (const c of ['tcpdump', 'ngircd', 'prosody', 'prosodyctl']) {
    try {
      findCommand(c);
    } catch {
      return `needs ${c}`;
    }
  }
  if (!fs.existsSync(bin)) return `needs the build (${bin}): npx tsc -p tsconfig.build.json`;
  return null;
}

type Row = Record<string, unknown>;

/** `imtap query` in its own process, as a cron job would run it. */
const q = (db: string, sql: string): Row[] => {
  const r = spawnSync(process.execPath, [bin, 'query', '--db', db, '--format', 'json', sql], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`imtap query failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Row[];
};

/** Multiset comparison as sorted JSON lines. */
const bag = (items: unknown[]) => items.map((x) => JSON.stringify(x)).sort();
const bare = (jid: unknown) => (typeof jid === 'string' ? jid.split('/')[0]! : jid);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const why = unavailable();
if (why !== null) {
  // A clear failure, not a skip: CI runs as root with the servers and tcpdump installed.
  t.fail(`cannot run the live end-to-end test: ${why}`);
} else {
  t.test('imtap live on lo while real IRC and XMPP clients chat = the clients’ logs', async (t) => {
    const t0 = Date.now();
    const dir = tempDir('live-e2e');
    const db = path.join(dir, 'live.duckdb');
    const [ircPort, dccPort, xmppPort] = (await freePorts(3)) as [number, number, number];

    // Servers first: their start-up probes (waitForPort) happen before the capture and are not part of it.
    const irc: IrcServer = await startIrcServer(dir, { port: ircPort, password: IRC_PASSWORD });
    t.teardown(() => irc.stop());
    const xmpp: XmppServer = await startXmppServer(dir, { port: xmppPort, users: XMPP_USERS });
    t.teardown(() => xmpp.stop());

    const bpf = `tcp port ${ircPort} or tcp port ${dccPort} or tcp port ${xmppPort}`;
    const live: Managed = startProcess(process.execPath, [bin, 'live', '--interface', 'lo', '--bpf', bpf, '--db', db, '--flush-every', '1s']);
    t.teardown(async () => {
      if (!live.hasExited()) await live.stop('SIGKILL');
    });
    for (const until = Date.now() + 20_000; !/capturing on lo/.test(live.output()); await sleep(20)) {
      if (live.hasExited()) throw new Error(`imtap live exited (${await live.exited}) before capturing:\n${live.output()}`);
      if (Date.now() > until) throw new Error(`imtap live did not say "capturing on lo" in 20 s:\n${live.output()}`);
    }
    // No pause here on purpose: "capturing on" comes after tcpdump's "listening on" (the socket is bound, and
    // --immediate-mode delivers at once), so the clients' first SYN must already be captured.

    // IRC: three members with PASS, one client turned away, channel and private PRIVMSG/NOTICE/ACTION, a nick
    // change, a small DCC SEND, PART, QUITs. The files (here and XMPP's) stay small: `live` runs tcpdump with its
    // default 2 MiB kernel buffer, which lost 4-18 packets here in a 128 KiB DCC or a 32 KiB in-band transfer on
    // this busy 2-core machine (the e2e harness's own tcpdump uses -B 65536 for that reason).
    const ircLog = await runIrcClients({ host: '127.0.0.1', port: ircPort, dccPort, dir, password: IRC_PASSWORD, dccSize: 16 * 1024 });

    // A reader from a second process while live runs: it must succeed, and the IRC messages are flushed already
    // (messages are written at the next flush, not when their flow ends).
    let during: Row[] = [];
    for (const until = Date.now() + 10_000; ; await sleep(250)) {
      during = fs.existsSync(db) ? q(db, "SELECT (SELECT count(*) FROM messages WHERE direction = 'c2s' AND app = 'irc') AS n, (SELECT status FROM captures) AS status") : [];
      if (Number(during[0]?.n ?? 0) >= ircLog.messages.length || Date.now() > until) break;
    }
    t.equal(Number(during[0]?.n), ircLog.messages.length, 'a query during the capture sees the IRC messages sent');
    t.equal(during[0]?.status, 'partial', 'the capture is partial while running');

    const xmppLog = await runXmppClients({ host: '127.0.0.1', port: xmppPort, domain: xmpp.domain, mucDomain: xmpp.mucDomain, dir, fileSize: 4 * 1024 });
    fs.writeFileSync(path.join(dir, 'irc-log.json'), JSON.stringify(ircLog, null, 2));
    fs.writeFileSync(path.join(dir, 'xmpp-log.json'), JSON.stringify(xmppLog, null, 2));
    // The last FIN/ACKs leave a moment after the clients' close events.
    await sleep(300);

    // SIGTERM to imtap alone (not its process group): it stops tcpdump itself, reads the rest, flushes, exits 0.
    live.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([live.exited, new Promise((r) => (timer = setTimeout(() => r('no exit within 30 s'), 30_000)))]);
    clearTimeout(timer);
    if (code === 0) t.pass('SIGTERM: exit 0');
    else t.fail(`SIGTERM: exit ${code}, not 0:\n${live.output()}`);

    const cap = q(db, 'SELECT path, status, error, packets FROM captures');
    t.equal(cap.length, 1, 'one capture row');
    t.match(cap[0], { path: 'live:lo', status: 'complete', error: null }, 'the capture row is complete');
    const stats = q(db, 'SELECT count(*) AS n, max(dropped_kernel) AS d, max(received) AS r FROM capture_stats')[0]!;
    t.ok(Number(stats.n) >= 2, `a capture_stats row per flush (${stats.n})`);
    // tcpdump's "dropped by kernel" is not asserted: `live` runs tcpdump with its default 2 MiB buffer, and on this
    // shared 2-core machine it reported 0-30 drops between runs of this same scenario, even with no flow missing a
    // payload byte (pure ACKs, which leave no gap). What must hold is below: no payload lost, every message there.
    t.comment(`tcpdump: ${stats.r} received by filter, ${stats.d} dropped by kernel`);
    // Every packet captured is in a flow (the filter keeps only the three ports' TCP), and no flow has a gap.
    const flowSum = q(db, 'SELECT sum(packets_c2s + packets_s2c) AS p, sum(gaps) AS g FROM flows')[0]!;
    t.equal(Number(flowSum.p), Number(cap[0]!.packets), 'every captured packet is in a flow');
    if (Number(flowSum.g) === 0) t.pass('no flow has a gap');
    else t.fail(`flows with gaps: ${JSON.stringify(q(db, 'SELECT protocol, gaps, packets_c2s, packets_s2c FROM flows WHERE gaps > 0'))}`);
    const flows = q(db, 'SELECT DISTINCT protocol, server_port FROM flows ORDER BY ALL');
    t.same(
      flows.map((f) => [f.protocol, f.server_port]).sort(),
      [['irc', ircPort], ['irc-dcc', dccPort], ['xmpp', xmppPort]].sort(),
      'every flow recognised, on its server port',
    );

    t.test('IRC', async (t) => {
      const registered = ircLog.accounts.filter((a) => a.registered);
      t.ok(registered.length === 3 && ircLog.accounts.some((a) => !a.registered), 'the scenario had three members and a refused client');
      const nicks = new Set([...registered.map((a) => a.nick), ...ircLog.nickChanges.map((c) => c.to)]);
      const accounts = q(db, "SELECT account, login, display_name, auth, client_ip FROM accounts WHERE app = 'irc' AND side = 'client'");
      t.same([...new Set(accounts.map((a) => a.account))].sort(), [...nicks].sort(), 'the nicks (registered and changed to)');
      for (const a of registered) {
        t.match(accounts.find((r) => r.account === a.nick), { login: a.user, display_name: a.realname, auth: 'password', client_ip: '127.0.0.1' }, a.nick);
      }
      const msgs = q(db, "SELECT sender, recipient, kind, body, direction FROM messages WHERE app = 'irc'").filter((m) => nicks.has(m.sender as string));
      t.ok(ircLog.messages.length >= 7, `${ircLog.messages.length} messages logged`);
      t.same(
        bag(msgs.filter((m) => m.direction === 'c2s').map((m) => [m.sender, m.recipient, m.kind, m.body])),
        bag(ircLog.messages.map((m) => [m.from, m.to, m.kind, m.text])),
        'every message as sent: sender, recipient, kind, text',
      );
      t.same(
        bag(msgs.filter((m) => m.direction === 's2c').map((m) => [m.sender, m.recipient, m.kind, m.body])),
        bag(ircLog.messages.flatMap((m) => m.receivedBy.map(() => [m.from, m.to, m.kind, m.text]))),
        'every message as delivered to each recipient',
      );
      t.ok(ircLog.messages.some((m) => /[^\x00-\x7f]/.test(m.text)), 'non-ASCII text was part of it');
      t.ok(ircLog.messages.some((m) => m.to.startsWith('#')) && ircLog.messages.some((m) => !m.to.startsWith('#')), 'channel and private messages');
      const tr = q(db, "SELECT sender, recipient, filename, size, bytes_seen, sha256, complete FROM transfers WHERE method = 'dcc'");
      t.same(
        tr.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.sha256, x.complete]),
        ircLog.dcc.map((f) => [f.from, f.to, f.name, f.size, f.size, f.sha256, true]),
        'the DCC file, whole',
      );
    });

    t.test('XMPP', async (t) => {
      const accounts = q(db, "SELECT account, auth, client_ip FROM accounts WHERE app = 'xmpp' AND side = 'client'");
      t.same([...new Set(accounts.map((a) => a.account))].sort(), xmppLog.accounts.map((a) => a.bareJid).sort(), 'the bare JIDs');
      for (const a of xmppLog.accounts) t.match(accounts.find((r) => r.account === a.bareJid), { auth: 'sasl_plain', client_ip: '127.0.0.1' }, a.bareJid);
      const msgs = q(db, "SELECT sender, recipient, kind, body, direction FROM messages WHERE app = 'xmpp' AND body IS NOT NULL");
      const withBody = xmppLog.messages.filter((m) => m.body !== undefined);
      t.ok(withBody.length >= 5, `${withBody.length} messages with a body logged`);
      t.same(
        bag(msgs.filter((m) => m.direction === 'c2s').map((m) => [bare(m.sender), bare(m.recipient), m.kind, m.body])),
        bag(withBody.map((m) => [bare(m.from), bare(m.to), m.type, m.body])),
        'every message as sent: sender, recipient, kind, text',
      );
      t.same(
        bag(msgs.filter((m) => m.direction === 's2c').map((m) => [bare(m.recipient), m.kind, m.body])),
        bag(withBody.flatMap((m) => m.receivedBy.map((r) => [bare(r), m.type, m.body]))),
        'every message as delivered to each recipient',
      );
      t.ok(withBody.some((m) => /[^\x00-\x7f]/.test(m.body!)), 'non-ASCII text was part of it');
      t.ok(withBody.some((m) => m.type === 'groupchat') && withBody.some((m) => m.type === 'chat'), 'MUC and private messages');
    });

    t.ok(Date.now() - t0 < 60_000, `the whole run took ${Date.now() - t0} ms (< 60 s)`);
  });
}
