/**
 * Calls tied to SIP on built captures (SIP over UDP with SDP, then the media, written as pcap): what tshark makes of
 * the same file is the reference (it follows the SDP itself and decodes the announced flow as RTP, with no
 * heuristics), and the cases no public capture holds:
 * - the announced RTP and RTCP flows are named app `sip`, kind `call`, method `expected`, protocol `rtp` / `rtcp`;
 * - an offer whose media never comes leaves no flow; a flow to an announced port that is not RTP gets no verdict;
 * - the per-flow limit on announced media (`maxRtpExpects`, `sip_rtp_expects_exceeded`) holds in the pipeline;
 * - SDP details (RFC 4566, 3264, 3605, 5761): a=rtcp, a=rtcp-mux, port 0, on hold, SAVP, media-level c=, late offer.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import { PROTOCOLS } from '../../src/decoders/im/protocols.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { sip } from '../../src/decoders/im/sip/index.js';
import { createSipSession } from '../../src/decoders/im/sip/session.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { conversationPcap, type Conversation } from '../helpers/conversation-pcap.js';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { ALICE, ALICE_IP, BOB, BOB_IP, request, response, type Req } from '../im/builders/sip.js';

const dir = tempDir('calls');

/** An RTP datagram (RFC 3550 §5.1): version 2, payload type `pt`, sequence `seq`, timestamp, SSRC, 160 bytes of payload. */
function rtp(seq: number, ssrc: number, pt = 0, marker = false): Buffer {
  const b = Buffer.alloc(12 + 160, 0xd5);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 160) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

/** An RTCP receiver report with one report block (RFC 3550 §6.4.2): 32 bytes, length field 7. */
function rtcpRr(ssrc: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc, 4);
  b.writeUInt32BE(0x1234, 8);
  return b;
}

const sdp = (ip: string, port: number, extra = '', proto = 'RTP/AVP') => `v=0\r\no=- 1 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio ${port} ${proto} 0\r\na=rtpmap:0 PCMU/8000\r\n${extra}`;
const invite = (callId: string, body: string): Req => ({ method: 'INVITE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId, cseq: 1, body, contentType: 'application/sdp' });

/** A call set up over UDP 5060 (INVITE with the offer, 200 with the answer, ACK). */
function call(callId: string, offer: string, answer: string | null): Conversation {
  const inv = invite(callId, offer);
  const parts: [0 | 1, Uint8Array | string][] = [[0, request(inv)]];
  parts.push([1, answer === null ? response(inv, 200, 'OK') : response(inv, 200, 'OK', [], answer, 'application/sdp')]);
  parts.push([0, request({ ...inv, method: 'ACK', body: undefined, contentType: undefined })]);
  return { client: ALICE_IP, server: BOB_IP, cport: 5060, sport: 5060, transport: 'udp', parts };
}

/** A media flow from Bob's port to Alice's: `n` RTP datagrams each way (sources 0x11111111 and 0x22222222). */
function media(cport: number, sport: number, n = 6): Conversation {
  const parts: [0 | 1, Uint8Array][] = [];
  for (let i = 0; i < n; i++) parts.push([0, rtp(1000 + i, 0x11111111)], [1, rtp(7000 + i, 0x22222222, 8)]);
  return { client: ALICE_IP, server: BOB_IP, cport, sport, transport: 'udp', parts };
}

function write(name: string, convs: Conversation[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, conversationPcap(convs));
  return file;
}

function tsharkProtocols(file: string): Map<string, string> {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', '_ws.col.Protocol'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<string, string>();
  for (const l of out.split('\n')) {
    const [a, b, p] = l.split('\t');
    if (p !== undefined) m.set([Number(a), Number(b)].sort((x, y) => x - y).join('-'), p.toLowerCase());
  }
  return m;
}

const ports = (f: { client_port: number; server_port: number }) => [f.client_port, f.server_port].sort((x, y) => x - y).join('-');

t.test('a call: RTP and RTCP flows named for SIP, as tshark decodes them from the SDP', async (t) => {
  const rtcp: Conversation = { client: ALICE_IP, server: BOB_IP, cport: 40001, sport: 50001, transport: 'udp', parts: [[0, rtcpRr(0x11111111)], [1, rtcpRr(0x22222222)]] };
  const file = write('call.pcap', [call('call-1@x', sdp(ALICE_IP, 40000), sdp(BOB_IP, 50000)), media(40000, 50000), rtcp]);
  const ts = tsharkProtocols(file);
  t.equal(ts.get('40000-50000'), 'rtp', 'tshark: RTP on the announced ports');
  t.equal(ts.get('40001-50001'), 'rtcp', 'tshark: RTCP one port above');
  const r = await analyzeCapture(file);
  const byPorts = new Map(r.flows.map((f) => [ports(f), f]));
  t.match(byPorts.get('40000-50000'), { app: 'sip', kind: 'call', method: 'expected', protocol: 'rtp', confidence: 0.9 });
  t.match(byPorts.get('40001-50001'), { app: 'sip', kind: 'call', method: 'expected', protocol: 'rtcp', confidence: 0.9 });
  t.match(byPorts.get('5060-5060'), { app: 'sip', protocol: 'sip', kind: 'call' });
  t.same(r.rows.anomalies, []);
});

t.test('the answer alone is enough: media from the answerer\'s port when the offer had no usable address', async (t) => {
  const file = write('answer-only.pcap', [call('call-2@x', sdp('0.0.0.0', 40000), sdp(BOB_IP, 50000)), media(40000, 50000)]);
  const r = await analyzeCapture(file);
  t.match(r.flows.find((f) => ports(f) === '40000-50000'), { app: 'sip', method: 'expected', protocol: 'rtp' });
});

t.test('an offer whose media never comes: no media flow', async (t) => {
  const file = write('no-media.pcap', [call('call-3@x', sdp(ALICE_IP, 40000), sdp(BOB_IP, 50000))]);
  const r = await analyzeCapture(file);
  t.same(r.flows.map((f) => f.protocol), ['sip']);
  t.same(r.others, []);
});

t.test('a flow to the announced port that is not RTP: no verdict', async (t) => {
  const junk: Conversation = { client: ALICE_IP, server: BOB_IP, cport: 40000, sport: 50000, transport: 'udp', parts: [[0, 'GET / HTTP/1.0\r\nHost: example.com\r\n\r\n'], [1, 'HTTP/1.0 200 OK\r\n\r\n']] };
  // And one that starts like RTP (version 2) but whose sources never make a sequence.
  const parts: [0 | 1, Uint8Array][] = [];
  for (let i = 0; i < 20; i++) parts.push([0, rtp(i * 977, 0x1000 + i)]);
  const noSeq: Conversation = { client: ALICE_IP, server: BOB_IP, cport: 40002, sport: 50002, transport: 'udp', parts };
  const file = write('not-rtp.pcap', [call('call-4@x', sdp(ALICE_IP, 40000), sdp(BOB_IP, 50000)), call('call-5@x', sdp(ALICE_IP, 40002), sdp(BOB_IP, 50002)), junk, noSeq]);
  const r = await analyzeCapture(file);
  t.same(r.flows.map((f) => f.protocol), ['sip'], 'only the signalling (both calls on one SIP flow) is named');
  t.equal(r.dispatch.expected, 2, 'both were handed to the rtp analyzer');
  for (const p of ['40000-50000', '40002-50002']) t.match(r.others.find((f) => ports(f) === p), { app: null, method: null }, `${p}: no verdict`);
});

t.test('per-flow limit on announced media, in the pipeline', async (t) => {
  const limited = new Registry(PROTOCOLS.map((p) => (p.id === 'sip' ? { ...sip, createSession: (ctx) => createSipSession(ctx, { maxRtpExpects: 2 }) } : p)));
  // Two calls on one SIP flow: the first call's RTP and RTCP fill the limit; the second call's media is not expected.
  const a = call('call-6@x', sdp(ALICE_IP, 40000), sdp(BOB_IP, 50000));
  const b = call('call-7@x', sdp(ALICE_IP, 40010), sdp(BOB_IP, 50010));
  const file = write('limit.pcap', [{ ...a, parts: [...a.parts.slice(0, 1), ...b.parts.slice(0, 1), ...a.parts.slice(1)] }, media(40000, 50000), media(40010, 50010)]);
  const r = await analyzeCapture(file, { registry: limited });
  t.match(r.flows.find((f) => ports(f) === '40000-50000'), { app: 'sip', method: 'expected' });
  t.equal(r.flows.find((f) => ports(f) === '40010-50010'), undefined, 'the media over the limit is not named');
  t.match(r.rows.anomalies, [{ code: 'sip_rtp_expects_exceeded' }]);
  t.equal(r.rows.anomalies!.length, 1, 'reported once');
});

// ── the SIP session's expectations, driven directly ──

function run(parts: [Dir, Uint8Array | string][], limits = {}): Recorded {
  const { ctx, rec } = recordingContext({ transport: 'udp', serverPort: 5060 });
  feed(createSipSession(ctx, limits), parts);
  return rec;
}

const exp = (r: Recorded) => r.expects.map((e) => [e.host, e.port, e.transport, e.analyzer, (e.context as { rtcp: boolean }).rtcp]);

t.test('SDP offer and answer: RTP and RTCP expected with the call, media and parties', async (t) => {
  const inv = invite('c1@x', sdp(ALICE_IP, 40000));
  const r = run([[0, request(inv)], [0, request(inv)], [1, response(inv, 183, 'Session Progress', [], sdp(BOB_IP, 50000), 'application/sdp')], [1, response(inv, 200, 'OK', [], sdp(BOB_IP, 50000), 'application/sdp')]]);
  t.same(exp(r), [
    [ALICE_IP, 40000, 'udp', 'rtp', false],
    [ALICE_IP, 40001, 'udp', 'rtp', true],
    [BOB_IP, 50000, 'udp', 'rtp', false],
    [BOB_IP, 50001, 'udp', 'rtp', true],
  ], 'retransmission and the 200 repeating the 183 answer: once each');
  t.match(r.expects[0]!.context, { app: 'sip', callId: 'c1@x', media: 'audio', from: ALICE, to: BOB, secure: false });
  t.match(r.expects[2]!.context, { app: 'sip', callId: 'c1@x', from: ALICE, to: BOB });
  t.ok(r.expects.every((e) => e.ttl === 300));
});

t.test('SDP details: a=rtcp, a=rtcp-mux, port 0, hold, SAVP, media-level c=, IPv6, TCP RTP', async (t) => {
  const one = (body: string) => exp(run([[0, request(invite('d@x', body))]]));
  t.same(one(sdp(ALICE_IP, 40000, 'a=rtcp:40100\r\n')), [[ALICE_IP, 40000, 'udp', 'rtp', false], [ALICE_IP, 40100, 'udp', 'rtp', true]], 'a=rtcp (RFC 3605)');
  t.same(one(sdp(ALICE_IP, 40000, 'a=rtcp:40100 IN IP4 192.0.2.99\r\n')).map((e) => `${e[0]}:${e[1]}`), [`${ALICE_IP}:40000`, '192.0.2.99:40100'], 'a=rtcp with an address');
  t.same(one(sdp(ALICE_IP, 40000, 'a=rtcp-mux\r\n')), [[ALICE_IP, 40000, 'udp', 'rtp', false]], 'a=rtcp-mux (RFC 5761): one flow');
  t.same(one(sdp(ALICE_IP, 0)), [], 'port 0: refused stream');
  t.same(one(sdp('0.0.0.0', 40000)), [], 'c=0.0.0.0: on hold');
  t.same(one(sdp(ALICE_IP, 40000, '', 'TCP/RTP/AVP')), [], 'RTP over TCP is not a UDP flow');
  t.same(one(sdp(ALICE_IP, 40000, '', 'RTP/SAVP')).length, 2);
  t.equal((run([[0, request(invite('d@x', sdp(ALICE_IP, 40000, '', 'UDP/TLS/RTP/SAVPF')))]]).expects[0]!.context as { secure: boolean }).secure, true, 'SRTP profile');
  t.same(one(`v=0\r\nc=IN IP4 ${ALICE_IP}\r\nm=audio 40000 RTP/AVP 0\r\nm=video 40002 RTP/AVP 96\r\nc=IN IP4 192.0.2.77\r\nm=message 7 TCP/MSRP *\r\n`).map((e) => `${e[0]}:${e[1]}`), [`${ALICE_IP}:40000`, `${ALICE_IP}:40001`, '192.0.2.77:40002', '192.0.2.77:40003'], 'media-level c= for video');
  t.same(one('v=0\r\nc=IN IP6 2001:DB8:0:0:0:0:0:1\r\nm=audio 40000/2 RTP/AVP 0\r\n').map((e) => `${e[0]}:${e[1]}`), ['2001:db8::1:40000', '2001:db8::1:40001'], 'IPv6 in the flow table\'s form; port/count');
  t.same(one('v=0\r\nc=IN IP4 media.example.com\r\nm=audio 40000 RTP/AVP 0\r\n'), [], 'a host name: nothing a tap can match');
});

t.test('late offer: the answer in the ACK', async (t) => {
  const inv: Req = { method: 'INVITE', uri: BOB, from: `<${ALICE}>`, to: `<${BOB}>`, callId: 'late@x', cseq: 1 };
  const r = run([[0, request(inv)], [1, response(inv, 200, 'OK', [], sdp(BOB_IP, 50000), 'application/sdp')], [0, request({ ...inv, method: 'ACK', body: sdp(ALICE_IP, 40000), contentType: 'application/sdp' })]]);
  t.same(exp(r).map((e) => `${e[0]}:${e[1]}`), [`${BOB_IP}:50000`, `${BOB_IP}:50001`, `${ALICE_IP}:40000`, `${ALICE_IP}:40001`]);
});

t.test('the limit: maxRtpExpects per flow, one anomaly', async (t) => {
  const body = `v=0\r\nc=IN IP4 ${ALICE_IP}\r\n` + [40000, 40010, 40020].map((p) => `m=audio ${p} RTP/AVP 0\r\n`).join('');
  const r = run([[0, request(invite('lim@x', body))]], { maxRtpExpects: 3 });
  t.equal(r.expects.length, 3);
  t.same(r.anomalies.map((a) => a.code), ['sip_rtp_expects_exceeded']);
  t.equal(sip.limits.maxRtpExpects, 256, 'the default is declared in the descriptor');
});
