/**
 * Expected connections: a protocol announces a side connection (IRC DCC SEND/CHAT, an AIM rendezvous, an MSN file
 * transfer, XMPP SOCKS5 bytestreams) and the flow table hands the connection, when it comes, to the analyzer named,
 * with the context it left. Bounded in number (oldest dropped first) and in time (each expectation has a deadline in
 * capture time). An expectation is used once.
 */
export interface ExpectationSpec {
  proto: 'tcp' | 'udp';
  /** The port the connection goes to. */
  port: number;
  /** The address it goes to (text, as addressText prints it); null when only the connecting side is known. */
  server: string | null;
  /** The address it comes from; used when `server` is null ("from ip to port"). */
  client: string | null;
  /** Seconds of capture time it stays valid. */
  ttl: number;
  analyzer: string;
  context: unknown;
}

interface Entry extends ExpectationSpec {
  deadline: number;
  key: string;
}

export class Expectations {
  private byKey = new Map<string, Entry>();
  /** Entries per port: a new connection to no expected port is ruled out without building a key. */
  private byPort = new Map<number, number>();
  /** Counters: registered, matched, expired, dropped at the limit. */
  registered = 0;
  matched = 0;
  expired = 0;
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Register a side connection expected from `now` (capture seconds) for `spec.ttl` seconds. */
  expect(spec: ExpectationSpec, now: number): void {
    if (spec.server === null && spec.client === null) throw new Error('an expectation needs a server or a client address');
    const key = spec.server !== null ? `${spec.proto}>${spec.server}:${spec.port}` : `${spec.proto}<${spec.client}:${spec.port}`;
    this.sweep(now);
    this.remove(key); // a renewed offer replaces the old one and moves to the back
    while (this.byKey.size >= this.max) {
      const oldest = this.byKey.keys().next().value as string;
      this.remove(oldest);
      this.dropped++;
    }
    // A literal, not a spread of `spec` (a generic copy per expectation).
    const e: Entry = { proto: spec.proto, port: spec.port, server: spec.server, client: spec.client, ttl: spec.ttl, analyzer: spec.analyzer, context: spec.context, key, deadline: now + spec.ttl };
    this.byKey.set(key, e);
    this.byPort.set(spec.port, (this.byPort.get(spec.port) ?? 0) + 1);
    this.registered++;
  }

  /** Whether an expectation waits for a connection to port `a` or `b` (-1: none): what `match` needs to find one. */
  mayMatch(a: number, b: number): boolean {
    return this.byPort.has(a) || (b >= 0 && this.byPort.has(b));
  }

  private remove(key: string): Entry | undefined {
    const e = this.byKey.get(key);
    if (e === undefined) return undefined;
    this.byKey.delete(key);
    const n = this.byPort.get(e.port)! - 1;
    if (n === 0) this.byPort.delete(e.port);
    else this.byPort.set(e.port, n);
    return e;
  }

  /**
   * The expectation a new connection from client:cport to server:sport fulfils, if any (removed when found).
   * With `allowSwap` (the packet that opened the flow did not show which side connected: no SYN), the roles are also
   * tried reversed, and `swapped` says the flow's client and server must be exchanged.
   */
  match(proto: 'tcp' | 'udp', client: string, cport: number, server: string, sport: number, now: number, allowSwap = true): { entry: ExpectationSpec; swapped: boolean } | null {
    if (this.byKey.size === 0 || !this.mayMatch(sport, allowSwap ? cport : -1)) return null;
    const tries: [string, boolean][] = [
      [`${proto}>${server}:${sport}`, false],
      [`${proto}<${client}:${sport}`, false],
    ];
    if (allowSwap) tries.push([`${proto}>${client}:${cport}`, true], [`${proto}<${server}:${cport}`, true]);
    for (const [key, swapped] of tries) {
      const e = this.remove(key);
      if (!e) continue;
      if (e.deadline < now) {
        this.expired++;
        continue;
      }
      this.matched++;
      return { entry: e, swapped };
    }
    return null;
  }

  /** Drop expectations past their deadline (oldest first; entries are kept in registration order). */
  sweep(now: number): void {
    for (const [key, e] of this.byKey) {
      if (e.deadline >= now) {
        // Registration order is not deadline order when TTLs differ; stop at the first live one all the same:
        // the rest are dropped at the limit or when looked up.
        break;
      }
      this.remove(key);
      this.expired++;
    }
  }
}
