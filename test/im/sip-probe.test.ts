/** The SIP and MSRP probes: both directions of their protocols say Yes (or Need), every other protocol No. */
import t from 'tap';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { probeSip } from '../../src/decoders/im/sip/detect.js';
import { probeMsrp } from '../../src/decoders/im/msrp/detect.js';

const b = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
const sipP = (s: string | Uint8Array, dir: Dir = 0, mid = false) => probeSip(b(s), 0, b(s).length, dir, mid);
const msrpP = (s: string | Uint8Array, dir: Dir = 0) => probeMsrp(b(s), 0, b(s).length, dir, false);

t.test('SIP: requests and responses, both directions', async (t) => {
  t.equal(sipP('MESSAGE sip:bob@biloxi.example.com SIP/2.0\r\nVia: x\r\n'), Probe.Yes);
  t.equal(sipP('SIP/2.0 200 OK\r\n', 1), Probe.Yes);
  t.equal(sipP('sip/2.0 180 Ringing\n', 1), Probe.Yes, 'SIP-Version is case-insensitive; bare LF');
  t.equal(sipP('REGISTER sip:1.1.1.1:5060 SIP/2.0\r\n'), Probe.Yes);
  t.equal(sipP('OPTIONS sip:x SIP/2.0'), Probe.Need, 'no line end yet');
  t.equal(sipP('INV'), Probe.Need);
  t.equal(sipP('\r\n\r\n'), Probe.Need, 'keep-alive only');
  t.equal(sipP('\0\0\0\0\0\0\0\0REGISTER sip:1.1.1.1:5060 SIP/2.0\r\n'), Probe.Yes, 'zero bytes before the request (Zeek: junk)');
  t.equal(sipP('SIP/2.0 200'), Probe.Need);
});

t.test('SIP: other protocols say No', async (t) => {
  for (const [what, s] of [
    ['HTTP request', 'GET / HTTP/1.1\r\nHost: x\r\n'],
    ['HTTP on the SIP port', 'GET /star-123456/index.m3u8?token=x HTTP/1.1\r\n'],
    ['HTTP response', 'HTTP/1.1 403 Forbidden\r\n'],
    ['RTSP', 'OPTIONS rtsp://x/ RTSP/1.0\r\n'],
    ['IRC', 'NICK alice\r\nUSER a 0 * :A\r\n'],
    ['XMPP', "<?xml version='1.0'?><stream:stream to='x'>"],
    ['SSH', 'SSH-2.0-OpenSSH_9.6\r\n'],
    ['SMTP', '220 mail.example.com ESMTP\r\n'],
    ['MSRP', 'MSRP a786hjs2 SEND\r\n'],
    ['a request line of another version', 'INVITE sip:x SIP/3.0\r\n'],
  ] as const) t.equal(sipP(s), Probe.No, what);
  t.equal(sipP(Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])), Probe.No, 'TLS');
  t.equal(sipP(Uint8Array.from([0x80, 0x00, 0x12, 0x34, 0xde, 0xad])), Probe.No, 'RTP-like binary');
  t.equal(sipP('x'.repeat(3000)), Probe.No, 'a line longer than any start line');
  t.equal(sipP('\0'.repeat(100)), Probe.No, 'only zero bytes, past the junk allowance');
});

t.test('SIP mid-stream: the first start line among the first lines', async (t) => {
  t.equal(sipP('ntent-Length: 0\r\n\r\nSIP/2.0 200 OK\r\n', 1, true), Probe.Yes);
  t.equal(sipP('ntent-Length: 0\r\n\r\n', 1, true), Probe.Need);
});

t.test('MSRP: requests and responses', async (t) => {
  t.equal(msrpP('MSRP a786hjs2 SEND\r\nTo-Path: msrp://x:1/a;tcp\r\n'), Probe.Yes);
  t.equal(msrpP('MSRP a786hjs2 200 OK\r\n', 1), Probe.Yes);
  t.equal(msrpP('MSRP d93kswow 481 No session\n', 1), Probe.Yes);
  t.equal(msrpP('MSR'), Probe.Need);
  t.equal(msrpP('MSRP a786hjs2 SE'), Probe.Need);
  for (const [what, s] of [
    ['SIP', 'MESSAGE sip:b@x SIP/2.0\r\n'],
    ['HTTP', 'GET / HTTP/1.1\r\n'],
    ['a transaction id too short', 'MSRP ab SEND\r\n'],
    ['no method', 'MSRP a786hjs2\r\n'],
    ['IRC', 'NICK msrp\r\n'],
  ] as const) t.equal(msrpP(s), Probe.No, what);
  t.equal(msrpP(`MSRP ${'a'.repeat(300)}`), Probe.No, 'a start line too long');
});
