// The IRC probe on hand-made first bytes: IRC lines from either side say Yes; other protocols (HTTP, TLS, SSH, FTP,
// SMTP, POP3), binary and over-long lines say No; unfinished lines say Need.
import t from 'tap';
import { irc } from '../../src/decoders/im/irc/index.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';

const probe = (s: string | Uint8Array, dir: Dir = 0, midstream = false): Probe => {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  // Offered at an offset inside a larger buffer, as views are.
  const big = new Uint8Array(b.length + 7);
  big.set(b, 3);
  return irc.probe!(big, 3, b.length, dir, midstream);
};

t.test('IRC from the client', async (t) => {
  for (const s of [
    'NICK alice\r\nUSER alice 0 * :Alice A\r\n',
    'CAP LS 302\r\n',
    'PASS secret\r\nNICK bob\r\n',
    'USER bob 0 * :Bob\r\n',
    'PRIVMSG bob :\u0001DCC SEND a.txt 167772161 5555 12\u0001\r\n',
    '    NICK brotest\r\n',
    'nick lower\n',
    '@label=1 PRIVMSG #c :hi\r\n',
    'JOIN #x\r\n',
    'AUTHENTICATE PLAIN\r\n',
  ]) {
    t.equal(probe(s), Probe.Yes, JSON.stringify(s));
  }
});

t.test('IRC from the server', async (t) => {
  for (const s of [
    ':irc.example.net NOTICE * :*** Looking up your hostname...\r\n',
    ':irc.example.net 001 alice :Welcome\r\n',
    'NOTICE AUTH :*** Looking up your hostname\r\n',
    'PING :12345\r\n',
    'ERROR :Closing Link: x (Ping timeout)\r\n',
    '@time=2024-01-01T00:00:00.000Z :nick!u@h PRIVMSG #c :hello\r\n',
    ':irc.joulunet.org 670  :STARTTLS successful\r\n',
  ]) {
    t.equal(probe(s, 1), Probe.Yes, JSON.stringify(s));
  }
});

t.test('commands IRC shares with other protocols wait for a second line', async (t) => {
  t.equal(probe('STARTTLS\r\n'), Probe.Need);
  t.equal(probe('USER foo\n'), Probe.Need, 'USER with one parameter is FTP/POP3-like');
  t.equal(probe('USER foo\nNICK foo\n'), Probe.Yes);
  t.equal(probe('PASS x\r\nQUIT\r\nLIST\r\n'), Probe.No, 'three ambiguous lines');
});

t.test('unfinished lines', async (t) => {
  t.equal(probe(''), Probe.Need);
  t.equal(probe('NICK ali'), Probe.Need);
  t.equal(probe(':irc.example.net 00'), Probe.Need);
  t.equal(probe('A'.repeat(600)), Probe.No, 'no line end within 512 bytes');
  t.equal(probe(`@${'a'.repeat(600)}`), Probe.Need, 'a tagged line may be longer');
  t.equal(probe(`@${'a'.repeat(9000)}`), Probe.No, 'but not beyond the tag limit');
});

t.test('other protocols and binary', async (t) => {
  const tlsHello = Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, ...new Array<number>(40).fill(0x41)]);
  const cases: [string, string | Uint8Array, Dir][] = [
    ['HTTP request', 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n', 0],
    ['HTTP response', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', 1],
    ['HTTP POST', 'POST /x HTTP/1.0\r\n', 0],
    ['TLS ClientHello', tlsHello, 0],
    ['SSH banner', 'SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n', 1],
    ['SSH client banner', 'SSH-2.0-PuTTY_Release_0.80\r\n', 0],
    ['SMTP greeting', '220 mail.example.com ESMTP Postfix\r\n', 1],
    ['SMTP client', 'EHLO client.example.com\r\n', 0],
    ['FTP greeting', '220 ProFTPD Server ready.\r\n', 1],
    ['POP3 greeting', '+OK POP3 server ready\r\n', 1],
    ['IMAP client', 'a001 LOGIN bob secret\r\n', 0],
    ['XMPP', "<?xml version='1.0'?><stream:stream to='example.com'>\n", 0],
    ['binary with NUL', Uint8Array.from([0x4e, 0x49, 0x43, 0x4b, 0x20, 0x00, 0x41, 0x0a]), 0],
    ['random binary', Uint8Array.from([0x00, 0x00, 0x00, 0x08, 0x19, 0x00, 0x0a, 0x37, 0x5d, 0x0a]), 0],
    ['SIP', 'INVITE sip:bob@example.com SIP/2.0\r\n', 0],
    ['numeric without prefix', '353 \n', 0],
  ];
  for (const [name, data, dir] of cases) t.equal(probe(data, dir), Probe.No, name);
});

t.test('mid-stream pickup', async (t) => {
  t.equal(probe('ello world\r\n:nick!u@h PRIVMSG #c :more\r\n', 1, true), Probe.Yes, 'the cut first line is skipped');
  t.equal(probe('ello world\r\n:nick!u@h PRIVMSG #c :more\r\n', 1, false), Probe.No, 'not from the start of the stream');
  t.equal(probe('rather than all. (Robin Sommer)\n\n  * Fix parallel make portability.\n', 1, true), Probe.No, 'HTTP body text');
  t.equal(probe('partial line without end', 1, true), Probe.Need);
  t.equal(probe(':server 372 me :- motd\r\n', 1, true), Probe.Yes);
});

t.test('the probe is bounded: a long buffer is not scanned past a few lines', async (t) => {
  const big = Buffer.alloc(1 << 20, 0x41);
  big.write('NICK a\r\n', 0);
  t.equal(probe(big), Probe.Yes);
  const big2 = Buffer.alloc(1 << 20, 0x41);
  big2.write('PASS a\r\nPASS b\r\nPASS c\r\n', 0);
  t.equal(probe(big2), Probe.No);
});
