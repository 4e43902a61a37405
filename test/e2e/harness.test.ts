// The e2e harness itself: real servers (ngircd, prosody) and real client libraries (irc-framework, @xmpp/client)
// produce a pcap and a log of what the clients did; tshark, independently of imtap, must find in the pcap every
// message, the DCC file's exact bytes and the IBB file's exact bytes the logs describe. What imtap makes of the
// same pcaps is for the e2e tests that build on this harness.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { runIrcScenario, runXmppScenario, IRC_PASSWORD } from './lib/run.js';
import { XMPP_TEXTS } from './lib/xmpp-scenario.js';
import { directions, tcpConversations, tcpDirections, tsharkCount, tsharkValues } from './lib/oracle.js';

// tcpdump on lo needs root (CI and the project's machines run as root; see test/e2e/README.md).
// The harness captures with tcpdump on lo, which needs root (CI runs as root): a clear failure rather than a skip.
if (process.getuid?.() !== 0) t.fail('the end-to-end tests need root (tcpdump on the loopback interface)');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-e2e-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const nonAscii = /[^\x00-\x7f]/;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** No process started by a run may outlive it: none has the run dir in its command line. */
function survivors(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes('ps -eo'));
}

t.test('IRC: ngircd + irc-framework clients, captured; tshark sees every message and the DCC file', async (t) => {
  const dir = path.join(tmp, 'irc');
  const r = await runIrcScenario(dir);
  t.comment(`IRC run: ${r.ms.total} ms (scenario ${r.ms.scenario} ms), ${r.capture.captured} packets`);
  t.ok(r.ms.total < 60_000, 'the run takes under a minute');
  t.same(survivors(dir), [], 'no server, client or tcpdump process left');
  t.ok(fs.statSync(r.pcap).size > 24, 'pcap written');
  t.equal(r.capture.droppedByKernel, 0, 'tcpdump dropped nothing');
  const [ircPort, dccPort] = r.ports as [number, number];
  const log = r.log;

  // The log holds what the scenario was meant to do.
  t.equal(log.accounts.filter((a) => a.registered).length, 3, 'three registered clients');
  t.same(
    log.accounts.map((a) => [a.nick, a.usedPass, a.registered]),
    [['mallory', false, false], ['alice', true, true], ['bob', true, true], ['carol', true, true]],
    'accounts: one turned away without PASS, three with PASS',
  );
  t.ok(log.accounts.every((a) => a.realname.length > 0 && a.clientPort > 0), 'real names and client ports');
  t.ok(log.accounts.some((a) => nonAscii.test(a.realname)), 'a non-ASCII real name');
  t.same(new Set(log.messages.map((m) => m.kind)), new Set(['privmsg', 'notice', 'action']), 'privmsg, notice and action');
  t.ok(log.messages.some((m) => m.to.startsWith('#')) && log.messages.some((m) => !m.to.startsWith('#')), 'channel and private messages');
  t.ok(log.messages.every((m) => nonAscii.test(m.text)), 'non-ASCII text in every message');
  t.ok(log.messages.every((m) => m.receivedBy.length > 0), 'every message confirmed by a recipient');
  t.same(log.nickChanges.map((n) => [n.from, n.to]), [['carol', 'carol_away']], 'the nick change');
  t.same(log.channels.map((c) => `${c.action} ${c.nick}`), ['join alice', 'join bob', 'join carol', 'part bob'], 'joins and the part');
  t.same(log.quits.map((q) => q.nick), ['carol_away', 'alice', 'bob'], 'quits');
  t.equal(log.dcc.length, 1, 'one DCC file');
  const dcc = log.dcc[0]!;
  t.equal(dcc.bytes, dcc.size, 'the DCC receiver got every byte');
  t.equal(sha256(fs.readFileSync(dcc.path)), dcc.sha256, 'the file on disk is the one logged');

  // tshark's IRC dissector: client requests by command.
  const commands = tsharkValues(r.pcap, { port: ircPort, proto: 'irc' }, 'irc.request', 'irc.request.command');
  const count = (c: string) => commands.filter((x) => x === c).length;
  t.ok(count('PRIVMSG') >= log.messages.filter((m) => m.kind !== 'notice').length + log.dcc.length, `tshark: ${count('PRIVMSG')} PRIVMSG requests`);
  t.ok(count('NOTICE') >= log.messages.filter((m) => m.kind === 'notice').length, `tshark: ${count('NOTICE')} NOTICE requests`);
  t.equal(count('PASS'), 3, 'tshark: three PASS requests');
  t.equal(count('QUIT'), 3, 'tshark: three QUIT requests');
  t.ok(tsharkCount(r.pcap, { port: ircPort, proto: 'irc' }, 'irc.response') > 0, 'tshark: server responses');

  // The exact lines, decoded from tshark's TCP payloads as UTF-8: each message leaves its sender as sent and
  // reaches each recipient with the sender's prefix.
  const all = tcpDirections(r.pcap);
  const toServer = directions(all, ircPort, 'to').flatMap((d) => d.bytes.toString('utf8').split('\r\n'));
  const fromServer = directions(all, ircPort, 'from').flatMap((d) => d.bytes.toString('utf8').split('\r\n'));
  for (const m of log.messages) {
    const cmd = m.kind === 'notice' ? 'NOTICE' : 'PRIVMSG';
    const text = m.kind === 'action' ? `\x01ACTION ${m.text}\x01` : m.text;
    t.ok(toServer.includes(`${cmd} ${m.to} :${text}`), `sent on the wire: ${m.from} ${m.kind} ${m.to}`);
    const delivered = fromServer.filter((l) => l.startsWith(`:${m.from}!`) && l.endsWith(` ${cmd} ${m.to} :${text}`)).length;
    t.equal(delivered, m.receivedBy.length, `delivered on the wire to ${m.receivedBy.join(', ')}`);
  }
  t.ok(toServer.includes(`PASS ${IRC_PASSWORD}`), 'PASS on the wire');
  t.ok(toServer.includes('USER alice 0 * :Alice Ärger'), 'USER with the UTF-8 real name on the wire');
  t.ok(toServer.includes(`PRIVMSG bob :\x01${dcc.ctcp}\x01`), 'the CTCP DCC SEND offer on the wire');

  // The DCC connection: exactly one TCP conversation on the announced port; the sender→receiver direction
  // carries exactly the file; the other only 4-byte acks.
  const convs = tcpConversations(r.pcap).filter((c) => c.a.endsWith(`:${dccPort}`) || c.b.endsWith(`:${dccPort}`));
  t.equal(convs.length, 1, 'tshark: one TCP conversation on the DCC port');
  const data = directions(all, dccPort, 'from');
  const acks = directions(all, dccPort, 'to');
  t.equal(data.length, 1, 'one DCC data direction');
  t.equal(data[0]?.bytes.length, dcc.size, 'the DCC stream carries exactly the file size');
  t.equal(sha256(data[0]?.bytes ?? Buffer.alloc(0)), dcc.sha256, 'the DCC stream is the file, byte for byte');
  t.equal(acks[0]?.bytes.length, 4 * dcc.acks, 'the receiver sent 4-byte acks');
  t.equal(acks[0]?.bytes.readUInt32BE((acks[0]?.bytes.length ?? 4) - 4), dcc.size, 'the last ack is the file size');
});

t.test('XMPP: prosody + @xmpp/client clients, captured; tshark sees every stanza and the IBB file', async (t) => {
  const dir = path.join(tmp, 'xmpp');
  const r = await runXmppScenario(dir);
  t.comment(`XMPP run: ${r.ms.total} ms (scenario ${r.ms.scenario} ms), ${r.capture.captured} packets`);
  t.ok(r.ms.total < 60_000, 'the run takes under a minute');
  t.same(survivors(dir), [], 'no server, client or tcpdump process left');
  t.ok(fs.statSync(r.pcap).size > 24, 'pcap written');
  t.equal(r.capture.droppedByKernel, 0, 'tcpdump dropped nothing');
  const [port] = r.ports as [number];
  const log = r.log;

  t.equal(log.accounts.length, 3, 'three accounts');
  t.ok(log.accounts.every((a) => a.fullJid.startsWith(`${a.bareJid}/`) && a.mechanism === 'PLAIN' && a.clientPort > 0), 'full JIDs, SASL PLAIN');
  t.same(new Set(log.messages.map((m) => m.type)), new Set(['chat', 'groupchat', 'headline', 'normal']), 'every message type');
  t.ok(log.messages.filter((m) => m.body !== undefined).every((m) => nonAscii.test(m.body ?? '')), 'non-ASCII bodies');
  t.ok(log.messages.some((m) => m.type === 'groupchat' && m.subject !== undefined && m.body === undefined), 'a room subject change');
  t.ok(log.messages.every((m) => m.receivedBy.length > 0), 'every message confirmed by its recipients');
  t.equal(log.roster.length, 4, 'four roster items (alice: bob, carol; bob: alice; carol: alice)');
  t.ok(log.roster.every((i) => i.subscription === 'both' && i.groups.length === 1), 'mutual subscriptions, one group');
  t.same(log.muc.map((m) => `${m.action} ${m.nick}`), ['join Alice', 'join Bob', 'join Carol', 'leave Carol'], 'MUC joins and leave');
  t.equal(log.files.length, 1, 'one file');
  const file = log.files[0]!;
  t.equal(file.chunks, Math.ceil(file.size / file.blockSize), 'IBB chunk count');
  t.equal(sha256(fs.readFileSync(file.path)), file.sha256, 'the file on disk is the one logged');

  // tshark's XMPP dissector: message stanzas in both directions (each sent once, delivered once per recipient).
  const xmpp = { port, proto: 'xmpp' };
  const expected = log.messages.reduce((n, m) => n + 1 + m.receivedBy.length, 0);
  const stanzas = tsharkValues(r.pcap, xmpp, 'xmpp.message', 'tcp.srcport').length;
  t.ok(stanzas >= log.messages.length, `tshark: ${stanzas} frames with message stanzas (${expected} stanzas sent and delivered)`);
  t.ok(tsharkCount(r.pcap, xmpp, 'xmpp.iq') >= file.chunks + 2, 'tshark: the IBB iqs');
  t.ok(tsharkCount(r.pcap, xmpp, 'xmpp.presence') > 0, 'tshark: presences');

  // The exact stanzas in the reassembled client→server and server→client streams.
  const all = tcpDirections(r.pcap);
  const up = new Map(directions(all, port, 'to').map((d) => [d.srcPort, d.bytes.toString('utf8')]));
  const down = new Map(directions(all, port, 'from').map((d) => [d.dstPort, d.bytes.toString('utf8')]));
  const portOf = (jid: string) => log.accounts.find((a) => a.fullJid === jid)?.clientPort ?? -1;
  for (const m of log.messages) {
    const sent = up.get(portOf(m.from)) ?? '';
    t.ok(sent.includes(`id="${m.id}"`) && sent.includes(m.body ?? m.subject ?? ''), `sent on the wire: ${m.type} ${m.id}`);
    for (const rcpt of m.receivedBy) {
      const got = down.get(portOf(rcpt)) ?? '';
      const from = `from='${m.receivedFrom}'`;
      const text = m.body ?? `<subject>${m.subject}</subject>`;
      t.ok(got.includes(from) && got.includes(text), `delivered on the wire: ${m.type} ${m.id} to ${rcpt}`);
    }
  }
  for (const a of log.accounts) {
    const plain = Buffer.from(`\0${a.username}\0${a.password}`).toString('base64');
    t.ok(up.get(a.clientPort)?.includes(`mechanism="PLAIN">${plain}</auth>`), `SASL PLAIN of ${a.username} on the wire`);
  }
  t.ok([...up.values()].some((s) => s.includes(XMPP_TEXTS.status)), 'presence status on the wire');

  // IBB: the sender's data iqs, decoded in order, are the file.
  const sender = up.get(portOf(file.from)) ?? '';
  const chunks = [...sender.matchAll(/<data xmlns="http:\/\/jabber\.org\/protocol\/ibb" seq="(\d+)" sid="([^"]+)">([^<]*)<\/data>/g)].filter((m) => m[2] === file.sid);
  t.equal(chunks.length, file.chunks, 'every IBB data chunk on the wire');
  t.same(chunks.map((m) => Number(m[1])), chunks.map((_, i) => i % 65536), 'IBB seq numbers in order');
  const bytes = Buffer.concat(chunks.map((m) => Buffer.from(m[3] ?? '', 'base64')));
  t.equal(bytes.length, file.size, 'IBB payload is the file size');
  t.equal(sha256(bytes), file.sha256, 'IBB payload is the file, byte for byte');
  t.ok(sender.includes(`name="${file.name}" size="${file.size}" hash="${file.md5}"`), 'the SI file offer on the wire');
});

t.test('a step that fails (server frozen mid-run) rejects the run and leaves no process behind', async (t) => {
  const dir = path.join(tmp, 'irc-frozen');
  fs.mkdirSync(dir);
  // Freeze ngircd (SIGSTOP) as soon as it runs: the first client's registration then times out.
  let frozen = '';
  const watcher = setInterval(() => {
    const line = survivors(dir).find((l) => l.includes('ngircd'));
    if (!line || frozen) return;
    frozen = line.trim();
    process.kill(Number(frozen.split(/\s+/)[0]), 'SIGSTOP');
  }, 20);
  const t0 = Date.now();
  try {
    await t.rejects(runIrcScenario(dir, { stepTimeoutMs: 1500 }), /no (ERROR|registration)|not listening/, 'the run fails with the step that timed out');
  } finally {
    clearInterval(watcher);
  }
  t.ok(frozen, 'ngircd was frozen');
  t.ok(Date.now() - t0 < 20_000, `torn down in ${Date.now() - t0} ms`);
  t.same(survivors(dir), [], 'no server, client or tcpdump process left');
});
