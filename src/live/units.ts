/** Durations and sizes as `imtap live` takes them on the command line. */

const TIME_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600, d: 86400 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, k: 1e3, m: 1e6, g: 1e9 };

/** "90", "90s", "500ms", "15m", "1h", "2d" → seconds; throws a message naming the option. */
export function parseDuration(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(text);
  if (!m) throw new Error(`${option} ${text}: not a duration (examples: 30s, 15m, 1h, 2d)`);
  const v = Number(m[1]) * TIME_UNITS[(m[2] ?? 's').toLowerCase()]!;
  if (!(v > 0)) throw new Error(`${option} ${text}: must be more than zero`);
  return v;
}

/** "100MB", "1GiB", "500k", "4096" (bytes) → bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$/i.exec(text);
  if (!m) throw new Error(`${option} ${text}: not a size (examples: 100MB, 1GiB, 500kB)`);
  const v = Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
  if (!(v > 0)) throw new Error(`${option} ${text}: must be more than zero`);
  return v;
}

/** `--rotate`: a size (ends in B: 100MB, 1GiB) or a duration (1h, 30m). */
export function parseRotate(text: string): { maxBytes: number | null; maxSeconds: number | null } {
  if (/b\s*$/i.test(text)) return { maxBytes: parseSize(text, '--rotate'), maxSeconds: null };
  try {
    return { maxBytes: null, maxSeconds: parseDuration(text, '--rotate') };
  } catch {
    throw new Error(`--rotate ${text}: neither a size (100MB, 1GiB) nor a duration (15m, 1h)`);
  }
}
