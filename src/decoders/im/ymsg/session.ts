/**
 * The YMSG client-server session: frames packets (parse.ts), decides confirmation, resynchronises on the `YMSG` magic
 * after gaps and junk, and hands each packet's pairs to the service handlers (services.ts).
 *
 * Covers YMSG versions 9 to 17 as spoken to the Yahoo! pager servers on TCP (scs.msg.yahoo.com:5050 and its port 80 /
 * 23 fallbacks) by Yahoo! Messenger 5.x-11.x, libpurple and libyahoo2. References: Wireshark's packet-ymsg.c (header
 * fields, service numbers), libpurple's protocols/yahoo (keys of each service), libyahoo2's yahoo2.c and
 * libyahoo2.sourceforge.net/ymsg-9.txt.
 *
 * Confirmation: both directions have sent a packet with the magic and a valid version. Before that, bytes that are not
 * YMSG at the start of a direction are skipped quietly up to PRE_CONFIRM_JUNK bytes (a connection picked up mid-stream
 * starts inside a packet); bytes that are not YMSG after a packet, or a direction that ends without any packet, reject
 * the flow. After confirmation they are the anomaly `ymsg_junk`.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { YMSG_LIMITS, type YmsgLimits } from './limits.js';
import { findMagic, HEADER_BYTES, isMagic, MAX_VERSION, newPairs, readHeader, readPairs, type YmsgHeader } from './parse.js';
import { YmsgHandler } from './services.js';

/** Leading bytes of a direction, before confirmation, searched for the first packet. */
export const PRE_CONFIRM_JUNK = 8192;

const side = (d: Dir): string => (d === 0 ? 'client' : 'server');

export function createYmsgSession(ctx: SessionContext, limits: Partial<YmsgLimits> = {}): ImSession {
  return new YmsgSession(ctx, { ...YMSG_LIMITS, ...limits });
}

class YmsgSession implements ImSession {
  private readonly hdr: YmsgHeader = { version: 0, vendor: 0, length: 0, service: 0, status: 0, session: 0 };
  private readonly pairs = newPairs();
  private readonly handler: YmsgHandler;
  private confirmed = false;
  private stopped = false;
  /** Packets seen per direction. */
  private readonly packets: [number, number] = [0, 0];
  /** Bytes seen per direction (to tell "nothing sent" from "nothing YMSG sent"). */
  private readonly bytes: [number, number] = [0, 0];
  /** Skipping quietly to the next magic (start of a direction, after a gap). */
  private readonly resync: [boolean, boolean] = [true, true];
  /** Length of the current run of junk per direction (reported when it ends). */
  private readonly junkRun: [number, number] = [0, 0];
  private junkTotal = 0;
  /** Inside a packet when the direction ended or a gap came. */
  private readonly partial: [number, number] = [0, 0];

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: YmsgLimits,
  ) {
    this.handler = new YmsgHandler(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.stopped) {
      if (!isMagic(data, at) || (end - at >= 6 && ((data[at + 4]! << 8) | data[at + 5]!) > MAX_VERSION)) {
        // Not a packet start (or a cut magic at the very end: kept for the next bytes).
        const m = isMagic(data, at) ? findMagic(data, at + 1, end) : findMagic(data, at, end);
        if (m === at) break;
        if (!this.junk(dir, m - at, ts)) return len;
        at = m;
        continue;
      }
      if (end - at < HEADER_BYTES) break;
      readHeader(data, at, this.hdr);
      const total = HEADER_BYTES + this.hdr.length;
      if (end - at < total) break;
      this.endJunk(dir, ts);
      this.bytes[dir] += total;
      this.packet(dir, data, at, total, ts);
      at += total;
    }
    // What is left starts a packet (or a cut magic): if the direction ends here, that packet was truncated.
    this.partial[dir] = !this.stopped && at < end ? end - at : 0;
    return this.stopped ? len : at - off;
  }

  onGap(dir: Dir, _len: number, ts: Time): void {
    if (this.partial[dir] > 0) this.truncated(dir, ts, 'a gap');
    this.endJunk(dir, ts);
    this.resync[dir] = true;
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.stopped) return;
    if (this.partial[dir] > 0) this.truncated(dir, ts, 'the end of the stream');
    this.endJunk(dir, ts);
    if (!this.confirmed && this.packets[dir] === 0 && this.bytes[dir] > 0) {
      this.stop(`${side(dir)} sent ${this.bytes[dir]} bytes and no YMSG packet`);
    }
  }

  finish(ts: Time): void {
    if (this.stopped) return;
    this.handler.finish(ts);
  }

  private truncated(dir: Dir, ts: Time, why: string): void {
    const n = this.partial[dir];
    this.partial[dir] = 0;
    if (this.confirmed || this.packets[dir] > 0) this.ctx.anomaly(ts, 'ymsg_truncated', `${side(dir)} packet cut after ${n} bytes by ${why}`);
  }

  /** `n` bytes of direction `dir` are not YMSG. Returns false when the flow is given up. */
  private junk(dir: Dir, n: number, ts: Time): boolean {
    this.bytes[dir] += n;
    if (!this.confirmed) {
      // Leading bytes of a direction (or after a gap) may be the tail of a packet; bytes after a packet may not.
      if (!this.resync[dir] || this.junkRun[dir] + n > PRE_CONFIRM_JUNK) {
        this.stop(`${side(dir)} sent ${this.junkRun[dir] + n} bytes that are not YMSG${this.packets[dir] > 0 ? ' after a packet' : ''}`);
        return false;
      }
      this.junkRun[dir] += n;
      return true;
    }
    this.junkRun[dir] += n;
    this.junkTotal += this.resync[dir] ? 0 : n;
    if (this.junkTotal > this.limits.maxJunkBytes) {
      this.endJunk(dir, ts);
      this.stop(`${this.junkTotal} bytes that are not YMSG exceed ${this.limits.maxJunkBytes} (limit maxJunkBytes): the rest of the flow is not parsed`);
      return false;
    }
    return true;
  }

  private endJunk(dir: Dir, ts: Time): void {
    const n = this.junkRun[dir];
    this.junkRun[dir] = 0;
    if (n > 0 && this.confirmed && !this.resync[dir]) this.ctx.anomaly(ts, 'ymsg_junk', `${side(dir)} skipped ${n} bytes that are not YMSG`);
  }

  private stop(reason: string): void {
    this.stopped = true;
    this.ctx.reject(reason);
  }

  private packet(dir: Dir, data: Uint8Array, at: number, total: number, ts: Time): void {
    this.resync[dir] = false;
    this.packets[dir]++;
    if (!this.confirmed && this.packets[0] > 0 && this.packets[1] > 0) {
      this.confirmed = true;
      this.ctx.confirm(1);
    }
    const p = readPairs(data, at + HEADER_BYTES, at + total, this.limits.maxPairs, this.pairs);
    if (p.stopped === 'bad_key') {
      this.ctx.anomaly(ts, 'ymsg_bad_key', `${side(dir)} service 0x${this.hdr.service.toString(16)} body of ${total - HEADER_BYTES} bytes: pair ${p.n + 1} has no decimal key`);
    } else if (p.stopped === 'too_many') {
      this.ctx.anomaly(ts, 'ymsg_pairs_exceeded', `${side(dir)} service 0x${this.hdr.service.toString(16)} has more than ${this.limits.maxPairs} pairs (limit maxPairs)`);
    }
    this.handler.packet(dir, this.hdr, p, ts);
  }
}
