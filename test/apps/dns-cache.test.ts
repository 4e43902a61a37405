/**
 * The DNS name cache: TTL expiry in capture time (with its floor and ceiling), the same client's name before another
 * client's, the bound (oldest out first), and the cost of a lookup.
 */
import t from 'tap';
import { DNS_CACHE_DEFAULTS, DnsCache } from '../../src/decoders/apps/dns-cache.js';

t.test('TTL expiry, with the floor and the ceiling', async (t) => {
  const c = new DnsCache();
  t.equal(DNS_CACHE_DEFAULTS.minTtl, 300);
  t.equal(DNS_CACHE_DEFAULTS.maxTtl, 86_400);
  c.add('10.0.0.1', 'a.example', '192.0.2.1', 3600, 1000);
  t.equal(c.lookup('10.0.0.1', '192.0.2.1', 1000), 'a.example');
  t.equal(c.lookup('10.0.0.1', '192.0.2.1', 4600), 'a.example', 'valid up to its expiry');
  t.equal(c.lookup('10.0.0.1', '192.0.2.1', 4601), null, 'gone after');
  // A 20-second TTL lives for the floor (300 s): clients keep names longer than tiny TTLs.
  c.add('10.0.0.1', 'cdn.example', '192.0.2.2', 20, 1000);
  t.equal(c.lookup('10.0.0.1', '192.0.2.2', 1200), 'cdn.example');
  t.equal(c.lookup('10.0.0.1', '192.0.2.2', 1301), null);
  // A week-long TTL lives for the ceiling (a day).
  c.add('10.0.0.1', 'long.example', '192.0.2.3', 7 * 86_400, 1000);
  t.equal(c.lookup('10.0.0.1', '192.0.2.3', 1000 + 86_400), 'long.example');
  t.equal(c.lookup('10.0.0.1', '192.0.2.3', 1001 + 86_400), null);
  // A TTL with the top bit set counts as 0 (RFC 2181 §8): the floor.
  c.add('10.0.0.1', 'odd.example', '192.0.2.4', 0x80000001, 1000);
  t.equal(c.lookup('10.0.0.1', '192.0.2.4', 1301), null);
  // Lookups are not in time order (at flow ends, with flow start times): an expired lookup deletes nothing.
  t.equal(c.lookup('10.0.0.1', '192.0.2.1', 1500), 'a.example');
  // A flow that started just before the answer still gets the name.
  t.equal(c.lookup('10.0.0.1', '192.0.2.1', 990), 'a.example');
  // Options.
  const d = new DnsCache({ minTtl: 0, maxTtl: 10 });
  d.add('c', 'n', 'a', 5, 0);
  t.equal(d.lookup('c', 'a', 5), 'n');
  t.equal(d.lookup('c', 'a', 6), null);
});

t.test('the same client first, another client as the fallback', async (t) => {
  const c = new DnsCache();
  c.add('10.0.0.1', 'mine.example', '192.0.2.9', 600, 100);
  c.add('10.0.0.2', 'theirs.example', '192.0.2.9', 600, 200);
  t.equal(c.lookup('10.0.0.1', '192.0.2.9', 300), 'mine.example', 'own name, though another client resolved the address later');
  t.equal(c.lookup('10.0.0.2', '192.0.2.9', 300), 'theirs.example');
  t.equal(c.lookup('10.0.0.3', '192.0.2.9', 300), 'theirs.example', 'a third client: the latest name any client resolved');
  t.equal(c.lookup('10.0.0.3', '192.0.2.10', 300), null);
  // Own entry expired, another client's still valid: the fallback.
  const d = new DnsCache({ minTtl: 0 });
  d.add('10.0.0.1', 'old.example', '192.0.2.9', 10, 0);
  d.add('10.0.0.2', 'new.example', '192.0.2.9', 100, 50);
  t.equal(d.lookup('10.0.0.1', '192.0.2.9', 60), 'new.example');
  // A newer answer for the same client and address replaces the name.
  d.add('10.0.0.1', 'newer.example', '192.0.2.9', 100, 70);
  t.equal(d.lookup('10.0.0.1', '192.0.2.9', 80), 'newer.example');
});

t.test('bounded: the oldest out first; a renewed entry counts as new', async (t) => {
  const c = new DnsCache({ maxEntries: 3 });
  c.add('c', 'n1', 'a1', 600, 0);
  c.add('c', 'n2', 'a2', 600, 0);
  c.add('c', 'n3', 'a3', 600, 0);
  c.add('c', 'n1', 'a1', 600, 1); // renewed: now the newest
  c.add('c', 'n4', 'a4', 600, 2); // pushes out a2, the oldest
  t.same(c.size, { pairs: 3, addresses: 3 });
  t.equal(c.lookup('c', 'a2', 3), null);
  t.equal(c.lookup('c', 'a1', 3), 'n1');
  t.equal(c.lookup('c', 'a3', 3), 'n3');
  t.equal(c.lookup('c', 'a4', 3), 'n4');
  const big = new DnsCache();
  for (let i = 0; i < 150_000; i++) big.add(`client${i % 1000}`, `h${i}.example`, `address${i}`, 600, 0);
  t.same(big.size, { pairs: DNS_CACHE_DEFAULTS.maxEntries, addresses: DNS_CACHE_DEFAULTS.maxEntries });
  t.equal(big.lookup('client0', 'address0', 1), null, 'the first entry went');
  t.equal(big.lookup('client999', 'address149999', 1), 'h149999.example');
});

t.test('lookups are cheap', async (t) => {
  const c = new DnsCache();
  for (let i = 0; i < 100_000; i++) c.add(`10.1.${(i >> 8) & 255}.${i & 255}`, `h${i}.example`, `198.51.${(i >> 8) & 255}.${i & 255}`, 600, 0);
  const n = 1_000_000;
  const start = process.hrtime.bigint();
  let hits = 0;
  for (let i = 0; i < n; i++) if (c.lookup(`10.1.${(i >> 8) & 255}.${i & 255}`, `198.51.${(i >> 8) & 255}.${i & 255}`, 10) !== null) hits++;
  const ns = Number(process.hrtime.bigint() - start) / n;
  t.ok(hits > 0);
  // Generous (2 shared cores): a hash lookup or two, not a scan of 100k entries (which would be ~1 ms each).
  t.ok(ns < 20_000, `${ns.toFixed(0)} ns per lookup`);
});
