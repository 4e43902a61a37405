/**
 * SIP message framing and header parsing (RFC 3261 §7, §18.3, §20, §25 grammar): the start line (request line
 * `Method SP Request-URI SP SIP/2.0` or status line `SIP/2.0 SP Status-Code SP Reason`), header fields (names are
 * case-insensitive; compact forms of RFC 3261 §7.3.3 and later RFCs; values folded over several lines with leading
 * whitespace, RFC 3261 §7.3.1), the blank line, and Content-Length framing on streams. Also accepts bare LF line ends
 * (as Wireshark and Zeek do). Functions over a view that keep nothing between calls (their module scratch lives within
 * one call): parseHead fills the caller's SipHead (valid until its next parse; see there), whose strings are fresh.
 * Wireshark dissector: `sip` (packet-sip.c); Zeek: the SIP analyzer (sip-protocol.pac).
 */
import { isAscii as isAsciiView } from 'node:buffer';
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

/**
 * The headers the analyzer reads (the session and handlers; Via only for its entry count), as indices into a
 * SipHead's values. Every other header is skipped without building its text.
 */
export const enum Hdr {
  Via,
  CallId,
  CSeq,
  From,
  To,
  Contact,
  Expires,
  Event,
  ContentType,
  ContentLength,
  ContentEncoding,
  Subject,
  Authorization,
  ProxyAuthorization,
}
const HEADER_COUNT = 14;

/** Full lower-case names of the Hdr entries, in order. */
const WANTED_HEADERS: readonly string[] = [
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

/** The wanted headers by name length: [bytes of the lower-case name, Hdr] (at most three per length). */
const WANTED_BY_LENGTH: [Uint8Array, Hdr][][] = [];
for (let i = 0; i < WANTED_HEADERS.length; i++) {
  const name = WANTED_HEADERS[i]!;
  (WANTED_BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), i as Hdr]);
}
/** Hdr of a compact name by its lower-case letter (`COMPACT`), -1 when that header is not wanted. */
const WANTED_COMPACT = new Int8Array(128).fill(-1);
for (const [letter, full] of Object.entries(COMPACT)) WANTED_COMPACT[letter.charCodeAt(0)] = WANTED_HEADERS.indexOf(full);

/**
 * A parsed start line and header section, filled by `parseHead`. A session keeps one and parses every message into it:
 * what it holds is valid until the next parse, and header values are read from the parsed bytes on first use, so they
 * must be read before the caller's buffer changes (the handlers read them during the `message` call). The strings it
 * returns are fresh and survive.
 */
export class SipHead {
  request = true;
  /** Request method as sent (methods are case-sensitive, RFC 3261 §7.1); '' for responses. */
  method = '';
  /** Status code of a response; 0 for requests. */
  status = 0;
  /** Via entries (header lines and comma-separated values). */
  via = 0;
  /** Offset just past the blank line that ends the header section; -1 when the section has none. */
  end = -1;
  /** The whole message is ASCII (checked once, natively): its values need no check of their own. */
  ascii = false;
  private buf: Uint8Array = EMPTY;
  /** Request-URI (requests) or reason phrase (responses): `buf[textStart, textEnd)`. */
  private textStart = 0;
  private textEnd = 0;
  /** Per Hdr: the first value's bytes (`start` -1: absent), and its text once built (folded values: at once). */
  private readonly start = new Int32Array(HEADER_COUNT);
  private readonly stop = new Int32Array(HEADER_COUNT);
  private readonly text: (string | null)[] = Array.from({ length: HEADER_COUNT }, () => null);

  /** Request-URI; '' for responses. */
  get uri(): string {
    return this.request ? latin1(this.buf, this.textStart, this.textEnd) : '';
  }

  /** Reason phrase of a response; '' for requests. */
  get reason(): string {
    return this.request ? '' : latin1(this.buf, this.textStart, this.textEnd);
  }

  /** The first value of a header (unfolded and trimmed), or null when the message has none. */
  value(h: Hdr): string | null {
    const t = this.text[h];
    if (t !== null && t !== undefined) return t;
    const s = this.start[h]!;
    if (s < 0) return null;
    const v = trimmedText(this.buf, s, this.stop[h]!, this.ascii);
    this.text[h] = v;
    return v;
  }

  /**
   * The first value of `h` as `/^[0-9]{1,10}$/` takes it (Content-Length): its number, -1 when the header is absent, -2
   * when the value is not such a decimal. Read on the bytes when they are digits between ASCII blanks (no string).
   */
  decimal(h: Hdr): number {
    let s = this.start[h]!;
    if (s < 0) return -1;
    if (this.text[h] === null) {
      let e = this.stop[h]!;
      while (s < e && isTrimmed(this.buf[s]!)) s++;
      while (e > s && isTrimmed(this.buf[e - 1]!)) e--;
      let n = 0;
      let i = s;
      for (; i < e && e - s <= 10; i++) {
        const b = this.buf[i]!;
        if (!isDigit(b)) break;
        n = n * 10 + (b - 0x30);
      }
      if (i === e && e > s && e - s <= 10) return n;
    }
    const v = this.value(h)!;
    return /^[0-9]{1,10}$/.test(v) ? Number(v) : -2;
  }

  /** Whether the message has a header (its first value may be empty). */
  has(h: Hdr): boolean {
    return this.start[h]! >= 0;
  }

  /** Drop the reference to the parsed bytes (the values not read yet are then gone). */
  release(): void {
    this.buf = EMPTY;
    for (let i = 0; i < HEADER_COUNT; i++) this.start[i] = -1;
  }

  /** parseHead only: a new message in `buf`. */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.request = true;
    this.method = '';
    this.status = 0;
    this.via = 0;
    this.end = -1;
    this.ascii = false;
    this.textStart = this.textEnd = 0;
    for (let i = 0; i < HEADER_COUNT; i++) {
      this.start[i] = -1;
      this.text[i] = null;
    }
  }

  /** parseHead only: the start line's text part. */
  setText(s: number, e: number): void {
    this.textStart = s;
    this.textEnd = e;
  }

  /** parseHead only: the first value of `h` is `buf[s, e)`. */
  setValue(h: Hdr, s: number, e: number): void {
    this.start[h] = s;
    this.stop[h] = e;
  }

  /** parseHead only: a folded continuation `cont` (trimmed) of the first value of `h`, joined as one line. */
  fold(h: Hdr, cont: string): void {
    const v = this.value(h)!;
    this.text[h] = v.length === 0 ? cont : `${v} ${cont}`;
  }
}

const EMPTY = new Uint8Array(0);

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

/** The method characters REQUEST takes (RFC 3261 token characters), by byte. */
const TOKEN = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.!%*_+`'~-") TOKEN[c.charCodeAt(0)] = 1;

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

/** Where the last request line requestLineAt accepted has its method's end and its Request-URI's end. */
let methodEnd = 0;
let uriEnd = 0;

/**
 * The line `buf[s, e)` (no line end) as REQUEST reads its text, on the bytes: a method token, spaces, the Request-URI
 * (no spaces), spaces, `SIP/2.0`, nothing but spaces after it. The offset of the Request-URI (and methodEnd, uriEnd
 * set), or -1.
 */
function requestLineAt(buf: Uint8Array, s: number, e: number): number {
  let i = s;
  while (i < e && TOKEN[buf[i]!] === 1) i++;
  if (i === s || i === e || buf[i] !== 0x20) return -1;
  const me = i;
  while (i < e && buf[i] === 0x20) i++;
  const uri = i;
  while (i < e && buf[i] !== 0x20) i++;
  if (i === uri || i === e) return -1;
  const ue = i;
  while (i < e && buf[i] === 0x20) i++;
  if (e - i < 7 || !versionAt(buf, i)) return -1;
  for (i += 7; i < e; i++) if (buf[i] !== 0x20) return -1;
  methodEnd = me;
  uriEnd = ue;
  return uri;
}

/**
 * The line `buf[s, e)` (no line end) as STATUS reads its text, on the bytes: `SIP/2.0`, spaces, three digits, then
 * nothing, or spaces and a reason without CR (STATUS's `.`). The offset of the status code, or -1.
 */
function statusLineAt(buf: Uint8Array, s: number, e: number): number {
  if (e - s < 8 || !versionAt(buf, s) || buf[s + 7] !== 0x20) return -1;
  let i = s + 8;
  while (i < e && buf[i] === 0x20) i++;
  const code = i;
  if (e - code < 3 || !isDigit(buf[code]!) || !isDigit(buf[code + 1]!) || !isDigit(buf[code + 2]!)) return -1;
  i = code + 3;
  if (i === e) return code;
  if (buf[i] !== 0x20) return -1;
  for (; i < e; i++) if (buf[i] === 0x0d) return -1; // (no LF: the line ends before one)
  return code;
}

/**
 * Whether the line `buf[s, lf)` (a trailing CR is dropped) is a SIP start line: `isStartLine` of its text, read on the
 * bytes (no string). Lines that neither begin with `SIP/2.0` nor end with `SIP/2.0` and spaces are ruled out first.
 */
export function isStartLineAt(buf: Uint8Array, s: number, lf: number): boolean {
  const e = lf > s && buf[lf - 1] === 0x0d ? lf - 1 : lf;
  let t = e;
  while (t > s && buf[t - 1] === 0x20) t--;
  if (!(e - s >= 7 && versionAt(buf, s)) && !(t - s >= 7 && versionAt(buf, t - 7))) return false;
  return requestLineAt(buf, s, e) >= 0 || statusLineAt(buf, s, e) >= 0;
}

/** Index of the first LF in `buf[s, e)`, or -1. */
export function findLf(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) if (buf[i] === 0x0a) return i;
  return -1;
}

/**
 * Node's Buffer indexOf (memchr) called on any Uint8Array: about three times faster than a loop over the 30-80 byte
 * lines of a SIP head. It searches to the end of its view, so parseHead calls it on a view of the message only.
 */
const indexOfByte = Buffer.prototype.indexOf as unknown as (this: Uint8Array, value: number, byteOffset: number) => number;

/** The LF ending the line at `at` in `view` (which starts at offset `base` of the caller's buffer), or the view's end. */
function lineEnd(view: Uint8Array, base: number, at: number): number {
  const i = indexOfByte.call(view, 0x0a, at - base);
  return i < 0 ? base + view.length : base + i;
}

/** Bytes `String.prototype.trim` removes from ISO-8859-1 text that are ASCII (TAB, LF, VT, FF, CR, space). */
const isTrimmed = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/**
 * `headerText(buf, s, e).trim()`: for ASCII (nearly every header; `ascii`: known to be) trimmed as bytes and read
 * once; other text as headerText reads it.
 */
function trimmedText(buf: Uint8Array, s: number, e: number, ascii: boolean): string {
  if (!ascii && !isAscii(buf, s, e)) return headerText(buf, s, e).trim();
  while (s < e && isTrimmed(buf[s]!)) s++;
  while (e > s && isTrimmed(buf[e - 1]!)) e--;
  return latin1(buf, s, e);
}

/**
 * The Hdr of the header named by `buf[s, e)` when it is a wanted one (compact forms included), else -1: the name's
 * bytes are compared, as `latin1(…).trim().toLowerCase()` would give them, without building a string.
 */
function wantedAt(buf: Uint8Array, s: number, e: number): number {
  while (s < e && (isTrimmed(buf[s]!) || buf[s] === 0xa0)) s++;
  while (e > s && (isTrimmed(buf[e - 1]!) || buf[e - 1] === 0xa0)) e--;
  const n = e - s;
  if (n === 1) {
    const b = buf[s]! | 0x20;
    return b < 0x61 || b > 0x7a ? -1 : WANTED_COMPACT[b]!;
  }
  const cands = WANTED_BY_LENGTH[n];
  if (cands === undefined) return -1;
  for (let w = 0; w < cands.length; w++) {
    const want = cands[w]![0];
    let k = 0;
    for (; k < n; k++) {
      let b = buf[s + k]!;
      if (b >= 0x41 && b <= 0x5a) b |= 0x20;
      if (b !== want[k]) break;
    }
    if (k === n) return cands[w]![1];
  }
  return -1;
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

/** Methods of RFC 3261 and its extensions, as sent (case-sensitive), so that the common ones build no string. */
const METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'PRACK', 'UPDATE', 'REFER'].map((m) => [m, Buffer.from(m, 'latin1')] as const);

function methodText(buf: Uint8Array, s: number, e: number): string {
  for (let m = 0; m < METHODS.length; m++) {
    const [name, bytes] = METHODS[m]!;
    if (bytes.length !== e - s) continue;
    let k = 0;
    while (k < bytes.length && buf[s + k] === bytes[k]) k++;
    if (k === bytes.length) return name;
  }
  return latin1(buf, s, e);
}

/**
 * Via entries of a header section: each Via line is one, and each comma outside quotes and angle brackets of its value
 * (folded lines included) one more. Kept across the lines of one value: a folded value is counted as the text it
 * unfolds to (lines joined by a space; whitespace is never a delimiter, so counting the raw bytes gives the same).
 * A Via line without quotes or angle brackets (nearly all: `SIP/2.0/UDP host:port;branch=…`) has its commas counted by
 * memchr; the positions found are kept for the next lines, so that the searches read each byte of the message at
 * most once whatever the number of Via lines.
 */
class ViaCount {
  n = 0;
  private quoted = false;
  private angle = false;
  /** A backslash in quotes: the next character (the joining space, for the last of a line) is taken as it is. */
  private escaped = false;
  /** The next `"`, `<` and `,` from the last search (absolute offsets; -1: none up to the view's end; -2: not searched). */
  private quote = -2;
  private lt = -2;
  private comma = -2;

  reset(): void {
    this.n = 0;
    this.quote = this.lt = this.comma = -2;
  }

  /** The value `buf[s, e)` of a Via line; `view` is the message from `base` (for memchr). */
  line(buf: Uint8Array, view: Uint8Array, base: number, s: number, e: number): void {
    this.n++;
    this.quoted = this.angle = this.escaped = false;
    if (this.quote !== -1 && this.quote < s) this.quote = nextByte(view, base, 0x22, s);
    if (this.lt !== -1 && this.lt < s) this.lt = nextByte(view, base, 0x3c, s);
    if ((this.quote < 0 || this.quote >= e) && (this.lt < 0 || this.lt >= e)) {
      // Neither quotes nor angle brackets: every comma separates two entries.
      for (;;) {
        if (this.comma !== -1 && this.comma < s) this.comma = nextByte(view, base, 0x2c, s);
        if (this.comma < 0 || this.comma >= e) return;
        this.n++;
        s = this.comma + 1;
      }
    }
    this.more(buf, s, e);
  }

  /** A folded continuation `buf[s, e)` of the current value (after the space that joins it). */
  fold(buf: Uint8Array, s: number, e: number): void {
    this.escaped = false;
    this.more(buf, s, e);
  }

  private more(buf: Uint8Array, s: number, e: number): void {
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (this.escaped) this.escaped = false;
      else if (this.quoted) {
        if (c === 0x5c) this.escaped = true;
        else if (c === 0x22) this.quoted = false;
      } else if (c === 0x22) this.quoted = true;
      else if (c === 0x3c) this.angle = true;
      else if (c === 0x3e) this.angle = false;
      else if (c === 0x2c && !this.angle) this.n++;
    }
  }
}
const viaCount = new ViaCount();

/** The first `b` at or after `at` in `view` (which starts at offset `base`), as an offset from `base`'s origin; -1 if none. */
function nextByte(view: Uint8Array, base: number, b: number, at: number): number {
  const i = indexOfByte.call(view, b, at - base);
  return i < 0 ? -1 : base + i;
}

/**
 * Parse the start line and headers in `buf[s, e)` (up to the blank line, or to `e` when there is none) into `h`, which
 * also gets the offset just past the blank line (`end`). False when the first line is not a SIP start line. A header
 * line's name is read up to its colon and compared with the wanted names; its end is found by memchr, and only the
 * values read later become strings.
 */
export function parseHead(buf: Uint8Array, s: number, e: number, h: SipHead): boolean {
  h.reset(buf);
  if (e > buf.length) e = buf.length;
  if (e < s) e = s;
  // A view of the message for memchr (lineEnd) and the ASCII check: one plain Uint8Array (cheaper than subarray on a
  // Buffer, which goes through its species constructor).
  const view = new Uint8Array(buf.buffer, buf.byteOffset + s, e - s);
  h.ascii = isAsciiView(view);
  const first = lineEnd(view, s, s);
  const sle = first > s && buf[first - 1] === 0x0d ? first - 1 : first;
  const uri = requestLineAt(buf, s, sle);
  if (uri >= 0) {
    h.method = methodText(buf, s, methodEnd);
    h.setText(uri, uriEnd);
  } else {
    const code = statusLineAt(buf, s, sle);
    if (code < 0) return false;
    h.request = false;
    h.status = (buf[code]! - 0x30) * 100 + (buf[code + 1]! - 0x30) * 10 + (buf[code + 2]! - 0x30);
    let r = code + 3;
    while (r < sle && buf[r] === 0x20) r++;
    h.setText(r, sle);
  }
  const via = viaCount;
  via.reset();
  /** The header being read (its folded lines follow it): a Hdr, or -1 for a header nothing reads. */
  let cur = -1;
  /** `cur` is its header's first occurrence, the one `value` gives (later ones are skipped). */
  let curFirst = false;
  let at = first + 1;
  while (at < e) {
    const ls = at;
    const b0 = buf[ls]!;
    if (b0 === 0x0a || (b0 === 0x0d && (ls + 1 === e || buf[ls + 1] === 0x0a))) {
      // The blank line (a last line of just CR, without its LF, is not known to be one yet).
      if (b0 === 0x0a) h.end = ls + 1;
      else if (ls + 1 < e) h.end = ls + 2;
      break;
    }
    let lf: number;
    if (b0 === 0x20 || b0 === 0x09) {
      // Folded continuation of the previous header's value.
      lf = lineEnd(view, s, ls);
      if (cur === Hdr.Via) via.fold(buf, ls, lf);
      else if (cur >= 0 && curFirst) h.fold(cur, headerText(buf, ls, lf > ls && buf[lf - 1] === 0x0d ? lf - 1 : lf).trim());
      at = lf + 1;
      continue;
    }
    let colon = ls;
    while (colon < e && buf[colon] !== 0x3a && buf[colon] !== 0x0a) colon++;
    if (colon === e || buf[colon] === 0x0a) {
      at = colon + 1; // not a header line: ignored, as Wireshark does
      continue;
    }
    cur = wantedAt(buf, ls, colon);
    lf = lineEnd(view, s, colon + 1);
    if (cur === Hdr.Via) via.line(buf, view, s, colon + 1, lf);
    else {
      // A header nothing reads is skipped, and its folded lines with it; of a wanted one, the first is kept.
      curFirst = cur >= 0 && !h.has(cur);
      if (curFirst) {
        let le = lf > colon + 1 && buf[lf - 1] === 0x0d ? lf - 1 : lf;
        while (le > colon + 1 && (buf[le - 1] === 0x20 || buf[le - 1] === 0x09)) le--;
        h.setValue(cur, colon + 1, le);
      }
    }
    at = lf + 1;
  }
  h.via = via.n;
  return true;
}

/** JavaScript's `\s` (and what `String.prototype.trim` removes), by UTF-16 code unit. */
function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** CSeq: sequence number and method (`1 INVITE`), as `/^([0-9]+)\s+(\S+)/` reads the value. */
export function cseq(h: SipHead): { seq: string; method: string } | null {
  const v = h.value(Hdr.CSeq);
  if (v === null) return null;
  let i = 0;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  if (i === 0) return null;
  let j = i;
  while (j < v.length && isSpace(v.charCodeAt(j))) j++;
  if (j === i || j === v.length) return null;
  let k = j;
  while (k < v.length && !isSpace(v.charCodeAt(k))) k++;
  return { seq: v.slice(0, i), method: v.slice(j, k) };
}
