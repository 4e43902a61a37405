/**
 * What an instant-message body says, for SIP MESSAGE (RFC 3428) and MSRP SEND (RFC 4975) alike:
 *  - `text/*` → a message (charset from the Content-Type, default UTF-8; `text/plain` is `text`, `text/html` `html`);
 *  - `message/cpim` (RFC 3862) → the CPIM headers (From, To, DateTime, Subject; `NS.Name` extension headers are
 *    skipped), then the inner MIME headers and content, interpreted again (one level);
 *  - `application/im-iscomposing+xml` (RFC 3994) → a typing notification (state, content type, refresh), not a message;
 *  - `message/imdn+xml` (RFC 5438) → a delivery/display receipt, not a message;
 *  - `application/pidf+xml` (RFC 3863) → presence (basic status and note);
 *  - anything else → a message whose `body_format` is the media type: XML/JSON/text-like types decoded as text, other
 *    types (images, binary) kept as bytes only (`body_raw`).
 * Pure: the results are fresh strings and copies.
 */
import { nameAddr } from './uri.js';
import { decodeText, latin1 } from './text.js';

export interface ContentType {
  /** Lower-case `type/subtype`. */
  type: string;
  params: Map<string, string>;
}

export function parseContentType(v: string | null): ContentType | null {
  if (v === null) return null;
  const parts = v.split(';');
  const type = parts[0]!.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type)) return null;
  const params = new Map<string, string>();
  for (const p of parts.slice(1)) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1);
    params.set(p.slice(0, eq).trim().toLowerCase(), val);
  }
  return { type, params };
}

/** `parseContentType(v)?.type === 'application/sdp'`, without parsing the parameters. */
export function isSdpType(v: string | null): boolean {
  if (v === null) return false;
  const semi = v.indexOf(';');
  return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase() === 'application/sdp';
}

export type Content =
  | {
      kind: 'message';
      body: string | null;
      raw: Uint8Array | null;
      format: string;
      /** From CPIM, when the body was wrapped. */
      sender: string | null;
      recipient: string | null;
      subject: string | null;
      datetime: string | null;
    }
  | { kind: 'typing'; detail: string; sender: string | null; recipient: string | null }
  | { kind: 'receipt'; detail: string; sender: string | null; recipient: string | null }
  | { kind: 'presence'; detail: string; sender: string | null; recipient: string | null };

/** The format recorded for a media type. */
export function bodyFormat(type: string): string {
  switch (type) {
    case 'text/plain':
      return 'text';
    case 'text/html':
      return 'html';
    case 'application/xhtml+xml':
      return 'xhtml';
    case 'text/enriched':
      return 'enriched';
    default:
      return type;
  }
}

/** Media types read as text although not `text/*`. */
function textLike(type: string): boolean {
  return type.startsWith('text/') || type.endsWith('+xml') || type.endsWith('/xml') || type.endsWith('+json') || type.endsWith('/json');
}

function xmlField(xml: string, tag: string): string | null {
  const m = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${tag}(?:\\s[^>]*)?>\\s*([^<]*?)\\s*</`, 'i').exec(xml);
  return m === null ? null : m[1]!;
}

function xmlEmpty(xml: string, tags: string[]): string | null {
  for (const t of tags) if (new RegExp(`<(?:[A-Za-z0-9_-]+:)?${t}\\s*/>`, 'i').test(xml)) return t;
  return null;
}

export interface InterpretResult {
  content: Content;
  /** An anomaly to report (only `sip_cpim_malformed`), with its detail. */
  problem: string | null;
}

/** Interpret the body `buf[s, e)` whose Content-Type is `ct` (null: none given, read as text/plain). */
export function interpret(ct: ContentType | null, buf: Uint8Array, s: number, e: number, depth = 0): InterpretResult {
  const type = ct?.type ?? 'text/plain';
  const charset = ct?.params.get('charset') ?? null;
  if (type === 'message/cpim' && depth === 0) return cpim(buf, s, e);
  if (type === 'application/im-iscomposing+xml') {
    const x = decodeText(buf, s, e, charset).text;
    const parts = [`state ${xmlField(x, 'state') ?? '?'}`];
    const ctype = xmlField(x, 'contenttype');
    const refresh = xmlField(x, 'refresh');
    if (ctype !== null) parts.push(`contenttype ${ctype}`);
    if (refresh !== null) parts.push(`refresh ${refresh}`);
    return { content: { kind: 'typing', detail: parts.join(', '), sender: null, recipient: null }, problem: null };
  }
  if (type === 'message/imdn+xml') {
    const x = decodeText(buf, s, e, charset).text;
    const status = xmlEmpty(x, ['delivered', 'displayed', 'processed', 'stored', 'failed', 'forbidden', 'error']) ?? 'unknown';
    const id = xmlField(x, 'message-id');
    return { content: { kind: 'receipt', detail: `${status}${id !== null ? ` message-id ${id}` : ''}`, sender: null, recipient: null }, problem: null };
  }
  if (type === 'application/pidf+xml') {
    const x = decodeText(buf, s, e, charset).text;
    const basic = xmlField(x, 'basic') ?? 'unknown';
    const note = xmlField(x, 'note');
    const entity = /entity\s*=\s*"([^"]*)"/.exec(x)?.[1] ?? null;
    return {
      content: { kind: 'presence', detail: `${basic}${note !== null && note.length > 0 ? ` ${JSON.stringify(note)}` : ''}`, sender: entity, recipient: null },
      problem: null,
    };
  }
  const base = { kind: 'message' as const, format: bodyFormat(type), sender: null, recipient: null, subject: null, datetime: null };
  if (textLike(type)) {
    const d = decodeText(buf, s, e, charset);
    return { content: { ...base, body: d.text, raw: d.raw }, problem: null };
  }
  return { content: { ...base, body: null, raw: buf.slice(s, e) }, problem: null };
}

/** The offset just past the blank line ending the header section that starts at `s` (CRLF CRLF or LF LF), or -1. */
function blankLine(buf: Uint8Array, s: number, e: number): number {
  if (s < e && buf[s] === 0x0a) return s + 1; // an empty section
  if (s + 1 < e && buf[s] === 0x0d && buf[s + 1] === 0x0a) return s + 2;
  for (let i = s; i < e; i++) {
    if (buf[i] !== 0x0a) continue;
    if (i + 1 < e && buf[i + 1] === 0x0a) return i + 2;
    if (i + 2 < e && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

function headerLines(buf: Uint8Array, s: number, e: number): [string, string][] {
  const out: [string, string][] = [];
  for (const line of latin1(buf, s, e).split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.length === 0) continue;
    if ((l.startsWith(' ') || l.startsWith('\t')) && out.length > 0) {
      out[out.length - 1]![1] += ` ${l.trim()}`;
      continue;
    }
    const c = l.indexOf(':');
    if (c > 0) out.push([l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim()]);
  }
  return out;
}

/** RFC 3862: CPIM headers, blank line, MIME headers of the content, blank line, content. */
function cpim(buf: Uint8Array, s: number, e: number): InterpretResult {
  const h1 = blankLine(buf, s, e);
  const h2 = h1 < 0 ? -1 : blankLine(buf, h1, e);
  if (h1 < 0 || h2 < 0) {
    const d = decodeText(buf, s, e);
    return {
      content: { kind: 'message', body: d.text, raw: d.raw, format: 'message/cpim', sender: null, recipient: null, subject: null, datetime: null },
      problem: `message/cpim body of ${e - s} bytes without ${h1 < 0 ? 'the blank line after its CPIM headers' : 'the blank line after its MIME headers'}`,
    };
  }
  let sender: string | null = null;
  let recipient: string | null = null;
  let subject: string | null = null;
  let datetime: string | null = null;
  // Header values are UTF-8 (RFC 3862 §3.1); decode them from the bytes again for non-ASCII names.
  const cpimText = decodeText(buf, s, h1).text;
  for (const line of cpimText.split('\n')) {
    const l = line.replace(/\r$/, '');
    const c = l.indexOf(':');
    if (c <= 0) continue;
    const name = l.slice(0, c).trim().toLowerCase();
    const value = l.slice(c + 1).trim();
    if (name === 'from') sender ??= nameAddr(value)?.uri ?? null;
    else if (name === 'to') recipient ??= nameAddr(value)?.uri ?? null;
    else if (name === 'subject') subject ??= value.replace(/^;lang=[^ ]* /, '');
    else if (name === 'datetime') datetime ??= value;
  }
  const mime = headerLines(buf, h1, h2);
  const innerCt = parseContentType(mime.find(([n]) => n === 'content-type')?.[1] ?? null);
  const inner = interpret(innerCt, buf, h2, e, 1).content;
  if (inner.kind === 'message') return { content: { ...inner, sender, recipient, subject, datetime }, problem: null };
  return { content: { ...inner, sender: sender ?? inner.sender, recipient }, problem: null };
}
