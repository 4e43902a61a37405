/**
 * One TCP or UDP flow: its key (5-tuple, VLAN and tunnel context), its orientation (client and server), counters per
 * direction, and for TCP the two reassembled byte streams. Direction 0 is client → server, 1 is server → client.
 */
import type { TcpStream } from './tcp-stream.js';

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

export class Flow {
  /** Stable id: the order in which flows were first seen in this run, from 1. */
  readonly id: number;
  readonly proto: number; // 6 or 17
  readonly ipVersion: number;
  // Client and server addresses: IPv4 in c0/s0; IPv6 as four big-endian words.
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
  /** TEID of the innermost GTP-U tunnel of the first packet (informative; not part of the key). */
  gtpTeid = -1;
  orientation: Orientation = 'first_packet';
  state: FlowState = FlowState.New;
  endReason: FlowEndReason | null = null;

  // ── per direction [client→server, server→client] ──
  packets = [0, 0];
  /** Frame bytes (original length, as tshark's conversation table counts). */
  bytes = [0, 0];
  /** Transport payload bytes announced by the headers. */
  payloadBytes = [0, 0];
  tcpFlags = [0, 0];
  firstSec = [0, 0];
  firstNsec = [0, 0];
  lastSec = [0, 0];
  lastNsec = [0, 0];
  /** TCP: FIN seen per direction; RST seen at all. */
  fin = [false, false];
  rst = false;
  synSeen = false;
  synAckSeen = false;
  /** TCP reassembly, per direction; null for UDP, or until the direction carries a sequence number. */
  streams: [TcpStream | null, TcpStream | null] = [null, null];
  /** Named anomalies of this flow, with counts (flow-level and reassembly). */
  anomalies: Map<string, number> | null = null;
  /** Set when an analyzer announced this connection (see Expectations). */
  expected: { analyzer: string; context: unknown } | null = null;
  /** Free for the consumer (protocol analyzers keep their session here). */
  user: unknown = null;

  // ── table bookkeeping ──
  /** Last activity, capture seconds. */
  lastSeen = 0;
  hash = 0;
  /** Next flow with the same hash (collision chain). */
  chain: Flow | null = null;
  /** Neighbours in the idle list of the flow's timeout class. */
  prev: Flow | null = null;
  nextIdle: Flow | null = null;
  timeoutClass = 0;

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

/** Earliest packet time of either direction, as [seconds, nanoseconds]. */
export function flowStart(f: Flow): [number, number] {
  if (f.packets[1] === 0) return [f.firstSec[0]!, f.firstNsec[0]!];
  if (f.packets[0] === 0) return [f.firstSec[1]!, f.firstNsec[1]!];
  const zeroFirst = f.firstSec[0]! < f.firstSec[1]! || (f.firstSec[0] === f.firstSec[1] && f.firstNsec[0]! <= f.firstNsec[1]!);
  return zeroFirst ? [f.firstSec[0]!, f.firstNsec[0]!] : [f.firstSec[1]!, f.firstNsec[1]!];
}

/** Latest packet time of either direction, as [seconds, nanoseconds]. */
export function flowEnd(f: Flow): [number, number] {
  if (f.packets[1] === 0) return [f.lastSec[0]!, f.lastNsec[0]!];
  if (f.packets[0] === 0) return [f.lastSec[1]!, f.lastNsec[1]!];
  const zeroLast = f.lastSec[0]! > f.lastSec[1]! || (f.lastSec[0] === f.lastSec[1] && f.lastNsec[0]! >= f.lastNsec[1]!);
  return zeroLast ? [f.lastSec[0]!, f.lastNsec[0]!] : [f.lastSec[1]!, f.lastNsec[1]!];
}

/** Dotted-quad or RFC 5952 text of a flow address. */
export function addressText(version: number, w0: number, w1: number, w2: number, w3: number): string {
  if (version === 4) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  const groups = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  // longest run of two or more zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function clientText(f: Flow): string {
  return addressText(f.ipVersion, f.c0, f.c1, f.c2, f.c3);
}

export function serverText(f: Flow): string {
  return addressText(f.ipVersion, f.s0, f.s1, f.s2, f.s3);
}
