// Flows and reassembled streams against tshark on every real capture: conversations (packets and bytes per
// direction, grouped by tshark's tcp.stream / udp.stream index) and the bytes of every TCP stream
// (tshark -z follow,tcp,raw).
import t from 'tap';
import { allCaptures, rel } from '../helpers/fixtures.js';
import { run } from '../helpers/tools.js';
import { collectFlows, type CollectedFlow } from '../helpers/flows.js';

const ep = (ip: string, port: number) => `${ip}|${port}`;

// tshark never splits a conversation by idle time; imtap does (timeouts bound its memory). Compared with the
// timeouts off; the timeouts have tests of their own (test/unit/flow-table.test.ts).
const NO_TIMEOUTS = { tcpEstablishedTimeout: Infinity, tcpUnestablishedTimeout: Infinity, tcpClosedTimeout: Infinity, udpTimeout: Infinity };

// Deliberate differences, each checked to be what it says:
const KNOWN: Record<string, (mine: Buffer, theirs: Buffer) => boolean> = {
  // Two SYN-ACKs with different initial sequence numbers answer one SYN (the second from a middlebox: TTL 248 vs
  // 173 of the real server's data). imtap keeps the first (first data wins) and so delivers the server's 206-byte
  // HTTP response; tshark takes the later ISN, files the response as old data and shows nothing.
  'apps/KakaoTalk_talk.pcap stream 3 dir 1': (mine, theirs) => theirs.length === 0 && mine.subarray(0, 15).toString('latin1') === 'HTTP/1.1 200 OK',
  // Mid-stream pickup whose first packet is a bare ACK one sequence number below the first data (a keep-alive
  // probe: seq = SND.NXT - 1). tshark starts the stream at the ACK and reports 1 byte missing; imtap starts at the
  // first data, with no gap.
  'irc/contentline_contentline-irc-5k-line.pcap stream 0 dir 0': (mine, theirs) => theirs.equals(Buffer.concat([Buffer.from('[1 bytes missing in capture file]\0', 'latin1'), mine])),
};

interface Conv {
  proto: 'tcp' | 'udp';
  stream: number;
  /** per source endpoint: frames, bytes */
  dirs: Map<string, [number, number]>;
}

/** tshark's conversations, from per-packet fields (exact bytes, unlike -z conv's rounded kB). */
function tsharkConversations(file: string): Conv[] {
  const out = run('tshark', ['-n', '-r', file, '-E', 'occurrence=l', '-T', 'fields', '-e', 'tcp.stream', '-e', 'udp.stream', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'frame.len', '-e', 'icmp.type', '-e', 'icmpv6.type']);
  const convs = new Map<string, Conv>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [ts, us, ip4, ip6, tp, up, len, icmp, icmp6] = line.split('\t');
    // ICMP errors quote the packet that caused them; tshark files the quote under that packet's stream, imtap counts
    // the ICMP packet as ICMP (it is not part of the conversation). Deliberate difference.
    if (icmp || icmp6) continue;
    const proto = ts ? 'tcp' : us ? 'udp' : null;
    if (!proto) continue;
    const key = `${proto}${proto === 'tcp' ? ts : us}`;
    let c = convs.get(key);
    if (!c) convs.set(key, (c = { proto, stream: Number(proto === 'tcp' ? ts : us), dirs: new Map() }));
    const src = ep(ip6 || ip4!, Number(tp || up));
    const d = c.dirs.get(src) ?? [0, 0];
    d[0]++;
    d[1] += Number(len);
    c.dirs.set(src, d);
  }
  return [...convs.values()];
}

function ourConversations(flows: CollectedFlow[]) {
  return flows.map((f) => {
    const dirs = new Map<string, [number, number]>();
    if (f.packets[0]! > 0) dirs.set(ep(f.client, f.clientPort), [f.packets[0]!, f.bytes[0]!]);
    if (f.packets[1]! > 0) dirs.set(ep(f.server, f.serverPort), [f.packets[1]!, f.bytes[1]!]);
    return { proto: f.transport, dirs };
  });
}

const canon = (c: { proto: string; dirs: Map<string, [number, number]> }) =>
  `${c.proto} ${[...c.dirs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, [n, b]]) => `${k}:${n}/${b}`).join(' ')}`;

/** tshark's reassembled bytes of TCP streams: node endpoint → bytes. */
function tsharkFollow(file: string, streams: number[]): Map<number, Map<string, Buffer>> {
  const res = new Map<number, Map<string, Buffer>>();
  for (let i = 0; i < streams.length; i += 50) {
    const args = ['-n', '-q', '-r', file];
    for (const s of streams.slice(i, i + 50)) args.push('-z', `follow,tcp,raw,${s}`);
    const out = run('tshark', args);
    for (const block of out.split('===================================================================\nFollow: tcp,raw\n').slice(1)) {
      const lines = block.split('\n');
      const stream = Number(/tcp\.stream eq (\d+)/.exec(lines[0]!)![1]);
      const node0 = /^Node 0: (.*):(\d+)$/.exec(lines[1]!)!;
      const node1 = /^Node 1: (.*):(\d+)$/.exec(lines[2]!)!;
      const parts: [Buffer[], Buffer[]] = [[], []];
      for (const l of lines.slice(3)) {
        if (l.startsWith('====')) break;
        if (!l.trim()) continue;
        if (l.startsWith('\t')) parts[1].push(Buffer.from(l.slice(1), 'hex'));
        else parts[0].push(Buffer.from(l, 'hex'));
      }
      const strip = (s: string) => s.replace(/^\[|\]$/g, '');
      res.set(
        stream,
        new Map([
          [ep(strip(node0[1]!), Number(node0[2])), Buffer.concat(parts[0])],
          [ep(strip(node1[1]!), Number(node1[2])), Buffer.concat(parts[1])],
        ]),
      );
    }
  }
  return res;
}

/**
 * Where bytes are missing, tshark's follow output carries the text "[N bytes missing in capture file]" and a NUL;
 * imtap reports a gap (offset, length) instead. Put tshark's marker where imtap's gaps are, to compare.
 */
function withGapMarkers(data: Buffer, gaps: [number, number][]): Buffer {
  const parts: Buffer[] = [];
  let at = 0; // position in data
  let skipped = 0; // gap bytes before it
  for (const [off, len] of gaps) {
    const upto = off - skipped;
    parts.push(data.subarray(at, upto), Buffer.from(`[${len} bytes missing in capture file]\0`, 'latin1'));
    at = upto;
    skipped += len;
  }
  parts.push(data.subarray(at));
  return Buffer.concat(parts);
}

for (const file of allCaptures()) {
  t.test(rel(file), async (t) => {
    const flows = await collectFlows(file, NO_TIMEOUTS);
    const theirs = tsharkConversations(file);
    t.same(ourConversations(flows).map(canon).sort(), theirs.map(canon).sort(), 'conversations: packets and bytes per direction as tshark');

    const tcp = theirs.filter((c) => c.proto === 'tcp');
    if (tcp.length === 0) return;
    const follow = tsharkFollow(file, tcp.map((c) => c.stream));
    let compared = 0;
    const mismatches: string[] = [];
    for (const c of tcp) {
      const f = follow.get(c.stream);
      if (!f) continue;
      const mine = flows.find((x) => x.transport === 'tcp' && f.has(ep(x.client, x.clientPort)) && f.has(ep(x.server, x.serverPort)) && canon(ourConversations([x])[0]!) === canon(c));
      if (!mine) {
        mismatches.push(`stream ${c.stream}: no flow`);
        continue;
      }
      const want = [f.get(ep(mine.client, mine.clientPort))!, f.get(ep(mine.server, mine.serverPort))!];
      for (const d of [0, 1] as const) {
        if (want[d]!.equals(withGapMarkers(mine.data[d], mine.gapList[d]!))) continue;
        const known = KNOWN[`${rel(file)} stream ${c.stream} dir ${d}`];
        if (known?.(withGapMarkers(mine.data[d], mine.gapList[d]!), want[d]!)) continue;
        mismatches.push(`stream ${c.stream} dir ${d}: ${mine.data[d].length} bytes vs tshark ${want[d]!.length}`);
      }
      compared++;
    }
    t.same(mismatches, [], `reassembled bytes of ${compared} TCP streams as tshark follow`);
  });
}
