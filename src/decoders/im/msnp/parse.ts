/**
 * MSNP framing: command lines and the payloads some commands carry, plus the text helpers the session needs (friendly
 * names, MIME headers of MSG payloads, charsets). Pure functions over byte views; nothing here keeps state.
 *
 * Grammar (MSNP2 to MSNP21 share it): a command is a line `CMD [params…]\r\n` whose command is three upper-case letters
 * (or a three-digit error code), parameters separated by single spaces, usually a transaction id first. Payload
 * commands end their line with a byte count, and that many bytes follow the CRLF (`MSG 5 N 132\r\n` + 132 bytes);
 * the count is in bytes, not characters. References: the MSN Messenger protocol drafts (draft-movva-msn-messenger-
 * protocol-00, MSNP2), hypothetic.org's MSNP7-MSNP11 documentation, the nina.chat wiki (MSNP13-MSNP21 commands),
 * yellows111's MSNP notes (MIME types); Wireshark's `msnms` dissector shows the same lines.
 */
import { latin1 } from '../text.js';

export const CR = 0x0d;
export const LF = 0x0a;

/** Index of the LF ending the line that starts at `at`, or -1 when it is not complete in `[at, end)`. */
export function findLf(data: Uint8Array, at: number, end: number): number {
  for (let i = at; i < end; i++) if (data[i] === LF) return i;
  return -1;
}

/** End of the line's text: before the CR of a CRLF. */
export function lineTextEnd(data: Uint8Array, s: number, lf: number): number {
  return lf > s && data[lf - 1] === CR ? lf - 1 : lf;
}

export { latin1 } from '../text.js';

export type LineShape = 'ok' | 'empty' | 'bad';

/** Whether `[s, e)` (without the line end) is an MSNP command line: `AAA` or `999`, then nothing or a space. */
export function lineShape(data: Uint8Array, s: number, e: number): LineShape {
  if (e === s) return 'empty';
  if (e - s < 3) return 'bad';
  const a = data[s]!;
  const b = data[s + 1]!;
  const c = data[s + 2]!;
  const upper = (x: number) => x >= 0x41 && x <= 0x5a;
  const digit = (x: number) => x >= 0x30 && x <= 0x39;
  if (!((upper(a) && upper(b) && upper(c)) || (digit(a) && digit(b) && digit(c)))) return 'bad';
  if (e - s > 3 && data[s + 3] !== 0x20) return 'bad';
  for (let i = s; i < e; i++) {
    const x = data[i]!;
    if (x === 0 || x === CR || x === LF) return 'bad';
  }
  return 'ok';
}

/** The line's tokens (split on spaces, empty ones dropped), as ISO-8859-1 text. */
export function tokens(data: Uint8Array, s: number, e: number): string[] {
  const tok = latin1(data, s, e).split(' ');
  // Commands separate parameters by single spaces: the list is filtered only when it has an empty token.
  for (let i = 0; i < tok.length; i++) if (tok[i]!.length === 0) return tok.filter((t) => t.length > 0);
  return tok;
}

/** Whether `t` is 1 to 10 decimal digits. */
export const isNumber = (t: string | undefined): t is string => {
  if (t === undefined || t.length === 0 || t.length > 10) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
};

/**
 * Commands that may carry a payload, with the fewest tokens (command included) their payload form has. A line of one
 * of these whose last token is a number (and which has at least that many tokens) announces a payload of that many
 * bytes; replies without payload end in `OK` or have fewer tokens (`QRY 18`, `ADL 7 OK`).
 */
const PAYLOAD_MIN_TOKENS: Record<string, number> = {
  MSG: 3, // MSG trid ack len (client) / MSG email friendly len (server)
  NOT: 2, // NOT len
  IPG: 2, // IPG len
  UUX: 3, // UUX trid len
  UBX: 3, // UBX email [netid] len
  ADL: 3, // ADL trid len
  RML: 3, // RML trid len
  GCF: 3, // GCF trid [file] len
  FQY: 3, // FQY trid len
  QRY: 4, // QRY trid clientid len
  UUM: 5, // UUM trid email netid type len
  UBM: 5, // UBM email netid type len
  UUN: 4, // UUN trid email type len
  UBN: 4, // UBN email type len
  SDG: 3, // SDG trid len (MSNP18+)
  NFY: 3, // NFY PUT len
  PUT: 3, // PUT trid len
  DEL: 3, // DEL trid len
};

/** The payload length a tokenised line announces; -1 when it carries none. */
export function payloadLength(tok: readonly string[]): number {
  const cmd = tok[0]!;
  const last = tok[tok.length - 1];
  let min = PAYLOAD_MIN_TOKENS[cmd];
  // Errors with a payload (MSNP13+: `241 trid len`, the ADL failure list).
  if (min === undefined && isNumber(cmd)) min = 3;
  if (min === undefined || tok.length < min || !isNumber(last)) return -1;
  return Number(last);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Decoded {
  text: string;
  /** A copy of the bytes when they were not valid text in the declared charset (the text is then their ISO-8859-1 reading). */
  raw: Uint8Array | null;
}

/** Decode `data[s, e)` in `charset` (UTF-8 by default, as MSNP sends it); invalid bytes fall back to ISO-8859-1, kept raw. */
export function decodeText(data: Uint8Array, s: number, e: number, charset: string | null = null): Decoded {
  const bytes = data.subarray(s, e);
  const cs = (charset ?? 'utf-8').toLowerCase();
  let dec = utf8;
  if (cs !== 'utf-8' && cs !== 'utf8') {
    try {
      dec = new TextDecoder(cs, { fatal: true });
    } catch {
      dec = utf8; // an unknown label: try UTF-8
    }
  }
  try {
    return { text: dec.decode(bytes), raw: null };
  } catch {
    return { text: latin1(data, s, e), raw: bytes.slice() };
  }
}

/** A URL-encoded (percent-encoded UTF-8) friendly name or group name, as MSNP sends them; undecodable parts stay as sent. */
export function urlDecode(t: string): string {
  if (!t.includes('%') && !/[\x80-\xff]/.test(t)) return t;
  const bytes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c === 0x25 && i + 2 < t.length && /^[0-9a-fA-F]{2}$/.test(t.slice(i + 1, i + 3))) {
      bytes.push(parseInt(t.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  const b = Uint8Array.from(bytes);
  return decodeText(b, 0, b.length).text;
}

/** An account as MSNP18+ writes it (`1:user@example.com`, `user@example.com;{guid}`) reduced to the e-mail address. */
export function bareEmail(t: string): string {
  let s = t;
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  const colon = s.indexOf(':');
  if (colon > 0 && colon < 3 && /^[0-9]+$/.test(s.slice(0, colon))) s = s.slice(colon + 1);
  return s;
}

export const looksLikeEmail = (t: string | undefined): t is string => t !== undefined && /^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+$/.test(bareEmail(t));

/** MIME-style headers `Name: value` lines, names lower-cased; the first occurrence of a name wins. */
export type Headers = Map<string, string>;

export function parseHeaders(text: string): Headers {
  const h: Headers = new Map();
  // Lines end in LF, a CR before it dropped (as a split on /\r?\n/ would, without the regular expression).
  for (let at = 0; at <= text.length; ) {
    const lf = text.indexOf('\n', at);
    const nl = lf < 0 ? text.length : lf;
    const e = lf > at && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : nl;
    const c = text.indexOf(':', at);
    if (c > at && c < e) {
      const name = text.slice(at, c).trim().toLowerCase();
      if (!h.has(name)) h.set(name, text.slice(c + 1, e).trim());
    }
    at = nl + 1;
  }
  return h;
}

/** Offset of the blank line ending a header block in `data[s, e)` and the offset of the body after it; null when there is none. */
export function headerEnd(data: Uint8Array, s: number, e: number): { end: number; body: number } | null {
  for (let i = s; i < e; i++) {
    if (data[i] !== LF) continue;
    if (i + 1 < e && data[i + 1] === LF) return { end: i, body: i + 2 };
    if (i + 2 < e && data[i + 1] === CR && data[i + 2] === LF) return { end: i, body: i + 3 };
  }
  return null;
}

/** `text/plain; charset=UTF-8` → type `text/plain`, charset `UTF-8`. */
export function contentType(v: string | undefined): { type: string; charset: string | null } {
  if (v === undefined) return { type: '', charset: null };
  if (!v.includes(';')) return { type: v.trim().toLowerCase(), charset: null };
  const parts = v.split(';');
  const type = parts[0]!.trim().toLowerCase();
  let charset: string | null = null;
  for (const p of parts.slice(1)) {
    const m = /^\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(p);
    if (m) charset = m[1]!;
  }
  return { type, charset };
}
