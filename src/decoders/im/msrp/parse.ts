/**
 * MSRP framing (RFC 4975 §7.1 and the ABNF of §9): a start line `MSRP <transact-id> <METHOD>` or
 * `MSRP <transact-id> <status> [comment]`, headers one per line (`To-Path`, `From-Path`, `Message-ID`, `Byte-Range`,
 * `Content-Type`…; no folding), then either the end-line directly (no body) or a blank line, the body, CRLF and the
 * end-line `-------<transact-id><flag>` where the flag is `$` (last chunk), `+` (more chunks follow) or `#` (the message
 * was aborted). The body is found by looking for its end-line (the sender picks a transaction id that does not occur
 * in the body, §6); bytes that cannot be the start of the end-line are handed on at once, so a body is never
 * buffered. Also accepts bare LF line ends. Wireshark dissector: `msrp` (packet-msrp.c). Pure functions over views.
 */
import { latin1 } from '../sip/text.js';

export interface MsrpHead {
  request: boolean;
  tid: string;
  /** SEND, REPORT, AUTH… for requests; '' for responses. */
  method: string;
  status: number;
  comment: string;
  /** Header values by lower-case name (first occurrence). */
  headers: Map<string, string>;
}

const START = /^MSRP ([A-Za-z0-9][A-Za-z0-9.+%=-]{3,31}) (?:([A-Za-z]+)|([0-9]{3})(?: (.*))?)$/;

/** The start line's parts, or null when `line` is not an MSRP start line. */
export function parseStartLine(line: string): { tid: string; method: string; status: number; comment: string } | null {
  const m = START.exec(line);
  if (m === null) return null;
  return { tid: m[1]!, method: m[2]?.toUpperCase() ?? '', status: m[3] === undefined ? 0 : Number(m[3]), comment: m[4] ?? '' };
}

export type HeadResult =
  | { st: 'need' }
  | { st: 'bad'; detail: string }
  /** `body`: true when a body follows at `next`; false when the end-line came at once (its flag in `flag`). */
  | { st: 'ok'; head: MsrpHead; next: number; body: boolean; flag: string };

function lineEnd(buf: Uint8Array, s: number, e: number): number {
  const i = buf.subarray(s, e).indexOf(0x0a);
  return i < 0 ? -1 : s + i;
}

function text(buf: Uint8Array, s: number, lf: number): string {
  return latin1(buf, s, lf > s && buf[lf - 1] === 0x0d ? lf - 1 : lf);
}

/** Read a start line and headers at `s` (at most `max` bytes). */
export function readHead(buf: Uint8Array, s: number, e: number, max: number): HeadResult {
  const lim = Math.min(e, s + max);
  const lf0 = lineEnd(buf, s, lim);
  if (lf0 < 0) return lim - s >= max ? { st: 'bad', detail: `start line over ${max} bytes` } : { st: 'need' };
  const start = parseStartLine(text(buf, s, lf0));
  if (start === null) return { st: 'bad', detail: `not an MSRP start line: ${JSON.stringify(text(buf, s, Math.min(lf0, s + 60)))}` };
  const endLine = `-------${start.tid}`;
  const headers = new Map<string, string>();
  let at = lf0 + 1;
  for (;;) {
    const lf = lineEnd(buf, at, lim);
    if (lf < 0) return lim - s >= max ? { st: 'bad', detail: `MSRP ${start.tid} header block over ${max} bytes` } : { st: 'need' };
    const line = text(buf, at, lf);
    at = lf + 1;
    const head: MsrpHead = { request: start.status === 0, ...start, headers };
    if (line.length === 0) return { st: 'ok', head, next: at, body: true, flag: '' };
    if (line.length === endLine.length + 1 && line.startsWith(endLine) && '$+#'.includes(line[line.length - 1]!)) {
      return { st: 'ok', head, next: at, body: false, flag: line[line.length - 1]! };
    }
    const c = line.indexOf(':');
    if (c <= 0) return { st: 'bad', detail: `MSRP ${start.tid}: header line without a colon: ${JSON.stringify(line.slice(0, 60))}` };
    const name = line.slice(0, c).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(c + 1).trim());
  }
}

export type BodyScan =
  /** The end-line was found: the body ends at `dataEnd`, the frame at `next`. */
  | { done: true; dataEnd: number; next: number; flag: string }
  /** Not yet: bytes up to `safe` are body for sure; the rest may be the start of the end-line. */
  | { done: false; safe: number };

/** Look for `\r\n-------<tid><flag>\r\n` (or LF alone) in `buf[s, e)`. `pattern` is the bytes of `\n-------<tid>`. */
export function scanBody(buf: Uint8Array, s: number, e: number, pattern: Uint8Array): BodyScan {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let from = s;
  for (;;) {
    const i = view.indexOf(pattern, from);
    if (i < 0 || i >= e) break;
    const f = i + pattern.length;
    if (f + 1 > e) return { done: false, safe: bodyEnd(buf, s, i) };
    const flag = buf[f]!;
    if (flag === 0x24 || flag === 0x2b || flag === 0x23) {
      let next = -1;
      if (f + 1 < e && buf[f + 1] === 0x0a) next = f + 2;
      else if (f + 2 < e && buf[f + 1] === 0x0d && buf[f + 2] === 0x0a) next = f + 3;
      else if (f + 1 >= e || (f + 2 >= e && buf[f + 1] === 0x0d)) return { done: false, safe: bodyEnd(buf, s, i) };
      if (next >= 0) return { done: true, dataEnd: bodyEnd(buf, s, i), next, flag: String.fromCharCode(flag) };
    }
    from = i + 1;
  }
  // A partial end-line can only start in the last pattern.length bytes (with its CR one more).
  return { done: false, safe: Math.max(s, e - pattern.length - 1) };
}

/** The body ends before the CR (if any) in front of the LF at `lf`. */
function bodyEnd(buf: Uint8Array, s: number, lf: number): number {
  return lf > s && buf[lf - 1] === 0x0d ? lf - 1 : lf;
}

export interface ByteRange {
  start: number;
  end: number | null;
  total: number | null;
}

/** `Byte-Range: 1-25/25`, `1-*\/*` (RFC 4975 §7.1.1). */
export function parseByteRange(v: string): ByteRange | null {
  const m = /^([0-9]{1,15})-([0-9]{1,15}|\*)\/([0-9]{1,15}|\*)$/.exec(v.trim());
  if (m === null) return null;
  const start = Number(m[1]);
  if (start < 1) return null;
  return { start, end: m[2] === '*' ? null : Number(m[2]), total: m[3] === '*' ? null : Number(m[3]) };
}

/** The session-id of the last URI in a To-Path/From-Path (the endpoint's own; earlier ones are relays). */
export function lastPathUri(v: string | undefined): string | null {
  if (v === undefined) return null;
  const uris = v.trim().split(/\s+/);
  const u = uris[uris.length - 1];
  return u === undefined || u.length === 0 ? null : u;
}
