/**
 * Reassembly of IP fragments: IPv4 (RFC 791 §3.2, datagrams keyed by source, destination, protocol and
 * identification) and IPv6 (RFC 8200 §4.5, keyed by source, destination and the Fragment header's identification).
 * Both versions share one table and its limits, but keys never match across versions.
 *
 * Fragments are copied (the capture buffer is reused after each packet). On overlap the data that arrived first wins
 * (as most hosts do since RFC 5722 made overlaps suspect) and the overlap is counted, separately when the bytes differ,
 * because differing overlaps are how IDS evasion is attempted. The table is bounded in datagrams and in bytes held,
 * evicting the oldest datagram when full, and incomplete datagrams expire by capture time, not wall-clock time, so a
 * capture decodes the same way however fast it is read.
 */
import { anomalyIndex } from './anomalies.js';

const A4_OVERLAP = anomalyIndex('ipv4_frag_overlap');
const A4_DIFFERS = anomalyIndex('ipv4_frag_overlap_differs');
const A4_LIMIT = anomalyIndex('ipv4_frag_limit');
const A4_TIMEOUT = anomalyIndex('ipv4_frag_timeout');
const A4_INCONSISTENT = anomalyIndex('ipv4_frag_inconsistent');
const A6_OVERLAP = anomalyIndex('ipv6_frag_overlap');
const A6_DIFFERS = anomalyIndex('ipv6_frag_overlap_differs');
const A6_LIMIT = anomalyIndex('ipv6_frag_limit');
const A6_TIMEOUT = anomalyIndex('ipv6_frag_timeout');
const A6_INCONSISTENT = anomalyIndex('ipv6_frag_inconsistent');

/** `add*` result: the fragment was kept (or was a duplicate) and the datagram is still incomplete. */
export const FRAG_HELD = -1;
/** `add*` result: the fragment was not kept (inconsistent, or the table could not hold it). */
export const FRAG_DROPPED = -2;

/** A run of fragment data, `[start, end)` in datagram payload coordinates. */
class Piece {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly bytes: Uint8Array,
  ) {}
}

class Datagram {
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IPv4: the protocol (part of the key). IPv6: the next header of the offset-0 fragment, -1 until it arrives. */
  proto = -1;
  /** Payload length, known once the last fragment (MF/M clear) arrived; -1 before. */
  total = -1;
  /** Bytes held; the pieces never overlap, so the datagram is complete when held === total. */
  held = 0;
  /** Sorted by start, disjoint. */
  readonly pieces: Piece[] = [];
  /** Next datagram with the same hash. */
  hnext: Datagram | null = null;
  older: Datagram | null = null;
  newer: Datagram | null = null;

  constructor(
    readonly v6: boolean,
    readonly hash: number,
    readonly id: number,
    readonly firstSeen: number,
  ) {}
}

function hash4(src: number, dst: number, proto: number, id: number): number {
  let h = Math.imul(src ^ 0x5bd1e995, 0x9e3779b1);
  h = Math.imul(h ^ dst, 0x85ebca6b);
  h = Math.imul(h ^ (id | (proto << 16)), 0xc2b2ae35);
  return (h ^ (h >>> 15)) | 0;
}

function hash6(src: Uint32Array, dst: Uint32Array, id: number): number {
  let h = 0x6a09e667 ^ id;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ src[i]!, 0x9e3779b1);
    h = Math.imul(h ^ dst[i]!, 0x85ebca6b);
  }
  return (h ^ (h >>> 15)) | 0;
}

export class FragmentTable {
  /** Datagrams currently held (complete ones are removed at once). */
  datagrams = 0;
  /** Fragment bytes currently held, over all datagrams. */
  bytes = 0;
  /** The last reassembled payload, `buf[0, total)`; valid until the next completion. */
  buf = new Uint8Array(0);
  /** IPv6: the next header of the last reassembled datagram (from its offset-0 fragment). */
  nextHeader = -1;

  private readonly index = new Map<number, Datagram>();
  private oldest: Datagram | null = null;
  private newest: Datagram | null = null;
  /** Scratch list of [start, end) pairs not yet covered by the datagram a fragment belongs to. */
  private readonly gaps: number[] = [];

  constructor(
    private readonly maxDatagrams: number,
    private readonly maxBytes: number,
    private readonly timeoutSec: number,
    private readonly anomalies: Uint32Array,
  ) {}

  /** Drops incomplete datagrams whose first fragment is older than the timeout at capture time `now` (seconds). */
  expire(now: number): void {
    let d = this.oldest;
    while (d !== null && now - d.firstSeen > this.timeoutSec) {
      this.anomalies[d.v6 ? A6_TIMEOUT : A4_TIMEOUT]!++;
      this.remove(d);
      d = this.oldest;
    }
  }

  /**
   * Adds an IPv4 fragment: `len` payload bytes at `data[off]` belonging at `fragOff` of the datagram; `more` is the MF
   * flag; no fragment may end past `maxEnd`. Returns the reassembled payload length when this fragment completes the
   * datagram (the payload is then in `buf`), else FRAG_HELD or FRAG_DROPPED.
   */
  add4(
    src: number,
    dst: number,
    proto: number,
    id: number,
    data: Uint8Array,
    off: number,
    len: number,
    fragOff: number,
    more: boolean,
    now: number,
  ): number {
    const h = hash4(src, dst, proto, id);
    let d = this.index.get(h) ?? null;
    while (d !== null && (d.v6 || d.id !== id || d.proto !== proto || d.src[0] !== src || d.dst[0] !== dst)) {
      d = d.hnext;
    }
    if (d === null) {
      d = this.create(false, h, id, now);
      if (d === null) return FRAG_DROPPED;
      d.src[0] = src;
      d.dst[0] = dst;
      d.proto = proto;
    }
    return this.add(d, data, off, len, fragOff, more, -1);
  }

  /** As add4 for an IPv6 fragment; `nextHeader` is the Fragment header's, meaningful in the offset-0 fragment. */
  add6(
    src: Uint32Array,
    dst: Uint32Array,
    id: number,
    nextHeader: number,
    data: Uint8Array,
    off: number,
    len: number,
    fragOff: number,
    more: boolean,
    now: number,
  ): number {
    const h = hash6(src, dst, id);
    let d = this.index.get(h) ?? null;
    while (d !== null && !(d.v6 && d.id === id && sameAddr(d.src, src) && sameAddr(d.dst, dst))) d = d.hnext;
    if (d === null) {
      d = this.create(true, h, id, now);
      if (d === null) return FRAG_DROPPED;
      d.src.set(src);
      d.dst.set(dst);
    }
    return this.add(d, data, off, len, fragOff, more, nextHeader);
  }

  /** A new datagram, evicting the oldest when the table is full; null when the table may hold none at all. */
  private create(v6: boolean, h: number, id: number, now: number): Datagram | null {
    if (this.maxDatagrams <= 0) {
      this.anomalies[v6 ? A6_LIMIT : A4_LIMIT]!++;
      return null;
    }
    if (this.datagrams >= this.maxDatagrams && this.oldest !== null) {
      this.anomalies[this.oldest.v6 ? A6_LIMIT : A4_LIMIT]!++;
      this.remove(this.oldest);
    }
    const d = new Datagram(v6, h, id, now);
    d.hnext = this.index.get(h) ?? null;
    this.index.set(h, d);
    d.older = this.newest;
    if (this.newest !== null) this.newest.newer = d;
    else this.oldest = d;
    this.newest = d;
    this.datagrams++;
    return d;
  }

  private remove(d: Datagram): void {
    // hash chain
    let p = this.index.get(d.hash) ?? null;
    if (p === d) {
      if (d.hnext === null) this.index.delete(d.hash);
      else this.index.set(d.hash, d.hnext);
    } else {
      while (p !== null && p.hnext !== d) p = p.hnext;
      if (p !== null) p.hnext = d.hnext;
    }
    // age list
    if (d.older !== null) d.older.newer = d.newer;
    else this.oldest = d.newer;
    if (d.newer !== null) d.newer.older = d.older;
    else this.newest = d.older;
    d.older = d.newer = d.hnext = null;
    this.bytes -= d.held;
    this.datagrams--;
  }

  private add(
    d: Datagram,
    data: Uint8Array,
    off: number,
    len: number,
    start: number,
    more: boolean,
    nextHeader: number,
  ): number {
    const an = this.anomalies;
    const end = start + len;
    const pieces = d.pieces;
    const last = pieces.length > 0 ? pieces[pieces.length - 1]!.end : 0;
    // A fragment past the known end, or a second end that disagrees, cannot be placed: ignore it.
    if ((d.total >= 0 && end > d.total) || (!more && ((d.total >= 0 && d.total !== end) || last > end))) {
      an[d.v6 ? A6_INCONSISTENT : A4_INCONSISTENT]!++;
      if (d.held === 0 && d.total < 0) this.remove(d);
      return FRAG_DROPPED;
    }
    if (!more) d.total = end;
    if (start === 0 && d.v6 && d.proto < 0) d.proto = nextHeader;

    // Which parts are new; compare the parts already held.
    const gaps = this.gaps;
    gaps.length = 0;
    let cur = start;
    let overlap = false;
    let differs = false;
    for (let i = 0; i < pieces.length && cur < end; i++) {
      const p = pieces[i]!;
      if (p.end <= cur) continue;
      if (p.start >= end) break;
      if (p.start > cur) gaps.push(cur, p.start);
      const a = p.start > cur ? p.start : cur;
      const b = p.end < end ? p.end : end;
      overlap = true;
      if (!differs) {
        const pb = p.bytes;
        for (let k = a; k < b; k++) {
          if (pb[k - p.start] !== data[off + k - start]) {
            differs = true;
            break;
          }
        }
      }
      cur = b;
    }
    if (cur < end) gaps.push(cur, end);
    if (overlap) {
      an[d.v6 ? A6_OVERLAP : A4_OVERLAP]!++;
      if (differs) an[d.v6 ? A6_DIFFERS : A4_DIFFERS]!++;
    }

    let add = 0;
    for (let i = 0; i < gaps.length; i += 2) add += gaps[i + 1]! - gaps[i]!;
    if (add > 0) {
      // Make room by evicting older datagrams; if this one alone is too big, it goes.
      while (this.bytes + add > this.maxBytes) {
        let victim = this.oldest;
        if (victim === d) victim = d.newer;
        if (victim === null) break;
        an[victim.v6 ? A6_LIMIT : A4_LIMIT]!++;
        this.remove(victim);
      }
      if (this.bytes + add > this.maxBytes) {
        an[d.v6 ? A6_LIMIT : A4_LIMIT]!++;
        this.remove(d);
        return FRAG_DROPPED;
      }
      let at = 0;
      for (let i = 0; i < gaps.length; i += 2) {
        const a = gaps[i]!;
        const b = gaps[i + 1]!;
        while (at < pieces.length && pieces[at]!.start < a) at++;
        pieces.splice(at, 0, new Piece(a, b, data.slice(off + a - start, off + b - start)));
        at++;
      }
      d.held += add;
      this.bytes += add;
    }

    if (d.total < 0 || d.held !== d.total) return FRAG_HELD;
    const total = d.total;
    if (this.buf.length < total) this.buf = new Uint8Array(total > 65536 ? total : 65536);
    const buf = this.buf;
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!;
      buf.set(p.bytes, p.start);
    }
    this.nextHeader = d.proto;
    this.remove(d);
    return total;
  }
}

function sameAddr(a: Uint32Array, b: Uint32Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}
