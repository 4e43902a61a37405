/**
 * Byte-exact SIP streams for the fixtures no public capture has: MESSAGE page mode (RFC 3428 §4 and §10 give the
 * request/response structure), CPIM-wrapped bodies (RFC 3862 §3: CPIM headers, blank line, MIME headers, blank line,
 * content), isComposing (RFC 3994 §3 XML), REGISTER with a digest challenge (RFC 3261 §10, §22.4, RFC 2617 field
 * names), and an INVITE whose SDP offers MSRP media (RFC 4975 §8.1 `m=message … TCP/MSRP`, `a=path:`; RFC 5547
 * `a=file-selector`). Parties, addresses and texts are made up for the tests (documentation ranges, example.com).
 */
import type { Conversation } from '../../helpers/conversation-pcap.js';

export const ALICE = 'sip:alice@atlanta.example.com';
export const BOB = 'sip:bob@biloxi.example.com';
export const ALICE_IP = '192.0.2.10';
export const PROXY_IP = '198.51.100.5';
export const BOB_IP = '198.51.100.20';

export interface Req {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  via?: string;
  /** Extra headers, in order, after the standard ones. */
  extra?: [string, string][];
  body?: Uint8Array | string;
  contentType?: string;
  /** Use the compact header forms (RFC 3261 §7.3.3: v, f, t, i, c, l). */
  compact?: boolean;
  /** Leave Content-Length out (legal on UDP only). */
  noLength?: boolean;
}

const bytes = (b: Uint8Array | string | undefined): Buffer => (b === undefined ? Buffer.alloc(0) : typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b));

function assemble(start: string, headers: [string, string][], body: Buffer, contentType: string | undefined, compact: boolean, noLength: boolean): Buffer {
  const lines = [start, ...headers.map(([n, v]) => `${n}: ${v}`)];
  if (contentType !== undefined) lines.push(`${compact ? 'c' : 'Content-Type'}: ${contentType}`);
  if (!noLength) lines.push(`${compact ? 'l' : 'Content-Length'}: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

function common(r: Req, toTag: string | null): [string, string][] {
  const c = r.compact === true;
  return [
    [c ? 'v' : 'Via', r.via ?? `SIP/2.0/UDP ${ALICE_IP}:5060;branch=z9hG4bK${r.callId.slice(0, 6)}${r.cseq}`],
    ['Max-Forwards', '70'],
    [c ? 'f' : 'From', `${r.from};tag=49583`],
    [c ? 't' : 'To', toTag === null ? r.to : `${r.to};tag=${toTag}`],
    [c ? 'i' : 'Call-ID', r.callId],
    ['CSeq', `${r.cseq} ${r.method}`],
  ];
}

export function request(r: Req): Buffer {
  return assemble(`${r.method} ${r.uri} SIP/2.0`, [...common(r, null), ...(r.extra ?? [])], bytes(r.body), r.contentType, r.compact === true, r.noLength === true);
}

export function response(r: Req, status: number, reason: string, extra: [string, string][] = [], body?: string, contentType?: string): Buffer {
  return assemble(`SIP/2.0 ${status} ${reason}`, [...common(r, 'a6c85cf').filter(([n]) => n !== 'Max-Forwards'), ...extra], bytes(body), contentType, r.compact === true, false);
}

// ── the fixtures ──

export const TEXT_1 = 'Watson, come here. I want to see you.';
export const TEXT_LATIN1 = Buffer.from('Café à huit heures ?', 'latin1');
export const TEXT_2 = 'Two in one segment: first';
export const TEXT_3 = 'Two in one segment: second';
export const TEXT_SPLIT = 'This MESSAGE is split across two TCP segments, headers and body cut in the middle.';
export const CPIM_TEXT = 'Lunch at noon? 🍜';

/** MESSAGE over UDP: plain text (UTF-8), ISO-8859-1 text in compact form, each answered 200 OK; one retransmission. */
export function messageUdp(): Conversation[] {
  const m1: Req = { method: 'MESSAGE', uri: BOB, from: `"Alice" <${ALICE}>`, to: `<${BOB}>`, callId: 'a84b4c76e66710@atlanta', cseq: 1, body: TEXT_1, contentType: 'text/plain' };
  const m2: Req = { method: 'MESSAGE', uri: ALICE, from: `<${BOB}>`, to: `<${ALICE}>`, callId: 'b7c8d9e0f1@biloxi', cseq: 7, body: TEXT_LATIN1, contentType: 'text/plain;charset=ISO-8859-1', compact: true, via: `SIP/2.0/UDP ${PROXY_IP}:5060;branch=z9hG4bKb7c8` };
  return [
    {
      client: ALICE_IP, server: PROXY_IP, cport: 5060, sport: 5060, transport: 'udp',
      parts: [[0, request(m1)], [0, request(m1)], [1, response(m1, 200, 'OK')], [1, request(m2)], [0, response(m2, 200, 'OK')]],
    },
  ];
}

/** MESSAGE over TCP: two requests in one segment, their responses, then one request cut across two segments. */
export function messageTcp(): Conversation[] {
  const via = `SIP/2.0/TCP ${ALICE_IP}:49152;branch=z9hG4bKtcp`;
  const a: Req = { method: 'MESSAGE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 'tcp-1@atlanta', cseq: 1, body: TEXT_2, contentType: 'text/plain; charset=UTF-8', via };
  const b: Req = { ...a, cseq: 2, body: TEXT_3, via: `${via}2` };
  const c: Req = { ...a, cseq: 3, body: TEXT_SPLIT, via: `${via}3`, extra: [['Subject', 'split']] };
  const cBytes = request(c);
  const cut = cBytes.length - 30;
  return [
    {
      client: ALICE_IP, server: PROXY_IP, cport: 49152, sport: 5060,
      parts: [[0, Buffer.concat([request(a), request(b)])], [1, Buffer.concat([response(a, 200, 'OK'), response(b, 200, 'OK')])], [0, cBytes.subarray(0, cut)], [0, cBytes.subarray(cut)], [1, response(c, 202, 'Accepted')], [0, '\r\n\r\n'], [1, '\r\n']],
    },
  ];
}

export const CPIM_BODY = [
  `From: Alice <im:alice@atlanta.example.com>`,
  `To: Bob <im:bob@biloxi.example.com>`,
  `DateTime: 2024-03-01T12:00:00-05:00`,
  `Subject: lunch`,
  `NS: MyFeatures <mid:MessageFeatures@id.foo.com>`,
  `MyFeatures.VitalMessageOption: Confirmation-requested`,
  ``,
  `Content-Type: text/plain; charset=utf-8`,
  `Content-ID: <1234567890@atlanta.example.com>`,
  ``,
  CPIM_TEXT,
].join('\r\n');

export const ISCOMPOSING = [
  `<?xml version="1.0" encoding="UTF-8"?>`,
  `<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"`,
  `  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`,
  `  <state>active</state>`,
  `  <contenttype>text/plain</contenttype>`,
  `  <refresh>90</refresh>`,
  `</isComposing>`,
].join('\r\n');

/** MESSAGE over UDP with a CPIM body, and an isComposing notification, each answered. */
export function cpimUdp(): Conversation[] {
  const typing: Req = { method: 'MESSAGE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 'cpim-1@atlanta', cseq: 1, body: ISCOMPOSING, contentType: 'application/im-iscomposing+xml' };
  const cpim: Req = { ...typing, cseq: 2, body: CPIM_BODY, contentType: 'message/cpim' };
  return [{ client: ALICE_IP, server: PROXY_IP, cport: 5062, sport: 5060, transport: 'udp', parts: [[0, request(typing)], [1, response(typing, 200, 'OK')], [0, request(cpim)], [1, response(cpim, 200, 'OK')]] }];
}

export const DIGEST_RESPONSE = '6629fae49393a05397450978507c4ef1';

/** REGISTER, 401 with a digest challenge, REGISTER with Authorization, 200 OK (UDP). */
export function registerUdp(): Conversation[] {
  const r1: Req = { method: 'REGISTER', uri: 'sip:atlanta.example.com', from: `"Alice" <${ALICE}>`, to: `"Alice" <${ALICE}>`, callId: 'reg-77@192.0.2.10', cseq: 1, extra: [['Contact', `<sip:alice@${ALICE_IP}:5060>`], ['Expires', '3600']] };
  const r2: Req = {
    ...r1,
    cseq: 2,
    extra: [
      ...r1.extra!,
      ['Authorization', `Digest username="alice", realm="atlanta.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:atlanta.example.com", response="${DIGEST_RESPONSE}", algorithm=MD5`],
    ],
  };
  return [
    {
      client: ALICE_IP, server: PROXY_IP, cport: 5060, sport: 5060, transport: 'udp',
      parts: [[0, request(r1)], [1, response(r1, 401, 'Unauthorized', [['WWW-Authenticate', 'Digest realm="atlanta.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", algorithm=MD5']])], [0, request(r2)], [1, response(r2, 200, 'OK', [['Contact', `<sip:alice@${ALICE_IP}:5060>;expires=3600`]])]],
    },
  ];
}
