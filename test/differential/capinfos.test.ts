// Every real capture: packet count, byte count, link types and timestamps equal to what capinfos and tshark
// report for the same file, packet for packet.
import t from 'tap';
import { allCaptures, rel } from '../helpers/fixtures.js';
import { capinfos, tsharkFrames } from '../helpers/tools.js';
import { epoch9, readRows } from '../helpers/read.js';
import { linktypeDescription } from '../../src/decoders/net/linktypes.js';

const files = allCaptures();
t.ok(files.length >= 50, `found ${files.length} real captures in fixtures/pcaps`);

for (const file of files) {
  t.test(rel(file), async (t) => {
    const { rows, summary } = await readRows(file);
    const ci = capinfos(file);
    t.equal(summary.issues.damaged, false, 'read without damage');
    t.equal(rows.length, ci.packets, 'packets as capinfos');
    t.equal(
      rows.reduce((s, r) => s + r.origlen, 0),
      ci.dataBytes,
      'data size as capinfos',
    );
    // capinfos prints each time with the precision of the interface that captured that packet.
    const sorted = [...rows].sort((a, b) => a.sec - b.sec || a.nsec - b.nsec);
    const asCapinfos = (r: (typeof rows)[number], like: string) => epoch9(r).slice(0, epoch9(r).length - (9 - (like.split('.')[1]?.length ?? 0)));
    t.equal(asCapinfos(sorted[0]!, ci.first), ci.first, 'earliest time as capinfos, full precision');
    t.equal(asCapinfos(sorted[sorted.length - 1]!, ci.last), ci.last, 'latest time as capinfos, full precision');
    const ifaces = summary.format === 'pcapng' ? summary.interfaces.map((i) => i.linktype) : summary.linktypes;
    t.same(ifaces.map(linktypeDescription), ci.encapsulations, 'link type of every interface as capinfos');

    const frames = tsharkFrames(file);
    t.equal(frames.length, rows.length, 'packets as tshark');
    let mismatch = -1;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const f = frames[i]!;
      if (epoch9(r) !== f.time || r.origlen !== f.len || r.caplen !== f.caplen) {
        mismatch = i;
        break;
      }
    }
    t.equal(mismatch, -1, `every packet's time, length and captured length as tshark${mismatch >= 0 ? ` (first difference at packet ${mismatch + 1}: ${JSON.stringify(rows[mismatch])} vs ${JSON.stringify(frames[mismatch])})` : ''}`);
  });
}
