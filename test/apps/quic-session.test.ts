// The quic session driven datagram by datagram: the RFC 9001 / RFC 9369 client Initials; a ClientHello split over two
// Initial packets (built with the RFC's published v1 keys, not the code under test) sent in reverse order, in one
// coalesced datagram, and with its CRYPTO frames out of order; a packet keyed by another connection ID (after a Retry);
// undecryptable and truncated datagrams, every prefix of a datagram, random bytes, and the packet budget.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { recordingContext, type Recorded } from '../helpers/im-session.js';
import { createQuicSession } from '../../src/decoders/apps/quic/session.js';
import { QUIC_LIMITS, type QuicLimits } from '../../src/decoders/apps/quic/limits.js';
import { quic } from '../../src/decoders/apps/quic/index.js';
import type { Dir, Time } from '../../src/decoders/im/types.js';
import * as V from './quic-vectors.js';

const TS: Time = [1700000000, 0];

function drive(datagrams: [Dir, Uint8Array][], limits: QuicLimits = { ...QUIC_LIMITS }): Recorded {
  const { ctx, rec } = recordingContext({ transport: 'udp', serverPort: 443 });
  const s = createQuicSession(ctx, limits);
  let stopped = false;
  for (const [dir, d] of datagrams) {
    if (rec.encrypted !== null || rec.done) stopped = true; // the dispatcher feeds nothing more
    if (stopped) break;
    const n = s.onData(dir, d, 0, d.length, TS);
    if (n !== d.length) throw new Error(`consumed ${n} of ${d.length}`);
  }
  s.finish(TS);
  return rec;
}

const codes = (r: Recorded): string[] => r.anomalies.map((a) => a.code);
const RFC_KEYS = { key: V.V1_KEYS.key, iv: V.V1_KEYS.iv, hp: V.V1_KEYS.hp };
const pad = (b: Buffer, n: number): Buffer => (b.length >= n ? b : Buffer.concat([b, Buffer.alloc(n - b.length)]));

t.test('RFC 9001 and RFC 9369 client Initials: example.com', async (t) => {
  for (const [name, packet, version] of [
    ['v1', V.V1_PROTECTED, '0x00000001'],
    ['v2', V.V2_PROTECTED, '0x6b3343cf'],
  ] as const) {
    const r = drive([[0, packet]]);
    t.same(r.hostNames, [{ name: 'example.com', source: 'quic_sni' }], name);
    t.equal(r.confirmed, 0.9);
    t.equal(r.encrypted, 'quic');
    t.same(codes(r), []);
    const row = r.rows.tls?.[0];
    t.equal(r.rows.tls?.length, 1);
    t.match(row, { transport: 'quic', sni: 'example.com', alpn: 'alpn', versions: '1.3', quic_version: version, ech: false });
    // Counted by hand from the RFC's hex: cipher_suites 1301 1302; extensions 0000 ff01 000a 0010 0005 0033 002b 000d
    // 002d 001c 0039 (11); ALPN "alpn" (first and last characters: an).
    t.match(String(row?.ja4), /^q13d0211an_/, 'JA4 a part from the RFC hex: 2 ciphers, 11 extensions, ALPN "alpn"');
  }
});

/** A long ClientHello split into two Initial packets (pn 0 and 1), each alone in a 1200-byte datagram. */
function split(sni: string): { hello: Buffer; first: Buffer; second: Buffer } {
  const hello = V.clientHello(sni, 1800);
  const cut = 1000;
  const first = V.protectInitial(RFC_KEYS, V.DCID, 0, pad(V.cryptoFrame(0, hello.subarray(0, cut)), 1100));
  const second = V.protectInitial(RFC_KEYS, V.DCID, 1, pad(Buffer.concat([Buffer.from([0x01]), V.cryptoFrame(cut, hello.subarray(cut))]), 1100));
  return { hello, first, second };
}

t.test('a ClientHello over two Initial packets, in order and in reverse order', async (t) => {
  const { hello, first, second } = split('chat.example.org');
  t.ok(hello.length > 1200, `ClientHello of ${hello.length} bytes does not fit one packet`);
  for (const [name, order] of [
    ['in order', [first, second]],
    ['reverse order', [second, first]],
  ] as const) {
    const r = drive(order.map((d) => [0, d] as [Dir, Uint8Array]));
    t.same(r.hostNames, [{ name: 'chat.example.org', source: 'quic_sni' }], name);
    t.equal(r.rows.tls?.length, 1);
    t.match(r.rows.tls?.[0], { alpn: 'h3', versions: '1.3', sni: 'chat.example.org' });
    // JA4 a: QUIC, 1.3, domain, 3 ciphers, 5 extensions, ALPN h3.
    t.match(String(r.rows.tls?.[0]?.ja4), /^q13d0305h3_/);
    t.same(codes(r), [], `${name}: no anomaly`);
  }
  // The first packet alone: incomplete at the end of the flow.
  const r = drive([[0, first]]);
  t.same(r.hostNames, []);
  t.same(codes(r), ['quic_client_hello_incomplete']);
  t.equal(r.confirmed, 0.9, 'the packet opened: QUIC');
  // Both packets coalesced in one datagram (RFC 9000 §12.2), second first.
  const both = drive([[0, Buffer.concat([second, first])]]);
  t.same(both.hostNames, [{ name: 'chat.example.org', source: 'quic_sni' }], 'coalesced');
});

t.test('CRYPTO frames out of order and overlapping inside one packet, with ACK and PING', async (t) => {
  const hello = V.clientHello('www.example.net', 300);
  const frames = Buffer.concat([
    V.cryptoFrame(200, hello.subarray(200)),
    Buffer.from('0200000000', 'hex'), // ACK: largest 0, delay 0, 0 ranges, first range 0
    V.cryptoFrame(0, hello.subarray(0, 150)),
    Buffer.from([0x01]),
    V.cryptoFrame(100, hello.subarray(100, 250)), // overlaps both
  ]);
  const r = drive([[0, V.protectInitial(RFC_KEYS, V.DCID, 0, pad(frames, 1100))]]);
  t.same(r.hostNames, [{ name: 'www.example.net', source: 'quic_sni' }]);
  t.same(codes(r), []);
});

t.test('server datagrams are skipped; a 0-RTT packet coalesced after the Initial is skipped', async (t) => {
  const zeroRtt = Buffer.from(V.V1_PROTECTED.subarray(0, 60));
  zeroRtt[0] = 0xd0; // long header, type 1 (0-RTT in v1)
  zeroRtt.writeUInt16BE(0x4000 | (60 - 18), 16); // Length covers the rest of these 60 bytes
  const initial = Buffer.from(V.V1_PROTECTED);
  const r = drive([
    [0, Buffer.concat([initial, zeroRtt])],
    [1, randomBytes(1200)],
  ]);
  t.same(r.hostNames, [{ name: 'example.com', source: 'quic_sni' }]);
  t.same(codes(r), []);
});

t.test('after a Retry: Initials keyed by their own (new) connection ID open', async (t) => {
  // The client's first Initial carries DCID A; after a Retry its Initials carry the server's chosen ID B and are keyed
  // by B (RFC 9001 §5.2). A is 0011223344556677 here, and its packet was (deliberately) not protected with A's keys, so
  // it does not open; B is the RFC's DCID, whose published keys protect the two later packets.
  const a = V.h('0011223344556677');
  const hello = V.clientHello('retry.example', 1800);
  const r = drive([
    [0, V.protectInitial(RFC_KEYS, a, 0, pad(V.cryptoFrame(0, hello.subarray(0, 10)), 1100))],
    [0, V.protectInitial(RFC_KEYS, V.DCID, 1, pad(V.cryptoFrame(0, hello.subarray(0, 1000)), 1100))],
    [0, V.protectInitial(RFC_KEYS, V.DCID, 2, pad(V.cryptoFrame(1000, hello.subarray(1000)), 1100))],
  ]);
  t.same(codes(r), ['quic_decrypt_failed'], 'the packet keyed by A');
  t.same(r.hostNames, [{ name: 'retry.example', source: 'quic_sni' }], 'the packets keyed by B');
});

t.test('undecryptable: the RFC packet with another DCID', async (t) => {
  const bad = Buffer.from(V.V1_PROTECTED);
  bad[6]! ^= 0xff; // first DCID byte: other keys, and the header (AAD) changed
  const r = drive([[0, bad]]);
  t.same(codes(r), ['quic_decrypt_failed', 'quic_client_hello_incomplete']);
  t.match(r.anomalies[0]?.detail, /v1 Initial packet of 1200 bytes at datagram offset 0/);
  t.same(r.hostNames, []);
  t.equal(r.confirmed, null, 'nothing opened: not confirmed by the session');
});

t.test('truncated datagrams and every prefix: anomalies, never a crash, never a wrong name', async (t) => {
  const r = drive([[0, V.V1_PROTECTED.subarray(0, 600)]]);
  t.same(codes(r), ['quic_bad_packet', 'quic_client_hello_incomplete']);
  t.match(r.anomalies[0]?.detail, /packet length 1182 exceeds remaining 582/);
  let named = 0;
  for (let n = 0; n <= 1200; n++) {
    const x = drive([[0, V.V1_PROTECTED.subarray(0, n)]]);
    if (x.hostNames.length > 0) named++;
    for (const c of codes(x)) if (!(c in quic.anomalies)) t.fail(`undeclared anomaly ${c}`);
  }
  t.equal(named, 1, 'only the whole packet gives the name');
});

t.test('hostile input: random datagrams, random bytes after a valid long header, flipped bits', async (t) => {
  for (let i = 0; i < 300; i++) {
    const d = randomBytes(1 + (i * 37) % 1400);
    if (i % 2 === 0) V.V1_PROTECTED.copy(d, 0, 0, Math.min(18, d.length));
    const r = drive([[0, d], [0, V.V1_PROTECTED]]);
    for (const c of codes(r)) if (!(c in quic.anomalies)) t.fail(`undeclared anomaly ${c}`);
    // After hostile input the same session still reads a valid packet (its keys come from the hostile DCID only when
    // the hostile datagram had the RFC's header; then the valid packet opens either way).
    if (i % 2 === 0 && d.length >= 18 && !r.hostNames.some((h) => h.name === 'example.com') && r.rows.tls === undefined) t.fail(`valid packet not read after hostile datagram ${i}`);
  }
  t.pass('no crash');
});

t.test('frames not allowed in Initial packets, a non-ClientHello, the CRYPTO limit, the packet budget', async (t) => {
  const stream = drive([[0, V.protectInitial(RFC_KEYS, V.DCID, 0, pad(Buffer.from('0800016100', 'hex'), 1100))]]);
  t.same(codes(stream), ['quic_bad_frame', 'quic_client_hello_incomplete']);
  t.match(stream.anomalies[0]?.detail, /frame type 0x08 is not allowed in an Initial packet at offset 0/);
  const sh = drive([[0, V.protectInitial(RFC_KEYS, V.DCID, 0, pad(V.cryptoFrame(0, Buffer.from('020000050303000000', 'hex')), 1100))]]);
  t.same(codes(sh), ['quic_not_client_hello']);
  t.equal(sh.encrypted, 'quic');
  const big = Buffer.from('0101000000', 'hex'); // ClientHello of 65536 bytes announced
  const lim = drive([[0, V.protectInitial(RFC_KEYS, V.DCID, 0, pad(V.cryptoFrame(0, big), 1100))]]);
  t.same(codes(lim), ['quic_crypto_limit']);
  const far = drive([[0, V.protectInitial(RFC_KEYS, V.DCID, 0, pad(V.cryptoFrame(70000, Buffer.from('aa', 'hex')), 1100))]]);
  t.same(codes(far), ['quic_crypto_limit', 'quic_client_hello_incomplete']);
  // Ten Initials that each hold one byte of CRYPTO: the budget of 8 ends it.
  const hello = V.clientHello('budget.example', 100);
  const many = Array.from({ length: 10 }, (_, i) => [0, V.protectInitial(RFC_KEYS, V.DCID, i, pad(V.cryptoFrame(i, hello.subarray(i, i + 1)), 1100))] as [Dir, Uint8Array]);
  const b = drive(many);
  t.same(codes(b), ['quic_client_hello_incomplete']);
  t.match(b.anomalies[0]?.detail, /after 8 Initial packets: 8 contiguous of 8 CRYPTO bytes from 8 of 9/);
  t.equal(b.encrypted, 'quic');
  // Datagram budget: the server talks, the client's ClientHello never completes.
  const d = drive([[0, split('x.example').first], ...Array.from({ length: 20 }, () => [1, randomBytes(100)] as [Dir, Uint8Array])]);
  t.match(d.anomalies[0]?.detail, /no complete ClientHello after 16 datagrams/);
});
