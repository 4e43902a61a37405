// The IRC analyzer on the real captures of fixtures/pcaps/irc, checked against Zeek's expected event output for the
// same captures (../shared/pcaps/zeek-baselines, scripts.base.protocols.irc.*). The TCP streams are taken out of the
// captures with tshark (one part per packet with payload, in capture order) and fed to the sessions as the dispatcher
// would; asserted are filtered sets and counts, not whole outputs.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fixture, ROOT } from '../helpers/fixtures.js';
import { run } from '../helpers/tools.js';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';
import { irc, ircDcc } from '../../src/decoders/im/irc/index.js';
import { createIrcSession } from '../../src/decoders/im/irc/session.js';
import { recordingContext } from '../helpers/im-session.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';

interface Stream {
  client: string;
  cport: number;
  server: string;
  sport: number;
  parts: [Dir, Uint8Array][];
}

/** Every TCP stream of a capture with its payloads in capture order; the client is the SYN's sender (else the higher port). */
function streams(file: string): Stream[] {
  const out = run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'tcp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack', '-e', 'tcp.payload']);
  const byId = new Map<string, { pkts: { src: string; sport: number; dst: string; dport: number; syn: boolean; payload: Uint8Array }[] }>();
  for (const line of out.split('\n')) {
    if (line.length === 0) continue;
    const [id, s4, s6, sp, d4, d6, dp, syn, ack, hex] = line.split('\t');
    if (id === undefined || id === '') continue;
    const e = byId.get(id) ?? { pkts: [] };
    byId.set(id, e);
    const isSyn = (syn === '1' || syn === 'True') && !(ack === '1' || ack === 'True');
    e.pkts.push({ src: s4 || s6!, sport: Number(sp), dst: d4 || d6!, dport: Number(dp), syn: isSyn, payload: Buffer.from((hex ?? '').replaceAll(':', ''), 'hex') });
  }
  const res: Stream[] = [];
  for (const { pkts } of byId.values()) {
    const first = pkts[0]!;
    const synPkt = pkts.find((p) => p.syn);
    const c = synPkt ?? (first.sport > first.dport ? first : { src: first.dst, sport: first.dport, dst: first.src, dport: first.sport });
    const parts: [Dir, Uint8Array][] = [];
    for (const p of pkts) if (p.payload.length > 0) parts.push([p.src === c.src && p.sport === c.sport ? 0 : 1, p.payload]);
    res.push({ client: c.src, cport: c.sport, server: c.dst, sport: c.dport, parts });
  }
  return res;
}

function analyze(s: Stream, limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ clientIp: s.client, clientPort: s.cport, serverIp: s.server, serverPort: s.sport });
  feed(createIrcSession(ctx, limits), s.parts);
  return rec;
}

// ── Zeek's event output for irc-basic, irc-whitespace, irc-more-commands ──

const ZEEK = path.join(ROOT, '../shared/pcaps/zeek-baselines/scripts.base.protocols.irc.events/output');

/** Zeek prints non-printable bytes as \xNN. */
const unescape = (s: string): string => s.replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

function zeekSection(name: string): string[] {
  const lines = fs.readFileSync(ZEEK, 'utf8').split('\n');
  const out: string[] = [];
  let inside = false;
  for (const l of lines) {
    if (/^-+ .* -+$/.test(l)) {
      inside = l.includes(` ${name} `);
      continue;
    }
    if (inside && l.length > 0) out.push(l);
  }
  return out;
}

interface ZeekFacts {
  /** Nicks the server accepted: nick_message values not answered by invalid_nick. */
  nicks: Set<string>;
  users: Set<string>;
  realNames: Set<string>;
  joins: Set<string>;
  /** " -> target: text" lines (irc_privmsg_message). */
  privmsgs: string[];
  /** notice lines as "source -> target: text". */
  notices: string[];
  quits: Set<string>;
  names: Set<string>;
  parts: Set<string>;
  kicks: Set<string>;
  invites: Set<string>;
}

function zeekFacts(name: string): ZeekFacts {
  const f: ZeekFacts = { nicks: new Set(), users: new Set(), realNames: new Set(), joins: new Set(), privmsgs: [], notices: [], quits: new Set(), names: new Set(), parts: new Set(), kicks: new Set(), invites: new Set() };
  const lines = zeekSection(name);
  lines.forEach((l, i) => {
    let m: RegExpMatchArray | null;
    if ((m = l.match(/^nick_message: \S* (.+)$/))) {
      const next = lines.slice(i + 1).find((x) => x.startsWith('nick_message') || x === 'invalid_nick');
      if (next !== 'invalid_nick') f.nicks.add(m[1]!);
    } else if ((m = l.match(/^user_message: ([^@]*)@\S* \S* (.*)$/))) {
      f.users.add(m[1]!);
      f.realNames.add(m[2]!);
    } else if ((m = l.match(/^join_message: \[nick=[^,]*, channel=([^,]+),/))) f.joins.add(m[1]!);
    else if ((m = l.match(/^notice_message: (.*)$/))) f.notices.push(unescape(m[1]!));
    else if ((m = l.match(/^quit: \S* ?\((.*)\)$/))) f.quits.add(m[1]!);
    else if ((m = l.match(/^names_info: \S+ (\S+): (\S+)$/))) f.names.add(`${m[1]} ${m[2]}`);
    else if ((m = l.match(/^part_message: \S* ?\(:?([^)]+)\)/))) f.parts.add(m[1]!);
    else if ((m = l.match(/^kick_message: \S* ?(\S+) (\S+):/))) f.kicks.add(`${m[1]} ${m[2]}`);
    else if ((m = l.match(/^invite_message: \S* ?(\S+) (\S+)$/))) f.invites.add(`${m[1]} ${m[2]}`);
    else if ((m = l.match(/^ -> (\S+): (.*)$/))) f.privmsgs.push(`${m[1]}: ${m[2]}`);
  });
  return f;
}

function merged(recs: Recorded[]): Recorded {
  const r = recs[0]!;
  for (const x of recs.slice(1)) {
    r.accounts.push(...x.accounts);
    r.messages.push(...x.messages);
    r.events.push(...x.events);
    r.contacts.push(...x.contacts);
    r.anomalies.push(...x.anomalies);
    r.expects.push(...x.expects);
  }
  return r;
}

for (const name of ['irc-basic.pcap', 'irc-whitespace.pcap', 'irc-more-commands.pcap']) {
  t.test(`${name}: the facts Zeek reports`, async (t) => {
    const recs = streams(fixture(`irc/${name}`)).map((s) => analyze(s));
    for (const r of recs) {
      t.equal(r.rejected, null, 'not rejected');
      t.equal(r.confirmed, 1, 'confirmed by both sides');
      t.same(r.anomalies, [], 'no anomaly');
    }
    const r = merged(recs);
    const z = zeekFacts(name);
    t.same(new Set(r.accounts.map((a) => a.account)), z.nicks, 'accounts are the nicks the server accepted');
    t.same(new Set(r.accounts.map((a) => a.login)), z.users, 'login is the USER name');
    if (name !== 'irc-whitespace.pcap') t.same(new Set(r.accounts.map((a) => a.display_name)), z.realNames, 'display name is the real name');
    else t.same(new Set(r.accounts.map((a) => a.display_name)), new Set(['*']), 'real name is the fourth USER parameter (Zeek concatenates the extra words)');
    t.same(new Set(r.events.filter((e) => e.event === 'join').map((e) => e.target)), z.joins, 'joined channels');
    t.same(
      r.messages.filter((m) => m.kind === 'privmsg').map((m) => `${m.recipient}: ${m.body}`),
      z.privmsgs,
      'PRIVMSG targets and texts',
    );
    t.same(
      r.messages.filter((m) => m.kind === 'notice').map((m) => `${m.sender} -> ${m.recipient}: ${m.body}`).sort(),
      [...z.notices].sort(),
      'NOTICE sources, targets and texts',
    );
    t.same(new Set(r.events.filter((e) => e.event === 'quit').map((e) => e.detail)), z.quits, 'quit reasons');
    t.same(new Set(r.contacts.map((c) => `${c.group_name} ${c.contact}`)), z.names, 'NAMES members as contacts');
    t.same(new Set(r.events.filter((e) => e.event === 'part').map((e) => e.target)), z.parts, 'parted channels');
    t.same(new Set(r.events.filter((e) => e.event === 'kick').map((e) => `${e.target} ${e.account}`)), z.kicks, 'kicks');
    t.same(new Set(r.events.filter((e) => e.event === 'invite').map((e) => `${e.detail} ${e.target}`)), z.invites, 'invites');
    const server = name === 'irc-basic.pcap' ? 'leguin.freenode.net' : name === 'irc-whitespace.pcap' ? 'sendak.freenode.net' : 'ircd1.local';
    t.same(new Set(recs.map((x) => x.serverName)), new Set([server]), 'server name');
    t.ok(r.accounts.every((a) => a.server === server), 'accounts carry the server');
  });
}

t.test('irc-more-commands.pcap: PASS is noted, never kept; refused nicks are not accounts', async (t) => {
  const recs = streams(fixture('irc/irc-more-commands.pcap')).map((s) => analyze(s));
  t.equal(recs.length, 2);
  t.same(recs[0]!.accounts.map((a) => [a.account, a.auth]), [['tim', 'password']]);
  t.same(recs[1]!.accounts.map((a) => [a.account, a.auth]), [['tim_', 'password']], 'tim (433) and !!!! (432) refused');
  // The password of this capture is "test"; nothing recorded may hold it as a value of its own (except the channel
  // topic, which that capture also sets to "test").
  const values = JSON.stringify(recs.map((r) => [r.accounts, r.events.filter((e) => e.event !== 'topic'), r.messages, r.anomalies]));
  t.notMatch(values, /"test"/, 'the PASS argument is in no row');
  t.ok(recs[0]!.events.some((e) => e.event === 'oper'), 'RPL_YOUREOPER');
  t.ok(recs[0]!.events.some((e) => e.event === 'topic' && e.target === '#testing'), 'TOPIC');
});

t.test('irc-privmsg.pcap (suricata-verify): a bot session', async (t) => {
  const [s] = streams(fixture('irc/irc-privmsg.pcap'));
  const r = analyze(s!);
  t.equal(r.confirmed, 1);
  t.same(r.accounts.map((a) => [a.account, a.login, a.server, a.auth]), [['damn-0262937047', 'ghmfeirsfnw', 'hunt3d.devilz.net', 'password']]);
  const pass = Buffer.concat(s!.parts.filter(([d]) => d === 0).map(([, b]) => b)).toString('latin1').match(/^PASS (\S+)/m)![1]!;
  t.notOk(JSON.stringify(r).includes(pass), 'the password appears nowhere');
  // Oracle: PRIVMSG and NOTICE lines counted in the raw bytes.
  const lines = s!.parts.map(([, b]) => Buffer.from(b).toString('latin1')).join('').split(/\r?\n/);
  const privmsg = lines.filter((l) => /^(:\S+ )?PRIVMSG /.test(l)).length;
  const notice = lines.filter((l) => /^(:\S+ )?NOTICE /.test(l)).length;
  t.equal(r.messages.filter((m) => m.kind === 'privmsg').length, privmsg, `${privmsg} PRIVMSG`);
  t.equal(r.messages.filter((m) => m.kind === 'notice').length, notice, `${notice} NOTICE`);
  t.ok(r.messages.filter((m) => m.dir === 0).every((m) => m.sender === 'damn-0262937047'), 'the client speaks under its nick');
  t.ok(r.contacts.length > 0 && r.contacts.every((c) => c.account === 'damn-0262937047'), 'NAMES members are the client\'s contacts');
});

t.test('contentline-irc-5k-line: one over-long line is an anomaly, the rest is parsed', async (t) => {
  const s = streams(fixture('irc/contentline_contentline-irc-5k-line.pcap')).find((x) => x.sport === 6667)!;
  const r = analyze(s);
  const clientBytes = s.parts.filter(([d]) => d === 0).reduce((n, [, b]) => n + b.length, 0);
  const longLine = clientBytes - 'USER foo\nNICK foo\nJOIN #WEEEEEE\n'.length;
  t.same(r.anomalies.map((a) => [a.code, a.detail]), [['irc_line_size_exceeded', `client line of ${longLine} bytes exceeds 512 (unterminated)`]]);
  t.equal(r.rejected, null);
  t.same(r.accounts.map((a) => a.account), ['foo'], 'one-sided: the nick asked for is the account');
  t.same(r.events.map((e) => [e.event, e.target]), [['join', '#WEEEEEE']]);
  t.ok(r.anomalies[0]!.detail.includes(String(longLine)) && longLine > 5000);
});

t.test('irc-353.pcap: a NAMES reply without parameters', async (t) => {
  const s = streams(fixture('irc/irc-353.pcap')).find((x) => x.parts.length > 0)!;
  t.equal(irc.probe!(s.parts[0]![1], 0, s.parts[0]![1].length, 0, false), Probe.No, 'a numeric without prefix is not taken as IRC (FTP and SMTP greet with "220 ")');
  const r = analyze(s);
  t.same(r.anomalies.map((a) => a.code), ['irc_names_malformed'], 'as Zeek\'s irc_invalid_names_line');
  t.same(r.contacts, []);
});

t.test('tls_irc-starttls.pcap: STARTTLS then 670, nothing parsed after', async (t) => {
  const [s] = streams(fixture('irc/tls_irc-starttls.pcap'));
  const r = analyze(s!);
  t.equal(r.encrypted, 'starttls');
  t.equal(r.confirmed, 1);
  t.equal(r.rejected, null, 'the TLS records are not judged as IRC');
  t.same(r.anomalies, []);
  t.equal(r.serverName, 'irc.joulunet.org');
});

t.test('irc-dcc-send-malformed-host/port: anomalies as Zeek\'s weirds, nothing expected', async (t) => {
  for (const [file, code] of [
    ['irc-dcc-send-malformed-host.pcap', 'irc_dcc_invalid_host'],
    ['irc-dcc-send-malformed-port.pcap', 'irc_dcc_invalid_port'],
  ] as const) {
    const [s] = streams(fixture(`irc/${file}`));
    const first = s!.parts[0]!;
    t.equal(irc.probe!(first[1], 0, first[1].length, first[0], true), Probe.Yes, `${file}: probe`);
    const r = analyze(s!);
    t.same(r.anomalies.map((a) => a.code), [code], file);
    t.same(r.expects, [], `${file}: no expectation`);
    t.same(r.events.filter((e) => e.event === 'dcc_offer'), [], `${file}: no offer`);
  }
});

t.test('irc-dcc-state-growth.pcapng: pending offers are bounded', async (t) => {
  const [s] = streams(fixture('irc/irc-dcc-state-growth.pcapng'));
  const all = analyze(s!);
  t.equal(all.events.filter((e) => e.event === 'dcc_offer').length, 30, '30 offers');
  t.equal(new Set(all.expects.map((e) => `${e.host}:${e.port}`)).size, 60, 'each at the announced address and at the client\'s (NAT)');
  t.same(all.anomalies, [], 'the default limit (32) holds 30');
  // Zeek's test: a limit of 15 with 10 offers from one address and 20 from another: the second one hits it.
  const low = analyze(s!, { maxDccOffers: 15 });
  t.same(low.anomalies.map((a) => a.code), ['irc_dcc_offers_exceeded'], 'reported once, as Zeek\'s irc_max_dcc_expected_transfers_exceeded');
  const announced = low.expects.filter((e) => e.host !== s!.client).map((e) => `${e.host}:${e.port}`);
  t.equal(low.expects.length, 30, '15 offers expected (twice each)');
  t.same(announced.slice(9, 11), ['192.0.2.30:20009', '192.0.2.31:21000']);
  t.equal(announced[14], '192.0.2.31:21004', 'the 16th offer onwards (second address) is not expected');
  t.same(all.accounts.map((a) => a.account), ['loadbot']);
});

t.test('irc-dcc-first-command.pcap: the offer, then the file over the expected connection', async (t) => {
  const ss = streams(fixture('irc/irc-dcc-first-command.pcap'));
  const ircFlow = ss.find((x) => x.sport === 6667)!;
  const first = ircFlow.parts[0]!;
  t.equal(irc.probe!(first[1], 0, first[1].length, 0, false), Probe.Yes, 'a PRIVMSG as first command is IRC');
  const r = analyze(ircFlow);
  t.equal(r.expects.length, 1);
  const x = r.expects[0]!;
  t.match(x, { transport: 'tcp', host: '10.0.0.1', port: 5555, ttl: 300, analyzer: 'irc-dcc', context: { kind: 'send', filename: 'hello.txt', size: 12, sender: null, recipient: 'bob', offererIp: '10.0.0.1', reverse: false } });
  const dccFlow = ss.find((y) => y.sport === 5555)!;
  t.equal(dccFlow.server, x.host, 'the connection goes to the announced address');
  const { session, rec } = startSession(ircDcc, { clientIp: dccFlow.client, clientPort: dccFlow.cport, serverIp: dccFlow.server, serverPort: dccFlow.sport, expected: x.context });
  feed(session, dccFlow.parts);
  const bytes = Buffer.concat(dccFlow.parts.filter(([d]) => d === 1).map(([, b]) => b));
  t.equal(rec.kind, 'file');
  t.equal(rec.confirmed, 1);
  t.same(rec.transfers.map((tr) => [tr.filename, tr.size, tr.bytes_seen, tr.complete, tr.method, tr.recipient]), [['hello.txt', 12, 12, true, 'dcc', 'bob']]);
  t.equal(rec.transfers[0]!.sha256, createHash('sha256').update(bytes).digest('hex'));
  t.equal(rec.transfers[0]!.md5, createHash('md5').update(bytes).digest('hex'));
});

t.test('HTTP on the IRC port picked up without SYN is not IRC', async (t) => {
  const [s] = streams(fixture('negatives/tcp_http-on-irc-port-missing-syn.pcapng'));
  for (const dir of [0, 1] as const) {
    const data = Buffer.concat(s!.parts.filter(([d]) => d === dir).map(([, b]) => b));
    t.ok(data.length > 0);
    for (const midstream of [false, true]) {
      for (const n of [16, 64, 512, data.length]) {
        t.not(irc.probe!(data, 0, Math.min(n, data.length), dir, midstream), Probe.Yes, `dir ${dir}, midstream ${midstream}, first ${n} bytes`);
      }
    }
  }
});

t.test('every IRC capture with a registration is recognised by the probe in some direction', async (t) => {
  for (const name of ['irc-basic.pcap', 'irc-whitespace.pcap', 'irc-more-commands.pcap', 'irc-privmsg.pcap', 'tls_irc-starttls.pcap', 'irc-dcc-state-growth.pcapng']) {
    for (const s of streams(fixture(`irc/${name}`))) {
      // The dispatcher drops a protocol whose probe says No in either direction: the first packet never may.
      const first = ([0, 1] as const).map((dir) => {
        const p = s.parts.find(([d]) => d === dir)?.[1] ?? new Uint8Array(0);
        return irc.probe!(p, 0, p.length, dir, false);
      });
      t.notOk(first.includes(Probe.No), `${name} ${s.cport}: first packets ${first.join(',')}`);
      const whole = ([0, 1] as const).map((dir) => {
        const data = Buffer.concat(s.parts.filter(([d]) => d === dir).map(([, b]) => b));
        return irc.probe!(data, 0, data.length, dir, false);
      });
      t.ok(whole.includes(Probe.Yes), `${name} ${s.cport}: ${whole.join(',')}`);
    }
  }
});
