/**
 * YMSG packet framing: the 20-byte header and the key/value body.
 *
 * Header (all big-endian; Wireshark's packet-ymsg.c fields ymsg.version, ymsg.vendor, ymsg.len, ymsg.service,
 * ymsg.status, ymsg.session_id; libpurple's yahoo_packet.c):
 *
 *     0  'YMSG'        magic
 *     4  u16 version   9-17 seen (YMSG 9 … Yahoo! Messenger 11 uses 16/17)
 *     6  u16 vendor    vendor id, 0 for Yahoo's own clients (libpurple sends 0)
 *     8  u16 length    of the body that follows the header
 *    10  u16 service   what the packet is (services.ts)
 *    12  u32 status    packet status (0 default, 1 server ack, 5 offline/continued, 0x16 typing, 0xffffffff disconnected)
 *    16  u32 session   session id chosen by the server
 *
 * Body: pairs `key 0xC0 0x80 value 0xC0 0x80`, the key an ASCII decimal number, the value bytes without 0xC0 0x80 (a
 * modified-UTF-8 NUL, which never occurs in valid UTF-8 text). A value missing its final separator at the very end of
 * the body is taken as ending there (libpurple does the same).
 *
 * Pure functions over a view; `Pairs` is reused between packets by its owner (results do not survive the next call).
 */

export const HEADER_BYTES = 20;
export const SEP0 = 0xc0;
export const SEP1 = 0x80;

/** 'YMSG' as bytes. */
const MAGIC = [0x59, 0x4d, 0x53, 0x47];

export function isMagic(data: Uint8Array, at: number): boolean {
  return data[at] === MAGIC[0] && data[at + 1] === MAGIC[1] && data[at + 2] === MAGIC[2] && data[at + 3] === MAGIC[3];
}

/**
 * First offset in [from, end) where 'YMSG' starts, or the first offset where a cut magic might start (end - 3 at most),
 * or end. A Horspool scan: the byte under the window's last position says how far the window may move (4 when it is
 * not a letter of the magic), so binary bytes are mostly read one in four.
 */
export function findMagic(data: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i + 3 < end) {
    const c = data[i + 3]!;
    if (c === 0x47 && data[i] === 0x59 && data[i + 1] === 0x4d && data[i + 2] === 0x53) return i;
    // The shift that brings the last Y, M or S of the window under its place in the magic (the letters are distinct).
    i += c === 0x53 ? 1 : c === 0x4d ? 2 : c === 0x59 ? 3 : 4;
  }
  // A magic cut by the end of the bytes ('Y', 'YM', 'YMS' as the last ones); none can start before i.
  for (; i < end; i++) {
    let k = 0;
    while (i + k < end && data[i + k] === MAGIC[k]) k++;
    if (i + k === end) return i;
  }
  return end;
}

export interface YmsgHeader {
  version: number;
  vendor: number;
  length: number;
  service: number;
  status: number;
  session: number;
}

const u16 = (d: Uint8Array, at: number): number => (d[at]! << 8) | d[at + 1]!;
const u32 = (d: Uint8Array, at: number): number => ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;

/** Reads the header at `at` (the caller checked the magic and that 20 bytes are there) into `h`. */
export function readHeader(data: Uint8Array, at: number, h: YmsgHeader): YmsgHeader {
  h.version = u16(data, at + 4);
  h.vendor = u16(data, at + 6);
  h.length = u16(data, at + 8);
  h.service = u16(data, at + 10);
  h.status = u32(data, at + 12);
  h.session = u32(data, at + 16);
  return h;
}

/** Largest protocol version accepted as YMSG (seen: 6 to 17; leaves room for later ones, rules out text that starts with "YMSG"). */
export const MAX_VERSION = 0xff;

/** The key/value pairs of one body as offsets into the packet's bytes. */
export interface Pairs {
  buf: Uint8Array;
  n: number;
  keys: number[];
  vs: number[];
  ve: number[];
  /** Why the body was not read to its end: null, 'bad_key' or 'too_many'. */
  stopped: null | 'bad_key' | 'too_many';
}

export function newPairs(): Pairs {
  return { buf: new Uint8Array(0), n: 0, keys: [], vs: [], ve: [], stopped: null };
}

function findSep(d: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) if (d[i] === SEP0 && d[i + 1] === SEP1) return i;
  return -1;
}

/** Splits the body `data[s, e)` into pairs (at most `max`). */
export function readPairs(data: Uint8Array, s: number, e: number, max: number, p: Pairs): Pairs {
  p.buf = data;
  p.n = 0;
  p.stopped = null;
  let at = s;
  while (at < e) {
    const ks = findSep(data, at, e);
    if (ks < 0 || ks === at || ks - at > 10) {
      p.stopped = 'bad_key';
      return p;
    }
    let key = 0;
    for (let i = at; i < ks; i++) {
      const c = data[i]!;
      if (c < 0x30 || c > 0x39) {
        p.stopped = 'bad_key';
        return p;
      }
      key = key * 10 + (c - 0x30);
    }
    if (p.n >= max) {
      p.stopped = 'too_many';
      return p;
    }
    const vs = ks + 2;
    const sep = findSep(data, vs, e);
    const ve = sep < 0 ? e : sep;
    p.keys[p.n] = key;
    p.vs[p.n] = vs;
    p.ve[p.n] = ve;
    p.n++;
    at = sep < 0 ? e : sep + 2;
  }
  return p;
}

/** Index of the first pair with `key` at or after `from`, or -1. */
export function indexOf(p: Pairs, key: number, from = 0): number {
  for (let i = from; i < p.n; i++) if (p.keys[i] === key) return i;
  return -1;
}
