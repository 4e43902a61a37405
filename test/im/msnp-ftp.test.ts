// File transfers: an MSNFTP invitation on a switchboard and its MSNFTP connection, built from the documentation,
// written as a pcap, checked with tshark (msnms lines of both flows; the file rebuilt from tshark's raw TCP stream),
// then carved by the pipeline byte-identical; the msnp-ftp session on its own (gaps, excess, reversed roles, hostile
// headers); MSNSLP (P2P) file offers as transfer rows with bytes_seen 0.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { feed, startSession } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { msnp, msnpFtp, type MsnFtpContext } from '../../src/decoders/im/msnp/index.js';
import { fileContext as readContext } from '../../src/decoders/im/msnp/slp.js';
import { ftpBlocks, ftpConversations, fileContext, msnmsFrames, p2pV1Payloads, serverMsg, clientMsg, slpInvite, textPayload } from './builders/msnp.js';

const registry = new Registry([msnp, msnpFtp]);
type Row = Record<string, unknown>;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const FILE = Buffer.concat([Buffer.from('%PDF-1.4 known content\n'), randomBytes(5000), Buffer.from([0, 1, 0, 0, 1, 0xff])]);
const SCEN = { sender: 'bob@hotmail.com', receiver: 'alice@hotmail.com', filename: 'report 2006.pdf', file: FILE, clientIp: '10.0.0.5', senderIp: '10.0.0.9', sbServer: '207.46.108.37', port: 6891, cookie: '197476' };

/** The file as tshark's raw TCP stream of the MSNFTP connection carries it: the sender's bytes after `FIL n\r\n`, de-blocked. */
function fileFromTshark(pcap: string): Buffer {
  const out = run('tshark', ['-n', '-r', pcap, '-q', '-z', `follow,tcp,raw,1`]);
  // Raw follow: lines of hex; lines indented by a tab are from the second node (the server, here the file's sender).
  const server = Buffer.concat(out.split('\n').filter((l) => /^\t[0-9a-f]+$/.test(l)).map((l) => Buffer.from(l.trim(), 'hex')));
  const fil = server.indexOf('FIL ');
  let at = server.indexOf('\r\n', fil) + 2;
  const parts: Buffer[] = [];
  while (at + 3 <= server.length && server[at] === 0) {
    const n = server[at + 1]! | (server[at + 2]! << 8);
    parts.push(server.subarray(at + 3, at + 3 + n));
    at += 3 + n;
  }
  return Buffer.concat(parts);
}

t.test('MSNFTP: invitation, ACCEPT with address, connection; tshark agrees; the carved file is byte-identical', async (t) => {
  const dir = tempDir('msnftp');
  const pcap = path.join(dir, 'msnftp.pcap');
  fs.writeFileSync(pcap, conversationPcap(ftpConversations(SCEN)));

  // tshark's view: the invitation's fields on the switchboard, the MSNFTP text lines on port 6891.
  const frames = msnmsFrames(pcap, [6891]);
  const lines = frames.flatMap((f) => f.lines);
  t.ok(lines.includes(`Application-File: ${SCEN.filename}\r\n`), 'tshark shows the file name');
  t.ok(lines.includes(`Application-FileSize: ${FILE.length}\r\n`), 'and its size');
  t.ok(lines.includes(`IP-Address: ${SCEN.senderIp}\r\n`) && lines.includes(`Port: ${SCEN.port}\r\n`), 'and the address the sender listens on');
  t.ok(frames.some((f) => f.srcport === SCEN.port && f.lines[0] === `FIL ${FILE.length}\r\n`), 'the sender announces the size on the MSNFTP connection');
  t.same(fileFromTshark(pcap), FILE, "tshark's stream, de-blocked, is the file");

  const extract = tempDir('msnftp-x');
  const r = await imPipeline(pcap, 0, extract, registry);
  t.same(
    r.verdicts.map((v) => [v.protocol, v.app, v.kind, v.method, v.confidence]).sort(),
    [
      ['msnp', 'msn', 'chat', 'payload', 1],
      ['msnp-ftp', 'msn', 'file', 'expected', 1],
    ],
  );
  t.same(r.rows.anomalies ?? [], []);
  const tr = (r.rows.transfers ?? []) as Row[];
  t.equal(tr.length, 1);
  t.match(tr[0], { sender: SCEN.sender, recipient: SCEN.receiver, filename: SCEN.filename, size: FILE.length, bytes_seen: FILE.length, complete: true, method: 'msnftp', sha256: sha(FILE) });
  const files = fs.readdirSync(extract);
  t.equal(files.length, 1);
  t.ok(files[0]!.endsWith('report 2006.pdf'), String(files[0]));
  t.same(fs.readFileSync(path.join(extract, files[0]!)), FILE, 'carved byte-identical');
  const ev = ((r.rows.events ?? []) as Row[]).map((e) => [e.event, e.account, e.target]);
  t.same(ev.filter((e) => String(e[0]).startsWith('file_')), [
    ['file_offer', SCEN.sender, SCEN.receiver],
    ['file_accept', SCEN.receiver, SCEN.sender],
    ['file_accept', SCEN.sender, SCEN.receiver],
  ]);
  t.same(((r.rows.messages ?? []) as Row[]).map((m) => m.body), ['here comes the file', 'thanks'], 'invitations are not messages');
  t.notOk(JSON.stringify(r.rows).includes('55512345'), 'the AuthCookie is not stored');

  const bytes = await imPipeline(pcap, 1, null, registry);
  const whole = await imPipeline(pcap, 0, null, registry);
  t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), '1-byte segments: identical rows');
});

// ── the msnp-ftp session alone ──

const CTX: MsnFtpContext = { filename: 'a.bin', size: 3000, sender: 'bob@hotmail.com', recipient: 'alice@hotmail.com', invitation: '1' };
const head: [0 | 1, string][] = [
  [0, 'VER MSNFTP\r\n'],
  [1, 'VER MSNFTP\r\n'],
  [0, 'USR alice@hotmail.com 99\r\n'],
  [1, 'FIL 3000\r\n'],
  [0, 'TFR\r\n'],
];

t.test('msnp-ftp: chunks of any size, reversed roles, excess, gaps, hostile headers, no invitation', async (t) => {
  const file = randomBytes(3000);
  for (const chunk of [Infinity, 7, 1]) {
    const { session, rec } = startSession(msnpFtp, { expected: CTX });
    feed(session, [...head, [1, ftpBlocks(file, 1000)], [0, 'BYE 16777989\r\n']], chunk);
    t.equal(rec.confirmed, 1);
    t.equal(rec.kind, 'file');
    t.same(rec.anomalies, []);
    t.match(rec.transfers, [{ filename: 'a.bin', size: 3000, bytes_seen: 3000, complete: true, method: 'msnftp', sha256: sha(file) }], `chunks of ${chunk}`);
    t.same(rec.files.get('a.bin'), file);
  }
  // Sender-Connect: the file's sender is the TCP client; FIL comes from direction 0.
  const rev = startSession(msnpFtp, { expected: CTX });
  feed(rev.session, [[1, 'VER MSNFTP\r\n'], [0, 'VER MSNFTP\r\n'], [1, 'USR alice@hotmail.com 99\r\n'], [0, 'FIL 3000\r\n'], [1, 'TFR\r\n'], [0, ftpBlocks(file)]]);
  t.match(rev.rec.transfers, [{ bytes_seen: 3000, complete: true, sha256: sha(file) }]);

  const over = startSession(msnpFtp, { expected: CTX });
  feed(over.session, [...head, [1, ftpBlocks(Buffer.concat([file, Buffer.from('extra')]))]]);
  t.same(over.rec.anomalies.map((a) => a.code), ['msnp_ftp_size_exceeded']);
  t.match(over.rec.transfers, [{ bytes_seen: 3000, complete: true }]);

  const gap = startSession(msnpFtp, { expected: CTX });
  const blocks = ftpBlocks(file, 2000);
  feed(gap.session, [...head, [1, blocks.subarray(0, 100)], [1, { gap: 50 }], [1, blocks.subarray(150)]]);
  t.match(gap.rec.transfers, [{ bytes_seen: 3000 - 50, complete: false, sha256: null }]);

  const bad = startSession(msnpFtp, { expected: CTX });
  feed(bad.session, [...head, [1, Buffer.from([7, 1, 0, 0x41])]]);
  t.same(bad.rec.anomalies.map((a) => a.code), ['msnp_ftp_block_invalid']);
  t.match(bad.rec.transfers, [{ bytes_seen: 0, complete: false }]);

  const none = startSession(msnpFtp, {});
  feed(none.session, head);
  t.match(none.rec.rejected, /without the invitation/);
  t.same(none.rec.transfers, []);

  const long = startSession(msnpFtp, { expected: CTX });
  feed(long.session, [[0, `${'A'.repeat(3000)}\r\n`], ...head, [1, ftpBlocks(file)]]);
  t.same(long.rec.anomalies.map((a) => a.code), ['msnp_ftp_line_size_exceeded']);
  t.match(long.rec.transfers, [{ complete: true }]);
});

// ── MSNSLP (P2P) file offers ──

t.test('MSNSLP file INVITE split over two P2P chunks: a transfer offer row with bytes_seen 0', async (t) => {
  t.same(readContext(fileContext('photo é.jpg', 123456789)), { name: 'photo é.jpg', size: 123456789 });
  const slp = slpInvite('alice@hotmail.com', 'bob@hotmail.com', 'photo é.jpg', 123456789);
  const chunks = p2pV1Payloads('bob@hotmail.com', slp);
  t.equal(chunks.length, 2, 'the INVITE needs two chunks');
  const parts: [0 | 1, Uint8Array | string][] = [
    [0, 'USR 1 alice@hotmail.com 1.2.3\r\n'],
    [1, 'USR 1 OK alice@hotmail.com Alice\r\n'],
    [1, 'JOI bob@hotmail.com Bob 1342177280\r\n'],
    ...chunks.map((c, i) => [0, clientMsg(2 + i, c, 'D')] as [0, Buffer]),
    // a data chunk (session id ≠ 0) and the peer's text: not part of the offer
    [1, serverMsg('bob@hotmail.com', 'Bob', textPayload('got it'))],
  ];
  for (const chunk of [Infinity, 1]) {
    const { session, rec } = startSession(msnp);
    feed(session, parts, chunk);
    t.same(rec.anomalies, []);
    t.same(rec.transfers.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.complete, x.method]), [['alice@hotmail.com', 'bob@hotmail.com', 'photo é.jpg', 123456789, 0, false, 'msnp2p']]);
    t.same(rec.events.filter((e) => e.event === 'file_offer').length, 1);
    t.same(rec.messages.map((m) => m.body), ['got it'], 'P2P messages are not messages');
  }

  // tshark sees the two P2P MSGs and the SLP start line.
  const dir = tempDir('msnslp');
  const pcap = path.join(dir, 'slp.pcap');
  fs.writeFileSync(pcap, conversationPcap([{ client: '10.0.0.5', server: '207.46.108.37', cport: 40003, sport: 1863, parts }]));
  const frames = msnmsFrames(pcap);
  t.equal(frames.filter((f) => /^MSG \d+ D \d+\r\n$/.test(f.lines[0] ?? '') && f.lines.includes('Content-Type: application/x-msnmsgrp2p\r\n')).length, 2);
  t.ok(frames.some((f) => f.lines.some((l) => l.includes('INVITE MSNMSGR:bob@hotmail.com MSNSLP/1.0'))));
  const r = await imPipeline(pcap, 0, null, registry);
  t.match(r.rows.transfers, [{ filename: 'photo é.jpg', size: 123456789, bytes_seen: 0, complete: false, method: 'msnp2p' }]);
});
