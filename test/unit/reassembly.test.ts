// TCP reassembly: the streams of real captures, re-cut into 1-byte and random segments, shuffled, duplicated and
// overlapped (same data), come out identical; overlaps with different data follow "first data wins"; holes become
// gaps at the right offset; consumers can leave bytes unconsumed; wrap-around; one-sided and mid-stream flows.
import t from 'tap';
import { fixture } from '../helpers/fixtures.js';
import { collectFlows, flowTableCollector, CollectingSink } from '../helpers/flows.js';
import { connection, cut, ip, prng, toPacket, type Endpoints, type Seg, type CutOptions } from '../helpers/synth.js';
import { FlowTable } from '../../src/flows/flow-table.js';
import { TCP_ACK, TCP_PSH, TCP_SYN, TCP_FIN } from '../../src/decoders/net/decoded.js';
import type { FlowLimits } from '../../src/flows/options.js';

const E: Endpoints = { client: ip('10.0.0.1'), cport: 40000, server: ip('10.0.0.2'), sport: 6667 };

function feed(segs: Seg[], limits: Partial<FlowLimits> = {}, step = 0.001) {
  const c = flowTableCollector(limits);
  let t0 = 1_700_000_000;
  for (const s of segs) {
    const [p, rec] = toPacket(E, s, Math.floor(t0), Math.round((t0 % 1) * 1e9));
    c.table.packet(p, rec);
    t0 += step;
  }
  c.table.finish();
  return c.flows;
}

// Real streams: every TCP flow of these captures that has data both ways and no gap.
const sources = ['irc/irc-privmsg.pcap', 'irc/irc-basic.pcap', 'apps/whatsapp_login_chat.pcap', 'msnp/msn-switchboard-chat.pcap', 'xmpp/tls_xmpp-starttls.pcap', 'web/ppa2e_facebook_login.pcap', 'apps/whatsappfiles.pcap'];

t.test('re-segmented real streams give identical bytes', async (t) => {
  const strategies: [string, CutOptions][] = [
    ['1-byte segments', { sizes: 'one' }],
    ['random sizes', { sizes: { max: 1460 } }],
    ['random sizes, shuffled within 8', { sizes: { max: 700 }, window: 8 }],
    ['1-byte, shuffled within 16, duplicates', { sizes: 'one', window: 16, duplicates: 0.2 }],
    ['random, shuffled, duplicates and overlaps (same data)', { sizes: { max: 300 }, window: 6, duplicates: 0.2, overlaps: 0.3 }],
  ];
  let streams = 0;
  for (const src of sources) {
    const flows = (await collectFlows(fixture(src))).filter((f) => f.transport === 'tcp' && f.data[0].length > 0 && f.data[1].length > 0 && f.gapList[0]!.length + f.gapList[1]!.length === 0);
    for (const f of flows.slice(0, 3)) {
      streams++;
      for (const [name, o] of strategies) {
        if (o.sizes === 'one' && f.data[0].length + f.data[1].length > 20000) continue; // 1-byte cuts of the small ones
        for (const [seed, isn] of [[1, [1000, 5000]], [7, [0xffffff00, 0xfffffff0]]] as const) {
          const segs = connection([f.data[0], f.data[1]], [isn[0], isn[1]], o, prng(seed + f.id));
          const out = feed(segs);
          t.equal(out.length, 1, `${src} #${f.id} ${name}: one flow`);
          const g = out[0]!;
          if (!g.data[0].equals(f.data[0]) || !g.data[1].equals(f.data[1])) {
            t.fail(`${src} flow ${f.id}, ${name}, seed ${seed}, isn ${isn}: bytes differ`);
            continue;
          }
          t.same(g.gapList, [[], []], `${src} #${f.id} ${name} isn ${isn[0]}: no gaps`);
          t.same(g.anomalies, {}, 'no anomaly: overlaps carried the same data');
          t.same(g.ended, [true, true], 'both directions ended');
          if (o.duplicates) t.ok(g.retransmissions[0]! + g.retransmissions[1]! > 0, 'duplicates counted as retransmissions');
        }
      }
    }
  }
  t.ok(streams >= 8, `${streams} real connections re-cut`);
});

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const seg = (dir: 0 | 1, seq: number, data: string, flags = TCP_ACK | TCP_PSH): Seg => ({ dir, seq, flags, data: bytes(data) });
const syn: Seg[] = [
  { dir: 0, seq: 99, flags: TCP_SYN, data: new Uint8Array(0) },
  { dir: 1, seq: 499, flags: TCP_SYN | TCP_ACK, data: new Uint8Array(0) },
];

t.test('overlapping data that differs: first data wins, and an anomaly says so', async (t) => {
  // [10,20) arrives first (buffered, ahead of a hole); then [0,30) arrives with other bytes at [10,20).
  const out = feed([...syn, seg(0, 110, 'KKKKKKKKKK'), seg(0, 100, '0123456789xxxxxxxxxx0123456789')]);
  t.equal(out[0]!.data[0].toString('latin1'), '0123456789KKKKKKKKKK0123456789');
  t.same(out[0]!.anomalies, { tcp_overlap_differs: 1 });
  // Bytes already handed on are never replaced by a later retransmission.
  const again = feed([...syn, seg(0, 100, 'abcdef'), seg(0, 100, 'XYZdefghi')]);
  t.equal(again[0]!.data[0].toString('latin1'), 'abcdefghi');
  t.equal(again[0]!.retransmissions[0], 0, 'a partial overlap is not a whole retransmission');
});

t.test('a hole becomes a gap: at the end of the flow, at the buffer limit, after the gap timeout', async (t) => {
  const atEnd = feed([...syn, seg(0, 100, 'aaaa'), seg(0, 110, 'cccc')]);
  t.same(atEnd[0]!.gapList[0], [[4, 6]], '6 bytes missing at stream offset 4');
  t.equal(atEnd[0]!.data[0].toString('latin1'), 'aaaacccc');
  t.same(atEnd[0]!.anomalies, { tcp_content_gap: 1 });

  const sink = new CollectingSink();
  const table = new FlowTable({ streamSink: (_f, d) => (d === 0 ? sink : null) }, { maxBufferBytes: 10 });
  let now = 1_700_000_000;
  for (const s of [...syn, seg(0, 100, 'aa'), seg(0, 110, '0123456'), seg(0, 117, 'abcdefgh')]) table.packet(...toPacket(E, s, now++, 0));
  t.same(sink.gaps, [[2, 8]], 'the limit forced the gap before the flow ended');
  t.equal(Buffer.concat(sink.chunks).toString('latin1'), 'aa0123456abcdefgh');
  table.finish();

  const timed = new CollectingSink();
  const t2 = new FlowTable({ streamSink: (_f, d) => (d === 0 ? timed : null) }, { gapTimeout: 5 });
  t2.packet(...toPacket(E, syn[0]!, 100, 0));
  t2.packet(...toPacket(E, syn[1]!, 100, 0));
  t2.packet(...toPacket(E, seg(0, 105, 'late'), 101, 0));
  t2.packet(...toPacket(E, seg(1, 500, 'server talks'), 104, 0));
  t.same(timed.gaps, [], 'not yet');
  t2.packet(...toPacket(E, seg(1, 512, ' on'), 107, 0));
  t.same(timed.gaps, [[0, 5]], 'the hole timed out while only the other side talked');
  t.equal(Buffer.concat(timed.chunks).toString('latin1'), 'late');
  t2.finish();
});

t.test('a consumer takes whole lines and leaves the rest; the rest comes back with the next bytes', async (t) => {
  const lines: string[] = [];
  const times: number[] = [];
  const sink = {
    onData(d: Uint8Array, off: number, len: number, _so: number, tsSec: number) {
      let used = 0;
      for (let i = 0; i < len; i++) {
        if (d[off + i] === 0x0a) {
          lines.push(Buffer.from(d.subarray(off + used, off + i)).toString('latin1'));
          times.push(tsSec);
          used = i + 1;
        }
      }
      return used;
    },
    onGap() {},
    onEnd() {},
  };
  const table = new FlowTable({ streamSink: (_f, d) => (d === 0 ? sink : null) });
  const text = 'NICK alice\nUSER a 0 * :Alice\nPRIVMSG #c :hello there\n';
  const segs = cut(0, bytes(text), 99, { sizes: { max: 7 } }, prng(3));
  let sec = 1000;
  for (const s of [...syn, ...segs]) table.packet(...toPacket(E, s, sec++, 0));
  t.same(lines, ['NICK alice', 'USER a 0 * :Alice', 'PRIVMSG #c :hello there']);
  // each line is dated by the packet that completed it
  const lastSegOf = (line: string) => {
    const end = text.indexOf(line) + line.length + 1;
    return 1000 + 2 + segs.findIndex((s) => ((s.seq - 100) >>> 0) + s.data.length >= end);
  };
  t.same(times, lines.map(lastSegOf));
  table.finish();
});

t.test('one-sided and mid-stream flows still deliver', async (t) => {
  const onlyClient = feed([{ dir: 0, seq: 99, flags: TCP_SYN, data: new Uint8Array(0) }, seg(0, 100, 'hello '), seg(0, 106, 'world')]);
  t.equal(onlyClient[0]!.data[0].toString('latin1'), 'hello world');
  t.equal(onlyClient[0]!.packets[1], 0);

  // no SYN: picked up in the middle; the server port decides orientation
  const mid = flowTableCollector();
  const rev: Endpoints = { client: E.server, cport: E.sport, server: E.client, sport: E.cport };
  mid.table.packet(...toPacket(rev, seg(0, 7000, ':srv 001 alice :Welcome\r\n'), 5, 0));
  mid.table.packet(...toPacket(rev, seg(1, 9000, 'PING x\r\n'), 6, 0));
  mid.table.finish();
  const f = mid.flows[0]!;
  t.equal(f.orientation, 'port');
  t.equal(f.serverPort, 6667, 'the IRC port is the server side');
  t.equal(f.data[1].toString('latin1'), ':srv 001 alice :Welcome\r\n', 'server → client');
  t.equal(f.data[0].toString('latin1'), 'PING x\r\n');
});

t.test('FIN ends a direction only when every byte before it has arrived', async (t) => {
  const out = feed([...syn, seg(0, 106, 'world', TCP_ACK | TCP_FIN), seg(0, 100, 'hello ')]);
  t.equal(out[0]!.data[0].toString('latin1'), 'hello world');
  t.same(out[0]!.gapList[0], []);
});
