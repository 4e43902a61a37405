/**
 * Text out of Gadu-Gadu packets. Clients before GG 8.0 (and the plain-text part of GG 8.0 messages, status
 * descriptions of the old packets, contact-list exports, DCC file names) use Windows-1250, the Polish Windows code
 * page: Node's TextDecoder has it (WHATWG index, all 256 bytes mapped, so no byte is ever invalid). GG 8.0 and later
 * send UTF-8 in the HTML message part and in the 8.0 status descriptions: invalid UTF-8 becomes U+FFFD and the bytes
 * are kept (`body_raw`).
 */

const cp1250Decoder = new TextDecoder('windows-1250');
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lax = new TextDecoder('utf-8', { ignoreBOM: true });

export function cp1250(buf: Uint8Array, s: number, e: number): string {
  return cp1250Decoder.decode(buf.subarray(s, e));
}

export interface Decoded {
  text: string;
  raw: Uint8Array | null;
}

export function utf8Text(buf: Uint8Array, s: number, e: number): Decoded {
  try {
    return { text: utf8.decode(buf.subarray(s, e)), raw: null };
  } catch {
    return { text: utf8Lax.decode(buf.subarray(s, e)), raw: buf.slice(s, e) };
  }
}

/** End of the NUL-terminated string starting at `s` (the NUL's offset, or `e` when there is none). */
export function strEnd(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) if (buf[i] === 0) return i;
  return e;
}
