/**
 * `matchAddressWords` (the dispatcher's flow-end lookup by the flow's address words) against `matchAddress` on the
 * same address as text, with the built-in rules: inside, at the edges of and between ranges, IPv4, IPv6 and
 * IPv4-mapped IPv6, signed and unsigned words. And `matchHost`, which skips suffixes of lengths no pattern has, against
 * the rule it must find at every depth.
 */
import t from 'tap';
import { builtinRuleFiles, compileRules, loadAppRules, parseRuleText } from '../../src/decoders/apps/rules.js';
import { addressText } from '../../src/flows/flow.js';
import { prng } from '../helpers/synth.js';

/** An IPv6 address (RFC 4291 text, no IPv4 tail) as a 128-bit number. */
function v6Value(text: string): bigint {
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

t.test('matchAddressWords gives what matchAddress gives for the same address as text', async (t) => {
  const r = loadAppRules();
  const words = r.matchAddressWords!;
  const rnd = prng(11);
  let checked = 0;
  let differ = 0;
  const check = (version: number, w0: number, w1: number, w2: number, w3: number) => {
    const text = addressText(version, w0, w1, w2, w3);
    const want = r.matchAddress(text);
    checked++;
    // As the flow table keeps them (signed) and as unsigned words: the same answer.
    for (const got of [words(version, w0 | 0, w1 | 0, w2 | 0, w3 | 0), words(version, w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0)]) {
      if (got !== want && differ++ < 5) t.fail(`${text}: matchAddress ${want?.app ?? null}, matchAddressWords ${got?.app ?? null}`);
    }
  };
  // The first and last address of every built-in range, and one either side.
  let ranges = 0;
  for (const rule of builtinRuleFiles().flatMap((f) => f.rules)) {
    if (rule.type !== 'ip') continue;
    ranges++;
    const [addr, bits] = rule.pattern.split('/') as [string, string | undefined];
    if (!addr.includes(':')) {
      const start = addr.split('.').reduce((a, o) => a * 256 + Number(o), 0);
      const end = start + 2 ** (32 - Number(bits ?? 32)) - 1;
      for (const v of [start - 1, start, end, end + 1]) {
        if (v < 0 || v > 0xffffffff) continue;
        check(4, v, 0, 0, 0);
        check(6, 0, 0, 0xffff, v);
      }
    } else {
      const start = v6Value(addr);
      const end = start + (1n << BigInt(128 - Number(bits ?? 128))) - 1n;
      for (const v of [start - 1n, start, end, end + 1n]) {
        if (v < 0n || v >= 1n << 128n) continue;
        const w = [96n, 64n, 32n, 0n].map((s) => Number((v >> s) & 0xffffffffn));
        check(6, w[0]!, w[1]!, w[2]!, w[3]!);
      }
    }
  }
  t.ok(ranges > 0, `${ranges} built-in ranges`);
  for (let i = 0; i < 20000; i++) {
    const a = Math.floor(rnd() * 2 ** 32);
    check(4, a, 0, 0, 0);
    check(6, 0, 0, 0xffff, a);
    // IPv6 near ranges the built-in files name (2001:b28::/32 Telegram, 2603:10xx Microsoft) and anywhere.
    const hi = [0x20010b28, 0x26031027, 0x26031063, Math.floor(rnd() * 2 ** 32)][i & 3]!;
    check(6, hi, Math.floor(rnd() * 2 ** 32), Math.floor(rnd() * 2 ** 32), Math.floor(rnd() * 2 ** 32));
  }
  t.equal(differ, 0, `${checked} addresses, none differ`);
  t.ok(r.matchAddressWords!(4, (149 << 24) | (154 << 16) | (167 << 8) | 51, 0, 0, 0), 'a Telegram address, as a signed word');
});

t.test('matchHost finds the most specific suffix at any depth, whatever lengths the other suffixes have', async (t) => {
  const text = ['host *.b.example.org app-b chat 0.9', 'host *.example.org app-org chat 0.8', 'host *.cdn-long-name.example.net app-net chat 0.7', 'host exact.example.com app-exact chat 0.6'].join('\n');
  const r = compileRules([parseRuleText(text, 'test.rules').rules]);
  t.equal(r.matchHost('x.b.example.org')?.app, 'app-b');
  t.equal(r.matchHost('x.y.z.b.example.org')?.app, 'app-b');
  t.equal(r.matchHost('b.example.org')?.app, 'app-org', 'the pattern *.b.example.org needs a label before it');
  t.equal(r.matchHost('c.example.org')?.app, 'app-org');
  t.equal(r.matchHost('A.CDN-LONG-NAME.Example.Net.')?.app, 'app-net', 'case and final dot');
  t.equal(r.matchHost('cdn-long-name.example.net'), null);
  t.equal(r.matchHost('exact.example.com')?.app, 'app-exact');
  t.equal(r.matchHost('x.exact.example.com'), null, 'an exact rule is not a suffix');
  t.equal(r.matchHost('example.org'), null);
  t.equal(r.matchHost('org'), null);
});
