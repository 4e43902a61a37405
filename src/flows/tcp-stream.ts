/**
 * TCP reassembly for one direction of a connection: turns segments, in whatever order the capture holds them, into
 * the ordered byte stream the sender wrote, with explicit gaps where bytes are missing.
 * Reference: RFC 9293 (sequence space, SYN/FIN occupy one number), RFC 1982-style serial arithmetic for wrap-around.
 *
 * Stream offsets are plain numbers counted from the first byte after the SYN (or from the first data segment seen
 * when the connection was picked up mid-stream); sequence numbers map to them by their signed 32-bit distance from
 * the next expected sequence number, so wrap-around needs no special case.
 *
 * Policy (documented in docs/flows.md):
 * - In-order data is handed on as a view of the packet, not copied. Out-of-order data is copied into a buffer, at most
 *   `maxBufferBytes` per direction.
 * - Overlaps: first data wins. Bytes already handed on are never replaced; a segment overlapping buffered data keeps
 *   the buffered bytes, and an anomaly is counted when the overlapping bytes differ. (Bytes already handed on are not
 *   kept, so a retransmission of them is counted but not compared.)
 * - A hole becomes a gap, reported to the sink as `onGap(offset, length)`, when the buffer limit is hit, when the
 *   first buffered segment has waited `gapTimeout` seconds of capture time, or when the connection ends.
 * - Bytes a sink did not consume are kept (copied, at most `maxPendingBytes`) and offered again with the next bytes.
 */
import type { FlowLimits } from './options.js';

/**
 * The capture clock, shared by the table and its streams and updated in place for each packet: passing times as
 * arguments would box a floating-point number on every call of the per-packet path.
 */
export interface Clock {
  /** Latest capture time seen, in seconds (never goes back). */
  now: number;
  /** The current packet's exact time. */
  sec: number;
  nsec: number;
}

/**
 * The Clock a FlowTable keeps. A class rather than an object literal: V8 then stores `now` (a fraction of a second)
 * in place, where a literal's field took a new heap number for every packet (measured with the sampling heap
 * profiler: 25 → 16 MB allocated by FlowTable.packet on the 120-copy corpus).
 */
export class CaptureClock implements Clock {
  now = 0;
  sec = 0;
  nsec = 0;
}

/** The part of a decoded packet a stream reads. */
export interface SegmentView {
  tcpSeq: number;
  buf: Uint8Array;
  payloadOffset: number;
  payloadLength: number;
}

export interface StreamSink {
  /**
   * In-order bytes `data[offset, offset + length)` of one direction, which start at stream offset `streamOffset`;
   * the time is that of the packet that completed them. Return how many bytes were consumed: the rest is kept and
   * offered again, followed by the next bytes. The view is valid only during the call.
   */
  onData(data: Uint8Array, offset: number, length: number, streamOffset: number, tsSec: number, tsNsec: number): number;
  /** `length` bytes at `streamOffset` are missing and will never come. */
  onGap(streamOffset: number, length: number): void;
  /** The direction ended (FIN reached, RST, or end of the flow). */
  onEnd(): void;
}

interface Segment {
  off: number;
  data: Uint8Array;
  /** Capture time (seconds) at which it was buffered, for the gap timeout. */
  at: number;
}

export class TcpStream {
  /** Sequence number of stream offset 0. */
  private base = 0;
  started = false;
  /** Sequence number of the SYN that started the stream; -1 when it started without one (picked up mid-stream). */
  private synSeq = -1;
  /** True when the stream was picked up without its SYN. */
  midstream = false;
  /** Next stream offset to hand on. */
  next = 0;
  private segs: Segment[] = [];
  buffered = 0;
  private finOffset = -1;
  ended = false;
  // Unconsumed bytes kept for the sink.
  private pending: Uint8Array | null = null;
  private pendingLen = 0;
  private pendingOffset = 0;

  // ── counters ──
  /** Bytes handed on in order. */
  delivered = 0;
  /** Segments that carried only bytes already received, and bytes received twice. */
  retransmissions = 0;
  retransmittedBytes = 0;
  /** Segments that arrived ahead of a hole. */
  outOfOrder = 0;
  gaps = 0;
  gapBytes = 0;
  /** Overlapping segments whose bytes differed from the bytes kept (first data wins). */
  overlapsDiffer = 0;
  /** Times the buffer limit forced a gap, and bytes a sink left unconsumed beyond maxPendingBytes. */
  bufferLimitHits = 0;
  pendingDropped = 0;

  constructor(
    private readonly limits: FlowLimits,
    public sink: StreamSink | null,
  ) {}

  /** Stream offset of a sequence number (valid within 2^31 of the next expected one). */
  offsetOf(seq: number): number {
    return this.next + ((seq - ((this.base + this.next) >>> 0)) | 0);
  }

  /**
   * Whether a SYN with sequence number `seq` opens a new connection rather than repeating this stream's own: a SYN with
   * another initial sequence number, or (for a stream picked up mid-stream) one that starts before the bytes seen.
   */
  newConnection(seq: number): boolean {
    if (!this.started) return false;
    if (this.synSeq >= 0) return (seq >>> 0) !== this.synSeq;
    return this.offsetOf((seq + 1) >>> 0) < 0;
  }

  /** One segment of this direction; `syn`/`fin` say whether those flags were set. */
  segment(p: SegmentView, syn: boolean, fin: boolean, clock: Clock): void {
    const seq = p.tcpSeq;
    const buf = p.buf;
    let off = p.payloadOffset;
    let len = p.payloadLength;
    if (this.ended) {
      if (len > 0) {
        this.retransmissions++;
        this.retransmittedBytes += len;
      }
      return;
    }
    if (!this.started) {
      if (syn) {
        this.base = (seq + 1) >>> 0;
        this.synSeq = seq >>> 0;
      } else if (len > 0 || fin) {
        this.base = seq;
        this.midstream = true;
      } else return;
      this.started = true;
    }
    let start = this.offsetOf(syn ? (seq + 1) >>> 0 : seq);
    if (fin && this.finOffset < 0) this.finOffset = start + len;
    if (len > 0) {
      let end = start + len;
      if (end <= this.next) {
        this.retransmissions++;
        this.retransmittedBytes += len;
      } else {
        if (start < this.next) {
          const cut = this.next - start;
          this.retransmittedBytes += cut;
          off += cut;
          len -= cut;
          start = this.next;
          end = start + len;
        }
        if (start === this.next && this.segs.length === 0) {
          this.next = end;
          this.deliver(buf, off, len, start, clock.sec, clock.nsec);
        } else {
          if (start > this.next) this.outOfOrder++;
          this.insert(start, buf, off, len, clock.now);
          this.drain(clock.sec, clock.nsec);
          if (this.buffered > this.limits.maxBufferBytes) {
            this.bufferLimitHits++;
            while (this.buffered > this.limits.maxBufferBytes && this.segs.length > 0) this.skipHole(clock.sec, clock.nsec);
          }
        }
      }
    }
    if (this.segs.length > 0) this.tick(clock);
    if (this.finOffset >= 0 && this.next >= this.finOffset && this.segs.length === 0) this.end();
  }

  /** Insert a copy of the bytes of [start, start+len) not already buffered; compare the ones that are. */
  private insert(start: number, buf: Uint8Array, off: number, len: number, now: number): void {
    const segs = this.segs;
    const end = start + len;
    // first segment that ends after start
    let i = 0;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (s.off + s.data.length <= start) lo = mid + 1;
      else hi = mid;
    }
    i = lo;
    let cur = start;
    while (cur < end) {
      const s = segs[i];
      if (s === undefined || s.off >= end) {
        this.addPiece(i, cur, buf, off + (cur - start), end - cur, now);
        break;
      }
      if (s.off > cur) {
        this.addPiece(i, cur, buf, off + (cur - start), s.off - cur, now);
        i++;
        cur = s.off;
        continue;
      }
      // [cur, min(end, sEnd)) is already buffered: first data wins; compare.
      const sEnd = s.off + s.data.length;
      const upto = Math.min(end, sEnd);
      const d = s.data;
      const so = cur - s.off;
      const bo = off + (cur - start);
      for (let k = 0; k < upto - cur; k++) {
        if (d[so + k] !== buf[bo + k]) {
          this.overlapsDiffer++;
          break;
        }
      }
      this.retransmittedBytes += upto - cur;
      cur = upto;
      i++;
    }
  }

  private addPiece(at: number, off: number, buf: Uint8Array, from: number, len: number, now: number): void {
    this.segs.splice(at, 0, { off, data: buf.slice(from, from + len), at: now });
    this.buffered += len;
  }

  /** Hand on every buffered segment that is now contiguous. */
  private drain(tsSec: number, tsNsec: number): void {
    const segs = this.segs;
    while (segs.length > 0) {
      const s = segs[0]!;
      if (s.off > this.next) break;
      segs.shift();
      this.buffered -= s.data.length;
      const sEnd = s.off + s.data.length;
      if (sEnd <= this.next) continue;
      const skip = this.next - s.off;
      const start = this.next;
      this.next = sEnd;
      this.deliver(s.data, skip, s.data.length - skip, start, tsSec, tsNsec);
    }
  }

  /** Declare the hole before the first buffered segment a gap and hand on what follows it. */
  private skipHole(tsSec: number, tsNsec: number): void {
    const first = this.segs[0];
    if (!first) return;
    const len = first.off - this.next;
    if (len > 0) this.gap(len);
    this.drain(tsSec, tsNsec);
  }

  private gap(len: number): void {
    const at = this.next;
    this.gaps++;
    this.gapBytes += len;
    this.next += len;
    // Unconsumed bytes before a gap can never be completed: the sink learns of them with the gap.
    if (this.pendingLen > 0) {
      this.pendingDropped += this.pendingLen;
      this.pendingLen = 0;
    }
    this.sink?.onGap(at, len);
  }

  /** Called for every packet of the flow, so that a hole times out even while only the other side talks. */
  tick(clock: Clock): void {
    while (this.segs.length > 0 && clock.now - this.segs[0]!.at > this.limits.gapTimeout) this.skipHole(clock.sec, clock.nsec);
  }

  private deliver(buf: Uint8Array, off: number, len: number, streamOffset: number, tsSec: number, tsNsec: number): void {
    this.delivered += len;
    const sink = this.sink;
    if (sink === null) return;
    if (this.pendingLen === 0) {
      const used = sink.onData(buf, off, len, streamOffset, tsSec, tsNsec);
      if (used < len) this.keep(buf, off + used, len - used, streamOffset + used);
      return;
    }
    this.keep(buf, off, len, streamOffset);
    if (this.pendingLen === 0) return; // dropped at the limit
    const p = this.pending!;
    const used = sink.onData(p, 0, this.pendingLen, this.pendingOffset, tsSec, tsNsec);
    if (used >= this.pendingLen) this.pendingLen = 0;
    else if (used > 0) {
      p.copyWithin(0, used, this.pendingLen);
      this.pendingLen -= used;
      this.pendingOffset += used;
    }
  }

  /** Append to the unconsumed bytes, within maxPendingBytes. */
  private keep(buf: Uint8Array, off: number, len: number, streamOffset: number): void {
    const total = this.pendingLen + len;
    if (total > this.limits.maxPendingBytes) {
      this.pendingDropped += total;
      this.pendingLen = 0;
      this.sink?.onGap(this.pendingOffset, total);
      return;
    }
    if (this.pendingLen === 0) this.pendingOffset = streamOffset;
    if (!this.pending || this.pending.length < total) {
      const np = new Uint8Array(Math.max(total, Math.min(this.limits.maxPendingBytes, (this.pending?.length ?? 1024) * 2)));
      if (this.pending && this.pendingLen > 0) np.set(this.pending.subarray(0, this.pendingLen), 0);
      this.pending = np;
    }
    this.pending.set(buf.subarray(off, off + len), this.pendingLen);
    this.pendingLen = total;
  }

  /** Bytes the sink has not consumed yet. */
  get pendingBytes(): number {
    return this.pendingLen;
  }

  /** End of the connection: everything still buffered is handed on, holes become gaps. */
  flush(tsSec: number, tsNsec: number): void {
    while (this.segs.length > 0) this.skipHole(tsSec, tsNsec);
    this.end();
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.segs = [];
    this.buffered = 0;
    this.pending = null;
    this.pendingLen = 0;
    this.sink?.onEnd();
  }
}
