// The msnp session driven directly: notification-server logins of MSNP2-7 (MD5), MSNP8 (TWN) and MSNP15 (SSO) with
// contact lists, presence, personal messages and renames; switchboards with several participants, charsets,
// nudges, payloads across chunks; limits, invalid lines, gaps, one-sided flows; secrets never stored; negatives as
// pcaps through the pipeline; a small fuzz.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { imPipeline } from '../helpers/im-pipeline.js';
import { feed, recordingContext, startSession, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { msnp, msnpFtp } from '../../src/decoders/im/msnp/index.js';
import { createMsnpSession } from '../../src/decoders/im/msnp/session.js';
import type { MsnpLimits } from '../../src/decoders/im/msnp/limits.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { clientMsg, mime, ns8Parts, payloadCmd, serverMsg, textPayload, typingPayload } from './builders/msnp.js';

type Parts = [Dir, string | Uint8Array | { gap: number }][];

function runParts(parts: Parts, chunk = Infinity, limits: Partial<MsnpLimits> = {}): Recorded {
  const { ctx, rec } = recordingContext({ serverPort: 1863 });
  feed(createMsnpSession(ctx, limits), parts, chunk);
  return rec;
}

const TICKET = 't=53*1hAu8ADuD3TEwdXoOMi08sD';

t.test('MSNP8 notification server: login, contacts, presence, rename, referrals', async (t) => {
  for (const chunk of [Infinity, 3, 1]) {
    const r = runParts(ns8Parts(), chunk);
    t.equal(r.confirmed, 1);
    t.equal(r.kind, 'presence');
    t.same(r.anomalies, []);
    t.same(r.accounts.map((a) => [a.account, a.display_name, a.auth, a.side]), [
      ['alice@hotmail.com', 'Alice A.', 'twn', 0],
      ['alice@hotmail.com', 'Alice été', 'twn', 0],
    ], `chunks of ${chunk}`);
    t.same(r.contacts.map((c) => [c.account, c.contact, c.group_name, c.state]), [
      ['alice@hotmail.com', 'bob@hotmail.com', 'Friends', 'FL,AL,RL'],
      ['alice@hotmail.com', 'carol@msn.com', 'Other Contacts', 'FL,AL'],
    ]);
    t.same(r.events.map((e) => [e.event, e.account, e.target, e.detail]), [
      ['redirect', 'alice@hotmail.com', '207.46.106.145:1863', null],
      ['login', 'alice@hotmail.com', 'notification', 'twn MSNP8 MSNMSGR 6.0.0602'],
      ['status', 'alice@hotmail.com', null, 'online'],
      ['presence', 'bob@hotmail.com', 'alice@hotmail.com', 'away'],
      ['presence', 'carol@msn.com', 'alice@hotmail.com', 'busy'],
      ['presence', 'bob@hotmail.com', 'alice@hotmail.com', 'offline'],
      ['switchboard', 'alice@hotmail.com', '207.46.108.37:1863', null],
      ['invite', 'bob@hotmail.com', 'alice@hotmail.com', 'switchboard 207.46.108.38:1863'],
      ['logout', 'alice@hotmail.com', 'notification', null],
    ]);
    const all = JSON.stringify(r);
    t.notOk(all.includes(TICKET) || all.includes('17262740.1050826919') || all.includes('849102291.520491113'), 'no ticket or cookie stored');
  }
});

t.test('MSNP2-7: MD5 login, LSG/LST/ADD/REM of the old shapes; the hash is never kept', async (t) => {
  const r = runParts([
    [0, 'VER 1 MSNP7 MSNP6 CVR0\r\n'],
    [1, 'VER 1 MSNP7\r\n'],
    [0, 'USR 3 MD5 I alice@hotmail.com\r\n'],
    [1, 'USR 3 MD5 S 1013928519.693957190\r\n'],
    [0, 'USR 4 MD5 S 5f4dcc3b5aa765d61d8327deb882cf99\r\n'],
    [1, 'USR 4 OK alice@hotmail.com Alice%20Old\r\n'],
    [1, 'LSG 7 12 1 2 0 Friends 0\r\n'],
    [1, 'LSG 7 12 2 2 1 Work%20mates 0\r\n'],
    [1, 'LST 8 FL 12 1 2 bob@hotmail.com Bob 1\r\n'],
    [1, 'LST 8 RL 12 2 2 bob@hotmail.com Bob\r\n'],
    [1, 'LST 9 BL 12 0 0\r\n'],
    [1, 'ADD 10 FL 13 dan@hotmail.com Dan 0\r\n'],
    [1, 'REM 11 AL 14 eve@hotmail.com\r\n'],
  ]);
  t.same(r.anomalies, []);
  t.same(r.accounts.map((a) => [a.account, a.display_name, a.auth]), [['alice@hotmail.com', 'Alice Old', 'md5']]);
  t.same(r.contacts.map((c) => [c.contact, c.group_name, c.state]), [
    ['bob@hotmail.com', 'Work mates', 'FL'],
    ['bob@hotmail.com', null, 'RL'],
    ['dan@hotmail.com', 'Friends', 'FL'],
  ]);
  t.same(r.events.filter((e) => e.event === 'contact_removed').map((e) => [e.target, e.detail]), [['eve@hotmail.com', 'AL']]);
  t.notOk(JSON.stringify(r).includes('5f4dcc3b5aa765d61d8327deb882cf99'));
});

t.test('MSNP15: SSO login, ADL/RML lists, UUX/UBX personal messages, network ids, PRP rename', async (t) => {
  const adl = '<ml l="1"><d n="hotmail.com"><c n="bob" l="3" t="1" /></d><d n="live.com"><c n="carol" l="11" t="1"/><c t="1" l="4" n="mallory"/></d></ml>';
  const r = runParts([
    [0, 'VER 1 MSNP15 CVR0\r\n'],
    [1, 'VER 1 MSNP15 CVR0\r\n'],
    [0, 'USR 3 SSO I alice@live.com\r\n'],
    [1, 'USR 3 SSO S MBI_KEY_OLD 8CLhG/xfgYZ7TyAVzlENL==\r\n'],
    [0, `USR 4 SSO S ${TICKET} AQAAAAAAAAAAAAAAAAAAAA==\r\n`],
    [1, 'USR 4 OK alice@live.com 1 0\r\n'],
    [1, payloadCmd('GCF 0', '<Policies><Policy type="SHIELDS"></Policy></Policies>')],
    [0, payloadCmd('ADL 5', adl)],
    [1, 'ADL 5 OK\r\n'],
    [0, payloadCmd('UUX 6', '<Data><PSM>at work &amp; busy</PSM><CurrentMedia></CurrentMedia></Data>')],
    [1, 'UUX 6 0\r\n'],
    [1, 'NLN NLN bob@hotmail.com 1 Bob 2789003324\r\n'],
    [1, payloadCmd('UBX bob@hotmail.com 1', '<Data><PSM>hi &#233;</PSM></Data>')],
    [0, 'PRP 7 MFN Alice%20L.\r\n'],
    [1, 'PRP 7 MFN Alice%20L.\r\n'],
    [0, payloadCmd('RML 8', '<ml><d n="hotmail.com"><c n="bob" l="2" t="1"/></d></ml>')],
    [1, payloadCmd('NOT', '<NOTIFICATION id="0"></NOTIFICATION>')],
  ]);
  t.same(r.anomalies, []);
  t.same(r.accounts.map((a) => [a.account, a.display_name, a.auth]), [
    ['alice@live.com', null, 'sso'],
    ['alice@live.com', 'Alice L.', 'sso'],
    ['alice@live.com', 'Alice L.', 'sso'],
  ]);
  t.same(r.contacts.map((c) => [c.contact, c.state]), [
    ['bob@hotmail.com', 'FL,AL'],
    ['carol@live.com', 'FL,AL,RL'],
    ['mallory@live.com', 'BL'],
  ]);
  t.same(r.events.filter((e) => e.event !== 'login').map((e) => [e.event, e.account, e.detail]), [
    ['status_message', 'alice@live.com', 'at work & busy'],
    ['presence', 'bob@hotmail.com', 'online'],
    ['status_message', 'bob@hotmail.com', 'hi é'],
    ['contact_removed', 'alice@live.com', 'AL'],
  ]);
  t.notOk(JSON.stringify(r).includes(TICKET));
});

t.test('login refused (911): no account, a login_refused event', async (t) => {
  const r = runParts([
    [0, 'VER 1 MSNP8 CVR0\r\n'],
    [1, 'VER 1 MSNP8 CVR0\r\n'],
    [0, 'USR 3 TWN I alice@hotmail.com\r\n'],
    [1, 'USR 3 TWN S lc=1033,id=507\r\n'],
    [0, `USR 4 TWN S ${TICKET}\r\n`],
    [1, '911 4\r\n'],
  ]);
  t.same(r.accounts, []);
  t.same(r.events.map((e) => [e.event, e.account, e.detail]), [['login_refused', 'alice@hotmail.com', 'error 911']]);
});

t.test('switchboard with two peers: recipients, typing, nudge, charsets, invalid UTF-8, BYE, payloads across chunks', async (t) => {
  const parts: Parts = [
    [0, 'USR 1 alice@hotmail.com 17262740.1050826919.32308\r\n'],
    [1, 'USR 1 OK alice@hotmail.com Alice\r\n'],
    [0, 'CAL 2 bob@hotmail.com\r\n'],
    [1, 'CAL 2 RINGING 17262740\r\n'],
    [1, 'JOI bob@hotmail.com Bob%20%F0%9F%98%80\r\n'],
    [0, 'CAL 3 carol@msn.com\r\n'],
    [1, 'JOI carol@msn.com Carol 1342177280\r\n'],
    [0, clientMsg(4, typingPayload('alice@hotmail.com'), 'U')],
    [0, clientMsg(5, textPayload('héllo both\r\nsecond line'))],
    [1, serverMsg('bob@hotmail.com', 'Bob', textPayload(Buffer.from('caf\xe9', 'latin1'), 'ISO-8859-1'))],
    [1, serverMsg('carol@msn.com', 'Carol', textPayload(Buffer.from([0x62, 0xff, 0xfe, 0x61])))],
    [1, serverMsg('carol@msn.com', 'Carol', mime([['Content-Type', 'text/x-msnmsgr-datacast']], 'ID: 1\r\n\r\n'))],
    [1, serverMsg('carol@msn.com', 'Carol', mime([['Content-Type', 'text/x-mms-emoticon']], 'x\tabc'))],
    [1, 'BYE carol@msn.com\r\n'],
    [0, clientMsg(6, textPayload('just us'))],
    [1, 'BYE bob@hotmail.com 1\r\n'],
  ];
  for (const chunk of [Infinity, 5, 1]) {
    const r = runParts(parts, chunk);
    t.equal(r.kind, 'chat');
    t.same(r.anomalies, []);
    t.same(r.accounts.map((a) => [a.account, a.display_name, a.side]), [
      ['alice@hotmail.com', 'Alice', 0],
      ['bob@hotmail.com', 'Bob 😀', 1],
      ['carol@msn.com', 'Carol', 1],
      ['bob@hotmail.com', 'Bob', 1], // the name his MSG carries: later-known, it updates the row
    ]);
    t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.body_raw === null ? null : Buffer.from(m.body_raw!).toString('hex'), m.dir]), [
      ['alice@hotmail.com', 'bob@hotmail.com,carol@msn.com', 'héllo both\r\nsecond line', null, 0],
      ['bob@hotmail.com', 'alice@hotmail.com', 'café', null, 1],
      ['carol@msn.com', 'alice@hotmail.com', 'b\xff\xfea', '62fffe61', 1],
      ['alice@hotmail.com', 'bob@hotmail.com', 'just us', null, 0],
    ], `chunks of ${chunk}`);
    t.same(r.events.map((e) => [e.event, e.account, e.target, e.detail]), [
      ['login', 'alice@hotmail.com', 'switchboard', 'cookie'],
      ['invite', 'alice@hotmail.com', 'bob@hotmail.com', null],
      ['join', 'bob@hotmail.com', null, 'Bob 😀'],
      ['invite', 'alice@hotmail.com', 'carol@msn.com', null],
      ['join', 'carol@msn.com', null, 'Carol'],
      ['typing', 'alice@hotmail.com', 'bob@hotmail.com,carol@msn.com', null],
      ['nudge', 'carol@msn.com', 'alice@hotmail.com', null],
      ['part', 'carol@msn.com', null, null],
      ['part', 'bob@hotmail.com', null, 'idle'],
    ]);
  }
});

t.test('one-sided flows: the client identity is its account at the end; confirmation needs both sides', async (t) => {
  const r = runParts([[0, 'VER 1 MSNP8 CVR0\r\n'], [0, 'USR 3 TWN I alice@hotmail.com\r\n']]);
  t.equal(r.confirmed, null);
  t.same(r.accounts.map((a) => [a.account, a.auth]), [['alice@hotmail.com', 'twn']]);
  const s = runParts([[1, serverMsg('bob@hotmail.com', 'Bob', textPayload('hi'))]]);
  t.same(s.messages.map((m) => [m.sender, m.body]), [['bob@hotmail.com', 'hi']]);
  t.same(s.accounts.map((a) => [a.account, a.side]), [['bob@hotmail.com', 1]]);
});

t.test('limits, invalid lines, rejection, gaps', async (t) => {
  const login: Parts = [[0, 'USR 1 alice@hotmail.com 1.2\r\n'], [1, 'USR 1 OK alice@hotmail.com Alice\r\n'], [1, 'JOI bob@hotmail.com Bob\r\n']];
  const big = runParts([...login, [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('x'.repeat(500)))], [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('after'))]], 7, { maxPayloadBytes: 200 });
  t.same(big.anomalies.map((a) => [a.code, a.detail]), [['msnp_payload_size_exceeded', 'MSG payload of 613 bytes exceeds 200: skipped']]);
  t.same(big.messages.map((m) => m.body), ['after']);

  const long = runParts([...login, [1, `NLN NLN ${'x'.repeat(300)}\r\n`], [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('ok'))]], 16, { maxLineBytes: 100 });
  t.same(long.anomalies.map((a) => a.code), ['msnp_line_size_exceeded']);
  t.same(long.messages.map((m) => m.body), ['ok']);

  const junk = runParts([...login, [1, 'this is not msnp\r\n'], [1, 'neither\r\n'], [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('still'))]]);
  t.same(junk.anomalies.map((a) => a.code), ['msnp_invalid_line', 'msnp_invalid_line']);
  t.same(junk.messages.map((m) => m.body), ['still']);
  const many = runParts([...login, [1, Buffer.from(randomBytes(4000).map((b) => (b === 10 ? 11 : b)).join('\n'))]], Infinity, { maxInvalidLines: 3 });
  t.match(many.rejected, /invalid lines exceed 3/);

  const early = runParts([[0, 'VER 1 MSNP8 CVR0\r\n'], [1, 'HTTP/1.1 400 Bad Request\r\n\r\n']]);
  t.match(early.rejected, /server line of 24 bytes is not an MSNP command/);

  const nohead = runParts([...login, [1, 'MSG bob@hotmail.com Bob 5\r\nabcde']]);
  t.same(nohead.anomalies.map((a) => a.code), ['msnp_payload_malformed']);

  // A hole inside a payload: the bytes after it are skipped until a line is MSNP again.
  const m1 = serverMsg('bob@hotmail.com', 'Bob', textPayload('first'));
  const m2 = serverMsg('bob@hotmail.com', 'Bob', textPayload('lost in the hole'));
  const m3 = serverMsg('bob@hotmail.com', 'Bob', textPayload('third'));
  for (const chunk of [Infinity, 1]) {
    const g = runParts([...login, [1, m1], [1, m2.subarray(0, 40)], [1, { gap: 30 }], [1, m2.subarray(70)], [1, m3]], chunk);
    t.same(g.anomalies, []);
    t.same(g.messages.map((m) => m.body), ['first', 'third'], `chunks of ${chunk}`);
  }
});

t.test('negatives through the pipeline: HTTP on 1863, garbage after a valid start, a truncated capture', async (t) => {
  const dir = tempDir('msnp-neg');
  const reg = new Registry([msnp, msnpFtp]);
  const write = (name: string, parts: [0 | 1, string | Uint8Array][], extra = {}) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, conversationPcap([{ client: '10.0.0.1', server: '10.0.0.2', cport: 40000, sport: 1863, parts, ...extra }]));
    return f;
  };
  const http = await imPipeline(write('http.pcap', [[0, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']]), 0, null, reg);
  t.same(http.verdicts, [], 'HTTP on 1863 is not MSNP');
  // Seeded noise, so that the run checks the same anomalies every time.
  const noise = Buffer.alloc(3000);
  for (let i = 0, s = 7; i < noise.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    noise[i] = (s >> 16) & 0xff;
  }
  const garbage = await imPipeline(write('garbage.pcap', [[0, 'VER 1 MSNP8 CVR0\r\n'], [1, 'VER 1 MSNP8 CVR0\r\n'], [1, noise]]), 0, null, reg);
  t.same(garbage.verdicts.map((v) => v.protocol), ['msnp']);
  const junkCodes = ((garbage.rows.anomalies ?? []) as Record<string, unknown>[]).map((a) => a.code);
  t.ok(junkCodes.length > 0, 'the noise after a valid start is reported');
  for (const code of junkCodes) t.match(code, /^msnp_(invalid_line|violation|line_size_exceeded|payload_size_exceeded)$/);
  const msg = serverMsg('bob@hotmail.com', 'Bob', textPayload('never complete'));
  const cut = await imPipeline(write('cut.pcap', [[0, 'USR 1 alice@hotmail.com 1.2\r\n'], [1, 'USR 1 OK alice@hotmail.com Alice\r\n'], [1, msg.subarray(0, msg.length - 5)]], { noFin: true }), 0, null, reg);
  t.same(cut.verdicts.map((v) => [v.protocol, v.confidence]), [['msnp', 1]]);
  t.same(cut.rows.messages ?? [], [], 'a truncated payload is not a message');
  t.same(((cut.rows.accounts ?? []) as Record<string, unknown>[]).map((a) => a.account), ['alice@hotmail.com']);
});

t.test('fuzz: mutated streams give declared anomalies only and never throw', async (t) => {
  const declared = new Set(Object.keys(msnp.anomalies));
  const base: Parts = [
    ...(ns8Parts() as Parts),
    [0, 'USR 1 alice@hotmail.com 1.2\r\n'],
    [1, 'JOI bob@hotmail.com Bob\r\n'],
    [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('hello'))],
    [0, clientMsg(5, typingPayload('alice@hotmail.com'), 'U')],
    [0, payloadCmd('ADL 5', '<ml><d n="x.com"><c n="y" l="1"/></d></ml>')],
  ];
  const flat = base.map(([d, p]) => [d, typeof p === 'string' ? Buffer.from(p) : (p as Uint8Array)] as [Dir, Uint8Array]);
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let codes = 0;
  for (let i = 0; i < 200; i++) {
    const parts: Parts = flat.map(([d, p]) => {
      const b = Buffer.from(p);
      const k = rnd(4);
      for (let j = 0; j < k && b.length > 0; j++) b[rnd(b.length)] = rnd(256);
      return [d, rnd(10) === 0 ? b.subarray(0, rnd(b.length + 1)) : b];
    });
    const { session, rec } = startSession(msnp);
    t.doesNotThrow(() => feed(session, parts, 1 + rnd(40)));
    for (const a of rec.anomalies) {
      codes++;
      if (!declared.has(a.code)) t.fail(`undeclared ${a.code}`);
    }
  }
  t.ok(codes > 0, 'the mutations gave anomalies (the fuzz reached the checks)');
  // The same decoder still decodes valid input afterwards.
  const r = runParts(ns8Parts());
  t.equal(r.accounts[0]?.account, 'alice@hotmail.com');
});

t.test('descriptors', async (t) => {
  t.equal(msnp.id, 'msnp');
  t.equal(msnp.app, 'msn');
  t.equal(msnpFtp.id, 'msnp-ftp');
  t.equal(msnpFtp.probe, null);
  t.equal(msnpFtp.app, 'msn');
  t.same(msnp.ports, [1863]);
  for (const p of [msnp, msnpFtp]) {
    for (const code of Object.keys(p.anomalies)) t.match(code, /^msnp_[a-z0-9_]+$/, `${p.id}: ${code}`);
    for (const [k, v] of Object.entries(p.limits)) t.ok(Number.isInteger(v) && v > 0, `${p.id}: ${k}`);
  }
  t.doesNotThrow(() => new Registry([msnp, msnpFtp]));
});
