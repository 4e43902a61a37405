// OSCAR/TOC session units: logins (cookie, MD5, roasted, refused), messages (charsets, HTML, auto, ICQ channel 4),
// typing, presence, SSI buddy lists, rendezvous file offers (expectations), TOC, gaps, limits, and 1-byte chunks.
import t from 'tap';
import { oscar } from '../../src/decoders/im/oscar/index.js';
import { createOscarSession } from '../../src/decoders/im/oscar/session.js';
import { messageBody, stripHtml } from '../../src/decoders/im/oscar/text.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { feed, recordingContext, startSession, type Recorded } from '../helpers/im-session.js';
import { flap, Oscar, tlv, Toc, u16b, u32b } from './builders/oscar.js';

const CLIENT = '192.0.2.1';

function run(parts: [Dir, Uint8Array | string | { gap: number }][], chunk = Infinity, limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ clientIp: CLIENT, serverPort: 5190 });
  feed(createOscarSession(ctx, limits), parts, chunk);
  return rec;
}
const strip = (r: Recorded) => JSON.parse(JSON.stringify({ ...r, files: [...r.files] }, (k, v: unknown) => (k === 'ts' ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));

t.test('BOS login with a cookie, messages both ways in ASCII and UCS-2BE, typing', async (t) => {
  const c = new Oscar().bosLogin('alice0').send('bob', 'hello <b>bob</b>').receive('bob', 'Grüße, 你好 😀', 'ucs2').typing(0, 'bob', 2).typing(1, 'bob', 0).receive('bob', 'café', 'latin1');
  const r = run(c.parts);
  t.equal(r.confirmed, 1);
  t.equal(r.app, 'aim');
  t.same(r.anomalies, []);
  t.same(r.accounts.map((a) => [a.account, a.auth, a.side]), [['alice0', 'cookie', 0]]);
  t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.body_format, m.kind, m.dir]), [
    ['alice0', 'bob', 'hello bob', 'html', 'im', 0],
    ['bob', 'alice0', 'Grüße, 你好 😀', 'text', 'im', 1],
    ['bob', 'alice0', 'café', 'text', 'im', 1],
  ]);
  t.equal(Buffer.from(r.messages[0]!.body_raw!).toString('latin1'), 'hello <b>bob</b>', 'the HTML as sent');
  t.equal(r.messages[1]!.body_raw, null);
  t.same(r.events.map((e) => [e.account, e.event, e.target, e.detail, e.dir]), [
    ['alice0', 'login', null, 'cookie', 1],
    ['alice0', 'typing', 'bob', 'begun', 0],
    ['bob', 'typing', 'alice0', 'finished', 1],
  ]);
});

t.test('ICQ: a numeric UIN makes the app icq; channel-4 messages; ICQ status', async (t) => {
  const c = new Oscar().bosLogin('123456789').receiveIcq('987654321', 'plain icq').receiveIcq('987654321', 'see\u00fehttp://example.com/', 4).receiveIcq('987654321', '', 6).arrived('987654321', { icqStatus: 0x0011 }).arrived('55555', { icqStatus: 0 }).departed('55555');
  const r = run(c.parts);
  t.equal(r.app, 'icq');
  t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.kind]), [
    ['987654321', '123456789', 'plain icq', 'im'],
    ['987654321', '123456789', 'see\nhttp://example.com/', 'url'],
  ]);
  t.same(r.events.filter((e) => e.event !== 'login').map((e) => [e.account, e.event, e.detail]), [
    ['987654321', 'icq_message', 'type 6'],
    ['987654321', 'presence', 'occupied'],
    ['55555', 'presence', 'online'],
    ['55555', 'presence', 'offline'],
  ]);
});

t.test('AIM away class bit; auto-responses', async (t) => {
  const c = new Oscar().bosLogin('alice0').arrived('bob', { userClass: 0x0030 }).receive('bob', 'I am away', 'ascii', 'x', [tlv(0x0004, '')]);
  const r = run(c.parts);
  t.same(r.events.filter((e) => e.event === 'presence').map((e) => e.detail), ['away']);
  t.same(r.messages.map((m) => m.kind), ['auto']);
});

t.test('MD5 login: name, auth md5, login; never the hash', async (t) => {
  const r = run(new Oscar().md5Login('Alice Smith').parts);
  t.same(r.accounts.map((a) => [a.account, a.auth]).at(-1), ['Alice Smith', 'md5']);
  t.same(r.events.map((e) => e.event), ['login']);
  const refused = run(new Oscar().md5Login('Alice Smith', 5).parts);
  t.same(refused.events.map((e) => [e.event, e.detail]), [['login_failed', 'error 0x0005']]);
  const json = JSON.stringify(strip(r));
  t.notOk(json.includes('aaaaaaaa'), 'the MD5 hash is nowhere');
});

t.test('old login with a roasted password, answered on channel 4', async (t) => {
  const r = run(new Oscar().roastedLogin('1234567').parts);
  t.equal(r.app, 'icq');
  t.same(r.accounts.map((a) => [a.account, a.auth]).at(-1), ['1234567', 'roasted_password']);
  t.same(r.events.map((e) => e.event), ['login']);
  t.notOk(JSON.stringify(strip(r)).includes('f32681c4'));
});

t.test('SSI buddy list over two SNACs, groups after their buddies; adds and deletes', async (t) => {
  const c = new Oscar()
    .bosLogin('alice0')
    .ssi([
      [
        ['bob', 1, 11, 0],
        ['carol', 2, 12, 0, tlv(0x0066, '')],
      ],
      [
        ['Friends', 1, 0, 1],
        ['Work', 2, 0, 1],
        ['', 0, 0, 1],
        ['mallory', 0, 13, 3],
        ['settings', 0, 14, 5],
      ],
    ])
    .snac(0, 0x13, 0x08, Buffer.concat([u16b(4), Buffer.from('dave'), u16b(2), u16b(15), u16b(0), u16b(0)]))
    .snac(0, 0x13, 0x0a, Buffer.concat([u16b(3), Buffer.from('bob'), u16b(1), u16b(11), u16b(0), u16b(0)]));
  const r = run(c.parts);
  t.same(r.anomalies, []);
  t.same(r.contacts.map((x) => [x.account, x.contact, x.group_name, x.state]), [
    ['alice0', 'bob', 'Friends', null],
    ['alice0', 'carol', 'Work', 'awaiting_auth'],
    ['alice0', 'mallory', null, 'deny'],
    ['alice0', 'dave', 'Work', null],
  ]);
  t.same(r.events.filter((e) => e.event === 'contact_removed').map((e) => [e.target, e.detail]), [['bob', 'Friends']]);
});

t.test('contacts before the own name is known wait for it', async (t) => {
  const c = new Oscar();
  c.frame(1, 1, u32b(1)).frame(0, 1, u32b(1)).ssi([[['bob', 1, 1, 0], ['G', 1, 0, 1]]]).snac(1, 1, 0x0f, Buffer.concat([Buffer.from([5]), Buffer.from('alice'), u16b(0), u16b(0)]));
  const r = run(c.parts);
  t.same(r.contacts.map((x) => [x.account, x.contact, x.group_name]), [['alice', 'bob', 'G']]);
});

t.test('rendezvous file offers: direct (expected at both addresses and the client), proxy (noted), redirect, cancel', async (t) => {
  const c = new Oscar()
    .bosLogin('alice0')
    .fileOffer(0, 'bob', { cookie: 'ck000001', ip: '10.0.0.5', port: 5190 + 10, filename: 'notes.txt', size: 1234 })
    .fileOffer(1, 'bob', { cookie: 'ck000002', ip: '10.9.9.9', verifiedIp: '203.0.113.9', port: 4443, filename: 'pic.png', size: 99, files: 1 })
    .fileOffer(1, 'bob', { cookie: 'ck000003', proxy: '64.12.2.2', port: 5190, filename: 'p.bin', size: 5 })
    .fileOffer(1, 'bob', { cookie: 'ck000001', ip: '10.9.9.9', verifiedIp: '203.0.113.9', port: 5555, reqNum: 2 });
  const r = run(c.parts);
  t.same(r.anomalies, []);
  t.same(r.events.filter((e) => e.event === 'file_offer').map((e) => [e.account, e.target, e.detail]), [
    ['alice0', 'bob', '"notes.txt" (1234 bytes) 10.0.0.5:5200, cookie 636b303030303031'],
    ['bob', 'alice0', '"pic.png" (99 bytes) 203.0.113.9:4443, cookie 636b303030303032'],
    ['bob', 'alice0', '"p.bin" (5 bytes) via proxy 64.12.2.2:5190, cookie 636b303030303033'],
    ['bob', 'alice0', '"notes.txt" (1234 bytes) 203.0.113.9:5555, request 2, cookie 636b303030303031'],
  ]);
  t.same(r.expects.map((x) => [x.host, x.port, x.analyzer, (x.context as { filename: string }).filename, (x.context as { sender: string }).sender]), [
    ['10.0.0.5', 5200, 'oscar-oft', 'notes.txt', 'alice0'],
    [CLIENT, 5200, 'oscar-oft', 'notes.txt', 'alice0'],
    ['203.0.113.9', 4443, 'oscar-oft', 'pic.png', 'bob'],
    ['10.9.9.9', 4443, 'oscar-oft', 'pic.png', 'bob'],
    ['203.0.113.9', 5555, 'oscar-oft', 'notes.txt', 'alice0'],
    ['10.9.9.9', 5555, 'oscar-oft', 'notes.txt', 'alice0'],
  ]);
  t.same(r.messages, [], 'offers are not messages');
});

t.test('offers remembered are bounded', async (t) => {
  const c = new Oscar().bosLogin('alice0');
  for (let i = 0; i < 5; i++) c.fileOffer(0, 'bob', { cookie: `ck${i}`, ip: '10.0.0.5', port: 6000 + i, filename: `f${i}`, size: i });
  const r = run(c.parts, Infinity, { maxOffers: 3 });
  t.same(r.anomalies.map((a) => a.code), ['oscar_offers_exceeded', 'oscar_offers_exceeded']);
});

t.test('TOC: sign-on (no password kept), IMs both ways, buddies, presence, typing', async (t) => {
  const c = new Toc()
    .signon('alicetoc')
    .cmd('toc_add_buddy bob carol')
    .cmd('toc_send_im bob "hi \\"bob\\" <B>there</B>"')
    .line('IM_IN:bob:F:<HTML>yo: what</HTML>')
    .line('IM_IN2:carol:T:F:away now')
    .line('UPDATE_BUDDY:bob:T:0:1700000000:0: OU')
    .line('UPDATE_BUDDY:carol:F:0:0:0:   ')
    .line('CONFIG2:m:1\ng:Buddies\nb:bob\nb:carol:Carol C\nd:eve\ndone:\n')
    .line('CLIENT_EVENT2:bob:2')
    .line('IM_IN');
  const r = run(c.parts);
  t.equal(r.confirmed, 1);
  t.equal(r.app, 'aim');
  t.same(r.accounts.map((a) => [a.account, a.auth]).at(-1), ['alicetoc', 'roasted_password']);
  t.notOk(JSON.stringify(strip(r)).includes('0x2408105c23001130'), 'the roasted password is nowhere');
  t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.body_format, m.kind, m.dir]), [
    ['alicetoc', 'bob', 'hi "bob" there', 'html', 'im', 0],
    ['bob', 'alicetoc', 'yo: what', 'html', 'im', 1],
    ['carol', 'alicetoc', 'away now', 'text', 'auto', 1],
  ]);
  t.same(r.contacts.map((x) => [x.contact, x.group_name, x.state]), [
    ['bob', null, null],
    ['carol', null, null],
    ['bob', 'Buddies', null],
    ['carol', 'Buddies', null],
    ['eve', null, 'deny'],
  ]);
  t.same(r.events.map((e) => [e.account, e.event, e.detail]), [
    ['alicetoc', 'login', 'roasted_password'],
    ['bob', 'presence', 'away'],
    ['carol', 'presence', 'offline'],
    ['bob', 'typing', 'begun'],
  ]);
  t.same(r.anomalies.map((a) => a.code), ['oscar_toc_malformed']);
});

t.test('a gap: framing resynchronises on two chained frames; nothing before it is invented', async (t) => {
  const c = new Oscar().bosLogin('alice0');
  const before = c.parts.length;
  c.send('bob', 'lost').send('bob', 'one').send('bob', 'two');
  const parts: [Dir, Uint8Array | { gap: number }][] = [...c.parts.slice(0, before)];
  const lost = c.parts[before]![1];
  // The lost frame's tail arrives after the gap: garbage to the parser.
  parts.push([0, { gap: 10 }], [0, lost.subarray(10)], c.parts[before + 1]!, c.parts[before + 2]!);
  for (const chunk of [Infinity, 1, 7]) {
    const r = run(parts, chunk);
    t.same(r.messages.map((m) => m.body), ['one', 'two'], `chunk ${chunk}`);
    t.same(r.anomalies, []);
  }
});

t.test('not OSCAR before confirmation: rejected; after: anomalies, then a violation', async (t) => {
  const r = run([[1, flap(1, 1, u32b(1))], [0, 'GET / HTTP/1.1\r\n\r\n']]);
  t.match(r.rejected, /not a FLAP frame \(0x47\)/);
  const ok = new Oscar().bosLogin('alice0').parts;
  const r2 = run([...ok, [1, Buffer.from('garbage!garbage!')], ...new Oscar([9000, 9000]).receive('bob', 'after').receive('bob', 'again').parts]);
  t.equal(r2.rejected, null);
  t.same(r2.anomalies.map((a) => a.code), ['oscar_bad_flap']);
  t.same(r2.messages.map((m) => m.body), ['after', 'again']);
  const many: [Dir, Uint8Array][] = [...ok];
  for (let i = 0; i < 5; i++) many.push([1, Buffer.from('xxxxxxxxxxxx')], ...(new Oscar([i * 10, i * 10]).receive('bob', `m${i}`).receive('bob', 'n').parts as [Dir, Uint8Array][]));
  const r3 = run(many, Infinity, { maxInvalidFrames: 2 });
  t.match(r3.rejected, /3 invalid FLAP headers exceed 2/);
});

t.test('over-long frames are skipped with an anomaly, whatever the chunking', async (t) => {
  const c = new Oscar().bosLogin('alice0').send('bob', 'x'.repeat(3000)).send('bob', 'short');
  for (const chunk of [Infinity, 1, 100]) {
    const r = run(c.parts, chunk, { maxFlapBytes: 1000 });
    t.same(r.messages.map((m) => m.body), ['short']);
    t.same(r.anomalies.map((a) => a.code), ['oscar_flap_size_exceeded']);
  }
});

t.test('malformed SNACs are anomalies, not crashes', async (t) => {
  const c = new Oscar().bosLogin('alice0');
  c.snac(0, 4, 6, Buffer.from([1, 2, 3]));
  c.snac(1, 4, 7, Buffer.concat([Buffer.alloc(8), u16b(1), Buffer.from([40]), Buffer.from('short')]));
  c.snac(1, 4, 7, Buffer.concat([Buffer.alloc(8), u16b(1), Buffer.from([3]), Buffer.from('bob'), u16b(0), u16b(0), tlv(2, Buffer.from([1, 1, 0, 2, 0, 0]))]));
  c.snac(1, 4, 7, Buffer.concat([Buffer.alloc(8), u16b(1), Buffer.from([3]), Buffer.from('bob'), u16b(0), u16b(0), tlv(2, Buffer.from([1, 1, 0, 6, 0, 9, 0, 0, 0x41, 0x42]))]));
  c.frame(1, 2, Buffer.from([0, 1]));
  const r = run(c.parts);
  t.same(r.anomalies.map((a) => a.code), ['oscar_snac_malformed', 'oscar_snac_malformed', 'oscar_message_malformed', 'oscar_charset_unknown', 'oscar_snac_malformed']);
  t.same(r.messages.map((m) => [m.body, Buffer.from(m.body_raw!).toString('hex')]), [['AB', '4142']]);
});

t.test('text: charsets and HTML', async (t) => {
  const b = (s: string, enc: BufferEncoding) => Buffer.from(s, enc);
  t.same(messageBody(b('plain', 'latin1'), 0, 5, 0), { body: 'plain', body_format: 'text', body_raw: null });
  const inv = messageBody(b('caf\u00e9', 'latin1'), 0, 4, 0);
  t.same([inv.body, Buffer.from(inv.body_raw!).toString('hex')], ['café', '636166e9'], 'ASCII with a high byte that is not UTF-8');
  t.equal(messageBody(b('café', 'utf8'), 0, 5, 0).body, 'café', 'UTF-8 under charset 0');
  const odd = messageBody(Buffer.from([0, 0x41, 0]), 0, 3, 2);
  t.ok(odd.body_raw !== null, 'odd-length UCS-2 keeps its bytes');
  t.equal(stripHtml('<HTML><BODY BGCOLOR="#ffffff">a&amp;b&lt;c&gt; &#233;&#x263A;<BR>next&nbsp;<!-- x --></BODY></HTML>'), 'a&b<c> é☺\nnext\u00a0');
  t.equal(stripHtml('&bogus; &#xD800;'), '&bogus; &#xD800;');
});

t.test('1-byte chunks give the same records as whole frames', async (t) => {
  const conv = new Oscar().bosLogin('alice0').ssi([[['bob', 1, 1, 0], ['G', 1, 0, 1]]]).send('bob', '<b>x</b>').receive('bob', 'ü', 'ucs2').typing(1, 'bob', 1).fileOffer(0, 'bob', { cookie: 'k', ip: '10.0.0.5', port: 7000, filename: 'f', size: 3 });
  const toc = new Toc().signon('u').cmd('toc_send_im bob hi').line('IM_IN:bob:F:yo');
  for (const parts of [conv.parts, toc.parts]) t.same(strip(run(parts, 1)), strip(run(parts)));
});

t.test('fuzz: mutated conversations give only declared anomalies and never throw; the session still reads valid frames after', async (t) => {
  const base = new Oscar().bosLogin('alice0').ssi([[['bob', 1, 1, 0], ['G', 1, 0, 1]]]).send('bob', 'hello').receive('bob', 'hi', 'ucs2').typing(0, 'bob', 2).fileOffer(1, 'bob', { cookie: 'k', ip: '10.0.0.5', port: 7000, filename: 'f', size: 3 }).arrived('bob');
  const declared = new Set(Object.keys(oscar.anomalies));
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const parts = base.parts.map(([d, p]) => [d, Buffer.from(p)] as [Dir, Buffer]);
    for (let k = 0; k < 1 + rnd(4); k++) {
      const part = parts[rnd(parts.length)]![1];
      part[rnd(part.length)] = rnd(256);
    }
    const chunk = [Infinity, 1, 3, 17][rnd(4)]!;
    let r: Recorded | null = null;
    t.doesNotThrow(() => (r = run(parts, chunk)));
    for (const a of r!.anomalies) if (!declared.has(a.code)) t.fail(`undeclared ${a.code}`);
    if (chunk !== Infinity) t.same(strip(r!), strip(run(parts)), `round ${round}: chunking changes nothing`);
  }
});

t.test('descriptor', async (t) => {
  const { rec } = startSession(oscar);
  t.equal(rec.confirmed, null);
  t.equal(oscar.id, 'oscar');
});
