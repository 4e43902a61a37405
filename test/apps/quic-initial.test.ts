// QUIC Initial protection against the RFC test vectors: RFC 9001 Appendix A (v1) and RFC 9369 Appendix A (v2) — the
// key schedule, the header-protection mask, and the client Initial opened to the published plaintext; then the
// long-header reader, the frame walker and the CRYPTO reassembly at the byte level.
import t from 'tap';
import { decodePacketNumber, headerMask, initialKeys, initialSecret, openPacket, packetKeys, quicVersion, versionHex } from '../../src/decoders/apps/quic/initial.js';
import { parseLongHeader, probeQuic, readVarint } from '../../src/decoders/apps/quic/packet.js';
import { readInitialFrames } from '../../src/decoders/apps/quic/frames.js';
import { Add, CryptoStream } from '../../src/decoders/apps/quic/crypto-stream.js';
import { Probe } from '../../src/decoders/im/types.js';
import * as V from './quic-vectors.js';

const v1 = quicVersion(0x00000001)!;
const v2 = quicVersion(0x6b3343cf)!;

t.test('RFC 9001 A.1: v1 client and server Initial keys', async (t) => {
  t.equal(initialSecret(v1, V.DCID, 'client').toString('hex'), V.V1_KEYS.clientSecret.toString('hex'));
  const c = initialKeys(v1, V.DCID, 'client');
  t.equal(c.key.toString('hex'), V.V1_KEYS.key.toString('hex'));
  t.equal(c.iv.toString('hex'), V.V1_KEYS.iv.toString('hex'));
  t.equal(c.hp.toString('hex'), V.V1_KEYS.hp.toString('hex'));
  t.equal(initialSecret(v1, V.DCID, 'server').toString('hex'), V.V1_KEYS.serverSecret.toString('hex'));
  const s = initialKeys(v1, V.DCID, 'server');
  t.equal(s.key.toString('hex'), V.V1_KEYS.serverKey.toString('hex'));
  t.equal(s.iv.toString('hex'), V.V1_KEYS.serverIv.toString('hex'));
  t.equal(s.hp.toString('hex'), V.V1_KEYS.serverHp.toString('hex'));
});

t.test('RFC 9369 A.1: v2 client Initial keys', async (t) => {
  t.equal(initialSecret(v2, V.DCID, 'client').toString('hex'), V.V2_KEYS.clientSecret.toString('hex'));
  const k = packetKeys(v2, V.V2_KEYS.clientSecret);
  t.equal(k.key.toString('hex'), V.V2_KEYS.key.toString('hex'));
  t.equal(k.iv.toString('hex'), V.V2_KEYS.iv.toString('hex'));
  t.equal(k.hp.toString('hex'), V.V2_KEYS.hp.toString('hex'));
});

t.test('RFC 9001 A.2: header protection mask from the sample', async (t) => {
  t.equal(V.V1_PROTECTED.subarray(22, 38).toString('hex'), V.V1_SAMPLE.toString('hex'), 'sample at pn offset + 4');
  t.equal(headerMask(V.V1_KEYS.hp, V.V1_PROTECTED, 22).subarray(0, 5).toString('hex'), V.V1_MASK.toString('hex'));
});

t.test('RFC 9001 A.2 / RFC 9369 A.2: the client Initial opens to the published header and payload', async (t) => {
  for (const [name, v, packet, header] of [
    ['v1', v1, V.V1_PROTECTED, V.V1_UNPROTECTED_HEADER],
    ['v2', v2, V.V2_PROTECTED, V.V2_UNPROTECTED_HEADER],
  ] as const) {
    t.equal(packet.length, 1200, `${name} packet is 1200 bytes`);
    const h = parseLongHeader(packet, 0, packet.length, v.initialType);
    if (typeof h === 'string') throw new Error(h);
    t.equal(h.pnAt, 18, `${name} packet number at 18`);
    t.equal(h.end, 1200);
    t.equal(h.dcidLen, 8);
    const o = openPacket(initialKeys(v, V.DCID, 'client'), packet, 0, h.pnAt, h.end, -1);
    t.ok(o, `${name} opens`);
    t.equal(o!.header.toString('hex'), header.toString('hex'), `${name} unprotected header`);
    t.equal(o!.pn, 2);
    t.equal(o!.pnLength, 4);
    t.equal(o!.payload.length, 1162);
    t.ok(o!.payload.equals(V.appendixPayload()), `${name} payload: CRYPTO frame then PADDING`);
    t.equal(probeQuic(packet, 0, packet.length, 0, false), Probe.Yes, `${name} probe`);
    t.equal(probeQuic(packet, 0, packet.length, 1, false), Probe.No, `${name} server side never says Yes`);
  }
  // v1 keys on the v2 packet, a flipped ciphertext bit, a flipped tag bit: no authentication.
  t.equal(openPacket(initialKeys(v1, V.DCID, 'client'), V.V2_PROTECTED, 0, 18, 1200, -1), null);
  for (const at of [100, 1199]) {
    const bad = Buffer.from(V.V1_PROTECTED);
    bad[at]! ^= 1;
    t.equal(openPacket(initialKeys(v1, V.DCID, 'client'), bad, 0, 18, 1200, -1), null, `bit flipped at ${at}`);
  }
  // A packet too short for a sample.
  t.equal(openPacket(initialKeys(v1, V.DCID, 'client'), V.V1_PROTECTED, 0, 18, 30, -1), null);
});

t.test('probe: what is not a client Initial', async (t) => {
  const p = Buffer.from(V.V1_PROTECTED);
  const variant = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(p);
    f(b);
    return b;
  };
  t.equal(probeQuic(p, 0, 3, 0, false), Probe.Need, 'too short to tell');
  t.equal(probeQuic(variant((b) => (b[0] = 0x40)), 0, 1200, 0, false), Probe.No, 'short header');
  t.equal(probeQuic(variant((b) => (b[0] = 0x80)), 0, 1200, 0, false), Probe.No, 'fixed bit clear');
  t.equal(probeQuic(variant((b) => (b[0] = 0xe0)), 0, 1200, 0, false), Probe.No, 'v1 Handshake type');
  t.equal(probeQuic(variant((b) => b.writeUInt32BE(0x51303436, 1)), 0, 1200, 0, false), Probe.No, 'gQUIC Q046');
  t.equal(probeQuic(variant((b) => b.writeUInt32BE(0, 1)), 0, 1200, 0, false), Probe.No, 'version negotiation');
  t.equal(probeQuic(variant((b) => (b[5] = 4)), 0, 1200, 0, false), Probe.No, 'DCID under 8 bytes');
  t.equal(probeQuic(variant((b) => (b[5] = 21)), 0, 1200, 0, false), Probe.No, 'DCID over 20 bytes');
  t.equal(probeQuic(p, 0, 600, 0, false), Probe.No, 'Length past the datagram (truncated)');
  t.equal(probeQuic(variant((b) => b.writeUInt32BE(0x6b3343cf, 1)), 0, 1200, 0, false), Probe.No, 'v2 version with v1 Initial type bits');
  t.equal(probeQuic(variant((b) => b.writeUInt32BE(0xff00001d, 1)), 0, 1200, 0, false), Probe.Yes, 'draft-29');
  t.equal(versionHex(1), '0x00000001');
  t.equal(versionHex(0xff00001d), '0xff00001d');
});

t.test('varints and packet numbers (RFC 9000 §A.1, §A.3 examples)', async (t) => {
  const out = [0];
  for (const [hex, value] of [
    ['c2197c5eff14e88c', 151288809941952652],
    ['9d7f3e7d', 494878333],
    ['7bbd', 15293],
    ['25', 37],
    ['4025', 37],
  ] as const) {
    const b = V.h(hex);
    t.equal(readVarint(b, 0, b.length, out), b.length);
    t.equal(out[0], value, hex);
    t.equal(readVarint(b, 0, b.length - 1, out), b.length === 1 ? 0 : 0, `${hex} cut`);
  }
  t.equal(decodePacketNumber(0xa82f30ea, 0x9b32, 16), 0xa82f9b32, 'RFC 9000 A.3 example');
  t.equal(decodePacketNumber(-1, 0, 8), 0);
  t.equal(decodePacketNumber(-1, 2, 32), 2);
  t.equal(decodePacketNumber(254, 1, 8), 257, 'wraps forward');
});

t.test('frames: allowed types, malformed ones, CRYPTO views', async (t) => {
  const seen: [number, string][] = [];
  const sink = (o: number, d: Uint8Array, s: number, e: number) => void seen.push([o, Buffer.from(d.subarray(s, e)).toString('hex')]);
  // PING, ACK (1 range, ECN), CRYPTO at 5 "abc", PADDING, CONNECTION_CLOSE with a 2-byte reason, PADDING.
  const ok = V.h('01' + '03 05 00 01 00 01 02 03 04 05' + '06 05 03 616263' + '0000' + '1c 0a 00 02 6869' + '00');
  t.equal(readInitialFrames(ok, 100, sink), null);
  t.same(seen, [[5, '616263']]);
  t.match(readInitialFrames(V.h('08 00'), 100, sink), /frame type 0x08 is not allowed in an Initial packet at offset 0/, 'STREAM');
  t.match(readInitialFrames(V.h('06 00 05 6162'), 100, sink), /CRYPTO length 5 exceeds remaining 2 at offset 0/);
  t.match(readInitialFrames(V.h('01 06 40'), 100, sink), /CRYPTO offset cut at offset 1/);
  t.match(readInitialFrames(V.h('02 05 00 3f 00'), 100, sink), /ACK range count 63 exceeds remaining/);
  t.match(readInitialFrames(V.h('02 05'), 100, sink), /ACK frame cut/);
  t.match(readInitialFrames(V.h('1c 00 00 09 41'), 100, sink), /CONNECTION_CLOSE reason length 9 exceeds remaining 1/);
  t.match(readInitialFrames(V.h('01 01 01 01'), 3, sink), /more than 3 frames/);
  t.equal(readInitialFrames(new Uint8Array(5000), 1, sink), null, 'a PADDING run is one frame');
});

t.test('CRYPTO stream: out of order, overlapping, limits', async (t) => {
  const s = new CryptoStream(100, 3);
  const d = Buffer.from('0123456789abcdefghij');
  t.equal(s.add(10, d, 10, 20), Add.Ok);
  t.equal(s.contiguous, 0);
  t.equal(s.add(5, d, 5, 12), Add.Ok, 'overlap');
  t.equal(s.add(0, d, 0, 5), Add.Ok, 'adjacent');
  t.equal(s.contiguous, 20);
  t.equal(Buffer.from(s.bytes.subarray(0, 20)).toString(), '0123456789abcdefghij');
  t.equal(s.add(30, d, 0, 1), Add.Ok);
  t.equal(s.add(40, d, 0, 1), Add.Ok);
  t.equal(s.add(50, d, 0, 1), Add.TooManyRanges, 'a fourth piece');
  t.equal(s.add(41, d, 0, 1), Add.Ok, 'adjacent to a piece: still three');
  t.equal(s.add(95, d, 0, 10), Add.TooManyRanges, 'a fourth piece, over the limit too');
  t.equal(s.add(1000, d, 0, 10), Add.OverLimit);
  t.equal(s.add(1000, d, 0, 0), Add.Ok, 'empty frame');
  t.equal(s.received, 20 + 1 + 2);
  const u = new CryptoStream(100, 3);
  t.equal(u.add(90, d, 0, 20), Add.OverLimit, 'cut at the limit');
  t.equal(u.received, 10, 'the part under the limit is kept');
  t.equal(Buffer.from(u.bytes.subarray(90, 100)).toString(), '0123456789');
});
