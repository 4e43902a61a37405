/**
 * DNS at the byte level: hand-built messages (compression pointers, a pointer loop, a forward pointer, a long pointer
 * chain, names and labels over their limits, truncation, TCP framing split over segments and several messages per
 * segment), the probe on DNS and on what is not DNS (NetBIOS name service, random bytes), limits, and a fuzz run whose
 * oracle is that valid messages still decode after hostile ones. The well-formed messages are also written as a capture
 * (UDP, and TCP cut into 5-byte segments) and dissected by tshark, which must see what our rows say.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { feed, startSession } from '../helpers/im-session.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { imPipeline } from '../helpers/im-pipeline.js';
import { tempDir } from '../helpers/temp.js';
import { prng } from '../helpers/synth.js';
import { dns } from '../../src/decoders/apps/dns/index.js';
import { probeDns } from '../../src/decoders/apps/dns/detect.js';
import { DNS_LIMITS } from '../../src/decoders/apps/dns/limits.js';
import { DnsSession } from '../../src/decoders/apps/dns/session.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { DnsCache } from '../../src/decoders/apps/dns-cache.js';

// ── a small DNS message writer (names are written uncompressed unless a pointer is given as a number) ──

type Name = string | number | (string | number)[];

/** Wire form of a name: 'www.example.com' (labels and the root), a number (a bare pointer), or labels ending in a pointer. */
function name(n: Name): number[] {
  const parts = Array.isArray(n) ? n : [n];
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') return [...out, 0xc0 | (p >> 8), p & 0xff];
    for (const l of p.split('.').filter((x) => x.length > 0)) out.push(l.length, ...Buffer.from(l, 'latin1'));
  }
  return [...out, 0];
}

const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

interface Rr {
  /** The owner name, or its wire bytes as given. */
  name: Name | { raw: number[] };
  type: number;
  ttl?: number;
  cls?: number;
  data: number[];
}

function message(o: { id: number; flags: number; q?: [Name, number][]; an?: Rr[]; ns?: Rr[]; ar?: Rr[]; counts?: number[] }): Buffer {
  const q = o.q ?? [];
  const an = o.an ?? [];
  const ns = o.ns ?? [];
  const ar = o.ar ?? [];
  const counts = o.counts ?? [q.length, an.length, ns.length, ar.length];
  const b: number[] = [...be16(o.id), ...be16(o.flags), ...counts.flatMap(be16)];
  for (const [n, type] of q) b.push(...name(n), ...be16(type), ...be16(1));
  for (const r of [...an, ...ns, ...ar]) b.push(...(typeof r.name === 'object' && 'raw' in r.name ? r.name.raw : name(r.name)), ...be16(r.type), ...be16(r.cls ?? 1), ...be32(r.ttl ?? 300), ...be16(r.data.length), ...r.data);
  return Buffer.from(b);
}

const tcp = (m: Buffer) => Buffer.concat([Buffer.from(be16(m.length)), m]);
const QUERY = 0x0100; // RD
const RESPONSE = 0x8180; // QR RD RA, NOERROR

/** www.example.com A? answered through a CNAME, every name after the question compressed. */
function cnameResponse(id = 0x1234): Buffer {
  // Header 12 bytes; question name at 12: 3www7example3com0 (17 bytes) → example.com at 16.
  return message({
    id,
    flags: RESPONSE,
    q: [['www.example.com', 1]],
    an: [
      { name: 12, type: 5, data: name(['cdn', 16]) }, // www.example.com CNAME cdn.example.com
      // The CNAME's data starts at 12+17+4 (question) + 2+10 (owner pointer and fields) = 45.
      { name: 45, type: 1, ttl: 20, data: [192, 0, 2, 7] },
      { name: 45, type: 28, ttl: 20, data: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1] },
    ],
  });
}

const query = (id: number, n: string, type = 1) => message({ id, flags: QUERY, q: [[n, type]] });

t.test('a response with compression pointers and a CNAME chain', async (t) => {
  const { session, rec } = startSession(dns, { transport: 'udp', serverPort: 53 });
  feed(session, [
    [0, query(0x1234, 'www.example.com')],
    [1, cnameResponse()],
  ]);
  t.equal(rec.confirmed, 0.9);
  const rows = rec.rows.dns!;
  t.same(
    rows.map((r) => [r.response, r.qname, r.qtype, r.rcode, r.answer_name, r.answer_type, r.answer, r.ttl]),
    [
      [false, 'www.example.com', 'A', null, null, null, null, null],
      [true, 'www.example.com', 'A', 'NOERROR', 'www.example.com', 'CNAME', 'cdn.example.com', 300],
      [true, 'www.example.com', 'A', 'NOERROR', 'cdn.example.com', 'A', '192.0.2.7', 20],
      [true, 'www.example.com', 'A', 'NOERROR', 'cdn.example.com', 'AAAA', '2001:db8::1', 20],
    ],
  );
  // The addresses resolve under the name the client asked, not the CNAME target.
  t.same(rec.resolved, [
    { name: 'www.example.com', address: '192.0.2.7', ttl: 20 },
    { name: 'www.example.com', address: '2001:db8::1', ttl: 20 },
  ]);
  t.same(rec.hostNames, [], 'a lookup is not use of the app: no hostName');
  t.same(rec.anomalies, []);
});

t.test('record types as text', async (t) => {
  const m = message({
    id: 7,
    flags: RESPONSE,
    q: [['Example.COM', 255]],
    an: [
      { name: 12, type: 15, data: [...be16(10), ...name(['mail', 12])] },
      { name: 12, type: 33, data: [...be16(1), ...be16(5), ...be16(5060), ...name(['sip', 12])] },
      { name: 12, type: 16, data: [5, ...Buffer.from('hello'), 3, ...Buffer.from('a\\b')] },
      { name: 12, type: 65, data: [...be16(1), ...name('svc.example.net'), 0, 1, 0, 3, 2, 0x68, 0x32] },
      { name: 12, type: 2, data: name(['ns1', 12]) },
      { name: 12, type: 12, data: name('host.example.org') },
      { name: 12, type: 6, data: [...name(['ns1', 12]), ...name(['hostmaster', 12]), ...be32(2024010101), ...be32(1), ...be32(2), ...be32(3), ...be32(4)] },
      { name: 12, type: 999, data: [1, 2, 3] },
      { name: { raw: [5, 0x61, 0x5c, 0x2e, 0x62, 0, 0xc0, 12] }, type: 1, data: [10, 0, 0, 1] },
    ],
  });
  const { session, rec } = startSession(dns, { transport: 'udp' });
  feed(session, [[1, m]]);
  t.same(
    rec.rows.dns!.map((r) => [r.qname, r.qtype, r.answer_name, r.answer_type, r.answer]),
    [
      ['example.com', 'ANY', 'example.com', 'MX', '10 mail.example.com'],
      ['example.com', 'ANY', 'example.com', 'SRV', '1 5 5060 sip.example.com'],
      ['example.com', 'ANY', 'example.com', 'TXT', 'hello a\\\\b'],
      ['example.com', 'ANY', 'example.com', 'HTTPS', 'svc.example.net'],
      ['example.com', 'ANY', 'example.com', 'NS', 'ns1.example.com'],
      ['example.com', 'ANY', 'example.com', 'PTR', 'host.example.org'],
      ['example.com', 'ANY', 'example.com', 'SOA', 'ns1.example.com hostmaster.example.com 2024010101'],
      ['example.com', 'ANY', 'example.com', 'TYPE999', '\\# 3 010203'],
      // A label holding a dot, a backslash and a NUL byte, in RFC 1035 presentation form.
      ['example.com', 'ANY', 'a\\\\\\.b\\000.example.com', 'A', '10.0.0.1'],
    ],
  );
  t.same(rec.anomalies, []);
});

/** A confirmed session (one good query) given `bad` next: returns what it recorded. */
function afterGood(bad: Buffer, transport: 'udp' | 'tcp' = 'udp') {
  const s = startSession(dns, { transport });
  const wrap = transport === 'tcp' ? tcp : (b: Buffer) => b;
  feed(s.session, [
    [0, wrap(query(1, 'ok.example'))],
    [1, wrap(bad)],
  ]);
  return s.rec;
}

t.test('pointer loop, forward pointer, pointer into the header, long chain: anomalies, no hang', async (t) => {
  // Question name: label "a" at 12, then a pointer at 14 back to 12: the name contains itself.
  const loop = Buffer.from([...be16(2), ...be16(RESPONSE), ...be16(1), 0, 0, 0, 0, 0, 0, 1, 0x61, 0xc0, 12, 0, 1, 0, 1]);
  // A self-pointer, and an answer whose owner points forward into its own data.
  const self = Buffer.from([...be16(3), ...be16(RESPONSE), ...be16(1), 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  const forward = message({ id: 4, flags: RESPONSE, q: [['x.example', 1]], an: [{ name: 40, type: 1, data: [1, 2, 3, 4] }] });
  const header = message({ id: 5, flags: RESPONSE, q: [['x.example', 1]], an: [{ name: 2, type: 1, data: [1, 2, 3, 4] }] });
  // 40 pointers, each to the one before it (all strictly backwards), in the data of a record of an unknown type; the
  // next answer's owner starts at the last one: 40 jumps, over the limit of 32.
  const chainStart = 12 + 11 + 4 + 2 + 10; // header, question x.example (11) + type/class, owner pointer + fields
  const chain: number[] = [1, 0x7a, 0]; // "z" at chainStart
  for (let i = 0; i < 40; i++) chain.push(0xc0 | ((chainStart + (i === 0 ? 0 : 3 + 2 * (i - 1))) >> 8), (chainStart + (i === 0 ? 0 : 3 + 2 * (i - 1))) & 0xff);
  const lastPtr = chainStart + 3 + 2 * 39;
  const long = message({ id: 6, flags: RESPONSE, q: [['x.example', 1]], an: [{ name: 12, type: 65280, data: chain }, { name: lastPtr, type: 1, data: [1, 2, 3, 4] }] });
  const cases: [string, Buffer, string][] = [
    ['loop', loop, 'dns_name_loop'],
    ['self', self, 'dns_forward_pointer'],
    ['forward', forward, 'dns_forward_pointer'],
    ['header', header, 'dns_bad_pointer'],
    ['chain', long, 'dns_name_loop'],
  ];
  for (const [what, bytes, code] of cases) {
    for (const transport of ['udp', 'tcp'] as const) {
      const started = Date.now();
      const rec = afterGood(bytes, transport);
      t.ok(Date.now() - started < 1000, `${what}/${transport}: returns at once`);
      t.same(
        rec.anomalies.map((a) => a.code),
        [code],
        `${what}/${transport}: ${code} (${rec.anomalies[0]?.detail})`,
      );
    }
    t.equal(probeDns(bytes, 0, bytes.length, 1, false), Probe.No, `${what}: the probe says No`);
  }
  // The chain message still gives its first answer row (the record before the bad one).
  const rec = afterGood(long);
  t.same(rec.rows.dns!.filter((r) => r.response).map((r) => r.answer_type), ['TYPE65280']);
  // The same chain under the limit is fine: 30 pointers.
  const ok = message({ id: 6, flags: RESPONSE, q: [['x.example', 1]], an: [{ name: 12, type: 65280, data: chain }, { name: chainStart + 3 + 2 * 29, type: 1, data: [1, 2, 3, 4] }] });
  const rec2 = afterGood(ok);
  t.same(rec2.anomalies, []);
  t.same(rec2.rows.dns!.at(-1)!.answer_name, 'z');
});

t.test('names over their limits, obsolete label types, bad record data', async (t) => {
  const tooLong = message({ id: 8, flags: QUERY, q: [[Array(128).fill('a').join('.'), 1]] }); // 256 bytes
  const justFits = message({ id: 8, flags: QUERY, q: [[Array(127).fill('a').join('.'), 1]] }); // 254 + root = 255
  const ext = Buffer.from([...be16(9), ...be16(QUERY), ...be16(1), 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1]);
  const badA = message({ id: 10, flags: RESPONSE, q: [['x.example', 1]], an: [{ name: 12, type: 1, data: [1, 2, 3] }, { name: 12, type: 1, data: [5, 6, 7, 8] }] });
  t.same(afterGood(tooLong).anomalies.map((a) => a.code), ['dns_name_too_long']);
  t.same(afterGood(justFits).anomalies, []);
  t.equal(afterGood(justFits).rows.dns![1]!.qname!.toString().length, 253);
  t.same(afterGood(ext).anomalies.map((a) => a.code), ['dns_bad_label']);
  const r = afterGood(badA);
  t.same(r.anomalies.map((a) => a.code), ['dns_bad_rdata'], 'a 3-byte A record');
  // The bad record's row has no answer, and the record after it is still read.
  t.same(r.rows.dns!.slice(1).map((x) => x.answer), [null, '5.6.7.8']);
  t.same(r.resolved, [{ name: 'x.example', address: '5.6.7.8', ttl: 300 }]);
});

t.test('a truncated message', async (t) => {
  const full = cnameResponse();
  for (const cut of [5, 12, 20, 33, 40, 50, full.length - 1]) {
    const part = full.subarray(0, cut);
    t.equal(probeDns(part, 0, part.length, 1, false) === Probe.Yes, false, `cut at ${cut}: not a whole message for the probe`);
    const rec = afterGood(part);
    t.equal(rec.anomalies.length, 1, `cut at ${cut}: one anomaly`);
    t.match(rec.anomalies[0]!.code, /^dns_(truncated|bad_header)$/, `cut at ${cut}: ${rec.anomalies[0]?.detail}`);
    t.notOk(rec.resolved.some((x) => x.address === '2001:db8::1'), `cut at ${cut}: the cut AAAA is not resolved`);
  }
  // First message of a flow truncated: not DNS (rejected), no rows.
  const s = startSession(dns, { transport: 'udp' });
  feed(s.session, [[1, full.subarray(0, 30)]]);
  t.ok(s.rec.rejected, 'rejected before confirmation');
  t.same(s.rec.rows, {});
});

t.test('DNS over TCP: messages split across segments and several per segment', async (t) => {
  const stream0 = Buffer.concat([tcp(query(0x1234, 'www.example.com')), tcp(query(0x1235, 'www.example.com', 28))]);
  const stream1 = Buffer.concat([tcp(cnameResponse(0x1234)), tcp(message({ id: 0x1235, flags: RESPONSE | 3, q: [['www.example.com', 28]] }))]);
  const run = (chunk: number) => {
    const { session, rec } = startSession(dns, { transport: 'tcp' });
    feed(session, [
      [0, stream0],
      [1, stream1],
    ], chunk);
    return rec;
  };
  const whole = run(Infinity);
  const strip = (rows: Record<string, unknown>[]) => rows.map(({ ts: _ts, ...r }) => r);
  t.equal(whole.rows.dns!.length, 2 + 3 + 1);
  t.equal(whole.rows.dns!.at(-1)!.rcode, 'NXDOMAIN');
  t.same(whole.anomalies, []);
  for (const chunk of [1, 2, 3, 7, 13, 50]) {
    const r = run(chunk);
    t.same(strip(r.rows.dns!), strip(whole.rows.dns!), `chunks of ${chunk} bytes: the same rows`);
    t.same(r.resolved, whole.resolved);
  }
  // The probe: Need while the first message is cut in its header or question, Yes once the question is whole.
  const first = tcp(cnameResponse());
  t.equal(probeDns(first, 0, 1, 1, false), Probe.Need);
  t.equal(probeDns(first, 0, 10, 1, false), Probe.Need);
  t.equal(probeDns(first, 0, 20, 1, false), Probe.Need);
  t.equal(probeDns(first, 0, 2 + 12 + 17 + 4, 1, false), Probe.Yes);
  t.equal(probeDns(first, 0, first.length, 1, false), Probe.Yes);
  // A length prefix under 12 stops the framing of that direction (anomaly after confirmation).
  const rec = afterGood(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]).subarray(0, 3), 'udp');
  t.equal(rec.anomalies.length, 1);
  const s = startSession(dns, { transport: 'tcp' });
  feed(s.session, [
    [0, tcp(query(1, 'a.example'))],
    [0, Buffer.from([0, 5, 1, 2, 3, 4, 5])],
    [0, tcp(query(2, 'b.example'))],
  ]);
  t.same(s.rec.anomalies.map((a) => a.code), ['dns_tcp_length']);
  t.equal(s.rec.rows.dns!.length, 1, 'nothing read after the framing was lost');
});

t.test('the probe: DNS, mDNS, LLMNR yes; NetBIOS, random bytes, DNSCrypt-like no', async (t) => {
  const yes = (b: Buffer) => probeDns(b, 0, b.length, 0, false);
  t.equal(yes(query(1, 'www.example.com')), Probe.Yes);
  t.equal(yes(cnameResponse()), Probe.Yes);
  t.equal(yes(tcp(query(1, 'www.example.com'))), Probe.Yes);
  // An mDNS response: no question, cache-flush bit in the class.
  t.equal(yes(message({ id: 0, flags: 0x8400, an: [{ name: 'host.local', type: 1, cls: 0x8001, data: [169, 254, 1, 1] }] })), Probe.Yes);
  // NetBIOS name query for "WORKGROUP<1b>" (RFC 1002 first-level encoding: 32 letters A–P), type NB.
  const nb = Buffer.from('FHEPFCELEHFCEPFFFACACACACACACABL', 'latin1');
  const nbq = Buffer.from([...be16(0x8001), ...be16(0x0110), ...be16(1), 0, 0, 0, 0, 0, 0, 32, ...nb, 0, 0, 0x20, 0, 1]);
  t.equal(yes(nbq), Probe.No, 'NetBIOS name service is not DNS');
  // A query with an rcode, a reserved opcode, the Z bit, counts that cannot fit, trailing bytes.
  t.equal(yes(message({ id: 1, flags: QUERY | 2, q: [['a.example', 1]] })), Probe.No);
  t.equal(yes(message({ id: 1, flags: QUERY | (3 << 11), q: [['a.example', 1]] })), Probe.No);
  t.equal(yes(message({ id: 1, flags: QUERY | 0x40, q: [['a.example', 1]] })), Probe.No);
  t.equal(yes(message({ id: 1, flags: QUERY, q: [['a.example', 1]], counts: [1, 200, 0, 0] })), Probe.No);
  t.equal(yes(Buffer.concat([query(1, 'a.example'), Buffer.from([0])])), Probe.No);
  // DNSCrypt: client queries start with the 8-byte client magic, responses with "r6fnvWj8".
  t.equal(yes(Buffer.concat([Buffer.from('r6fnvWj8'), Buffer.alloc(80, 0x41)])), Probe.No);
  // Random datagrams (and random TCP streams): none taken.
  const rnd = prng(7);
  let taken = 0;
  for (let i = 0; i < 20000; i++) {
    const b = Buffer.alloc(12 + Math.floor(rnd() * 200));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
    if (yes(b) === Probe.Yes) taken++;
  }
  t.equal(taken, 0, 'no random datagram is DNS');
});

t.test('limits: answers per message, messages per flow', async (t) => {
  const many = message({ id: 11, flags: RESPONSE, q: [['big.example', 1]], an: Array.from({ length: 100 }, (_, i) => ({ name: 12, type: 1, data: [10, 0, 0, i] })) });
  const rec = afterGood(many);
  t.equal(rec.rows.dns!.length, 1 + DNS_LIMITS.maxAnswersPerMessage);
  t.equal(rec.resolved.length, DNS_LIMITS.maxAnswersPerMessage);
  t.same(rec.anomalies.map((a) => a.code), ['dns_answer_limit']);
  const { ctx, rec: r2 } = startSession(dns, { transport: 'udp' });
  const s = new DnsSession(ctx, { ...DNS_LIMITS, maxMessagesPerFlow: 5 });
  for (let i = 0; i < 8; i++) s.onData((i & 1) as Dir, query(i, 'x.example'), 0, query(i, 'x.example').length, [1, 0]);
  t.equal(r2.rows.dns!.length, 5);
  t.ok(r2.done, 'done() at the limit');
  t.same(r2.anomalies.map((a) => a.code), ['dns_message_limit']);
  // A CNAME loop in the answers is followed a bounded number of times.
  const cloop = message({ id: 12, flags: RESPONSE, q: [['q.example', 1]], an: [
    { name: 'a.example', type: 5, data: name('b.example') },
    { name: 'b.example', type: 5, data: name('a.example') },
    { name: 'a.example', type: 1, data: [1, 1, 1, 1] },
  ] });
  t.same(afterGood(cloop).resolved.map((x) => x.address), ['1.1.1.1']);
});

t.test('names decoded once per message: a reused buffer holding the next message gives its own names', async (t) => {
  const { session, rec } = startSession(dns, { transport: 'udp' });
  const a = message({ id: 1, flags: RESPONSE, q: [['aaa.example', 1]], an: [{ name: 12, type: 1, data: [1, 1, 1, 1] }] });
  const b = message({ id: 2, flags: RESPONSE, q: [['bbb.example', 1]], an: [{ name: 12, type: 1, data: [2, 2, 2, 2] }] });
  const view = new Uint8Array(a.length);
  view.set(a);
  session.onData(1, view, 0, view.length, [1, 0]);
  view.set(b);
  session.onData(1, view, 0, view.length, [2, 0]);
  t.same(rec.rows.dns!.map((r) => [r.qname, r.answer_name, r.answer]), [
    ['aaa.example', 'aaa.example', '1.1.1.1'],
    ['bbb.example', 'bbb.example', '2.2.2.2'],
  ]);
});

t.test('fuzz: hostile messages never throw, and valid ones still decode after them', async (t) => {
  const rnd = prng(42);
  const base = [cnameResponse(), query(3, 'www.example.com'), message({ id: 7, flags: RESPONSE, q: [['example.com', 15]], an: [{ name: 12, type: 15, data: [...be16(10), ...name(['mail', 12])] }] })];
  const { ctx, rec } = startSession(dns, { transport: 'udp' });
  const session = new DnsSession(ctx, { ...DNS_LIMITS, maxMessagesPerFlow: 10_000 });
  session.onData(0, base[1]!, 0, base[1]!.length, [1, 0]);
  let n = 0;
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(base[i % base.length]!);
    const flips = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < flips; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    const cut = rnd() < 0.2 ? Math.floor(rnd() * b.length) : b.length;
    session.onData(1, b, 0, cut, [2, i]);
    n++;
  }
  const before = rec.rows.dns!.length;
  session.onData(1, base[0]!, 0, base[0]!.length, [3, 0]);
  t.equal(n, 3000);
  t.equal(rec.rows.dns!.length - before, 3, 'the valid response after 3000 hostile ones gives its 3 rows');
  t.same(rec.rows.dns!.at(-1)!.answer, '2001:db8::1');
  t.ok(rec.anomalies.every((a) => a.code in dns.anomalies), 'every anomaly code is declared');
  // The same over TCP: random length-prefixed junk between valid messages, in 1-byte chunks.
  const s2 = startSession(dns, { transport: 'tcp' });
  const parts: [Dir, Buffer][] = [[0, tcp(query(1, 'a.example'))]];
  for (let i = 0; i < 200; i++) {
    const b = Buffer.from(base[i % base.length]!);
    b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    parts.push([1, tcp(b)]);
  }
  parts.push([1, tcp(cnameResponse(0x4321))]);
  feed(s2.session, parts, 1);
  t.same(s2.rec.rows.dns!.filter((r) => r.query_id === 0x4321).map((r) => r.answer), ['cdn.example.com', '192.0.2.7', '2001:db8::1']);
});

t.test('a built capture (UDP, and TCP in 5-byte segments) read by tshark and by imtap', async (t) => {
  const dir = tempDir('dns');
  const file = path.join(dir, 'dns.pcap');
  const mx = message({ id: 0x2222, flags: RESPONSE, q: [['example.com', 15]], an: [{ name: 12, type: 15, data: [...be16(10), ...name(['mail', 12])] }] });
  fs.writeFileSync(
    file,
    conversationPcap([
      { client: '10.0.0.1', server: '10.0.0.53', cport: 40001, sport: 53, transport: 'udp', parts: [[0, query(0x1234, 'www.example.com')], [1, cnameResponse(0x1234)]] },
      {
        client: '10.0.0.1',
        server: '10.0.0.53',
        cport: 40002,
        sport: 53,
        mss: 5,
        parts: [
          [0, Buffer.concat([tcp(query(0x2222, 'example.com', 15)), tcp(query(0x3333, 'www.example.com', 28))])],
          [1, Buffer.concat([tcp(mx), tcp(cnameResponse(0x3333))])],
        ],
      },
      // The client connects to the address it was given: it inherits the name it asked.
      { client: '10.0.0.1', server: '192.0.2.7', cport: 40003, sport: 443, parts: [[0, Buffer.from([0x16, 3, 1, 0, 1, 1])]] },
    ]),
  );
  const ts = execFileSync('tshark', ['-n', '-r', file, '-Y', 'dns', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=;', '-e', 'dns.id', '-e', 'dns.flags.response', '-e', 'dns.qry.name', '-e', 'dns.a', '-e', 'dns.aaaa', '-e', 'dns.cname', '-e', 'dns.mx.mail_exchange'], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  t.equal(ts.length, 6, 'tshark: 6 DNS messages (4 over TCP, reassembled)');
  const res = await analyzeCapture(file, { registry: new Registry([dns]), names: new DnsCache() });
  const rows = res.rows.dns!;
  for (const [id, resp, qname, a, aaaa, cname, mxName] of ts) {
    const mine = rows.filter((r) => r.query_id === Number(id) && r.response === (resp === '1' || resp === 'True'));
    t.ok(mine.length > 0 && mine.every((r) => r.qname === qname!.toLowerCase()), `${id} ${resp}: ${qname}`);
    const got = (type: string) => mine.filter((r) => r.answer_type === type).map((r) => r.answer);
    t.same(got('A'), a ? a.split(';') : [], `${id} ${resp}: A`);
    t.same(got('AAAA'), aaaa ? aaaa.split(';') : [], `${id} ${resp}: AAAA`);
    t.same(got('CNAME'), cname ? cname.split(';') : [], `${id} ${resp}: CNAME`);
    t.same(got('MX').map((x) => String(x).split(' ')[1]), mxName ? mxName.split(';') : [], `${id} ${resp}: MX`);
  }
  const https = res.others.find((f) => f.server_port === 443);
  t.equal(https?.serverName, 'www.example.com', 'the later flow inherits the name asked');
  t.equal(res.others.filter((f) => f.protocol === 'dns').length, 2);
  // The same with every TCP payload re-cut into 1-byte pieces by the pipeline: the same rows.
  const strip = (rs: typeof rows) => rs.map(({ ts: _t, flow_id: _f, ...r }) => JSON.stringify(r)).sort();
  t.equal(rows.length, 1 + 3 + 2 + 1 + 3, 'rows: a query and 3 answers (UDP); 2 queries, an MX and 3 answers (TCP)');
  const recut = await imPipeline(file, 1, null, new Registry([dns]));
  t.same(strip(recut.rows.dns ?? []), strip(rows), 'TCP payloads re-cut into 1-byte segments: the same rows');
});
