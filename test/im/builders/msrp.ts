/**
 * Byte-exact MSRP streams (RFC 4975 §7.1 frame structure: start line, To-Path, From-Path, Message-ID, Byte-Range,
 * Content-Type, blank line, body, end-line `-------<transaction-id>` with `$`, `+` or `#`; responses carry To-Path and
 * From-Path only) and the SIP INVITE/200/ACK that sets the session up with SDP `m=message … TCP/MSRP` and `a=path:`
 * (RFC 4975 §8.1; the offerer connects to the answerer's path, §5.4). Parties, addresses and texts are made up.
 */
import type { Conversation } from '../../helpers/conversation-pcap.js';
import { ALICE, ALICE_IP, BOB, BOB_IP, request, response, type Req } from './sip.js';

export const ALICE_PATH = `msrp://${ALICE_IP}:12763/kjhd37s2s20w2a;tcp`;
export const BOB_PORT = 7394;
export const BOB_PATH = `msrp://${BOB_IP}:${BOB_PORT}/9di4eae923wzd;tcp`;

export interface Frame {
  tid: string;
  /** SEND, REPORT; or a status like `200 OK` for responses. */
  what: string;
  toPath: string;
  fromPath: string;
  headers?: [string, string][];
  body?: Uint8Array | string;
  /** `$` (default), `+` or `#`. */
  flag?: string;
}

export function frame(f: Frame): Buffer {
  const lines = [`MSRP ${f.tid} ${f.what}`, `To-Path: ${f.toPath}`, `From-Path: ${f.fromPath}`, ...(f.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
  const end = `-------${f.tid}${f.flag ?? '$'}\r\n`;
  if (f.body === undefined) return Buffer.from(`${lines.join('\r\n')}\r\n${end}`, 'utf8');
  const body = typeof f.body === 'string' ? Buffer.from(f.body, 'utf8') : Buffer.from(f.body);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body, Buffer.from(`\r\n${end}`, 'utf8')]);
}

/** The 200 OK to a request from `fromPath` to `toPath` (RFC 4975 §7.2: the paths swap). */
export function ok(tid: string, req: { toPath: string; fromPath: string }): Buffer {
  return frame({ tid, what: '200 OK', toPath: req.fromPath, fromPath: req.toPath });
}

function sdp(ip: string, port: number, path: string): string {
  return ['v=0', `o=- 2890844526 2890844527 IN IP4 ${ip}`, 's=-', `c=IN IP4 ${ip}`, 't=0 0', `m=message ${port} TCP/MSRP *`, 'a=accept-types:text/plain message/cpim image/png', `a=path:${path}`, ''].join('\r\n');
}

export const CHUNK_1 = 'First part of a long message, sent in two chunks; ';
export const CHUNK_2 = 'this is the second part, ending it.';
export const BOB_TEXT = 'Got it, thanks!';
export const FILE_NAME = 'dot.bin';

/**
 * 2000 made-up bytes; with `decoys`, CR LF and dashes that look like the start of an end-line are written in (imtap's
 * end-line search must not be fooled; tshark's MSRP dissector is: it ends the body at the first `-------` line, so
 * the capture checked against tshark has no decoys, and the session tests use them).
 */
export function fileBytes(decoys = false): Buffer {
  const b = Buffer.alloc(2000);
  let x = 12345;
  for (let i = 0; i < b.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  if (decoys) {
    b.write('\r\n-------', 100, 'latin1'); // the start of an end-line, with another transaction id after it
    b.write('\r\n-------f1le0001', 900, 'latin1'); // the right id without its flag
    b.write('\r\n-------f1le0001!\r\n', 1500, 'latin1'); // the right id with a byte that is not a flag
  }
  return b;
}

/** INVITE (MSRP offer), 200 OK (answer), ACK over UDP; then Alice's MSRP connection to Bob's path. */
export function msrpSession(decoys = false): Conversation[] {
  const invite: Req = {
    method: 'INVITE', uri: BOB, from: `"Alice" <${ALICE}>`, to: `<${BOB}>`, callId: 'msrp-chat-1@atlanta', cseq: 1,
    extra: [['Contact', `<sip:alice@${ALICE_IP}>`]], body: sdp(ALICE_IP, 12763, ALICE_PATH), contentType: 'application/sdp',
  };
  const ack: Req = { ...invite, method: 'ACK', body: undefined, contentType: undefined, extra: [] };
  const sip: Conversation = {
    client: ALICE_IP, server: BOB_IP, cport: 5060, sport: 5060, transport: 'udp',
    parts: [[0, request(invite)], [1, response(invite, 180, 'Ringing')], [1, response(invite, 200, 'OK', [['Contact', `<sip:bob@${BOB_IP}>`]], sdp(BOB_IP, BOB_PORT, BOB_PATH), 'application/sdp')], [0, request(ack)]],
  };
  const a2b = { toPath: BOB_PATH, fromPath: ALICE_PATH };
  const b2a = { toPath: ALICE_PATH, fromPath: BOB_PATH };
  const total = Buffer.byteLength(CHUNK_1) + Buffer.byteLength(CHUNK_2);
  const c1 = Buffer.byteLength(CHUNK_1);
  const file = fileBytes(decoys);
  const cpim = ['From: <im:bob@biloxi.example.com>', 'To: <im:alice@atlanta.example.com>', 'DateTime: 2024-03-01T12:01:00Z', '', 'Content-Type: text/plain', '', BOB_TEXT].join('\r\n');
  const msrp: Conversation = {
    client: ALICE_IP, server: BOB_IP, cport: 50123, sport: BOB_PORT,
    parts: [
      [0, frame({ tid: 'd93kswow', what: 'SEND', ...a2b, headers: [['Message-ID', '12339sdqwer'], ['Byte-Range', '1-0/0']] })],
      [1, ok('d93kswow', a2b)],
      [0, frame({ tid: 'a786hjs2', what: 'SEND', ...a2b, headers: [['Message-ID', '87652491'], ['Byte-Range', `1-${c1}/${total}`], ['Content-Type', 'text/plain']], body: CHUNK_1, flag: '+' })],
      [1, ok('a786hjs2', a2b)],
      [0, frame({ tid: 'a786hjs3', what: 'SEND', ...a2b, headers: [['Message-ID', '87652491'], ['Byte-Range', `${c1 + 1}-${total}/${total}`], ['Content-Type', 'text/plain']], body: CHUNK_2 })],
      [1, ok('a786hjs3', a2b)],
      [1, frame({ tid: 'bb77x1q0', what: 'SEND', ...b2a, headers: [['Message-ID', 'b2a-0001'], ['Byte-Range', `1-${Buffer.byteLength(cpim)}/${Buffer.byteLength(cpim)}`], ['Content-Type', 'message/cpim']], body: cpim })],
      [0, ok('bb77x1q0', b2a)],
      [0, frame({ tid: 'f1le0001', what: 'SEND', ...a2b, headers: [['Message-ID', 'file-0001'], ['Byte-Range', `1-${file.length}/${file.length}`], ['Content-Disposition', `attachment; filename="${FILE_NAME}"`], ['Content-Type', 'image/png']], body: file })],
      [1, ok('f1le0001', a2b)],
      [1, frame({ tid: 'rpt00001', what: 'REPORT', ...b2a, headers: [['Message-ID', 'file-0001'], ['Byte-Range', `1-${file.length}/${file.length}`], ['Status', '000 200 OK']] })],
    ],
  };
  return [sip, msrp];
}
