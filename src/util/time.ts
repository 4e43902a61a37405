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

/** ASCII of 0..99 as little-endian 16-bit words ("07" → 0x3730), for writing two digits at once. */
export const DIGIT_PAIRS = Uint16Array.from({ length: 100 }, (_, n) => (48 + Math.floor(n / 10)) | ((48 + (n % 10)) << 8));

// "YYYY-MM-DDT" of the last day written by writeIsoTime: its first 8 bytes as a float64 word (one store; bytes of
// ASCII text never make a NaN, so the word copies exactly), and "DDT" as the low 24 bits of a 32-bit word that the
// first digit of the hour completes.
let wordsDay = NaN;
let dateWord = 0;
let dayDDT = 0;

const dayBytes = new Uint8Array(16).fill(48);
const dayView = new DataView(dayBytes.buffer);

/** Sets the date words to the day's "YYYY-MM-DDT" (Date's toISOString: proleptic Gregorian, UTC). */
function setDay(day: number): void {
  // Years 0-9999 by arithmetic (days to civil date, H. Hinnant's algorithm): toISOString formats them through
  // sprintf, and a listing changes day thousands of times. Other years through Date (their text differs: ±YYYYYY).
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y >= 0 && y <= 9999) {
    dayView.setUint16(0, DIGIT_PAIRS[Math.floor(y / 100)]!, true);
    dayView.setUint16(2, DIGIT_PAIRS[y % 100]!, true);
    dayBytes[4] = 45; // -
    dayView.setUint16(5, DIGIT_PAIRS[m]!, true);
    dayBytes[7] = 45;
    dayView.setUint16(8, DIGIT_PAIRS[d]!, true);
    dayBytes[10] = 84; // T
  } else {
    const date = new Date(day * 86400000).toISOString();
    for (let i = 0; i < 11; i++) dayBytes[i] = date.charCodeAt(i);
  }
  dateWord = dayView.getFloat64(0, true);
  dayDDT = dayBytes[8]! | (dayBytes[9]! << 8) | (dayBytes[10]! << 16);
  wordsDay = day;
}

/**
 * isoTime(sec, nsec, digits) written as ASCII into `buf` at `pos`; returns the position after it. `view` is a
 * DataView of the same bytes as `buf`, and at least 64 bytes must be free from `pos` (the text is at most 31 bytes;
 * the rest may be written over). The same text without making a string: a flow listing writes two per flow. Written
 * as 8-, 4- and 2-byte words put together from digit pairs (DataView stores are what the time costs).
 */
export function writeIsoTime(buf: Uint8Array, view: DataView, pos: number, sec: number, nsec: number, digits = 9): number {
  // Anything unusual (a time outside Date's range, a fraction of a second given as ≥ 10^9 ns) as isoTime has it.
  if (!(Number.isInteger(sec) && Math.abs(sec) < 8.64e12 && nsec >= 0 && nsec < 1e9 && Number.isInteger(nsec) && Number.isInteger(digits))) {
    return writeAscii(buf, pos, isoTime(sec, nsec, digits));
  }
  const pairs = DIGIT_PAIRS;
  const day = Math.floor(sec / 86400);
  if (day !== wordsDay) setDay(day);
  const s = (sec - day * 86400) | 0;
  const h = (s / 3600) | 0;
  const ms = s - h * 3600;
  const m = (ms / 60) | 0;
  const hh = pairs[h]!;
  // YYYY-MM- | DDTH | H:MM | :SS. (little-endian words: the first character in the low byte)
  view.setFloat64(pos, dateWord, true);
  view.setUint32(pos + 8, dayDDT | ((hh & 0xff) << 24), true);
  view.setUint32(pos + 12, (hh >> 8) | 0x3a00 | (pairs[m]! << 16), true);
  view.setUint32(pos + 16, 0x3a | (pairs[ms - m * 60]! << 8) | (46 << 24), true);
  if (digits <= 0) {
    buf[pos + 19] = 90; // Z over the '.'
    return pos + 20;
  }
  // nine digits as pairs [0,1] [2,3] [4,5] [6,7] and [8] + 'Z'; with fewer digits, the 'Z' goes after them
  const n = nsec | 0;
  const a = (n / 10000000) | 0;
  let r = n - a * 10000000;
  const b = (r / 100000) | 0;
  r -= b * 100000;
  const c = (r / 1000) | 0;
  r -= c * 1000;
  const d = (r / 10) | 0;
  view.setUint32(pos + 20, pairs[a]! | (pairs[b]! << 16), true);
  view.setUint32(pos + 24, pairs[c]! | (pairs[d]! << 16), true);
  view.setUint16(pos + 28, 48 + r - d * 10 + (90 << 8), true);
  if (digits >= 9) return pos + 30;
  buf[pos + 20 + digits] = 90; // Z
  return pos + 21 + digits;
}

/** An integer 0 ≤ n < 10^9 as nine digits with leading zeros, at `pos` (written as pairs: [0,1] [2,3] [4,5] [6,7] [8]). */
export function writeNineDigits(buf: Uint8Array, view: DataView, pos: number, n: number): void {
  n |= 0;
  const a = (n / 10000000) | 0;
  let r = n - a * 10000000;
  const b = (r / 100000) | 0;
  r -= b * 100000;
  const c = (r / 1000) | 0;
  r -= c * 1000;
  const d = (r / 10) | 0;
  view.setUint16(pos, DIGIT_PAIRS[a]!, true);
  view.setUint16(pos + 2, DIGIT_PAIRS[b]!, true);
  view.setUint16(pos + 4, DIGIT_PAIRS[c]!, true);
  view.setUint16(pos + 6, DIGIT_PAIRS[d]!, true);
  buf[pos + 8] = 48 + r - d * 10;
}

/** Copy a string known to be ASCII into `buf` at `pos`; returns the position after it. */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}
