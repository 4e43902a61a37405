/**
 * Text out of YMSG values. Yahoo ids, room names and numbers are ASCII; message text is UTF-8 when the packet says so
 * (key 97 = 1, sent by every client since Yahoo! Messenger 6 and by libpurple), else it is in the sender's Windows
 * code page, which the packet does not name: such text is read as Windows-1252 (the Western default, a superset of
 * the ISO-8859-1 printable range) and, when it is not plain ASCII, its bytes are kept (`body_raw`) since the real
 * code page may differ. UTF-8 that is not valid is read the same way, bytes kept.
 */
import { isAscii } from '../text.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lax = new TextDecoder('utf-8', { ignoreBOM: true });
/**
 * Windows-1252 by table: Node's TextDecoder reads the label `windows-1252` as ISO-8859-1 (0x80-0x9F become C1
 * controls instead of €, ‚, ƒ…), so the 32 bytes where the two differ are mapped here (WHATWG encoding index; the five
 * unassigned bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D stay U+0081… as WHATWG says).
 */
const CP1252_80 = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function cp1252(buf: Uint8Array): string {
  let out = '';
  for (let i = 0; i < buf.length; i += 4096) {
    const codes = Array.from(buf.subarray(i, Math.min(buf.length, i + 4096)), (b) => (b >= 0x80 && b < 0xa0 ? CP1252_80.charCodeAt(b - 0x80) : b));
    out += String.fromCharCode(...codes);
  }
  return out;
}

const ascii = isAscii;

export interface Decoded {
  text: string;
  /** A copy of the bytes when the text's charset was not certain or the bytes were not valid in it. */
  raw: Uint8Array | null;
}

/** Message text `buf[s, e)`; `utf8Flag` is key 97's value = 1. */
export function decodeBody(buf: Uint8Array, s: number, e: number, utf8Flag: boolean): Decoded {
  const view = buf.subarray(s, e);
  if (ascii(buf, s, e)) return { text: utf8Lax.decode(view), raw: null };
  if (utf8Flag) {
    try {
      return { text: utf8.decode(view), raw: null };
    } catch {
      // falls through: not valid UTF-8 after all
    }
  }
  return { text: cp1252(view), raw: buf.slice(s, e) };
}

/** A name or number value (ids, rooms, groups, file names): UTF-8, invalid sequences as U+FFFD. */
export function decodeName(buf: Uint8Array, s: number, e: number): string {
  return utf8Lax.decode(buf.subarray(s, e));
}
