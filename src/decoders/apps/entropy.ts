/**
 * Whether bytes look encrypted (or compressed): their Shannon entropy, in bits per byte, is close to the most that
 * `n` bytes can show (log2 of min(n, 256)). Used once per flow that no analyzer recognised, on its first payload, so
 * that encrypted but unidentified flows can be counted (`flows.protocol` = unknown, `encrypted` = true) instead of
 * disappearing among the unknown ones. A heuristic: text, headers and most binary protocols stay well below.
 *
 * Measured (200 samples each): random bytes give 0.95 of the maximum at 100 bytes, 0.91 at 300 (lowest 0.89),
 * 0.975 at 1,000; an HTTP request head 0.74, English text 0.60.
 */
const counts = new Uint16Array(256);

/** At most this many bytes are looked at. */
export const ENTROPY_SAMPLE = 1024;
/** Fewer bytes than this say nothing. */
export const ENTROPY_MIN_BYTES = 48;
/** Fraction of the maximum entropy from which bytes count as encrypted. */
export const ENTROPY_THRESHOLD = 0.85;

export function looksEncrypted(data: Uint8Array, off: number, len: number): boolean {
  const n = Math.min(len, ENTROPY_SAMPLE);
  if (n < ENTROPY_MIN_BYTES) return false;
  counts.fill(0);
  for (let i = off, end = off + n; i < end; i++) counts[data[i]!]!++;
  let h = 0;
  for (let b = 0; b < 256; b++) {
    const c = counts[b]!;
    if (c !== 0) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
  }
  return h >= ENTROPY_THRESHOLD * Math.log2(Math.min(n, 256));
}
