// File transfers: XEP-0096 SI offers with XEP-0047 in-band bytestreams (decoded, hashed — the expected hashes are
// computed here from the bytes encoded), XEP-0065 SOCKS5 bytestream offers (expected connections) and the xmpp-s5b
// session that takes them, XEP-0234 Jingle offers (S5B candidates, IBB transport).
import { createHash } from 'node:crypto';
import t from 'tap';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { xmpp, xmppS5b, type S5bContext } from '../../src/decoders/im/xmpp/index.js';
import { feed, startSession } from '../helpers/im-session.js';

const STREAM = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
const ME = 'juliet@im.example.com/balcony';
const PEER = 'romeo@example.net/orchard';

const LOGIN: [Dir, string][] = [
  [0, `<stream:stream to='im.example.com' version='1.0' ${STREAM}>`],
  [1, `<stream:stream from='im.example.com' id='a1' version='1.0' ${STREAM}><stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`],
  [0, `<iq id='b1' type='set'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>`],
  [1, `<iq id='b1' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>${ME}</jid></bind></iq>`],
];

const hex = (alg: string, b: Buffer): string => createHash(alg).update(b).digest('hex');

/** A file of `n` bytes that is not text (every byte value, some repeated). */
function fileBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >> 8) * 7) & 0xff;
  return b;
}

function siOffer(id: string, sid: string, name: string, file: Buffer, methods: string[]): string {
  const options = methods.map((m) => `<option><value>${m}</value></option>`).join('');
  return `<iq type='set' id='${id}' to='${PEER}'><si xmlns='http://jabber.org/protocol/si' id='${sid}' mime-type='application/octet-stream' profile='http://jabber.org/protocol/si/profile/file-transfer'><file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='${name}' size='${file.length}' hash='${hex('md5', file)}'><desc>for you</desc></file><feature xmlns='http://jabber.org/protocol/feature-neg'><x xmlns='jabber:x:data' type='form'><field var='stream-method' type='list-single'>${options}</field></x></feature></si></iq>`;
}

function siAccept(id: string, method: string): string {
  return `<iq type='result' id='${id}' from='${PEER}' to='${ME}'><si xmlns='http://jabber.org/protocol/si'><feature xmlns='http://jabber.org/protocol/feature-neg'><x xmlns='jabber:x:data' type='submit'><field var='stream-method'><value>${method}</value></field></x></feature></si></iq>`;
}

const IBB = 'http://jabber.org/protocol/ibb';
const S5B = 'http://jabber.org/protocol/bytestreams';

/** IBB blocks of `block` bytes as iq sets from the client, each acknowledged by the peer. */
function ibbBlocks(sid: string, file: Buffer, block: number, inMessage = false): [Dir, string][] {
  const out: [Dir, string][] = [[0, `<iq type='set' id='o-${sid}' to='${PEER}'><open xmlns='${IBB}' block-size='${block}' sid='${sid}' stanza='${inMessage ? 'message' : 'iq'}'/></iq>`], [1, `<iq type='result' id='o-${sid}' from='${PEER}'/>`]];
  for (let seq = 0; seq * block < file.length; seq++) {
    const b64 = file.subarray(seq * block, (seq + 1) * block).toString('base64');
    const data = `<data xmlns='${IBB}' seq='${seq}' sid='${sid}'>${b64}</data>`;
    out.push(inMessage ? [0, `<message to='${PEER}' id='d${seq}'>${data}</message>`] : [0, `<iq type='set' id='d-${sid}-${seq}' to='${PEER}'>${data}</iq>`]);
    if (!inMessage) out.push([1, `<iq type='result' id='d-${sid}-${seq}' from='${PEER}'/>`]);
  }
  out.push([0, `<iq type='set' id='c-${sid}' to='${PEER}'><close xmlns='${IBB}' sid='${sid}'/></iq>`]);
  return out;
}

t.test('SI offer + IBB: the file is decoded, hashed, complete; one row', async (t) => {
  const file = fileBytes(10_000);
  const parts: [Dir, string][] = [...LOGIN, [0, siOffer('si1', 'a0', 'balcony plan.png', file, [S5B, IBB])], [1, siAccept('si1', IBB)], ...ibbBlocks('a0', file, 4096)];
  for (const chunk of [Infinity, 1, 97]) {
    const { session, rec } = startSession(xmpp);
    feed(session, parts, chunk);
    t.same(rec.anomalies, [], `no anomaly (chunks of ${chunk})`);
    t.same(
      rec.transfers.map(({ ts: _ts, ...r }) => r),
      [{ sender: ME, recipient: PEER, filename: 'balcony plan.png', size: 10_000, bytes_seen: 10_000, md5: hex('md5', file), sha256: hex('sha256', file), complete: true, path: null, method: 'ibb' }],
    );
    t.ok(rec.files.get('balcony plan.png')?.equals(file), 'the carved bytes are the file');
    t.same(rec.events.map((e) => [e.event, e.account, e.target, e.detail]), [['file_offer', ME, PEER, `name=balcony plan.png size=10000 via=si md5=${hex('md5', file)}`]]);
  }
});

t.test('IBB in message stanzas, without an offer or a size; a missing block makes it incomplete', async (t) => {
  const file = fileBytes(3000);
  const a = startSession(xmpp);
  feed(a.session, [...LOGIN, ...ibbBlocks('m1', file, 1024, true)]);
  t.same(a.rec.transfers.map((r) => [r.filename, r.size, r.bytes_seen, r.complete, r.sha256, r.method]), [[null, null, 3000, true, hex('sha256', file), 'ibb']]);

  const parts = ibbBlocks('g1', file, 1024).filter(([, s]) => !s.includes(`seq='1'`));
  const b = startSession(xmpp);
  feed(b.session, [...LOGIN, ...parts]);
  t.same(b.rec.transfers.map((r) => [r.bytes_seen, r.complete, r.md5]), [[3000 - 1024, false, null]]);
  t.same(b.rec.anomalies.map((x) => x.code), ['xmpp_ibb_seq_gap']);
  t.match(b.rec.anomalies[0]!.detail, /seq 2, expected 1/);
});

t.test('an SI offer declined, and one never answered: offer rows without data', async (t) => {
  const f1 = fileBytes(100);
  const f2 = fileBytes(200);
  const { session, rec } = startSession(xmpp);
  feed(session, [
    ...LOGIN,
    [0, siOffer('si1', 's1', 'a.bin', f1, [IBB])],
    [1, `<iq type='error' id='si1' from='${PEER}'><error code='403' type='cancel'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`],
    [0, siOffer('si2', 's2', 'b.bin', f2, [IBB])],
  ]);
  t.same(
    rec.transfers.map((r) => [r.filename, r.size, r.bytes_seen, r.complete, r.md5, r.method]),
    [
      ['a.bin', 100, 0, false, null, 'si'],
      ['b.bin', 200, 0, false, null, 'si'],
    ],
  );
});

t.test('SI offer + SOCKS5 bytestreams: streamhosts become expected connections, then the data connection', async (t) => {
  const file = fileBytes(5000);
  const { session, rec } = startSession(xmpp, { clientIp: '192.0.2.1' });
  feed(session, [
    ...LOGIN,
    [0, siOffer('si1', 'vxf9n471bn46', 'orchard.jpg', file, [S5B, IBB])],
    [1, siAccept('si1', S5B)],
    [
      0,
      `<iq type='set' id='hu3vax16' to='${PEER}'><query xmlns='${S5B}' sid='vxf9n471bn46' mode='tcp'><streamhost jid='${ME}' host='192.0.2.1' port='5086'/><streamhost jid='proxy.example.net' host='proxy.example.net' port='7777'/><streamhost jid='v6' host='2001:DB8:0:0:0:0:0:1' port='7625'/><streamhost jid='bad' host='' port='99999'/></query></iq>`,
    ],
  ]);
  const context: S5bContext = { sid: 'vxf9n471bn46', requester: ME, target: PEER, filename: 'orchard.jpg', size: 5000, sender: ME, recipient: PEER };
  t.same(
    rec.expects.map(({ ts: _ts, ...e }) => e),
    [
      { transport: 'tcp', host: '192.0.2.1', from: null, port: 5086, ttl: 300, analyzer: 'xmpp-s5b', context },
      { transport: 'tcp', host: null, from: '192.0.2.1', port: 7777, ttl: 300, analyzer: 'xmpp-s5b', context },
      { transport: 'tcp', host: '2001:db8::1', from: null, port: 7625, ttl: 300, analyzer: 'xmpp-s5b', context },
    ],
  );
  t.same(rec.anomalies.map((a) => a.code), ['xmpp_bad_streamhost']);
  t.same(rec.transfers.map((r) => [r.filename, r.bytes_seen, r.complete, r.method]), [['orchard.jpg', 0, false, 'socks5']], 'the offer row (the data is on another flow)');

  // The target connects to the initiator's streamhost: SOCKS5 handshake, then the file from the server side.
  const dst = createHash('sha1').update(`vxf9n471bn46${ME}${PEER}`).digest('hex');
  const connect = Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, 1, 0, 3, 40]), Buffer.from(dst), Buffer.from([0, 0])]);
  const reply = Buffer.concat([Buffer.from([5, 0]), Buffer.from([5, 0, 0, 3, 40]), Buffer.from(dst), Buffer.from([0, 0])]);
  t.equal(xmppS5b.probe!(connect, 0, connect.length, 0, false), Probe.Yes, 'the s5b probe knows the client side');
  t.equal(xmppS5b.probe!(reply, 0, reply.length, 1, false), Probe.Yes, 'and the server side');
  t.equal(xmppS5b.probe!(connect, 0, 10, 0, false), Probe.Need);
  t.equal(xmppS5b.probe!(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16, 0, false), Probe.No);
  for (const chunk of [Infinity, 1, 333]) {
    const d = startSession(xmppS5b, { expected: context, serverPort: 5086 });
    feed(d.session, [[0, connect], [1, reply], [1, file]], chunk);
    t.equal(d.rec.confirmed, 1);
    t.equal(d.rec.kind, 'file');
    t.same(
      d.rec.transfers.map(({ ts: _ts, ...r }) => r),
      [{ sender: ME, recipient: PEER, filename: 'orchard.jpg', size: 5000, bytes_seen: 5000, md5: hex('md5', file), sha256: hex('sha256', file), complete: true, path: null, method: 'socks5' }],
      `data connection in chunks of ${chunk}`,
    );
  }
  // Through a proxy the initiator sends on its own connection (client → proxy); bytes beyond the size are ignored.
  const p = startSession(xmppS5b, { expected: context });
  feed(p.session, [[0, connect], [1, reply], [0, Buffer.concat([file, Buffer.from('extra')])]]);
  t.same(p.rec.transfers.map((r) => [r.bytes_seen, r.complete]), [[5000, true]]);
  t.same(p.rec.anomalies.map((a) => a.code), ['xmpp_s5b_excess_data']);
  // Recognised by the probe alone (no context): unknown size, complete when the sender closes without a gap.
  const q = startSession(xmppS5b);
  feed(q.session, [[0, connect], [1, reply], [1, file]]);
  t.same(q.rec.transfers.map((r) => [r.filename, r.size, r.bytes_seen, r.complete, r.sha256]), [[null, null, 5000, true, hex('sha256', file)]]);
  t.equal(q.rec.confirmed, 0.9);
  // Not SOCKS5 at all: rejected.
  const r = startSession(xmppS5b, { expected: context });
  feed(r.session, [[0, 'GET / HTTP/1.1\r\n\r\n']]);
  t.match(r.rec.rejected, /not a SOCKS5 bytestream/);
  t.same(r.rec.transfers, []);
});

t.test('Jingle file offer (XEP-0234) over S5B: an offer row without data, its candidates expected', async (t) => {
  const romeo = 'romeo@montague.example/dr4hcr0st3lup4c';
  const juliet = 'juliet@capulet.example/yn0cl4bnw0yr3vym';
  const sha1 = Buffer.from('c34d67272973 0a7f807efb8676a92dcb6f8a3f8f'.replace(/ /g, ''), 'hex');
  const { session, rec } = startSession(xmpp);
  feed(session, [
    [0, `<stream:stream to='montague.example' version='1.0' ${STREAM}>`],
    [1, `<stream:stream from='montague.example' id='j1' version='1.0' ${STREAM}>`],
    [
      0,
      `<iq from='${romeo}' id='nzu25s8' to='${juliet}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='${romeo}' sid='851ba2'><content creator='initiator' name='a-file-offer' senders='initiator'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><date>1969-07-21T02:56:15Z</date><desc>This is a test.</desc><media-type>text/plain</media-type><name>test.txt</name><range/><size>6144</size><hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>${sha1.toString('base64')}</hash></file></description><transport xmlns='urn:xmpp:jingle:transports:s5b:1' mode='tcp' sid='vj3hs98y'><candidate cid='hft54dqy' host='192.168.4.1' jid='${romeo}' port='5086' priority='8257636' type='direct'/><candidate cid='hutr46fe' host='24.24.24.1' jid='${romeo}' port='5087' priority='8258636' type='direct'/></transport></content></jingle></iq>`,
    ],
    [1, `<iq from='${juliet}' id='nzu25s8' to='${romeo}' type='result'/>`],
  ]);
  t.same(rec.transfers.map(({ ts: _ts, ...r }) => r), [{ sender: romeo, recipient: juliet, filename: 'test.txt', size: 6144, bytes_seen: 0, md5: null, sha256: null, complete: false, path: null, method: 'jingle' }]);
  t.same(rec.events.map((e) => e.detail), [`name=test.txt size=6144 via=jingle sha-1=${sha1.toString('hex')}`]);
  t.same(rec.expects.map((e) => [e.host, e.port, (e.context as S5bContext).sid, (e.context as S5bContext).filename]), [
    ['192.168.4.1', 5086, 'vj3hs98y', 'test.txt'],
    ['24.24.24.1', 5087, 'vj3hs98y', 'test.txt'],
  ]);
});

t.test('Jingle file offer over the IBB transport: the data arrives as IBB and carries the name', async (t) => {
  const file = fileBytes(2500);
  const { session, rec } = startSession(xmpp);
  feed(session, [
    ...LOGIN,
    [0, `<iq id='j1' to='${PEER}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' initiator='${ME}' sid='ja1'><content creator='initiator' name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><name>verse.txt</name><size>2500</size></file></description><transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/></content></jingle></iq>`],
    [1, `<iq from='${PEER}' id='j2' to='${ME}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-accept' responder='${PEER}' sid='ja1'><content creator='initiator' name='f'><description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file><name>verse.txt</name><size>2500</size></file></description><transport xmlns='urn:xmpp:jingle:transports:ibb:1' block-size='4096' sid='ch3d9s71'/></content></jingle></iq>`],
    ...ibbBlocks('ch3d9s71', file, 4096),
    [0, `<iq id='j3' to='${PEER}' type='set'><jingle xmlns='urn:xmpp:jingle:1' action='session-terminate' sid='ja1'><reason><success/></reason></jingle></iq>`],
  ]);
  t.same(rec.transfers.map((r) => [r.filename, r.size, r.bytes_seen, r.complete, r.md5, r.method]), [['verse.txt', 2500, 2500, true, hex('md5', file), 'ibb']]);
  t.same(rec.anomalies, []);
});
