/** The SIP session driven directly: framing (UDP, TCP, segmentation), headers, bodies, accounts, events, MSRP expectations, limits. */
import t from 'tap';
import { feed, startSession, type Recorded } from '../helpers/im-session.js';
import { sip } from '../../src/decoders/im/sip/index.js';
import { createSipSession } from '../../src/decoders/im/sip/session.js';
import { recordingContext } from '../helpers/im-session.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { ALICE, BOB, request, response, type Req } from './builders/sip.js';
import { msrpSession } from './builders/msrp.js';

type Part = [Dir, Uint8Array | string | { gap: number }];

function run(parts: Part[], transport: 'udp' | 'tcp' = 'udp', chunk = Infinity, limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ transport, serverPort: 5060 });
  feed(createSipSession(ctx, limits), parts, chunk);
  return rec;
}

const msg = (over: Partial<Req> = {}): Req => ({ method: 'MESSAGE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 'c1@x', cseq: 1, body: 'hello', contentType: 'text/plain', ...over });
/** A recording without times (the feeder gives every piece its own), for comparing segmentations. */
const strip = (r: Recorded) => JSON.stringify({ ...r, files: [...r.files.entries()] }, (k, v: unknown) => (k === 'ts' ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

t.test('UDP MESSAGE: message row, confirmation by the response, retransmission once', async (t) => {
  const m = msg();
  const r = run([[0, request(m)], [0, request(m)], [1, response(m, 200, 'OK')]]);
  t.equal(r.messages.length, 1);
  t.match(r.messages[0], { sender: ALICE, recipient: BOB, body: 'hello', body_format: 'text', kind: 'page', dir: 0 });
  t.equal(r.confirmed, 1);
  t.equal(r.kind, 'chat');
  t.same(r.anomalies, []);
});

t.test('headers: case-insensitive names, compact forms, folding, Request-URI as recipient without To', async (t) => {
  const raw = [
    'MESSAGE sip:carol@chicago.example.com SIP/2.0',
    'v: SIP/2.0/UDP 192.0.2.1',
    'F: "Alice',
    ' Liddell" <sip:Alice@ATLANTA.example.com;transport=udp>;tag=1',
    'i: fold-1',
    'CSEQ: 1 MESSAGE',
    'C: text/plain;',
    '\tcharset=utf-8',
    'L: 6',
    '',
    'héllo',
  ].join('\r\n');
  const r = run([[0, raw]], 'tcp');
  t.match(r.messages, [{ sender: 'sip:Alice@atlanta.example.com', recipient: 'sip:carol@chicago.example.com', body: 'héllo' }]);
});

t.test('TCP framing: several messages in one piece, any segmentation, bodies by Content-Length', async (t) => {
  const a = msg({ cseq: 1, body: 'one\r\n\r\nINVITE sip:x SIP/2.0' }); // a body that looks like a message
  const b = msg({ cseq: 2, body: 'two' });
  const parts: Part[] = [[0, Buffer.concat([request(a), Buffer.from('\r\n\r\n'), request(b)])], [1, Buffer.concat([response(a, 200, 'OK'), response(b, 200, 'OK')])]];
  const whole = run(parts, 'tcp');
  t.same(whole.messages.map((m) => m.body), ['one\r\n\r\nINVITE sip:x SIP/2.0', 'two']);
  t.same(whole.anomalies, []);
  for (const chunk of [1, 2, 3, 7, 64]) t.equal(strip(run(parts, 'tcp', chunk)), strip(whole), `pieces of ${chunk}`);
});

t.test('Content-Length: missing on TCP, invalid, longer than the datagram', async (t) => {
  const noLen = request(msg({ noLength: true, body: undefined, contentType: undefined }));
  let r = run([[0, noLen]], 'tcp');
  t.match(r.anomalies, [{ code: 'sip_content_length_missing' }]);
  const bad = Buffer.from(request(msg()).toString('latin1').replace('Content-Length: 5', 'Content-Length: five'), 'latin1');
  r = run([[0, bad]], 'udp');
  t.match(r.anomalies, [{ code: 'sip_bad_content_length' }]);
  t.equal(r.messages[0]!.body, 'hello', 'UDP: the rest of the datagram');
  const long = Buffer.from(request(msg()).toString('latin1').replace('Content-Length: 5', 'Content-Length: 50'), 'latin1');
  r = run([[0, long]], 'udp');
  t.match(r.anomalies, [{ code: 'sip_body_truncated' }]);
  t.equal(r.messages[0]!.body, 'hello');
  const short = Buffer.from(request(msg()).toString('latin1').replace('Content-Length: 5', 'Content-Length: 3'), 'latin1');
  t.equal(run([[0, short]], 'udp').messages[0]!.body, 'hel', 'UDP: cut at Content-Length');
});

t.test('limits: a body over maxBodyBytes is cut and skipped, the next message is read', async (t) => {
  const big = msg({ body: 'x'.repeat(100) });
  const next = msg({ cseq: 2, body: 'after' });
  const parts: Part[] = [[0, Buffer.concat([request(big), request(next)])]];
  const r = run(parts, 'tcp', Infinity, { maxBodyBytes: 10 });
  t.same(r.messages.map((m) => m.body), ['x'.repeat(10), 'after']);
  t.match(r.anomalies, [{ code: 'sip_body_too_large' }]);
  t.equal(strip(run(parts, 'tcp', 1, { maxBodyBytes: 10 })), strip(r));
  const huge = run([[0, `MESSAGE sip:x SIP/2.0\r\nSubject: ${'y'.repeat(200)}\r\n`]], 'tcp', Infinity, { maxHeaderBytes: 100 });
  t.match(huge.anomalies, [{ code: 'sip_header_too_large' }]);
  const via = Array.from({ length: 3 }, (_, i) => `Via: SIP/2.0/UDP h${i}, SIP/2.0/UDP g${i}`).join('\r\n');
  const many = run([[0, `OPTIONS sip:x SIP/2.0\r\n${via}\r\nContent-Length: 0\r\n\r\n`]], 'udp', Infinity, { maxViaEntries: 5 });
  t.match(many.anomalies, [{ code: 'sip_path_too_long', detail: /6 Via entries exceeds 5/ }]);
});

t.test('junk and invalid messages', async (t) => {
  const m = request(msg());
  let r = run([[0, Buffer.concat([Buffer.from('\0\0\0\0'), m])]], 'tcp');
  t.match(r.anomalies, [{ code: 'sip_junk_before_request', detail: /4 bytes: \\x00\\x00\\x00\\x00/ }]);
  t.equal(r.messages.length, 1);
  const parts: Part[] = [[0, Buffer.concat([m, Buffer.from('garbage line\r\nmore\r\n'), request(msg({ cseq: 2, body: 'two' }))])]];
  r = run(parts, 'tcp');
  t.match(r.anomalies, [{ code: 'sip_invalid_message' }]);
  t.same(r.messages.map((x) => x.body), ['hello', 'two']);
  t.equal(strip(run(parts, 'tcp', 1)), strip(r), 'the same in 1-byte pieces');
  r = run([[0, 'hello'], [0, '\r\n\r\n'], [0, Uint8Array.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, ...new Array(12).fill(0)])], [0, m]], 'udp');
  t.same(r.anomalies, [], 'a short text keep-alive, CRLF and STUN are not anomalies');
  r = run([[0, 'this is not sip at all, and longer than a keep-alive\r\n']], 'udp');
  t.match(r.anomalies, [{ code: 'sip_invalid_message' }]);
  const flood: Part[] = Array.from({ length: 25 }, () => [0, 'x'.repeat(40) + '\r\n'] as Part);
  r = run(flood, 'udp');
  t.ok(r.rejected !== null, 'more than maxInvalidMessages: given up');
  t.equal(r.anomalies.length, 21);
});

t.test('a gap: quiet resynchronisation at the next start line', async (t) => {
  const r = run([[0, request(msg()).subarray(0, 40)], [0, { gap: 100 }], [0, 'tail of something\r\n'], [0, request(msg({ cseq: 2, body: 'after gap' }))]], 'tcp');
  t.same(r.messages.map((m) => m.body), ['after gap']);
  t.same(r.anomalies, []);
});

t.test('bodies: charsets, binary types, CPIM, isComposing, IMDN, compressed', async (t) => {
  let r = run([[0, request(msg({ body: Buffer.from('caf\xe9', 'latin1') }))]]);
  t.match(r.messages[0], { body: 'café' });
  t.ok(r.messages[0]!.body_raw instanceof Uint8Array, 'not UTF-8: the bytes are kept');
  r = run([[0, request(msg({ body: Buffer.from('caf\xe9', 'latin1'), contentType: 'text/plain; charset="iso-8859-1"' }))]]);
  t.match(r.messages[0], { body: 'café', body_raw: null });
  r = run([[0, request(msg({ body: Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), contentType: 'image/png' }))]]);
  t.match(r.messages[0], { body: null, body_format: 'image/png' });
  t.equal(r.messages[0]!.body_raw!.length, 7);
  r = run([[0, request(msg({ body: '<b>hi</b>', contentType: 'text/html' }))]]);
  t.match(r.messages[0], { body_format: 'html', body: '<b>hi</b>' });
  r = run([[0, request(msg({ body: 'no blank line here', contentType: 'message/cpim' }))]]);
  t.match(r.anomalies, [{ code: 'sip_cpim_malformed' }]);
  t.match(r.messages[0], { body: 'no blank line here', body_format: 'message/cpim' });
  r = run([[0, request(msg({ body: '<imdn xmlns="urn:ietf:params:xml:ns:imdn"><message-id>34jk324j</message-id><delivery-notification><status><delivered/></status></delivery-notification></imdn>', contentType: 'message/imdn+xml' }))]]);
  t.match(r.events, [{ event: 'receipt', detail: 'delivered message-id 34jk324j' }]);
  t.same(r.messages, []);
  r = run([[0, request(msg({ extra: [['Content-Encoding', 'gzip']], body: Uint8Array.from([0x1f, 0x8b, 8, 0]) }))]]);
  t.match(r.messages[0], { body: null, body_format: 'text/plain' });
});

t.test('REGISTER: account, digest login without its secret, refusal, unregister', async (t) => {
  const reg: Req = { method: 'REGISTER', uri: 'sip:registrar.example.com', from: `<${ALICE}>`, to: `"Alice" <${ALICE}>`, callId: 'r1', cseq: 1, extra: [['Authorization', 'Digest username="alice7", realm="x", nonce="n", uri="sip:x", response="deadbeefdeadbeefdeadbeefdeadbeef"'], ['Expires', '0']] };
  const r = run([[0, request(reg)], [1, response(reg, 403, 'Forbidden')]]);
  t.match(r.accounts, [{ account: ALICE, display_name: 'Alice', login: 'alice7', auth: 'digest', server: 'registrar.example.com', side: 0 }]);
  t.same(r.events.map((e) => e.event), ['unregister', 'login_refused']);
  t.notOk(JSON.stringify(r).includes('deadbeef'));
  t.equal(r.kind, 'control');
});

t.test('INVITE: a call; with MSRP SDP: chat, and the MSRP connection expected with the parties', async (t) => {
  const inv: Req = { method: 'INVITE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 'call-1', cseq: 1, body: 'v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n', contentType: 'application/sdp' };
  let r = run([[0, request(inv)], [1, response(inv, 200, 'OK')], [0, request({ ...inv, method: 'BYE', cseq: 2, body: undefined, contentType: undefined })]]);
  t.equal(r.kind, 'call');
  t.same(r.events.map((e) => e.event), ['invite', 'bye']);
  t.match(r.events[0], { detail: 'call-id call-1, media audio' });
  // The MSRP fixture's SIP conversation: offer in the INVITE, answer in the 200.
  const conv = msrpSession()[0]!;
  r = run(conv.parts as Part[]);
  t.equal(r.kind, 'chat');
  t.same(r.expects.map((e) => [e.host, e.port, e.analyzer, e.transport]), [['192.0.2.10', 12763, 'msrp', 'tcp'], ['198.51.100.20', 7394, 'msrp', 'tcp']]);
  t.same((r.expects[0]!.context as { parties: unknown }).parties, [{ sessionId: 'kjhd37s2s20w2a', who: ALICE }, { sessionId: '9di4eae923wzd', who: BOB }]);
  t.equal(r.expects[0]!.context, r.expects[1]!.context, 'one shared context');
  const tls = run([[0, request({ ...inv, body: 'v=0\r\nc=IN IP4 192.0.2.1\r\nm=message 7 TCP/TLS/MSRP *\r\na=path:msrps://192.0.2.1:7/abcd;tcp\r\n' })]]);
  t.same(tls.expects, [], 'MSRP over TLS: nothing readable to expect');
  const named = run([[0, request({ ...inv, body: 'v=0\r\nc=IN IP4 192.0.2.7\r\nm=message 7 TCP/MSRP *\r\na=path:msrp://alice.example.com:7/abcd;tcp\r\n' })]]);
  t.same(named.expects.map((e) => e.host), ['192.0.2.7'], 'a host name in the path: the SDP connection address');
  const many = run([[0, request({ ...inv, body: 'v=0\r\nc=IN IP4 192.0.2.7\r\n' + 'm=message 7 TCP/MSRP *\r\na=path:msrp://192.0.2.7:7/abcd;tcp\r\n'.repeat(3) })]], 'udp', Infinity, { maxMsrpExpects: 2 });
  t.equal(many.expects.length, 2);
  t.match(many.anomalies, [{ code: 'sip_msrp_expects_exceeded' }]);
});

t.test('presence: SUBSCRIBE, NOTIFY with PIDF', async (t) => {
  const sub: Req = { method: 'SUBSCRIBE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 's1', cseq: 1, extra: [['Event', 'presence']] };
  const pidf = '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="pres:bob@biloxi.example.com"><tuple id="t1"><status><basic>open</basic></status><note>At lunch</note></tuple></presence>';
  const notify: Req = { method: 'NOTIFY', uri: ALICE, from: `<${BOB}>`, to: `<${ALICE}>`, callId: 's1', cseq: 2, extra: [['Event', 'presence']], body: pidf, contentType: 'application/pidf+xml' };
  const r = run([[0, request(sub)], [1, response(sub, 202, 'Accepted')], [1, request(notify)], [0, response(notify, 200, 'OK')]]);
  t.equal(r.kind, 'presence');
  t.match(r.events, [{ event: 'subscribe', detail: 'presence' }, { event: 'presence', account: 'pres:bob@biloxi.example.com', detail: 'open "At lunch"', dir: 1 }]);
});

t.test('through the descriptor: a one-sided flow is never confirmed by the session', async (t) => {
  const { session, rec } = startSession(sip, { transport: 'udp' });
  feed(session, [[0, request(msg())]]);
  t.equal(rec.confirmed, null);
  t.equal(rec.messages.length, 1);
});
