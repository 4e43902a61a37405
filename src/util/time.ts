/** Timestamps at full precision: whole seconds and nanoseconds, never a lossy float. */

// The date part of the last day formatted: flows and packets come in time order, so most calls reuse it.
let cachedDay = NaN;
let cachedDate = '';

const TWO = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const NINE = '000000000';

/** ISO 8601 in UTC with `digits` fractional digits (6 for microsecond files, 9 for nanosecond ones). */
export function isoTime(sec: number, nsec: number, digits = 9): string {
  const day = Math.floor(sec / 86400);
  if (day !== cachedDay) {
    const d = new Date(day * 86400000);
    if (Number.isNaN(d.getTime())) return `@${epochTime(sec, nsec, digits)}`;
    cachedDay = day;
    cachedDate = d.toISOString().slice(0, 11);
  }
  const s = sec - day * 86400;
  const base = `${cachedDate}${TWO[Math.floor(s / 3600)]}:${TWO[Math.floor(s / 60) % 60]}:${TWO[s % 60]}`;
  if (digits <= 0) return `${base}Z`;
  const ns = String(nsec);
  const frac = ns.length < 9 ? NINE.slice(ns.length) + ns : ns;
  return `${base}.${digits === 9 ? frac : frac.slice(0, digits)}Z`;
}

/** Seconds since the epoch as a decimal string, e.g. "1103769025.701839000". */
export function epochTime(sec: number, nsec: number, digits = 9): string {
  return digits > 0 ? `${sec}.${String(nsec).padStart(9, '0').slice(0, digits)}` : String(sec);
}

/** a - b in seconds, as a number (precise to the nanosecond for spans under about 100 days). */
export function secondsBetween(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec - bSec + (aNsec - bNsec) / 1e9;
}

// The date part ("2004-12-23T") of the last day written by writeIsoTime, as bytes.
let bytesDay = NaN;
let bytesDate: number[] = [];

/**
 * isoTime(sec, nsec, digits) written as ASCII bytes into `buf` at `pos` (at least 48 bytes free); returns the position
 * after it. The same text, without making a string: a flow listing writes two per flow.
 */
export function writeIsoTime(buf: Uint8Array, pos: number, sec: number, nsec: number, digits = 9): number {
  // Anything unusual (a time outside Date's range, a fraction of a second given as ≥ 10^9 ns) as isoTime has it.
  if (!(Number.isInteger(sec) && nsec >= 0 && nsec < 1e9 && Number.isInteger(nsec) && Number.isInteger(digits))) return writeAscii(buf, pos, isoTime(sec, nsec, digits));
  const day = Math.floor(sec / 86400);
  if (day !== bytesDay) {
    const d = new Date(day * 86400000);
    if (Number.isNaN(d.getTime())) return writeAscii(buf, pos, isoTime(sec, nsec, digits));
    bytesDay = day;
    bytesDate = Array.from(d.toISOString().slice(0, 11), (ch) => ch.charCodeAt(0));
  }
  const date = bytesDate;
  for (let i = 0; i < date.length; i++) buf[pos++] = date[i]!;
  const s = sec - day * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const x = s % 60;
  buf[pos] = 48 + Math.floor(h / 10);
  buf[pos + 1] = 48 + (h % 10);
  buf[pos + 2] = 58; // :
  buf[pos + 3] = 48 + Math.floor(m / 10);
  buf[pos + 4] = 48 + (m % 10);
  buf[pos + 5] = 58;
  buf[pos + 6] = 48 + Math.floor(x / 10);
  buf[pos + 7] = 48 + (x % 10);
  pos += 8;
  if (digits > 0) {
    buf[pos++] = 46; // .
    let n = nsec;
    for (let i = 8; i >= 0; i--) {
      const q = Math.floor(n / 10);
      buf[pos + i] = 48 + n - q * 10;
      n = q;
    }
    pos += digits < 9 ? digits : 9;
  }
  buf[pos++] = 90; // Z
  return pos;
}

/** Copy a string known to be ASCII into `buf` at `pos`; returns the position after it. */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}
