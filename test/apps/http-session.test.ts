/**
 * HTTP byte-level cases, with the session driven directly (test/helpers/im-session.ts) and the probe called as the
 * dispatcher calls it. Expected values are the bytes each case sends: a head split across segments, pipelining with
 * bodies of every framing, chunked bodies, heads over the limit, a flow that is not HTTP after all, CONNECT and
 * WebSocket, the row budget, gaps, web-messaging forms (text not UTF-8, a login whose password is never read), and
 * hostile bytes after confirmation. Every conversation is also replayed in pieces of 1 to 7 bytes.
 */
import t, { type Test } from 'tap';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { http } from '../../src/decoders/apps/http/index.js';
import { probeHttp } from '../../src/decoders/apps/http/detect.js';
import { HTTP_LIMITS } from '../../src/decoders/apps/http/limits.js';
import { formDecode, hostOnly, matchWebRule, readForm } from '../../src/decoders/apps/http/web-apps.js';
import { defaultRegistry } from '../../src/decoders/im/protocols.js';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';

type Part = [Dir, string | Uint8Array | { gap: number }];
const bytes = (s: string) => Buffer.from(s, 'latin1');

function run(parts: Part[], chunk = Infinity): Recorded {
  const { session, rec } = startSession(http, { serverPort: 80 });
  feed(session, parts.map(([d, p]) => [d, typeof p === 'string' ? bytes(p) : p]), chunk);
  return rec;
}

/** What the rows say, without timestamps (which depend on how the bytes were cut). */
const httpRows = (r: Recorded) => (r.rows.http ?? []).map((x) => [x.method, x.host, x.uri, x.user_agent, x.content_type, x.status]);
const codes = (r: Recorded) => r.anomalies.map((a) => a.code);

/** The same rows, anomalies, messages and verdict whatever the segmentation. */
function sameInPieces(t: Test, parts: Part[], name: string): Recorded {
  const whole = run(parts);
  for (let chunk = 1; chunk <= 7; chunk++) {
    const r = run(parts, chunk);
    t.same(httpRows(r), httpRows(whole), `${name}: rows in ${chunk}-byte pieces`);
    t.same(codes(r), codes(whole), `${name}: anomalies in ${chunk}-byte pieces`);
    t.same(r.messages.map((m) => m.body), whole.messages.map((m) => m.body), `${name}: messages in ${chunk}-byte pieces`);
    t.same([r.confirmed, r.rejected, r.protocol, r.done], [whole.confirmed, whole.rejected, whole.protocol, whole.done], `${name}: verdict in ${chunk}-byte pieces`);
  }
  return whole;
}

const probe = (s: string | Uint8Array, dir: Dir = 0, midstream = false) => {
  const b = typeof s === 'string' ? bytes(s) : s;
  return probeHttp(b, 0, b.length, dir, midstream);
};

t.test('probe: Need until the request line is complete, then Yes; other protocols No', async (t) => {
  const line = 'GET /index.html HTTP/1.1\r\n';
  for (let n = 0; n < line.length; n++) t.equal(probe(line.slice(0, n)), Probe.Need, `prefix of ${n} bytes`);
  t.equal(probe(line), Probe.Yes);
  t.equal(probe('GET / HTTP/1.0\n'), Probe.Yes, 'bare LF');
  t.equal(probe('PROPFIND /dav/ HTTP/1.1\r\n'), Probe.Yes, 'WebDAV');
  for (const no of ['INVITE sip:bob@example.com SIP/2.0\r\n', 'OPTIONS sip:x@y SIP/2.0\r\n', 'OPTIONS rtsp://h/s RTSP/1.0\r\n', 'SSH-2.0-OpenSSH_9.6\r\n', 'NICK alice\r\n', 'FOO / HTTP/1.1\r\n', 'GET / HTTP/2.0\r\n', 'GET  / HTTP/1.1\r\n', 'get / HTTP/1.1\r\n', '\x16\x03\x01\x02\x00', 'GET /a\x00b HTTP/1.1\r\n', 'GET / HTTP/1.1 extra\r\n']) {
    t.equal(probe(no), Probe.No, JSON.stringify(no));
  }
  t.equal(probe('HTTP/1.1 200 OK\r\n', 0), Probe.No, 'a status line from the client');
  const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  t.equal(probe(resp.slice(0, 20), 1), Probe.Need, 'status line, head not complete');
  t.equal(probe(resp, 1), Probe.Yes, 'a complete response head');
  t.equal(probe('220 smtp.example.com ESMTP\r\n', 1), Probe.No, 'an SMTP greeting');
  t.equal(probe('1234\r\n}</html>\r\nGET /next HTTP/1.1\r\n', 0, true), Probe.Yes, 'mid-stream: a request line after the tail of a body');
  t.equal(probe('1234\r\n}</html>\r\nGET /next HTTP/1.1\r\n', 0, false), Probe.No, 'the same from the start of a stream');
  t.equal(probe('tail of a body\r\nHTTP/1.1 304 Not Modified\r\n\r\n', 1, true), Probe.Yes, 'mid-stream response');
  t.equal(probe(Buffer.alloc(5000, 0x41), 0, true), Probe.No, 'mid-stream: no line within the bytes looked at');
});

t.test('probe order: MSN gateway POSTs are msnp, SIP over TCP is sip, plain HTTP is http', async (t) => {
  const reg = defaultRegistry();
  const first = (s: string, dir: Dir = 0) => {
    const b = bytes(s);
    for (const p of reg.tcpProbes) {
      const r = p.probe!(b, 0, b.length, dir, false);
      if (r === Probe.Yes) return p.id;
    }
    return null;
  };
  t.equal(first('POST /gateway/gateway.dll?Action=open&Server=NS&IP=messenger.hotmail.com HTTP/1.1\r\n'), 'msnp');
  t.equal(first('INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'), 'sip');
  t.equal(first('POST /cgi-bin/x HTTP/1.1\r\n'), 'http');
  t.equal(first('GET /index.m3u8 HTTP/1.1\r\n'), 'http');
});

t.test('a head split across segments, then its response', async (t) => {
  const parts: Part[] = [
    [0, 'GET /a/b?c=d HTTP/1.1\r\nHost: Example.ORG:8080\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'],
  ];
  const r = sameInPieces(t, parts, 'split');
  t.same(httpRows(r), [['GET', 'Example.ORG:8080', '/a/b?c=d', 'test/1.0', null, 200]]);
  t.equal(r.confirmed, 0.9);
  t.same(r.hostNames, [{ name: 'example.org', source: 'http' }], 'host name without port, lower case');
});

t.test('pipelining: requests and responses paired in order, every body framing', async (t) => {
  const parts: Part[] = [
    [0, 'POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world' + 'HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n' + 'PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n' + 'GET /last HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nok\n' + 'HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n' + 'HTTP/1.1 204 No Content\r\n\r\n' + 'HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno'],
  ];
  const r = sameInPieces(t, parts, 'pipelined');
  t.same(httpRows(r).map((x) => [x[0], x[2], x[4], x[5]]), [
    ['POST', '/form', 'text/plain', 201],
    ['HEAD', '/big', null, 200],
    ['PUT', '/up', null, 204],
    ['GET', '/last', null, 404],
  ]);
  t.same(codes(r), []);
});

t.test('chunked response bodies with extensions and trailers, then the next response', async (t) => {
  const parts: Part[] = [
    [0, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1A;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n3\r\nHTT\r\n0\r\nExpires: never\r\n\r\n' + 'HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n'],
  ];
  const r = sameInPieces(t, parts, 'chunked');
  t.same(httpRows(r).map((x) => [x[2], x[5]]), [['/1', 200], ['/2', 302]]);
  t.same(codes(r), []);
});

t.test('a bad chunk size is an anomaly; the server side stops there', async (t) => {
  const parts: Part[] = [
    [0, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nHTTP/1.1 200 OK\r\n\r\n'],
  ];
  const r = sameInPieces(t, parts, 'bad chunk');
  t.same(codes(r), ['http_bad_chunk_size']);
  t.same(httpRows(r).map((x) => [x[2], x[5]]), [['/1', 200], ['/2', null]]);
});

t.test('a head over maxHeadBytes: an anomaly and a row with the request line', async (t) => {
  const long = 'GET /x HTTP/1.1\r\nHost: h\r\n' + 'X-Pad: '.padEnd(HTTP_LIMITS.maxHeadBytes, 'p') + '\r\n\r\n';
  const r = sameInPieces(t, [[0, long], [1, 'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n']], 'long head');
  t.same(codes(r), ['http_head_too_long']);
  t.same(httpRows(r).map((x) => [x[0], x[2], x[5]]), [['GET', '/x', 431]]);
  t.ok(r.done, 'done: the client side cannot be framed any more');
});

t.test('not HTTP after all: a request line, then no header lines', async (t) => {
  const r = sameInPieces(t, [[0, 'GET / HTTP/1.1\r\n\x00\x01\x02 binary\r\n\r\n'], [1, 'garbage']], 'not http');
  t.match(r.rejected, /header line/);
  t.equal(r.confirmed, null);
  t.same(httpRows(r), [], 'no row (the dispatcher would drop it anyway)');
});

t.test('after confirmation, hostile bytes are anomalies, never a throw', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let k = 0; k < 40; k++) {
    const junk = Uint8Array.from({ length: 300 + k * 37 }, rnd);
    const parts: Part[] = [
      [0, 'GET /ok HTTP/1.1\r\nHost: h\r\n\r\n'],
      [0, junk],
      [1, junk],
      [0, 'GET /again HTTP/1.1\r\nHost: h\r\n\r\n'],
    ];
    for (const chunk of [Infinity, 1, 3]) {
      const r = run(parts, chunk);
      t.ok(r.confirmed !== null && r.rejected === null, `junk ${k} in ${chunk}-byte pieces: still confirmed`);
      t.equal((r.rows.http ?? [])[0]?.uri, '/ok');
    }
  }
});

t.test('URI cut at maxUriBytes with an anomaly', async (t) => {
  const uri = '/' + 'u'.repeat(3000);
  const r = run([[0, `GET ${uri} HTTP/1.1\r\nHost: h\r\n\r\n`]]);
  t.equal((r.rows.http![0]!.uri as string).length, HTTP_LIMITS.maxUriBytes);
  t.ok(uri.startsWith(r.rows.http![0]!.uri as string));
  t.same(codes(r), ['http_field_truncated']);
});

t.test('CONNECT: the tunnel host, the status, then done (the tunnel is not parsed)', async (t) => {
  const r = sameInPieces(t, [[0, 'CONNECT chat.example.com:443 HTTP/1.1\r\nHost: chat.example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello'], [1, 'HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02hi']], 'connect');
  t.same(r.hostNames, [{ name: 'chat.example.com', source: 'http' }]);
  t.same(httpRows(r).map((x) => [x[0], x[1], x[2], x[5]]), [['CONNECT', 'chat.example.com:443', 'chat.example.com:443', 200]]);
  t.ok(r.done);
  t.same(codes(r), []);
});

t.test('Upgrade: websocket answered 101: the protocol becomes websocket, then done', async (t) => {
  const r = sameInPieces(t, [[0, 'GET /ws HTTP/1.1\r\nHost: ws.example.net\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'], [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello'], [0, '\x81\x85abcd\x00\x00\x00\x00\x00']], 'websocket');
  t.equal(r.protocol, 'websocket');
  t.ok(r.done);
  t.same(httpRows(r).map((x) => [x[2], x[5]]), [['/ws', 101]]);
  const no = run([[0, 'GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n'], [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n']]);
  t.equal(no.protocol, null, 'refused: still http');
});

t.test('row budget: maxRequests rows, then done', async (t) => {
  const n = HTTP_LIMITS.maxRequests + 6;
  const req = Array.from({ length: n }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: h\r\n\r\n`).join('');
  const resp = Array.from({ length: n }, () => 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx').join('');
  const parts: Part[] = [];
  // Request, response, request… as a browser without pipelining sends them.
  for (let i = 0; i < n; i++) {
    parts.push([0, `GET /${i} HTTP/1.1\r\nHost: h\r\n\r\n`], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx']);
  }
  const r = run(parts);
  t.equal((r.rows.http ?? []).length, HTTP_LIMITS.maxRequests);
  t.ok((r.rows.http ?? []).every((x) => x.status === 200));
  t.ok(r.done);
  const p = run([[0, req], [1, resp]]);
  t.equal((p.rows.http ?? []).length, HTTP_LIMITS.maxRequests, 'pipelined: the same budget');
});

t.test('a gap: the rows waiting go without a status, and later requests are not paired', async (t) => {
  const r = run([
    [0, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'],
    [1, { gap: 97 }],
    [1, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
    [0, 'body tail\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n'],
  ]);
  t.same(httpRows(r).map((x) => [x[2], x[5]]), [['/1', 200], ['/2', null], ['/3', null]]);
});

t.test('web messaging: the facebook.com chat box form, a text that is not UTF-8, a login', async (t) => {
  const body = 'ids%5B0%5D=42&subject=&status=caf%C3%A9+%F0%9F%98%80%2C+ok&profile_id=7&fb_dtsg=SECRETTOKEN';
  const head = `POST /ajax/gigaboxx/endpoint/MessageComposerEndpoint.php?__a=1 HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`;
  const r = sameInPieces(t, [[0, head + body], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']], 'message');
  t.match(r.messages, [{ sender: '7', recipient: '42', body: 'café 😀, ok', subject: '', dir: 0, body_raw: null }]);
  t.same(r.identified, [{ app: 'messenger', kind: 'web', method: 'http', confidence: 0.85 }]);
  t.notOk(JSON.stringify(r).includes('SECRETTOKEN'), 'other fields are not stored');

  const bad = 'status=caf%E9&profile_id=7&ids[0]=42';
  const rb = run([[0, head.replace(/Content-Length: \d+/, `Content-Length: ${bad.length}`) + bad]]);
  t.equal(rb.messages[0]?.body, 'caf\ufffd');
  t.same([...(rb.messages[0]?.body_raw ?? [])], [0x63, 0x61, 0x66, 0xe9]);
  t.same(codes(rb), ['http_form_bad_text']);

  const big = `POST /ajax/gigaboxx/endpoint/MessageComposerEndpoint.php HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${HTTP_LIMITS.maxFormBytes + 1}\r\n\r\n`;
  const rg = run([[0, big + 's'.repeat(HTTP_LIMITS.maxFormBytes + 1) + 'GET /after HTTP/1.1\r\nHost: www.facebook.com\r\n\r\n']]);
  t.same(codes(rg), ['http_form_too_large']);
  t.same(rg.messages, []);
  t.same(httpRows(rg).map((x) => x[2]), ['/ajax/gigaboxx/endpoint/MessageComposerEndpoint.php', '/after'], 'the body is skipped, the next request read');

  const login = 'email=bob%40example.org&pass=correct+horse+battery&persistent=1';
  const rl = run([[0, `POST /login.php?login_attempt=1 HTTP/1.1\r\nHost: login.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${login.length}\r\n\r\n${login}`]]);
  t.match(rl.events, [{ event: 'login', account: 'bob@example.org', dir: 0 }]);
  t.match(rl.accounts, [{ account: 'bob@example.org' }]);
  const all = JSON.stringify(rl);
  t.notOk(all.includes('correct') || all.includes('horse'), 'the password is nowhere in what the session reported');
});

t.test('form helpers', async (t) => {
  t.same(Buffer.from(formDecode(bytes('a+b%41%zz%4'), 0, 11)).toString('latin1'), 'a bA%zz%4', 'plus, escapes, malformed escapes kept');
  const m = readForm(bytes('x=1&&k&y=%32&x=3&z'), 0, 18, ['x', 'y', 'k', 'z']);
  t.same([...m.entries()].map(([k, v]) => [k, Buffer.from(v).toString()]), [['x', '1'], ['k', ''], ['y', '2'], ['z', '']]);
  t.equal(hostOnly('[2001:db8::1]:8080'), '2001:db8::1');
  t.equal(hostOnly('WWW.Facebook.COM.'), 'www.facebook.com');
  t.equal(matchWebRule('www.facebook.com', 'http://www.facebook.com/login.php?x')?.action, 'login', 'absolute-form target');
  t.equal(matchWebRule('notfacebook.com', '/login.php'), null, 'suffix on a label boundary');
});
