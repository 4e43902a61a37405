// HTTP-tunnelled MSNP (MSN's HTTP gateway): a conversation built from the gateway documentation (a notification
// session and a switchboard session interleaved on one keep-alive connection, a new SessionID handed out on the way,
// a chunked answer, a chat MSG in a POST body and one split over two response bodies), written as a pcap, checked
// against tshark's `http` dissector (request URIs, Content-Type, X-MSN-Messenger, bodies) and an MSG reading of those
// bodies; 1-byte segments; the session on its own (gaps, error answers, non-gateway requests, one-sided flows);
// negatives (ordinary HTTP, look-alike URIs) and a small fuzz.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { msnp, msnpFtp } from '../../src/decoders/im/msnp/index.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { clientMsg, gatewayParts, gatewayPost, gatewayReply, httpFrames, serverMsg, textPayload, type HttpFrame } from './builders/msnp.js';

const registry = new Registry([msnp, msnpFtp]);
type Row = Record<string, unknown>;
type Parts = [Dir, string | Uint8Array | { gap: number }][];

/**
 * The test's own reading of tshark's HTTP messages: each gateway session's two byte streams (request bodies, response
 * bodies). A request belongs to its SessionID (resolved through the ids answers handed out), an open request to a new
 * session; a response to the oldest unanswered request, and its X-MSN-Messenger SessionID names that session.
 */
function oracleStreams(frames: HttpFrame[]): Map<string, [Buffer, Buffer]> {
  const streams = new Map<string, [Buffer, Buffer]>();
  const alias = new Map<string, string>();
  const fifo: string[] = [];
  const add = (key: string, dir: 0 | 1, b: Buffer) => {
    const s = streams.get(key) ?? [Buffer.alloc(0), Buffer.alloc(0)];
    s[dir] = Buffer.concat([s[dir], b]);
    streams.set(key, s);
  };
  for (const f of frames) {
    if (f.request) {
      const sid = new URL(f.uri!).searchParams.get('SessionID');
      const key = sid === null ? `open-${f.frame}` : alias.get(sid) ?? sid;
      fifo.push(key);
      add(key, 0, f.body);
    } else {
      const key = fifo.shift()!;
      const sid = /SessionID=([^;\s]+)/.exec(f.msnHeader ?? '')?.[1];
      if (sid !== undefined) alias.set(sid, key);
      add(key, 1, f.body);
    }
  }
  return streams;
}

/** text/plain MSG bodies in one MSNP byte stream: [from (null: the client), body]. */
function oracleMsgs(stream: Buffer): [string | null, string][] {
  const out: [string | null, string][] = [];
  const text = stream.toString('latin1');
  const re = /MSG (\S+) (\S+) (\d+)\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const payload = stream.subarray(m.index + m[0].length, m.index + m[0].length + Number(m[3]));
    const sep = payload.indexOf('\r\n\r\n');
    if (/Content-Type: text\/plain/i.test(payload.subarray(0, sep).toString('latin1'))) out.push([m[1]!.includes('@') ? m[1]! : null, payload.subarray(sep + 4).toString('utf8')]);
    re.lastIndex = m.index + m[0].length + Number(m[3]);
  }
  return out;
}

t.test('HTTP gateway: NS and SB sessions on one connection, as tshark shows them', async (t) => {
  const dir = tempDir('msnp-gw');
  const pcap = path.join(dir, 'gateway.pcap');
  fs.writeFileSync(pcap, conversationPcap([{ client: '10.0.0.5', server: '207.46.110.17', cport: 40010, sport: 80, parts: gatewayParts() }]));

  const frames = httpFrames(pcap);
  const requests = frames.filter((f) => f.request);
  const responses = frames.filter((f) => !f.request);
  t.equal(requests.length, 13, 'tshark: 13 POSTs');
  t.equal(responses.length, 13, 'and 13 answers');
  t.ok(requests.every((f) => /^http:\/\/gateway\.messenger\.hotmail\.com\/gateway\/gateway\.dll\?/.test(f.uri ?? '')), 'every request to gateway.dll');
  t.same(requests.filter((f) => f.uri!.includes('Action=open')).map((f) => new URL(f.uri!).searchParams.get('Server')), ['NS', 'SB']);
  t.ok(frames.every((f) => f.contentType === 'application/x-msn-messenger'), 'every message application/x-msn-messenger');
  t.ok(responses.every((f) => /^SessionID=[\d.]+; GW-IP=207\.46\.110\.17$/.test(f.msnHeader ?? '')), 'every answer with X-MSN-Messenger');

  const streams = oracleStreams(frames);
  t.equal(streams.size, 2, 'two gateway sessions');
  const oracle = [...streams.values()].flatMap(([c, s]) => [...oracleMsgs(c).map(([, b]) => ['alice@hotmail.com', b, 'c2s']), ...oracleMsgs(s).map(([f, b]) => [f, b, 's2c'])]);
  t.same(oracle.map((m) => m[1]).sort(), ['hello bob, from behind the proxy', 'hi alice, through the gateway'], "tshark's bodies: one MSG in a POST, one across two answers");

  const r = await imPipeline(pcap, 0, null, registry);
  t.same(r.verdicts.map((v) => [v.protocol, v.app, v.kind, v.method, v.confidence]), [['msnp', 'msn', 'presence', 'payload', 1]]);
  const rows = (k: string): Row[] => (r.rows[k] ?? []) as Row[];
  t.same(rows('anomalies'), []);
  t.same(rows('messages').map((m) => [m.sender, m.body, m.direction]).sort(), oracle.sort(), 'the messages tshark shows');
  t.same(rows('messages').map((m) => [m.sender, m.recipient, m.kind]), [['alice@hotmail.com', 'bob@hotmail.com', 'chat'], ['bob@hotmail.com', 'alice@hotmail.com', 'chat']]);
  t.same(rows('accounts').map((a) => [a.account, a.display_name, a.auth, a.side]).sort(), [
    ['alice@hotmail.com', 'Alice A.', 'twn', 'client'],
    ['bob@hotmail.com', 'Bob', null, 'server'],
  ]);
  t.same(rows('contacts').map((c) => [c.contact, c.group_name, c.state]), [
    ['bob@hotmail.com', 'Friends', 'FL,AL,RL'],
    ['carol@msn.com', 'Other Contacts', 'FL,AL'],
  ]);
  t.same(rows('events').map((e) => [e.event, e.account, e.target, e.detail]), [
    ['gateway_open', null, 'messenger.hotmail.com', 'NS'],
    ['login', 'alice@hotmail.com', 'notification', 'twn MSNP8 MSNMSGR 6.0.0602'],
    ['switchboard', 'alice@hotmail.com', '207.46.108.37:1863', null],
    ['gateway_open', null, '207.46.108.37', 'SB'],
    ['login', 'alice@hotmail.com', 'switchboard', 'cookie'],
    ['invite', 'alice@hotmail.com', 'bob@hotmail.com', null],
    ['join', 'bob@hotmail.com', null, 'Bob'],
    ['presence', 'bob@hotmail.com', 'alice@hotmail.com', 'busy'],
    ['logout', 'alice@hotmail.com', 'switchboard', null],
  ]);
  t.notOk(JSON.stringify(r.rows).includes('t=53*1hAu8') || JSON.stringify(r.rows).includes('17262740.1050826919'), 'no ticket or cookie stored');

  const bytes = await imPipeline(pcap, 1, null, registry);
  t.same(canonicalRows(bytes.rows), canonicalRows(r.rows), '1-byte segments: identical rows');
  t.same(bytes.verdicts.map((v) => [v.protocol, v.confidence]), [['msnp', 1]]);
});

const run = (parts: Parts, chunk = Infinity): Recorded => {
  const { session, rec } = startSession(msnp, { serverPort: 80 });
  feed(session, parts, chunk);
  return rec;
};

const SB = 'SessionID=9.1';
const open: Parts = [
  [0, gatewayPost('Action=open&Server=SB&IP=207.46.108.37', 'USR 1 alice@hotmail.com 1.2.3\r\n')],
  [1, gatewayReply('9.1', 'USR 1 OK alice@hotmail.com Alice\r\nJOI bob@hotmail.com Bob\r\n')],
];
const hello = serverMsg('bob@hotmail.com', 'Bob', textPayload('hello'));
const after = serverMsg('bob@hotmail.com', 'Bob', textPayload('after'));

t.test('gateway session: chunks of any size, pipelined requests, origin-form URIs, empty answers', async (t) => {
  const parts: Parts = [
    ...open,
    // Two requests before their answers (pipelined), origin-form target.
    [0, Buffer.concat([gatewayPost(`Action=poll&${SB}`), Buffer.from(`POST /gateway/gateway.dll?${SB} HTTP/1.1\r\nContent-Length: 0\r\n\r\n`)])],
    [1, Buffer.concat([gatewayReply('9.1', hello), gatewayReply('9.1', '', true)])],
    [0, gatewayPost(SB, clientMsg(2, textPayload('yo')))],
    [1, gatewayReply('9.1', 'ACK 2\r\n')],
  ];
  for (const chunk of [Infinity, 7, 1]) {
    const r = run(parts, chunk);
    t.equal(r.confirmed, 1);
    t.same(r.anomalies, [], `chunks of ${chunk}`);
    t.same(r.messages.map((m) => [m.sender, m.recipient, m.body, m.dir]), [
      ['bob@hotmail.com', 'alice@hotmail.com', 'hello', 1],
      ['alice@hotmail.com', 'bob@hotmail.com', 'yo', 0],
    ]);
    t.equal(r.kind, 'chat');
  }
});

t.test('gateway session: gaps, error answers, requests elsewhere, framing loss', async (t) => {
  // A hole inside a response body: that body's MSNP is resynchronised; the next answer is read.
  const r1 = run([...open, [0, gatewayPost(`Action=poll&${SB}`)], [1, gatewayReply('9.1', Buffer.concat([hello, hello])).subarray(0, 200)], [1, { gap: 40 }], [1, gatewayReply('9.1', Buffer.concat([hello, hello])).subarray(240)], [0, gatewayPost(`Action=poll&${SB}`)], [1, gatewayReply('9.1', after)]]);
  t.same(r1.messages.map((m) => m.body), ['hello', 'after']);
  t.same(r1.anomalies, []);

  // A hole across message boundaries: resynchronised at the next request / status line.
  const r2 = run([...open, [0, gatewayPost(`Action=poll&${SB}`)], [1, gatewayReply('9.1', hello).subarray(0, 20)], [1, { gap: 5000 }], [0, gatewayPost(`Action=poll&${SB}`)], [1, gatewayReply('9.1', after)]]);
  t.same(r2.messages.map((m) => m.body), ['after']);

  // A gateway error and a request elsewhere on the same connection: anomalies, bodies not parsed.
  const r3 = run([
    ...open,
    [0, gatewayPost(`Action=poll&${SB}`)],
    [1, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<html>x</html>'.replace('11', '14')],
    [0, 'POST /other HTTP/1.1\r\nContent-Length: 4\r\n\r\nMSG '],
    [1, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'],
    [0, gatewayPost(`Action=poll&${SB}`)],
    [1, gatewayReply('9.1', after)],
  ]);
  t.same(r3.anomalies.map((a) => a.code), ['msnp_gateway_error', 'msnp_gateway_not_msnp']);
  t.same(r3.messages.map((m) => m.body), ['after']);

  // Broken framing after confirmation: an anomaly, resynchronised.
  const r4 = run([...open, [0, gatewayPost(`Action=poll&${SB}`)], [1, 'HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=9.1\r\nContent-Length: zz\r\n\r\n'], [0, gatewayPost(`Action=poll&${SB}`)], [1, gatewayReply('9.1', after)]]);
  t.same(r4.anomalies.map((a) => a.code), ['msnp_gateway_framing']);
  t.same(r4.messages.map((m) => m.body), ['after']);

  // Bodies of a tunnel that are not MSNP: that tunnel stops, the other goes on.
  const r5 = run([
    ...open,
    [0, gatewayPost('Action=open&Server=NS&IP=messenger.hotmail.com', 'VER 1 MSNP8 CVR0\r\n')],
    [1, gatewayReply('7.7', 'this is not msnp at all\r\n'.repeat(30))],
    [0, gatewayPost(`Action=poll&${SB}`)],
    [1, gatewayReply('9.1', after)],
  ]);
  t.match(r5.anomalies.map((a) => a.code), ['msnp_gateway_body_invalid']);
  t.same(r5.messages.map((m) => m.body), ['after']);

  // Before confirmation, a body that is not MSNP rejects the flow.
  const r6 = run([[0, gatewayPost('Action=open&Server=NS&IP=x', 'hello world\r\n')], [1, gatewayReply('1.1', 'nope\r\n')]]);
  t.match(r6.rejected, /not an MSNP command/);
});

t.test('gateway session: one-sided flows and answers whose requests were not seen', async (t) => {
  const answers = run([[1, gatewayReply('9.1', 'USR 1 OK alice@hotmail.com Alice\r\n')], [1, gatewayReply('9.1', hello)], [1, gatewayReply('9.2', after)]]);
  t.same(answers.messages.map((m) => [m.sender, m.recipient, m.body]), [
    ['bob@hotmail.com', 'alice@hotmail.com', 'hello'],
    ['bob@hotmail.com', null, 'after'],
  ], 'by SessionID: the second id is another tunnel, which does not know the client');
  t.equal(answers.confirmed, null);
  const posts = run([[0, gatewayPost('Action=open&Server=NS&IP=messenger.hotmail.com', 'VER 1 MSNP8 CVR0\r\nUSR 3 TWN I alice@hotmail.com\r\n')]]);
  t.same(posts.accounts.map((a) => [a.account, a.auth]), [['alice@hotmail.com', 'twn']]);
});

t.test('negatives through the pipeline: ordinary HTTP, look-alike URIs, garbage after a valid start', async (t) => {
  const dir = tempDir('msnp-gw-neg');
  const write = (name: string, parts: [0 | 1, string | Uint8Array][]) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, conversationPcap([{ client: '10.0.0.1', server: '10.0.0.2', cport: 40000, sport: 80, parts }]));
    return f;
  };
  const ok = 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok';
  for (const [name, req] of [
    ['post.pcap', 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b'],
    ['lookalike.pcap', 'POST /gateway/gateway.dll HTTP/1.1\r\nContent-Length: 0\r\n\r\n'],
    ['get.pcap', 'GET /gateway/gateway.dll?Action=open&Server=NS&IP=x HTTP/1.1\r\n\r\n'],
    ['other-params.pcap', 'POST /gateway/gateway.dll?Action=open&Server=XX HTTP/1.1\r\nContent-Length: 0\r\n\r\n'],
  ] as const) {
    const r = await imPipeline(write(name, [[0, req], [1, ok]]), 0, null, registry);
    t.same(r.verdicts, [], `${name}: not MSNP`);
  }
  const garbage = await imPipeline(write('garbage.pcap', [...open.map(([d, p]) => [d, p] as [0 | 1, Uint8Array | string]), [1, Buffer.alloc(3000, 0x41)]]), 0, null, registry);
  t.same(garbage.verdicts.map((v) => v.protocol), ['msnp']);
  for (const a of (garbage.rows.anomalies ?? []) as Row[]) t.match(a.code, /^msnp_gateway_(framing|body_invalid)$/);
});

t.test('fuzz: mutated gateway streams give declared anomalies only and never throw', async (t) => {
  const declared = new Set(Object.keys(msnp.anomalies));
  const base = gatewayParts().map(([d, p]) => [d, typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)] as [Dir, Buffer]);
  let seed = 777;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 150; i++) {
    const parts: Parts = base.map(([d, p]) => {
      const b = Buffer.from(p);
      const k = rnd(4);
      for (let j = 0; j < k; j++) b[rnd(b.length)] = rnd(256);
      return [d, rnd(12) === 0 ? b.subarray(0, rnd(b.length + 1)) : b];
    });
    const { session, rec } = startSession(msnp);
    t.doesNotThrow(() => feed(session, parts, 1 + rnd(60)));
    for (const a of rec.anomalies) if (!declared.has(a.code)) t.fail(`undeclared ${a.code}`);
  }
  const r = run(gatewayParts() as Parts);
  t.equal(r.messages.length, 2, 'the same decoder still decodes valid input');
});
