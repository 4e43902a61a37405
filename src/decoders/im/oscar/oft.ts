/**
 * OFT2 (OSCAR File Transfer) connections: the direct connection a rendezvous file offer announced (rendezvous.ts),
 * or one the `OFT2` probe recognised. Headers are parsed and the file bytes carved into `ctx.openFile` (method 'oft').
 *
 * References: Pidgin `libpurple/protocols/oscar/oft.c` (header layout, resume), Shutko's docs ("OFT2"), Wireshark
 * has no OFT dissector. Header: 'OFT2', header length u16 (256, more for long names), type u16, cookie (8),
 * encryption, compression, total files, files left, total parts, parts left (u16 each), total size (28), size (32), modification
 * time, checksum, resource-fork checksum, resource-fork size, creation time, resource-fork checksum, bytes received
 * (offset 60), received checksum (u32 each), id string (32), flags, list-name offset, list-size offset (u8 each),
 * dummy (69), Mac file info (16), name charset u16 (offset 188: 0 ASCII, 2 UCS-2BE, 3 ISO-8859-1), name subcharset,
 * name (offset 192, NUL-padded to the header's end).
 * Exchange: the file's sender sends a prompt (0x0101); the receiver acknowledges (0x0202) or asks to resume (0x0205,
 * with bytes received); on a resume the sender accepts (0x0106) and the receiver acknowledges (0x0207); the sender
 * then sends the file's bytes, raw; the receiver ends with done (0x0204). Several files repeat prompt…done.
 */
import type { Dir, FileSink, ImSession, SessionContext, Time } from '../types.js';
import { OFT_LIMITS, type OftLimits } from './limits.js';
import type { OftContext } from './rendezvous.js';
import { decodeCharset } from './text.js';
import { isUin, u16, u32 } from './wire.js';

const PROMPT = 0x0101;
const RESUME_ACCEPT = 0x0106;

/** The expected context, checked: what arrives as `ctx.expected` is `unknown`. */
export function asOftContext(x: unknown): OftContext | null {
  if (typeof x !== 'object' || x === null) return null;
  const c = x as Partial<OftContext>;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  return { filename: str(c.filename), size: num(c.size), files: num(c.files), sender: str(c.sender), recipient: str(c.recipient), cookie: str(c.cookie) ?? '' };
}

function isOft2(b: Uint8Array, at: number): boolean {
  return b[at] === 0x4f && b[at + 1] === 0x46 && b[at + 2] === 0x54 && b[at + 3] === 0x32;
}

export function createOftSession(ctx: SessionContext, limits: Partial<OftLimits> = {}): ImSession {
  return new OftSession(ctx, { ...OFT_LIMITS, ...limits });
}

class OftSession implements ImSession {
  private readonly c: OftContext | null;
  /** Per direction: file bytes still to come (-1: a header is next). */
  private readonly left: [number, number] = [-1, -1];
  /** Per direction: a prompt was the last header (its data, or a resume accept, comes next). */
  private readonly prompt: [{ name: string | null; size: number } | null, { name: string | null; size: number } | null] = [null, null];
  private readonly sink: [FileSink | null, FileSink | null] = [null, null];
  /** Directions that stopped making sense (after a gap inside a header, or bytes that are not OFT). */
  private readonly dead: [boolean, boolean] = [false, false];
  private confirmed = false;
  private stopped = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: OftLimits,
  ) {
    this.c = asOftContext(ctx.expected);
    ctx.setKind('file');
    if (isUin(this.c?.sender ?? '') || isUin(this.c?.recipient ?? '')) ctx.setApp('icq');
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.stopped && !this.dead[dir]) {
      const left = this.left[dir];
      if (left > 0) {
        const n = Math.min(left, end - at);
        this.sink[dir]!.write(data, at, n);
        this.left[dir] = left - n;
        at += n;
        if (this.left[dir] === 0) this.closeFile(dir, ts);
        continue;
      }
      const p = this.prompt[dir];
      if (p !== null) {
        // After a prompt: the file's bytes, or a resume accept (0x0106) header. Decided on the first 8 bytes.
        const peek = Math.min(8, p.size);
        if (end - at < peek) break;
        const resume = peek === 8 && isOft2(data, at) && u16(data, at + 6) === RESUME_ACCEPT;
        if (!resume) {
          this.startFile(dir, p, 0, ts);
          continue;
        }
      }
      if (end - at < 8) break;
      const hl = u16(data, at + 4);
      if (!isOft2(data, at) || hl < 256 || hl > this.limits.maxHeaderBytes) {
        this.notOft(dir, data, at, hl, ts);
        break;
      }
      if (end - at < hl) break;
      this.header(dir, data, at, hl, ts);
      at += hl;
    }
    return this.stopped || this.dead[dir] ? len : at - off;
  }

  private notOft(dir: Dir, b: Uint8Array, at: number, hl: number, ts: Time): void {
    const what = isOft2(b, at) ? `an OFT2 header of ${hl} bytes (limit ${this.limits.maxHeaderBytes})` : 'bytes that are not an OFT2 header';
    if (!this.confirmed) {
      this.ctx.anomaly(ts, 'oscar_oft_bad_header', `${dir === 0 ? 'client' : 'server'} sent ${what}`);
      this.stopped = true;
      this.ctx.reject(`not OFT2: ${what}`);
      return;
    }
    this.ctx.anomaly(ts, this.hadFile[dir] ? 'oscar_oft_size_exceeded' : 'oscar_oft_bad_header', `${dir === 0 ? 'client' : 'server'} sent ${what}${this.hadFile[dir] ? ' after the announced file bytes' : ''}`);
    this.dead[dir] = true;
  }

  private readonly hadFile: [boolean, boolean] = [false, false];

  private header(dir: Dir, b: Uint8Array, at: number, hl: number, ts: Time): void {
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(1);
    }
    const type = u16(b, at + 6);
    const size = u32(b, at + 32);
    if (type === PROMPT) {
      let ne = at + 192;
      const cs = u16(b, at + 188);
      const stop = at + hl;
      if (cs === 2) while (ne + 1 < stop && (b[ne] !== 0 || b[ne + 1] !== 0)) ne += 2;
      else while (ne < stop && b[ne] !== 0) ne++;
      const name = ne > at + 192 ? decodeCharset(b, at + 192, ne, cs === 2 || cs === 3 ? cs : 0).text : null;
      this.prompt[dir] = { name, size };
    } else if (type === RESUME_ACCEPT) {
      const p = this.prompt[dir] ?? { name: null, size };
      const got = Math.min(u32(b, at + 60), p.size);
      if (got > 0) this.ctx.anomaly(ts, 'oscar_oft_resume', `transfer resumed at byte ${got} of ${p.size}: the first bytes are not in this connection`);
      this.startFile(dir, p, got, ts);
    }
    // 0x0202 ack, 0x0204 done, 0x0205/0x0207 resume request/ack: nothing to record.
  }

  private startFile(dir: Dir, p: { name: string | null; size: number }, skipped: number, ts: Time): void {
    this.prompt[dir] = null;
    const c = this.c;
    const sink = this.ctx.openFile(ts, { sender: c?.sender ?? null, recipient: c?.recipient ?? null, filename: p.name ?? c?.filename ?? null, size: p.size, method: 'oft' });
    this.sink[dir] = sink;
    this.hadFile[dir] = true;
    if (skipped > 0) sink.gap(skipped);
    this.left[dir] = p.size - skipped;
    if (this.left[dir] <= 0) this.closeFile(dir, ts);
  }

  private closeFile(dir: Dir, ts: Time): void {
    this.left[dir] = -1;
    const s = this.sink[dir];
    this.sink[dir] = null;
    s?.close(ts);
  }

  onGap(dir: Dir, len: number, _ts: Time): void {
    const left = this.left[dir];
    if (left > 0 && len <= left) {
      this.sink[dir]!.gap(len);
      this.left[dir] = left - len;
      return;
    }
    // Inside a header (or past the file): the framing is lost for this direction.
    if (left > 0) this.sink[dir]!.gap(left);
    this.dead[dir] = true;
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.sink[dir] !== null) {
      this.left[dir] = -1;
      const s = this.sink[dir]!;
      this.sink[dir] = null;
      s.close(ts);
    }
  }

  finish(ts: Time): void {
    this.onEnd(0, ts);
    this.onEnd(1, ts);
  }
}
