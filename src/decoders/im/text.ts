/**
 * Byte-to-text helpers shared by the protocol analyzers.
 */

/** True when `buf[s, e)` is all 7-bit ASCII. */
export function isAscii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * ISO-8859-1: byte n is U+00nn, nothing lost. Short runs (header names, commands) are built directly; longer ones by
 * Node's native latin1 decoder over a view (no copy). Spreading bytes into String.fromCharCode, the obvious way,
 * cost more than the rest of a SIP parse.
 */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  const n = e - s;
  if (n <= 0) return '';
  if (n <= 16) {
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
    return out;
  }
  return Buffer.from(buf.buffer, buf.byteOffset + s, n).toString('latin1');
}
