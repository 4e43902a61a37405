/**
 * The flow table: finds the flow of each TCP/UDP packet in O(1) by a symmetric numeric hash of its 5-tuple (with VLAN
 * and tunnel depth), tells client from server, counts per direction, feeds TCP reassembly, ends flows on close, idle
 * timeout, eviction or end of input, and hands each ended flow on before releasing it.
 *
 * Timeouts: one idle list per timeout class (UDP, TCP not established, TCP established, TCP closed), each kept in
 * order of last activity, so expiry only ever looks at the heads. Eviction at `maxFlows` ends the flow idle longest.
 */
import type { PacketRecord } from '../decoders/capture/record.js';
import { L4, type DecodedPacket } from '../decoders/net/decoded.js';
import { Expectations } from './expectations.js';
import { clientText, Counter, Flow, type FlowEndReason, FlowState, serverText } from './flow.js';
import { DEFAULT_FLOW_LIMITS, type FlowLimits } from './options.js';
import { CaptureClock, TcpStream, type Clock, type StreamSink } from './tcp-stream.js';

export interface FlowHandler {
  /** A new flow: attach analyzer state to `flow.user` here. */
  onFlowStart?(flow: Flow): void;
  /** The sink for one direction's reassembled bytes, asked when that TCP direction first carries a sequence number. */
  streamSink?(flow: Flow, dir: 0 | 1): StreamSink | null;
  /** One UDP datagram's payload, `buf[off, off + len)` (a view, valid during the call). */
  onDatagram?(flow: Flow, dir: 0 | 1, buf: Uint8Array, off: number, len: number, tsSec: number, tsNsec: number): void;
  /** The flow ended (flow.endReason says why); its memory is released when this returns. */
  onFlowEnd?(flow: Flow): void;
}

/** Hash buckets to start with (see FlowTable.buckets). */
const MIN_BUCKETS = 1024;

// Const enums (written as literals by TypeScript) rather than module constants, which cost a load per use.
const enum Class {
  Udp = 0,
  TcpNew = 1,
  TcpEst = 2,
  TcpClosed = 3,
}

/** TCP flag bits (RFC 9293; the same as the decoder's TCP_* constants). */
const enum Tcp {
  FIN = 0x01,
  SYN = 0x02,
  RST = 0x04,
  ACK = 0x10,
}

/** Well-known service ports that decide orientation when no SYN was seen (beyond the < 1024 rule). */
const SERVICE_PORTS = new Set([1080, 1194, 1433, 1521, 1723, 1863, 2152, 3128, 3306, 3478, 5060, 5061, 5190, 5222, 5223, 5228, 5269, 5349, 5432, 5050, 6379, 6660, 6661, 6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 6697, 7000, 8000, 8008, 8074, 8080, 8443, 9000, 9418]);

function mix(a: number, port: number): number {
  return (Math.imul(a ^ (a >>> 16), 0x9e3779b1) ^ Math.imul(port + 0x7f4a7c15, 0x85ebca6b)) >>> 0;
}

export interface FlowTableStats {
  created: number;
  ended: number;
  timedOut: number;
  evicted: number;
  closed: number;
  reused: number;
  /** Packets that were not TCP/UDP (or were fragments held for reassembly) and so belong to no flow. */
  notFlow: number;
  /** Most flows live at once. */
  peakLive: number;
  /** Times packet time jumped back by more than clockJumpSeconds. */
  clockJumps: number;
}

export class FlowTable {
  readonly limits: FlowLimits;
  readonly expectations: Expectations;
  /**
   * Hash buckets, each the head of a chain of flows: a power of two, at least twice the live flows (doubled as they
   * grow, up to about twice maxFlows). Sized by the live flows rather than by maxFlows, so that the lookup done for
   * every packet stays in the cache: a capture often has a few dozen flows live at once.
   */
  private buckets: (Flow | null)[];
  private mask: number;
  private readonly maxBuckets: number;
  private readonly heads: (Flow | null)[] = [null, null, null, null];
  private readonly tails: (Flow | null)[] = [null, null, null, null];
  private readonly timeouts: number[];
  live = 0;
  private nextId = 1;
  /** Capture clock: `now` is the latest packet time seen (seconds), never going back. */
  readonly clock: Clock = new CaptureClock();
  // Both fractional: -0 (equal to 0 in every use) so that V8 stores them as doubles from the start. Starting as the
  // small integer 0, the first fraction changed the table's field layout and deoptimized the code using it.
  private nextExpiry = -0;
  /** Seconds added to packet time after backward jumps (see clockJumpSeconds). */
  private clockOffset = -0;
  /**
   * No flow's idle deadline (last activity + its class's timeout) is earlier than this: set when a flow becomes the
   * head of an idle list (a head leaving makes way for a later one), made exact by expire. Most packets reach the
   * once-a-second expiry check on the benchmark corpus (its captures are sparse in time); this spares the scan.
   */
  private earliest = Infinity;
  /** The flow of the last packet (null after it ended). */
  private lastFlow: Flow | null = null;
  private readonly vlanInKey: boolean;
  readonly stats: FlowTableStats = { created: 0, ended: 0, timedOut: 0, evicted: 0, closed: 0, reused: 0, notFlow: 0, peakLive: 0, clockJumps: 0 };

  constructor(
    private readonly handler: FlowHandler = {},
    limits: Partial<FlowLimits> = {},
  ) {
    this.limits = { ...DEFAULT_FLOW_LIMITS, ...limits };
    this.vlanInKey = this.limits.vlanInKey;
    let n = 1024;
    while (n < this.limits.maxFlows * 2 && n < 1 << 24) n *= 2;
    this.maxBuckets = n;
    this.buckets = new Array<Flow | null>(MIN_BUCKETS).fill(null);
    this.mask = MIN_BUCKETS - 1;
    this.timeouts = [this.limits.udpTimeout, this.limits.tcpUnestablishedTimeout, this.limits.tcpEstablishedTimeout, this.limits.tcpClosedTimeout];
    this.expectations = new Expectations(this.limits.maxExpectations);
  }

  /** Account one decoded packet to its flow; returns the flow, or null when the packet belongs to none. */
  packet(p: DecodedPacket, rec: PacketRecord): Flow | null {
    const l4 = p.l4;
    if ((l4 !== L4.TCP && l4 !== L4.UDP) || p.fragmentHeld) {
      this.stats.notFlow++;
      return null;
    }
    const tsSec = rec.tsSec;
    const tsNsec = rec.tsNsec;
    const clock = this.clock;
    clock.sec = tsSec;
    clock.nsec = tsNsec;
    const t = tsSec + tsNsec * 1e-9 + this.clockOffset;
    if (t < clock.now - this.limits.clockJumpSeconds) {
      // Time jumped back (captures concatenated out of order, a clock reset): carry on from where the clock was,
      // rather than wait (and keep every flow) until packet time catches up.
      this.clockOffset += clock.now - t;
      this.stats.clockJumps++;
    } else if (t > clock.now) {
      clock.now = t;
      // Timeouts are whole seconds: looking for expired flows once per second of capture time is enough.
      if (t >= this.nextExpiry) {
        this.nextExpiry = t + 1;
        if (t >= this.earliest - 1e-3) this.expire(); // (expire's own first test, without the call)
      }
    }

    const proto = l4 === L4.TCP ? 6 : 17;
    const vlan = this.vlanInKey ? p.vlanOuter * 4099 + p.vlanInner : 0;
    // Most packets belong to the flow of the packet before (79% on the benchmark corpus): try it before hashing.
    let flow: Flow | null = this.lastFlow;
    let dir = flow === null ? -1 : this.direction(flow, p, proto, vlan);
    let h = 0;
    if (dir < 0) {
      h = this.hashOf(p, proto, vlan);
      flow = this.buckets[h & this.mask]!;
      while (flow !== null) {
        dir = this.direction(flow, p, proto, vlan);
        if (dir >= 0) break;
        flow = flow.chain;
      }
    }
    const flags = l4 === L4.TCP ? p.tcpFlags : 0;
    if (
      flow !== null &&
      proto === 6 &&
      (flags & (Tcp.SYN | Tcp.ACK)) === Tcp.SYN &&
      (flow.state === FlowState.Closed || (dir === 0 && flow.streams[0]?.newConnection(p.tcpSeq) === true))
    ) {
      // A new connection on the 5-tuple of a closed one, or a client's SYN with a new initial sequence number on one
      // never seen closing (port reuse: the old connection's end was not captured).
      this.end(flow, 'reused');
      this.stats.reused++;
      flow = null;
    }
    if (flow === null) {
      // (h is 0 when the last flow matched and was just ended for reuse: hash it)
      flow = this.create(p, proto, h === 0 ? this.hashOf(p, proto, vlan) : h, flags);
      dir = this.direction(flow, p, proto, vlan);
    }
    this.lastFlow = flow;

    // counters
    const d = dir as 0 | 1;
    const c = flow.c;
    if (c[Counter.Packets + d] === 0) {
      c[Counter.FirstSec + d] = tsSec;
      c[Counter.FirstNsec + d] = tsNsec;
    }
    c[Counter.Packets + d]!++;
    c[Counter.Bytes + d]! += rec.origlen;
    c[Counter.Payload + d]! += p.payloadWireLength;
    c[Counter.LastSec + d] = tsSec;
    c[Counter.LastNsec + d] = tsNsec;
    flow.lastSeen = clock.now;

    if (proto === 6) this.tcp(flow, d, p, flags);
    else if (this.handler.onDatagram && p.payloadLength > 0) this.handler.onDatagram(flow, d, p.buf, p.payloadOffset, p.payloadLength, tsSec, tsNsec);
    if (flow.endReason === null) this.touch(flow);
    return flow;
  }

  /** The symmetric hash of a packet's flow key: 30 bits, a small integer; its low bits pick the bucket. */
  private hashOf(p: DecodedPacket, proto: number, vlan: number): number {
    const v6 = p.ipVersion === 6;
    const a = v6 ? p.src6[0]! ^ Math.imul(p.src6[1]!, 31) ^ Math.imul(p.src6[2]!, 961) ^ Math.imul(p.src6[3]!, 29791) : p.src4;
    const b = v6 ? p.dst6[0]! ^ Math.imul(p.dst6[1]!, 31) ^ Math.imul(p.dst6[2]!, 961) ^ Math.imul(p.dst6[3]!, 29791) : p.dst4;
    const ha = mix(a, p.srcPort);
    const hb = mix(b, p.dstPort);
    const h = ha < hb ? Math.imul(ha, 0x27d4eb2d) ^ hb : Math.imul(hb, 0x27d4eb2d) ^ ha;
    // collisions are chained and compared in full
    return (h ^ Math.imul(proto + (p.tunnelDepth << 8), 0x165667b1) ^ Math.imul(vlan, 0x61c88647)) & 0x3fffffff;
  }

  /** 0 when the packet goes client → server, 1 for server → client, -1 when it is not this flow's. */
  private direction(f: Flow, p: DecodedPacket, proto: number, vlan: number): number {
    if (f.proto !== proto || f.tunnelDepth !== p.tunnelDepth) return -1;
    if (this.vlanInKey && f.vlanOuter * 4099 + f.vlanInner !== vlan) return -1;
    if (p.ipVersion === 4) {
      if (f.ipVersion !== 4) return -1;
      const src = p.src4 | 0; // the flow keeps addresses as int32 (see Flow.c0)
      const dst = p.dst4 | 0;
      if (src === f.c0 && p.srcPort === f.cport && dst === f.s0 && p.dstPort === f.sport) return 0;
      if (src === f.s0 && p.srcPort === f.sport && dst === f.c0 && p.dstPort === f.cport) return 1;
      return -1;
    }
    return f.ipVersion === 6 ? direction6(f, p) : -1;
  }

  private create(p: DecodedPacket, proto: number, h: number, flags: number): Flow {
    const now = this.clock.now;
    if (this.live >= this.limits.maxFlows) this.evictOne();
    const f = new Flow(this.nextId++, proto, p.ipVersion);
    // Orientation: the SYN's sender is the client; a SYN-ACK's receiver is; else ports decide; else the first sender.
    let senderIsClient: boolean;
    if (proto === 6 && (flags & (Tcp.SYN | Tcp.ACK)) === Tcp.SYN) {
      senderIsClient = true;
      f.orientation = 'syn';
    } else if (proto === 6 && (flags & (Tcp.SYN | Tcp.ACK)) === (Tcp.SYN | Tcp.ACK)) {
      senderIsClient = false;
      f.orientation = 'synack';
    } else {
      const byPort = serverSide(p.srcPort, p.dstPort);
      if (byPort !== 0) {
        senderIsClient = byPort > 0;
        f.orientation = 'port';
      } else {
        senderIsClient = true;
        f.orientation = 'first_packet';
      }
    }
    const s6 = p.src6;
    const d6 = p.dst6;
    if (senderIsClient) {
      if (p.ipVersion === 4) {
        f.c0 = p.src4 | 0;
        f.s0 = p.dst4 | 0;
      } else {
        setV6(f, s6, d6);
      }
      f.cport = p.srcPort;
      f.sport = p.dstPort;
    } else {
      if (p.ipVersion === 4) {
        f.c0 = p.dst4 | 0;
        f.s0 = p.src4 | 0;
      } else {
        setV6(f, d6, s6);
      }
      f.cport = p.dstPort;
      f.sport = p.srcPort;
    }
    f.vlanOuter = p.vlanOuter;
    f.vlanInner = p.vlanInner;
    f.tunnelDepth = p.tunnelDepth;
    f.gtpTeid = p.gtpTeid;
    f.hash = h;
    f.lastSeen = now;
    f.timeoutClass = proto === 6 ? Class.TcpNew : Class.Udp;
    if (this.live * 2 >= this.buckets.length && this.buckets.length < this.maxBuckets) this.grow();
    const b = h & this.mask;
    f.chain = this.buckets[b]!;
    this.buckets[b] = f;
    this.live++;
    this.stats.created++;
    if (this.live > this.stats.peakLive) this.stats.peakLive = this.live;
    this.link(f);

    const certain = f.orientation === 'syn' || f.orientation === 'synack';
    if (this.expectations.size > 0 && this.expectations.mayMatch(f.sport, certain ? -1 : f.cport)) {
      const client = clientText(f);
      const server = serverText(f);
      const m = this.expectations.match(proto === 6 ? 'tcp' : 'udp', client, f.cport, server, f.sport, now, !certain);
      if (m) {
        if (m.swapped) swapRoles(f);
        f.orientation = 'expected';
        f.expected = { analyzer: m.entry.analyzer, context: m.entry.context };
      }
    }
    this.handler.onFlowStart?.(f);
    return f;
  }

  /** Double the buckets and move every live flow to its new chain (chain order does not matter: keys are unique). */
  private grow(): void {
    const old = this.buckets;
    const n = old.length * 2;
    const buckets = new Array<Flow | null>(n).fill(null);
    const mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      let f: Flow | null = old[i]!;
      while (f !== null) {
        const next: Flow | null = f.chain;
        const b = f.hash & mask;
        f.chain = buckets[b]!;
        buckets[b] = f;
        f = next;
      }
    }
    this.buckets = buckets;
    this.mask = mask;
  }

  private tcp(f: Flow, d: 0 | 1, p: DecodedPacket, flags: number): void {
    const c = f.c;
    c[Counter.Flags + d]! |= flags;
    const syn = (flags & Tcp.SYN) !== 0;
    const fin = (flags & Tcp.FIN) !== 0;
    if (syn) {
      if (flags & Tcp.ACK) f.synAckSeen = true;
      else f.synSeen = true;
    }
    if (flags & Tcp.RST) f.rst = true;
    let st = f.streams[d];
    if (st === null && (syn || fin || p.payloadLength > 0)) {
      st = new TcpStream(this.limits, this.handler.streamSink ? this.handler.streamSink(f, d) : null);
      f.streams[d] = st;
    }
    if (st !== null) st.segment(p, syn, fin, this.clock);
    const other = f.streams[d ^ 1];
    if (other) other.tick(this.clock);

    if (f.state !== FlowState.Closed) {
      if (f.rst || (c[Counter.Flags]! & c[Counter.Flags + 1]! & Tcp.FIN) !== 0) {
        f.state = FlowState.Closed;
        this.reclass(f, Class.TcpClosed);
      } else if (f.state === FlowState.New && (f.synAckSeen || (c[Counter.Packets]! > 0 && c[Counter.Packets + 1]! > 0 && (flags & Tcp.ACK) !== 0))) {
        f.state = FlowState.Established;
        this.reclass(f, Class.TcpEst);
      }
    }
  }

  // ── idle lists ──

  private link(f: Flow): void {
    const c = f.timeoutClass;
    const tail = this.tails[c]!;
    f.prev = tail;
    f.nextIdle = null;
    if (tail) tail.nextIdle = f;
    else {
      this.heads[c] = f;
      const deadline = f.lastSeen + this.timeouts[c]!;
      if (deadline < this.earliest) this.earliest = deadline;
    }
    this.tails[c] = f;
  }

  private unlink(f: Flow): void {
    const c = f.timeoutClass;
    if (f.prev) f.prev.nextIdle = f.nextIdle;
    else this.heads[c] = f.nextIdle;
    if (f.nextIdle) f.nextIdle.prev = f.prev;
    else this.tails[c] = f.prev;
    f.prev = null;
    f.nextIdle = null;
  }

  /** Move to the back of its idle list (most recently active). */
  private touch(f: Flow): void {
    if (this.tails[f.timeoutClass] === f) return;
    this.unlink(f);
    this.link(f);
  }

  private reclass(f: Flow, c: number): void {
    this.unlink(f);
    f.timeoutClass = c;
    this.link(f);
  }

  /** End every flow whose idle time exceeds its class's timeout. */
  expire(): void {
    const now = this.clock.now;
    // Nothing to look at before the earliest deadline (less a millisecond, far more than the rounding of the sums).
    if (now < this.earliest - 1e-3) return;
    let earliest = Infinity;
    for (let c = 0; c < 4; c++) {
      const timeout = this.timeouts[c]!;
      let f = this.heads[c]!;
      while (f !== null && now - f.lastSeen > timeout) {
        this.end(f, c === Class.TcpClosed ? 'closed' : 'timeout');
        f = this.heads[c]!;
      }
      if (f !== null && f.lastSeen + timeout < earliest) earliest = f.lastSeen + timeout;
    }
    this.earliest = earliest;
  }

  private evictOne(): void {
    let victim: Flow | null = null;
    for (let c = 0; c < 4; c++) {
      const h = this.heads[c];
      if (h && (victim === null || h.lastSeen < victim.lastSeen)) victim = h;
    }
    if (victim) this.end(victim, 'evicted');
  }

  /** End a flow: flush its streams, hand it on, release it. */
  private end(f: Flow, reason: FlowEndReason): void {
    if (f === this.lastFlow) this.lastFlow = null;
    this.unlink(f);
    // remove from its hash chain
    const b = f.hash & this.mask;
    const head = this.buckets[b]!;
    if (head === f) this.buckets[b] = f.chain;
    else {
      let q = head;
      while (q.chain !== f) q = q.chain!;
      q.chain = f.chain;
    }
    f.chain = null;
    this.live--;
    f.endReason = reason;
    this.stats.ended++;
    if (reason === 'timeout') this.stats.timedOut++;
    else if (reason === 'evicted') this.stats.evicted++;
    else if (reason === 'closed') this.stats.closed++;
    for (let d = 0; d < 2; d++) {
      const st = f.streams[d];
      if (st) {
        st.flush(f.c[Counter.LastSec + d]!, f.c[Counter.LastNsec + d]!);
        if (st.gaps > 0) f.anomaly('tcp_content_gap', st.gaps);
        if (st.overlapsDiffer > 0) f.anomaly('tcp_overlap_differs', st.overlapsDiffer);
        if (st.bufferLimitHits > 0) f.anomaly('tcp_reassembly_buffer_limit', st.bufferLimitHits);
        if (st.pendingDropped > 0) f.anomaly('tcp_pending_limit', 1);
      }
    }
    this.handler.onFlowEnd?.(f);
    f.streams = [null, null];
    f.user = null;
  }

  /** End of input: end every live flow, in the order they were created. */
  finish(): void {
    const all: Flow[] = [];
    for (let c = 0; c < 4; c++) for (let f = this.heads[c] ?? null; f !== null; f = f.nextIdle) all.push(f);
    all.sort((x, y) => x.id - y.id);
    for (const f of all) this.end(f, 'end_of_input');
  }
}

/** direction() for IPv6 (apart, so that the IPv4 case is small enough to be inlined into packet()). */
function direction6(f: Flow, p: DecodedPacket): number {
  const s = p.src6;
  const t = p.dst6;
  const s0 = s[0]! | 0;
  const s1 = s[1]! | 0;
  const s2 = s[2]! | 0;
  const s3 = s[3]! | 0;
  const t0 = t[0]! | 0;
  const t1 = t[1]! | 0;
  const t2 = t[2]! | 0;
  const t3 = t[3]! | 0;
  if (p.srcPort === f.cport && p.dstPort === f.sport && s0 === f.c0 && s1 === f.c1 && s2 === f.c2 && s3 === f.c3 && t0 === f.s0 && t1 === f.s1 && t2 === f.s2 && t3 === f.s3) return 0;
  if (p.srcPort === f.sport && p.dstPort === f.cport && s0 === f.s0 && s1 === f.s1 && s2 === f.s2 && s3 === f.s3 && t0 === f.c0 && t1 === f.c1 && t2 === f.c2 && t3 === f.c3) return 1;
  return -1;
}

/** A flow's IPv6 client and server addresses, as int32 words (see Flow.c0). */
function setV6(f: Flow, client: Uint32Array, server: Uint32Array): void {
  f.c0 = client[0]! | 0;
  f.c1 = client[1]! | 0;
  f.c2 = client[2]! | 0;
  f.c3 = client[3]! | 0;
  f.s0 = server[0]! | 0;
  f.s1 = server[1]! | 0;
  f.s2 = server[2]! | 0;
  f.s3 = server[3]! | 0;
}

/** 1 when the destination port looks like the service (sender is the client), -1 for the source, 0 undecided. */
function serverSide(srcPort: number, dstPort: number): number {
  const ds = dstPort < 1024 || SERVICE_PORTS.has(dstPort);
  const ss = srcPort < 1024 || SERVICE_PORTS.has(srcPort);
  if (ds && !ss) return 1;
  if (ss && !ds) return -1;
  if (ds && ss) return dstPort < srcPort ? 1 : dstPort > srcPort ? -1 : 0;
  return 0;
}

function swapRoles(f: Flow): void {
  [f.c0, f.s0] = [f.s0, f.c0];
  [f.c1, f.s1] = [f.s1, f.c1];
  [f.c2, f.s2] = [f.s2, f.c2];
  [f.c3, f.s3] = [f.s3, f.c3];
  [f.cport, f.sport] = [f.sport, f.cport];
  [f.clientIpText, f.serverIpText] = [f.serverIpText, f.clientIpText];
}
