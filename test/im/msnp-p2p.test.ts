// MSNSLP/P2P file transfers relayed through the switchboard (P2Pv1, MSNP8-15): a transfer built from the documentation
// (INVITE with the file Context in two SLP chunks, 200 OK, data chunks of at most 1202 bytes with flags 0x01000030
// and footer 2, acknowledgements, BYE), written as a pcap, checked against tshark (the MSG lines and P2P-Dest headers
// msnms shows; the file rebuilt from tshark's raw TCP stream by the test's own header and offset arithmetic), carved
// byte-identical by the pipeline; the session alone: the receiving side, out-of-order and duplicate chunks, a lost
// chunk, a declined offer, an offer whose data never crosses the switchboard, foreign sessions, limits.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { run } from '../helpers/tools.js';
import { Registry } from '../../src/decoders/im/registry.js';
import { msnp, msnpFtp } from '../../src/decoders/im/msnp/index.js';
import { createMsnpSession } from '../../src/decoders/im/msnp/session.js';
import type { MsnpLimits } from '../../src/decoders/im/msnp/limits.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { clientMsg, msnmsFrames, p2pFileData, p2pMessage, p2pSwitchboardParts, p2pV1Payloads, serverMsg, slpAnswer, slpInvite, textPayload, P2P_FILE_FLAGS } from './builders/msnp.js';

const registry = new Registry([msnp, msnpFtp]);
type Row = Record<string, unknown>;
type Parts = [Dir, string | Uint8Array | { gap: number }][];
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const FILE = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n known content', 'latin1'), randomBytes(6000), Buffer.from([0, 0, 0xff])]);
const SCEN = { sender: 'alice@hotmail.com', receiver: 'bob@hotmail.com', filename: 'holiday photo.png', file: FILE, session: 1189641425 };

/**
 * The file as tshark's raw stream of the client's bytes holds it: every `MSG trid D len` payload, its MIME head
 * skipped, its 48-byte header read here (session id at 0, offset at 8, total at 16, length at 24, flags at 28, all
 * little-endian), data chunks of the session placed at their offsets.
 */
function fileFromTshark(pcap: string, session: number): { file: Buffer; chunks: number; footers: number[] } {
  const out = run('tshark', ['-n', '-r', pcap, '-q', '-z', 'follow,tcp,raw,0']);
  const client = Buffer.concat(out.split('\n').filter((l) => /^[0-9a-f]+$/.test(l)).map((l) => Buffer.from(l, 'hex')));
  let file: Buffer | null = null;
  let chunks = 0;
  const footers: number[] = [];
  const text = client.toString('latin1');
  const re = /MSG \d+ D (\d+)\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index + m[0].length;
    const payload = client.subarray(start, start + Number(m[1]));
    re.lastIndex = start + payload.length;
    const body = payload.subarray(payload.indexOf('\r\n\r\n') + 4);
    const sid = body.readUInt32LE(0);
    const offset = Number(body.readBigUInt64LE(8));
    const total = Number(body.readBigUInt64LE(16));
    const len = body.readUInt32LE(24);
    const flags = body.readUInt32LE(28);
    if (sid !== session || flags !== P2P_FILE_FLAGS) continue;
    file ??= Buffer.alloc(total);
    body.copy(file, offset, 48, 48 + len);
    footers.push(body.readUInt32BE(48 + len));
    chunks++;
  }
  return { file: file ?? Buffer.alloc(0), chunks, footers };
}

t.test('P2P file over the switchboard: tshark agrees; the carved file is byte-identical', async (t) => {
  const dir = tempDir('msnp2p');
  const pcap = path.join(dir, 'p2p.pcap');
  fs.writeFileSync(pcap, conversationPcap([{ client: '10.0.0.5', server: '207.46.108.37', cport: 40020, sport: 1863, parts: p2pSwitchboardParts(SCEN) }]));

  const frames = msnmsFrames(pcap);
  const p2p = frames.filter((f) => /^MSG \S+ \S+ \d+\r\n$/.test(f.lines[0] ?? '') && f.lines.includes('Content-Type: application/x-msnmsgrp2p\r\n'));
  const dataChunks = Math.ceil(FILE.length / 1202);
  t.equal(p2p.filter((f) => f.srcport !== 1863).length, 2 + dataChunks, 'tshark: the two INVITE chunks and the data chunks from the client');
  t.ok(p2p.filter((f) => f.srcport !== 1863).every((f) => f.lines.includes(`P2P-Dest: ${SCEN.receiver}\r\n`)), 'each addressed to the receiver');
  t.ok(frames.some((f) => f.lines.some((l) => l.includes(`INVITE MSNMSGR:${SCEN.receiver} MSNSLP/1.0`))), 'the INVITE line');
  const oracle = fileFromTshark(pcap, SCEN.session);
  t.equal(oracle.chunks, dataChunks);
  t.ok(oracle.footers.every((x) => x === 2), 'footer: application id 2');
  t.same(oracle.file, FILE, "tshark's stream, placed by offset, is the file");

  const extract = tempDir('msnp2p-x');
  const r = await imPipeline(pcap, 0, extract, registry);
  t.same(r.verdicts.map((v) => [v.protocol, v.kind, v.confidence]), [['msnp', 'chat', 1]]);
  t.same(r.rows.anomalies ?? [], []);
  const tr = (r.rows.transfers ?? []) as Row[];
  t.equal(tr.length, 1);
  t.match(tr[0], { sender: SCEN.sender, recipient: SCEN.receiver, filename: SCEN.filename, size: FILE.length, bytes_seen: FILE.length, complete: true, method: 'msnp2p', sha256: sha(FILE) });
  const files = fs.readdirSync(extract);
  t.equal(files.length, 1);
  t.ok(files[0]!.endsWith('holiday photo.png'), String(files[0]));
  t.same(fs.readFileSync(path.join(extract, files[0]!)), FILE, 'carved byte-identical');
  t.same(((r.rows.events ?? []) as Row[]).filter((e) => String(e.event).startsWith('file_')).map((e) => [e.event, e.account, e.target]), [
    ['file_offer', SCEN.sender, SCEN.receiver],
    ['file_accept', SCEN.receiver, SCEN.sender],
  ]);
  t.same(((r.rows.messages ?? []) as Row[]).map((m) => m.body), ['sending you the file', 'got it, thanks'], 'P2P messages are not chat messages');

  const bytes = await imPipeline(pcap, 1, null, registry);
  const whole = await imPipeline(pcap, 0, null, registry);
  t.same(canonicalRows(bytes.rows), canonicalRows(whole.rows), '1-byte segments: identical rows');
});

// ── the session alone: the receiver's side (client = receiver, data from the server) ──

function runParts(parts: Parts, chunk = Infinity, limits: Partial<MsnpLimits> = {}): Recorded {
  const { ctx, rec } = recordingContext({ serverPort: 1863 });
  feed(createMsnpSession(ctx, limits), parts, chunk);
  return rec;
}

const BOB = 'bob@hotmail.com';
const ALICE = 'alice@hotmail.com';
const SID = 77;
const file = randomBytes(5000);
const head: Parts = [
  [0, `USR 1 ${ALICE} 1.2.3\r\n`],
  [1, `USR 1 OK ${ALICE} Alice\r\n`],
  [1, `JOI ${BOB} Bob\r\n`],
  ...p2pV1Payloads(ALICE, slpInvite(BOB, ALICE, 'notes.txt', file.length, SID)).map((c) => [1, serverMsg(BOB, 'Bob', c)] as [1, Buffer]),
  [0, clientMsg(5, p2pV1Payloads(BOB, slpAnswer(ALICE, BOB, SID), 4000)[0]!, 'D')],
];
const data = (chunks: Buffer[]): Parts => chunks.map((c) => [1, serverMsg(BOB, 'Bob', c)] as [1, Buffer]);

t.test('receiving side: data from the server, chunks of any size', async (t) => {
  for (const chunk of [Infinity, 13, 1]) {
    const r = runParts([...head, ...data(p2pFileData(ALICE, SID, file, 2000, 1202))], chunk);
    t.same(r.anomalies, [], `chunks of ${chunk}`);
    t.same(r.transfers.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.complete, x.sha256]), [[BOB, ALICE, 'notes.txt', 5000, 5000, true, sha(file)]]);
    t.same(r.files.get('notes.txt'), file);
    t.same(r.events.filter((e) => e.event.startsWith('file_')).map((e) => [e.event, e.account]), [['file_offer', BOB], ['file_accept', ALICE]]);
  }
});

t.test('out of order, duplicates, a lost chunk, foreign sessions and flags', async (t) => {
  const chunks = p2pFileData(ALICE, SID, file, 2000, 1000);
  const shuffled = [chunks[0]!, chunks[2]!, chunks[1]!, chunks[1]!, chunks[4]!, chunks[3]!, chunks[0]!];
  const r = runParts([...head, ...data(shuffled)]);
  t.same(r.anomalies, []);
  t.match(r.transfers, [{ bytes_seen: 5000, complete: true, sha256: sha(file) }]);
  t.same(r.files.get('notes.txt'), file);

  const lost = runParts([...head, ...data([chunks[0]!, chunks[1]!, chunks[3]!, chunks[4]!])]);
  t.match(lost.transfers, [{ bytes_seen: 4000, complete: false, sha256: null }], 'a lost chunk: incomplete, the rest kept');

  // Another session id, display-picture flags, a wrong footer: not this file.
  const other = p2pMessage(ALICE, { session: SID + 1, id: 5, offset: 0, total: 5000, flags: P2P_FILE_FLAGS }, file.subarray(0, 1000), 2);
  const pic = p2pMessage(ALICE, { session: SID, id: 5, offset: 0, total: 5000, flags: 0x20 }, Buffer.alloc(1000, 1), 1);
  const foot = p2pMessage(ALICE, { session: SID, id: 5, offset: 0, total: 5000, flags: P2P_FILE_FLAGS }, Buffer.alloc(1000, 2), 12);
  const f = runParts([...head, ...data([other, pic, foot, ...chunks])]);
  t.same(f.anomalies, []);
  t.match(f.transfers, [{ bytes_seen: 5000, complete: true, sha256: sha(file) }]);

  // Data running past the offered size: an anomaly, the excess cut.
  const past = p2pMessage(ALICE, { session: SID, id: 5, offset: 4000, total: 5000, flags: P2P_FILE_FLAGS }, Buffer.concat([file.subarray(4000), Buffer.alloc(100)]), 2);
  const p = runParts([...head, ...data([...chunks.slice(0, 4), past])]);
  t.same(p.anomalies.map((a) => a.code), ['msnp_p2p_data_invalid']);
  t.match(p.transfers, [{ bytes_seen: 5000, complete: true, sha256: sha(file) }]);

  // Held out-of-order bytes over the limit: dropped, the transfer incomplete.
  const h = runParts([...head, ...data([chunks[0]!, chunks[2]!, chunks[3]!, chunks[4]!])], Infinity, { maxP2pHeldBytes: 1500 });
  t.same(h.anomalies.map((a) => a.code), ['msnp_p2p_exceeded', 'msnp_p2p_exceeded']);
  t.match(h.transfers, [{ bytes_seen: 2000, complete: false }]);
});

t.test('offers without data: declined, direct connection (data elsewhere), too many at once', async (t) => {
  const declined = runParts([...head.slice(0, -1), [0, clientMsg(5, p2pV1Payloads(BOB, slpAnswer(ALICE, BOB, SID, '603 Decline'), 4000)[0]!, 'D')], [1, serverMsg(BOB, 'Bob', textPayload('ok'))]]);
  t.same(declined.events.filter((e) => e.event.startsWith('file_')).map((e) => [e.event, e.detail]), [
    ['file_offer', `"notes.txt" (5000 bytes), P2P session ${SID}`],
    ['file_cancel', `603 Decline, P2P session ${SID}`],
  ]);
  t.match(declined.transfers, [{ filename: 'notes.txt', bytes_seen: 0, complete: false, method: 'msnp2p' }]);
  // The row comes when the answer declines, before the later message.
  t.ok(declined.transfers[0]!.ts[0] < declined.messages[0]!.ts[0]);

  const direct = runParts(head);
  t.match(direct.transfers, [{ filename: 'notes.txt', size: 5000, bytes_seen: 0, complete: false }], 'accepted but no data on the switchboard: an offer');

  const many: Parts = [head[0]!, head[1]!, head[2]!];
  for (let i = 0; i < 3; i++) {
    for (const c of p2pV1Payloads(ALICE, slpInvite(BOB, ALICE, `f${i}.txt`, 10, 100 + i), 1000 + i)) many.push([1, serverMsg(BOB, 'Bob', c)]);
  }
  const m = runParts(many, Infinity, { maxP2pFiles: 2 });
  t.same(m.anomalies.map((a) => a.code), ['msnp_p2p_exceeded']);
  t.same(m.transfers.map((x) => x.filename), ['f0.txt', 'f1.txt', 'f2.txt']);
});

t.test('fuzz: mutated P2P transfers give declared anomalies only and never throw', async (t) => {
  const declared = new Set(Object.keys(msnp.anomalies));
  const base = [...head, ...data(p2pFileData(ALICE, SID, file.subarray(0, 3000), 2000, 1202))].map(([d, p]) => [d, Buffer.from(p as Uint8Array | string)] as [Dir, Buffer]);
  let seed = 4242;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 150; i++) {
    const parts: Parts = base.map(([d, p]) => {
      const b = Buffer.from(p);
      const k = rnd(4);
      for (let j = 0; j < k; j++) b[rnd(b.length)] = rnd(256);
      return [d, b];
    });
    const { ctx, rec } = recordingContext();
    t.doesNotThrow(() => feed(createMsnpSession(ctx), parts, 1 + rnd(200)));
    for (const a of rec.anomalies) if (!declared.has(a.code)) t.fail(`undeclared ${a.code}`);
    for (const x of rec.transfers) if (x.size !== null && x.bytes_seen > x.size) t.fail('more bytes than the offered size');
  }
});
