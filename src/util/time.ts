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
