/**
 * Text out of IRC bytes. IRC has no declared charset (RFC 2812 §2.2 only says octets); today's clients send UTF-8 and
 * older ones a legacy 8-bit charset, and clients that receive invalid UTF-8 commonly fall back to ISO-8859-1. So:
 * UTF-8 when the bytes are valid UTF-8, else ISO-8859-1 (every byte one character, nothing lost) with the original
 * bytes kept beside it (`body_raw`). Nothing is stripped: mIRC formatting codes (^B, ^C colours, ^O, ^V, ^_, ^]) stay
 * in the text as sent; escaping control characters is the output's job.
 */
import type { IrcLine } from './parse.js';
import { isAscii, latin1 } from '../text.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Decoded {
  text: string;
  /** A copy of the bytes when they were not valid UTF-8 (the text is then their ISO-8859-1 reading). */
  raw: Uint8Array | null;
}

/** Decode `buf[s, e)`: UTF-8 when valid, else ISO-8859-1 with the bytes kept. */
export function decodeText(buf: Uint8Array, s: number, e: number): Decoded {
  if (isAscii(buf, s, e)) return { text: latin1(buf, s, e), raw: null };
  try {
    return { text: utf8.decode(buf.subarray(s, e)), raw: null };
  } catch {
    return { text: latin1(buf, s, e), raw: buf.slice(s, e) };
  }
}

/** Decode `buf[s, e)` as a name (nick, channel, file name): the text only, as decodeText reads it (no object built). */
export function decodeName(buf: Uint8Array, s: number, e: number): string {
  if (isAscii(buf, s, e)) return latin1(buf, s, e);
  try {
    return utf8.decode(buf.subarray(s, e));
  } catch {
    return latin1(buf, s, e);
  }
}

/** Parameter `i` of the line as text ('' when absent). */
export function param(l: IrcLine, i: number): string {
  if (i >= l.nparams) return '';
  return decodeName(l.buf, l.ps[i]!, l.pe[i]!);
}

/** The prefix's nick (the part before `!`/`@`), or the whole prefix when it is a server name; null without a prefix. */
export function prefixNick(l: IrcLine, nickEnd: number): string | null {
  if (l.prefixStart < 0) return null;
  return decodeName(l.buf, l.prefixStart, nickEnd >= 0 ? nickEnd : l.prefixEnd);
}

/**
 * RFC 1459 §2.2 case mapping, used to compare nicks and channels: besides A-Z, `[]\^` are the upper case of
 * `{}|~` (Scandinavian origin; `^`/`~` added by RFC 2812). Servers announce `CASEMAPPING=rfc1459` (or the stricter
 * ascii) in RPL_ISUPPORT; rfc1459 is the default and the superset, so it is used for all.
 */
export function ircLower(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5e) out += String.fromCharCode(c + 32);
    else out += s[i];
  }
  return out;
}

export function sameNick(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && (a === b || ircLower(a) === ircLower(b));
}
