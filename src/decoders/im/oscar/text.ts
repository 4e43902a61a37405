/**
 * Message text out of OSCAR and TOC bytes: the ICBM message block charsets and the HTML AIM clients send.
 *
 * Charsets of the ICBM channel-1 text fragment (AOL's OSCAR documentation, ICBM "IM data"; Shutko's ICQ docs; Pidgin's
 * `oscar_encoding_*`): 0x0000 ASCII, 0x0002 UCS-2BE (UTF-16BE in practice: surrogate pairs occur), 0x0003
 * ISO-8859-1. Charset 0 with bytes over 0x7F (clients sent their local 8-bit charset or UTF-8 under it): UTF-8 when
 * valid, else ISO-8859-1 with the bytes kept. Anything else: ISO-8859-1 with the bytes kept.
 *
 * HTML (AIM clients wrap messages in <HTML><BODY><FONT…>): the body becomes the text (tags removed, `<br>` a line
 * break, entities decoded), `body_format` says 'html', and `body_raw` keeps the bytes exactly as sent (see README).
 */
import { latin1 } from './wire.js';

export const CHARSET_ASCII = 0x0000;
export const CHARSET_UCS2 = 0x0002;
export const CHARSET_LATIN1 = 0x0003;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf16 = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

export interface Decoded {
  text: string;
  /** The bytes could not be read in the declared charset (the text is their ISO-8859-1 reading). */
  invalid: boolean;
}

function ascii(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return false;
  return true;
}

/** Decode `b[s, e)` in the message block charset `cs`. */
export function decodeCharset(b: Uint8Array, s: number, e: number, cs: number): Decoded {
  const v = b.subarray(s, e);
  if (cs === CHARSET_UCS2) {
    if ((e - s) % 2 === 0) {
      try {
        return { text: utf16.decode(v), invalid: false };
      } catch {
        // a lone surrogate: fall through
      }
    }
    return { text: latin1(b, s, e), invalid: true };
  }
  if (cs === CHARSET_LATIN1) return { text: latin1(b, s, e), invalid: false };
  if (cs === CHARSET_ASCII) {
    if (ascii(b, s, e)) return { text: latin1(b, s, e), invalid: false };
    try {
      return { text: utf8.decode(v), invalid: false };
    } catch {
      return { text: latin1(b, s, e), invalid: true };
    }
  }
  return { text: latin1(b, s, e), invalid: true };
}

const HTML_TAG = /<\/?(?:html|body|font|b|i|u|s|br|a|p|span|div|img|em|strong|sub|sup|hr|big|small|pre)\b[^>]*>/i;

/** Whether the text is AIM-style HTML (it holds at least one of the tags clients send). */
export function looksHtml(text: string): boolean {
  return text.includes('<') && HTML_TAG.test(text);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** The text of AIM HTML: comments and tags removed, `<br>` a line feed, entities decoded. */
export function stripHtml(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]+);/gi, (m, ent: string) => {
      if (ent[0] === '#') {
        const cp = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : m;
      }
      return ENTITIES[ent.toLowerCase()] ?? m;
    });
}

/** A message body as rows want it. */
export interface Body {
  body: string;
  body_format: 'text' | 'html';
  body_raw: Uint8Array | null;
}

/**
 * The body of `b[s, e)` in charset `cs`: HTML becomes its text with the bytes kept; text invalid in its charset keeps
 * its bytes too.
 */
export function messageBody(b: Uint8Array, s: number, e: number, cs: number): Body {
  const d = decodeCharset(b, s, e, cs);
  if (looksHtml(d.text)) return { body: stripHtml(d.text), body_format: 'html', body_raw: b.slice(s, e) };
  return { body: d.text, body_format: 'text', body_raw: d.invalid ? b.slice(s, e) : null };
}
