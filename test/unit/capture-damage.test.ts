// Bad input: truncated and corrupted captures (cut and overwritten bytes of real files), garbage, impossible
// lengths. Every good record before and after the damage is kept; the issue names the byte offset.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fixture } from '../helpers/fixtures.js';
import { readRows, type Row } from '../helpers/read.js';
import { readCapture, NotACaptureError } from '../../src/decoders/capture/reader.js';
import { PcapngBuilder } from '../helpers/build.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-damage-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const write = (b: Buffer) => {
  const p = path.join(tmp, `f${n++}.cap`);
  fs.writeFileSync(p, b);
  return p;
};
/** Byte offset just past each record: where the next record starts. */
const ends = (rows: Row[], whole: Buffer, ng: boolean) =>
  rows.map((r) => (ng ? r.fileOffset + whole.readUInt32LE(r.fileOffset + 4) : r.fileOffset + 16 + r.caplen));

for (const name of ['irc/irc-privmsg.pcap', 'apps/stun_signal.pcapng']) {
  const whole = fs.readFileSync(fixture(name));
  const ng = name.endsWith('ng');

  t.test(`${name} cut at many lengths: every complete record before the cut, then one truncation issue`, async (t) => {
    const full = (await readRows(fixture(name))).rows;
    const stops = ends(full, whole, ng);
    const firstRecord = full[0]!.fileOffset;
    // every cut inside the first few records, then a spread through the file
    const cuts = new Set<number>();
    for (let c = firstRecord; c < firstRecord + 400; c++) cuts.add(c);
    for (let c = firstRecord; c < whole.length; c += 97) cuts.add(c);
    for (const cut of cuts) {
      const { rows, summary } = await readRows(write(whole.subarray(0, cut)), { chunkBytes: 256 });
      const complete = stops.filter((e) => e <= cut).length;
      if (rows.length !== complete) {
        t.fail(`cut at ${cut}: ${rows.length} packets, expected ${complete}`);
        return;
      }
      t.same(rows, full.slice(0, complete));
      const clean = cut === firstRecord || stops.includes(cut);
      const issue = summary.issues.list[0];
      if (clean) t.equal(summary.issues.list.length, 0, `cut at ${cut} falls between records: no damage`);
      else {
        t.equal(issue?.code, ng ? 'pcapng_truncated_block' : 'pcap_truncated_record', `cut at ${cut}`);
        t.equal(issue?.offset, complete > 0 ? stops[complete - 1] : firstRecord, `issue at the start of the incomplete record (cut ${cut})`);
      }
    }
  });

  t.test(`${name} with one record's length overwritten: resynchronised, only that record lost`, async (t) => {
    const full = (await readRows(fixture(name))).rows;
    for (const k of [0, 1, 5, full.length - 2]) {
      const b = Buffer.from(whole);
      const at = full[k]!.fileOffset;
      b.writeUInt32LE(0x7ffffff0, at + (ng ? 4 : 8)); // block length / captured length
      const { rows, summary } = await readRows(write(b), { chunkBytes: 4096 });
      t.same(rows.map((r) => r.sha1), full.filter((_, i) => i !== k).map((r) => r.sha1), `record ${k + 1} lost, all others kept`);
      const codes = summary.issues.list.map((i) => [i.code, i.offset]);
      t.same(codes, [
        [ng ? 'pcapng_bad_block_length' : 'pcap_record_too_large', at],
        ['resync', full[k + 1]!.fileOffset],
      ]);
      t.equal(summary.issues.damaged, true);
    }
  });

  t.test(`${name} with garbage inserted between records: skipped, nothing lost`, async (t) => {
    const full = (await readRows(fixture(name))).rows;
    const at = full[3]!.fileOffset;
    const junk = Buffer.alloc(1001);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) & 0xff;
    const b = Buffer.concat([whole.subarray(0, at), junk, whole.subarray(at)]);
    const { rows, summary } = await readRows(write(b));
    t.same(rows.map((r) => r.sha1), full.map((r) => r.sha1));
    t.equal(summary.issues.list.at(-1)!.code, 'resync');
    t.equal(summary.issues.list.at(-1)!.offset, at + junk.length);
  });
}

t.test('a pcapng block whose trailing length disagrees is corrupt', async (t) => {
  const whole = fs.readFileSync(fixture('apps/google_chat.pcapng'));
  const full = (await readRows(fixture('apps/google_chat.pcapng'))).rows;
  const b = Buffer.from(whole);
  const at = full[2]!.fileOffset;
  const len = b.readUInt32LE(at + 4);
  b.writeUInt32LE(len + 4, at + len - 4);
  const { rows, summary } = await readRows(write(b));
  t.equal(summary.issues.list[0]!.code, 'pcapng_trailer_mismatch');
  t.equal(summary.issues.list[0]!.offset, at);
  t.same(rows.map((r) => r.sha1), full.filter((_, i) => i !== 2).map((r) => r.sha1));
});

t.test('a section header with an unknown byte-order mark is corrupt; the blocks after it are still read', async (t) => {
  const ip = Buffer.alloc(20, 0x45);
  const one = new PcapngBuilder().section().iface({ linktype: 101 }).epb(0, 1n, ip).build();
  const bad = Buffer.from(one);
  bad.writeUInt32LE(0x11223344, 8);
  const { rows, summary } = await readRows(write(Buffer.concat([one, bad, one])));
  // Only the damaged section header (28 bytes) is skipped: its interface and packet blocks are intact and kept.
  t.equal(rows.length, 3);
  t.same(summary.issues.list.map((i) => [i.code, i.offset]), [['pcapng_bad_byte_order', one.length], ['resync', one.length + 28]]);
});

t.test('impossible lengths never allocate what they claim, and never hang', async (t) => {
  // A pcap whose only record claims 4 GiB, then nothing valid.
  const h = Buffer.from(fs.readFileSync(fixture('irc/irc-353.pcap')).subarray(0, 24));
  const rec = Buffer.alloc(16, 0xff);
  const before = process.memoryUsage().rss;
  const r1 = await readRows(write(Buffer.concat([h, rec, Buffer.alloc(100000, 0xff)])));
  t.equal(r1.rows.length, 0);
  t.same(r1.summary.issues.list.map((i) => i.code), ['pcap_record_too_large', 'resync_failed']);
  // A pcapng whose second block claims 2 GiB.
  const ng = new PcapngBuilder().section().build();
  const big = Buffer.alloc(12);
  big.writeUInt32LE(6, 0);
  big.writeUInt32LE(0x7ffffffc, 4);
  const r2 = await readRows(write(Buffer.concat([ng, big, Buffer.alloc(5000)])));
  t.equal(r2.summary.issues.list[0]!.code, 'pcapng_bad_block_length');
  t.ok(process.memoryUsage().rss - before < 256 << 20, 'memory did not follow the bogus lengths');
});

t.test('a resynchronisation gives up after maxResyncBytes', async (t) => {
  const h = Buffer.from(fs.readFileSync(fixture('irc/irc-353.pcap')).subarray(0, 24));
  const { summary } = await readRows(write(Buffer.concat([h, Buffer.alloc(16, 0xff), Buffer.alloc(300000, 0xff)])), { maxResyncBytes: 1000 });
  t.same(summary.issues.list.map((i) => i.code), ['pcap_record_too_large', 'resync_failed']);
  t.match(summary.issues.list[1]!.message, /within 1000 bytes after offset 24/);
});

t.test('inputs that are not captures are refused with a clear message', async (t) => {
  await t.rejects(readCapture(write(Buffer.from('GET / HTTP/1.1\r\n\r\n')), () => {}), { name: 'NotACaptureError', message: /not a pcap or pcapng capture \(starts with 47 45 54 20\)/ });
  await t.rejects(readCapture(write(Buffer.alloc(0)), () => {}), { message: /empty input/ });
  await t.rejects(readCapture(path.join(tmp, 'missing.pcap'), () => {}), { message: /cannot open: no such file/ });
  await t.rejects(readCapture(tmp, () => {}), { message: /is a directory/ });
  t.ok(new NotACaptureError('x', 'y') instanceof Error);
});

t.test('a file shorter than the pcap header is damage, not a crash', async (t) => {
  const { rows, summary } = await readRows(write(fs.readFileSync(fixture('irc/irc-353.pcap')).subarray(0, 10)));
  t.equal(rows.length, 0);
  t.equal(summary.issues.list[0]!.code, 'capture_too_short');
});

t.test('fuzz: mutated real captures give only typed outcomes, and the reader still reads valid input after', async (t) => {
  let seed = 0x2545f491;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const sources = ['irc/irc-basic.pcap', 'apps/google_chat.pcapng', 'irc/irc-dcc-state-growth.pcapng', 'apps/skype_udp.pcap'].map((n) => fs.readFileSync(fixture(n)));
  let typed = 0;
  for (let i = 0; i < 400; i++) {
    const b = Buffer.from(sources[i % sources.length]!);
    const edits = 1 + Math.floor(rnd() * 8);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * b.length);
      if (rnd() < 0.5) b[at] = Math.floor(rnd() * 256);
      else b.writeUInt32LE(Math.floor(rnd() * 4294967296), Math.min(at, b.length - 4));
    }
    const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
    try {
      let count = 0;
      const s = await readCapture(write(cut), () => void count++, { chunkBytes: 1 + Math.floor(rnd() * 5000) });
      if (s.packets !== count) throw new Error('packet count mismatch');
      typed++;
    } catch (e) {
      if (!(e instanceof NotACaptureError)) throw e;
      typed++;
    }
  }
  t.equal(typed, 400, 'every mutation ended in a result or NotACaptureError');
  const after = await readRows(fixture('irc/irc-basic.pcap'));
  t.equal(after.rows.length, 34);
});

t.test('standard input: the same packets as the file, plain or gzip', async (t) => {
  const { gzipSync } = await import('node:zlib');
  const file = fixture('apps/whatsapp_login_chat.pcap');
  const whole = fs.readFileSync(file);
  const expected = (await readRows(file)).rows;
  const chunks = (b: Buffer) => Readable.from((function* () { for (let i = 0; i < b.length; i += 777) yield b.subarray(i, i + 777); })());
  const plain = await readRows('-', { stdin: chunks(whole) });
  t.same(plain.rows, expected);
  t.equal(plain.summary.compression, null);
  const gz = await readRows('-', { stdin: chunks(gzipSync(whole)) });
  t.same(gz.rows, expected);
  t.equal(gz.summary.compression, 'gzip');
});

t.test('gzip files are recognised by magic (any name), and a truncated gzip keeps what came before', async (t) => {
  const { gzipSync } = await import('node:zlib');
  const file = fixture('apps/whatsappfiles.pcap');
  const expected = (await readRows(file)).rows;
  const gz = gzipSync(fs.readFileSync(file));
  const r = await readRows(write(gz));
  t.equal(r.summary.compression, 'gzip');
  t.same(r.rows, expected);
  const cut = await readRows(write(gz.subarray(0, Math.floor(gz.length * 0.6))));
  t.ok(cut.rows.length > 100 && cut.rows.length < expected.length, `${cut.rows.length} packets before the gzip stream broke`);
  t.same(cut.rows, expected.slice(0, cut.rows.length));
  t.equal(cut.summary.issues.damaged, true);
  t.ok(cut.summary.issues.list.some((i) => i.code === 'gzip_error'), 'gzip_error reported');
});
