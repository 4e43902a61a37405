/**
 * STUN at the byte level: the RFC 5769 test vectors (parse, FINGERPRINT, XOR-MAPPED-ADDRESS), the probe, the
 * session's app rules, RFC 4571 framing cut anywhere, and hostile input (truncated attributes, lengths past the end,
 * bad fingerprints, random bytes) giving anomalies, never a throw.
 */
import t from 'tap';
import { Probe } from '../../src/decoders/im/types.js';
import { probeStun, stun } from '../../src/decoders/apps/stun/index.js';
import { ATTR, crc32, fingerprintOk, readAddress, stunMessageLength, walkAttributes, type AttrWalk, type StunAttr } from '../../src/decoders/apps/stun/parse.js';
import { Media, classifyMedia } from '../../src/decoders/apps/stun/media.js';
import { clearRunState, feed, startSession } from '../helpers/im-session.js';

// RFC 5769 §2.1: sample request (software "STUN test client", username "evtj:h6vY", FINGERPRINT).
const REQ = Uint8Array.from([
  0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20,
  0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26,
  0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb,
  0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
]);
// RFC 5769 §2.2: sample IPv4 response (software "test vector", XOR-MAPPED-ADDRESS 192.0.2.1:32853, FINGERPRINT).
const RESP = Uint8Array.from([
  0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20,
  0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e,
  0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
]);

function attrs(msg: Uint8Array): { list: { type: number; len: number }[]; walk: AttrWalk } {
  const list: { type: number; len: number }[] = [];
  const walk: AttrWalk = { count: 0, error: null, errorAt: -1 };
  walkAttributes(msg, 0, msg.length, 64, (a) => list.push({ type: a.type, len: a.len }), walk);
  return { list, walk };
}

function findAttr(msg: Uint8Array, type: number): StunAttr | null {
  let found: StunAttr | null = null;
  walkAttributes(msg, 0, msg.length, 64, (a) => {
    if (a.type === type && found === null) found = { ...a };
  }, { count: 0, error: null, errorAt: -1 });
  return found;
}

/** A STUN message with the cookie: type, then [type, value] attributes (padded). */
function msg(type: number, attributes: [number, Uint8Array][], txid = 7): Uint8Array {
  const body: number[] = [];
  for (const [at, v] of attributes) {
    body.push(at >> 8, at & 255, v.length >> 8, v.length & 255, ...v);
    while (body.length % 4) body.push(0);
  }
  const out = new Uint8Array(20 + body.length);
  out.set([type >> 8, type & 255, body.length >> 8, body.length & 255, 0x21, 0x12, 0xa4, 0x42], 0);
  out.fill(txid, 8, 20);
  out.set(body, 20);
  return out;
}
const text = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

t.test('RFC 5769 vectors: header, attributes in order, FINGERPRINT, XOR-MAPPED-ADDRESS', async (t) => {
  t.equal(stunMessageLength(REQ, 0, REQ.length, true), 108);
  t.equal(stunMessageLength(RESP, 0, RESP.length, true), 80);
  const r = attrs(REQ);
  t.same(r.list.map((a) => a.type), [0x8022, 0x0024, 0x8029, 0x0006, 0x0008, 0x8028], 'SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT (RFC 5769 §2.1)');
  t.equal(r.walk.error, null);
  const fp = findAttr(REQ, ATTR.FINGERPRINT)!;
  t.ok(fingerprintOk(REQ, 0, fp.at), 'request FINGERPRINT matches');
  t.ok(fingerprintOk(RESP, 0, findAttr(RESP, ATTR.FINGERPRINT)!.at), 'response FINGERPRINT matches');
  const bad = Uint8Array.from(REQ);
  bad[30]! ^= 1;
  t.notOk(fingerprintOk(bad, 0, fp.at), 'one flipped bit breaks it');
  t.equal(crc32(text('123456789'), 0, 9), 0xcbf43926, 'CRC-32 check value');
  const xma = findAttr(RESP, ATTR.XOR_MAPPED_ADDRESS)!;
  t.same(readAddress(RESP, 0, xma, true), { family: 4, address: '192.0.2.1', port: 32853 }, 'RFC 5769 §2.2 mapped address');
});

t.test('probe', async (t) => {
  t.equal(probeStun(REQ, 0, REQ.length, 0, false), Probe.Yes);
  t.equal(probeStun(REQ, 0, 10, 0, false), Probe.Need, 'short');
  const framed = new Uint8Array(2 + REQ.length);
  framed.set([0, REQ.length], 0);
  framed.set(REQ, 2);
  t.equal(probeStun(framed, 0, framed.length, 0, false), Probe.Yes, 'RFC 4571 framed');
  t.equal(probeStun(text('GET / HTTP/1.1\r\n\r\n'), 0, 18, 0, false), Probe.No);
  const noCookie = Uint8Array.from(REQ);
  noCookie[4] = 0;
  t.equal(probeStun(noCookie, 0, noCookie.length, 0, false), Probe.No, 'no cookie and not classic attributes');
  // Classic RFC 3489 Binding Request with CHANGE-REQUEST (0x0003), no cookie.
  const classic = Uint8Array.from([0, 1, 0, 8, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 0, 3, 0, 4, 0, 0, 0, 0]);
  t.equal(probeStun(classic, 0, classic.length, 0, false), Probe.Yes, 'classic STUN with well-formed attributes');
  const empty = Uint8Array.from([0, 1, 0, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6]);
  t.not(probeStun(empty, 0, empty.length, 0, false), Probe.Yes, 'classic without attributes is too weak');
  const wrongLen = Uint8Array.from(REQ.subarray(0, 100));
  t.equal(probeStun(wrongLen, 0, wrongLen.length, 0, false), Probe.Yes, 'cookie present, message continues in the next segment');
});

t.test('apps from attributes, realm, type; endpoint cache', async (t) => {
  clearRunState();
  const cases: [string, Uint8Array, string][] = [
    ['WhatsApp 0x4000', msg(0x0003, [[0x4000, new Uint8Array(12)]]), 'whatsapp'],
    ['WhatsApp type 0x0801', msg(0x0801, []), 'whatsapp'],
    ['Signal realm', msg(0x0113, [[ATTR.REALM, text('signal.org')]]), 'signal'],
    ['Messenger realm', msg(0x0113, [[ATTR.REALM, text('turn.facebook.com')]]), 'messenger'],
    ['Google realm', msg(0x0113, [[ATTR.REALM, text('google.com')]]), 'google-meet'],
    ['MS-ICE 0x8070', msg(0x0001, [[0x8070, Uint8Array.from([0, 0, 0, 3])]]), 'skype'],
    ['Zoom 0x0103', msg(0x0001, [[0x0103, new Uint8Array(4)]]), 'zoom'],
  ];
  let port = 50000;
  for (const [name, m, app] of cases) {
    const { session, rec } = startSession(stun, { transport: 'udp', clientPort: port++, serverPort: 3478 });
    feed(session, [[0, m]]);
    t.equal(rec.identified[0]?.app, app, name);
    t.equal(rec.identified[0]?.method, 'stun');
    t.equal(rec.identified[0]?.kind, 'call');
  }
  const plain = msg(0x0001, [[ATTR.SOFTWARE, text('libjuice')]]);
  const { session: s2, rec: r2 } = startSession(stun, { transport: 'udp', clientPort: 60000, serverPort: 3478 });
  feed(s2, [[0, plain]]);
  t.same(r2.identified, [], 'no app from a plain binding');
  // Same client endpoint as the WhatsApp flow above (port 50000): inherited at a lower confidence.
  const { session: s3, rec: r3 } = startSession(stun, { transport: 'udp', clientPort: 50000, serverIp: '203.0.113.9', serverPort: 9000 });
  feed(s3, [[0, plain]]);
  t.same(r3.identified.map((i) => [i.app, i.confidence]), [['whatsapp', 0.75]], 'endpoint cache');
  // Google's ports only with ICE credentials.
  const { session: s4, rec: r4 } = startSession(stun, { transport: 'udp', clientPort: 61000, serverPort: 19302 });
  feed(s4, [[0, msg(0x0001, [])]]);
  t.same(r4.identified, [], 'plain binding to 19302: not Google Meet');
  const { session: s5, rec: r5 } = startSession(stun, { transport: 'udp', clientPort: 61001, serverPort: 19305 });
  feed(s5, [[0, msg(0x0101, [[ATTR.USERNAME, text('a:b')]])]]);
  t.equal(r5.identified[0]?.app, 'google-meet');
});

t.test('media after STUN, budget', async (t) => {
  clearRunState();
  const rtp = Uint8Array.from([0x80, 0x78, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 9, 9, 9, 9]);
  const rtcp = Uint8Array.from([0x81, 0xc9, 0, 1, 1, 2, 3, 4]);
  const dtls = Uint8Array.from([0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa]);
  t.equal(classifyMedia(rtp, 0, rtp.length), Media.Rtp);
  t.equal(classifyMedia(rtcp, 0, rtcp.length), Media.Rtcp);
  t.equal(classifyMedia(dtls, 0, dtls.length), Media.Dtls);
  t.equal(classifyMedia(text('hello world'), 0, 11), Media.None);
  const { session, rec } = startSession(stun, { transport: 'udp', clientPort: 40001 });
  feed(session, [[0, msg(0x0001, [])], [1, msg(0x0101, [])], [0, rtp]]);
  t.equal(rec.protocol, 'rtp', 'RTP without an app');
  t.equal(rec.confirmed, 1, 'both directions');
  const wa = startSession(stun, { transport: 'udp', clientPort: 40002 });
  const parts: [0 | 1, Uint8Array][] = [[0, msg(0x0003, [[0x4000, new Uint8Array(8)]])]];
  for (let i = 0; i < 20; i++) parts.push([0, rtp]);
  feed(wa.session, parts);
  t.equal(wa.rec.protocol, 'srtp', 'an app and RTP: SRTP');
  t.ok(wa.rec.done, 'done after the media budget');
  const many = startSession(stun, { transport: 'udp', clientPort: 40003 });
  feed(many.session, Array.from({ length: 100 }, () => [0, msg(0x0001, [])] as [0, Uint8Array]));
  t.ok(many.rec.done, 'done after maxDatagrams');
});

t.test('hostile input: anomalies, no throw', async (t) => {
  // Attribute length past the end of the message.
  const over = msg(0x0001, [[ATTR.SOFTWARE, text('abcd')]]);
  over[22] = 0x01; // length 0x0104
  const a = startSession(stun, { transport: 'udp' });
  feed(a.session, [[0, over]]);
  t.same(a.rec.anomalies.map((x) => x.code), ['stun_attribute_truncated']);
  t.match(a.rec.anomalies[0]!.detail, /offset 20 of a 28-byte message/);
  // Truncated attribute header (2 bytes of an attribute at the end: message length not on 4, cookie present).
  const trunc = new Uint8Array(22);
  trunc.set(msg(0x0001, []).subarray(0, 20));
  trunc[3] = 2;
  trunc.set([0x80, 0x22], 20);
  const b = startSession(stun, { transport: 'udp' });
  feed(b.session, [[0, trunc]]);
  t.same(b.rec.anomalies.map((x) => x.code), ['stun_attribute_truncated']);
  // Bad fingerprint, fingerprint not last.
  const badFp = Uint8Array.from(REQ);
  badFp[REQ.length - 1]! ^= 0xff;
  const c = startSession(stun, { transport: 'udp' });
  feed(c.session, [[0, badFp], [0, msg(0x0001, [[ATTR.FINGERPRINT, new Uint8Array(4)], [ATTR.SOFTWARE, text('x')]])]]);
  t.same(c.rec.anomalies.map((x) => x.code), ['stun_bad_fingerprint', 'stun_fingerprint_not_last']);
  // Header length disagrees with the datagram.
  const d = startSession(stun, { transport: 'udp' });
  feed(d.session, [[0, msg(0x0001, [])], [0, Uint8Array.from([...msg(0x0001, []), 1, 2, 3, 4])]]);
  t.same(d.rec.anomalies.map((x) => x.code), ['stun_length_mismatch']);
  // Too many attributes.
  const e = startSession(stun, { transport: 'udp' });
  feed(e.session, [[0, msg(0x0001, Array.from({ length: 70 }, () => [0x8000, new Uint8Array(0)] as [number, Uint8Array]))]]);
  t.same(e.rec.anomalies.map((x) => x.code), ['stun_too_many_attributes']);
  // TCP frame too large.
  const f = startSession(stun, { transport: 'tcp' });
  const head = new Uint8Array(2 + REQ.length);
  head.set([0, REQ.length]);
  head.set(REQ, 2);
  feed(f.session, [[0, head], [0, Uint8Array.from([0xff, 0xff, 1, 2, 3])]]);
  t.same(f.rec.anomalies.map((x) => x.code), ['stun_frame_too_large']);
  // Random bytes: never a throw.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  for (let i = 0; i < 300; i++) {
    const buf = Uint8Array.from({ length: 20 + (rnd() % 120) }, rnd);
    buf[0]! &= 0x03;
    buf.set([0x21, 0x12, 0xa4, 0x42], 4);
    const s = startSession(stun, { transport: i % 2 ? 'udp' : 'tcp' });
    t.doesNotThrow(() => feed(s.session, [[0, buf], [1, buf]], 1 + (i % 7)));
    t.doesNotThrow(() => probeStun(buf, 0, buf.length, 0, false));
  }
});

t.test('TCP: RFC 4571 framing and bare messages cut anywhere give the same result', async (t) => {
  clearRunState();
  const wa = msg(0x0003, [[0x4000, new Uint8Array(8)]]);
  const framed = (m: Uint8Array) => Uint8Array.from([m.length >> 8, m.length & 255, ...m]);
  for (const [name, stream] of [
    ['framed', Uint8Array.from([...framed(REQ), ...framed(wa), ...framed(RESP)])],
    ['bare', Uint8Array.from([...REQ, ...wa, ...RESP])],
  ] as const) {
    for (const chunk of [1, 3, 7, 1000]) {
      const s = startSession(stun, { transport: 'tcp', clientPort: 41000 + chunk });
      feed(s.session, [[0, stream]], chunk);
      t.equal(s.rec.identified[0]?.app, 'whatsapp', `${name}, ${chunk}-byte pieces`);
      t.same(s.rec.anomalies, [], `${name}, ${chunk}: no anomaly (fingerprints checked)`);
    }
  }
});
