/**
 * JA4 (src/decoders/apps/tls/client-hello.ts) against a plain reference written from the specification's words (lists
 * of hex strings, sorted as text, joined, hashed with createHash), on random ClientHellos: GREASE values, SNI and ALPN
 * among the extensions or not, lists short and long (the session sorts up to 64 values itself, more natively), no
 * signature algorithms, empty lists.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { ja4, isGrease, offeredVersion, type ClientHello } from '../../src/decoders/apps/tls/client-hello.js';

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
const hash12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const two = (n: number) => (n > 99 ? '99' : n < 10 ? `0${n}` : String(n));
const VERSIONS: Record<number, string> = { 0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3' };

function reference(h: ClientHello, transport: string): string {
  const ciphers = h.cipherSuites.filter((c) => !isGrease(c)).map(hex4);
  const all = h.extensions.filter((x) => !isGrease(x));
  const exts = all.filter((x) => x !== 0 && x !== 16).map(hex4);
  const sigs = h.signatureAlgorithms.filter((s) => !isGrease(s)).map(hex4);
  const first = h.alpn[0] ?? '';
  const alpn = first.length === 0 ? '00' : first[0]! + first[first.length - 1]!;
  const a = `${transport}${VERSIONS[offeredVersion(h)] ?? '00'}${h.sni !== null ? 'd' : 'i'}${two(ciphers.length)}${two(all.length)}${alpn}`;
  const b = ciphers.length === 0 ? '000000000000' : hash12([...ciphers].sort().join(','));
  const c = exts.length === 0 ? '000000000000' : hash12([...exts].sort().join(',') + (sigs.length > 0 ? `_${sigs.join(',')}` : ''));
  return `${a}_${b}_${c}`;
}

/** A small deterministic generator, so that a failure can be replayed. */
let seed = 12345;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const value = () => (rnd(4) === 0 ? 0x0a0a + 0x1010 * rnd(16) : rnd(4) === 0 ? rnd(0x10000) : rnd(0x100));

t.test('ja4 equals the reference on random ClientHellos', async (t) => {
  let bad = 0;
  const sizes = [0, 1, 2, 15, 16, 63, 64, 65, 100, 300, 1024];
  for (let k = 0; k < 600; k++) {
    const list = (max: number) => Array.from({ length: Math.min(max, sizes[rnd(sizes.length)]!) }, value);
    const extensions = list(256);
    if (rnd(2) === 0) extensions.push(0); // SNI
    if (rnd(2) === 0) extensions.push(16); // ALPN
    const h: ClientHello = {
      legacyVersion: 0x0303,
      sni: rnd(2) === 0 ? 'example.org' : null,
      alpn: rnd(3) === 0 ? [] : [rnd(2) === 0 ? 'h2' : 'http/1.1'],
      versions: rnd(2) === 0 ? [0x2a2a, 0x0304, 0x0303] : [],
      cipherSuites: list(1024),
      extensions,
      signatureAlgorithms: list(128),
      ech: false,
    };
    for (const tr of ['t', 'q'] as const) if (ja4(h, tr) !== reference(h, tr)) bad++;
  }
  t.equal(bad, 0, '1200 fingerprints');
});
