/**
 * The Gadu-Gadu client-server session: frames `type, length, payload` packets (parse.ts), decides confirmation, and
 * hands each packet to the handlers (packets.ts).
 *
 * Covers the protocol of GG 4.x to 8.0/10 as libgadu (toxygen.net/libgadu/protocol) and Wireshark's
 * packet-gadu-gadu.c describe it, spoken to the GG servers on TCP 8074 (or 443).
 *
 * Confirmation: each direction has sent a packet of a type known for that direction (the server's WELCOME, the
 * client's login). Before that, a header no GG peer would send (a type above 0xff, a length over maxPacketBytes)
 * rejects the flow. After it, unknown types are skipped (the protocol has many that carry nothing recorded here), and
 * an oversized packet is skipped unread with an anomaly. A binary stream has no marker to resynchronise on: after a
 * gap the rest of that direction is not parsed (`gadugadu_desync`).
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { GADU_LIMITS, type GaduLimits } from './limits.js';
import { CLIENT_TYPES, HEADER_BYTES, SERVER_TYPES, u32 } from './parse.js';
import { GaduHandler } from './packets.js';

const side = (d: Dir): string => (d === 0 ? 'client' : 'server');

export function createGaduSession(ctx: SessionContext, limits: Partial<GaduLimits> = {}): ImSession {
  return new GaduSession(ctx, { ...GADU_LIMITS, ...limits });
}

class GaduSession implements ImSession {
  private readonly handler: GaduHandler;
  private confirmed = false;
  private stopped = false;
  private readonly known: [boolean, boolean] = [false, false];
  /** Bytes of an oversized packet still to skip, per direction. */
  private readonly skip: [number, number] = [0, 0];
  /** The direction lost its packet boundaries (a gap). */
  private readonly lost: [boolean, boolean] = [false, false];
  /** Bytes of an unfinished packet left when the direction ended. */
  private readonly partial: [number, number] = [0, 0];

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: GaduLimits,
  ) {
    this.handler = new GaduHandler(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped || this.lost[dir]) return len;
    const end = off + len;
    let at = off;
    while (at < end) {
      if (this.skip[dir] > 0) {
        const n = Math.min(this.skip[dir], end - at);
        this.skip[dir] -= n;
        at += n;
        continue;
      }
      if (end - at < HEADER_BYTES) break;
      const type = u32(data, at);
      const plen = u32(data, at + 4);
      if (HEADER_BYTES + plen > this.limits.maxPacketBytes || type > 0xffff) {
        if (!this.confirmed) {
          this.stopped = true;
          this.ctx.reject(`${side(dir)} packet type 0x${type.toString(16)} of ${plen} bytes is not Gadu-Gadu (limit maxPacketBytes ${this.limits.maxPacketBytes})`);
          return len;
        }
        this.ctx.anomaly(ts, 'gadugadu_packet_size_exceeded', `${side(dir)} packet type 0x${type.toString(16)} of ${plen} bytes exceeds ${this.limits.maxPacketBytes} (limit maxPacketBytes): skipped`);
        this.skip[dir] = plen;
        at += HEADER_BYTES;
        continue;
      }
      if (end - at < HEADER_BYTES + plen) break;
      if (!this.confirmed && (dir === 0 ? CLIENT_TYPES : SERVER_TYPES).has(type)) {
        this.known[dir] = true;
        if (this.known[0] && this.known[1]) {
          this.confirmed = true;
          this.ctx.confirm(1);
        }
      }
      this.handler.packet(dir, type, data, at + HEADER_BYTES, at + HEADER_BYTES + plen, ts);
      at += HEADER_BYTES + plen;
    }
    this.partial[dir] = end - at;
    return at - off;
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    if (this.stopped || this.lost[dir]) return;
    this.lost[dir] = true;
    this.partial[dir] = 0;
    this.ctx.anomaly(ts, 'gadugadu_desync', `${side(dir)} lost ${len} bytes: the rest of the direction is not parsed`);
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.stopped) return;
    if (this.partial[dir] > 0 || this.skip[dir] > 0) {
      this.ctx.anomaly(ts, 'gadugadu_truncated', `${side(dir)} ended inside a packet (${this.partial[dir] > 0 ? `${this.partial[dir]} bytes of it seen` : `${this.skip[dir]} bytes of an oversized one missing`})`);
      this.partial[dir] = 0;
      this.skip[dir] = 0;
    }
  }

  finish(ts: Time): void {
    if (this.stopped) return;
    this.handler.finish(ts);
  }
}
