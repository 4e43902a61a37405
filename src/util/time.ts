/** Timestamps at full precision: whole seconds and nanoseconds, never a lossy float. */

/** ISO 8601 in UTC with `digits` fractional digits (6 for microsecond files, 9 for nanosecond ones). */
export function isoTime(sec: number, nsec: number, digits = 9): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return `@${epochTime(sec, nsec, digits)}`;
  const base = d.toISOString().slice(0, 19);
  return digits > 0 ? `${base}.${String(nsec).padStart(9, '0').slice(0, digits)}Z` : `${base}Z`;
}

/** Seconds since the epoch as a decimal string, e.g. "1103769025.701839000". */
export function epochTime(sec: number, nsec: number, digits = 9): string {
  return digits > 0 ? `${sec}.${String(nsec).padStart(9, '0').slice(0, digits)}` : String(sec);
}

/** a - b in seconds, as a number (precise to the nanosecond for spans under about 100 days). */
export function secondsBetween(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec - bSec + (aNsec - bNsec) / 1e9;
}
