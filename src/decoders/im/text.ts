/**
 * Byte-to-text helpers shared by the protocol analyzers.
 */

/** True when `buf[s, e)` is all 7-bit ASCII. */
export function isAscii(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! >= 0x80) return false;
  return true;
}

/**
 * ISO-8859-1: byte n is U+00nn, nothing lost. Read by Node's native latin1 decoder over the view (no copy); a range
 * past the end of the view stops at its end. Spreading bytes into String.fromCharCode, the obvious way, cost more
 * than the rest of a SIP parse.
 */
export function latin1(buf: Uint8Array, s: number, e: number): string {
  if (e > buf.length) e = buf.length;
  const n = e - s;
  if (n <= 0) return '';
  if (n === 1) return String.fromCharCode(buf[s]!);
  // Node's latin1 slicer called on the view itself: no Buffer object per call (measured 1.8× faster than
  // Buffer.from(…).toString('latin1'), and faster than building even 12 characters one by one).
  return latin1Slice.call(buf, s, e);
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;
