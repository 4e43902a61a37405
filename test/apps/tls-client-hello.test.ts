/**
 * The shared ClientHello parser and JA4 (src/decoders/apps/tls/client-hello.ts), on built bytes. The JA4 expected
 * here is the example of FoxIO's JA4 documentation (t13d1516h2_8daaf6152771_e5627efa2ab1, a Chrome ClientHello whose
 * lists are in tls-hello-builder.ts), which nDPI's expected output for sites.pcapng also prints for Chrome flows.
 */
import t from 'tap';
import { ja4, parseClientHello, type ClientHello } from '../../src/decoders/apps/tls/client-hello.js';
import { alpnExt, clientHelloBody, emptyExt, sigAlgsExt, sniExt, SPEC_CIPHERS, SPEC_OTHER_EXTS, SPEC_SIGALGS, versionsExt } from './tls-hello-builder.js';

function specHello(sni: string | null, alpn: string[] | null, extra: [number, Uint8Array][] = []): Uint8Array {
  const ext: [number, Uint8Array][] = [emptyExt(0x0a0a)];
  if (sni !== null) ext.push(sniExt(sni));
  for (const x of SPEC_OTHER_EXTS) {
    if (x === 0x000d) ext.push(sigAlgsExt(SPEC_SIGALGS));
    else if (x === 0x002b) ext.push(versionsExt([0x2a2a, 0x0304, 0x0303]));
    else ext.push(emptyExt(x, x === 0x0017 ? 0 : 1));
  }
  if (alpn !== null) ext.push(alpnExt(alpn));
  ext.push(...extra);
  ext.push(emptyExt(0x1a1a, 1));
  return clientHelloBody({ ciphers: [0x3a3a, ...SPEC_CIPHERS], extensions: ext });
}

function ok(h: ClientHello | string): ClientHello {
  if (typeof h === 'string') throw new Error(h);
  return h;
}

t.test('the JA4 documentation example, with GREASE everywhere', async (t) => {
  const body = specHello('chat.example.test', ['h2', 'http/1.1']);
  const h = ok(parseClientHello(body, 0, body.length));
  t.equal(h.sni, 'chat.example.test');
  t.same(h.alpn, ['h2', 'http/1.1']);
  t.same(h.versions, [0x2a2a, 0x0304, 0x0303]);
  t.equal(h.legacyVersion, 0x0303);
  t.equal(h.cipherSuites.length, 16);
  t.equal(h.extensions[0], 0x0a0a);
  t.equal(h.extensions.length, 18);
  t.same(h.signatureAlgorithms, SPEC_SIGALGS);
  t.equal(h.ech, false);
  t.equal(ja4(h, 't'), 't13d1516h2_8daaf6152771_e5627efa2ab1');
  t.equal(ja4(h, 'q'), 'q13d1516h2_8daaf6152771_e5627efa2ab1');
});

t.test('a view inside a larger buffer', async (t) => {
  const body = specHello('a.example', ['h2']);
  const big = new Uint8Array(body.length + 20).fill(0xee);
  big.set(body, 7);
  const h = ok(parseClientHello(big, 7, body.length));
  t.equal(h.sni, 'a.example');
  t.equal(ja4(h, 't'), 't13d1516h2_8daaf6152771_e5627efa2ab1');
});

t.test('no SNI: i, one extension fewer; no ALPN: 00', async (t) => {
  const body = specHello(null, null);
  const h = ok(parseClientHello(body, 0, body.length));
  t.equal(h.sni, null);
  t.same(h.alpn, []);
  // SNI and ALPN are not in the hashed extension list, so c stays the documentation's.
  t.equal(ja4(h, 't'), 't13i151400_8daaf6152771_e5627efa2ab1');
});

t.test('ALPN first/last characters, non-alphanumeric as hex digits', async (t) => {
  const mk = (a: string) => ja4(ok(parseClientHello(specHello('x', [a]), 0, specHello('x', [a]).length)), 't').slice(8, 10);
  t.equal(mk('http/1.1'), 'h1');
  t.equal(mk('h3'), 'h3');
  t.equal(mk('x'), 'xx');
  // 0xab … 0xcd: first hex digit of the first byte, last hex digit of the last byte (JA4 spec).
  t.equal(mk('\xabq\xcd'), 'ad');
});

t.test('pre-1.3 hello without extensions', async (t) => {
  const body = clientHelloBody({ legacyVersion: 0x0301, sessionId: 0, ciphers: [0x0035, 0x002f], noExtensions: true });
  const h = ok(parseClientHello(body, 0, body.length));
  t.equal(h.legacyVersion, 0x0301);
  t.same(h.extensions, []);
  t.same(h.versions, []);
  t.match(ja4(h, 't'), /^t10i020000_[0-9a-f]{12}_000000000000$/);
});

t.test('ECH extension 0xfe0d: ech true, the SNI is the outer name', async (t) => {
  const body = specHello('public.example', ['h2'], [[0xfe0d, Uint8Array.from([0, 0, 1, 0, 1, 0x42, 0, 0, 0, 0])]]);
  const h = ok(parseClientHello(body, 0, body.length));
  t.equal(h.ech, true);
  t.equal(h.sni, 'public.example');
  t.ok(h.extensions.includes(0xfe0d));
});

t.test('every truncation is an error string, never a throw or a wrong success', async (t) => {
  const body = specHello('chat.example.test', ['h2', 'http/1.1']);
  let errors = 0;
  for (let n = 0; n < body.length; n++) {
    const r = parseClientHello(body, 0, n);
    // Cut right after the compression methods a hello without extensions is valid; anywhere else it is an error.
    if (typeof r === 'string') {
      errors++;
      t.match(r, /^tls_(bad_handshake|truncated_extension): .* at offset \d+$/, `prefix ${n}`);
    }
  }
  t.ok(errors >= body.length - 1, `${errors} of ${body.length} prefixes rejected`);
});

t.test('inner lengths that lie', async (t) => {
  const cases: [string, [number, Uint8Array]][] = [
    ['sni list', [0, Uint8Array.from([0, 50, 0, 0, 3, 0x61, 0x62, 0x63])]],
    ['sni name', [0, Uint8Array.from([0, 6, 0, 0, 9, 0x61, 0x62, 0x63])]],
    ['alpn', [16, Uint8Array.from([0, 3, 9, 0x68, 0x32])]],
    ['versions', [43, Uint8Array.from([7, 3, 4, 3])]],
    ['sigalgs', [13, Uint8Array.from([0, 3, 4, 3, 8])]],
  ];
  for (const [name, ext] of cases) {
    const body = clientHelloBody({ ciphers: [0x1301], extensions: [ext] });
    const r = parseClientHello(body, 0, body.length);
    t.type(r, 'string', name);
    t.match(r as string, /^tls_truncated_extension: /, name);
  }
  t.match(parseClientHello(new Uint8Array(10), 5, 10), /^tls_bad_handshake: view/);
});

t.test('hostile bytes never throw', async (t) => {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const base = specHello('chat.example.test', ['h2']);
  for (let i = 0; i < 3000; i++) {
    const b = Uint8Array.from(base);
    for (let k = 0; k < 4; k++) b[(rnd() << 8 | rnd()) % b.length] = rnd();
    const r = parseClientHello(b, 0, b.length);
    if (typeof r !== 'string') ja4(r, 't');
  }
  t.pass('3000 mutated hellos');
});
