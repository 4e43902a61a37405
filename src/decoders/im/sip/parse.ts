/**
 * SIP message framing and header parsing (RFC 3261 §7, §18.3, §20, §25 grammar): the start line (request line
 * `Method SP Request-URI SP SIP/2.0` or status line `SIP/2.0 SP Status-Code SP Reason`), header fields (names are
 * case-insensitive; compact forms of RFC 3261 §7.3.3 and later RFCs; values folded over several lines with leading
 * whitespace, RFC 3261 §7.3.1), the blank line, and Content-Length framing on streams. Also accepts bare LF line ends
 * (as Wireshark and Zeek do). Pure functions over a view; results are fresh strings and survive the next call.
 * Wireshark dissector: `sip` (packet-sip.c); Zeek: the SIP analyzer (sip-protocol.pac).
 */
import { headerText, latin1 } from './text.js';
import { isAscii } from '../text.js';

/** Compact header names (RFC 3261 §7.3.3, RFC 3262/3265/3515/3841/3892/4028/4474/6665). */
const COMPACT: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

export interface SipHead {
  request: boolean;
  /** Request method as sent (methods are case-sensitive, RFC 3261 §7.1); '' for responses. */
  method: string;
  /** Request-URI; '' for responses. */
  uri: string;
  /** Status code of a response; 0 for requests. */
  status: number;
  reason: string;
  /**
   * Values of the headers the analyzer reads (WANTED_HEADERS), by full lower-case name, unfolded and trimmed, in
   * order of appearance. Other headers are skipped without building their text.
   */
  headers: Map<string, string[]>;
  /** Via entries (header lines and comma-separated values). */
  via: number;
}

const REQUEST = /^([A-Za-z0-9.!%*_+`'~-]+) +([^ ]+) +SIP\/2\.0 *$/i;
const STATUS = /^SIP\/2\.0 +([0-9]{3})(?: +(.*))?$/i;

/** Whether `line` (without its line end) is a SIP start line. */
export function isStartLine(line: string): boolean {
  return REQUEST.test(line) || STATUS.test(line);
}

/** `SIP/2.0` (letters in either case, as the start-line patterns' `i` flag) at `buf[i]`; the caller checks the length. */
function versionAt(buf: Uint8Array, i: number): boolean {
  return (buf[i]! | 0x20) === 0x73 && (buf[i + 1]! | 0x20) === 0x69 && (buf[i + 2]! | 0x20) === 0x70 && buf[i + 3] === 0x2f && buf[i + 4] === 0x32 && buf[i + 5] === 0x2e && buf[i + 6] === 0x30;
}

/**
 * Whether the line `buf[s, lf)` (a trailing CR is dropped) is a SIP start line: `isStartLine` of its text, with the
 * text built and matched only when the bytes begin with `SIP/2.0` or end with `SIP/2.0` and spaces, which every
 * start line does (most lines of other protocols are ruled out without a string).
 */
export function isStartLineAt(buf: Uint8Array, s: number, lf: number): boolean {
  const e = lf > s && buf[lf - 1] === 0x0d ? lf - 1 : lf;
  let t = e;
  while (t > s && buf[t - 1] === 0x20) t--;
  if (!(e - s >= 7 && versionAt(buf, s)) && !(t - s >= 7 && versionAt(buf, t - 7))) return false;
  return isStartLine(latin1(buf, s, e));
}

/** Index of the first LF in `buf[s, e)`, or -1. */
export function findLf(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) if (buf[i] === 0x0a) return i;
  return -1;
}

/** Bytes `String.prototype.trim` removes from ISO-8859-1 text that are ASCII (TAB, LF, VT, FF, CR, space). */
const isTrimmed = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/**
 * `headerText(buf, s, e).trim()`: for ASCII (nearly every header) trimmed as bytes and read once; other text as
 * headerText reads it.
 */
function trimmedText(buf: Uint8Array, s: number, e: number): string {
  if (!isAscii(buf, s, e)) return headerText(buf, s, e).trim();
  while (s < e && isTrimmed(buf[s]!)) s++;
  while (e > s && isTrimmed(buf[e - 1]!)) e--;
  return latin1(buf, s, e);
}

/** The headers parseHead keeps: those the session and handlers read (Via is kept for its entry count). */
export const WANTED_HEADERS: readonly string[] = [
  'via',
  'call-id',
  'cseq',
  'from',
  'to',
  'contact',
  'expires',
  'event',
  'content-type',
  'content-length',
  'content-encoding',
  'subject',
  'authorization',
  'proxy-authorization',
];
const WANTED_BYTES = WANTED_HEADERS.map((n) => Buffer.from(n, 'latin1'));
const WANTED_SET: ReadonlySet<string> = new Set(WANTED_HEADERS);

/**
 * The full lower-case name of the header named by `buf[s, e)` when it is one of WANTED_HEADERS (compact forms
 * included), else null: the name's bytes are compared, as `latin1(…).trim().toLowerCase()` would give them, without
 * building a string.
 */
function wantedName(buf: Uint8Array, s: number, e: number): string | null {
  while (s < e && (isTrimmed(buf[s]!) || buf[s] === 0xa0)) s++;
  while (e > s && (isTrimmed(buf[e - 1]!) || buf[e - 1] === 0xa0)) e--;
  const n = e - s;
  if (n === 1) {
    const b = buf[s]! | 0x20;
    if (b < 0x61 || b > 0x7a) return null;
    const full = COMPACT[String.fromCharCode(b)];
    return full !== undefined && WANTED_SET.has(full) ? full : null;
  }
  for (let w = 0; w < WANTED_BYTES.length; w++) {
    const want = WANTED_BYTES[w]!;
    if (want.length !== n) continue;
    let k = 0;
    for (; k < n; k++) {
      let b = buf[s + k]!;
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== want[k]) break;
    }
    if (k === n) return WANTED_HEADERS[w]!;
  }
  return null;
}

/** Offset just past the blank line that ends the header section starting at `s`, or -1 when it is not in `buf[s, e)`. */
export function findHeadEnd(buf: Uint8Array, s: number, e: number): number {
  let at = s;
  for (;;) {
    const lf = findLf(buf, at, e);
    if (lf < 0) return -1;
    const next = lf + 1;
    if (next < e && buf[next] === 0x0a) return next + 1;
    if (next + 1 < e && buf[next] === 0x0d && buf[next + 1] === 0x0a) return next + 2;
    if (next >= e || (next + 1 >= e && buf[next] === 0x0d)) return -1;
    at = next;
  }
}

/** The text of a line `buf[s, lf)` without a trailing CR. */
export function lineText(buf: Uint8Array, s: number, lf: number): string {
  const e = lf > s && buf[lf - 1] === 0x0d ? lf - 1 : lf;
  return latin1(buf, s, e);
}

/** Count the comma-separated entries of a header value, commas inside quotes or angle brackets excluded. */
export function countEntries(v: string): number {
  let n = 1;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) n++;
  }
  return n;
}

/**
 * Parse the start line and headers in `buf[s, e)` (`e`: just past the blank line, or the end of the datagram when it
 * has no body). Null when the first line is not a SIP start line.
 */
export function parseHead(buf: Uint8Array, s: number, e: number): SipHead | null {
  const first = findLf(buf, s, e);
  const startLine = lineText(buf, s, first < 0 ? e : first);
  let request = true;
  let method = '';
  let uri = '';
  let status = 0;
  let reason = '';
  const rm = REQUEST.exec(startLine);
  if (rm !== null) {
    method = rm[1]!;
    uri = rm[2]!;
  } else {
    const sm = STATUS.exec(startLine);
    if (sm === null) return null;
    request = false;
    status = Number(sm[1]);
    reason = sm[2] ?? '';
  }
  const headers = new Map<string, string[]>();
  let via = 0;
  let lastName: string | null = null;
  let lastList: string[] | null = null;
  const close = () => {
    if (lastName === 'via' && lastList !== null) via += countEntries(lastList[lastList.length - 1]!);
  };
  let at = first < 0 ? e : first + 1;
  while (at < e) {
    let lf = findLf(buf, at, e);
    if (lf < 0) lf = e;
    const ls = at;
    let le = lf > ls && buf[lf - 1] === 0x0d ? lf - 1 : lf;
    at = lf + 1;
    if (le === ls) break; // the blank line
    if (buf[ls] === 0x20 || buf[ls] === 0x09) {
      // Folded continuation of the previous header's value.
      if (lastList !== null) {
        const cont = headerText(buf, ls, le).trim();
        const i = lastList.length - 1;
        lastList[i] = lastList[i]!.length === 0 ? cont : `${lastList[i]!} ${cont}`;
      }
      continue;
    }
    let colon = -1;
    for (let k = ls; k < le; k++) {
      if (buf[k] === 0x3a) {
        colon = k;
        break;
      }
    }
    if (colon < 0) continue; // not a header line: ignored, as Wireshark does
    close();
    const name = wantedName(buf, ls, colon);
    if (name === null) {
      // A header nothing reads: skipped, and its folded lines with it.
      lastName = null;
      lastList = null;
      continue;
    }
    while (le > colon + 1 && (buf[le - 1] === 0x20 || buf[le - 1] === 0x09)) le--;
    const value = trimmedText(buf, colon + 1, le);
    let list = headers.get(name);
    if (list === undefined) {
      list = [];
      headers.set(name, list);
    }
    list.push(value);
    lastName = name;
    lastList = list;
  }
  close();
  return { request, method, uri, status, reason, headers, via };
}

/** The first value of header `name` (full lower-case name), or null. */
export function header(h: SipHead, name: string): string | null {
  return h.headers.get(name)?.[0] ?? null;
}

/** CSeq: sequence number and method (`1 INVITE`). */
export function cseq(h: SipHead): { seq: string; method: string } | null {
  const v = header(h, 'cseq');
  if (v === null) return null;
  const m = /^([0-9]+)\s+(\S+)/.exec(v);
  return m === null ? null : { seq: m[1]!, method: m[2]! };
}
