// The Gadu-Gadu probe: Yes on the server's WELCOME and on the client's login packets (every version libgadu knows),
// mid-stream on two consecutive known packets; No on other protocols (HTTP, TLS, SSH, IRC, XMPP, YMSG, junk).
import t from 'tap';
import { Probe } from '../../src/decoders/im/types.js';
import { probeGadu } from '../../src/decoders/im/gadugadu/detect.js';
import { gg70Parts, gg80Parts, ggPacket, login70, login80, T, welcome } from './builders/gadugadu.js';

const p = (b: Uint8Array | string, dir: 0 | 1, mid = false) => {
  const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  return probeGadu(buf, 0, buf.length, dir, mid);
};

t.test('both directions', async (t) => {
  t.equal(p(welcome(), 1), Probe.Yes);
  t.equal(p(welcome().subarray(0, 5), 1), Probe.Need);
  t.equal(p(login80(1234567), 0), Probe.Yes);
  t.equal(p(login70(1234567), 0), Probe.Yes);
  t.equal(p(login80(1234567).subarray(0, 10), 0), Probe.Need);
  const old = ggPacket(T.LOGIN, Buffer.from([1, 2, 3, 0]), Buffer.alloc(18));
  t.equal(p(old, 0), Probe.Yes, 'GG_LOGIN (< 6.0)');
  t.equal(p(ggPacket(0x15, Buffer.from([1, 2, 3, 0]), Buffer.alloc(27)), 0), Probe.Yes, 'GG_LOGIN60');
});

t.test('implausible logins: No', async (t) => {
  t.equal(p(ggPacket(T.LOGIN80, Buffer.alloc(97)), 0), Probe.No, 'UIN 0');
  const bad = Buffer.from(login80(1234567));
  bad[8 + 6] = 9;
  t.equal(p(bad, 0), Probe.No, 'hash type 9');
  t.equal(p(ggPacket(T.LOGIN80, Buffer.alloc(10, 1)), 0), Probe.No, 'too short for a login');
  t.equal(p(ggPacket(T.LOGIN80, Buffer.alloc(2000, 1)), 0), Probe.No, 'too long for a login');
  t.equal(p(welcome(), 0), Probe.No, 'a welcome from the client');
  t.equal(p(login80(1234567), 1), Probe.No, 'a login from the server');
});

t.test('mid-stream: two known packets in a row', async (t) => {
  const s2c = Buffer.concat(gg80Parts().filter(([d]) => d === 1).slice(2, 5).map(([, b]) => b));
  t.equal(p(s2c, 1, true), Probe.Yes);
  const c2s = Buffer.concat(gg70Parts().filter(([d]) => d === 0).slice(1).map(([, b]) => b));
  t.equal(p(c2s, 0, true), Probe.Yes);
  t.equal(p(s2c.subarray(0, 12), 1, true), Probe.Need);
  t.equal(p(s2c.subarray(3), 1, true), Probe.No, 'not at a packet boundary');
});

t.test('other protocols: No', async (t) => {
  const others: [string, Uint8Array | string][] = [
    ['HTTP request', 'GET / HTTP/1.1\r\nHost: gg.example\r\n\r\n'],
    ['HTTP response', 'HTTP/1.1 200 OK\r\n\r\n'],
    ['TLS ClientHello', Buffer.from('16030102000100020003030000000000', 'hex')],
    ['SSH', 'SSH-2.0-OpenSSH_9.2\r\n'],
    ['IRC', 'NICK alice\r\nUSER alice 0 * :A\r\n'],
    ['XMPP', "<?xml version='1.0'?><stream:stream>"],
    ['YMSG', Buffer.concat([Buffer.from('YMSG'), Buffer.from('0010000000000057000000000000000031c080', 'hex')])],
    ['OSCAR FLAP', Buffer.from('2a01000000040000000100', 'hex')],
    ['zeros', Buffer.alloc(64)],
    ['binary', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])],
  ];
  for (const [name, b] of others) {
    t.equal(p(b, 0), Probe.No, `${name} (client)`);
    t.equal(p(b, 1), Probe.No, `${name} (server)`);
  }
});
