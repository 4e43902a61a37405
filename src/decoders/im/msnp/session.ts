/**
 * The MSNP session (notification and switchboard connections, MSNP2-MSNP21): frames command lines and the payloads of
 * payload commands (the byte count ends the line; the payload may span any number of packets), decides confirmation
 * and hands each command to commands.ts. Grammar: parse.ts; references there.
 *
 * A payload is parsed only once all of it is here: the bytes are left unconsumed (the dispatcher keeps them) until
 * then, which `maxPayloadBytes` bounds; a larger announced payload is skipped as it streams past. After a hole in
 * the stream the bytes start inside some line or payload: lines are skipped quietly until one is an MSNP command.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { Commands } from './commands.js';
import { isMsnpLine } from './detect.js';
import { MSNP_LIMITS, type MsnpLimits } from './limits.js';
import { findLf, lineShape, lineTextEnd, payloadLength, tokens } from './parse.js';

const dirText = (d: Dir): string => (d === 0 ? 'client' : 'server');

export function createMsnpSession(ctx: SessionContext, limits: Partial<MsnpLimits> = {}): ImSession {
  return new MsnpSession(ctx, { ...MSNP_LIMITS, ...limits });
}

class MsnpSession implements ImSession {
  private readonly cmds: Commands;
  /** Payload bytes still to skip (over the limit, or cut by a gap). */
  private readonly skipBytes: [number, number] = [0, 0];
  /** Skipping to the next line end: after an over-long line ('line', its length so far) or a hole ('gap'). */
  private readonly skipLine: [number, number] = [-1, -1];
  private readonly skipWhy: ['line' | 'gap' | null, 'line' | 'gap' | null] = [null, null];
  /** After a hole: lines are dropped quietly until one is MSNP. */
  private readonly resync: [boolean, boolean] = [false, false];
  private readonly evidence: [boolean, boolean] = [false, false];
  private confirmed = false;
  private invalid = 0;
  private stopped = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {
    this.cmds = new Commands(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.stopped) {
      if (this.skipBytes[dir] > 0) {
        const n = Math.min(this.skipBytes[dir], end - at);
        this.skipBytes[dir] -= n;
        at += n;
        continue;
      }
      const maxLine = this.limits.maxLineBytes;
      const lf = findLf(data, at, Math.min(end, at + maxLine));
      if (this.skipWhy[dir] !== null) {
        const lf2 = lf >= 0 ? lf : findLf(data, at, end);
        if (lf2 < 0) {
          this.skipLine[dir] += end - at;
          return len;
        }
        this.endSkip(dir, this.skipLine[dir] + lf2 - at, ts);
        at = lf2 + 1;
        continue;
      }
      if (lf < 0) {
        if (end - at < maxLine) return at - off; // a partial line: offered again with the next bytes
        this.skipWhy[dir] = 'line';
        this.skipLine[dir] = end - at;
        return len;
      }
      const e = lineTextEnd(data, at, lf);
      const next = this.line(dir, data, at, e, lf + 1, end, ts);
      if (next < 0) return at - off; // its payload is not all here yet
      at = next;
    }
    return this.stopped ? len : at - off;
  }

  /** One line `data[s, e)` (its end of line before `after`); returns where parsing continues, -1 to wait for more bytes. */
  private line(dir: Dir, data: Uint8Array, s: number, e: number, after: number, end: number, ts: Time): number {
    const shape = lineShape(data, s, e);
    if (shape === 'empty') return after;
    const tok = shape === 'ok' ? tokens(data, s, e) : null;
    // Whether the line is MSNP only matters until confirmation and while resynchronising: not asked otherwise.
    const msnp = tok !== null && (this.resync[dir] || !this.confirmed) && isMsnpLine(tok);
    if (this.resync[dir]) {
      if (!msnp) {
        // A payload has no line end of its own: the command after it may start inside this line.
        const inner = innerCommand(data, s + 1, e);
        return inner < 0 ? after : inner;
      }
      this.resync[dir] = false;
    }
    if (tok === null) {
      this.invalidLine(dir, e - s, ts);
      return after;
    }
    if (!this.confirmed && msnp) {
      this.evidence[dir] = true;
      if (this.evidence[0] && this.evidence[1]) {
        this.confirmed = true;
        this.ctx.confirm(1);
      }
    }
    const plen = payloadLength(tok);
    if (plen < 0) {
      this.cmds.onCommand(dir, tok, data, -1, -1, ts);
      return after;
    }
    if (plen > this.limits.maxPayloadBytes) {
      this.ctx.anomaly(ts, 'msnp_payload_size_exceeded', `${tok[0]} payload of ${plen} bytes exceeds ${this.limits.maxPayloadBytes}: skipped`);
      this.skipBytes[dir] = plen;
      return after;
    }
    if (end - after < plen) return -1;
    this.cmds.onCommand(dir, tok, data, after, after + plen, ts);
    return after + plen;
  }

  private invalidLine(dir: Dir, n: number, ts: Time): void {
    if (!this.confirmed) {
      this.stopped = true;
      this.ctx.reject(`${dirText(dir)} line of ${n} bytes is not an MSNP command`);
      return;
    }
    this.invalid++;
    if (this.invalid > this.limits.maxInvalidLines) {
      this.stopped = true;
      this.ctx.reject(`${this.invalid} invalid lines exceed ${this.limits.maxInvalidLines}: the rest of the flow is not parsed`);
      return;
    }
    this.ctx.anomaly(ts, 'msnp_invalid_line', `${dirText(dir)} line of ${n} bytes is not an MSNP command`);
  }

  private endSkip(dir: Dir, n: number, ts: Time, unterminated = false): void {
    const why = this.skipWhy[dir];
    this.skipWhy[dir] = null;
    this.skipLine[dir] = -1;
    if (why === 'line') this.ctx.anomaly(ts, 'msnp_line_size_exceeded', `${dirText(dir)} line of ${n} bytes exceeds ${this.limits.maxLineBytes}${unterminated ? ' (unterminated)' : ''}`);
  }

  onGap(dir: Dir, len: number, _ts: Time): void {
    if (this.skipBytes[dir] > len) {
      this.skipBytes[dir] -= len; // the hole was inside a payload being skipped: the rest is still skipped
      return;
    }
    this.skipBytes[dir] = 0;
    if (this.skipWhy[dir] === null) {
      this.skipWhy[dir] = 'gap';
      this.skipLine[dir] = 0;
    }
    this.resync[dir] = true;
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.skipWhy[dir] !== null) this.endSkip(dir, this.skipLine[dir], ts, true);
  }

  finish(ts: Time): void {
    for (const d of [0, 1] as const) this.onEnd(d, ts);
    this.cmds.finish(ts);
  }
}

/** Where an MSNP command line starts inside `data[s, e)` (the tail of a line after a payload's last bytes); -1 if none. */
function innerCommand(data: Uint8Array, s: number, e: number): number {
  for (let i = s; i + 3 < e; i++) {
    const a = data[i]!;
    if (a < 0x41 || a > 0x5a || data[i + 3] !== 0x20) continue;
    if (lineShape(data, i, e) === 'ok' && isMsnpLine(tokens(data, i, e))) return i;
  }
  return -1;
}
