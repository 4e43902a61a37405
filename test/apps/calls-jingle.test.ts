/**
 * Calls tied to XMPP: Jingle RTP sessions (XEP-0166, XEP-0167, XEP-0176 ICE-UDP, XEP-0177 raw UDP, XEP-0320 DTLS
 * fingerprints) announce their UDP candidates as expected media flows, and the media flow that comes is named app
 * `xmpp`, kind `call`, method `expected`. No public capture holds a clear-text Jingle call: the stanzas follow the
 * XEPs' examples (element and attribute names, component 1 RTP / 2 RTCP), with made-up parties and addresses.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { analyzeCapture } from '../../src/decoders/im/analyze.js';
import type { RtpContext } from '../../src/decoders/apps/rtp/context.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { xmpp } from '../../src/decoders/im/xmpp/index.js';
import { XmppSession } from '../../src/decoders/im/xmpp/session.js';
import { XMPP_LIMITS } from '../../src/decoders/im/xmpp/schema.js';
import { conversationPcap, type Conversation } from '../helpers/conversation-pcap.js';
import { feed, recordingContext, startSession } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';

const STREAM = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const ME = 'juliet@im.example.com/balcony';
const PEER = 'romeo@example.net/orchard';
const LOGIN: [Dir, string][] = [
  [0, `<stream:stream to='im.example.com' version='1.0' ${STREAM}>`],
  [1, `<stream:stream from='im.example.com' id='a1' version='1.0' ${STREAM}><stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`],
  [0, `<iq id='b1' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>`],
  [1, `<iq id='b1' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${ME}</jid></bind></iq>`],
];

const RTP = "xmlns='urn:xmpp:jingle:apps:rtp:1'";
const ICE = "xmlns='urn:xmpp:jingle:transports:ice-udp:1'";
const RAW = "xmlns='urn:xmpp:jingle:transports:raw-udp:1'";

const cand = (id: string, ip: string, port: number | string, component = 1, protocol = 'udp') =>
  `<candidate component='${component}' foundation='1' generation='0' id='${id}' ip='${ip}' network='0' port='${port}' priority='2130706431' protocol='${protocol}' type='host'/>`;

function initiate(sid: string, candidates: string, extra = ''): string {
  return (
    `<iq from='${ME}' id='j1' to='${PEER}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='${ME}' sid='${sid}'>` +
    `<content creator='initiator' name='voice'><description ${RTP} media='audio'><payload-type id='0' name='PCMU' clockrate='8000'/>${extra}</description>` +
    `<transport ${ICE} pwd='asd88fgpdd777uzjYhagZg' ufrag='8hhy'>${candidates}</transport></content></jingle></iq>`
  );
}

const exp = (rec: { expects: { host: string | null; port: number; transport: string; analyzer: string; context: unknown }[] }) =>
  rec.expects.map((e) => [e.host, e.port, e.transport, e.analyzer, (e.context as RtpContext).media, (e.context as RtpContext).rtcp]);

t.test('session-initiate, trickled transport-info, session-accept (raw UDP): each UDP candidate expected once', async (t) => {
  const { session, rec } = startSession(xmpp, { clientIp: '192.0.2.1' });
  feed(session, [
    ...LOGIN,
    [0, initiate('sid-1', cand('c1', '192.0.2.1', 8998) + cand('c2', '192.0.2.1', 8999, 2) + cand('c3', '192.0.2.1', 9000, 1, 'tcp') + cand('c4', '192.0.2.1', 70000))],
    [0, `<iq from='${ME}' id='j2' to='${PEER}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='sid-1'><content creator='initiator' name='voice'><transport ${ICE}>${cand('c5', '2001:DB8::5', 8998)}${cand('c1', '192.0.2.1', 8998)}</transport></content></jingle></iq>`],
    [1, `<iq from='${PEER}' id='j3' to='${ME}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-accept' responder='${PEER}' sid='sid-1'><content creator='initiator' name='voice'><description ${RTP} media='audio'/><transport ${RAW}><candidate component='1' generation='0' id='r1' ip='198.51.100.7' port='13540'/><fingerprint xmlns='urn:xmpp:jingle:apps:dtls:0' hash='sha-256' setup='active'>AA:BB</fingerprint></transport></content></jingle></iq>`],
  ]);
  t.same(exp(rec), [
    ['192.0.2.1', 8998, 'udp', 'rtp', 'audio', false],
    ['192.0.2.1', 8999, 'udp', 'rtp', 'audio', true],
    ['2001:db8::5', 8998, 'udp', 'rtp', 'audio', false],
    ['198.51.100.7', 13540, 'udp', 'rtp', 'audio', false],
  ], 'component 2 is RTCP; the TCP candidate and the bad port are not announced; a repeated candidate once');
  t.match(rec.expects[0]!.context, { app: 'xmpp', callId: 'sid-1', from: ME, to: PEER, secure: false });
  t.match(rec.expects[3]!.context, { secure: true }, 'a DTLS fingerprint: SRTP');
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_bad_streamhost']);
});

t.test('SDES crypto in the description: secure; not an RTP session: nothing expected', async (t) => {
  const a = startSession(xmpp);
  feed(a.session, [...LOGIN, [0, initiate('sid-2', cand('c1', '192.0.2.1', 8998), "<encryption required='1'><crypto crypto-suite='AES_CM_128_HMAC_SHA1_80' key-params='inline:x' tag='1'/></encryption>")]]);
  t.match(a.rec.expects[0]!.context, { secure: true });
  const b = startSession(xmpp);
  feed(b.session, [...LOGIN, [0, `<iq id='j9' to='${PEER}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='transport-info' sid='unknown'><content creator='initiator' name='voice'><transport ${ICE}>${cand('c1', '192.0.2.1', 8998)}</transport></content></jingle></iq>`]]);
  t.same(b.rec.expects, [], 'candidates of a session whose RTP description was not seen');
});

t.test('the limit: maxRtpExpects candidates per flow, one anomaly', async (t) => {
  const { ctx, rec } = recordingContext({ transport: 'tcp', serverPort: 5222 });
  const s = new XmppSession(ctx, { ...XMPP_LIMITS, maxRtpExpects: 2 });
  feed(s, [...LOGIN, [0, initiate('sid-3', cand('a', '192.0.2.1', 8000) + cand('b', '192.0.2.1', 8002) + cand('c', '192.0.2.1', 8004) + cand('d', '192.0.2.1', 8006))]]);
  t.equal(rec.expects.length, 2);
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_rtp_expects_exceeded']);
  t.equal(xmpp.limits.maxRtpExpects, 64);
});

t.test('in the pipeline: the media flow of a Jingle call is named for XMPP', async (t) => {
  const rtp = (seq: number, ssrc: number) => {
    const b = Buffer.alloc(172, 0x7f);
    b[0] = 0x80;
    b.writeUInt16BE(seq, 2);
    b.writeUInt32BE(ssrc, 8);
    return b;
  };
  const signalling: Conversation = { client: '192.0.2.1', server: '203.0.113.5', cport: 50123, sport: 5222, parts: [...LOGIN, [0, initiate('sid-4', cand('c1', '192.0.2.1', 8998))]] };
  const parts: [0 | 1, Uint8Array][] = [];
  for (let i = 0; i < 5; i++) parts.push([0, rtp(10 + i, 0xaaaa)], [1, rtp(500 + i, 0xbbbb)]);
  const media: Conversation = { client: '192.0.2.1', server: '198.51.100.7', cport: 8998, sport: 13540, transport: 'udp', parts };
  const file = path.join(tempDir('jingle'), 'jingle-call.pcap');
  fs.writeFileSync(file, conversationPcap([signalling, media]));
  const r = await analyzeCapture(file);
  const m = r.flows.find((f) => f.transport === 'udp');
  t.match(m, { app: 'xmpp', kind: 'call', method: 'expected', protocol: 'rtp' });
  t.equal(m?.server_port, 8998, 'the announced endpoint is the flow\'s server side');
  t.match(r.flows.find((f) => f.transport === 'tcp'), { app: 'xmpp', protocol: 'xmpp' });
});
