/**
 * HTTP/1.x message heads (RFC 9112 §2-§6, RFC 9110 §9 methods): request lines, status lines, header lines, and
 * where a head ends. Pure functions over `data[s, e)`; they return offsets into the same view, and the `Head` they
 * fill holds strings (copies) that survive the call. HTTP/0.9 simple requests and HTTP/2 are not HTTP/1.x heads.
 */
import { latin1 } from '../../im/text.js';

/** Methods recognised in a request line: RFC 9110 §9, PATCH (RFC 5789), WebDAV (RFC 4918, 3253, 5323, 4791). */
const METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'MKCALENDAR', 'MKACTIVITY',
  'CHECKOUT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'UNSUBSCRIBE', 'PURGE',
];
const METHOD_SET = new Set(METHODS);
export const MAX_METHOD = Math.max(...METHODS.map((m) => m.length));

/** A start line's verdict: NO (not one), NEED (cannot tell before more bytes), else the offset after its LF. */
export const NO = -1;
export const NEED = 0;

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const HTTP_1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."

const isUpper = (b: number) => b >= 0x41 && b <= 0x5a;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

/** Whether the method `data[s, e)` (upper-case letters) is a known one, or a prefix of one when `partial`. */
function methodOk(data: Uint8Array, s: number, e: number, partial: boolean): boolean {
  const n = e - s;
  for (const m of METHODS) {
    if (partial ? m.length < n : m.length !== n) continue;
    let k = 0;
    while (k < n && m.charCodeAt(k) === data[s + k]) k++;
    if (k === n) return true;
  }
  return false;
}

/** `HTTP/1.x` at `at`, then CRLF or LF: the offset after the LF, NO or NEED. `max` bounds where the line may end. */
function versionThenEol(data: Uint8Array, at: number, e: number): number {
  for (let k = 0; k < HTTP_1.length; k++) {
    if (at + k >= e) return NEED;
    if (data[at + k] !== HTTP_1[k]) return NO;
  }
  let i = at + HTTP_1.length;
  if (i >= e) return NEED;
  if (!isDigit(data[i]!)) return NO;
  i++;
  if (i >= e) return NEED;
  if (data[i] === CR) {
    i++;
    if (i >= e) return NEED;
  }
  return data[i] === LF ? i + 1 : NO;
}

/**
 * A request line at `s`: METHOD SP request-target SP HTTP/1.x CRLF (a bare LF is accepted, RFC 9112 §2.2). The
 * target is any run of visible bytes (obs-text included) up to `maxLine` bytes from `s`. Returns the offset after
 * the line, NO, or NEED.
 */
export function requestLine(data: Uint8Array, s: number, e: number, maxLine: number): number {
  let i = s;
  while (i < e && isUpper(data[i]!) && i - s <= MAX_METHOD) i++;
  if (i - s > MAX_METHOD) return NO;
  if (i >= e) return i > s && methodOk(data, s, i, true) ? NEED : i === s ? NEED : NO;
  if (data[i] !== SP || i === s || !methodOk(data, s, i, false)) return NO;
  i++;
  const t = i;
  const lim = Math.min(e, s + maxLine);
  while (i < lim && data[i]! > SP && data[i] !== 0x7f) i++;
  if (i >= lim) return lim === e && e - s < maxLine ? NEED : NO;
  if (data[i] !== SP || i === t) return NO;
  return versionThenEol(data, i + 1, e);
}

/**
 * A status line at `s`: HTTP/1.x SP 3DIGIT SP reason CRLF (the reason may be empty and its space missing). Returns
 * the offset after the line, NO, or NEED.
 */
export function statusLine(data: Uint8Array, s: number, e: number, maxLine: number): number {
  for (let k = 0; k < HTTP_1.length; k++) {
    if (s + k >= e) return NEED;
    if (data[s + k] !== HTTP_1[k]) return NO;
  }
  let i = s + HTTP_1.length;
  for (const want of ['d', ' ', 'd', 'd', 'd']) {
    if (i >= e) return NEED;
    const b = data[i]!;
    if (want === 'd' ? !isDigit(b) : b !== SP) return NO;
    i++;
  }
  const lim = Math.min(e, s + maxLine);
  while (i < lim && data[i] !== LF) {
    const b = data[i]!;
    if (b < SP && b !== 0x09 && b !== CR) return NO;
    i++;
  }
  if (i >= lim) return lim === e && e - s < maxLine ? NEED : NO;
  return i + 1;
}

/**
 * Where the head starting at `s` ends: the offset after its blank line; -1 when more bytes are needed; -2 when it
 * does not end within `max` bytes.
 */
export function headEnd(data: Uint8Array, s: number, e: number, max: number): number {
  const lim = Math.min(e, s + max);
  let i = s;
  for (;;) {
    const lf = data.indexOf(LF, i);
    if (lf < 0 || lf >= lim) return lim < e || e - s >= max ? -2 : -1;
    const n = lf + 1;
    if (n < lim && data[n] === LF) return n + 1;
    if (n + 1 < lim && data[n] === CR && data[n + 1] === LF) return n + 2;
    if (n >= lim || (n + 1 >= lim && data[n] === CR)) return lim < e || e - s >= max ? -2 : -1;
    i = n;
  }
}

/** What a head says, as far as the analyzer needs. Reused: `reset` before each head. */
export class Head {
  method = '';
  uri = '';
  uriCut = false;
  status = 0;
  host: string | null = null;
  userAgent: string | null = null;
  contentType: string | null = null;
  /** -1: none; -2: invalid or conflicting. */
  contentLength = -1;
  chunked = false;
  /** Transfer-Encoding present but not ending in chunked (a request then cannot be framed; a response runs to the close). */
  otherCoding = false;
  upgradeWebsocket = false;
  headers = 0;
  tooManyHeaders = false;
  valueCut = false;

  reset(): void {
    this.method = '';
    this.uri = '';
    this.uriCut = false;
    this.status = 0;
    this.host = null;
    this.userAgent = null;
    this.contentType = null;
    this.contentLength = -1;
    this.chunked = false;
    this.otherCoding = false;
    this.upgradeWebsocket = false;
    this.headers = 0;
    this.tooManyHeaders = false;
    this.valueCut = false;
  }
}

/** Fill `h.method` and `h.uri` from a request line known to be valid (`requestLine` said so), ending at `lineEnd`. */
export function readRequestLine(data: Uint8Array, s: number, lineEnd: number, maxUri: number, h: Head): void {
  let i = s;
  while (data[i] !== SP) i++;
  h.method = latin1(data, s, i);
  const t = i + 1;
  let j = t;
  while (j < lineEnd && data[j] !== SP) j++;
  h.uriCut = j - t > maxUri;
  h.uri = latin1(data, t, h.uriCut ? t + maxUri : j);
}

/** The status code of a status line known to be valid. */
export function readStatus(data: Uint8Array, s: number): number {
  const at = s + HTTP_1.length + 2;
  return (data[at]! - 0x30) * 100 + (data[at + 1]! - 0x30) * 10 + (data[at + 2]! - 0x30);
}

/** Whether `data[s, e)` is the header name `lower` (ASCII, case-insensitive). */
function nameIs(data: Uint8Array, s: number, e: number, lower: string): boolean {
  if (e - s !== lower.length) return false;
  for (let k = 0; k < lower.length; k++) if ((data[s + k]! | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

/** Whether `data[s, e)` contains `lower` (ASCII, case-insensitive): for tokens in a header value. */
function valueHas(data: Uint8Array, s: number, e: number, lower: string): boolean {
  const n = lower.length;
  outer: for (let i = s; i + n <= e; i++) {
    for (let k = 0; k < n; k++) if ((data[i + k]! | 0x20) !== lower.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}

/** Whether the last coding of a Transfer-Encoding value is `chunked` (RFC 9112 §6.3). */
function endsWithChunked(data: Uint8Array, s: number, e: number): boolean {
  let j = e;
  while (j > s && (data[j - 1] === SP || data[j - 1] === 0x09 || data[j - 1] === 0x2c)) j--;
  return j - s >= 7 && nameIs(data, j - 7, j, 'chunked');
}

/** A Content-Length value: decimal digits only (a list of equal values is allowed, RFC 9110 §8.6); -2 when invalid. */
function contentLength(data: Uint8Array, s: number, e: number, prev: number): number {
  let v = -1;
  let i = s;
  while (i < e) {
    let n = 0;
    let digits = 0;
    while (i < e && isDigit(data[i]!)) {
      n = n * 10 + (data[i]! - 0x30);
      i++;
      if (++digits > 15) return -2;
    }
    if (digits === 0 || (v >= 0 && n !== v)) return -2;
    v = n;
    while (i < e && (data[i] === SP || data[i] === 0x09)) i++;
    if (i < e) {
      if (data[i] !== 0x2c) return -2;
      i++;
      while (i < e && (data[i] === SP || data[i] === 0x09)) i++;
    }
  }
  if (v < 0) return -2;
  return prev === -1 || prev === v ? v : -2;
}

const isTchar = (b: number) => b > SP && b < 0x7f && b !== 0x3a && b !== 0x28 && b !== 0x29 && b !== 0x2c && b !== 0x2f && b !== 0x3b && b !== 0x3c && b !== 0x3d && b !== 0x3e && b !== 0x3f && b !== 0x40 && b !== 0x5b && b !== 0x5c && b !== 0x5d && b !== 0x7b && b !== 0x7d && b !== 0x22;

/**
 * Read the header lines of a head from `s` (just after the start line) to `end` (after the blank line) into `h`.
 * Returns -1 when they parse, else the offset of the first bad line (a name with a byte outside `token`, no colon, a
 * NUL in a value). Folded lines (obs-fold, RFC 9112 §5.2) are skipped.
 */
export function readHeaders(data: Uint8Array, s: number, end: number, limits: { maxHeaders: number; maxValueBytes: number }, h: Head): number {
  let i = s;
  while (i < end) {
    const lf = data.indexOf(LF, i);
    const le = lf < 0 || lf >= end ? end : lf;
    let ve = le > i && data[le - 1] === CR ? le - 1 : le;
    if (ve === i) break; // the blank line
    const first = data[i]!;
    if (first === SP || first === 0x09) {
      i = le + 1;
      continue;
    }
    if (++h.headers > limits.maxHeaders) {
      h.tooManyHeaders = true;
      return -1;
    }
    let c = i;
    while (c < ve && isTchar(data[c]!)) c++;
    if (c === i || c >= ve || data[c] !== 0x3a) return i;
    let vs = c + 1;
    while (vs < ve && (data[vs] === SP || data[vs] === 0x09)) vs++;
    while (ve > vs && (data[ve - 1] === SP || data[ve - 1] === 0x09)) ve--;
    for (let k = vs; k < ve; k++) if (data[k] === 0) return i;
    const n = c - i;
    if (n === 4 && nameIs(data, i, c, 'host')) {
      if (h.host === null) h.host = value(data, vs, ve, limits.maxValueBytes, h);
    } else if (n === 10 && nameIs(data, i, c, 'user-agent')) {
      if (h.userAgent === null) h.userAgent = value(data, vs, ve, limits.maxValueBytes, h);
    } else if (n === 12 && nameIs(data, i, c, 'content-type')) {
      if (h.contentType === null) h.contentType = value(data, vs, ve, limits.maxValueBytes, h);
    } else if (n === 14 && nameIs(data, i, c, 'content-length')) {
      h.contentLength = h.contentLength === -2 ? -2 : contentLength(data, vs, ve, h.contentLength);
    } else if (n === 17 && nameIs(data, i, c, 'transfer-encoding')) {
      if (endsWithChunked(data, vs, ve)) h.chunked = true;
      else if (ve > vs) h.otherCoding = true;
    } else if (n === 7 && nameIs(data, i, c, 'upgrade')) {
      if (valueHas(data, vs, ve, 'websocket')) h.upgradeWebsocket = true;
    }
    i = le + 1;
  }
  return -1;
}

function value(data: Uint8Array, s: number, e: number, max: number, h: Head): string {
  if (e - s > max) {
    h.valueCut = true;
    return latin1(data, s, s + max);
  }
  return latin1(data, s, e);
}

/** Whether `name` is a known request method (for callers holding a string). */
export const isMethod = (name: string): boolean => METHOD_SET.has(name);
