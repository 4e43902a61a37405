/**
 * The `rtp` analyzer driven directly: the datagram classifier against RFC 3550's header layout (fields read back by
 * tshark from the same bytes written as a pcap), and the session's verdicts — probation (RFC 3550 A.1), RTCP
 * compounds (A.2), SRTP by profile or DTLS, STUN before the media, rejection, the budget, hostile input.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { rtp as rtpProtocol } from '../../src/decoders/apps/rtp/index.js';
import { Kind, classify } from '../../src/decoders/apps/rtp/packet.js';
import { createRtpSession } from '../../src/decoders/apps/rtp/session.js';
import type { RtpContext } from '../../src/decoders/apps/rtp/context.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { recordingContext, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';

interface RtpOpts {
  pt?: number;
  cc?: number;
  ext?: number;
  pad?: number;
  payload?: number;
}

/** An RTP datagram laid out as RFC 3550 §5.1 says: CSRCs, a header extension of `ext` words, `pad` padding bytes. */
function rtp(seq: number, ssrc: number, o: RtpOpts = {}): Buffer {
  const cc = o.cc ?? 0;
  const ext = o.ext === undefined ? 0 : 4 + o.ext * 4;
  const pad = o.pad ?? 0;
  const b = Buffer.alloc(12 + cc * 4 + ext + (o.payload ?? 20) + pad, 0x55);
  b[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (o.ext !== undefined ? 0x10 : 0) | cc;
  b[1] = o.pt ?? 0;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(ssrc, 8);
  for (let i = 0; i < cc; i++) b.writeUInt32BE(0xc0000000 + i, 12 + i * 4);
  if (o.ext !== undefined) {
    b.writeUInt16BE(0xbede, 12 + cc * 4);
    b.writeUInt16BE(o.ext, 14 + cc * 4);
  }
  if (pad > 0) b[b.length - 1] = pad;
  return b;
}

/** An RTCP packet (RFC 3550 §6.4): `type`, `words` 32-bit words after the header word. */
function rtcp(type: number, words: number, count = 0): Buffer {
  const b = Buffer.alloc((words + 1) * 4, 0);
  b[0] = 0x80 | count;
  b[1] = type;
  b.writeUInt16BE(words, 2);
  if (words >= 1) b.writeUInt32BE(0xabcdef01, 4);
  return b;
}

const stun = (): Buffer => {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  return b;
};
const dtls = (): Buffer => Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0]);

const C = (b: Buffer) => classify(b, 0, b.length);

t.test('classify: RTP header layout, checked field by field against tshark on the same bytes', async (t) => {
  const cases = [rtp(1, 0x11223344), rtp(65535, 7, { pt: 96, cc: 2 }), rtp(3, 9, { pt: 8, ext: 2 }), rtp(4, 10, { pt: 127, pad: 4 }), rtp(5, 11, { pt: 34, cc: 1, ext: 0, pad: 1 })];
  for (const c of cases) t.equal(C(c), Kind.Rtp);
  const file = path.join(tempDir('rtp'), 'hdr.pcap');
  fs.writeFileSync(file, conversationPcap([{ client: '192.0.2.1', server: '192.0.2.2', cport: 40000, sport: 50000, transport: 'udp', parts: cases.map((b) => [0, b] as [0, Buffer]) }]));
  const out = execFileSync('tshark', ['-r', file, '-d', 'udp.port==50000,rtp', '-T', 'fields', '-e', 'rtp.version', '-e', 'rtp.seq', '-e', 'rtp.ssrc', '-e', 'rtp.p_type', '-e', 'rtp.cc', '-e', 'rtp.padding', '-e', 'rtp.ext', '-e', '_ws.expert'], { encoding: 'utf8' });
  const rows = out.trim().split('\n').map((l) => l.split('\t'));
  t.same(rows.map((r) => [r[0], r[1], Number(r[2]), r[3], r[4]]), [['2', '1', 0x11223344, '0', '0'], ['2', '65535', 7, '96', '2'], ['2', '3', 9, '8', '0'], ['2', '4', 10, '127', '0'], ['2', '5', 11, '34', '1']]);
  t.same(rows.map((r) => r[7] ?? ''), ['', '', '', '', ''], 'tshark finds nothing malformed');
});

t.test('classify: what is not RTP', async (t) => {
  t.equal(C(Buffer.from([0x80, 0, 0, 1])), Kind.None, 'shorter than the fixed header');
  const v1 = rtp(1, 1);
  v1[0] = 0x40;
  t.equal(C(v1), Kind.None, 'version 1');
  for (const pt of [35, 71, 77, 95]) t.equal(C(rtp(1, 1, { pt })), Kind.None, `payload type ${pt} (unassigned)`);
  const cc = rtp(1, 1, { payload: 0 });
  cc[0] = 0x8f;
  t.equal(C(cc), Kind.None, '15 CSRCs that are not there');
  const ext = rtp(1, 1, { ext: 1, payload: 0 });
  ext.writeUInt16BE(100, 14);
  t.equal(C(ext), Kind.None, 'header extension past the end');
  const pad = rtp(1, 1, { pad: 1, payload: 0 });
  pad[pad.length - 1] = 200;
  t.equal(C(pad), Kind.None, 'padding longer than the payload');
  pad[pad.length - 1] = 0;
  t.equal(C(pad), Kind.None, 'padding count 0');
  t.equal(C(Buffer.from('GET / HTTP/1.1\r\n\r\n')), Kind.None, 'text');
  const badStun = stun();
  badStun.writeUInt32BE(1, 4);
  t.equal(C(badStun), Kind.None, 'STUN without the magic cookie');
  t.equal(C(stun()), Kind.Stun);
  t.equal(C(dtls()), Kind.Dtls);
});

t.test('classify: RTCP compounds (RFC 3550 A.2), reduced-size feedback, SRTCP', async (t) => {
  t.equal(C(Buffer.concat([rtcp(201, 1), rtcp(202, 2)])), Kind.Rtcp, 'RR + SDES');
  t.equal(C(Buffer.concat([rtcp(200, 6), rtcp(202, 2), rtcp(203, 1, 1)])), Kind.Rtcp, 'SR + SDES + BYE');
  t.equal(C(rtcp(205, 2)), Kind.Rtcp, 'RFC 5506 reduced-size: feedback alone');
  t.equal(C(rtcp(202, 2)), Kind.None, 'a compound must start with SR or RR');
  t.equal(C(rtcp(201, 1).subarray(0, 6)), Kind.None, 'length past the end');
  t.equal(C(Buffer.concat([rtcp(201, 1), Buffer.from([1, 2])])), Kind.None, '2 stray bytes after');
  t.equal(C(Buffer.concat([rtcp(200, 6), Buffer.alloc(40, 0x33), Buffer.from([0x80, 0, 0, 1]), Buffer.alloc(10, 7)])), Kind.Rtcp, 'SRTCP: a clear SR, then encrypted bytes, index and tag');
});

const CTX: RtpContext = { app: 'sip', callId: 'c@x', media: 'audio', from: 'sip:a@x', to: 'sip:b@x', secure: false, rtcp: false };

function run(datagrams: [Dir, Buffer][], expected: unknown = CTX, limits = {}): Recorded & { used: number } {
  const { ctx, rec } = recordingContext({ transport: 'udp', expected });
  const dispatcher = { stopped: false };
  const real = { reject: ctx.reject, done: ctx.done };
  ctx.reject = (r) => {
    dispatcher.stopped = true;
    real.reject(r);
  };
  ctx.done = () => {
    dispatcher.stopped = true;
    real.done();
  };
  const s = createRtpSession(ctx, { ...rtpProtocol.limits, ...limits } as typeof rtpProtocol.limits & { maxDatagrams: number; maxSeqStep: number });
  let used = 0;
  let i = 0;
  for (const [d, b] of datagrams) {
    if (dispatcher.stopped) break; // as the dispatcher does after done() or reject()
    s.onData(d, b, 0, b.length, [1000 + i++, 0]);
    used++;
  }
  if (!dispatcher.stopped || rec.done) s.finish([2000, 0]);
  return { ...rec, used };
}

const call = (n: number, ssrc = 0x1234, start = 100): [Dir, Buffer][] => Array.from({ length: n }, (_, i) => [0, rtp(start + i, ssrc)] as [Dir, Buffer]);

t.test('two datagrams of one source in sequence: named for the signalling app', async (t) => {
  const r = run(call(2));
  t.same(r.identified, [{ app: 'sip', kind: 'call', method: 'expected', confidence: 0.9 }]);
  t.equal(r.protocol, 'rtp');
  t.equal(r.confirmed, 0.9);
  t.equal(r.rejected, null);
});

t.test('sequence wrap-around, and a step over maxSeqStep does not count', async (t) => {
  t.equal(run([[0, rtp(65535, 5)], [0, rtp(0, 5)]]).protocol, 'rtp', '65535 → 0');
  const far = run([[0, rtp(10, 5)], [0, rtp(10 + 101, 5)], [0, rtp(10 + 300, 6)], [0, rtp(10 + 500, 7)]]);
  t.equal(far.rejected !== null, true, 'three sources never in sequence: rejected at the end');
  t.same(far.identified, []);
});

t.test('the budget: done() after maxDatagrams once named; rejected when nothing was RTP', async (t) => {
  const long = run(call(40));
  t.equal(long.used, 16, 'stops at maxDatagrams');
  t.ok(long.done);
  const noise = run(Array.from({ length: 40 }, (_, i) => [0, rtp(i * 1000, i)] as [Dir, Buffer]));
  t.equal(noise.used, 16);
  t.match(noise.rejected, /no RTP source in sequence/);
});

t.test('not RTP: rejected at the first datagram that is none of RTP, RTCP, STUN, DTLS', async (t) => {
  const r = run([[0, Buffer.from('hello, this is not media at all')], ...call(4)]);
  t.equal(r.used, 1);
  t.match(r.rejected, /datagram 1 .* is not RTP/);
  t.same(r.identified, []);
});

t.test('after the flow is named, a stray datagram is one anomaly, not a reject', async (t) => {
  const r = run([...call(3), [1, Buffer.from('junk junk junk')], [1, Buffer.from('more junk')], ...call(2, 0x1234, 103)]);
  t.equal(r.rejected, null);
  t.same(r.anomalies.map((a) => a.code), ['rtp_invalid_datagram']);
});

t.test('RTCP alone is rtcp; RTP after it makes the flow rtp', async (t) => {
  t.equal(run([[0, rtcp(201, 1)]]).protocol, 'rtcp');
  const both = run([[0, rtcp(201, 1)], ...call(2)]);
  t.equal(both.protocol, 'rtp');
  t.equal(both.identified.length, 1, 'named once');
});

t.test('SRTP: by the announced profile, or by DTLS on the 5-tuple; STUN checks first change nothing', async (t) => {
  t.equal(run(call(2), { ...CTX, secure: true }).protocol, 'srtp');
  t.equal(run([[0, stun()], [1, stun()], [0, dtls()], [1, dtls()], ...call(2)]).protocol, 'srtp');
  const ice = run([[0, stun()], [1, stun()], ...call(2)]);
  t.equal(ice.protocol, 'rtp');
  t.equal(ice.identified[0]!.confidence, 0.9);
});

t.test('a flow that ended early: one RTP datagram, or only STUN, is named with less confidence', async (t) => {
  const one = run(call(1));
  t.equal(one.protocol, 'rtp');
  t.equal(one.identified[0]!.confidence, 0.7);
  const onlyStun = run([[0, stun()], [1, stun()]]);
  t.equal(onlyStun.protocol, 'stun');
  t.equal(onlyStun.identified[0]!.confidence, 0.7);
});

t.test('a context that is not an RtpContext names no app (the protocol only)', async (t) => {
  for (const bad of [null, 'sip', { app: 5, media: 'audio' }, { app: '', media: 'audio' }]) {
    const r = run(call(2), bad);
    t.same(r.identified, [], JSON.stringify(bad));
    t.equal(r.protocol, 'rtp');
  }
});

t.test('hostile input: random and truncated datagrams never throw', async (t) => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const len = rnd() % 80;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = rnd();
    if (len > 0 && i % 2 === 0) b[0] = 0x80 | (b[0]! & 0x3f);
    classify(b, 0, b.length);
    run([[0, b], [1, b]]);
  }
  const good = rtp(1, 1, { cc: 3, ext: 2, pad: 3 });
  for (let n = 0; n < good.length; n++) classify(good, 0, n);
  t.pass('no exception');
});
