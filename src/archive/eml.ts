/**
 * One IM message as an RFC 5322 message (RFC 2045 MIME body), and back.
 *
 * Network text is hostile, so no header value is written as it came: a value is written literally only when it is
 * printable ASCII without "=?", leading, trailing or doubled spaces, on a line of at most 200 characters (RFC 5322
 * allows 998; hashes and paths stay readable); anything else (CR, LF, NUL, non-ASCII, long text) becomes RFC 2047
 * encoded-words (`=?utf-8?B?…?=`, each at most 75 characters, split between characters, folded onto continuation
 * lines). The body is text/plain; charset=utf-8 in base64, which
 * carries any content (NUL, lone CR, lines of any length) unchanged. Addresses: the account as an RFC 2047 display
 * name, and an addr-spec made of its bytes (`A-Z a-z 0-9 _ + -` and single inner dots as they are, others as %XX)
 * at `<app>.invalid` (the app as a pseudo-domain under the reserved TLD .invalid, RFC 2606, so nothing routes).
 *
 * What a mail client shows (the From and To display names, the Subject) has control and bidirectional-override
 * characters made visible (`\x0d`, as on a terminal): a display name with CR or LF is refused by mail parsers, and a
 * Subject should not reorder itself. The exact values are in the `X-Imtap-*` headers.
 *
 * Provenance goes in `X-Imtap-*` headers, one per record field (an absent header is a null field); `imtap verify`
 * rebuilds the record from them and the body (`parseEml`) to check the hash chain.
 */
import { createHash } from 'node:crypto';
import { terminalSafe } from '../util/escape.js';
import type { ChainedRecord } from './record.js';

const CRLF = '\r\n';

/** Header name → where the value goes in the record; `int` fields are decimal integers. */
const FIELDS: readonly { header: string; path: [string] | [string, string]; int?: boolean }[] = [
  { header: 'X-Imtap-Seq', path: ['seq'], int: true },
  { header: 'X-Imtap-Chain', path: ['chain'] },
  { header: 'X-Imtap-Ts', path: ['ts'] },
  { header: 'X-Imtap-App', path: ['app'] },
  { header: 'X-Imtap-Sender', path: ['sender'] },
  { header: 'X-Imtap-Recipient', path: ['recipient'] },
  { header: 'X-Imtap-Direction', path: ['direction'] },
  { header: 'X-Imtap-Kind', path: ['kind'] },
  { header: 'X-Imtap-Subject', path: ['subject'] },
  { header: 'X-Imtap-Thread', path: ['thread'] },
  { header: 'X-Imtap-Body-Format', path: ['body_format'] },
  { header: 'X-Imtap-Sensor', path: ['sensor'] },
  { header: 'X-Imtap-Capture-Id', path: ['capture', 'capture_id'], int: true },
  { header: 'X-Imtap-Capture-Path', path: ['capture', 'path'] },
  { header: 'X-Imtap-Capture-Sha256', path: ['capture', 'sha256'] },
  { header: 'X-Imtap-Flow-Id', path: ['flow', 'flow_id'], int: true },
  { header: 'X-Imtap-Transport', path: ['flow', 'transport'] },
  { header: 'X-Imtap-Client-Ip', path: ['flow', 'client_ip'] },
  { header: 'X-Imtap-Client-Port', path: ['flow', 'client_port'], int: true },
  { header: 'X-Imtap-Server-Ip', path: ['flow', 'server_ip'] },
  { header: 'X-Imtap-Server-Port', path: ['flow', 'server_port'], int: true },
];

/** RFC 2047 encoded-words for `text`, joined by folding white space; each word ≤ 75 characters. */
export function encodeWords(text: string): string {
  const words: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    words.push(`=?utf-8?B?${Buffer.from(chunk).toString('base64')}?=`);
    chunk = [];
  };
  for (const ch of text) {
    const bytes = [...Buffer.from(ch, 'utf8')];
    // 45 bytes → 60 base64 characters → a 72-character word
    if (chunk.length + bytes.length > 45) flush();
    chunk.push(...bytes);
  }
  if (chunk.length || words.length === 0) flush();
  return words.join(`${CRLF} `);
}

const SAFE_LITERAL = /^[\x21-\x7e]+(?: [\x21-\x7e]+)*$/;

/** A header line (folded when encoded) for a value that may hold anything. Empty string: an empty value. */
export function headerLine(name: string, value: string): string {
  if (value === '') return `${name}:${CRLF}`;
  if (SAFE_LITERAL.test(value) && !value.includes('=?') && name.length + 2 + value.length <= 200) return `${name}: ${value}${CRLF}`;
  return `${name}: ${encodeWords(value)}${CRLF}`;
}

const ENCODED_WORD = /^=\?utf-8\?B\?([A-Za-z0-9+/]*={0,2})\?=$/i;

/** The value of an unfolded header as headerLine wrote it; null when it is neither literal nor our encoded-words. */
export function decodeValue(raw: string): string | null {
  const v = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (!v.startsWith('=?')) return v.includes('=?') ? null : v;
  const parts = v.split(/[ \t]+/);
  const bytes: Buffer[] = [];
  for (const p of parts) {
    const m = ENCODED_WORD.exec(p);
    if (!m) return null;
    bytes.push(Buffer.from(m[1]!, 'base64'));
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(bytes));
  } catch {
    return null;
  }
}

/** An addr-spec local part from an account: safe characters as they are, other bytes as %XX; at most 64. */
export function localPart(account: string | null): string {
  if (account === null || account === '') return 'unknown';
  let out = '';
  const bytes = Buffer.from(account, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    const innerDot = c === '.' && i > 0 && i < bytes.length - 1 && bytes[i - 1] !== 0x2e && bytes[i + 1] !== 0x2e;
    out += /[A-Za-z0-9_+-]/.test(c) || innerDot ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // too long for RFC 5321: a prefix and a hash of the whole account (the display name keeps it in full)
  return out.length <= 64 ? out : `${out.slice(0, 47)}-${createHash('sha256').update(account).digest('hex').slice(0, 16)}`;
}

/** The app as a DNS label (it comes from imtap's decoders, but is made safe all the same). */
export const appDomain = (app: string): string => `${app.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'im'}.invalid`;

function mailbox(app: string, account: string | null): string {
  const addr = `${localPart(account)}@${appDomain(app)}`;
  return account === null || account === '' ? addr : `${encodeWords(terminalSafe(account))} <${addr}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 date-time (UTC, whole seconds) from the record's ISO 8601 time. */
export function rfc5322Date(iso: string): string {
  const d = new Date(iso.slice(0, 19) + 'Z');
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Base64 in lines of 76 characters (RFC 2045). */
function base64Lines(b: Buffer): string {
  const s = b.toString('base64');
  let out = '';
  for (let i = 0; i < s.length; i += 76) out += s.slice(i, i + 76) + CRLF;
  return out;
}

/** The message for one record (CRLF line ends, ASCII only). */
export function toEml(r: ChainedRecord): string {
  const id = `${r.ts.replace(/[^0-9]/g, '')}.${r.capture.capture_id}.${r.flow.flow_id}.${r.seq}.${(r.capture.sha256 ?? 'nocapturehash').slice(0, 16).replace(/[^0-9a-z]/g, '')}`;
  let h = '';
  h += `From: ${mailbox(r.app, r.sender)}${CRLF}`;
  h += `To: ${mailbox(r.app, r.recipient)}${CRLF}`;
  h += `Date: ${rfc5322Date(r.ts)}${CRLF}`;
  h += `Message-ID: <${id}@imtap.invalid>${CRLF}`;
  h += headerLine('Subject', terminalSafe(`[${r.app}] ${r.sender ?? '?'} → ${r.recipient ?? '?'}`));
  h += `MIME-Version: 1.0${CRLF}`;
  h += `Content-Type: text/plain; charset=utf-8${CRLF}`;
  h += `Content-Transfer-Encoding: base64${CRLF}`;
  for (const f of FIELDS) {
    const v = f.path.length === 1 ? (r as unknown as Record<string, unknown>)[f.path[0]] : (r as unknown as Record<string, Record<string, unknown>>)[f.path[0]]![f.path[1]];
    if (v === null || v === undefined) continue;
    h += headerLine(f.header, String(v));
  }
  if (r.body_raw !== null) {
    // base64 already (ASCII): folded in pieces of 64; white space is dropped when read back
    const pieces = r.body_raw.match(/.{1,64}/g) ?? [''];
    h += `X-Imtap-Body-Raw: ${pieces.join(`${CRLF} `)}${CRLF}`;
  }
  if (r.body === null) h += `X-Imtap-Body: null${CRLF}`;
  return `${h}${CRLF}${base64Lines(Buffer.from(r.body ?? '', 'utf8'))}`;
}

/** The record an .eml written by toEml carries; throws with the reason when it is not one. */
export function parseEml(text: string): ChainedRecord {
  const end = text.indexOf(`${CRLF}${CRLF}`);
  if (end < 0) throw new Error('no blank line between the header and the body');
  const headers = new Map<string, string[]>();
  for (const line of text.slice(0, end).replace(/\r\n(?=[ \t])/g, '').split(CRLF)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line without a name: ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1)]);
  }
  const one = (name: string): string | null => {
    const v = headers.get(name.toLowerCase());
    if (!v) return null;
    if (v.length > 1) throw new Error(`header ${name} appears ${v.length} times`);
    return v[0]!;
  };
  const rec: Record<string, unknown> = { capture: {}, flow: {} };
  for (const f of FIELDS) {
    const raw = one(f.header);
    let v: string | number | null = null;
    if (raw !== null) {
      const s = decodeValue(raw);
      if (s === null) throw new Error(`header ${f.header} is not a value imtap writes`);
      if (f.int) {
        if (!/^-?\d+$/.test(s)) throw new Error(`header ${f.header} is not an integer`);
        v = Number(s);
      } else v = s;
    }
    if (f.path.length === 1) rec[f.path[0]] = v;
    else (rec[f.path[0]] as Record<string, unknown>)[f.path[1]] = v;
  }
  const raw = one('X-Imtap-Body-Raw');
  rec.body_raw = raw === null ? null : raw.replace(/\s+/g, '');
  const bodyNull = one('X-Imtap-Body');
  const b64 = text.slice(end + 4).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('the body is not base64');
  if (bodyNull !== null) {
    if (bodyNull.trim() !== 'null' || b64 !== '') throw new Error('X-Imtap-Body says null but there is a body');
    rec.body = null;
  } else {
    try {
      rec.body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
    } catch {
      throw new Error('the body is not UTF-8');
    }
  }
  if (typeof rec.seq !== 'number' || typeof rec.chain !== 'string' || typeof rec.app !== 'string' || typeof rec.ts !== 'string') {
    throw new Error('X-Imtap-Seq, X-Imtap-Chain, X-Imtap-Ts or X-Imtap-App missing');
  }
  return rec as unknown as ChainedRecord;
}
