// OSCAR/TOC and OFT2 probes: both directions of OSCAR, TOC and OFT say Yes (or Need while short); other protocols No.
import t from 'tap';
import { probeOft, probeOscar } from '../../src/decoders/im/oscar/detect.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { flap, oftHeader, Oscar, snac, Toc, u32b } from './builders/oscar.js';

const p = (b: Uint8Array | string, dir: Dir = 0, mid = false) => {
  const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  return probeOscar(buf, 0, buf.length, dir, mid);
};

t.test('OSCAR and TOC start: Yes on both directions, Need while short', async (t) => {
  const bos = new Oscar().bosLogin('alice').parts;
  t.equal(p(bos[1]![1], 0), Probe.Yes, 'client sign-on with cookie');
  t.equal(p(bos[0]![1], 1), Probe.Yes, 'server hello');
  const full = bos[1]![1];
  for (let n = 0; n < 10; n++) t.equal(p(full.subarray(0, n)), Probe.Need, `${n} bytes`);
  const toc = new Toc().signon('u').parts;
  t.equal(p(toc[0]![1], 0), Probe.Yes, 'FLAPON');
  t.equal(p('FLAPO'), Probe.Need);
  t.equal(p(toc[1]![1], 1), Probe.Yes, 'TOC server sign-on');
});

t.test('mid-stream: two chained frames with consecutive sequence numbers', async (t) => {
  const a = flap(2, 41, snac(4, 6, Buffer.alloc(20)));
  const b = flap(2, 42, snac(4, 6, Buffer.alloc(5)));
  t.equal(p(Buffer.concat([a, b]), 1, true), Probe.Yes);
  t.equal(p(a, 1, true), Probe.Need, 'one frame: wait for the next');
  t.equal(p(Buffer.concat([a, flap(2, 50, Buffer.alloc(3))]), 1, true), Probe.No, 'sequence jump');
  t.equal(p(Buffer.concat([a, b]), 1, false), Probe.No, 'from the start, the first frame must be a sign-on');
});

t.test('other protocols: No', async (t) => {
  const others: [string, Uint8Array | string][] = [
    ['HTTP', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['HTTP response', 'HTTP/1.1 200 OK\r\n'],
    ['TLS', Buffer.from('160301020001', 'hex')],
    ['SSH', 'SSH-2.0-OpenSSH_9.0\r\n'],
    ['IRC', 'NICK alice\r\nUSER a 0 * :A\r\n'],
    ['XMPP', "<?xml version='1.0'?><stream:stream to='x'>"],
    ['MSNP', 'VER 1 MSNP8 CVR0\r\n'],
    ['YMSG', Buffer.concat([Buffer.from('YMSG'), Buffer.alloc(16)])],
    ['FTP', 'FLAPJACK 220\r\n'],
    ['OFT', oftHeader(0x0101, { cookie: 'c', name: 'x', size: 1 })],
    ['junk', Buffer.from([0x2a, 0x09, 0, 1, 0, 4, 0, 0, 0, 1])],
    ['zeros', Buffer.alloc(32)],
    ['FLAP channel 1, wrong version', flap(1, 1, u32b(2))],
  ];
  for (const [name, b] of others) {
    t.equal(p(b, 0), Probe.No, `${name} client`);
    t.equal(p(b, 1), Probe.No, `${name} server`);
  }
  t.equal(p(flap(1, 1, Buffer.from([0, 0]))), Probe.No, 'sign-on shorter than the version');
});

t.test('OFT2 probe', async (t) => {
  const h = oftHeader(0x0101, { cookie: 'c', name: 'x', size: 1 });
  const po = (b: Uint8Array) => probeOft(b, 0, b.length, 0, false);
  t.equal(po(h), Probe.Yes);
  t.equal(po(oftHeader(0x0202, { cookie: 'c', name: 'x', size: 1 })), Probe.Yes);
  t.equal(po(h.subarray(0, 5)), Probe.Need);
  t.equal(po(Buffer.from('OFT3xxxxxxxx')), Probe.No);
  t.equal(po(Buffer.from('GET / HTTP/1.1\r\n')), Probe.No);
  const bad = Buffer.from(h);
  bad.writeUInt16BE(0x0999, 6);
  t.equal(po(bad), Probe.No, 'unknown type');
});
