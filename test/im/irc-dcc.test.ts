// DCC: offers in CTCP (parsing, addresses, quoted names, passive/reverse, malformed ones, the bound on pending offers)
// and the DCC connections themselves (SEND carved and hashed, with acknowledgements, gaps, excess; CHAT lines).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { irc, ircDcc, type DccContext } from '../../src/decoders/im/irc/index.js';
import { dccHost, parseDccOffer } from '../../src/decoders/im/irc/dcc-offer.js';
import { createIrcSession } from '../../src/decoders/im/irc/session.js';
import { feed, recordingContext, startSession, type Recorded } from '../helpers/im-session.js';
import type { Dir } from '../../src/decoders/im/types.js';

const CLIENT = '192.0.2.1';
const SERVER = '198.51.100.1';

function ircRun(conv: [Dir, string][], limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ clientIp: CLIENT, serverIp: SERVER });
  feed(createIrcSession(ctx, limits), conv);
  return rec;
}

const LOGIN: [Dir, string][] = [
  [0, 'NICK alice\r\nUSER alice 0 * :Alice\r\n'],
  [1, ':irc.example.net 001 alice :Welcome\r\n'],
];

t.test('DCC addresses', async (t) => {
  t.equal(dccHost('167772161'), '10.0.0.1');
  t.equal(dccHost('3232235876'), '192.168.1.100');
  t.equal(dccHost('4294967295'), '255.255.255.255');
  t.equal(dccHost('4294967296'), null, 'over 32 bits');
  t.equal(dccHost('0'), '0.0.0.0');
  t.equal(dccHost('10.1.2.3'), '10.1.2.3', 'dotted, as some clients send');
  t.equal(dccHost('2001:DB8:0:0:0:0:0:1'), '2001:db8::1', 'RFC 5952');
  t.equal(dccHost('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'the first of equal zero runs');
  t.equal(dccHost('fe80::1:0:0:0:2'), 'fe80:0:0:1::2', 'the longest zero run');
  t.equal(dccHost('::ffff:192.0.2.7'), '192.0.2.7', 'IPv4-mapped is IPv4 on the wire');
  t.equal(dccHost('\u0001\u0002\u0003\u0004\u0005'), null);
  t.equal(dccHost('abc'), null);
});

t.test('DCC offers parsed', async (t) => {
  t.match(parseDccOffer('SEND hello.txt 167772161 5555 12'), { ok: true, offer: { type: 'SEND', argument: 'hello.txt', host: '10.0.0.1', port: 5555, size: 12, token: null, turbo: false } });
  t.match(parseDccOffer('SEND "my holiday photo.jpg" 3232235876 5000 1024'), { ok: true, offer: { argument: 'my holiday photo.jpg', host: '192.168.1.100', port: 5000, size: 1024 } });
  t.match(parseDccOffer('SEND my holiday photo.jpg 3232235876 5000 1024'), { ok: true, offer: { argument: 'my holiday photo.jpg', port: 5000, size: 1024 } }, 'unquoted with spaces, size present');
  t.match(parseDccOffer('SEND noSize 3232235876 5000'), { ok: true, offer: { size: null } });
  t.match(parseDccOffer('SEND f 3232235876 5000 10 T'), { ok: true, offer: { turbo: true, token: null } });
  t.match(parseDccOffer('SEND f 2001:db8::5 5000 10'), { ok: true, offer: { host: '2001:db8::5' } });
  t.match(parseDccOffer('SEND f 3232235876 0 10 77'), { ok: true, offer: { port: 0, token: '77' } }, 'passive');
  t.match(parseDccOffer('CHAT chat 3232235876 6000'), { ok: true, offer: { type: 'CHAT', argument: 'chat', port: 6000, size: null } });
  t.match(parseDccOffer('chat chat 3232235876 0 5'), { ok: true, offer: { type: 'CHAT', port: 0, token: '5' } });
});

t.test('DCC offers malformed', async (t) => {
  const cases: [string, string, string][] = [
    ['SEND file.txt \u0001\u0002\u0003\u0004\u0005 5000 1024', 'irc_dcc_invalid_host', 'is not a 32-bit decimal'],
    ['SEND file.txt 3232235876 abc 1024', 'irc_dcc_invalid_port', '"abc" is not a number from 0 to 65535'],
    ['SEND file.txt 3232235876 70000 1024', 'irc_dcc_invalid_port', '70000'],
    ['SEND file.txt 0 5000 1024', 'irc_dcc_invalid_host', '"0"'],
    ['SEND file.txt 99999999999 5000 1024', 'irc_dcc_invalid_host', '99999999999'],
    ['SEND file.txt 3232235876', 'irc_dcc_malformed', 'with 1 fields after the file name, expected 2 to 4'],
    ['SEND "unterminated 3232235876 5000 1', 'irc_dcc_malformed', 'closing quote'],
    ['SEND file.txt 3232235876 5000 big', 'irc_dcc_malformed', 'size "big" is not a number'],
    ['CHAT chat 3232235876 5000 1 2', 'irc_dcc_malformed', 'with 4 fields after the protocol, expected 2 to 3'],
    ['SEND', 'irc_dcc_malformed', 'has no arguments'],
  ];
  for (const [args, code, detail] of cases) {
    const p = parseDccOffer(args);
    t.equal(p.ok, false, JSON.stringify(args));
    if (!p.ok) {
      t.equal(p.code, code, JSON.stringify(args));
      t.ok(p.detail.includes(detail), `${p.detail} names ${detail}`);
    }
  }
});

t.test('offers on the IRC flow: events and expectations', async (t) => {
  const r = ircRun([
    ...LOGIN,
    [0, 'PRIVMSG bob :\u0001DCC SEND "two words.txt" 3221225985 5001 300\u0001\r\n'], // 192.0.2.1 = the client
    [1, ':bob!b@h PRIVMSG alice :\u0001DCC SEND pic.png 3325256714 6001 4096\u0001\r\n'], // 198.51.100.10
    [1, ':carol!c@h PRIVMSG alice :\u0001DCC CHAT chat 2001:db8::7 7001\u0001\r\n'],
    [0, 'PRIVMSG bob :\u0001DCC SSEND secure.bin 3221225985 5002 9\u0001\r\n'],
    [1, ':bob!b@h PRIVMSG alice :\u0001DCC RESUME pic.png 6001 100\u0001\r\n'],
  ]);
  t.same(r.anomalies, []);
  t.same(
    r.events.filter((e) => e.event === 'dcc_offer').map((e) => [e.account, e.target, e.detail]),
    [
      ['alice', 'bob', 'SEND "two words.txt" (300 bytes) 192.0.2.1:5001'],
      ['bob', 'alice', 'SEND "pic.png" (4096 bytes) 198.51.100.10:6001'],
      ['carol', 'alice', 'CHAT [2001:db8::7]:7001'],
      ['alice', 'bob', 'SSEND "secure.bin" (9 bytes) 192.0.2.1:5002'],
    ],
  );
  t.ok(r.events.some((e) => e.event === 'ctcp' && e.detail === 'DCC RESUME pic.png 6001 100'), 'other DCC commands are CTCP events');
  t.same(
    r.expects.map((x) => [x.host, x.port, x.ttl, x.analyzer, x.context]),
    [
      ['192.0.2.1', 5001, 300, 'irc-dcc', { kind: 'send', filename: 'two words.txt', size: 300, sender: 'alice', recipient: 'bob', offererIp: '192.0.2.1', reverse: false }],
      ['198.51.100.10', 6001, 300, 'irc-dcc', { kind: 'send', filename: 'pic.png', size: 4096, sender: 'bob', recipient: 'alice', offererIp: '198.51.100.10', reverse: false }],
      ['2001:db8::7', 7001, 300, 'irc-dcc', { kind: 'chat', filename: null, size: null, sender: 'carol', recipient: 'alice', offererIp: '2001:db8::7', reverse: false }],
    ],
    'SSEND (TLS inside) is not expected',
  );
  t.same(r.messages, [], 'offers are not messages');
});

t.test('an offer from behind NAT is also expected at the client\'s own address', async (t) => {
  const r = ircRun([...LOGIN, [0, 'PRIVMSG bob :\u0001DCC SEND a.bin 3405803786 5001 1\u0001\r\n']]); // 203.0.113.10
  t.same(r.expects.map((x) => `${x.host}:${x.port}`), ['203.0.113.10:5001', `${CLIENT}:5001`]);
});

t.test('passive (reverse) DCC: the answer with a port is expected, with the roles of the first offer', async (t) => {
  const r = ircRun([
    ...LOGIN,
    [0, 'PRIVMSG bob :\u0001DCC SEND big.iso 3221225985 0 5000 42\u0001\r\n'],
    [1, ':bob!b@h PRIVMSG alice :\u0001DCC SEND big.iso 3325256714 7777 5000 42\u0001\r\n'],
    [1, ':dan!d@h PRIVMSG alice :\u0001DCC SEND other.iso 3325256715 7778 10 9\u0001\r\n'],
  ]);
  t.same(r.anomalies, []);
  t.same(r.events.filter((e) => e.event === 'dcc_offer').map((e) => e.detail), ['SEND "big.iso" (5000 bytes) passive, token 42', 'SEND "big.iso" (5000 bytes) 198.51.100.10:7777, answer to token 42', 'SEND "other.iso" (10 bytes) 198.51.100.11:7778, answer to token 9']);
  t.same(
    r.expects.map((x) => x.context),
    [
      { kind: 'send', filename: 'big.iso', size: 5000, sender: 'alice', recipient: 'bob', offererIp: '198.51.100.10', reverse: true },
      { kind: 'send', filename: 'other.iso', size: 10, sender: 'alice', recipient: 'dan', offererIp: '198.51.100.11', reverse: true },
    ],
    'an answer whose offer was not seen: the addressee of the answer is the sender',
  );
});

t.test('DCC offers without the CTCP wrapping (as Zeek accepts them) and malformed ones on the flow', async (t) => {
  const r = ircRun([
    ...LOGIN,
    [0, 'PRIVMSG bob :DCC SEND plain.txt 3221225985 5003 5\r\n'],
    [0, 'PRIVMSG bob :\u0001DCC SEND bad.txt 3221225985 99999 5\u0001\r\n'],
    [0, 'PRIVMSG bob :\u0001DCC SEND bad.txt notanip 5004 5\u0001\r\n'],
  ]);
  t.same(r.expects.map((x) => x.port), [5003]);
  t.same(r.anomalies.map((a) => a.code), ['irc_dcc_invalid_port', 'irc_dcc_invalid_host']);
});

t.test('pending offers are bounded, and free again when they expire', async (t) => {
  const offers = (n: number, from: number): [Dir, string][] => Array.from({ length: n }, (_, i) => [0, `PRIVMSG bob :\u0001DCC SEND f${from + i} 3221225985 ${10000 + from + i} 1\u0001\r\n`] as [Dir, string]);
  // feed() gives each part the next second; a TTL of 5 s lets the first offers expire.
  const r = ircRun([...LOGIN, ...offers(6, 0)], { maxDccOffers: 4, dccTtlSeconds: 100 });
  t.equal(r.expects.length, 4);
  t.same(r.anomalies.map((a) => [a.code, a.detail]), [['irc_dcc_offers_exceeded', 'DCC offer 5 pending on the flow exceeds 4: no connection expected for it']], 'reported once');
  const r2 = ircRun([...LOGIN, ...offers(10, 0)], { maxDccOffers: 4, dccTtlSeconds: 3 });
  t.equal(r2.expects.length, 10, 'with expiry, never more than 4 pending at a time');
  t.same(r2.anomalies, []);
  const passive = ircRun([...LOGIN, ...Array.from({ length: 5 }, (_, i) => [0, `PRIVMSG bob :\u0001DCC SEND p${i} 3221225985 0 1 ${i}\u0001\r\n`] as [Dir, string])], { maxPassiveDcc: 3 });
  t.equal(passive.anomalies.filter((a) => a.code === 'irc_dcc_offers_exceeded').length, 2, 'passive offers waiting are bounded too');
});

// ── the DCC connections ──

function sendCtx(over: Partial<DccContext> = {}): DccContext {
  return { kind: 'send', filename: 'data.bin', size: 10_000, sender: 'bob', recipient: 'alice', offererIp: '198.51.100.10', reverse: false, ...over };
}

/** A DCC SEND conversation: the file in pieces from the listener, 4-byte big-endian acks back. */
function sendConv(file: Uint8Array, piece: number, dataDir: Dir): [Dir, Uint8Array][] {
  const conv: [Dir, Uint8Array][] = [];
  for (let at = 0; at < file.length; at += piece) {
    const end = Math.min(file.length, at + piece);
    conv.push([dataDir, file.subarray(at, end)]);
    const ack = Buffer.alloc(4);
    ack.writeUInt32BE(end >>> 0);
    conv.push([(1 - dataDir) as Dir, ack]);
  }
  return conv;
}

t.test('DCC SEND: the file from the listener, acks ignored, hashes of the bytes fed', async (t) => {
  const file = randomBytes(10_000);
  for (const chunk of [Infinity, 1000, 1]) {
    const { session, rec } = startSession(ircDcc, { clientIp: '192.0.2.1', serverIp: '198.51.100.10', serverPort: 6001, expected: sendCtx() });
    feed(session, sendConv(file, 1460, 1), chunk);
    t.equal(rec.kind, 'file');
    t.equal(rec.confirmed, 1);
    t.same(rec.anomalies, []);
    t.equal(rec.transfers.length, 1);
    const tr = rec.transfers[0]!;
    t.same([tr.sender, tr.recipient, tr.filename, tr.size, tr.bytes_seen, tr.complete, tr.method], ['bob', 'alice', 'data.bin', 10_000, 10_000, true, 'dcc'], `chunks of ${chunk}`);
    t.equal(tr.sha256, createHash('sha256').update(file).digest('hex'));
    t.equal(tr.md5, createHash('md5').update(file).digest('hex'));
    t.same(rec.files.get('data.bin'), file, 'the carved bytes are the file');
  }
});

t.test('DCC SEND answering a passive offer: the file comes from the flow\'s client', async (t) => {
  const file = randomBytes(3000);
  const { session, rec } = startSession(ircDcc, { clientIp: '192.0.2.1', serverIp: '198.51.100.10', expected: sendCtx({ size: 3000, reverse: true, sender: 'alice', recipient: 'bob' }) });
  feed(session, sendConv(file, 500, 0));
  t.equal(rec.transfers[0]!.complete, true);
  t.equal(rec.transfers[0]!.sha256, createHash('sha256').update(file).digest('hex'));
});

t.test('DCC SEND: a gap makes it incomplete; bytes past the size are an anomaly; an empty connection is a 0-byte row', async (t) => {
  const { session, rec } = startSession(ircDcc, { clientIp: '192.0.2.1', serverIp: '198.51.100.10', expected: sendCtx({ size: 100 }) });
  const a = randomBytes(40);
  session.onData(1, a, 0, a.length, [1, 0]);
  session.onGap(1, 20, [2, 0]);
  const b = randomBytes(60);
  session.onData(1, b, 0, b.length, [3, 0]);
  session.finish([4, 0]);
  t.same(rec.transfers.map((x) => [x.bytes_seen, x.complete, x.sha256]), [[80, false, null]]);
  t.same(rec.anomalies.map((x) => [x.code, x.detail]), [['irc_dcc_size_exceeded', 'DCC SEND of "data.bin" carried 120 bytes or more, the offer announced 100']]);
  t.same(rec.files.get('data.bin'), Buffer.concat([a, b.subarray(0, 40)]));

  const e = startSession(ircDcc, { expected: sendCtx() });
  e.session.finish([1, 0]);
  t.same(e.rec.transfers.map((x) => [x.bytes_seen, x.complete]), [[0, false]]);

  const u = startSession(ircDcc, { clientIp: '192.0.2.1', serverIp: '198.51.100.10', expected: sendCtx({ size: null }) });
  feed(u.session, [[1, 'unknown size'], [1, ' until the end']]);
  t.same(u.rec.transfers.map((x) => [x.bytes_seen, x.size]), [[26, null]], 'no size: until the connection ends');
});

t.test('a DCC connection without its offer is rejected', async (t) => {
  const { session, rec } = startSession(ircDcc, {});
  feed(session, [[1, 'data']]);
  t.match(rec.rejected, /without the offer/);
  t.same(rec.transfers, []);
});

t.test('DCC CHAT: lines between the two, by direction', async (t) => {
  const ctxc: DccContext = { kind: 'chat', filename: null, size: null, sender: 'carol', recipient: 'alice', offererIp: '198.51.100.10', reverse: false };
  const conv: [Dir, string][] = [
    [1, 'hi alice\r\n'],
    [0, 'hello carol\n'],
    [1, '\u0001ACTION waves\u0001\r\n'],
    [0, `${'x'.repeat(9000)}\r\nstill here\r\n`],
  ];
  const { session, rec } = startSession(ircDcc, { clientIp: '192.0.2.1', serverIp: '198.51.100.10', expected: ctxc });
  feed(session, conv, 3);
  t.equal(rec.confirmed, 1);
  t.same(rec.messages.map((m) => [m.kind, m.sender, m.recipient, m.body, m.dir]), [
    ['dcc_chat', 'carol', 'alice', 'hi alice', 1],
    ['dcc_chat', 'alice', 'carol', 'hello carol', 0],
    ['action', 'carol', 'alice', 'waves', 1],
    ['dcc_chat', 'alice', 'carol', 'still here', 0],
  ]);
  t.same(rec.anomalies.map((a) => [a.code, a.detail]), [['irc_dcc_line_size_exceeded', 'DCC CHAT line of 9000 bytes exceeds 8192']]);
});

t.test('descriptors', async (t) => {
  t.equal(irc.id, 'irc');
  t.equal(ircDcc.id, 'irc-dcc');
  t.equal(ircDcc.probe, null);
  t.equal(ircDcc.app, 'irc');
  for (const p of [irc, ircDcc]) {
    for (const code of Object.keys(p.anomalies)) t.match(code, /^irc_[a-z0-9_]+$/, `${p.id}: ${code}`);
    for (const [k, v] of Object.entries(p.limits)) t.ok(Number.isInteger(v) && v > 0, `${p.id}: ${k}`);
  }
  t.equal(irc.limits.maxLineBytes, 512);
  t.equal(irc.limits.dccTtlSeconds, 300);
});
