/**
 * One TCP or UDP flow: its key (5-tuple, VLAN and tunnel context), its orientation (client and server), counters per
 * direction, and for TCP the two reassembled byte streams. Direction 0 is client → server, 1 is server → client.
 */
import type { TcpStream } from './tcp-stream.js';
import { ipv6Text } from '../util/ipv6.js';

export const enum FlowState {
  /** UDP, or TCP before the handshake completed. */
  New = 0,
  /** TCP: handshake seen, or data in both directions. */
  Established = 1,
  /** TCP: FIN in both directions, or RST. */
  Closed = 2,
}

/** Why a flow was handed on. */
export type FlowEndReason = 'closed' | 'timeout' | 'evicted' | 'reused' | 'end_of_input';

/** How the client was told from the server. */
export type Orientation = 'syn' | 'synack' | 'port' | 'first_packet' | 'expected';

/**
 * The indices into Flow.c (below) as a const enum: TypeScript writes its members as number literals, where every
 * use of an imported `const` is a load from a module cell, with a check that it is initialized, on the per-packet
 * path. The C_* constants are the same numbers.
 */
export const enum Counter {
  Packets = 0,
  Bytes = 2,
  Payload = 4,
  Flags = 6,
  FirstSec = 8,
  FirstNsec = 10,
  LastSec = 12,
  LastNsec = 14,
}

export const C_PACKETS = Counter.Packets;
export const C_BYTES = Counter.Bytes;
export const C_PAYLOAD = Counter.Payload;
export const C_FLAGS = Counter.Flags;
export const C_FIRST_SEC = Counter.FirstSec;
export const C_FIRST_NSEC = Counter.FirstNsec;
export const C_LAST_SEC = Counter.LastSec;
export const C_LAST_NSEC = Counter.LastNsec;

export class Flow {
  // Field order is memory order: what every packet reads (key, state, counters, streams, idle-list place) comes
  // first, in the object's first cache lines; what only the start, the end or the analyzers read follows.

  /** Stable id: the order in which flows were first seen in this run, from 1. */
  readonly id: number;
  readonly proto: number; // 6 or 17
  readonly ipVersion: number;
  // Client and server addresses: IPv4 in c0/s0; IPv6 as four big-endian words. Each as a signed 32-bit integer
  // (`x >>> 0` is the unsigned word): V8 keeps those in the object, where an unsigned word from 2^31 up took a
  // separate heap number for every address field of every flow.
  c0 = 0;
  c1 = 0;
  c2 = 0;
  c3 = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  cport = 0;
  sport = 0;
  vlanOuter = -1;
  vlanInner = -1;
  tunnelDepth = 0;
  state: FlowState = FlowState.New;
  endReason: FlowEndReason | null = null;
  /** Last activity, capture seconds (table bookkeeping, as the fields to the end of the hot part). */
  lastSeen = 0;
  timeoutClass = 0;

  /**
   * Counters per direction in one array (one allocation per flow, not one per counter): index `C_* + dir`, dir 0
   * client → server, 1 server → client. The getters below give them as pairs for readers off the hot path.
   */
  readonly c: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  /** TCP reassembly, per direction; null for UDP, or until the direction carries a sequence number. */
  streams: [TcpStream | null, TcpStream | null] = [null, null];
  /** Free for the consumer (protocol analyzers keep their session here). */
  user: unknown = null;
  rst = false;
  synSeen = false;
  synAckSeen = false;
  /** Next flow with the same hash (collision chain). */
  chain: Flow | null = null;
  /** Neighbours in the idle list of the flow's timeout class. */
  prev: Flow | null = null;
  nextIdle: Flow | null = null;

  // ── read at the start and the end ──
  hash = 0;
  /** TEID of the innermost GTP-U tunnel of the first packet (informative; not part of the key). */
  gtpTeid = -1;
  orientation: Orientation = 'first_packet';
  /** Named anomalies of this flow, with counts (flow-level and reassembly). */
  anomalies: Map<string, number> | null = null;
  /** Set when an analyzer announced this connection (see Expectations). */
  expected: { analyzer: string; context: unknown } | null = null;
  /**
   * The client's and server's address text, made at the first clientText/serverText call (the dispatcher, the
   * analyzers' sessions and the flows row each ask for it; an IPv6 address costs a formatting each time). The flow
   * table swaps them with the roles; nothing else changes a flow's addresses.
   */
  clientIpText: string | null = null;
  serverIpText: string | null = null;

  /** Packets per direction. */
  get packets(): number[] {
    return [this.c[Counter.Packets]!, this.c[Counter.Packets + 1]!];
  }
  /** Frame bytes (original length, as tshark's conversation table counts). */
  get bytes(): number[] {
    return [this.c[Counter.Bytes]!, this.c[Counter.Bytes + 1]!];
  }
  /** Transport payload bytes announced by the headers. */
  get payloadBytes(): number[] {
    return [this.c[Counter.Payload]!, this.c[Counter.Payload + 1]!];
  }
  /** TCP flags seen, OR-ed, per direction. */
  get tcpFlags(): number[] {
    return [this.c[Counter.Flags]!, this.c[Counter.Flags + 1]!];
  }

  constructor(id: number, proto: number, ipVersion: number) {
    this.id = id;
    this.proto = proto;
    this.ipVersion = ipVersion;
  }

  anomaly(code: string, n = 1): void {
    if (!this.anomalies) this.anomalies = new Map();
    this.anomalies.set(code, (this.anomalies.get(code) ?? 0) + n);
  }
}

/** Time of the first (`at` = Counter.FirstSec) or last (Counter.LastSec) packet of either direction, as [sec, nsec]. */
function edge(f: Flow, at: number, earliest: boolean): [number, number] {
  const c = f.c;
  const ns = at + 2;
  if (c[Counter.Packets + 1] === 0) return [c[at]!, c[ns]!];
  if (c[Counter.Packets] === 0) return [c[at + 1]!, c[ns + 1]!];
  const zeroFirst = c[at]! < c[at + 1]! || (c[at] === c[at + 1] && c[ns]! <= c[ns + 1]!);
  return zeroFirst === earliest ? [c[at]!, c[ns]!] : [c[at + 1]!, c[ns + 1]!];
}

/** Earliest packet time of either direction, as [seconds, nanoseconds]. */
export function flowStart(f: Flow): [number, number] {
  return edge(f, Counter.FirstSec, true);
}

/** Latest packet time of either direction, as [seconds, nanoseconds]. */
export function flowEnd(f: Flow): [number, number] {
  return edge(f, Counter.LastSec, false);
}

/** Dotted-quad or RFC 5952 text of a flow address. */
export function addressText(version: number, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  return ipv6Text(groups);
}

export function clientText(f: Flow): string {
  return (f.clientIpText ??= addressText(f.ipVersion, f.c0, f.c1, f.c2, f.c3));
}

export function serverText(f: Flow): string {
  return (f.serverIpText ??= addressText(f.ipVersion, f.s0, f.s1, f.s2, f.s3));
}
