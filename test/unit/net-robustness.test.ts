// Robustness: every valid sample packet cut at every length, and a few thousand seeded random mutations. The decoder
// must never throw, never read past the captured bytes (a cut packet in a longer buffer decodes exactly as the same
// bytes in a buffer of their own), keep its output self-consistent, and still decode valid packets correctly after.
import t from 'tap';
import { newPacketRecord, type PacketRecord } from '../../src/decoders/capture/record.js';
import { anomalyCounts } from '../../src/decoders/net/anomalies.js';
import { L4, Net, newDecodedPacket, type DecodedPacket } from '../../src/decoders/net/decoded.js';
import { PacketDecoder } from '../../src/decoders/net/decoder.js';

type TT = Parameters<Parameters<typeof t.test>[0]>[0];

/** Bytes from hex written with whitespace and `#` comments. */
function hex(s: string): Uint8Array {
  const h = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new Error(`bad hex: ${h}`);
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

const ETH = '00 11 22 33 44 55 66 77 88 99 aa bb # MACs\n';
const V4_TCP_OPTS = `
  45 00 00 40 00 01 40 00 40 06 00 00   # IPv4, total 64, TCP
  c0 00 02 01 c6 33 64 02               # 192.0.2.1 -> 198.51.100.2
  c3 50 00 16 00 00 00 01 00 00 00 00   # ports 50000 -> 22, seq 1, ack 0
  a0 02 fa f0 00 00 00 00               # data offset 10, SYN, window 64240
  02 04 05 b4 04 02 08 0a 00 01 e2 40 00 00 00 00 01 03 03 07   # MSS, SACK-perm, TS, NOP, WS
  68 65 6c 6c 6f 21 21 21               # payload "hello!!!"
`;
const V4_OPTS_UDP = `
  47 00 00 28 00 02 00 00 40 11 00 00   # IPv4, IHL 7, total 40, UDP
  0a 00 00 01 0a 00 00 02
  07 07 04 00 00 00 00 01               # record route option, NOP
  13 88 00 35 00 0c 00 00 61 62 63 64   # UDP 5000 -> 53, "abcd"
`;
const V6_CHAIN = `
  60 00 00 00 00 34 00 40               # IPv6, payload 52, hop-by-hop
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02
  3c 00 01 04 00 00 00 00               # hop-by-hop -> destination options
  2b 00 01 04 00 00 00 00               # destination options -> routing
  2c 00 00 00 00 00 00 00               # routing -> fragment
  3a 00 00 00 00 00 00 01               # atomic fragment -> ICMPv6
  80 00 00 00 00 01 00 01               # ICMPv6 echo request, id 1, sequence 1
  70 69 6e 67 70 6f 6e 67 21 21 21 21   # "pingpong!!!!" (payload length 52 = 32 + 20)
`;
const GTP = `
  45 00 00 54 00 00 00 00 40 11 00 00 c0 a8 00 01 c0 a8 00 02   # outer IPv4, total 84
  08 68 08 68 00 40 00 00               # UDP 2152, length 64
  36 ff 00 30 00 00 04 d2               # GTP E+S, G-PDU, length 48, TEID 1234
  00 01 00 85 01 00 09 00               # seq 1, next ext 0x85; PDU session container, no further ext
  45 00 00 28 00 63 00 00 40 06 00 00 0a 2d 00 07 08 08 08 08   # inner IPv4, total 40, TCP
  c0 01 00 50 00 00 00 01 00 00 00 02 50 18 01 00 00 00 00 00   # TCP 49153 -> 80, PSH+ACK
`;

const SAMPLES: [string, number, string][] = [
  ['Ethernet IPv4 TCP options', 1, ETH + '08 00\n' + V4_TCP_OPTS],
  [
    'Ethernet QinQ PPPoE IPv4',
    1,
    ETH + '88 a8 02 f5 81 00 00 01 # QinQ\n 88 64 11 00 00 07 00 2a 00 21 # PPPoE length 42, IPv4\n' + V4_OPTS_UDP,
  ],
  ['802.3 LLC/SNAP', 1, ETH + '00 30 aa aa 03 00 00 00 08 00 # 802.3 length 48\n' + V4_OPTS_UDP],
  ['SLL IPv6 chain', 113, '00 00 00 01 00 06 00 11 22 33 44 55 00 00 86 dd\n' + V6_CHAIN],
  ['SLL2 VLAN IPv4', 276, '81 00 00 00 00 00 00 02 00 01 00 06 00 11 22 33 44 55 00 00 00 64 08 00\n' + V4_TCP_OPTS],
  ['NULL', 0, '02 00 00 00\n' + V4_OPTS_UDP],
  ['LOOP IPv6', 108, '00 00 00 18\n' + V6_CHAIN],
  ['raw GTP-U', 101, GTP],
  ['PPP', 9, 'ff 03 00 21\n' + V4_TCP_OPTS],
  ['PPP compressed', 9, '21\n' + V4_OPTS_UDP],
  ['Cisco HDLC', 50, '0f 00 86 dd\n' + V6_CHAIN],
  ['PPP_ETHER', 51, '11 00 00 2a 00 2a 00 21\n' + V4_OPTS_UDP],
  ['IPv4 raw', 228, V4_TCP_OPTS],
  ['IPv6 raw', 229, V6_CHAIN],
  ['IPv4 fragment', 228, '45 00 00 1c ab cd 20 00 40 11 00 00 0a 00 00 01 0a 00 00 02 13 88 00 35 00 18 00 00'],
  [
    'IPv6 fragment',
    229,
    '60 00 00 00 00 18 2c 40 ' + 'fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 01 '.repeat(2) +
      '11 00 00 01 00 00 00 2a 13 88 00 35 00 18 00 00 41 41 41 41 41 41 41 41',
  ],
];

/** All fields as plain data, payload bytes included; integers are checked to be integers (no NaN from a bad read). */
function snapshot(out: DecodedPacket): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out)) {
    if (k === 'buf') continue;
    if (v instanceof Uint32Array) s[k] = [...v];
    else s[k] = v;
  }
  s.payload = Buffer.from(out.buf.subarray(out.payloadOffset, out.payloadOffset + out.payloadLength)).toString('hex');
  return s;
}

/** Returns a description of the first broken invariant, or '' when the output is self-consistent. */
function inconsistency(out: DecodedPacket, rec: PacketRecord, maxDepth = 4): string {
  for (const [k, v] of Object.entries(out)) {
    if (typeof v === 'number' && !Number.isInteger(v)) return `${k} is ${v}`;
  }
  if (out.payloadLength < 0) return 'negative payload length';
  if (out.payloadLength > out.payloadWireLength) return 'more payload captured than announced';
  if (out.payloadLength > 0) {
    if (out.reassembled) {
      if (out.buf === rec.data) return 'reassembled but buf is the record buffer';
      if (out.payloadOffset + out.payloadLength > out.buf.length) return 'payload beyond the reassembly buffer';
    } else {
      if (out.buf !== rec.data) return 'buf is not the record buffer';
      if (out.payloadOffset < rec.offset || out.payloadOffset + out.payloadLength > rec.offset + rec.caplen)
        return 'payload outside the captured bytes';
    }
  }
  if (out.l4 !== L4.TCP && out.l4 !== L4.UDP && (out.srcPort !== 0 || out.dstPort !== 0)) return 'ports without TCP/UDP';
  if (out.l4 !== L4.None && out.ipVersion === 0) return 'L4 without a decoded IP header';
  if (out.ipVersion === 4 && out.net !== Net.IPv4) return 'IPv4 header but net is not IPv4';
  if (out.ipVersion === 6 && out.net !== Net.IPv6) return 'IPv6 header but net is not IPv6';
  if (out.fragmentHeld && out.l4 !== L4.None) return 'held fragment with L4';
  if (out.tunnelDepth > maxDepth) return 'tunnel too deep';
  if (out.tunnelDepth > 0 && out.gtpTeid < 0) return 'tunnel without TEID';
  const v6Set = out.src6.some((w) => w !== 0) || out.dst6.some((w) => w !== 0);
  if (out.ipVersion === 4 && v6Set) return 'IPv4 with IPv6 addresses';
  return '';
}

/** Payload offsets relative to the record start, so packets at different offsets compare equal. */
function normalized(out: DecodedPacket, r: PacketRecord): Record<string, unknown> {
  const s = snapshot(out);
  // An unset offset is 0; a set one lies past at least an IP header, so it is never r.offset itself.
  if (!out.reassembled && out.payloadOffset !== 0) s.payloadOffset = out.payloadOffset - r.offset;
  return s;
}

function rec(data: Uint8Array, offset: number, caplen: number, origlen: number, linktype: number, tsSec = 1): PacketRecord {
  const r = newPacketRecord();
  r.data = data;
  r.offset = offset;
  r.caplen = caplen;
  r.origlen = origlen;
  r.linktype = linktype;
  r.tsSec = tsSec;
  return r;
}

t.test('samples decode without anomalies', async (t) => {
  for (const [name, lt, h] of SAMPLES) {
    const dec = new PacketDecoder();
    const out = newDecodedPacket();
    const bytes = hex(h);
    const r = rec(bytes, 0, bytes.length, bytes.length, lt);
    dec.decode(r, out);
    t.same(anomalyCounts(dec.anomalies), {}, name);
    t.equal(inconsistency(out, r), '', name);
    t.not(out.ipVersion, 0, `${name}: IP decoded`);
    t.ok(out.l4 !== L4.None || out.fragmentHeld, `${name}: L4 decoded or fragment held`);
  }
});

t.test('every sample cut at every length', async (t: TT) => {
  let checked = 0;
  for (const [name, lt, h] of SAMPLES) {
    const bytes = hex(h);
    const n = bytes.length;
    const full = newDecodedPacket();
    new PacketDecoder().decode(rec(bytes, 0, n, n, lt), full);
    const want = snapshot(full);
    for (let cut = 0; cut <= n; cut++) {
      for (const origlen of [n, cut]) {
        // the same bytes: in the whole packet's buffer at an offset, and in a buffer of their own
        const big = new Uint8Array(n + 16).fill(0xa5);
        big.set(bytes, 7);
        const own = bytes.slice(0, cut);
        const d1 = new PacketDecoder();
        const d2 = new PacketDecoder();
        const o1 = newDecodedPacket();
        const o2 = newDecodedPacket();
        const r1 = rec(big, 7, cut, origlen, lt);
        const r2 = rec(own, 0, cut, origlen, lt);
        let threw = '';
        try {
          d1.decode(r1, o1);
          d2.decode(r2, o2);
        } catch (e) {
          threw = String(e);
        }
        const what = `${name} cut at ${cut}/${n}${origlen === cut ? ' (not snap-cut)' : ''}`;
        if (threw) {
          t.fail(`${what}: threw ${threw}`);
          continue;
        }
        const s1 = normalized(o1, r1);
        const s2 = normalized(o2, r2);
        const a1 = anomalyCounts(d1.anomalies);
        if (JSON.stringify(s1) !== JSON.stringify(s2)) t.fail(`${what}: result depends on bytes past caplen`);
        const bad = inconsistency(o1, r1) || inconsistency(o2, r2);
        if (bad) t.fail(`${what}: ${bad}`);
        if (JSON.stringify(a1) !== JSON.stringify(anomalyCounts(d2.anomalies))) {
          t.fail(`${what}: anomalies depend on bytes past caplen`);
        }
        if (cut === n) {
          t.same(a1, {}, `${what}: whole packet`);
          t.same(s2, want);
        } else if (Object.keys(a1).length === 0) {
          // no anomaly: only Ethernet padding or nothing of consequence was cut, so the result is the full one
          if (JSON.stringify(s2) !== JSON.stringify(want)) t.fail(`${what}: no anomaly but a different result`);
        }
        checked++;
      }
    }
  }
  t.ok(checked > 1000, `${checked} cuts checked`);
});

/** mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// Byte values that are lengths, versions, protocol numbers or type bytes somewhere in the samples.
const INTERESTING = [
  0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0f, 0x11, 0x2c, 0x3a, 0x3c, 0x40, 0x45, 0x60, 0x7f, 0x80, 0x81, 0x86, 0x88,
  0xdd, 0xfe, 0xff,
];
const LINKTYPES = [0, 1, 9, 12, 14, 50, 51, 101, 108, 113, 228, 229, 276, 147];

t.test('random mutations never throw, never read past caplen, and leave the decoder working', async (t) => {
  const rnd = prng(0x1a2b3c4d);
  const samples = SAMPLES.map(([name, lt, h]) => ({ name, lt, bytes: hex(h) }));
  // two decoders fed the same packets, one from exact buffers and one from padded ones, must agree throughout
  const opts = [{}, { maxFragmentDatagrams: 3, maxFragmentBytes: 64, fragmentTimeoutSec: 5, maxTunnelDepth: 2 }];
  for (const opt of opts) {
    const exact = new PacketDecoder(opt);
    const padded = new PacketDecoder(opt);
    const o1 = newDecodedPacket();
    const o2 = newDecodedPacket();
    let failures = 0;
    const N = 4000;
    for (let i = 0; i < N && failures < 5; i++) {
      const s = samples[Math.floor(rnd() * samples.length)]!;
      const b = s.bytes.slice();
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rnd() * b.length);
        b[at] = rnd() < 0.5 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : Math.floor(rnd() * 256);
      }
      let len = b.length;
      if (rnd() < 0.3) len = Math.floor(rnd() * (b.length + 1));
      const lt = rnd() < 0.1 ? LINKTYPES[Math.floor(rnd() * LINKTYPES.length)]! : s.lt;
      const origlen = rnd() < 0.5 ? len : b.length;
      const own = b.slice(0, len);
      const pad = 1 + Math.floor(rnd() * 5);
      const big = new Uint8Array(pad + b.length + 8);
      for (let k = 0; k < big.length; k++) big[k] = Math.floor(rnd() * 256);
      big.set(own, pad);
      const ts = 1 + Math.floor(i / 10);
      const r1 = rec(own, 0, len, origlen, lt, ts);
      const r2 = rec(big, pad, len, origlen, lt, ts);
      try {
        exact.decode(r1, o1);
        padded.decode(r2, o2);
      } catch (e) {
        failures++;
        t.fail(`iteration ${i} (${s.name}) threw ${String(e)}`);
        continue;
      }
      const bad = inconsistency(o1, r1, opt.maxTunnelDepth ?? 4) || inconsistency(o2, r2, opt.maxTunnelDepth ?? 4);
      const s1 = normalized(o1, r1);
      const s2 = normalized(o2, r2);
      if (bad || JSON.stringify(s1) !== JSON.stringify(s2)) {
        failures++;
        t.fail(`iteration ${i} (${s.name}): ${bad || 'result depends on bytes outside the record'}`, {
          bytes: Buffer.from(own).toString('hex'),
          linktype: lt,
        });
      }
    }
    t.same(anomalyCounts(exact.anomalies), anomalyCounts(padded.anomalies), 'both decoders counted the same');
    t.ok(Object.keys(anomalyCounts(exact.anomalies)).length > 15, 'mutations reached many anomaly codes');
    t.equal(failures, 0, 'no failure');
    // Capture time moves on: the incomplete datagrams the mutations left expire.
    const first = samples[0]!;
    exact.decode(rec(first.bytes, 0, first.bytes.length, first.bytes.length, first.lt, 1e6), o1);
    t.same(exact.fragmentsHeld, { datagrams: 0, bytes: 0 }, 'left-over fragments expired');
    // The same instance still decodes every valid (non-fragment) sample exactly as a fresh decoder does.
    for (const s of samples) {
      if (s.name.includes('fragment')) continue;
      const fresh = newDecodedPacket();
      new PacketDecoder(opt).decode(rec(s.bytes, 0, s.bytes.length, s.bytes.length, s.lt, 1e6), fresh);
      const before = anomalyCounts(exact.anomalies);
      exact.decode(rec(s.bytes, 0, s.bytes.length, s.bytes.length, s.lt, 1e6), o1);
      t.same(snapshot(o1), snapshot(fresh), `${s.name} after fuzzing`);
      t.same(anomalyCounts(exact.anomalies), before, `${s.name}: no new anomaly`);
    }
  }
});
