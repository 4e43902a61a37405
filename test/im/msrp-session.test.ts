/** The MSRP session driven directly: chunked messages, files (carved byte-identical), aborts, parties, limits, gaps. */
import crypto from 'node:crypto';
import t from 'tap';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import { createMsrpSession } from '../../src/decoders/im/msrp/session.js';
import type { MsrpContext } from '../../src/decoders/im/msrp/context.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { ALICE_PATH, BOB_PATH, BOB_TEXT, CHUNK_1, CHUNK_2, FILE_NAME, fileBytes, frame, msrpSession, ok } from './builders/msrp.js';
import { ALICE, BOB } from './builders/sip.js';

type Part = [Dir, Uint8Array | string | { gap: number }];
const a2b = { toPath: BOB_PATH, fromPath: ALICE_PATH };
const b2a = { toPath: ALICE_PATH, fromPath: BOB_PATH };
const context = (): MsrpContext => ({ parties: [{ sessionId: 'kjhd37s2s20w2a', who: ALICE }, { sessionId: '9di4eae923wzd', who: BOB }], file: null, callId: 'c' });

function run(parts: Part[], chunk = Infinity, expected: unknown = context(), limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ expected, serverPort: 7394 });
  feed(createMsrpSession(ctx, limits), parts, chunk);
  return rec;
}
const strip = (r: Recorded) => JSON.stringify({ ...r, files: [...r.files.entries()] }, (k, v: unknown) => (k === 'ts' ? undefined : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
const send = (tid: string, id: string, body: string | Uint8Array, range: string, flag = '$', type = 'text/plain', extra: [string, string][] = []) =>
  frame({ tid, what: 'SEND', ...a2b, headers: [['Message-ID', id], ['Byte-Range', range], ...extra, ['Content-Type', type]], body, flag });

t.test('the fixture session: chunks, CPIM, a file with decoys, a REPORT; any segmentation', async (t) => {
  const parts = msrpSession(true)[1]!.parts as Part[];
  const whole = run(parts);
  t.same(whole.messages.map((m) => [m.sender, m.recipient, m.body, m.kind, m.dir]), [
    [ALICE, BOB, CHUNK_1 + CHUNK_2, 'session', 0],
    ['im:bob@biloxi.example.com', 'im:alice@atlanta.example.com', BOB_TEXT, 'session', 1],
  ]);
  const want = fileBytes(true);
  t.match(whole.transfers, [{ filename: FILE_NAME, size: want.length, bytes_seen: want.length, complete: true, method: 'msrp', sender: ALICE, recipient: BOB }]);
  t.ok(whole.files.get(FILE_NAME)!.equals(want), 'carved byte-identical, decoys included');
  t.equal(whole.transfers[0]!.sha256, crypto.createHash('sha256').update(want).digest('hex'));
  t.match(whole.events, [{ event: 'report', account: BOB, target: ALICE, detail: /status 000 200 OK/ }]);
  t.equal(whole.confirmed, 1);
  t.same(whole.anomalies, []);
  for (const chunk of [1, 2, 5, 13, 100]) t.equal(strip(run(parts, chunk)), strip(whole), `pieces of ${chunk}`);
});

t.test('without context: the MSRP URIs are the parties', async (t) => {
  const r = run([[0, send('t1abcd', 'm1', 'hi', '1-2/2')]], Infinity, null);
  t.match(r.messages, [{ sender: 'msrp://192.0.2.10:12763/kjhd37s2s20w2a', recipient: 'msrp://198.51.100.20:7394/9di4eae923wzd', body: 'hi' }]);
});

t.test('chunks out of order, unknown totals, isComposing, empty SEND', async (t) => {
  const r = run([
    [0, frame({ tid: 'e0000001', what: 'SEND', ...a2b, headers: [['Message-ID', 'e'], ['Byte-Range', '1-0/0']] })],
    [0, send('t2abcd', 'm2', 'world', '7-11/11', '+')],
    [0, send('t3abcd', 'm2', 'hello ', '1-6/*', '$')],
    [0, send('t4abcd', 'm3', '<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>idle</state></isComposing>', '1-*/*', '$', 'application/im-iscomposing+xml')],
  ]);
  t.same(r.messages.map((m) => m.body), ['hello world']);
  t.match(r.events, [{ event: 'typing', detail: 'state idle', account: ALICE }]);
});

t.test('aborted messages and files, failures', async (t) => {
  const r = run([
    [0, send('t5abcd', 'm5', 'part', '1-4/10', '#')],
    [0, send('t6abcd', 'f6', Uint8Array.from([1, 2, 3]), '1-3/10', '+', 'application/octet-stream')],
    [0, send('t7abcd', 'f6', Uint8Array.from([4]), '4-4/10', '#', 'application/octet-stream')],
    [0, send('t8abcd', 'm8', 'x', '1-1/1')],
    [1, frame({ tid: 't8abcd', what: '481 Session does not exist', toPath: ALICE_PATH, fromPath: BOB_PATH })],
  ]);
  t.same(r.events.map((e) => e.event), ['aborted', 'aborted', 'failure']);
  t.match(r.transfers, [{ bytes_seen: 4, complete: false, size: 10, filename: null }]);
  t.same(r.messages.map((m) => m.body), ['x'], 'a message answered 481 was still sent: recorded as seen');
});

t.test('file name and size from the SDP file-selector', async (t) => {
  const c = context();
  c.file = { name: 'photo.jpg', type: 'image/jpeg', size: 4 };
  const r = run([[0, send('t9abcd', 'f9', Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]), '1-4/*', '$', 'image/jpeg')]], Infinity, c);
  t.match(r.transfers, [{ filename: 'photo.jpg', size: 4, complete: true }]);
  t.equal(r.kind, 'file');
});

t.test('limits', async (t) => {
  let r = run([[0, send('ta0001', 'big', 'x'.repeat(50), '1-50/50')]], Infinity, context(), { maxMessageBytes: 10 });
  t.same(r.messages.map((m) => m.body), ['x'.repeat(10)]);
  t.match(r.anomalies, [{ code: 'msrp_message_too_large' }]);
  r = run([1, 2, 3].map((i) => [0, send(`tb000${i}`, 'many', 'ab', `${2 * i - 1}-${2 * i}/6`, i === 3 ? '$' : '+')] as Part), Infinity, context(), { maxChunks: 2 });
  t.match(r.anomalies, [{ code: 'msrp_chunks_exceeded' }]);
  t.same(r.messages, []);
  r = run([1, 2, 3].map((i) => [0, send(`tc000${i}`, `p${i}`, 'ab', '1-2/4', '+')] as Part), Infinity, context(), { maxPendingMessages: 2 });
  t.match(r.anomalies, [{ code: 'msrp_pending_exceeded', detail: /p1 given up/ }]);
  t.equal(r.anomalies.filter((a) => a.code === 'msrp_message_incomplete').length, 2, 'the others never finished');
});

t.test('invalid input', async (t) => {
  let r = run([[0, 'GET / HTTP/1.1\r\n\r\n']]);
  t.match(r.rejected, /not MSRP/);
  r = run([[0, send('td0001', 'm', 'ok', '1-2/2')], [0, 'garbage\r\n'], [0, send('td0002', 'n', 'next', 'x-y/z')], [0, send('td0003', 'o', 'fine', '1-4/4')]]);
  t.same(r.messages.map((m) => m.body), ['ok', 'fine']);
  t.same(r.anomalies.map((a) => a.code), ['msrp_invalid_frame', 'msrp_byte_range_invalid']);
  r = run([[0, send('te0001', 'f', Uint8Array.from([1, 2, 3, 4]), '1-4/8', '+', 'application/octet-stream')], [0, send('te0002', 'f', Uint8Array.from([3, 4, 5, 6, 7, 8]), '3-8/8', '$', 'application/octet-stream')]]);
  t.match(r.anomalies, [{ code: 'msrp_byte_range_invalid' }]);
  t.same([...r.files.values()][0], Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 'overlap used once');
});

t.test('a gap: the message in progress is lost, the next frame is read', async (t) => {
  const first = send('tf0001', 'g', 'abcdef', '1-6/12', '+');
  const r = run([[0, first.subarray(0, first.length - 20)], [0, { gap: 20 }], [0, send('tf0002', 'g', 'ghijkl', '7-12/12')], [0, send('tf0003', 'h', 'later', '1-5/5')]]);
  t.same(r.messages.map((m) => m.body), ['later']);
  t.match(r.anomalies, [{ code: 'msrp_message_incomplete' }]);
  const file = send('tg0001', 'F', Buffer.alloc(100, 7), '1-100/200', '+', 'application/octet-stream');
  const r2 = run([[0, file.subarray(0, 60)], [0, { gap: file.length - 60 }], [0, send('tg0002', 'F', Buffer.alloc(100, 8), '101-200/200', '$', 'application/octet-stream')]]);
  t.match(r2.transfers, [{ complete: false, size: 200 }]);
});
