// pcapng: sections with their own byte order, interfaces with their own link type and timestamp resolution,
// Enhanced/Simple/obsolete Packet blocks, unknown blocks, and a multi-interface file made by mergecap.
import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PcapngBuilder } from '../helpers/build.js';
import { fixture } from '../helpers/fixtures.js';
import { epoch9, readRows } from '../helpers/read.js';
import { capinfos, tsharkFrames } from '../helpers/tools.js';
import { linktypeDescription } from '../../src/decoders/net/linktypes.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imtap-pcapng-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const write = (name: string, b: Buffer) => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, b);
  return p;
};

const ip = Buffer.from('4500001c000100004011000001020304050607080035003500080000', 'hex'); // IPv4/UDP, 28 bytes

t.test('two sections of opposite byte order, several interfaces, every packet block kind', async (t) => {
  const b = new PcapngBuilder()
    .section(true)
    .iface({ linktype: 1, snaplen: 65535, name: 'eth0' }) // default resolution: microseconds
    .iface({ linktype: 101, tsresol: 9 }) // nanoseconds
    .raw(4, Buffer.alloc(8)) // name resolution block: skipped
    .epb(0, 1_600_000_000_123_456n, Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x00]), ip]))
    .epb(1, 1_722_540_110_397_706_326n, ip)
    .raw(0x40000bad, Buffer.alloc(12, 7)) // custom block: skipped
    .spb(Buffer.concat([Buffer.alloc(14), ip]))
    .pb(1, 5_000_000_001n, ip)
    .section(false) // big-endian section: interface ids start again at 0
    .iface({ linktype: 113, tsresol: 0x80 | 20, tsoffset: 1000 }) // 2^-20 s units, +1000 s
    .iface({ linktype: 228, tsresol: 12 }) // picoseconds: finer than the nanoseconds kept
    .epb(0, (3n << 20n) | (1n << 19n), Buffer.alloc(16 + ip.length)) // 3.5 s + offset
    .epb(1, 12_345_678_123_456_789_999n, ip) // picoseconds: 12345678.123456789999 s
    .build();
  const { rows, summary } = await readRows(write('multi.pcapng', b));
  t.equal(summary.format, 'pcapng');
  t.equal(summary.sections, 2);
  t.same(summary.linktypes, [1, 101, 113, 228]);
  t.equal(summary.interfaces[0]!.name, 'eth0');
  t.same(summary.issues.list, []);
  t.same(
    rows.map((r) => [r.linktype, r.ifIndex, r.sec, r.nsec, r.caplen]),
    [
      [1, 0, 1_600_000_000, 123_456_000, 42],
      [101, 1, 1_722_540_110, 397_706_326, 28],
      [1, 0, 0, 0, 42], // Simple Packet Block: no timestamp
      [101, 1, 5, 1, 28], // obsolete Packet Block on the nanosecond interface
      [113, 0, 1003, 500_000_000, 44],
      [228, 1, 12_345_678, 123_456_789, 28], // picoseconds truncated to nanoseconds
    ],
  );
});

t.test('picosecond interfaces keep nanoseconds exactly (no float rounding)', async (t) => {
  const b = new PcapngBuilder().section().iface({ linktype: 101, tsresol: 12 }).epb(0, 18_000_000_999_999_999_999n, ip).build();
  const { rows } = await readRows(write('ps.pcapng', b));
  t.same([rows[0]!.sec, rows[0]!.nsec], [18_000_000, 999_999_999]);
});

t.test('a nanosecond timestamp above 2^53 units is exact', async (t) => {
  const b = new PcapngBuilder().section(false).iface({ linktype: 101, tsresol: 9 }).epb(0, 0xffff_ffff_ffff_ffffn, ip).build();
  const { rows } = await readRows(write('max.pcapng', b));
  t.same([rows[0]!.sec, rows[0]!.nsec], [18_446_744_073, 709_551_615]);
});

t.test('a snap-length-cut Simple Packet Block keeps its original length', async (t) => {
  const b = new PcapngBuilder().section().iface({ linktype: 101, snaplen: 20 }).spb(ip.subarray(0, 20), 28).build();
  const { rows } = await readRows(write('spb.pcapng', b));
  t.same([rows[0]!.caplen, rows[0]!.origlen], [20, 28]);
});

t.test('a packet naming an interface its section did not describe is dropped and reported', async (t) => {
  const b = new PcapngBuilder().section().iface({ linktype: 101 }).epb(3, 0n, ip).epb(0, 1_000_000n, ip).build();
  const { rows, summary } = await readRows(write('noif.pcapng', b));
  t.equal(rows.length, 1);
  t.equal(summary.issues.list[0]!.code, 'pcapng_unknown_interface');
  t.equal(summary.issues.list[0]!.offset, 28 + 20);
});

t.test('mergecap of captures with different link types: one interface each, as tshark and capinfos read it', async (t) => {
  const out = path.join(tmp, 'merged.pcapng');
  const inputs = ['irc/irc-353.pcap', 'apps/KakaoTalk_talk.pcap', 'apps/dingtalk.pcap', 'sip/sip_sip-long-request-response-paths.pcap', 'irc/irc-privmsg.pcap'];
  execFileSync('mergecap', ['-F', 'pcapng', '-w', out, ...inputs.map(fixture)], { stdio: 'ignore' });
  const { rows, summary } = await readRows(out);
  const ci = capinfos(out);
  t.ok(new Set(summary.linktypes).size >= 4, `link types ${summary.linktypes.join(',')}`);
  t.same(summary.interfaces.map((i) => linktypeDescription(i.linktype)), ci.encapsulations);
  t.same(
    rows.map((r) => `${epoch9(r)} ${r.origlen} ${r.caplen}`),
    tsharkFrames(out).map((f) => `${f.time} ${f.len} ${f.caplen}`),
  );
  t.equal(rows.length, ci.packets);
});

t.test('editcap nanosecond pcapng agrees with tshark', async (t) => {
  const ns = path.join(tmp, 'ns.pcap');
  const out = path.join(tmp, 'ns.pcapng');
  execFileSync('editcap', ['-F', 'nsecpcap', fixture('apps/imo.pcap'), ns], { stdio: 'ignore' });
  execFileSync('editcap', ['-F', 'pcapng', ns, out], { stdio: 'ignore' }); // keeps if_tsresol 9
  const { rows, summary } = await readRows(out);
  t.equal(summary.precision, 'nanoseconds');
  t.same(
    rows.map((r) => epoch9(r)),
    tsharkFrames(out).map((f) => f.time),
  );
});
