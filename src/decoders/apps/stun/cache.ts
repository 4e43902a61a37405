/**
 * Endpoints whose calls a STUN flow named: the client's address and port that carried a call's STUN with an app's
 * attributes are the same socket its ICE checks and media use towards the other candidates (other flows, same local
 * endpoint). nDPI keeps the same kind of cache (its "DPI (cache)" verdicts). One cache per run (`ctx.runState`), so
 * two runs in one process never see each other's endpoints; bounded (`STUN_CACHE_ENTRIES`, oldest dropped first) and
 * aged by capture time (`STUN_CACHE_SECONDS`).
 */

interface Entry {
  app: string;
  sec: number;
}

export const STUN_CACHE_ENTRIES = 4096;
export const STUN_CACHE_SECONDS = 600;
/** The `ctx.runState` key of the cache. */
export const ENDPOINT_CACHE = 'stun.endpoints';

export function endpointKey(ip: string, port: number): string {
  return `${ip}|${port}`;
}

export class EndpointCache {
  private readonly entries = new Map<string, Entry>();

  remember(key: string, app: string, sec: number): void {
    this.entries.delete(key);
    this.entries.set(key, { app, sec });
    if (this.entries.size > STUN_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  /** The app an endpoint was seen with within STUN_CACHE_SECONDS of `sec` (either side), or null. */
  app(key: string, sec: number): string | null {
    const e = this.entries.get(key);
    if (e === undefined) return null;
    return Math.abs(sec - e.sec) <= STUN_CACHE_SECONDS ? e.app : null;
  }

  get size(): number {
    return this.entries.size;
  }
}
