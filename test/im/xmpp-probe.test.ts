// The XMPP probe: stream headers with and without an XML declaration or BOM, stanzas picked up mid-stream, partial
// input (Need), and the protocols that must get No at once (HTTP, TLS, SIP, other XML, Flash policy requests).
import t from 'tap';
import { Probe, type Dir } from '../../src/decoders/im/types.js';
import { xmpp } from '../../src/decoders/im/xmpp/index.js';

const probe = (s: string | Buffer, dir: Dir = 0, midstream = false): Probe => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return xmpp.probe!(b, 0, b.length, dir, midstream);
};
const NAME = ['No', 'Need', 'Yes'];

const C2S = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>`;

t.test('yes', async (t) => {
  const yes: [string, string | Buffer, Dir, boolean][] = [
    ['c2s header', C2S, 0, false],
    ['with XML declaration', `<?xml version='1.0' encoding='UTF-8'?>\n${C2S}`, 0, false],
    ['with BOM and whitespace', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`  \r\n${C2S}`)]), 0, false],
    ['server header, attributes in another order, double quotes', `<?xml version="1.0"?><stream:stream from="example.com" id="x1" xmlns:stream="http://etherx.jabber.org/streams" xmlns="jabber:client" version="1.0">`, 1, false],
    ['s2s with dialback', `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' xmlns:db='jabber:server:dialback' to='example.net'>`, 0, false],
    ['component (XEP-0114)', `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='plays.shakespeare.lit'>`, 0, false],
    ['other stream prefix', `<s:stream xmlns='jabber:client' xmlns:s='http://etherx.jabber.org/streams'>`, 0, false],
    ["a '>' inside a quoted value", `<stream:stream xmlns='jabber:client' id='a>b' xmlns:stream='http://etherx.jabber.org/streams'>`, 1, false],
    ['stanza declaring jabber:client', `<message xmlns='jabber:client' to='romeo@example.net' type='chat'><body>hi</body></message>`, 0, false],
    ['mid-stream message with a JID', `<message to='romeo@example.net' type='chat'><body>hi</body></message>`, 0, true],
    ['mid-stream presence from a JID', `<presence from='juliet@example.com/balcony'/>`, 1, true],
    ['mid-stream iq', `<iq type='result' id='abc'/>`, 1, true],
  ];
  for (const [what, s, dir, mid] of yes) t.equal(NAME[probe(s, dir, mid)], 'Yes', what);
});

t.test('need', async (t) => {
  for (const n of [1, 5, 14, 40, C2S.length - 1]) t.equal(NAME[probe(C2S.slice(0, n))], 'Need', `first ${n} bytes of a header`);
  t.equal(NAME[probe("<?xml version='1.0'")], 'Need');
  t.equal(NAME[probe('   \n')], 'Need');
  t.equal(NAME[probe(`<message to='romeo@exa`, 0, true)], 'Need');
});

t.test('no', async (t) => {
  const hello = Buffer.from('16030100f1010000ed03035f', 'hex');
  const no: [string, string | Buffer, boolean][] = [
    ['HTTP request', 'GET /http-bind HTTP/1.1\r\nHost: example.com\r\n\r\n', false],
    ['HTTP response', 'HTTP/1.1 200 OK\r\n\r\n<body xmlns="http://jabber.org/protocol/httpbind"/>', false],
    ['TLS ClientHello (port 5223 is left to TLS detection)', hello, false],
    ['SIP', 'INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/TCP client.atlanta.example.com:5060\r\n', false],
    ['IRC', 'NICK juliet\r\nUSER juliet 0 * :Juliet\r\n', false],
    ['XML-RPC', `<?xml version='1.0'?><methodCall><methodName>x</methodName></methodCall>`, false],
    ['Flash policy request', '<policy-file-request/>\0', false],
    ['BOSH body', `<body rid='1' xmlns='http://jabber.org/protocol/httpbind' to='example.com'/>`, false],
    ['WebSocket framing open (RFC 7395)', `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>`, false],
    ['stream with a wrong streams namespace', `<stream:stream xmlns='jabber:client' xmlns:stream='urn:other'>`, false],
    ['stream with another default namespace', `<stream:stream xmlns='urn:other' xmlns:stream='http://etherx.jabber.org/streams'>`, false],
    ['stanza without namespace from the start of a connection', `<message to='romeo@example.net'><body>hi</body></message>`, false],
    ['mid-stream message without JIDs', `<message><body>hi</body></message>`, true],
    ['mid-stream iq without id', `<iq type='get'/>`, true],
    ['a "<" inside the tag', `<stream:stream xmlns='jabber:client' <x>`, false],
    ['whitespace beyond the budget', ' '.repeat(5000), false],
    ['a header never closed within the budget', `<stream:stream xmlns='jabber:client' x='${'y'.repeat(5000)}`, false],
  ];
  for (const [what, s, mid] of no) t.equal(NAME[probe(s, 0, mid)], 'No', what);
});
