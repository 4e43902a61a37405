/**
 * Hand-built conversations as real capture files: Ethernet + IPv4 + TCP (three-way handshake, data cut into segments
 * of at most `mss` bytes with correct sequence and acknowledgement numbers, FIN exchange) or UDP datagrams, written as a
 * classic pcap. For protocols with no public capture: the file is what tshark checks (as an independent decoder) and
 * what imtap reads, so both see the same bytes.
 *
 *     const pcap = conversationPcap([{ client: '10.0.0.1', server: '10.0.0.2', cport: 40000, sport: 5050,
 *       parts: [[0, loginBytes], [1, replyBytes]] }]);
 *     fs.writeFileSync(file, pcap);
 */
import { pcapFile, type Packet } from './build.js';

export interface Conversation {
  client: string;
  server: string;
  cport: number;
  sport: number;
  transport?: 'tcp' | 'udp';
  /** [direction, bytes] in the order they are sent: 0 client → server, 1 server → client. */
  parts: [0 | 1, Uint8Array | string][];
  /** Largest TCP payload per segment (default 1460). */
  mss?: number;
  /** Leave out the handshake (a connection picked up mid-stream). */
  noHandshake?: boolean;
  /** Leave out the FIN exchange (a capture cut before the end). */
  noFin?: boolean;
  /** Initial sequence numbers (default 1000 and 5000). */
  isn?: [number, number];
}

const ipBytes = (s: string) => s.split('.').map(Number);

function checksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if ((end - start) & 1) sum += buf[end - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

let ipId = 1;

/** One Ethernet/IPv4 frame carrying a TCP segment or a UDP datagram, with valid IP, TCP and UDP checksums. */
export function frame(src: string, dst: string, sport: number, dport: number, transport: 'tcp' | 'udp', payload: Uint8Array, tcp?: { seq: number; ack: number; flags: number }): Uint8Array {
  const l4len = transport === 'tcp' ? 20 : 8;
  const total = 20 + l4len + payload.length;
  const b = Buffer.alloc(14 + total);
  // Ethernet: locally administered MACs, IPv4.
  b.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  b.writeUInt16BE(0x0800, 12);
  const ip = 14;
  b[ip] = 0x45;
  b.writeUInt16BE(total, ip + 2);
  b.writeUInt16BE(ipId++ & 0xffff, ip + 4);
  b.writeUInt16BE(0x4000, ip + 6); // DF
  b[ip + 8] = 64;
  b[ip + 9] = transport === 'tcp' ? 6 : 17;
  b.set(ipBytes(src), ip + 12);
  b.set(ipBytes(dst), ip + 16);
  b.writeUInt16BE(checksum(b, ip, ip + 20), ip + 10);
  const l4 = ip + 20;
  b.writeUInt16BE(sport, l4);
  b.writeUInt16BE(dport, l4 + 2);
  if (transport === 'tcp') {
    b.writeUInt32BE(tcp!.seq >>> 0, l4 + 4);
    b.writeUInt32BE(tcp!.ack >>> 0, l4 + 8);
    b[l4 + 12] = 5 << 4;
    b[l4 + 13] = tcp!.flags;
    b.writeUInt16BE(65535, l4 + 14);
  } else b.writeUInt16BE(8 + payload.length, l4 + 4);
  b.set(payload, l4 + l4len);
  // Pseudo-header sum, then the transport checksum over header and payload.
  let pseudo = 0;
  for (let i = ip + 12; i < ip + 20; i += 2) pseudo += (b[i]! << 8) | b[i + 1]!;
  pseudo += b[ip + 9]! + l4len + payload.length;
  const c = checksum(b, l4, l4 + l4len + payload.length, pseudo);
  b.writeUInt16BE(transport === 'udp' && c === 0 ? 0xffff : c, l4 + (transport === 'tcp' ? 16 : 6));
  return b;
}

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

/** The frames of one conversation, each with a time `t0 + i * step` seconds. */
export function conversationFrames(c: Conversation, t0 = 1_700_000_000, step = 0.01): Packet[] {
  const out: Packet[] = [];
  let t = t0;
  const push = (data: Uint8Array) => {
    const sec = Math.floor(t);
    out.push({ sec, frac: Math.round((t - sec) * 1e6), data });
    t += step;
  };
  const ends: [string, number][] = [
    [c.client, c.cport],
    [c.server, c.sport],
  ];
  const send = (dir: 0 | 1, payload: Uint8Array, tcp?: { seq: number; ack: number; flags: number }) => {
    const [s, sp] = ends[dir]!;
    const [d, dp] = ends[dir ^ 1]!;
    push(frame(s, d, sp, dp, c.transport ?? 'tcp', payload, tcp));
  };
  const parts = c.parts.map(([d, p]) => [d, typeof p === 'string' ? Buffer.from(p, 'utf8') : p] as [0 | 1, Uint8Array]);
  if ((c.transport ?? 'tcp') === 'udp') {
    for (const [d, p] of parts) send(d, p);
    return out;
  }
  const mss = c.mss ?? 1460;
  const seq: [number, number] = [c.isn?.[0] ?? 1000, c.isn?.[1] ?? 5000];
  const empty = new Uint8Array(0);
  if (!c.noHandshake) {
    send(0, empty, { seq: seq[0], ack: 0, flags: SYN });
    send(1, empty, { seq: seq[1], ack: seq[0] + 1, flags: SYN | ACK });
    seq[0]++;
    seq[1]++;
    send(0, empty, { seq: seq[0], ack: seq[1], flags: ACK });
  }
  for (const [d, p] of parts) {
    for (let at = 0; at < p.length; at += mss) {
      const piece = p.subarray(at, Math.min(p.length, at + mss));
      send(d, piece, { seq: seq[d], ack: seq[(d ^ 1) as 0 | 1], flags: ACK | PSH });
      seq[d] = (seq[d] + piece.length) >>> 0;
    }
  }
  if (!c.noFin) {
    send(0, empty, { seq: seq[0], ack: seq[1], flags: FIN | ACK });
    seq[0]++;
    send(1, empty, { seq: seq[1], ack: seq[0], flags: FIN | ACK });
    seq[1]++;
    send(0, empty, { seq: seq[0], ack: seq[1], flags: ACK });
  }
  return out;
}

/** Several conversations, one after the other in time, as one classic pcap (Ethernet, microseconds). */
export function conversationPcap(convs: Conversation[], t0 = 1_700_000_000): Buffer {
  const packets: Packet[] = [];
  let t = t0;
  for (const c of convs) {
    const f = conversationFrames(c, t);
    packets.push(...f);
    t += f.length * 0.01 + 1;
  }
  return pcapFile({ linktype: 1 }, packets);
}
