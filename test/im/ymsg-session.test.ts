// YMSG sessions driven directly: login (token, challenge, refused, one-sided), messages (UTF-8, Windows-1252 kept raw,
// offline batches), typing, presence, buddy lists, conferences, chat rooms, file offers; framing (any chunking, junk,
// gaps, truncation), limits, and a fuzz with a strict oracle (declared anomalies only, no throw).
import t from 'tap';
import { ymsg } from '../../src/decoders/im/ymsg/index.js';
import { createYmsgSession } from '../../src/decoders/im/ymsg/session.js';
import { feed, recordingContext, startSession, type Recorded } from '../helpers/im-session.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { chatParts, failedParts, loginParts, roomParts, S, ymsgPacket } from './builders/ymsg.js';

type Parts = [Dir, Uint8Array | string | { gap: number }][];

function run(parts: Parts, chunk = Infinity, limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ serverPort: 5050 });
  feed(createYmsgSession(ctx, limits), parts, chunk);
  return rec;
}

/** Everything a run reported, as comparable JSON (times left out: they count feed() calls). */
function rows(r: Recorded): string {
  const strip = (list: object[]) => list.map((x) => JSON.stringify({ ...x, ts: undefined }, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  return JSON.stringify({ a: strip(r.accounts), m: strip(r.messages), c: strip(r.contacts), e: strip(r.events), t: strip(r.transfers), x: r.anomalies.map((a) => a.code), ok: r.confirmed, rej: r.rejected });
}

t.test('token login, buddy list, messages, typing, presence', async (t) => {
  const r = run(chatParts());
  t.equal(r.confirmed, 1);
  t.equal(r.rejected, null);
  t.same(r.accounts.map((a) => [a.account, a.auth]), [['alice_tap', 'token']], 'the own id once, with how it logged in');
  t.match(r.events.find((e) => e.event === 'login'), { account: 'alice_tap', detail: 'token', dir: 1 });
  const json = JSON.stringify(r);
  for (const secret of ['FAKECOOKIE', 'Qm9ndXNDcnVtYkhhc2g', 'ly5YjFmxZ3']) t.notOk(json.includes(secret), `${secret} never stored`);
  t.same(
    r.contacts.map((c) => [c.account, c.contact, c.group_name, c.state]),
    [
      ['alice_tap', 'bob_tap', 'Friends', 'buddy'],
      ['alice_tap', 'carol_tap', 'Friends', 'buddy'],
      ['alice_tap', 'msn/dave_tap', 'Work', 'buddy'],
      ['alice_tap', 'spammer_tap', null, 'ignored'],
      ['alice_tap', 'erin_tap', 'Friends', 'added'],
    ],
  );
  t.same(
    r.messages.map((m) => [m.sender, m.recipient, m.body, m.kind, m.dir, m.body_raw === null ? null : Buffer.from(m.body_raw!).toString('hex')]),
    [
      ['alice_tap', 'bob_tap', 'Zażółć gęślą jaźń ✓', 'im', 0, null],
      ['bob_tap', 'alice_tap', 'Café costs 3€, that’s fine', 'im', 1, Buffer.from('Caf\u00e9 costs 3\u0080, that\u0092s fine', 'latin1').toString('hex')],
      ['carol_tap', 'alice_tap', 'offline one', 'im', 1, null],
      ['dave_tap', 'alice_tap', '<font face="Arial">offline two</font>', 'im', 1, null],
    ],
  );
  t.same(r.messages.map((m) => m.body_format), ['text', 'text', 'text', 'text']);
  const typing = r.events.filter((e) => e.event === 'typing').map((e) => [e.account, e.target, e.detail, e.dir]);
  t.same(typing, [['alice_tap', 'bob_tap', 'started', 0], ['bob_tap', 'alice_tap', 'stopped', 1]], 'typing is an event, never a message');
  const presence = r.events.filter((e) => e.event === 'presence').map((e) => [e.account, e.detail, e.dir]);
  t.same(presence, [
    ['bob_tap', 'available', 1],
    ['alice_tap', 'custom: At lunch', 0],
    ['bob_tap', 'busy', 1],
    ['carol_tap', 'offline', 1],
  ]);
  t.match(r.events.find((e) => e.event === 'contact_add'), { account: 'alice_tap', target: 'erin_tap', detail: 'Friends' });
  t.match(r.events.find((e) => e.event === 'logout'), { account: 'alice_tap', dir: 0 });
  t.same(r.anomalies, []);
});

t.test('conferences, chat rooms and file offers', async (t) => {
  const r = run(roomParts());
  t.same(
    r.messages.map((m) => [m.sender, m.recipient, m.body, m.kind, m.dir]),
    [
      ['alice_tap', 'alice_tap-1234', 'Hello conference', 'conference', 0],
      ['bob_tap', 'alice_tap-1234', 'Hi all', 'conference', 1],
      ['alice_tap', 'Linux, FreeBSD, Solaris:1', 'hello room', 'chatroom', 0],
      ['frank_tap', 'Linux, FreeBSD, Solaris:1', 'waves', 'chatroom_emote', 1],
    ],
  );
  const ev = r.events.filter((e) => !['login', 'presence'].includes(e.event)).map((e) => [e.event, e.account, e.target, e.detail, e.dir]);
  t.same(ev, [
    ['invite', 'alice_tap', 'alice_tap-1234', 'bob_tap,carol_tap', 0],
    ['join', 'bob_tap', 'alice_tap-1234', null, 1],
    ['part', 'bob_tap', 'alice_tap-1234', null, 1],
    ['join', 'alice_tap', 'Linux, FreeBSD, Solaris:1', null, 0],
    ['join', 'alice_tap', 'Linux, FreeBSD, Solaris:1', null, 1],
    ['join', 'frank_tap', 'Linux, FreeBSD, Solaris:1', null, 1],
    ['part', 'frank_tap', 'Linux, FreeBSD, Solaris:1', null, 1],
    ['file_offer', 'alice_tap', 'bob_tap', 'name=report.pdf size=48213 via=ymsg_ft15', 0],
    ['file_offer', 'carol_tap', 'alice_tap', 'name=photo.jpg size=1024 via=ymsg_p2p', 1],
    ['file_offer', 'dave_tap', 'alice_tap', 'name=notes.txt size=77 via=ymsg_url', 1],
  ]);
  t.same(
    r.transfers.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.complete, x.md5, x.method]),
    [
      ['alice_tap', 'bob_tap', 'report.pdf', 48213, 0, false, null, 'ymsg_ft15'],
      ['carol_tap', 'alice_tap', 'photo.jpg', 1024, 0, false, null, 'ymsg_p2p'],
      ['dave_tap', 'alice_tap', 'notes.txt', 77, 0, false, null, 'ymsg_url'],
    ],
    'offers only: the data goes over HTTP or peer connections, not this flow',
  );
});

t.test('refused login: an event, no account, no hashes', async (t) => {
  const r = run(failedParts());
  t.equal(r.confirmed, 1);
  t.same(r.accounts, []);
  t.match(r.events, [{ event: 'login_failed', account: 'mallory_tap', detail: 'error 13', dir: 1 }]);
  t.notOk(JSON.stringify(r).includes('hashAAAA'));
  t.notOk(JSON.stringify(r).includes('hashBBBB'));
});

t.test('challenge login seen from the client only: the account at the end, auth challenge', async (t) => {
  const r = run(failedParts().filter(([d]) => d === 0));
  t.equal(r.confirmed, null, 'one side: left to the dispatcher (0.6)');
  t.same(r.accounts.map((a) => [a.account, a.auth]), [['mallory_tap', 'challenge']]);
});

t.test('every chunking gives the same rows', async (t) => {
  for (const parts of [chatParts(), roomParts(), failedParts()]) {
    const whole = rows(run(parts));
    for (const chunk of [1, 2, 3, 7, 19, 20, 21, 64]) t.equal(rows(run(parts, chunk)), whole, `chunks of ${chunk}`);
  }
});

t.test('junk: before confirmation it rejects, after it is skipped with an anomaly', async (t) => {
  const login = loginParts();
  const r1 = run([login[0]!, [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n']]);
  t.match(r1.rejected, /server sent 47 bytes and no YMSG packet/);
  const r2 = run([login[0]!, [0, 'GET / HTTP/1.1\r\n\r\n'], ...login.slice(1)]);
  t.match(r2.rejected, /client sent 18 bytes that are not YMSG after a packet/, 'garbage after a valid start');
  const r3 = run([...login, [0, Buffer.from('\x00\x01garbage!')], [0, ymsgPacket(S.MESSAGE, [[1, 'alice_tap'], [5, 'bob_tap'], [14, 'still here']])]]);
  t.equal(r3.rejected, null);
  t.same(r3.anomalies.map((a) => [a.code, a.detail]), [['ymsg_junk', 'client skipped 10 bytes that are not YMSG']]);
  t.equal(r3.messages.length, 1, 'resynchronised on the next magic');
  const r4 = run([...login, [0, Buffer.alloc(300, 0x41)]], Infinity, { maxJunkBytes: 100 });
  t.match(r4.rejected, /300 bytes that are not YMSG exceed 100 \(limit maxJunkBytes\)/);
});

t.test('mid-stream pickup and gaps: quiet resynchronisation', async (t) => {
  const msg = ymsgPacket(S.MESSAGE, [[4, 'bob_tap'], [5, 'alice_tap'], [14, 'after the hole'], [97, '1']]);
  const mine = ymsgPacket(S.MESSAGE, [[1, 'alice_tap'], [5, 'bob_tap'], [14, 'mine'], [97, '1']]);
  const r = run([[1, msg.subarray(13)], [1, msg], [0, mine.subarray(30)], [0, mine], [1, msg.subarray(0, 25)], [1, { gap: 100 }], [1, msg.subarray(40)], [1, msg]]);
  t.equal(r.rejected, null);
  t.equal(r.confirmed, 1);
  t.same(r.messages.map((m) => m.body), ['after the hole', 'mine', 'after the hole']);
  t.same(r.anomalies.map((a) => a.code), ['ymsg_truncated'], 'the packet the gap cut');
});

t.test('truncated capture: the cut packet is an anomaly, earlier rows stay', async (t) => {
  const parts = chatParts();
  const last = parts[6]![1];
  const r = run([...parts.slice(0, 6), [parts[6]![0], last.subarray(0, last.length - 5)]]);
  t.equal(r.messages.length, 0 + 0, 'the cut message is not reported');
  t.same(r.anomalies.map((a) => a.code), ['ymsg_truncated']);
  t.ok(r.accounts.length === 1);
});

t.test('limits: pairs per packet, contacts per flow', async (t) => {
  const many: [number, string][] = [];
  for (let i = 0; i < 50; i++) many.push([7, `b${i}`]);
  const r = run([...loginParts('me', { buddies: false }), [1, ymsgPacket(S.LIST_15, [[65, 'G'], ...many])]], Infinity, { maxPairs: 20, maxContacts: 10 });
  t.same(r.anomalies.map((a) => a.code), ['ymsg_pairs_exceeded', 'ymsg_contacts_exceeded']);
  t.equal(r.contacts.length, 10);
  const bad = run([...loginParts('me', { buddies: false }), [0, Buffer.concat([ymsgPacket(S.MESSAGE, []).subarray(0, 8), Buffer.from([0, 6, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('x\xc0\x80y\xc0\x80', 'latin1')])]]);
  t.same(bad.anomalies.map((a) => a.code), ['ymsg_bad_key']);
});

t.test('fuzz: mutated streams give declared anomalies only, never a throw, and the same rows however cut', async (t) => {
  const declared = new Set(Object.keys(ymsg.anomalies));
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const bases = [chatParts(), roomParts(), failedParts()];
  for (let round = 0; round < 300; round++) {
    const parts = bases[round % bases.length]!.map(([d, b]) => [d, Buffer.from(b)] as [Dir, Buffer]);
    for (let k = 0; k < 1 + rnd(6); k++) {
      const p = parts[rnd(parts.length)]![1];
      const at = rnd(p.length);
      const op = rnd(3);
      if (op === 0) p[at] = rnd(256);
      else if (op === 1) p[at] = [0xc0, 0x80, 0x59, 0x00, 0xff][rnd(5)]!;
      else p.fill(rnd(256), at, Math.min(p.length, at + rnd(8)));
    }
    let a: Recorded | null = null;
    let b: Recorded | null = null;
    try {
      a = run(parts);
      b = run(parts, 1 + rnd(23));
    } catch (e) {
      t.fail(`round ${round} threw ${String(e)}`);
      continue;
    }
    for (const x of a.anomalies) if (!declared.has(x.code)) t.fail(`undeclared ${x.code}`);
    if (rows(a) !== rows(b)) t.fail(`round ${round}: rows depend on chunking`, { diag: { a: rows(a), b: rows(b) } });
  }
  t.pass('300 mutated streams');
  // The same session still decodes valid input after hostile input (a fresh flow).
  const { session, rec } = startSession(ymsg);
  feed(session, chatParts());
  t.equal(rec.messages.length, 4);
});
