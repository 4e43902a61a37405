/**
 * Endpoints whose calls a STUN flow named: the client's address and port that carried a call's STUN with an app's
 * attributes are the same socket its ICE checks and media use towards the other candidates (other flows, same local
 * endpoint). nDPI keeps the same kind of cache (its "DPI (cache)" verdicts). Bounded (`STUN_CACHE_ENTRIES`, oldest
 * dropped first) and aged by capture time (`STUN_CACHE_SECONDS`), so that runs over different captures in one process
 * do not see each other's endpoints unless the same address and port were in use within that time.
 */

interface Entry {
  app: string;
  sec: number;
}

export const STUN_CACHE_ENTRIES = 4096;
export const STUN_CACHE_SECONDS = 600;

const entries = new Map<string, Entry>();

export function endpointKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}

export function rememberEndpoint(key: string, app: string, sec: number): void {
  entries.delete(key);
  entries.set(key, { app, sec });
  if (entries.size > STUN_CACHE_ENTRIES) {
    const oldest = entries.keys().next();
    if (!oldest.done) entries.delete(oldest.value);
  }
}

/** The app an endpoint was seen with within STUN_CACHE_SECONDS of `sec` (either side), or null. */
export function endpointApp(key: string, sec: number): string | null {
  const e = entries.get(key);
  if (e === undefined) return null;
  return Math.abs(sec - e.sec) <= STUN_CACHE_SECONDS ? e.app : null;
}

/** For tests: forget everything. */
export function clearEndpointCache(): void {
  entries.clear();
}
