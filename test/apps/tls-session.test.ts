/**
 * The TLS session and probe on built bytes: a ClientHello cut across TCP segments and across records, every
 * re-segmentation giving the same row, TLS 1.3 and 1.2 server sides, ECH, hostile input after a valid record header.
 * The JA4 expected is FoxIO's documented example (see tls-client-hello.test.ts).
 */
import t from 'tap';
import { tls } from '../../src/decoders/apps/tls/index.js';
import { Probe } from '../../src/decoders/im/types.js';
import { feed, startSession } from '../helpers/im-session.js';
import { alpnExt, clientHelloBody, emptyExt, handshake, records, serverHelloBody, sigAlgsExt, sniExt, SPEC_CIPHERS, SPEC_OTHER_EXTS, SPEC_SIGALGS, versionsExt } from './tls-hello-builder.js';

function hello(sni: string | null, extra: [number, Uint8Array][] = []): Uint8Array {
  const ext: [number, Uint8Array][] = [emptyExt(0x0a0a)];
  if (sni !== null) ext.push(sniExt(sni));
  for (const x of SPEC_OTHER_EXTS) {
    if (x === 0x000d) ext.push(sigAlgsExt(SPEC_SIGALGS));
    else if (x === 0x002b) ext.push(versionsExt([0x2a2a, 0x0304, 0x0303]));
    // Padding (21) as browsers fill it, to make the hello long enough to be cut in interesting places.
    else ext.push(emptyExt(x, x === 0x0015 ? 300 : 2));
  }
  ext.push(alpnExt(['h2', 'http/1.1']), ...extra);
  return handshake(1, clientHelloBody({ ciphers: [0x3a3a, ...SPEC_CIPHERS], extensions: ext }));
}

const SPEC_JA4 = 't13d1516h2_8daaf6152771_e5627efa2ab1';
const sh13 = records(handshake(2, serverHelloBody(0x0303, 0x1301, 0x0304)), 16384, 22, 0x0303);
const ccs = Uint8Array.from([20, 3, 3, 0, 1, 1]);
const appData = Uint8Array.from([23, 3, 3, 0, 4, 1, 2, 3, 4]);

t.test('probe: ClientHello from the client, ServerHello from the server, anything else No', async (t) => {
  const ch = records(hello('a.example'));
  t.equal(tls.probe!(ch, 0, ch.length, 0, false), Probe.Yes);
  t.equal(tls.probe!(ch, 0, ch.length, 1, false), Probe.No, 'a ClientHello from the server');
  t.equal(tls.probe!(sh13, 0, sh13.length, 1, true), Probe.Yes);
  t.equal(tls.probe!(sh13, 0, sh13.length, 0, false), Probe.No);
  for (let n = 0; n < 6; n++) t.equal(tls.probe!(ch, 0, n, 0, false), Probe.Need, `${n} bytes`);
  const http = Buffer.from('GET / HTTP/1.1\r\n');
  t.equal(tls.probe!(http, 0, http.length, 0, false), Probe.No);
  t.equal(tls.probe!(appData, 0, appData.length, 0, true), Probe.No, 'application data mid-stream');
  t.equal(tls.probe!(Uint8Array.from([22, 3, 5, 0, 10, 1]), 0, 6, 0, false), Probe.No, 'version 3.5');
  t.equal(tls.probe!(Uint8Array.from([22, 3, 1, 0x48, 1, 1]), 0, 6, 0, false), Probe.No, 'record over 18432');
  t.equal(tls.probe!(Uint8Array.from([22, 2, 0, 0, 10, 1]), 0, 6, 0, false), Probe.No, 'version 2.0');
});

t.test('a ClientHello across three TCP segments, then a TLS 1.3 server', async (t) => {
  const ch = records(hello('chat.example.test'));
  const cuts = [0, 3, 200, ch.length]; // inside the record header, inside the hello, the rest
  const { session, rec } = startSession(tls, { serverPort: 443 });
  feed(session, [[0, ch.subarray(cuts[0], cuts[1])], [0, ch.subarray(cuts[1], cuts[2])], [0, ch.subarray(cuts[2], cuts[3])], [1, sh13], [1, ccs], [1, appData]]);
  t.equal(rec.confirmed, 0.9);
  t.same(rec.hostNames, [{ name: 'chat.example.test', source: 'sni' }]);
  t.equal(rec.encrypted, 'tls');
  t.same(rec.anomalies, []);
  const rows = rec.rows.tls ?? [];
  t.equal(rows.length, 1);
  t.match(rows[0], { transport: 'tls', sni: 'chat.example.test', ech: false, alpn: 'h2,http/1.1', versions: '1.3,1.2', ja4: SPEC_JA4, quic_version: null, server_version: '1.3', cipher: '0x1301', cert_subject: null, cert_names: null, cert_issuer: null });
  // The row's time is the packet that completed the ClientHello (the third part).
  t.same(rows[0]!.ts, [1_700_000_002, 0]);
});

t.test('a ClientHello across two records (handshake message fragmentation)', async (t) => {
  const hs = hello('two.records.example');
  const ch = records(hs, 150);
  t.ok(ch.length > hs.length + 5, 'more than one record');
  const { session, rec } = startSession(tls);
  feed(session, [[0, ch], [1, sh13]]);
  t.match(rec.rows.tls?.[0], { sni: 'two.records.example', ja4: SPEC_JA4, server_version: '1.3' });
  t.same(rec.anomalies, []);
});

t.test('every re-segmentation and record size gives the same row', async (t) => {
  const hs = hello('resegment.example');
  let want: string | null = null;
  for (const rsize of [16384, 517, 100, 7, 1]) {
    const ch = records(hs, rsize);
    for (const chunk of [1, 2, 3, 5, 64, 1000, Infinity]) {
      const { session, rec } = startSession(tls);
      feed(session, [[0, ch], [1, sh13]], chunk);
      const rows = rec.rows.tls ?? [];
      const got = JSON.stringify({ ...rows[0], ts: null });
      want ??= got;
      if (rows.length !== 1 || got !== want || rec.anomalies.length > 0) t.fail(`record size ${rsize}, chunk ${chunk}: ${rows.length} rows ${got}`);
    }
  }
  t.match(JSON.parse(want!), { sni: 'resegment.example', ja4: SPEC_JA4 });
});

t.test('TLS 1.2 resumption: ServerHello then ChangeCipherSpec, no certificate', async (t) => {
  const { session, rec } = startSession(tls);
  const sh12 = records(handshake(2, serverHelloBody(0x0303, 0xc02f)), 16384, 22, 0x0303);
  feed(session, [[0, records(hello('resume.example'))], [1, sh12], [1, ccs]]);
  t.match(rec.rows.tls?.[0], { server_version: '1.2', cipher: '0xc02f', cert_subject: null });
  t.equal(rec.encrypted, 'tls');
});

t.test('ECH (extension 0xfe0d): ech true, the SNI is the outer name', async (t) => {
  const ech = Uint8Array.from([0, 0, 1, 0, 1, 7, 0, 32, ...new Array(32).fill(9), 0, 16, ...new Array(16).fill(5)]);
  const { session, rec } = startSession(tls);
  feed(session, [[0, records(hello('public.example', [[0xfe0d, ech]]))], [1, sh13]]);
  t.match(rec.rows.tls?.[0], { sni: 'public.example', ech: true });
  t.same(rec.hostNames, [{ name: 'public.example', source: 'sni' }]);
});

t.test('no SNI: sni null, JA4 with i', async (t) => {
  const { session, rec } = startSession(tls);
  feed(session, [[0, records(hello(null))], [1, sh13]]);
  t.match(rec.rows.tls?.[0], { sni: null, ja4: /^t13i1515h2_8daaf6152771_e5627efa2ab1$/ });
  t.same(rec.hostNames, []);
});

t.test('garbage after a valid record header: an anomaly, no crash, no row', async (t) => {
  const garbage = Uint8Array.from([22, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3, ...new Array(34).fill(0xff)]);
  const { session, rec } = startSession(tls);
  feed(session, [[0, garbage], [1, Uint8Array.from([0x48, 0x54, 0x54, 0x50, 0x2f, 1, 2])]]);
  t.equal(rec.anomalies.length >= 1, true);
  t.match(rec.anomalies[0]!.code, /^tls_(bad_handshake|truncated_extension)$/);
  t.match(rec.anomalies[0]!.detail, /offset \d+/);
  t.same(rec.rows.tls ?? [], []);
  t.equal(rec.confirmed, null);
  t.equal(rec.done, true);
  t.equal(rec.encrypted, null);
});

t.test('a bad record header after the ClientHello, an over-long handshake, a gap', async (t) => {
  {
    const { session, rec } = startSession(tls);
    feed(session, [[0, records(hello('x.example'))], [1, Uint8Array.from([99, 1, 2, 3, 4, 5, 6])]]);
    t.equal(rec.anomalies[0]?.code, 'tls_bad_record');
    t.match(rec.rows.tls?.[0], { sni: 'x.example', server_version: null });
  }
  {
    const { session, rec } = startSession(tls);
    feed(session, [[0, Uint8Array.from([22, 3, 1, 0, 4, 1, 0x10, 0, 0])]]);
    t.equal(rec.anomalies[0]?.code, 'tls_handshake_too_long');
  }
  {
    const { session, rec } = startSession(tls);
    const ch = records(hello('gap.example'));
    feed(session, [[0, ch.subarray(0, 100)], [0, { gap: 50 }], [0, ch.subarray(150)]]);
    t.equal(rec.anomalies[0]?.code, 'tls_gap');
    t.same(rec.rows.tls ?? [], []);
  }
});

t.test('hostile input: mutated handshakes never throw', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const base = records(hello('fuzz.example'), 200);
  for (let i = 0; i < 1500; i++) {
    const c = Uint8Array.from(base);
    const s = Uint8Array.from(sh13);
    for (let k = 0; k < 3; k++) c[((rnd() << 8) | rnd()) % c.length] = rnd();
    s[rnd() % s.length] = rnd();
    const { session } = startSession(tls);
    feed(session, [[0, c], [1, s]], 1 + (rnd() % 300));
  }
  t.pass('1500 mutated flows');
});
