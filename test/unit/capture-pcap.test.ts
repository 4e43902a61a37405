// Classic pcap: both magics, both byte orders, the pcap-parser oracle, and chunk-size invariance.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { pcapFile, pcapToBigEndian } from '../helpers/build.js';
import { allCaptures, fixture, rel } from '../helpers/fixtures.js';
import { epoch9, readRows, type Row } from '../helpers/read.js';
import { tsharkFrames } from '../helpers/tools.js';

const require = createRequire(import.meta.url);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-pcap-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, b: Buffer): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, b);
  return p;
}

const pkts = [
  { sec: 1_000_000_000, frac: 1, data: Buffer.from('0123456789abcdef', 'hex') },
  { sec: 1_000_000_001, frac: 999_999, data: Buffer.alloc(60, 0xab), origlen: 1514 },
  { sec: 4_294_967_295, frac: 0, data: Buffer.alloc(0) },
];

for (const le of [true, false]) {
  t.test(`microsecond pcap, ${le ? 'little' : 'big'}-endian`, async (t) => {
    const f = write(`us-${le}.pcap`, pcapFile({ le, linktype: 101, snaplen: 2000 }, pkts));
    const { rows, summary } = await readRows(f);
    t.equal(summary.format, 'pcap');
    t.equal(summary.byteOrder, le ? 'little' : 'big');
    t.equal(summary.precision, 'microseconds');
    t.same(summary.linktypes, [101]);
    t.equal(summary.snaplen, 2000);
    t.same(
      rows.map((r) => [r.sec, r.nsec, r.caplen, r.origlen, r.linktype, r.fileOffset]),
      [
        [1_000_000_000, 1000, 8, 8, 101, 24],
        [1_000_000_001, 999_999_000, 60, 1514, 101, 24 + 16 + 8],
        [4_294_967_295, 0, 0, 0, 101, 24 + 16 + 8 + 16 + 60],
      ],
    );
    t.equal(summary.issues.list.length, 0);
  });
  t.test(`nanosecond pcap, ${le ? 'little' : 'big'}-endian`, async (t) => {
    const f = write(`ns-${le}.pcap`, pcapFile({ le, nano: true, linktype: 1 }, [{ sec: 1_500_000_000, frac: 999_999_999, data: Buffer.alloc(20) }]));
    const { rows, summary } = await readRows(f);
    t.equal(summary.precision, 'nanoseconds');
    t.same([rows[0]!.sec, rows[0]!.nsec], [1_500_000_000, 999_999_999]);
  });
}

t.test('the FCS-length bits of the link-type field are not part of the link type', async (t) => {
  const f = write('fcs.pcap', pcapFile({ linktype: 1 | 0x10000000 | (4 << 28) }, [pkts[0]!]));
  const { summary } = await readRows(f);
  t.same(summary.linktypes, [1]);
});

t.test('a header-only file is a complete, empty capture', async (t) => {
  const f = write('empty.pcap', pcapFile({}, []));
  const { rows, summary } = await readRows(f);
  t.equal(rows.length, 0);
  t.equal(summary.issues.damaged, false);
});

t.test('big-endian copies of real captures read the same packets', async (t) => {
  for (const name of ['irc/irc-privmsg.pcap', 'apps/KakaoTalk_talk.pcap', 'irc/irc-353.pcap']) {
    const orig = await readRows(fixture(name));
    const be = await readRows(write('be-' + path.basename(name), pcapToBigEndian(fs.readFileSync(fixture(name)))));
    t.equal(be.summary.byteOrder, 'big');
    t.same(be.rows, orig.rows, name);
  }
});

t.test('nanosecond copies made by editcap agree with tshark packet for packet', async (t) => {
  for (const name of ['sip/sip-call.pcap', 'irc/irc-basic.pcap']) {
    const out = path.join(tmp, 'ns-' + path.basename(name));
    execFileSync('editcap', ['-F', 'nsecpcap', fixture(name), out], { stdio: 'ignore' });
    const { rows, summary } = await readRows(out);
    t.equal(summary.precision, 'nanoseconds');
    const frames = tsharkFrames(out);
    t.same(
      rows.map((r) => `${epoch9(r)} ${r.origlen} ${r.caplen}`),
      frames.map((f) => `${f.time} ${f.len} ${f.caplen}`),
      name,
    );
  }
});

t.test('classic pcap agrees with pcap-parser (test oracle) packet for packet', async (t) => {
  const pcapParser = require('pcap-parser') as { parse(input: string): import('node:events').EventEmitter };
  const { createHash } = await import('node:crypto');
  const classic = allCaptures().filter((f) => fs.readFileSync(f).readUInt32LE(0) !== 0x0a0d0d0a);
  t.ok(classic.length > 30, `${classic.length} classic pcap files`);
  for (const f of classic) {
    const expected: Omit<Row, 'number' | 'linktype' | 'ifIndex' | 'fileOffset'>[] = await new Promise((resolve, reject) => {
      const list: Omit<Row, 'number' | 'linktype' | 'ifIndex' | 'fileOffset'>[] = [];
      const p = pcapParser.parse(f);
      p.on('packet', (pk: { header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number }; data: Buffer }) => {
        list.push({
          sec: pk.header.timestampSeconds,
          nsec: pk.header.timestampMicroseconds * 1000,
          caplen: pk.header.capturedLength,
          origlen: pk.header.originalLength,
          sha1: createHash('sha1').update(pk.data).digest('hex'),
        });
      });
      p.on('end', () => resolve(list));
      p.on('error', reject);
    });
    const { rows } = await readRows(f);
    t.same(
      rows.map(({ sec, nsec, caplen, origlen, sha1 }) => ({ sec, nsec, caplen, origlen, sha1 })),
      expected,
      rel(f),
    );
  }
});

t.test('the size of the read chunk changes nothing (records straddling reads)', async (t) => {
  for (const name of ['apps/whatsappfiles.pcap', 'apps/sites.pcapng', 'sip/sv-sip-body-large.pcap']) {
    const whole = await readRows(fixture(name));
    for (const chunkBytes of [64, 1000, 4093, 65536]) {
      const cut = await readRows(fixture(name), { chunkBytes });
      t.same(cut.rows, whole.rows, `${name} read ${chunkBytes} bytes at a time`);
      t.equal(cut.summary.issues.list.length, 0);
    }
  }
});
