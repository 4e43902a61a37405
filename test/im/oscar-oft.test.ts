/**
 * OFT2 file transfers: the direct connection a rendezvous offer announced, through the whole pipeline (expected
 * connection, file carved byte-identical, checked against tshark's reassembly of the stream), and the OFT session
 * on its own: several files, resume, UCS-2 names, gaps, excess bytes, not OFT, no offer (probe), chunking, fuzz.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { oscar, oscarOft } from '../../src/decoders/im/oscar/index.js';
import { createOftSession } from '../../src/decoders/im/oscar/oft.js';
import { Registry } from '../../src/decoders/im/registry.js';
import type { Dir } from '../../src/decoders/im/types.js';
import { conversationPcap } from '../helpers/conversation-pcap.js';
import { canonicalRows, imPipeline } from '../helpers/im-pipeline.js';
import { feed, recordingContext, type Recorded } from '../helpers/im-session.js';
import { tempDir } from '../helpers/temp.js';
import { oftHeader, oftTransfer, Oscar } from './builders/oscar.js';

const REG = new Registry([oscar, oscarOft]);
const dir = tempDir('oscar-oft');
const FILE = Buffer.concat([Buffer.from('OFT2 inside the file must not confuse anything\n'), randomBytes(5000)]);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const CTX = { filename: 'notes.bin', size: FILE.length, files: 1, sender: 'alice0', recipient: 'bob', cookie: '00' };

function run(parts: [Dir, Uint8Array | string | { gap: number }][], expected: unknown = CTX, chunk = Infinity): Recorded {
  const { ctx, rec } = recordingContext({ expected, serverPort: 5200 });
  feed(createOftSession(ctx), parts, chunk);
  return rec;
}

/** Alice (10.0.0.5, on the BOS flow) offers notes.bin; Bob (10.0.0.77) connects to her port and she sends it. */
function offerAndTransfer(file: Buffer, name: string): string {
  const bos = new Oscar().bosLogin('alice0').fileOffer(0, 'bob', { cookie: 'ck000001', ip: '10.0.0.5', port: 5200, filename: name, size: file.length });
  const pcap = conversationPcap([
    { client: '10.0.0.5', server: '10.0.0.9', cport: 40000, sport: 5190, parts: bos.parts },
    { client: '10.0.0.77', server: '10.0.0.5', cport: 41000, sport: 5200, parts: oftTransfer(file, name, 'ck000001', 1) },
  ]);
  const f = path.join(dir, `${name}.pcap`);
  fs.writeFileSync(f, pcap);
  return f;
}

t.test('a direct transfer announced by a rendezvous offer: carved byte-identical, as tshark reassembles the stream', async (t) => {
  const file = offerAndTransfer(FILE, 'notes.bin');
  const out = tempDir('oscar-oft-extract');
  const r = await imPipeline(file, 0, out, REG);
  t.same(r.verdicts.map((v) => [v.protocol, v.app, v.kind, v.method, v.confidence]), [
    ['oscar', 'aim', 'chat', 'payload', 1],
    ['oscar-oft', 'aim', 'file', 'expected', 1],
  ]);
  const tr = r.rows.transfers ?? [];
  t.same(tr.map((x) => [x.sender, x.recipient, x.filename, x.size, x.bytes_seen, x.complete, x.method]), [['alice0', 'bob', 'notes.bin', FILE.length, FILE.length, true, 'oft']]);
  t.equal(tr[0]!.sha256, sha(FILE));
  t.equal(tr[0]!.md5, md5(FILE));
  const carved = fs.readFileSync(String(tr[0]!.path));
  t.ok(carved.equals(FILE), 'the extracted file is the file');
  // tshark has no OFT dissector: the server→client bytes of stream 1 are the prompt header, then the file.
  const follow = execFileSync('tshark', ['-r', file, '-q', '-z', 'follow,tcp,raw,1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const chunks = follow.split('\n').filter((l) => /^\t[0-9a-f]+$/.test(l)).map((l) => Buffer.from(l.trim(), 'hex'));
  const fromServer = Buffer.concat(chunks);
  t.equal(fromServer.subarray(0, 4).toString(), 'OFT2');
  const hl = fromServer.readUInt16BE(4);
  t.ok(fromServer.subarray(hl, hl + FILE.length).equals(carved), "tshark's reassembly after the header equals the carved file");
  const seg = await imPipeline(file, 1, null, REG);
  t.same(canonicalRows(seg.rows), canonicalRows((await imPipeline(file, 0, null, REG)).rows), '1-byte segments: same rows');
});

t.test('an OFT2 connection without its offer is recognised by the probe', async (t) => {
  const f = path.join(dir, 'no-offer.pcap');
  fs.writeFileSync(f, conversationPcap([{ client: '10.0.0.77', server: '10.0.0.5', cport: 41000, sport: 4000, parts: oftTransfer(FILE, 'lone.bin', 'x', 1) }]));
  const r = await imPipeline(f, 0, null, REG);
  t.same(r.verdicts.map((v) => [v.protocol, v.method, v.kind]), [['oscar-oft', 'payload', 'file']]);
  t.same((r.rows.transfers ?? []).map((x) => [x.sender, x.filename, x.complete, x.sha256]), [[null, 'lone.bin', true, sha(FILE)]]);
});

t.test('session: several files, either direction, 0-byte file, UCS-2 names, 1-byte chunks', async (t) => {
  const a = Buffer.from('first file');
  const b = Buffer.alloc(0);
  const c = randomBytes(300);
  const h = (type: number, name: string, size: number, charset?: number) => oftHeader(type, { cookie: 'k', name, size, files: 3, charset });
  const parts: [Dir, Uint8Array][] = [
    [0, h(0x0101, 'a.txt', a.length)],
    [1, h(0x0202, 'a.txt', a.length)],
    [0, a],
    [1, h(0x0204, 'a.txt', a.length)],
    [0, h(0x0101, 'empty', 0)],
    [1, h(0x0202, 'empty', 0)],
    [1, h(0x0204, 'empty', 0)],
    [0, h(0x0101, 'Grüße-你好.bin', c.length, 2)],
    [1, h(0x0202, 'Grüße-你好.bin', c.length, 2)],
    [0, c],
    [1, h(0x0204, 'Grüße-你好.bin', c.length, 2)],
  ];
  for (const chunk of [Infinity, 1, 13]) {
    const r = run(parts, CTX, chunk);
    t.same(r.anomalies, [], `chunk ${chunk}`);
    t.same(r.transfers.map((x) => [x.filename, x.size, x.bytes_seen, x.complete, x.sender]), [
      ['a.txt', a.length, a.length, true, 'alice0'],
      ['empty', 0, 0, true, 'alice0'],
      ['Grüße-你好.bin', c.length, c.length, true, 'alice0'],
    ]);
    t.ok(r.files.get('Grüße-你好.bin')!.equals(c));
    t.equal(r.confirmed, 1);
    t.equal(r.kind, 'file');
  }
});

t.test('session: a resumed transfer is carved from its offset and incomplete', async (t) => {
  const h = (type: number, received = 0) => oftHeader(type, { cookie: 'k', name: 'big.bin', size: FILE.length, received });
  const r = run([
    [1, h(0x0101)],
    [0, h(0x0205, 1000)],
    [1, h(0x0106, 1000)],
    [0, h(0x0207, 1000)],
    [1, FILE.subarray(1000)],
    [0, h(0x0204)],
  ]);
  t.same(r.anomalies.map((a) => a.code), ['oscar_oft_resume']);
  t.same(r.transfers.map((x) => [x.filename, x.bytes_seen, x.complete]), [['big.bin', FILE.length - 1000, false]]);
  t.ok(r.files.get('big.bin')!.equals(FILE.subarray(1000)));
});

t.test('session: gaps, a cut transfer, excess bytes, not OFT, ICQ app', async (t) => {
  const parts = oftTransfer(FILE, 'g.bin', 'k', 0);
  const gap = run([parts[0]!, parts[1]!, [0, FILE.subarray(0, 100)], [0, { gap: 50 }], [0, FILE.subarray(150)], parts[3]!]);
  t.same(gap.transfers.map((x) => [x.bytes_seen, x.complete]), [[FILE.length - 50, false]]);
  const cut = run([parts[0]!, parts[1]!, [0, FILE.subarray(0, 100)]]);
  t.same(cut.transfers.map((x) => [x.bytes_seen, x.complete]), [[100, false]], 'closed at the end');
  const excess = run([...parts, [0, Buffer.from('trailing junk that is not a header')]]);
  t.same(excess.anomalies.map((a) => a.code), ['oscar_oft_size_exceeded']);
  t.same(excess.transfers.map((x) => x.complete), [true]);
  const notOft = run([[0, 'GET / HTTP/1.1\r\n\r\n']]);
  t.match(notOft.rejected, /not OFT2/);
  t.same(notOft.anomalies.map((a) => a.code), ['oscar_oft_bad_header']);
  const icq = run(parts, { ...CTX, sender: '123456', recipient: '654321' });
  t.equal(icq.app, 'icq');
  const junkCtx = run(parts, 'not a context');
  t.same(junkCtx.transfers.map((x) => [x.sender, x.filename, x.complete]), [[null, 'g.bin', true]]);
});

t.test('fuzz: mutated transfers give only declared anomalies, never throw, and do not depend on chunking', async (t) => {
  const declared = new Set(Object.keys(oscarOft.anomalies));
  const base = oftTransfer(randomBytes(700), 'f.bin', 'k', 1);
  let seed = 777;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const strip = (r: Recorded) => JSON.stringify({ ...r, files: [...r.files].map(([k, v]) => [k, v.toString('hex')]) }, (k, v: unknown) => (k === 'ts' ? undefined : v));
  for (let round = 0; round < 200; round++) {
    const parts = base.map(([d, p]) => [d, Buffer.from(p)] as [Dir, Buffer]);
    for (let k = 0; k < 1 + rnd(3); k++) {
      const part = parts[rnd(parts.length)]![1];
      part[rnd(part.length)] = rnd(256);
    }
    let r: Recorded | null = null;
    t.doesNotThrow(() => (r = run(parts)));
    for (const a of r!.anomalies) if (!declared.has(a.code)) t.fail(`undeclared ${a.code}`);
    t.equal(strip(run(parts, CTX, 1 + rnd(40))), strip(r!), `round ${round}`);
  }
});
