/**
 * Synthetic TCP/UDP packets fed straight to the flow table (already "decoded"): for re-segmentation, timeout,
 * eviction and flood tests, where the interesting thing is the order and shape of segments, not their encoding.
 */
import { newPacketRecord, type PacketRecord } from '../../src/decoders/capture/record.js';
import { L4, Net, newDecodedPacket, TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, type DecodedPacket } from '../../src/decoders/net/decoded.js';

export interface Endpoints {
  client: number; // IPv4 as a number
  cport: number;
  server: number;
  sport: number;
}

export interface Seg {
  dir: 0 | 1;
  seq: number;
  flags: number;
  data: Uint8Array;
}

export function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
}

/** Fill reusable packet objects for one segment. */
export function toPacket(e: Endpoints, s: Seg, tsSec: number, tsNsec: number, proto: 'tcp' | 'udp' = 'tcp', p: DecodedPacket = newDecodedPacket(), rec: PacketRecord = newPacketRecord()): [DecodedPacket, PacketRecord] {
  p.net = Net.IPv4;
  p.ipVersion = 4;
  p.l4 = proto === 'tcp' ? L4.TCP : L4.UDP;
  p.src4 = s.dir === 0 ? e.client : e.server;
  p.dst4 = s.dir === 0 ? e.server : e.client;
  p.srcPort = s.dir === 0 ? e.cport : e.sport;
  p.dstPort = s.dir === 0 ? e.sport : e.cport;
  p.tcpSeq = s.seq >>> 0;
  p.tcpFlags = s.flags;
  p.buf = s.data;
  p.payloadOffset = 0;
  p.payloadLength = s.data.length;
  p.payloadWireLength = s.data.length;
  rec.tsSec = tsSec;
  rec.tsNsec = tsNsec;
  rec.origlen = 54 + s.data.length;
  rec.caplen = rec.origlen;
  return [p, rec];
}

/** A seeded PRNG (xorshift32), so a failing case can be replayed. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

export interface CutOptions {
  /** segment sizes: 'one' byte each, or random 1..max */
  sizes: 'one' | { max: number };
  /** shuffle within a window of this many segments (0: in order) */
  window?: number;
  /** probability of an exact duplicate of a segment */
  duplicates?: number;
  /** probability of an extra segment re-sending a random sub-range that straddles segment boundaries */
  overlaps?: number;
}

/** One direction's bytes cut into segments starting at sequence number `isn + 1`. */
export function cut(dir: 0 | 1, bytes: Uint8Array, isn: number, o: CutOptions, rnd: () => number): Seg[] {
  const segs: Seg[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = o.sizes === 'one' ? 1 : 1 + Math.floor(rnd() * o.sizes.max);
    const end = Math.min(bytes.length, at + n);
    segs.push({ dir, seq: (isn + 1 + at) >>> 0, flags: TCP_ACK | TCP_PSH, data: bytes.subarray(at, end) });
    if (o.duplicates && rnd() < o.duplicates) segs.push({ ...segs[segs.length - 1]! });
    if (o.overlaps && rnd() < o.overlaps && bytes.length > 2) {
      const a = Math.max(0, at - Math.floor(rnd() * 50));
      const b = Math.min(bytes.length, end + Math.floor(rnd() * 50));
      segs.push({ dir, seq: (isn + 1 + a) >>> 0, flags: TCP_ACK, data: bytes.subarray(a, b) });
    }
    at = end;
  }
  if (o.window && o.window > 1) {
    for (let i = 0; i < segs.length; i++) {
      const j = Math.min(segs.length - 1, i + Math.floor(rnd() * o.window));
      [segs[i], segs[j]] = [segs[j]!, segs[i]!];
    }
  }
  return segs;
}

/** A whole connection: handshake, both directions' data interleaved, FINs. */
export function connection(streams: [Uint8Array, Uint8Array], isn: [number, number], o: CutOptions, rnd: () => number): Seg[] {
  const [c, s] = [cut(0, streams[0], isn[0], o, rnd), cut(1, streams[1], isn[1], o, rnd)];
  const out: Seg[] = [
    { dir: 0, seq: isn[0], flags: TCP_SYN, data: new Uint8Array(0) },
    { dir: 1, seq: isn[1], flags: TCP_SYN | TCP_ACK, data: new Uint8Array(0) },
  ];
  let i = 0;
  let j = 0;
  while (i < c.length || j < s.length) {
    if (j >= s.length || (i < c.length && rnd() < 0.5)) out.push(c[i++]!);
    else out.push(s[j++]!);
  }
  out.push({ dir: 0, seq: (isn[0] + 1 + streams[0].length) >>> 0, flags: TCP_FIN | TCP_ACK, data: new Uint8Array(0) });
  out.push({ dir: 1, seq: (isn[1] + 1 + streams[1].length) >>> 0, flags: TCP_FIN | TCP_ACK, data: new Uint8Array(0) });
  return out;
}
