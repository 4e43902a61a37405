/**
 * The IM analyzers through the whole pipeline (reader, decoders, flow table, reassembly, dispatcher) on the real
 * captures in fixtures/pcaps:
 * - every capture: the protocols recognised are exactly the ones its folder stands for (no IRC or XMPP found in SIP,
 *   web, apps or negatives captures; `negatives/` yields no IM at all);
 * - the IRC and XMPP captures: the same rows when every TCP payload is re-cut into 1-byte segments;
 * - IRC: the messages found are the PRIVMSG/NOTICE lines tshark's reassembly shows (an independent count), and the
 *   facts Zeek's baseline records for irc-basic, irc-whitespace and irc-more-commands;
 * - the STARTTLS captures end as encrypted IRC / XMPP with nothing read after the switch.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import fs from 'node:fs';
import { allCaptures, fixture, PCAPS, ROOT, singleProtocolCaptures } from '../helpers/fixtures.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { PROTOCOLS } from '../../src/decoders/im/protocols.js';
import { APP_PROTOCOLS } from '../../src/decoders/apps/index.js';

/** The clear-text IM protocols (the apps' evidence analyzers are checked against nDPI in test/apps/ndpi-agreement.test.ts). */
const IM_IDS = new Set(PROTOCOLS.filter((p) => !APP_PROTOCOLS.includes(p)).map((p) => p.id));

/** Protocols a capture may be recognised as, by folder; a capture not listed may hold none. */
const ALLOWED: Record<string, string[]> = {
  irc: ['irc', 'irc-dcc'],
  xmpp: ['xmpp', 'xmpp-s5b'],
  oscar: ['oscar', 'oscar-oft'],
  msnp: ['msnp', 'msnp-ftp'],
  sip: ['sip'],
  'built/sip': ['sip', 'msrp'],
  'built/ymsg': ['ymsg'],
  'built/gadugadu': ['gadugadu'],
};

/** Protocols found outside their folder on purpose, and why (checked by hand against the bytes). */
const ALSO: Record<string, { protocols: string[]; why: string }> = {
  'apps/KakaoTalk_talk.pcap': {
    protocols: ['xmpp'],
    why: "one flow on port 5222 carries XMPP stanzas (urn:xmpp:ping <iq> to xiaomi.com, a phone's push channel); nDPI names it only by IP (AmazonAWS)",
  },
};

/** Captures that are deliberately not recognised, and why. */
const NOT_IM: Record<string, string> = {
  'irc/irc-353.pcap': 'a single 5-byte line "353 " from the client: Zeek analyses it only because it forces IRC on port 6666; imtap decides by payload',
};

/** The capture's folder: `irc`, `sip`…, or `built/<proto>` for the hand-built captures. */
const folderOf = (file: string) => {
  const parts = path.relative(PCAPS, file).split(path.sep);
  return parts[0] === 'built' ? `built/${parts[1]}` : parts[0]!;
};
const relName = (file: string) => path.relative(PCAPS, file);

t.test('each capture is recognised as its own protocols only; negatives as nothing', async (t) => {
  for (const file of singleProtocolCaptures()) {
    const r = await imPipeline(file);
    const any = [...new Set(r.verdicts.map((v) => `${v.protocol}/${v.app}`))].sort();
    const found = [...new Set(r.verdicts.map((v) => v.protocol))].filter((p) => IM_IDS.has(p)).sort();
    const folder = folderOf(file);
    const allowed = ALLOWED[folder] ?? [];
    const also = ALSO[relName(file)];
    const stray = found.filter((p) => !allowed.includes(p) && !(also?.protocols.includes(p) ?? false));
    if (also) t.same(found, also.protocols, `${relName(file)}: ${also.why}`);
    t.same(stray, [], `${relName(file)}: no protocol of another folder (found ${found.join(', ') || 'none'})`);
    if (folder === 'negatives') t.same(any, [], `${relName(file)}: no IM at all`);
    if (allowed.length > 0 && !(relName(file) in NOT_IM)) t.ok(found.length > 0, `${relName(file)}: recognised as ${allowed.join('/')}`);
    if (relName(file) in NOT_IM) t.same(found, [], `${relName(file)}: ${NOT_IM[relName(file)]}`);
  }
});

t.test('1-byte TCP segments give the same rows and verdicts', async (t) => {
  const files = allCaptures().filter((f) => folderOf(f) in ALLOWED);
  for (const file of files) {
    const whole = await imPipeline(file);
    const bytes = await imPipeline(file, 1);
    t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), `${relName(file)}: rows`);
    t.same(bytes.verdicts, whole.verdicts, `${relName(file)}: verdicts`);
  }
});

/**
 * PRIVMSG and NOTICE lines in the reassembled TCP streams as tshark shows them (`follow,tcp,raw`), counted with a
 * regular expression: an oracle independent of imtap's reader, reassembly and IRC parser. CTCP requests other than
 * ACTION (VERSION, DCC…) are not messages. Lines after a STARTTLS are not text.
 */
function tsharkMessageLines(file: string): number {
  const streams = execFileSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.stream'], { encoding: 'utf8' })
    .split('\n')
    .filter((x) => x !== '');
  let count = 0;
  for (const s of new Set(streams)) {
    const out = execFileSync('tshark', ['-r', file, '-q', '-z', `follow,tcp,raw,${s}`], { encoding: 'utf8', maxBuffer: 1 << 26 });
    // Each chunk is a line of hex (server→client chunks are indented by a tab).
    const text = [0, 1].map((side) =>
      Buffer.from(
        out
          .split('\n')
          .filter((l) => /^\t?[0-9a-f]+$/.test(l) && l.startsWith('\t') === (side === 1))
          .map((l) => l.trim())
          .join(''),
        'hex',
      ).toString('latin1'),
    );
    for (const dirText of text) {
      const upto = dirText.search(/^(:\S+ +)?STARTTLS\b|^:\S+ +670 /m);
      const readable = upto >= 0 ? dirText.slice(0, upto) : dirText;
      for (const line of readable.split(/\r?\n/)) {
        const m = /^ *(?:@\S+ +)?(?::\S+ +)?(PRIVMSG|NOTICE) +\S+ +:?(.*)$/i.exec(line);
        if (!m) continue;
        const body = m[2]!;
        // CTCP requests other than ACTION, and DCC offers sent without the CTCP quotes (as Zeek also reads them).
        if ((body.startsWith('\u0001') && !body.startsWith('\u0001ACTION')) || body.startsWith('DCC ')) continue;
        count++;
      }
    }
  }
  return count;
}

t.test('IRC messages: as many as the PRIVMSG/NOTICE lines tshark reassembles', async (t) => {
  for (const file of allCaptures().filter((f) => folderOf(f) === 'irc')) {
    const r = await imPipeline(file);
    t.equal((r.rows.messages ?? []).length, tsharkMessageLines(file), relName(file));
  }
});

t.test("IRC facts from Zeek's baseline (irc.events/output)", async (t) => {
  const basic = await imPipeline(fixture('irc/irc-basic.pcap'));
  t.same(basic.verdicts.map((v) => [v.protocol, v.serverName, v.confidence]), [['irc', 'leguin.freenode.net', 1]]);
  t.match(basic.rows.accounts, [{ account: 'brotest', login: 'brotest', display_name: 'brotest', side: 'client' }]);
  t.same([...new Set((basic.rows.events ?? []).filter((e) => e.event === 'join').map((e) => e.target))], ['#brotest']);
  t.same(
    (basic.rows.messages ?? []).filter((m) => m.kind === 'privmsg').map((m) => [m.sender, m.recipient, m.direction]),
    [['brotest', '#brotest', 'c2s']],
  );
  t.ok((basic.rows.events ?? []).some((e) => e.event === 'quit' && e.account === 'brotest'), 'the quit');

  const ws = await imPipeline(fixture('irc/irc-whitespace.pcap'));
  t.same(ws.verdicts.map((v) => v.serverName), ['sendak.freenode.net']);
  t.same([...new Set((ws.rows.events ?? []).filter((e) => e.event === 'join').map((e) => e.target))], ['#BROTEST']);

  const more = await imPipeline(fixture('irc/irc-more-commands.pcap'));
  t.equal(more.verdicts.length, 2, 'two client connections');
  const accounts = (more.rows.accounts ?? []).map((a) => [a.account, a.login, a.display_name, a.auth]).sort();
  t.ok(accounts.some((a) => a[0] === 'tim' && a[1] === 'tim' && a[2] === 'Tim'), 'tim with user and real name');
  t.ok(accounts.some((a) => a[0] === 'tim_'), 'the nick change to tim_');
  t.ok(accounts.every((a) => a[3] === 'password'), 'PASS was sent in clear on both connections');
  // The password here is a word that also appears as a message and a topic; it must not be in any account row.
  const json = JSON.stringify(more.rows.accounts);
  const zeek = fs.readFileSync(path.join(ROOT, 'fixtures/zeek-baselines/scripts.base.protocols.irc.events/output'), 'latin1');
  const zeekPasswords = zeek
    .slice(zeek.indexOf('irc-more-commands'))
    .split('\n')
    .filter((l) => l.startsWith('password_message: '))
    .map((l) => l.slice('password_message: '.length).trim())
    .filter((x) => x.length > 2);
  t.ok(zeekPasswords.length > 0, 'Zeek saw the PASS commands');
  for (const p of zeekPasswords) t.notOk(json.includes(JSON.stringify(p)) || json.includes(` ${p}`), 'the password is not stored');
  const ev = (name: string) => (more.rows.events ?? []).filter((e) => e.event === name);
  t.ok(ev('kick').length >= 1 && ev('kick').every((e) => e.target === '#testing'), 'kicks in #testing');
  t.ok(ev('part').length >= 1, 'parts');
  // tim_ is the second connection's nick after the server refused "tim" during registration: an account, no change.
});

t.test('STARTTLS: the flow ends as encrypted, with nothing read after it', async (t) => {
  const r = await imPipeline(fixture('irc/tls_irc-starttls.pcap'));
  t.same(r.verdicts.map((v) => [v.protocol, v.encrypted]), [['irc', true]]);
  t.ok((r.rows.events ?? []).some((e) => e.event === 'starttls'));
  t.equal((r.rows.messages ?? []).length, 0);
});

t.test('DCC: offers register expected connections; malformed ones are anomalies, not transfers', async (t) => {
  const first = await imPipeline(fixture('irc/irc-dcc-first-command.pcap'));
  t.same(first.verdicts.map((v) => [v.protocol, v.method]), [['irc', 'payload'], ['irc-dcc', 'expected']]);
  t.equal((first.rows.transfers ?? []).length, 1);
  for (const name of ['irc/irc-dcc-send-malformed-host.pcap', 'irc/irc-dcc-send-malformed-port.pcap']) {
    const r = await imPipeline(fixture(name));
    t.equal((r.rows.transfers ?? []).length, 0, `${name}: no transfer`);
    t.ok((r.rows.anomalies ?? []).some((a) => String(a.code).startsWith('irc_dcc')), `${name}: an irc_dcc anomaly`);
  }
  const growth = await imPipeline(fixture('irc/irc-dcc-state-growth.pcapng'));
  t.ok(growth.verdicts.some((v) => v.protocol === 'irc'));
});
