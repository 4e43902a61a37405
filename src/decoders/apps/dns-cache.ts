/**
 * The DNS cache: which name a client just resolved to an address, so that a later flow from that client to that
 * address inherits the name (`flows.server_name`, and an app by the rules with `method` = dns).
 *
 * CONTRACT (the dispatcher relies on this interface; the implementation is the DNS work's): entries expire after
 * their TTL (capture time, seconds) and the cache is bounded (oldest entries go first). `lookup` prefers the name
 * the same client resolved; a name another client resolved for the address is the fallback.
 *
 * Decisions (see src/decoders/apps/dns/README.md):
 * - TTLs are clamped to [minTtl, maxTtl] = [300 s, 86400 s] by default. The floor because clients and apps keep a
 *   resolved address well past tiny TTLs (CDNs answer with 20–60 s; stub caches, connection pools and apps that
 *   resolve once at start-up reconnect minutes later); the ceiling because an address seen a day later says little
 *   about a lookup made before it (addresses are reassigned, captures span days).
 * - An entry is valid from any time up to its expiry: a flow that started just before the lookup it matches (the
 *   dispatcher looks names up at a flow's end, with the flow's start time) still gets the name.
 * - Two tables, both insertion-ordered Maps: by (client, address) and by address alone (the latest name any client
 *   resolved). A new answer for a key moves it to the newest end; over `maxEntries` the oldest goes. Every operation is
 *   O(1). Expired entries stay until pushed out (lookups do not come in time order).
 */
export interface NameCache {
  add(client: string, name: string, address: string, ttl: number, now: number): void;
  lookup(client: string, address: string, now: number): string | null;
}

export interface DnsCacheOptions {
  /** Entries kept per table (by client and address; by address). Default 100 000. */
  maxEntries?: number;
  /** Shortest life of an entry, seconds of capture time. Default 300. */
  minTtl?: number;
  /** Longest life of an entry, seconds. Default 86 400. */
  maxTtl?: number;
}

interface Entry {
  name: string;
  /** Capture time (seconds) after which the entry is gone. */
  expires: number;
}

export const DNS_CACHE_DEFAULTS: Readonly<Required<DnsCacheOptions>> = Object.freeze({ maxEntries: 100_000, minTtl: 300, maxTtl: 86_400 });

export class DnsCache implements NameCache {
  private readonly byPair = new Map<string, Entry>();
  private readonly byAddr = new Map<string, Entry>();
  readonly maxEntries: number;
  readonly minTtl: number;
  readonly maxTtl: number;

  constructor(opts: DnsCacheOptions = {}) {
    this.maxEntries = Math.max(1, Math.floor(opts.maxEntries ?? DNS_CACHE_DEFAULTS.maxEntries));
    this.minTtl = Math.max(0, opts.minTtl ?? DNS_CACHE_DEFAULTS.minTtl);
    this.maxTtl = Math.max(this.minTtl, opts.maxTtl ?? DNS_CACHE_DEFAULTS.maxTtl);
  }

  /** Entries held (by client and address; by address). */
  get size(): { pairs: number; addresses: number } {
    return { pairs: this.byPair.size, addresses: this.byAddr.size };
  }

  add(client: string, name: string, address: string, ttl: number, now: number): void {
    // RFC 2181 §8: a TTL with the top bit set counts as 0; NaN and negatives likewise.
    const t = ttl >= 0 && ttl < 0x80000000 ? ttl : 0;
    const expires = now + Math.min(this.maxTtl, Math.max(this.minTtl, t));
    put(this.byPair, `${client}\u0000${address}`, name, expires, this.maxEntries);
    put(this.byAddr, address, name, expires, this.maxEntries);
  }

  lookup(client: string, address: string, now: number): string | null {
    // Every add puts the address in both tables and both drop their oldest at the same bound, so an address byAddr
    // does not hold (expired or not) is in no pair either: most flows go to no resolved address and end here,
    // without a pair key made.
    const any = this.byAddr.get(address);
    if (any === undefined) return null;
    const own = valid(this.byPair, `${client}\u0000${address}`, now);
    return own ?? (now > any.expires ? null : any.name);
  }
}

function put(m: Map<string, Entry>, key: string, name: string, expires: number, max: number): void {
  const had = m.get(key);
  if (had !== undefined) {
    // Re-inserted so that insertion order stays the order of last resolution (the oldest is first out).
    m.delete(key);
    had.name = name;
    had.expires = expires;
    m.set(key, had);
    return;
  }
  m.set(key, { name, expires });
  if (m.size > max) {
    const oldest = m.keys().next();
    if (oldest.done !== true) m.delete(oldest.value);
  }
}

function valid(m: Map<string, Entry>, key: string, now: number): string | null {
  const e = m.get(key);
  if (e === undefined) return null;
  // Not deleted when expired: lookups come at flow ends with the flows' start times, not in time order.
  return now > e.expires ? null : e.name;
}
