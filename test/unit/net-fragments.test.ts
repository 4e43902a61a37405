// IP fragment reassembly: IPv4 in order, out of order, duplicated and overlapping (same and different data), the
// datagram and byte limits, the capture-time timeout; IPv6 through the Fragment header. Fragments are annotated hex
// on raw IP link types; the reassembled UDP datagram is 5000 -> 53 carrying "AAAAAAAABBBBBBBB".
import t from 'tap';
import { newPacketRecord } from '../../src/decoders/capture/record.js';
import { anomalyCounts } from '../../src/decoders/net/anomalies.js';
import { L4, newDecodedPacket, type DecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder, type DecoderOptions } from '../../src/decoders/net/decoder.js';

type TT = Parameters<Parameters<typeof t.test>[0]>[0];

/** Bytes from hex written with whitespace and `#` comments. */
function hex(s: string): Uint8Array {
  const h = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`bad hex: ${h}`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

class Feeder {
  readonly dec: PacketDecoder;
  readonly out = newDecodedPacket();
  constructor(opts: DecoderOptions = {}) {
    this.dec = new PacketDecoder(opts);
  }
  feed(bytes: Uint8Array, linktype: number, tsSec = 1000, scrub = true): DecodedPacket {
    const r = newPacketRecord();
    // Each fragment lives in its own buffer that is overwritten afterwards, as a capture reader's buffer would be:
    // reassembly must have copied it.
    r.data = bytes.slice();
    r.caplen = r.origlen = bytes.length;
    r.linktype = linktype;
    r.tsSec = tsSec;
    this.dec.decode(r, this.out);
    if (scrub) r.data.fill(0xee);
    return this.out;
  }
  get an(): Record<string, number> {
    return anomalyCounts(this.dec.anomalies);
  }
}

function payload(out: DecodedPacket): string {
  return Buffer.from(out.buf.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength)).toString('latin1');
}

// IPv4 fragments of one datagram: id 0xabcd, 10.0.0.1 -> 10.0.0.2, UDP; 24 bytes of IP payload in three pieces.
const V4 = (frag: string, total = '00 1c', id = 'ab cd') => `
  45 00 ${total}       # version 4, IHL 5 | total length
  ${id} ${frag}        # identification | flags + fragment offset
  40 11 00 00          # TTL 64 | UDP | checksum
  0a 00 00 01 0a 00 00 02
`;
const F1 = hex(V4('20 00 # MF, offset 0') + '13 88 00 35 00 18 00 00 # UDP 5000 -> 53, length 24');
const F2 = hex(V4('20 01 # MF, offset 1 (8 bytes)') + '41 41 41 41 41 41 41 41 # AAAAAAAA');
const F3 = hex(V4('00 02 # last, offset 2 (16 bytes)') + '42 42 42 42 42 42 42 42 # BBBBBBBB');
const V4_RAW = 228;

function assertHeld(t: TT, out: DecodedPacket, what: string): void {
  t.equal(out.fragmentHeld, true, `${what}: held`);
  t.equal(out.reassembled, false, `${what}: not reassembled`);
  t.equal(out.l4, L4.None, `${what}: no L4`);
  t.equal(out.srcPort, 0);
  t.equal(out.ipProto, 17, `${what}: protocol known`);
  t.equal(out.ipId, 0xabcd);
}

function assertComplete(t: TT, out: DecodedPacket, body = 'AAAAAAAABBBBBBBB'): void {
  t.equal(out.fragmentHeld, false, 'completing fragment is not held');
  t.equal(out.reassembled, true, 'reassembled');
  t.equal(out.l4, L4.UDP);
  t.equal(out.srcPort, 5000);
  t.equal(out.dstPort, 53);
  t.equal(out.src4, 0x0a000001);
  t.equal(out.payloadOffset, 8, 'offset in the reassembled copy');
  t.equal(out.payloadWireLength, 16);
  t.equal(payload(out), body);
}

t.test('IPv4 fragments in order', async (t) => {
  const f = new Feeder();
  assertHeld(t, f.feed(F1, V4_RAW), 'first');
  t.same(f.dec.fragmentsHeld, { datagrams: 1, bytes: 8 });
  assertHeld(t, f.feed(F2, V4_RAW), 'second');
  t.same(f.dec.fragmentsHeld, { datagrams: 1, bytes: 16 });
  assertComplete(t, f.feed(F3, V4_RAW));
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 }, 'a completed datagram is released');
  t.same(f.an, {});
  // the next packet is decoded from its own buffer again
  const out = f.feed(hex(V4('00 00', '00 20') + '13 88 00 35 00 0c 00 00 61 62 63 64'), V4_RAW, 1000, false);
  t.equal(out.reassembled, false);
  t.equal(payload(out), 'abcd');
});

t.test('IPv4 fragments out of order and reversed', async (t) => {
  for (const order of [
    [F3, F1, F2],
    [F3, F2, F1],
    [F2, F3, F1],
  ]) {
    const f = new Feeder();
    f.feed(order[0]!, V4_RAW);
    t.equal(f.out.fragmentHeld, true);
    f.feed(order[1]!, V4_RAW);
    t.equal(f.out.fragmentHeld, true);
    assertComplete(t, f.feed(order[2]!, V4_RAW));
    t.same(f.an, {});
  }
});

t.test('IPv4 duplicate fragment: overlap with the same data', async (t) => {
  const f = new Feeder();
  f.feed(F1, V4_RAW);
  f.feed(F2, V4_RAW);
  f.feed(F2, V4_RAW);
  t.same(f.an, { ipv4_frag_overlap: 1 });
  t.same(f.dec.fragmentsHeld, { datagrams: 1, bytes: 16 }, 'the duplicate is not held twice');
  assertComplete(t, f.feed(F3, V4_RAW));
});

t.test('IPv4 overlap with different data: first data wins', async (t) => {
  // offset 1, 16 bytes: CCCCCCCC over the AAAAAAAA already held, then BBBBBBBB; last fragment
  const F23 = hex(V4('00 01 # last, offset 1', '00 24') + '43 43 43 43 43 43 43 43 42 42 42 42 42 42 42 42');
  const f = new Feeder();
  f.feed(F1, V4_RAW);
  f.feed(F2, V4_RAW);
  assertComplete(t, f.feed(F23, V4_RAW));
  t.same(f.an, { ipv4_frag_overlap: 1, ipv4_frag_overlap_differs: 1 });
  // the other way round: the Cs came first and stay
  const g = new Feeder();
  g.feed(F23, V4_RAW);
  g.feed(F2, V4_RAW);
  assertComplete(t, g.feed(F1, V4_RAW), 'CCCCCCCCBBBBBBBB');
  t.same(g.an, { ipv4_frag_overlap: 1, ipv4_frag_overlap_differs: 1 });
});

t.test('IPv4 inconsistent ends and oversize fragments are ignored', async (t) => {
  const f = new Feeder();
  f.feed(F3, V4_RAW);
  const past = f.feed(hex(V4('20 03 # MF, offset 3: past the end (24)') + '44 44 44 44 44 44 44 44'), V4_RAW);
  t.equal(past.fragmentHeld, false);
  t.same(f.an, { ipv4_frag_inconsistent: 1 });
  f.feed(hex(V4('00 01 # a second last fragment ending at 16') + '41 41 41 41 41 41 41 41'), V4_RAW);
  t.same(f.an, { ipv4_frag_inconsistent: 2 });
  f.feed(F1, V4_RAW);
  assertComplete(t, f.feed(F2, V4_RAW));
  const big = f.feed(hex(V4('3f ff # MF, offset 8191*8 = 65528') + '00 00 00 00 00 00 00 00'), V4_RAW);
  t.equal(big.fragmentHeld, false);
  t.equal(f.an.ipv4_frag_too_large, 1);
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });
});

t.test('IPv4 fragment table limits', async (t) => {
  const idd = (n: number) => `00 ${n.toString(16).padStart(2, '0')}`;
  const first = (n: number) => hex(V4('20 00', '00 1c', idd(n)) + '13 88 00 35 00 18 00 00');
  const rest = (n: number) => [
    hex(V4('20 01', '00 1c', idd(n)) + '41 41 41 41 41 41 41 41'),
    hex(V4('00 02', '00 1c', idd(n)) + '42 42 42 42 42 42 42 42'),
  ];
  // two datagrams at most: a third evicts the oldest (id 1)
  const f = new Feeder({ maxFragmentDatagrams: 2 });
  f.feed(first(1), V4_RAW);
  f.feed(first(2), V4_RAW);
  f.feed(first(3), V4_RAW);
  t.same(f.an, { ipv4_frag_limit: 1 });
  t.same(f.dec.fragmentsHeld, { datagrams: 2, bytes: 16 });
  for (const p of rest(2)) f.feed(p, V4_RAW);
  assertComplete(t, f.out);
  const [a, b] = rest(1);
  f.feed(a!, V4_RAW);
  f.feed(b!, V4_RAW);
  t.equal(f.out.reassembled, false, 'the evicted datagram cannot complete any more');
  t.equal(f.out.fragmentHeld, true);

  // 16 bytes at most: the datagram needs 24
  const g = new Feeder({ maxFragmentBytes: 16 });
  g.feed(F1, V4_RAW);
  g.feed(F2, V4_RAW);
  t.same(g.an, {});
  const last = g.feed(F3, V4_RAW);
  t.equal(last.fragmentHeld, false);
  t.equal(last.reassembled, false);
  t.same(g.an, { ipv4_frag_limit: 1 });
  t.same(g.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });

  // bytes limit evicts older datagrams first
  const h = new Feeder({ maxFragmentBytes: 16 });
  h.feed(first(1), V4_RAW);
  h.feed(first(2), V4_RAW);
  h.feed(rest(2)[0]!, V4_RAW);
  t.same(h.an, { ipv4_frag_limit: 1 });
  t.same(h.dec.fragmentsHeld, { datagrams: 1, bytes: 16 });
});

t.test('a table that may hold no datagram reassembles nothing', async (t) => {
  const f = new Feeder({ maxFragmentDatagrams: 0 });
  for (const p of [F1, F2, F3]) {
    const out = f.feed(p, V4_RAW);
    t.equal(out.fragmentHeld, false);
    t.equal(out.reassembled, false);
    t.equal(out.l4, L4.None);
  }
  t.same(f.an, { ipv4_frag_limit: 3 });
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });
});

t.test('IPv4 fragment timeout in capture time', async (t) => {
  const f = new Feeder({ fragmentTimeoutSec: 30 });
  f.feed(F1, V4_RAW, 100);
  f.feed(F2, V4_RAW, 130);
  t.same(f.an, {}, '30 s is not yet more than 30 s');
  f.feed(F3, V4_RAW, 131);
  t.same(f.an, { ipv4_frag_timeout: 1 });
  t.equal(f.out.reassembled, false, 'the rest of an expired datagram starts a new one');
  t.equal(f.out.fragmentHeld, true);
  t.same(f.dec.fragmentsHeld, { datagrams: 1, bytes: 8 });
  f.feed(F1, V4_RAW, 132);
  assertComplete(t, f.feed(F2, V4_RAW, 133));
  // a later unrelated packet expires what is left
  f.feed(F1, V4_RAW, 200);
  f.feed(hex(V4('00 00', '00 20') + '13 88 00 35 00 0c 00 00 61 62 63 64'), V4_RAW, 300);
  t.same(f.an, { ipv4_frag_timeout: 2 });
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });
});

t.test('IPv4 fragment cut by the snap length is not held', async (t) => {
  const f = new Feeder();
  const r = newPacketRecord();
  r.data = F2;
  r.caplen = 24;
  r.origlen = F2.length;
  r.linktype = V4_RAW;
  f.dec.decode(r, f.out);
  t.equal(f.out.fragmentHeld, false);
  t.same(f.an, { payload_truncated: 1 });
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });
});

// IPv6: fe80::1 -> fe80::2, Fragment header id 42, UDP 5000 -> 53.
const V6 = (plen: string) => `
  60 00 00 00 ${plen} 2c 40   # payload length | next header 44 (fragment) | hop limit 64
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02
`;
const G1 = hex(V6('00 18') + '11 00 00 01 00 00 00 2a # next UDP, offset 0, M, id 42\n' +
  '13 88 00 35 00 18 00 00 41 41 41 41 41 41 41 41 # UDP 5000 -> 53 length 24, AAAAAAAA');
const G2 = hex(V6('00 10') + '11 00 00 10 00 00 00 2a # offset 2 (16 bytes), last\n' + '42 42 42 42 42 42 42 42');
const V6_RAW = 229;

t.test('IPv6 fragments', async (t) => {
  const f = new Feeder();
  let out = f.feed(G2, V6_RAW);
  t.equal(out.fragmentHeld, true);
  t.equal(out.ipId, 42);
  t.equal(out.l4, L4.None);
  out = f.feed(G1, V6_RAW);
  t.equal(out.reassembled, true);
  t.equal(out.ipProto, 17);
  t.equal(out.ipId, 42);
  t.same([...out.src6], [0xfe800000, 0, 0, 1]);
  t.equal(out.l4, L4.UDP);
  t.equal(out.srcPort, 5000);
  t.equal(out.dstPort, 53);
  t.equal(payload(out), 'AAAAAAAABBBBBBBB');
  t.same(f.an, {});
  t.same(f.dec.fragmentsHeld, { datagrams: 0, bytes: 0 });
});

t.test('IPv6 fragment ending past 65535 bytes', async (t) => {
  const f = new Feeder();
  const frag = hex(V6('00 10') + '11 00 ff f9 00 00 00 2b # offset 65528, M, id 43\n 00 00 00 00 00 00 00 00');
  const out = f.feed(frag, V6_RAW);
  t.equal(out.fragmentHeld, false);
  t.same(f.an, { ipv6_frag_too_large: 1 });
});

t.test('IPv6 fragment with destination options after the Fragment header, and overlap', async (t) => {
  // the fragmentable part starts with a destination options header, then UDP
  const H1 = hex(V6('00 18') + '3c 00 00 01 00 00 00 07 # next destination options, offset 0, M, id 7\n' +
    '11 00 01 04 00 00 00 00 # destination options: next UDP, PadN\n 13 88 00 35 00 18 00 00 # UDP length 24');
  const H2 = hex(V6('00 18') + '3c 00 00 10 00 00 00 07 # offset 16, last\n' + '41'.repeat(8) + '42'.repeat(8));
  const H2b = hex(V6('00 18') + '3c 00 00 10 00 00 00 07 # same range, other data\n' + '5a'.repeat(8) + '42'.repeat(8));
  const f = new Feeder();
  f.feed(H2, V6_RAW);
  f.feed(H2b, V6_RAW);
  t.same(f.an, { ipv6_frag_overlap: 1, ipv6_frag_overlap_differs: 1 });
  const out = f.feed(H1, V6_RAW);
  t.equal(out.reassembled, true);
  t.equal(out.l4, L4.UDP);
  t.equal(out.payloadOffset, 16);
  t.equal(payload(out), 'AAAAAAAABBBBBBBB');
});

t.test('IPv4 and IPv6 datagrams with equal ids do not mix; limits count per version', async (t) => {
  const f = new Feeder({ maxFragmentDatagrams: 1 });
  f.feed(F1, V4_RAW);
  f.feed(G2, V6_RAW);
  t.same(f.an, { ipv4_frag_limit: 1 }, 'the IPv4 datagram was evicted');
  t.same(f.dec.fragmentsHeld, { datagrams: 1, bytes: 8 });
  f.feed(G1, V6_RAW);
  t.equal(f.out.reassembled, true);
  const g = new Feeder({ fragmentTimeoutSec: 1 });
  g.feed(G1, V6_RAW, 10);
  g.feed(F1, V4_RAW, 20);
  t.same(g.an, { ipv6_frag_timeout: 1 });
});

t.test('GTP-U inner fragments reassemble too', async (t) => {
  // outer IPv4/UDP 2152/GTP-U around each IPv4 fragment F1..F3 (28 bytes each)
  const wrap = (inner: Uint8Array) =>
    new Uint8Array([
      ...hex(`45 00 00 40 00 00 00 00 40 11 00 00 c0 a8 00 01 c0 a8 00 02 # outer IPv4, total 64
              08 68 08 68 00 2c 00 00 # UDP 2152 -> 2152, length 44
              30 ff 00 1c 00 00 00 09 # G-PDU, length 28, TEID 9`),
      ...inner,
    ]);
  const f = new Feeder();
  f.feed(wrap(F2), V4_RAW);
  t.equal(f.out.fragmentHeld, true);
  t.equal(f.out.tunnelDepth, 1);
  f.feed(wrap(F1), V4_RAW);
  const out = f.feed(wrap(F3), V4_RAW);
  t.equal(out.tunnelDepth, 1);
  t.equal(out.gtpTeid, 9);
  assertComplete(t, out);
  t.same(f.an, {});
});
