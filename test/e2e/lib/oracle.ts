/**
 * An independent reading of the e2e pcaps with tshark (Debian package tshark, 4.0 here): per-direction TCP byte
 * streams as tshark dissected them, and counts of what tshark's own IRC and XMPP dissectors recognise. Used to prove
 * that the capture holds what the clients' logs say, before imtap is compared with either.
 */
import { execFileSync } from 'node:child_process';

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 512 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface TcpDirection {
  stream: number;
  srcPort: number;
  dstPort: number;
  /** Payload bytes in frame order (loopback: no loss or reordering; retransmissions are left out). */
  bytes: Buffer;
  frames: number;
}

/** Every TCP stream's two directions, keyed "stream:srcPort>dstPort". */
export function tcpDirections(pcap: string): Map<string, TcpDirection> {
  const out = tshark(['-n', '-r', pcap, '-Y', 'tcp.len > 0 && !tcp.analysis.retransmission', '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.payload']);
  const parts = new Map<string, { d: TcpDirection; chunks: Buffer[] }>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [stream, src, dst, hex] = line.split('\t');
    const key = `${stream}:${src}>${dst}`;
    let e = parts.get(key);
    if (!e) {
      e = { d: { stream: Number(stream), srcPort: Number(src), dstPort: Number(dst), bytes: Buffer.alloc(0), frames: 0 }, chunks: [] };
      parts.set(key, e);
    }
    e.chunks.push(Buffer.from((hex ?? '').replace(/:/g, ''), 'hex'));
    e.d.frames++;
  }
  const res = new Map<string, TcpDirection>();
  for (const [k, e] of parts) res.set(k, { ...e.d, bytes: Buffer.concat(e.chunks) });
  return res;
}

/** The directions towards (to) or from (from) a server port. */
export function directions(all: Map<string, TcpDirection>, serverPort: number, way: 'to' | 'from'): TcpDirection[] {
  return [...all.values()].filter((d) => (way === 'to' ? d.dstPort === serverPort : d.srcPort === serverPort)).sort((a, b) => a.stream - b.stream);
}

/** All values of one field over the frames matching a display filter, with `port` decoded as `proto`. */
export function tsharkValues(pcap: string, decodeAs: { port: number; proto: string } | undefined, filter: string, field: string): string[] {
  const d = decodeAs ? ['-d', `tcp.port==${decodeAs.port},${decodeAs.proto}`] : [];
  const out = tshark(['-n', '-r', pcap, ...d, '-Y', filter, '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=\u0001', '-e', field]);
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .flatMap((l) => l.split('\u0001'));
}

/** Frames matching a display filter. */
export function tsharkCount(pcap: string, decodeAs: { port: number; proto: string } | undefined, filter: string): number {
  const d = decodeAs ? ['-d', `tcp.port==${decodeAs.port},${decodeAs.proto}`] : [];
  return tshark(['-n', '-r', pcap, ...d, '-Y', filter, '-T', 'fields', '-e', 'frame.number']).split('\n').filter((l) => l.length > 0).length;
}

export interface TcpConversation {
  a: string;
  b: string;
  framesAtoB: number;
  framesBtoA: number;
}

/** tshark's TCP conversation table (-z conv,tcp): one row per connection. */
export function tcpConversations(pcap: string): TcpConversation[] {
  const out = tshark(['-n', '-q', '-r', pcap, '-z', 'conv,tcp']);
  const rows: TcpConversation[] = [];
  // "127.0.0.1:41934  <-> 127.0.0.1:37825   75 3165 kB   71 4966 bytes  146 …": the left pair of counts is the
  // B→A direction ("<-"), the right pair A→B ("->").
  for (const m of out.matchAll(/^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+(?: \S+)?\s+(\d+)\s/gm)) {
    rows.push({ a: m[1]!, b: m[2]!, framesBtoA: Number(m[3]), framesAtoB: Number(m[4]) });
  }
  return rows;
}
