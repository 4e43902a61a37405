/**
 * Bytes to text for SIP and MSRP: header values (RFC 3261 §7.3.1: UTF-8 in practice, ISO-8859-1 as the fallback for
 * invalid bytes) and bodies in the charset their Content-Type names (RFC 3261 §20.15 and RFC 3428: text bodies
 * without a charset parameter are UTF-8). A body that is not valid in its charset is read as ISO-8859-1 (nothing is
 * lost) and its bytes are kept beside it (`body_raw`). Results are fresh strings/copies: they survive the next call.
 */

import { isAscii as isAsciiView } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { isAscii, latin1 } from '../text.js';

const decoders = new Map<string, TextDecoder | null>();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decoderFor(charset: string): TextDecoder | null {
  const key = charset.toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key, { fatal: true });
    } catch {
      d = null; // a charset Node does not know: read as UTF-8
    }
    if (decoders.size < 64) decoders.set(key, d);
  }
  return d;
}

/** Below this many bytes a loop is cheaper than a view for Node's SIMD check (measured: a view costs about a 40-byte loop). */
const NATIVE_ASCII_MIN = 64;

/** Whether `buf[s, e)` is all 7-bit ASCII (as `isAscii` of ../text.js; a range past the view's end stops at its end). */
export function ascii(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < NATIVE_ASCII_MIN) return isAscii(buf, s, e);
  if (e > buf.length) e = buf.length;
  return e <= s || isAsciiView(new Uint8Array(buf.buffer, buf.byteOffset + s, e - s));
}

export { latin1 } from '../text.js';

export interface Decoded {
  text: string;
  /** A copy of the bytes when they were not valid in the charset (the text is then their ISO-8859-1 reading). */
  raw: Uint8Array | null;
}

/** Decode `buf[s, e)` in `charset` (default UTF-8); invalid bytes give the ISO-8859-1 reading and a copy of the bytes. */
export function decodeText(buf: Uint8Array, s: number, e: number, charset: string | null = null): Decoded {
  const cs = charset === null ? 'utf-8' : charset.toLowerCase();
  const asciiCompatible = cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii' || cs === 'iso-8859-1' || cs === 'latin1';
  if (asciiCompatible && ascii(buf, s, e)) return { text: latin1(buf, s, e), raw: null };
  const d = cs === 'utf-8' || cs === 'utf8' ? utf8 : (decoderFor(cs) ?? utf8);
  try {
    return { text: d.decode(buf.subarray(s, e)), raw: null };
  } catch {
    return { text: latin1(buf, s, e), raw: buf.slice(s, e) };
  }
}

/** A header value or name as text (UTF-8 when valid, else ISO-8859-1). */
export function headerText(buf: Uint8Array, s: number, e: number): string {
  if (ascii(buf, s, e)) return latin1(buf, s, e);
  return decodeText(buf, s, e).text;
}
