// The XMPP session driven directly with conversations written after the examples of RFC 6120 (login, SASL PLAIN,
// binding), RFC 6121 (roster, presence, messages), XEP-0045 (MUC), XEP-0054 (vCard), XEP-0078 (legacy auth),
// XEP-0085 (chat states), XEP-0220 (dialback), XEP-0280 (carbons): what rows come out, and that re-cutting the bytes
// changes nothing.
import t from 'tap';
import type { Dir } from '../../src/decoders/im/types.js';
import { xmpp } from '../../src/decoders/im/xmpp/index.js';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';

const STREAM = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const PASSWORD = 'r0m30myr0m30';
const PLAIN = Buffer.from(`\u0000juliet\u0000${PASSWORD}`).toString('base64');

/** A c2s session of juliet@im.example.com: SASL PLAIN, binding, roster, vCard, presence, chat, MUC, headline… */
export const LOGIN: [Dir, string][] = [
  [0, `<?xml version='1.0'?><stream:stream from='juliet@im.example.com' to='im.example.com' version='1.0' xml:lang='en' ${STREAM}>`],
  [1, `<?xml version='1.0'?><stream:stream from='im.example.com' id='t7AMCin9zjMNwQKDnplntZPIDEI=' to='juliet@im.example.com' version='1.0' xml:lang='en' ${STREAM}>`],
  [1, `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`],
  [0, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${PLAIN}</auth>`],
  [1, `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`],
  // Stream restart after SASL (RFC 6120 §6.4.6): new headers, the old root is never closed.
  [0, `<?xml version='1.0'?><stream:stream from='juliet@im.example.com' to='im.example.com' version='1.0' xml:lang='en' ${STREAM}>`],
  [1, `<?xml version='1.0'?><stream:stream from='im.example.com' id='gPybzaOzBmaADgxKXu9UClbprp0=' to='juliet@im.example.com' version='1.0' xml:lang='en' ${STREAM}><stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`],
  [0, `<iq id='yhc13a95' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>`],
  [1, `<iq id='yhc13a95' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>`],
];

const CHAT: [Dir, string][] = [
  [0, `<iq from='juliet@im.example.com/balcony' id='bv1bs71f' type='get'><query xmlns='jabber:iq:roster'/></iq>`],
  [
    1,
    `<iq id='bv1bs71f' to='juliet@im.example.com/balcony' type='result'>
  <query xmlns='jabber:iq:roster' ver='ver11'>
    <item jid='romeo@example.net' name='Romeo' subscription='both'><group>Friends</group></item>
    <item jid='mercutio@example.com' name='Mercutio' subscription='from'/>
    <item jid='benvolio@example.net' name='Benvolio' subscription='both'><group>Friends</group><group>Verona</group></item>
  </query>
</iq>`,
  ],
  [0, `<presence><show>chat</show></presence>`],
  [0, `<iq id='v1' type='get'><vCard xmlns='vcard-temp'/></iq>`],
  [1, `<iq id='v1' to='juliet@im.example.com/balcony' type='result'><vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><NICKNAME>Jule</NICKNAME><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBORw0KGgo=</BINVAL></PHOTO></vCard></iq>`],
  [1, `<presence from='romeo@example.net/orchard' to='juliet@im.example.com/balcony' xml:lang='en'><show>away</show><status>In the orchard</status></presence>`],
  [1, `<presence from='romeo@example.net' to='juliet@im.example.com' type='subscribe'/>`],
  // Entities, character references and raw UTF-8 in a body; the thread is kept.
  [1, `<message from='romeo@example.net/orchard' id='ktx72v49' to='juliet@im.example.com/balcony' type='chat' xml:lang='en'><body>Neither, fair saint, if either thee dislike &amp; &lt;3 &#x263A; &#233;t&#xE9; — ça va? 日本語</body><thread>e0ffe42b28561960c6b12b944a092794b9683a38</thread></message>`],
  // Sent by the client: no from (the server stamps it); a chat state beside the body does not matter.
  [0, `<message to='romeo@example.net' type='chat' id='m2'><body>Wherefore art thou, Romeo?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`],
  // A chat state alone is no message.
  [1, `<message from='romeo@example.net/orchard' to='juliet@im.example.com/balcony' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`],
  // MUC: join, the subject, a groupchat message, leave.
  [0, `<presence to='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc'/></presence>`],
  [1, `<presence from='coven@chat.shakespeare.lit/firstwitch' to='juliet@im.example.com/balcony'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/></x></presence>`],
  [1, `<message from='coven@chat.shakespeare.lit/secondwitch' id='F437C672' to='juliet@im.example.com/balcony' type='groupchat'><subject>Fire Burn and Cauldron Bubble!</subject></message>`],
  [1, `<message from='coven@chat.shakespeare.lit/secondwitch' id='162BEBB1' to='juliet@im.example.com/balcony' type='groupchat'><body>Thrice the brinded cat hath mew'd.</body></message>`],
  [0, `<presence to='coven@chat.shakespeare.lit/thirdwitch' type='unavailable'/>`],
  // A headline, a normal message (no type), an XHTML-IM-only body, a carbon copy, an error (ignored).
  [1, `<message from='pubsub.shakespeare.lit' to='juliet@im.example.com' type='headline'><subject>Verona news</subject><body>The Prince has spoken.</body></message>`],
  [1, `<message from='nurse@im.example.com/kitchen' to='juliet@im.example.com'><subject>Lady</subject><body>Your mother calls.</body></message>`],
  [1, `<message from='romeo@example.net/orchard' to='juliet@im.example.com/balcony' type='chat'><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>Soft! <em>what light</em> through yonder window breaks?</p></body></html></message>`],
  [1, `<message from='juliet@im.example.com' to='juliet@im.example.com/balcony' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='romeo@example.net/garden' to='juliet@im.example.com/chamber' type='chat'><body>Good night, good night!</body></message></forwarded></received></message>`],
  [1, `<message from='romeo@example.net' to='juliet@im.example.com/balcony' type='error'><body>lost</body><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`],
  [0, `</stream:stream>`],
  [1, `</stream:stream>`],
];

/** The recording without timestamps (they depend on how the bytes were cut). */
function strip(rec: Recorded): unknown {
  const noTs = <T extends { ts: unknown }>(rows: T[]): Omit<T, 'ts'>[] => rows.map(({ ts: _ts, ...r }) => r);
  return {
    ...rec,
    accounts: noTs(rec.accounts),
    messages: noTs(rec.messages),
    transfers: noTs(rec.transfers),
    contacts: noTs(rec.contacts),
    events: noTs(rec.events),
    anomalies: noTs(rec.anomalies),
    expects: noTs(rec.expects),
    files: [...rec.files.entries()].map(([k, v]) => [k, v.toString('hex')]),
  };
}

function run(parts: [Dir, string][], chunk = Infinity): Recorded {
  const { session, rec } = startSession(xmpp, { serverPort: 5222 });
  feed(session, parts, chunk);
  return rec;
}

t.test('c2s login: SASL PLAIN, binding, account, no password kept', async (t) => {
  const rec = run(LOGIN);
  t.equal(rec.confirmed, 1);
  t.equal(rec.serverName, 'im.example.com');
  t.same(rec.anomalies, []);
  t.same(
    rec.accounts.map(({ ts: _ts, ...a }) => a),
    [{ account: 'juliet@im.example.com', display_name: null, server: 'im.example.com', login: 'juliet', auth: 'sasl_plain', side: 0 }],
  );
  t.same(rec.events.map((e) => [e.event, e.account, e.detail]), [['login', 'juliet@im.example.com', 'PLAIN']]);
  const all = JSON.stringify(strip(rec));
  t.notOk(all.includes(PASSWORD) || all.includes(PLAIN), 'neither the password nor the SASL payload is in any row');
});

t.test('roster, vCard, presence, messages, MUC, headline, carbons', async (t) => {
  const rec = run([...LOGIN, ...CHAT]);
  t.same(rec.anomalies, []);
  t.equal(rec.rejected, null);
  t.same(
    rec.contacts.map((c) => [c.account, c.contact, c.group_name, c.state]),
    [
      ['juliet@im.example.com', 'romeo@example.net', 'Friends', 'both'],
      ['juliet@im.example.com', 'mercutio@example.com', null, 'from'],
      ['juliet@im.example.com', 'benvolio@example.net', 'Friends', 'both'],
      ['juliet@im.example.com', 'benvolio@example.net', 'Verona', 'both'],
    ],
  );
  // The vCard's full name arrives after the account row: a second row carries it.
  t.same(
    rec.accounts.map((a) => [a.account, a.display_name]),
    [
      ['juliet@im.example.com', null],
      ['juliet@im.example.com', 'Juliet Capulet'],
    ],
  );
  const bound = 'juliet@im.example.com/balcony';
  t.same(
    rec.messages.map(({ ts: _ts, ...m }) => m),
    [
      {
        sender: 'romeo@example.net/orchard',
        recipient: bound,
        body: 'Neither, fair saint, if either thee dislike & <3 \u263a été — ça va? 日本語',
        body_format: 'text',
        body_raw: null,
        kind: 'chat',
        subject: null,
        thread: 'e0ffe42b28561960c6b12b944a092794b9683a38',
        dir: 1,
      },
      { sender: bound, recipient: 'romeo@example.net', body: 'Wherefore art thou, Romeo?', body_format: 'text', body_raw: null, kind: 'chat', subject: null, thread: null, dir: 0 },
      { sender: 'coven@chat.shakespeare.lit/secondwitch', recipient: bound, body: "Thrice the brinded cat hath mew'd.", body_format: 'text', body_raw: null, kind: 'groupchat', subject: null, thread: null, dir: 1 },
      { sender: 'pubsub.shakespeare.lit', recipient: 'juliet@im.example.com', body: 'The Prince has spoken.', body_format: 'text', body_raw: null, kind: 'headline', subject: 'Verona news', thread: null, dir: 1 },
      { sender: 'nurse@im.example.com/kitchen', recipient: 'juliet@im.example.com', body: 'Your mother calls.', body_format: 'text', body_raw: null, kind: 'normal', subject: 'Lady', thread: null, dir: 1 },
      { sender: 'romeo@example.net/orchard', recipient: bound, body: '<p>Soft! <em>what light</em> through yonder window breaks?</p>', body_format: 'xhtml', kind: 'chat', subject: null, thread: null, dir: 1 },
      { sender: 'romeo@example.net/garden', recipient: 'juliet@im.example.com/chamber', body: 'Good night, good night!', body_format: 'text', body_raw: null, kind: 'chat', subject: null, thread: null, dir: 1 },
    ],
  );
  t.same(
    rec.events.map((e) => [e.event, e.account, e.target ?? null, e.detail ?? null, e.dir]),
    [
      ['login', 'juliet@im.example.com', null, 'PLAIN', 1],
      ['presence', bound, null, 'chat', 0],
      ['presence', 'romeo@example.net/orchard', bound, 'away: In the orchard', 1],
      ['subscribe', 'romeo@example.net', 'juliet@im.example.com', null, 1],
      ['chatstate', 'romeo@example.net/orchard', bound, 'composing', 1],
      ['join', 'juliet@im.example.com', 'coven@chat.shakespeare.lit', 'thirdwitch', 0],
      ['presence', 'coven@chat.shakespeare.lit/firstwitch', 'coven@chat.shakespeare.lit', 'available', 1],
      ['topic', 'coven@chat.shakespeare.lit/secondwitch', 'coven@chat.shakespeare.lit', 'Fire Burn and Cauldron Bubble!', 1],
      ['part', 'juliet@im.example.com', 'coven@chat.shakespeare.lit', null, 0],
    ],
  );
});

t.test('re-segmentation: 1-byte, odd and random chunks give identical recordings', async (t) => {
  const parts = [...LOGIN, ...CHAT];
  const whole = strip(run(parts));
  for (const chunk of [1, 2, 3, 7, 64, 1000]) t.same(strip(run(parts, chunk)), whole, `chunks of ${chunk}`);
  // Random cut points: the same bytes, re-cut into parts of 1 to 40 bytes.
  let seed = 12345;
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
  for (let round = 0; round < 5; round++) {
    const cut: [Dir, string][] = [];
    for (const [d, s] of parts) {
      const b = Buffer.from(s);
      for (let i = 0; i < b.length; ) {
        const n = 1 + rnd(40);
        cut.push([d, b.subarray(i, i + n).toString('latin1')]);
        i += n;
      }
    }
    // latin1 round trip of arbitrary byte cuts: feed the bytes back as they were.
    const { session, rec } = startSession(xmpp, { serverPort: 5222 });
    feed(session, cut.map(([d, s]) => [d, Buffer.from(s, 'latin1')]));
    t.same(strip(rec), whole, `random cuts, round ${round}`);
  }
});

t.test('SCRAM and DIGEST-MD5 name the user; failure is an event, not an account', async (t) => {
  const scram = Buffer.from('n,,n=juliet,r=fyko+d2lbbFgONRv9qkxdawL').toString('base64');
  const rec = run([LOGIN[0]!, LOGIN[1]!, [0, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${scram}</auth>`], [1, `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>`]]);
  t.same(rec.accounts, []);
  t.same(rec.events.map((e) => [e.event, e.account, e.detail]), [['login_failed', 'juliet@im.example.com', 'SCRAM-SHA-1 not-authorized']]);

  const digest = Buffer.from('username="romeo",realm="example.net",nonce="OA6MG9tEQGm2hh",cnonce="OA6MHXh6VqTrRk",nc=00000001,qop=auth,digest-uri="xmpp/example.net",response=d388dad90d4bbd760a152321f2143af7,charset=utf-8').toString('base64');
  const rec2 = run([
    [0, `<stream:stream to='example.net' version='1.0' ${STREAM}>`],
    [1, `<stream:stream from='example.net' id='x' version='1.0' ${STREAM}>`],
    [0, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='DIGEST-MD5'/>`],
    [1, `<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cmVhbG09ImV4YW1wbGUubmV0Iixub25jZT0iT0E2TUc5dEVRR20yaGgi</challenge>`],
    [0, `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${digest}</response>`],
    [1, `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`],
  ]);
  t.same(rec2.accounts.map((a) => [a.account, a.login, a.auth]), [['romeo@example.net', 'romeo', 'sasl_digest_md5']], 'an authenticated client never bound is reported at the end');
  t.notOk(JSON.stringify(strip(rec2)).includes('d388dad9'), 'the digest response is not kept');
});

t.test('legacy jabber:iq:auth (XEP-0078): username and resource, password never kept', async (t) => {
  const rec = run([
    [0, `<?xml version='1.0'?><stream:stream to='shakespeare.lit' ${STREAM}>`],
    [1, `<?xml version='1.0'?><stream:stream from='shakespeare.lit' id='3EE948B0' ${STREAM}>`],
    [0, `<iq type='set' id='auth2'><query xmlns='jabber:iq:auth'><username>bill</username><password>Calli0pe</password><resource>globe</resource></query></iq>`],
    [1, `<iq type='result' id='auth2'/>`],
    [0, `<message to='hamlet@denmark.lit' type='chat'><body>To be</body></message>`],
  ]);
  t.equal(rec.confirmed, 1, 'pre-1.0 streams (no version) are XMPP too');
  t.same(rec.accounts.map((a) => [a.account, a.login, a.auth]), [['bill@shakespeare.lit', 'bill', 'password']]);
  t.same(rec.messages.map((m) => [m.sender, m.recipient, m.body]), [['bill@shakespeare.lit/globe', 'hamlet@denmark.lit', 'To be']]);
  t.notOk(JSON.stringify(strip(rec)).includes('Calli0pe'));
});

t.test('STARTTLS: <proceed/> ends parsing; without it, the ClientHello does', async (t) => {
  const hello = Buffer.from('16030100f1010000ed0303', 'hex');
  const head: [Dir, string][] = [
    [0, `<stream:stream to='im.example.com' version='1.0' ${STREAM}>`],
    [1, `<stream:stream from='im.example.com' id='1' version='1.0' ${STREAM}><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`],
    [0, `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`],
  ];
  const a = startSession(xmpp);
  feed(a.session, [...head, [1, `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`], [0, hello], [1, '<message><body>never parsed</body></message>']]);
  t.same([a.rec.encrypted, a.rec.serverName, a.rec.anomalies.length, a.rec.messages.length], ['starttls', 'im.example.com', 0, 0]);
  // The server's answer lost: the ClientHello right after <starttls/> in the same bytes.
  const b = startSession(xmpp);
  feed(b.session, [head[0]!, head[1]!, [0, Buffer.concat([Buffer.from(head[2]![1]), hello])]], 1);
  t.same([b.rec.encrypted, b.rec.anomalies.length], ['starttls', 0]);
});

t.test('s2s with dialback (XEP-0220): domains, verdict, stanzas; the key is not kept', async (t) => {
  const key = '37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643';
  const rec = run([
    [0, `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' xmlns:db='jabber:server:dialback' from='capulet.example' to='montague.example' version='1.0'>`],
    [1, `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' xmlns:db='jabber:server:dialback' from='montague.example' id='D60000229F' to='capulet.example' version='1.0'><stream:features><dialback xmlns='urn:xmpp:features:dialback'/></stream:features>`],
    [0, `<db:result from='capulet.example' to='montague.example'>${key}</db:result>`],
    [1, `<db:result from='montague.example' to='capulet.example' type='valid'/>`],
    [0, `<message from='juliet@capulet.example/balcony' to='romeo@montague.example' type='chat'><body>Art thou not Romeo?</body></message>`],
  ]);
  t.equal(rec.serverName, 'montague.example');
  t.same(
    rec.accounts.map((a) => [a.account, a.side, a.auth ?? null]),
    [
      ['capulet.example', 0, 'dialback'],
      ['montague.example', 1, null],
    ],
  );
  t.same(rec.events.map((e) => [e.event, e.account, e.target, e.detail]), [
    ['dialback', 'capulet.example', 'montague.example', 'request'],
    ['dialback', 'capulet.example', 'montague.example', 'valid'],
  ]);
  t.same(rec.messages.map((m) => [m.sender, m.recipient, m.body, m.dir]), [['juliet@capulet.example/balcony', 'romeo@montague.example', 'Art thou not Romeo?', 0]]);
  t.notOk(JSON.stringify(strip(rec)).includes(key));
});

t.test('picked up mid-stream: stanzas without a stream header', async (t) => {
  const rec = run([
    [0, `<message to='romeo@example.net' type='chat' id='a1'><body>still there?</body></message>`],
    [1, `<message from='romeo@example.net/orchard' to='juliet@im.example.com/balcony' type='chat'><body>yes</body></message>`],
    [0, `</stream:stream>`],
  ]);
  t.equal(rec.confirmed, 0.9);
  t.same(rec.anomalies, []);
  t.same(rec.messages.map((m) => [m.sender, m.recipient, m.body]), [
    [null, 'romeo@example.net', 'still there?'],
    ['romeo@example.net/orchard', 'juliet@im.example.com/balcony', 'yes'],
  ]);
});

t.test('not XMPP: a server answering HTTP is rejected before confirmation', async (t) => {
  const rec = run([
    [0, `<stream:stream to='im.example.com' version='1.0' ${STREAM}>`],
    [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'],
  ]);
  t.equal(rec.confirmed, null);
  t.match(rec.rejected, /non-XML text .* from the server/);
});

t.test('a gap inside a stanza: that stanza is lost quietly, the next one is read', async (t) => {
  const { session, rec } = startSession(xmpp);
  const send = (dir: Dir, s: string): number => {
    const b = Buffer.from(s);
    return session.onData(dir, b, 0, b.length, [1_700_000_100, 0]);
  };
  send(0, LOGIN[0]![1]);
  send(1, LOGIN[1]![1]);
  send(1, `<message from='romeo@example.net/orchard' type='chat'><body>lost in the`);
  session.onGap(1, 1200, [1_700_000_101, 0]);
  send(1, ` middle of it</body></message><message from='romeo@example.net/orchard' type='chat'><body>found</body></message>`);
  session.finish([1_700_000_102, 0]);
  t.same(rec.anomalies, []);
  t.same(rec.messages.map((m) => m.body), ['found']);
});

t.test('a stream header with a foreign namespace is no evidence', async (t) => {
  const rec = run([
    [0, `<stream:stream xmlns='urn:example:other' xmlns:stream='http://etherx.jabber.org/streams'>`],
    [1, `<stream:stream from='im.example.com' id='1' ${STREAM}>`],
  ]);
  t.equal(rec.confirmed, null);
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_bad_stream_header']);
});
