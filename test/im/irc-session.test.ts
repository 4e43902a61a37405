// The IRC session on hand-written conversations: accounts and nick changes, every message kind, CTCP, events,
// NAMES contacts, secrets never stored, line limits, rejection of non-IRC, STARTTLS, and re-segmentation.
import t from 'tap';
import { irc } from '../../src/decoders/im/irc/index.js';
import { createIrcSession } from '../../src/decoders/im/irc/session.js';
import { feed, recordingContext, startSession, type Recorded } from '../helpers/im-session.js';
import { Probe, type Dir } from '../../src/decoders/im/types.js';

type Conv = [Dir, string | Uint8Array][];

function run(conv: Conv, chunk = Infinity): Recorded {
  const { session, rec } = startSession(irc);
  feed(session, conv, chunk);
  return rec;
}

/** The recording without times (feeding in pieces changes which piece completes a line, so its time). */
function untimed(r: Recorded): unknown {
  const strip = <T extends { ts: unknown }>(rows: T[]) => rows.map(({ ts: _ts, ...rest }) => rest);
  return { ...r, accounts: strip(r.accounts), messages: strip(r.messages), events: strip(r.events), contacts: strip(r.contacts), anomalies: strip(r.anomalies), expects: strip(r.expects), transfers: strip(r.transfers), files: [...r.files] };
}

const SESSION: Conv = [
  [1, ':irc.example.net NOTICE * :*** Looking up your hostname...\r\n'],
  [0, 'CAP LS 302\r\nPASS hunter2\r\nNICK alice\r\nUSER al 0 * :Alice Liddell\r\n'],
  [1, ':irc.example.net 433 * alice :Nickname is already in use\r\n'],
  [0, 'NICK alice_\r\n'],
  [1, ':irc.example.net 001 alice_ :Welcome to the network alice_!al@host\r\n:irc.example.net 376 alice_ :End of MOTD\r\n'],
  [0, 'JOIN #wonderland,#tea key1\r\n'],
  [1, ':alice_!al@host JOIN #wonderland\r\n:irc.example.net 332 alice_ #wonderland :All mad here\r\n:irc.example.net 353 alice_ = #wonderland :@hatter +hare alice_ dormouse!d@h %queen ~cat\r\n:irc.example.net 366 alice_ #wonderland :End\r\n'],
  [0, 'PRIVMSG #wonderland :Hello, is this the tea party?\r\n'],
  [1, ':hatter!h@hat PRIVMSG #wonderland :No room! No room!\r\n'],
  [1, '@time=2024-01-01T00:00:00.000Z;msgid=abc :hare!m@h PRIVMSG alice_ :Have some wine\r\n'],
  [0, 'PRIVMSG hare :\u0001ACTION looks around\u0001\r\n'],
  [1, ':hare!m@h NOTICE alice_ :there is none\r\n'],
  [1, ':cat!c@tree PRIVMSG alice_ :\u0001VERSION\u0001\r\n'],
  [0, 'NOTICE cat :\u0001VERSION wonderclient 1.0\u0001\r\n'],
  [0, 'PRIVMSG NickServ :IDENTIFY alice_ s3cret-pw\r\n'],
  [0, 'NICK Alice\r\n'],
  [1, ':alice_!al@host NICK :Alice\r\n'],
  [1, ':queen!q@castle KICK #wonderland hare :Off with his head\r\n'],
  [1, ':queen!q@castle TOPIC #wonderland :Croquet at noon\r\n'],
  [1, ':cat!c@tree INVITE Alice #garden\r\n'],
  [0, 'PART #wonderland :curiouser\r\n'],
  [1, ':Alice!al@host PART #wonderland :curiouser\r\n'],
  [0, 'QUIT :bye\r\n'],
  [1, ':Alice!al@host QUIT :Quit: bye\r\nERROR :Closing Link\r\n'],
];

t.test('a whole session', async (t) => {
  const r = run(SESSION);
  t.equal(r.confirmed, 1, 'confirmed: client commands and server replies');
  t.equal(r.rejected, null);
  t.same(r.anomalies, []);
  t.equal(r.serverName, 'irc.example.net');

  t.same(
    r.accounts.map((a) => [a.account, a.login, a.display_name, a.server, a.auth]),
    [
      ['alice_', 'al', 'Alice Liddell', 'irc.example.net', 'password'],
      ['Alice', 'al', 'Alice Liddell', 'irc.example.net', 'password'],
    ],
    'alice refused (433); alice_ welcomed; the nick change makes a second account',
  );
  t.match(r.events.find((e) => e.event === 'nick'), { account: 'alice_', detail: 'Alice', dir: 1 });
  t.match(r.events.find((e) => e.event === 'login'), { account: 'alice_', target: 'irc.example.net', detail: 'password' });

  t.same(
    r.messages.map((m) => [m.kind, m.sender, m.recipient, m.body, m.dir]),
    [
      ['notice', 'irc.example.net', '*', '*** Looking up your hostname...', 1],
      ['privmsg', 'alice_', '#wonderland', 'Hello, is this the tea party?', 0],
      ['privmsg', 'hatter', '#wonderland', 'No room! No room!', 1],
      ['privmsg', 'hare', 'alice_', 'Have some wine', 1],
      ['action', 'alice_', 'hare', 'looks around', 0],
      ['notice', 'hare', 'alice_', 'there is none', 1],
      ['privmsg', 'alice_', 'NickServ', 'IDENTIFY [redacted]', 0],
    ],
  );
  t.same(
    r.events.filter((e) => e.event.startsWith('ctcp')).map((e) => [e.event, e.account, e.target, e.detail]),
    [
      ['ctcp', 'cat', 'alice_', 'VERSION'],
      ['ctcp_reply', 'alice_', 'cat', 'VERSION wonderclient 1.0'],
    ],
  );
  t.same(
    r.events.filter((e) => ['join', 'part', 'quit', 'kick', 'topic', 'invite'].includes(e.event)).map((e) => [e.event, e.account, e.target, e.detail, e.dir]),
    [
      ['join', 'alice_', '#wonderland', null, 0],
      ['join', 'alice_', '#tea', null, 0],
      ['join', 'alice_', '#wonderland', null, 1],
      ['topic', null, '#wonderland', 'All mad here', 1],
      ['kick', 'hare', '#wonderland', 'by queen: Off with his head', 1],
      ['topic', 'queen', '#wonderland', 'Croquet at noon', 1],
      ['invite', 'cat', '#garden', 'Alice', 1],
      ['part', 'Alice', '#wonderland', 'curiouser', 0],
      ['part', 'Alice', '#wonderland', 'curiouser', 1],
      ['quit', 'Alice', null, 'bye', 0],
      ['quit', 'Alice', null, 'Quit: bye', 1],
    ],
  );
  t.same(
    r.contacts.map((c) => [c.account, c.contact, c.group_name, c.state]),
    [
      ['alice_', 'hatter', '#wonderland', 'op'],
      ['alice_', 'hare', '#wonderland', 'voice'],
      ['alice_', 'alice_', '#wonderland', 'member'],
      ['alice_', 'dormouse', '#wonderland', 'member'],
      ['alice_', 'queen', '#wonderland', 'halfop'],
      ['alice_', 'cat', '#wonderland', 'owner'],
    ],
  );
  const all = JSON.stringify(untimed(r));
  t.notOk(all.includes('hunter2'), 'the PASS argument is not stored');
  t.notOk(all.includes('s3cret-pw'), 'the NickServ password is not stored');
  t.notOk(all.includes('key1'), 'the channel key is not stored');
});

t.test('re-segmentation: 1-byte, 2-byte, 7-byte pieces give the same rows', async (t) => {
  const whole = untimed(run(SESSION));
  for (const chunk of [1, 2, 7, 100]) t.same(untimed(run(SESSION, chunk)), whole, `pieces of ${chunk}`);
  // Every prefix of the conversation cut at any byte, then the rest: the same rows as whole.
  const client = SESSION.filter(([d]) => d === 0).map(([, s]) => s as string).join('');
  const server = SESSION.filter(([d]) => d === 1).map(([, s]) => s as string).join('');
  const ref = untimed(run([[0, client], [1, server]]));
  for (let cut = 1; cut < client.length; cut += 13) {
    t.same(untimed(run([[0, client.slice(0, cut)], [0, client.slice(cut)], [1, server]])), ref, `client cut at ${cut}`);
  }
});

t.test('SASL PLAIN: the authentication id is the login, the password is never kept', async (t) => {
  const blob = Buffer.from('\u0000bob-account\u0000pa55word').toString('base64');
  const r = run([
    [0, 'CAP REQ :sasl\r\nNICK bob\r\nUSER bob 0 * :Bob\r\n'],
    [1, ':srv.example CAP * ACK :sasl\r\n'],
    [0, 'AUTHENTICATE PLAIN\r\n'],
    [1, 'AUTHENTICATE +\r\n'],
    [0, `AUTHENTICATE ${blob}\r\n`],
    [1, ':srv.example 900 bob bob!bob@h bob-account :You are now logged in as bob-account\r\n:srv.example 903 bob :SASL authentication successful\r\n'],
    [0, 'CAP END\r\n'],
    [1, ':srv.example 001 bob :Welcome\r\n'],
  ]);
  t.same(r.accounts.map((a) => [a.account, a.login, a.auth]), [['bob', 'bob-account', 'sasl_plain']]);
  const all = JSON.stringify(untimed(r));
  t.notOk(all.includes('pa55word') || all.includes(blob), 'neither the password nor the blob');
});

t.test('SASL: a failed mechanism, then PLAIN', async (t) => {
  const blob = Buffer.from('zed\u0000zed\u0000SECRETPW').toString('base64');
  const r = run([
    [0, 'CAP REQ :sasl\r\nNICK zed\r\nUSER zed 0 * :Zed\r\nAUTHENTICATE EXTERNAL\r\n'],
    [1, ':srv.example 904 * :SASL authentication failed\r\n'],
    [0, 'AUTHENTICATE PLAIN\r\n'],
    [1, 'AUTHENTICATE +\r\n'],
    [0, `AUTHENTICATE ${blob}\r\nCAP END\r\n`],
    [1, ':srv.example 001 zed :Welcome\r\n'],
  ]);
  t.same(r.accounts.map((a) => [a.account, a.login, a.auth]), [['zed', 'zed', 'sasl_plain']]);
  t.notOk(JSON.stringify(untimed(r)).includes('SECRETPW'));
});

t.test('nicks sent before STARTTLS are still accounts when the rest is encrypted', async (t) => {
  const r = run([
    [0, 'NICK early\r\nSTARTTLS\r\n'],
    [1, ':s.example 670 * :go ahead\r\n'],
  ]);
  t.equal(r.encrypted, 'starttls');
  t.same(r.accounts.map((a) => a.account), ['early']);
});

t.test('echo-message: the server\'s echo of the client\'s own message is not recorded twice', async (t) => {
  const r = run([
    [0, 'CAP REQ :echo-message\r\nNICK eve\r\nUSER eve 0 * :Eve\r\n'],
    [1, ':s.example CAP eve ACK :echo-message\r\n:s.example 001 eve :Welcome\r\n'],
    [0, 'PRIVMSG #c :hi\r\n'],
    [1, ':eve!e@h PRIVMSG #c :hi\r\n:bob!b@h PRIVMSG #c :hey\r\n'],
  ]);
  t.same(r.messages.map((m) => [m.sender, m.body, m.dir]), [['eve', 'hi', 0], ['bob', 'hey', 1]]);
});

t.test('text decoding: UTF-8, else ISO-8859-1 with the raw bytes; formatting codes kept', async (t) => {
  const latin = Buffer.concat([Buffer.from(':x!x@h PRIVMSG #c :caf'), Buffer.from([0xe9]), Buffer.from(' cr\u00e8me\r\n', 'latin1')]);
  const r = run([
    [0, 'NICK me\r\nUSER me 0 * :Me\r\n'],
    [1, ':s.example 001 me :Welcome\r\n'],
    [1, Buffer.from(':x!x@h PRIVMSG #c :Umeå — 日本語 ✓\r\n', 'utf8')],
    [1, latin],
    [1, ':x!x@h PRIVMSG #c :\u0002bold\u0002 \u000304red\u0003 \u001funder\u001f\r\n'],
  ]);
  t.same(r.messages[0]!.body, 'Umeå — 日本語 ✓');
  t.equal(r.messages[0]!.body_raw, null);
  t.equal(r.messages[1]!.body, 'café crème');
  t.same(Buffer.from(r.messages[1]!.body_raw!), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x63, 0x72, 0xe8, 0x6d, 0x65]), 'the bytes as sent');
  t.equal(r.messages[2]!.body, '\u0002bold\u0002 \u000304red\u0003 \u001funder\u001f', 'mIRC codes kept as sent');
});

t.test('line size: over 512 bytes (or 8191 bytes of tags) is an anomaly, skipped, and parsing goes on', async (t) => {
  const long = `PRIVMSG #c :${'x'.repeat(600)}\r\n`;
  const ok510 = `PRIVMSG #c :${'y'.repeat(510 - 'PRIVMSG #c :'.length)}\r\n`;
  const tags = `@${'t'.repeat(9000)} PRIVMSG #c :tagged\r\n`;
  const goodTags = `@${'t'.repeat(8000)} PRIVMSG #c :fine\r\n`;
  for (const chunk of [Infinity, 1, 100]) {
    const r = run(
      [
        [0, 'NICK me\r\nUSER me 0 * :Me\r\n'],
        [1, ':s.example 001 me :Welcome\r\n'],
        [0, long],
        [0, ok510],
        [0, tags],
        [0, goodTags],
        [0, 'PRIVMSG #c :after\r\n'],
        [0, `PRIVMSG #c :${'z'.repeat(3000)}`],
      ],
      chunk,
    );
    t.same(
      r.anomalies.map((a) => [a.code, a.detail]),
      [
        ['irc_line_size_exceeded', `client line of ${long.length - 2} bytes exceeds 512`],
        ['irc_line_size_exceeded', `client tag section of a line of ${tags.length - 2} bytes exceeds 8191`],
        ['irc_line_size_exceeded', `client line of ${3000 + 'PRIVMSG #c :'.length} bytes exceeds 512 (unterminated)`],
      ],
      `chunks of ${chunk}`,
    );
    t.same(r.messages.map((m) => m.body!.slice(0, 5)), ['yyyyy', 'fine', 'after'], `chunks of ${chunk}: the lines around are parsed`);
  }
});

t.test('bounded buffering: a partial line is left unconsumed only up to the limit', async (t) => {
  const { ctx, rec } = recordingContext();
  const s = createIrcSession(ctx);
  const part = Buffer.from('PRIVMSG #c :abc');
  t.equal(s.onData(0, part, 0, part.length, [1, 0]), 0, 'an unfinished line is not consumed');
  const big = Buffer.alloc(100_000, 0x61);
  t.equal(s.onData(0, big, 0, big.length, [2, 0]), big.length, 'over the limit: consumed (skipped)');
  s.onEnd(0, [3, 0]);
  t.same(rec.anomalies.map((a) => a.code), ['irc_line_size_exceeded']);
});

t.test('not IRC: rejected before confirmation; after it, invalid lines are anomalies up to a limit', async (t) => {
  const r1 = run([
    [0, 'NICK a\r\n'],
    [0, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10, 0x0a, 0x00, 0x0d, 0x0a])],
  ]);
  t.match(r1.rejected, /not IRC/);
  t.equal(r1.confirmed, null);

  const r0 = run([[0, 'ut-off tail/of a line\r\nNICK a\r\n']]);
  t.equal(r0.rejected, null, 'the first line may be the tail of a cut line');
  t.same(r0.accounts.map((a) => a.account), ['a']);
  const r3 = run([[0, 'NICK a\r\nut-off tail/of a line\r\n']]);
  t.match(r3.rejected, /client line of 21 bytes is not IRC \(bad command\)/, 'but not a later one');

  const junk = Array.from({ length: 25 }, (_, i) => `${i}-not-a-command\r\n`).join('');
  const r2 = run([
    [0, 'NICK a\r\nUSER a 0 * :A\r\n'],
    [1, ':s.example 001 a :Welcome\r\n'],
    [0, junk],
    [0, 'PRIVMSG #c :never parsed\r\n'],
  ]);
  t.equal(r2.confirmed, 1);
  t.equal(r2.anomalies.filter((a) => a.code === 'irc_invalid_line').length, 20);
  t.match(r2.rejected, /21 invalid lines exceed 20/);
  t.same(r2.messages, [], 'nothing parsed after giving up');
});

t.test('STARTTLS: confirmed by 670, then nothing more is read', async (t) => {
  const { session, rec } = startSession(irc);
  const a = Buffer.from('STARTTLS\r\n');
  t.equal(session.onData(0, a, 0, a.length, [1, 0]), a.length);
  const b = Buffer.from(':irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n\u0016\u0003\u0001');
  t.equal(session.onData(1, b, 0, b.length, [2, 0]), b.length);
  t.equal(rec.encrypted, 'starttls');
  const hello = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]);
  t.equal(session.onData(0, hello, 0, hello.length, [3, 0]), hello.length, 'consumed, not parsed');
  t.equal(rec.rejected, null);
  t.same(rec.anomalies, []);

  const r2 = run([
    [0, 'STARTTLS\r\n'],
    [0, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])],
  ]);
  t.equal(r2.encrypted, 'starttls', 'a TLS record after STARTTLS, 670 not seen');
});

t.test('mid-stream pickup: the nick comes from the server\'s replies', async (t) => {
  const r = run([
    [1, 'se\r\n:irc.example.net 372 zed :- message of the day\r\n:a!a@h PRIVMSG zed :hi zed\r\n'],
    [0, 'PRIVMSG a :hi a\r\n'],
  ]);
  t.equal(r.rejected, null);
  t.same(r.accounts.map((a) => [a.account, a.server]), [['zed', 'irc.example.net']]);
  t.same(r.messages.map((m) => [m.sender, m.recipient]), [['a', 'zed'], ['zed', 'a']]);
});

t.test('one-sided client capture: the nicks asked for are the accounts at the end', async (t) => {
  const r = run([[0, 'PASS x\r\nNICK first\r\nUSER u 0 * :Real\r\nNICK second\r\nPRIVMSG #c :hello\r\n']]);
  t.same(r.accounts.map((a) => [a.account, a.login, a.display_name, a.auth]), [['first', 'u', 'Real', 'password'], ['second', 'u', 'Real', 'password']]);
  t.same(r.messages.map((m) => m.sender), ['second']);
  t.equal(r.confirmed, null, 'one side only: the dispatcher decides at the end');
});

t.test('malformed commands', async (t) => {
  const r = run([
    [0, 'NICK a\r\nUSER a 0 * :A\r\n'],
    [1, ':s.example 001 a :Welcome\r\n:s.example 353 a\r\n'],
    [0, 'PRIVMSG #c\r\nPRIVMSG\r\nNOTICE\r\n'],
  ]);
  t.same(r.anomalies.map((a) => [a.code, a.detail]), [
    ['irc_names_malformed', '353 with 1 parameters, needs 3'],
    ['irc_message_malformed', 'PRIVMSG with 1 parameters, needs a target and text'],
    ['irc_message_malformed', 'PRIVMSG with 0 parameters, needs a target and text'],
    ['irc_message_malformed', 'NOTICE with 0 parameters, needs a target and text'],
  ]);
});

t.test('whitespace as Zeek reads it: leading spaces, runs of spaces, LF or CR alone', async (t) => {
  const r = run([
    [0, '    NICK   ws\nUSER ws * * :W S\r'],
    [1, ':s.example   001   ws   :Welcome\n'],
    [0, '  PRIVMSG      #c      :spaced   text  \r\n PRIVMSG #c two words\r\n'],
  ]);
  t.same(r.accounts.map((a) => a.account), ['ws']);
  t.same(r.messages.map((m) => [m.recipient, m.body]), [['#c', 'spaced   text  '], ['#c', 'two words']]);
});

t.test('gaps: the cut line after a hole is skipped quietly', async (t) => {
  const { session, rec } = startSession(irc);
  const a = Buffer.from('NICK g\r\nUSER g 0 * :G\r\n');
  session.onData(0, a, 0, a.length, [1, 0]);
  const b = Buffer.from(':s.example 001 g :Welcome\r\n');
  session.onData(1, b, 0, b.length, [2, 0]);
  session.onGap(0, 1000, [3, 0]);
  const c = Buffer.from('of a line cut by the gap\r\nPRIVMSG #c :after the gap\r\n');
  t.equal(session.onData(0, c, 0, c.length, [4, 0]), c.length);
  session.finish([5, 0]);
  t.same(rec.anomalies, []);
  t.equal(rec.rejected, null);
  t.same(rec.messages.map((m) => m.body), ['after the gap']);
});

t.test('fuzz: mutated conversations give only typed outcomes, in any chunking', async (t) => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const declared = new Set(Object.keys(irc.anomalies));
  const specials = [0x00, 0x01, 0x0a, 0x0d, 0x20, 0x3a, 0x40, 0x21, 0xff, 0xc3];
  let rejected = 0;
  for (let iter = 0; iter < 300; iter++) {
    const conv: Conv = SESSION.map(([d, s]) => {
      const b = Buffer.from(s as string, 'utf8');
      const n = rnd(4);
      for (let k = 0; k < n; k++) b[rnd(b.length)] = rnd(2) === 0 ? specials[rnd(specials.length)]! : rnd(256);
      return [d, rnd(10) === 0 ? b.subarray(0, rnd(b.length)) : b];
    });
    let r: Recorded | null = null;
    try {
      r = run(conv, [Infinity, 1, 5, 64][rnd(4)]);
    } catch (e) {
      t.fail(`iteration ${iter} threw ${String(e)}`);
      continue;
    }
    if (r.rejected !== null) rejected++;
    for (const a of r.anomalies) if (!declared.has(a.code)) t.fail(`undeclared anomaly ${a.code}`);
    for (const m of r.messages) if (typeof m.body !== 'string') t.fail('a message without text');
  }
  t.pass(`300 mutated sessions, ${rejected} rejected as not IRC`);
  // The probe is stateless: after all that it still recognises IRC.
  t.equal(irc.probe!(Buffer.from('NICK a\r\n'), 0, 8, 0, false), Probe.Yes);
});
