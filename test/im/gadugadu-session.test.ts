// Gadu-Gadu sessions driven directly: logins (8.0 SHA-1, 7.0 GG32, refused, one-sided), messages both ways (8.0 HTML +
// plain, old CP1250, conference, queued), presence (8.0 and 7.7 lists and single statuses, own changes), typing,
// contacts (notify lists, classic contact-list import over several packets), DCC7 file offers; framing (any chunking,
// oversized packets, gaps, truncation, not-GG rejection), limits, and a fuzz with a strict oracle.
import t from 'tap';
import { gadugadu } from '../../src/decoders/im/gadugadu/index.js';
import { createGaduSession } from '../../src/decoders/im/gadugadu/session.js';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { BLOCKED, BUDDY, cp1250, failedParts, gg70Parts, gg80Parts, ggPacket, login80, ME, OTHER, T, welcome } from './builders/gadugadu.js';

type Parts = [Dir, Uint8Array | string | { gap: number }][];

function run(parts: Parts, chunk = Infinity, limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ serverPort: 8074 });
  feed(createGaduSession(ctx, limits), parts, chunk);
  return rec;
}

function rows(r: Recorded): string {
  const strip = (list: object[]) => list.map((x) => JSON.stringify({ ...x, ts: undefined }, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  return JSON.stringify({ a: strip(r.accounts), m: strip(r.messages), c: strip(r.contacts), e: strip(r.events), t: strip(r.transfers), x: r.anomalies.map((a) => a.code), ok: r.confirmed, rej: r.rejected });
}

const me = String(ME);
const buddy = String(BUDDY);
const other = String(OTHER);

t.test('GG 8.0: login, contacts, presence, messages both ways, typing, file offer', async (t) => {
  const r = run(gg80Parts());
  t.equal(r.confirmed, 1);
  t.same(r.accounts.map((a) => [a.account, a.auth]), [[me, 'sha1']]);
  t.notOk(JSON.stringify(r).includes('5a5a5a5a'), 'the hash is never kept');
  t.same(r.contacts.map((c) => [c.account, c.contact, c.state]), [[me, buddy, 'buddy'], [me, other, 'buddy'], [me, String(BLOCKED), 'blocked']]);
  t.same(
    r.events.filter((e) => e.event !== 'file_offer').map((e) => [e.event, e.account, e.target, e.detail, e.dir]),
    [
      ['login', me, null, 'sha1', 1],
      ['presence', buddy, null, 'available: Na urlopie 🏖', 1],
      ['presence', other, null, 'busy', 1],
      ['presence', me, null, 'busy: Zajęty, piszę', 0],
      ['typing', me, buddy, 'started', 0],
      ['typing', buddy, me, 'stopped', 1],
      ['presence', other, null, 'offline', 1],
    ],
  );
  t.same(
    r.messages.map((m) => [m.sender, m.recipient, m.body, m.body_format, m.kind, m.dir]),
    [
      [me, buddy, '<span style="color:#000000; font-family:\'MS Shell Dlg 2\'; font-size:9pt; ">Cześć, jak się masz?</span>', 'html', 'chat', 0],
      [buddy, me, 'Dobrze, dzięki! Żółw.', 'text', 'chat', 1],
    ],
    'the HTML part when there is one (UTF-8), else the plain part (CP1250)',
  );
  t.same(r.transfers.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.complete, x.method]), [[me, buddy, 'zdjęcie z wakacji.jpg', 123456, 0, false, 'dcc7']]);
  t.same(r.anomalies, []);
});

t.test('GG 7.0 on 443: GG32 login, CP1250 messages, conference, queued, descriptions, contact-list import', async (t) => {
  const r = run(gg70Parts());
  t.same(r.accounts.map((a) => [a.account, a.auth]), [[me, 'gg32']]);
  t.same(
    r.messages.map((m) => [m.sender, m.recipient, m.body, m.kind, m.dir]),
    [
      [me, buddy, 'Zażółć gęślą jaźń', 'chat', 0],
      [other, me, 'Witam wszystkich', 'conference', 1],
      [buddy, me, 'Wiadomość z kolejki', 'offline', 1],
    ],
  );
  t.same(
    r.events.filter((e) => e.event === 'presence').map((e) => [e.account, e.detail, e.dir]),
    [[buddy, 'available: Gotuję obiad', 1], [other, 'available', 1], [me, 'available: Jestem, śmiało', 0], [buddy, 'busy: Zajęta', 1]],
  );
  t.same(
    r.contacts.map((c) => [c.contact, c.group_name, c.state]),
    [[buddy, null, 'buddy'], [other, null, 'hidden'], [buddy, 'Rodzina', 'buddy'], ['5678901', 'Praca', 'buddy']],
  );
});

t.test('the classic contact list split over packets, lines cut anywhere', async (t) => {
  const text = cp1250('A;B;;;;Grupa;111;;\r\nC;D;;;;;222;;\r\nE;F;;;;Ż;333;;');
  for (let cut = 1; cut < text.length; cut += 5) {
    const r = run([[1, welcome()], [0, login80(ME)], [1, ggPacket(T.LOGIN_OK80, Buffer.from([1, 0, 0, 0]))], [1, ggPacket(T.USERLIST_REPLY, Buffer.from([4]), text.subarray(0, cut))], [1, ggPacket(T.USERLIST_REPLY, Buffer.from([6]), text.subarray(cut))]]);
    t.same(r.contacts.map((c) => [c.contact, c.group_name]), [['111', 'Grupa'], ['222', null], ['333', 'Ż']], `cut at ${cut}`);
  }
});

t.test('refused login: an event, no account', async (t) => {
  const r = run(failedParts());
  t.same(r.accounts, []);
  t.match(r.events, [{ event: 'login_failed', account: '7654321', dir: 1 }]);
});

t.test('client side only: the account at the end; unconfirmed', async (t) => {
  const r = run(gg80Parts().filter(([d]) => d === 0));
  t.equal(r.confirmed, null);
  t.same(r.accounts.map((a) => a.account), [me]);
  t.equal(r.contacts.length, 3);
});

t.test('every chunking gives the same rows', async (t) => {
  for (const parts of [gg80Parts(), gg70Parts(), failedParts()]) {
    const whole = rows(run(parts));
    for (const chunk of [1, 2, 3, 5, 8, 9, 13, 64]) t.equal(rows(run(parts, chunk)), whole, `chunks of ${chunk}`);
  }
});

t.test('framing: not GG rejects, oversized is skipped, gaps desync, truncation', async (t) => {
  const r1 = run([[1, welcome()], [0, 'GET / HTTP/1.1\r\nHost: example\r\n\r\n']]);
  t.match(r1.rejected, /client packet type 0x20544547 of 1414012975 bytes is not Gadu-Gadu/);
  const big = ggPacket(0x10, Buffer.alloc(3000, 0x41));
  const r2 = run([...gg80Parts().slice(0, 3), [1, big], [1, ggPacket(T.TYPING_NOTIFY, Buffer.from([1, 0]), Buffer.from([1, 0, 0, 0]))]], Infinity, { maxPacketBytes: 1024 });
  t.same(r2.anomalies.map((a) => a.code), ['gadugadu_packet_size_exceeded']);
  t.equal(r2.events.filter((e) => e.event === 'typing').length, 1, 'the next packet is read');
  const parts = gg80Parts();
  const r3 = run([...parts.slice(0, 5), [0, { gap: 10 }], ...parts.slice(5)]);
  t.same(r3.anomalies.map((a) => a.code), ['gadugadu_desync']);
  t.equal(r3.messages.length, 1, 'the server direction still parses');
  const last = parts[10]![1];
  const r4 = run([...parts.slice(0, 10), [1, last.subarray(0, last.length - 3)]]);
  t.same(r4.anomalies.map((a) => a.code), ['gadugadu_truncated']);
  t.equal(r4.messages.length, 1);
});

t.test('malformed packets: anomalies, no throw', async (t) => {
  const base = gg80Parts().slice(0, 3);
  const r = run([...base, [1, ggPacket(T.RECV_MSG80, Buffer.from([1, 2, 3]))], [1, ggPacket(T.STATUS80, Buffer.alloc(28, 0), Buffer.from([0xff]))], [0, ggPacket(T.DCC7_NEW, Buffer.alloc(40))]]);
  t.same(r.anomalies.map((a) => a.code), ['gadugadu_malformed', 'gadugadu_malformed']);
  t.equal(r.messages.length, 0);
});

t.test('limits: contacts per flow, contact-list line length', async (t) => {
  const many = [];
  for (let i = 1; i <= 30; i++) many.push(Buffer.from([i, 0, 0, 0, 3]));
  const r = run([...gg80Parts().slice(0, 3), [0, ggPacket(T.NOTIFY_LAST, ...many)]], Infinity, { maxContacts: 10 });
  t.equal(r.contacts.length, 10);
  t.same(r.anomalies.map((a) => a.code), ['gadugadu_contacts_exceeded']);
  const long = run([...gg80Parts().slice(0, 3), [1, ggPacket(T.USERLIST_REPLY, Buffer.from([6]), Buffer.alloc(200, 0x61), Buffer.from('\r\nA;B;;;;;9;;\r\n'))]], Infinity, { maxUserlistLineBytes: 100 });
  t.same(long.anomalies.map((a) => a.code), ['gadugadu_userlist_line_exceeded']);
  t.same(long.contacts.map((c) => c.contact), ['9']);
});

t.test('fuzz: declared anomalies only, never a throw, the same rows however cut', async (t) => {
  const declared = new Set(Object.keys(gadugadu.anomalies));
  let seed = 777;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const bases = [gg80Parts(), gg70Parts(), failedParts()];
  for (let round = 0; round < 300; round++) {
    const parts = bases[round % bases.length]!.map(([d, b]) => [d, Buffer.from(b)] as [Dir, Buffer]);
    for (let k = 0; k < 1 + rnd(6); k++) {
      const p = parts[rnd(parts.length)]![1];
      const at = rnd(p.length);
      const op = rnd(3);
      if (op === 0) p[at] = rnd(256);
      else if (op === 1) p[at] = [0, 1, 0xff, 0x10, 0x80][rnd(5)]!;
      else p.fill(rnd(256), at, Math.min(p.length, at + rnd(8)));
    }
    let a: Recorded;
    let b: Recorded;
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
});

t.test('GG_OWN_MESSAGE: the account\'s message from another of its sessions', async (t) => {
  const own = ggPacket(0x5a, Buffer.from([0xce, 0xbe, 0x23, 0x00]), Buffer.alloc(8), Buffer.from([8, 0, 0, 0]), Buffer.from([25, 0, 0, 0, 26, 0, 0, 0]), Buffer.from('\0hi\0', 'latin1'));
  const r = run([...gg80Parts().slice(0, 3), [1, own]]);
  t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.dir]), [[me, String(0x23bece), 'hi', 1]]);
});
