// Hostile input with a strict oracle: random bytes, XML-looking soup and mutations of a valid conversation, cut at
// random points, must never throw or hang, may only report anomaly codes the descriptors declare, must never leave
// more than a bounded tail unconsumed; and a valid conversation afterwards still gives exactly the rows it gives
// alone. Plus the classic attacks: entity expansion (billion laughs), an endless tag, an oversized stanza, deep
// nesting, an anomaly flood.
import { createHash } from 'node:crypto';
import t from 'tap';
import type { Dir, ImProtocol, ImSession } from '../../src/decoders/im/types.js';
import { xmpp, xmppS5b } from '../../src/decoders/im/xmpp/index.js';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';

const STREAM = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const FILE = Buffer.from('Two households, both alike in dignity, in fair Verona, where we lay our scene.\n'.repeat(20));

const VALID: [Dir, string][] = [
  [0, `<?xml version='1.0'?><stream:stream to='im.example.com' version='1.0' ${STREAM}>`],
  [1, `<?xml version='1.0'?><stream:stream from='im.example.com' id='s1' version='1.0' ${STREAM}><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`],
  [0, `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from('\0juliet\0secret').toString('base64')}</auth>`],
  [1, `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`],
  [0, `<stream:stream to='im.example.com' version='1.0' ${STREAM}><iq id='b' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`],
  [1, `<stream:stream from='im.example.com' id='s2' version='1.0' ${STREAM}><iq id='b' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>`],
  [1, `<iq id='r' type='result'><query xmlns='jabber:iq:roster'><item jid='romeo@example.net' subscription='both'><group>Friends</group></item></query></iq>`],
  [1, `<message from='romeo@example.net/orchard' type='chat'><body>O, speak again, bright angel! &amp; &#x2764; ünïcødé</body></message>`],
  [0, `<message to='romeo@example.net' type='chat'><body>Wherefore art thou?</body></message>`],
  [0, `<presence to='coven@chat.shakespeare.lit/thirdwitch'><x xmlns='http://jabber.org/protocol/muc'/></presence>`],
  [0, `<iq type='set' id='o' to='romeo@example.net/orchard'><open xmlns='http://jabber.org/protocol/ibb' block-size='512' sid='s' stanza='iq'/></iq>`],
  ...Array.from({ length: Math.ceil(FILE.length / 512) }, (_, i): [Dir, string] => [0, `<iq type='set' id='d${i}' to='romeo@example.net/orchard'><data xmlns='http://jabber.org/protocol/ibb' seq='${i}' sid='s'>${FILE.subarray(i * 512, (i + 1) * 512).toString('base64')}</data></iq>`]),
  [0, `<iq type='set' id='c' to='romeo@example.net/orchard'><close xmlns='http://jabber.org/protocol/ibb' sid='s'/></iq>`],
  [0, `</stream:stream>`],
];

function strip(rec: Recorded): unknown {
  const noTs = <T extends { ts: unknown }>(rows: T[]): Omit<T, 'ts'>[] => rows.map(({ ts: _ts, ...r }) => r);
  return [noTs(rec.accounts), noTs(rec.messages), noTs(rec.transfers), noTs(rec.contacts), noTs(rec.events), noTs(rec.anomalies), rec.confirmed, rec.serverName, rec.encrypted, rec.rejected];
}

function runValid(): Recorded {
  const { session, rec } = startSession(xmpp);
  feed(session, VALID);
  return rec;
}

let seed = 0x5eed;
const rnd = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const randomBytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => rnd(256)));

/**
 * Feed parts in random pieces of 1 to maxPiece bytes (whole parts when maxPiece is Infinity), keeping unconsumed
 * bytes; returns the largest tail the session left unconsumed.
 */
function drive(session: ImSession, parts: [Dir, Buffer][], maxPiece: number): number {
  const carry: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  let held = 0;
  let i = 0;
  for (const [dir, bytes] of parts) {
    for (let at = 0; at < bytes.length; ) {
      const n = maxPiece === Infinity ? bytes.length : 1 + rnd(maxPiece);
      const data = Buffer.concat([carry[dir], bytes.subarray(at, at + n)]);
      at += n;
      const used = session.onData(dir, data, 0, data.length, [1_700_000_000 + i++, 0]);
      if (used < 0 || used > data.length) throw new Error(`consumed ${used} of ${data.length}`);
      carry[dir] = data.subarray(used);
      held = Math.max(held, carry[dir].length);
    }
  }
  session.onEnd(0, [1_800_000_000, 0]);
  session.onEnd(1, [1_800_000_000, 0]);
  session.finish([1_800_000_000, 0]);
  return held;
}

/**
 * The oracle: only declared anomaly codes, no more than a tag's worth of bytes left unconsumed, and the same
 * recording (rows, anomalies with their details, verdicts) as the same parts fed whole. Failures are listed.
 */
const failures: string[] = [];
function oracle(proto: ImProtocol, parts: [Dir, Buffer][], maxPiece: number, what: string, expected?: unknown): boolean {
  const whole = startSession(proto, { expected });
  drive(whole.session, parts, Infinity);
  const { session, rec } = startSession(proto, { expected });
  const held = drive(session, parts, maxPiece);
  const undeclared = [...whole.rec.anomalies, ...rec.anomalies].filter((a) => !(a.code in proto.anomalies));
  const same = JSON.stringify(strip(rec)) === JSON.stringify(strip(whole.rec));
  const ok = undeclared.length === 0 && held <= (proto.limits.maxTagBytes ?? 600) + 64 && same;
  if (!ok && failures.length < 5) failures.push(`${what}: undeclared ${undeclared.map((a) => a.code).join(',')} / held ${held} / same ${same}`);
  return ok;
}

const FRAGMENTS = ['<', '>', '</', '/>', "'", '"', '=', ' ', '&', ';', '&#x', '&#', '&amp;', '&lt;', '<!--', '-->', '<![CDATA[', ']]>', '<!DOCTYPE x [', ']>', '<!ENTITY e "x">', '<?xml version="1.0"?>', '<?pi ', '?>', 'message', 'body', 'iq', 'presence', 'stream:stream', `<stream:stream ${STREAM}>`, '</stream:stream>', "xmlns='jabber:client'", "xmlns:x='urn:x'", 'x:', "type='chat'", "<data xmlns='http://jabber.org/protocol/ibb' seq='1' sid='s'>", "<open xmlns='http://jabber.org/protocol/ibb' sid='s'/>", "<query xmlns='http://jabber.org/protocol/bytestreams' sid='s'><streamhost host='1.2.3.4' port='7777'/></query>", "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='j'>", "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>", '\u0000', '\uFFFF', 'é', '\u{1F600}'];

t.test('random bytes (same recording whole or cut anywhere)', async (t) => {
  let good = 0;
  failures.length = 0;
  for (let round = 0; round < 200; round++) {
    const parts: [Dir, Buffer][] = Array.from({ length: 1 + rnd(6) }, () => [rnd(2) as Dir, randomBytes(1 + rnd(3000))]);
    if (oracle(xmpp, parts, 1 + rnd(700), `round ${round}`)) good++;
  }
  t.equal(good, 200, failures.join('; '));
});

t.test('XML-looking soup, after a valid stream header', async (t) => {
  let good = 0;
  failures.length = 0;
  for (let round = 0; round < 300; round++) {
    const soup = Array.from({ length: 50 + rnd(400) }, () => (rnd(8) === 0 ? randomBytes(1 + rnd(8)).toString('latin1') : FRAGMENTS[rnd(FRAGMENTS.length)]!)).join('');
    const parts: [Dir, Buffer][] = [
      [0, Buffer.from(VALID[0]![1])],
      [1, Buffer.from(VALID[1]![1])],
      [(round & 1) as Dir, Buffer.from(soup, 'latin1')],
    ];
    if (oracle(xmpp, parts, 1 + rnd(300), `round ${round}`)) good++;
  }
  t.equal(good, 300, failures.join('; '));
});

t.test('mutations of a valid conversation; the valid one still parses the same afterwards', async (t) => {
  const baseline = strip(runValid());
  let good = 0;
  failures.length = 0;
  for (let round = 0; round < 300; round++) {
    const parts: [Dir, Buffer][] = VALID.map(([d, s]) => [d, Buffer.from(s)]);
    for (let m = 1 + rnd(6); m > 0; m--) {
      const k = rnd(parts.length);
      const b = parts[k]![1];
      const at = rnd(b.length + 1);
      switch (rnd(6)) {
        case 0: // flip a byte
          if (b.length > 0) b[Math.min(at, b.length - 1)] = rnd(256);
          break;
        case 1: // delete a range
          parts[k]![1] = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rnd(40))]);
          break;
        case 2: // duplicate a range
          parts[k]![1] = Buffer.concat([b.subarray(0, at), b.subarray(at, at + rnd(200)), b.subarray(at)]);
          break;
        case 3: // insert a fragment
          parts[k]![1] = Buffer.concat([b.subarray(0, at), Buffer.from(FRAGMENTS[rnd(FRAGMENTS.length)]!), b.subarray(at)]);
          break;
        case 4: // truncate the part
          parts[k]![1] = b.subarray(0, at);
          break;
        default: // swap two parts
          [parts[k], parts[rnd(parts.length)]] = [parts[rnd(parts.length)]!, parts[k]!];
      }
    }
    if (oracle(xmpp, parts, round % 10 === 0 ? 1 : 1 + rnd(500), `round ${round}`)) good++;
  }
  t.equal(good, 300, failures.join('; '));
  t.same(strip(runValid()), baseline, 'a new session after all that gives the same rows');
  t.same(runValid().anomalies, []);
});

t.test('every prefix of the conversation: rows are a prefix of the full ones, nothing invented', async (t) => {
  const all: [Dir, Buffer][] = VALID.map(([d, s]) => [d, Buffer.from(s)]);
  const total = all.reduce((n, [, b]) => n + b.length, 0);
  const full = runValid();
  let bad = 0;
  for (let cut = 0; cut <= total; cut += 3) {
    const parts: [Dir, Buffer][] = [];
    let left = cut;
    for (const [d, b] of all) {
      if (left <= 0) break;
      parts.push([d, b.subarray(0, left)]);
      left -= b.length;
    }
    const { session, rec } = startSession(xmpp);
    feed(session, parts);
    const msgs = rec.messages.map((m) => m.body);
    if (rec.anomalies.length > 0 || JSON.stringify(msgs) !== JSON.stringify(full.messages.slice(0, msgs.length).map((m) => m.body))) bad++;
    if (rec.transfers.some((x) => x.complete && x.sha256 !== createHash('sha256').update(FILE).digest('hex'))) bad++;
  }
  t.equal(bad, 0);
});

t.test('billion laughs: the DTD is skipped, no entity is expanded', async (t) => {
  const lol = ['<!ENTITY lol "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`)].join('');
  const { session, rec } = startSession(xmpp);
  const t0 = Date.now();
  feed(session, [
    [0, `<?xml version='1.0'?><!DOCTYPE lolz [${lol}]><stream:stream to='im.example.com' ${STREAM}>`],
    [1, `<stream:stream from='im.example.com' id='x' ${STREAM}>`],
    [0, `<message to='a@b'><body>&lol9;</body></message>`],
  ]);
  t.ok(Date.now() - t0 < 2000);
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_dtd_forbidden', 'xmpp_unknown_entity']);
  t.match(rec.anomalies[0]!.detail, /<!DOCTYPE declaration of \d+ bytes/);
  t.same(rec.messages.map((m) => m.body), ['&lol9;']);
});

t.test('an oversized stanza is dropped and the stream goes on; an endless tag is never buffered', async (t) => {
  const { session, rec } = startSession(xmpp);
  const held = drive(session, [
    [0, Buffer.from(VALID[0]![1])],
    [1, Buffer.from(VALID[1]![1])],
    [0, Buffer.from(`<message to='a@b'><body>${'x'.repeat(300_000)}</body></message><message to='a@b'><body>after</body></message>`)],
  ], 65536);
  t.ok(held < 16_384 + 64);
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_stanza_size_exceeded']);
  t.match(rec.anomalies[0]!.detail, /stanza <message> at stream offset \d+ is longer than 262144 bytes/);
  t.same(rec.messages.map((m) => m.body), ['after']);

  const e = startSession(xmpp);
  const heldE = drive(e.session, [[0, Buffer.from(VALID[0]![1])], [1, Buffer.from(VALID[1]![1])], [0, Buffer.from(`<message to='${'a'.repeat(1 << 20)}`)]], 65536);
  t.ok(heldE <= 16_384, `held ${heldE}`);
  t.same(e.rec.anomalies.map((a) => a.code), ['xmpp_tag_size_exceeded']);
});

t.test('deep nesting and anomaly floods are bounded', async (t) => {
  const { session, rec } = startSession(xmpp);
  const t0 = Date.now();
  feed(session, [[0, VALID[0]![1]], [1, VALID[1]![1]], [0, `<message>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</message><message to='x@y'><body>ok</body></message>`]], 4096);
  t.ok(Date.now() - t0 < 5000);
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_depth_exceeded']);
  t.same(rec.messages.map((m) => m.body), ['ok']);

  const f = startSession(xmpp);
  feed(f.session, [[0, VALID[0]![1]], [1, VALID[1]![1]], [0, '<!-- c -->'.repeat(1000)]]);
  t.equal(f.rec.anomalies.length, 51);
  t.same(f.rec.anomalies[50]!.code, 'xmpp_anomaly_limit');
});

t.test('the SOCKS5 bytestream session and both probes on garbage', async (t) => {
  let good = 0;
  failures.length = 0;
  for (let round = 0; round < 200; round++) {
    const expected = round % 2 === 0 ? { sid: 's', requester: null, target: null, filename: 'f', size: 1 + rnd(5000), sender: null, recipient: null } : undefined;
    const lead: [Dir, Buffer][] = rnd(2) === 0 ? [[0, Buffer.from([5, 1, 0, 5, 1, 0, 3, 40, ...Buffer.from('a'.repeat(40)), 0, 0])], [1, Buffer.from([5, 0, 5, 0, 0, 1, 1, 2, 3, 4, 0, 0])]] : [];
    const parts: [Dir, Buffer][] = [...lead, ...Array.from({ length: 1 + rnd(4) }, (): [Dir, Buffer] => [rnd(2) as Dir, randomBytes(rnd(3000))])];
    if (oracle(xmppS5b, parts, 1 + rnd(400), `s5b round ${round}`, expected)) good++;
    for (const [dir, b] of parts) {
      for (const p of [xmpp.probe!, xmppS5b.probe!]) {
        const v = p(b, 0, b.length, dir, rnd(2) === 0);
        if (v !== 0 && v !== 1 && v !== 2) good--;
      }
    }
  }
  t.equal(good, 200);
});
