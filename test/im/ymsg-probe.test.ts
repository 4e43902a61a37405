// The YMSG probe: Yes on both directions of YMSG (from the start, and mid-stream once a magic shows), No on other
// protocols (HTTP, TLS, SSH, IRC, XMPP, Gadu-Gadu, binary junk), Need on a cut magic.
import t from 'tap';
import { Probe } from '../../src/decoders/im/types.js';
import { probeYmsg } from '../../src/decoders/im/ymsg/detect.js';
import { chatParts, failedParts, S, ymsgPacket } from './builders/ymsg.js';

const p = (b: Uint8Array | string, dir: 0 | 1 = 0, mid = false) => {
  const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  return probeYmsg(buf, 0, buf.length, dir, mid);
};

t.test('both directions of YMSG', async (t) => {
  for (const parts of [chatParts(), failedParts()]) {
    const first0 = parts.find(([d]) => d === 0)![1];
    const first1 = parts.find(([d]) => d === 1)![1];
    t.equal(p(first0, 0), Probe.Yes);
    t.equal(p(first1, 1), Probe.Yes);
    t.equal(p(first0.subarray(0, 6), 0), Probe.Yes, 'magic and version are enough');
  }
  t.equal(p(ymsgPacket(S.AUTH, [], { version: 9 })), Probe.Yes);
  t.equal(p('YMS'), Probe.Need);
  t.equal(p('YMSG\x00'), Probe.Need);
  // An offset into a larger buffer.
  const buf = Buffer.concat([Buffer.from('xxxx'), ymsgPacket(S.AUTH, [[1, 'a']])]);
  t.equal(probeYmsg(buf, 4, buf.length - 4, 0, false), Probe.Yes);
});

t.test('mid-stream: the magic anywhere, else wait', async (t) => {
  const pkt = ymsgPacket(S.MESSAGE, [[4, 'a'], [5, 'b'], [14, 'hi']]);
  t.equal(p(Buffer.concat([pkt.subarray(11), pkt]), 1, true), Probe.Yes);
  t.equal(p(pkt.subarray(11), 1, true), Probe.Need);
  t.equal(p(Buffer.concat([pkt.subarray(11), pkt.subarray(0, 3)]), 1, true), Probe.Need);
  t.equal(p('xxYMSG\x41\x42', 0, true), Probe.Need, 'text that says YMSG is not a header');
});

t.test('other protocols: No', async (t) => {
  const others: [string, Uint8Array | string][] = [
    ['HTTP request', 'GET /notify HTTP/1.1\r\nHost: shttp.msg.yahoo.com\r\n\r\n'],
    ['HTTP response', 'HTTP/1.1 200 OK\r\n\r\n'],
    ['TLS ClientHello', Buffer.from('160301020001000200', 'hex')],
    ['SSH', 'SSH-2.0-OpenSSH_9.2\r\n'],
    ['IRC', 'NICK alice\r\nUSER alice 0 * :A\r\n'],
    ['XMPP', "<?xml version='1.0'?><stream:stream to='example.com'>"],
    ['Gadu-Gadu welcome', Buffer.from('01000000040000001234abcd', 'hex')],
    ['MSNP', 'VER 1 MSNP8 CVR0\r\n'],
    ['OSCAR FLAP', Buffer.from('2a01000000040000000100', 'hex')],
    ['binary', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])],
    ['YMSG text', 'YMSGAB and then some text'],
    ['YHOO (the older protocol)', 'YHOO\x00\x00'],
  ];
  for (const [name, b] of others) {
    t.equal(p(b, 0), Probe.No, `${name} (client)`);
    t.equal(p(b, 1), Probe.No, `${name} (server)`);
  }
});
