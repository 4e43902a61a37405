// The MSNP probe: Yes on both directions of notification and switchboard sessions of every version, Need on an
// unfinished line, No on other protocols (HTTP, TLS, SSH, IRC, XMPP, SIP, SMTP/FTP, binary, MSNFTP).
import t from 'tap';
import { probeMsnp } from '../../src/decoders/im/msnp/detect.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';

const probe = (s: string | Uint8Array, dir: Dir = 0, midstream = false): Probe => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return probeMsnp(b, 0, b.length, dir, midstream);
};

t.test('Yes on both directions of MSNP sessions', async (t) => {
  const yes: [string, Dir][] = [
    ['VER 1 MSNP8 CVR0\r\n', 0],
    ['VER 1 MSNP8 CVR0\r\n', 1],
    ['VER 1 MSNP21 MSNP20 MSNP19 CVR0\r\n', 0],
    ['VER 0 MSNP2 MSNP1\r\n', 0],
    ['USR 93 tesla_brian@hotmail.com 1835953129.20013021.2623242\r\n', 0],
    ['USR 93 OK tesla_brian@hotmail.com Brian\r\n', 1],
    ['ANS 1 alice@hotmail.com 849102291.520491113 11752013\r\n', 0],
    ['IRO 1 1 1 bob@hotmail.com Bob\r\n', 1],
    ['USR 1 alice@live.com;{F52973B6-C926-4BAD-9BA8-7C1E840E4AB0} 1.2.3\r\n', 0],
    ['MSG 5 N 132\r\nMIME-Version: 1.0\r\n', 0],
    ['MSG bob@hotmail.com Bob 97\r\n', 1],
    ['CVR 2 0x0409 win 4.10 i386 MSNMSGR 6.0.0602 MSMSGS alice@hotmail.com\r\n', 0],
    ['911 3\r\n', 1],
    ['ILN 6 AWY bob@hotmail.com Bob 268435492\r\n', 1],
    ['NLN NLN 1:bob@live.com Bob 2789003324:48\r\n', 1],
    ['LST N=bob@hotmail.com F=Bob C=0f6a 11\r\n', 1],
    ['PNG\r\n', 0],
    ['CHG 12 NLN 0\r\n', 0],
    // HTTP gateway: a POST to gateway.dll with MSN's parameters; the gateway's answer by its headers.
    ['POST /gateway/gateway.dll?Action=open&Server=NS&IP=messenger.hotmail.com HTTP/1.1\r\n', 0],
    ['POST http://gateway.messenger.hotmail.com/gateway/gateway.dll?SessionID=1029684385.22845 HTTP/1.1\r\n', 0],
    ['POST /gateway/gateway.dll?Action=poll&SessionID=1.2 HTTP/1.0\r\n', 0],
    ['HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=1.2; GW-IP=207.46.110.17\r\nContent-Length: 0\r\n\r\n', 1],
    ['HTTP/1.1 200 OK\r\nContent-Type: application/x-msn-messenger\r\nContent-Length: 0\r\n\r\n', 1],
  ];
  for (const [s, d] of yes) t.equal(probe(s, d), Probe.Yes, JSON.stringify(s));
});

t.test('Need on an unfinished line that can still be MSNP', async (t) => {
  for (const s of ['', 'V', 'VER', 'VER 1 MSNP8', 'USR 93 tesla_brian@hot', 'P', 'POST', 'POST /gateway/gate', 'HTTP', 'HTTP/1.1 200 OK\r\n', 'HTTP/1.1 200 OK\r\nServer: IIS\r\n']) {
    t.equal(probe(s), Probe.Need, JSON.stringify(s));
  }
});

t.test('No on other protocols', async (t) => {
  const no: (string | Uint8Array)[] = [
    'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
    'POST /gateway/gateway.dll HTTP/1.1\r\n',
    'POST /gateway/gateway.dll?Action=open&Server=XX HTTP/1.1\r\n',
    'POST /gateway/gateway.dll?foo=bar HTTP/1.1\r\n',
    'POST /other/gateway.dll?SessionID=1 HTTP/1.1\r\n',
    'GET /gateway/gateway.dll?SessionID=1 HTTP/1.1\r\n',
    'POST /login HTTP/1.1\r\n',
    'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n\r\nok',
    'HTTP/1.1 200 OK\r\nX-MSN-Messenger: GW-IP=1.2.3.4\r\n\r\n',
    `HTTP/1.1 200 OK\r\n${'X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(200)}`,
    'PUT /x HTTP/1.1\r\n',
    'SSH-2.0-OpenSSH_9.2\r\n',
    Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]),
    'NICK alice\r\nUSER alice 0 * :Alice\r\n',
    ':irc.example.net 001 alice :Welcome\r\n',
    "<?xml version='1.0'?><stream:stream to='example.com'>",
    'ACK sip:bob@example.com SIP/2.0\r\n',
    'BYE sip:bob@example.com SIP/2.0\r\n',
    '220 smtp.example.com ESMTP ready\r\n',
    '230 Login successful.\r\n',
    'EHLO client.example.com\r\n',
    'VER MSNFTP\r\n',
    'YMSG\x00\x10\x00\x00',
    'XYZ 1 2\r\n',
    'VER abc\r\n',
    'MSG hello there\r\n',
    Buffer.alloc(64, 0),
    `${'A'.repeat(5000)}`,
  ];
  for (const s of no) t.equal(probe(s, 0), Probe.No, JSON.stringify(typeof s === 'string' ? s.slice(0, 40) : 'binary'));
});

t.test('mid-stream: a cut first line is skipped, the next decides', async (t) => {
  t.equal(probe('ail.com Bob 97\r\nMSG bob@hotmail.com Bob 97\r\n', 1, true), Probe.Yes);
  t.equal(probe('ail.com Bob 97\r\nGET / HTTP/1.1\r\n', 1, true), Probe.No);
  t.equal(probe('ail.com Bob 97\r\nMSG bob', 1, true), Probe.Need);
  t.equal(probe('ail.com Bob 97\r\n', 1, false), Probe.No, 'from the start, a bad first line is No');
  t.equal(probe('ody\r\nHTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=1.2\r\n\r\n', 1, true), Probe.Yes, 'a gateway answer after a cut body');
  t.equal(probe('ody\r\nPOST /x HTTP/1.1\r\n', 0, true), Probe.No);
});
