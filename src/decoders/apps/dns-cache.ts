/**
 * The DNS cache: which name a client just resolved to an address, so that a later flow from that client to that
 * address inherits the name (`flows.server_name`, and an app by the rules with `method` = dns).
 *
 * CONTRACT (the dispatcher relies on this interface; the implementation is the DNS work's): entries expire after
 * their TTL (capture time, seconds) and the cache is bounded (oldest entries go first). `lookup` prefers the name
 * the same client resolved; a name another client resolved for the address is the fallback.
 */
export interface NameCache {
  add(client: string, name: string, address: string, ttl: number, now: number): void;
  lookup(client: string, address: string, now: number): string | null;
}

/** Minimal placeholder until the DNS work lands: an unbounded map without expiry. */
export class DnsCache implements NameCache {
  private readonly byAddr = new Map<string, string>();
  add(_client: string, name: string, address: string, _ttl: number, _now: number): void {
    this.byAddr.set(address, name);
  }
  lookup(_client: string, address: string, _now: number): string | null {
    return this.byAddr.get(address) ?? null;
  }
}
