/**
 * DCC data connections, announced by a DCC offer on an IRC flow (chat.ts) and handed over with its context.
 *
 * DCC SEND (Rollo's dcc.protocol, as revised in the 1994 CTCP document): the listening side sends the file's bytes
 * as they are; the receiving side acknowledges with 4-byte big-endian counts of the bytes received so far (modulo
 * 2^32; Turbo DCC sends none). The acks are read past, not checked. The transfer ends when the announced size has
 * arrived or the connection closes. For the answer to a passive (reverse) offer the roles are swapped: the receiver
 * listens and the sender connects, so the file comes from the flow's client.
 * DCC CHAT: lines (LF, usually CRLF, terminated) between the two people, with CTCP ACTION as in channels.
 */
import type { Dir, FileSink, ImSession, SessionContext, Time } from '../types.js';
import type { DccContext } from './chat.js';
import { parseCtcp } from './dcc-offer.js';
import { DCC_LIMITS, type DccLimits } from './limits.js';
import { findLineEnd } from './parse.js';
import { decodeText } from './text.js';

type SkipWhy = null | 'size' | 'gap';

/** The expected context, checked: what arrives as `ctx.expected` is `unknown`. */
export function asDccContext(x: unknown): DccContext | null {
  if (typeof x !== 'object' || x === null) return null;
  const c = x as Partial<DccContext>;
  if ((c.kind !== 'send' && c.kind !== 'chat') || typeof c.offererIp !== 'string') return null;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const size = typeof c.size === 'number' && Number.isFinite(c.size) && c.size >= 0 ? c.size : null;
  return { kind: c.kind, filename: str(c.filename), size, sender: str(c.sender), recipient: str(c.recipient), offererIp: c.offererIp, reverse: c.reverse === true };
}

/** Which direction of the flow comes from the side that listened (announced its address in the offer). */
function listenerDir(ctx: SessionContext, offererIp: string): Dir {
  // Normally the listener is the flow's server; it is the client only when the addresses say so.
  return offererIp === ctx.clientIp && offererIp !== ctx.serverIp ? 0 : 1;
}

export function createDccSession(ctx: SessionContext, limits: Partial<DccLimits> = {}): ImSession {
  const c = asDccContext(ctx.expected);
  if (c === null) return new NoOffer(ctx);
  return c.kind === 'send' ? new DccSend(ctx, c) : new DccChat(ctx, c, { ...DCC_LIMITS, ...limits });
}

/** A connection handed over without an offer's context: nothing can be attributed. */
class NoOffer implements ImSession {
  constructor(private readonly ctx: SessionContext) {}
  onData(_dir: Dir, _data: Uint8Array, _off: number, len: number, ts: Time): number {
    this.ctx.anomaly(ts, 'irc_dcc_no_offer', `DCC connection ${this.ctx.clientIp}:${this.ctx.clientPort} -> ${this.ctx.serverIp}:${this.ctx.serverPort} without its offer`);
    this.ctx.reject('a DCC connection without the offer that announced it');
    return len;
  }
  onGap(): void {}
  onEnd(): void {}
  finish(): void {}
}

class DccSend implements ImSession {
  /** The direction carrying the file; the other one carries the acks. */
  private readonly dataDir: Dir;
  private sink: FileSink | null = null;
  /** Bytes of the file accounted for: written plus lost in gaps. */
  private pos = 0;
  private closed = false;
  private excessReported = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly c: DccContext,
  ) {
    const l = listenerDir(ctx, c.offererIp);
    this.dataDir = c.reverse ? ((1 - l) as Dir) : l;
    ctx.setKind('file');
  }

  private open(ts: Time): FileSink {
    if (this.sink === null) {
      this.ctx.confirm(1);
      this.sink = this.ctx.openFile(ts, { sender: this.c.sender, recipient: this.c.recipient, filename: this.c.filename, size: this.c.size, method: 'dcc' });
    }
    return this.sink;
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (dir !== this.dataDir) return len; // acknowledgements
    if (this.closed) {
      this.excess(this.pos + len, ts);
      return len;
    }
    const sink = this.open(ts);
    const size = this.c.size;
    let n = len;
    if (size !== null && this.pos + n > size) {
      n = Math.max(0, size - this.pos);
      this.excess(this.pos + len, ts);
    }
    if (n > 0) sink.write(data, off, n);
    this.pos += n;
    if (size !== null && this.pos >= size) this.close(ts);
    return len;
  }

  /** `total`: the bytes of the connection so far, more than the offer announced. */
  private excess(total: number, ts: Time): void {
    if (this.excessReported) return;
    this.excessReported = true;
    this.ctx.anomaly(ts, 'irc_dcc_size_exceeded', `DCC SEND of ${JSON.stringify(this.c.filename)} carried ${total} bytes or more, the offer announced ${this.c.size}`);
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    if (dir !== this.dataDir || this.closed) return;
    this.open(ts).gap(len);
    this.pos += len;
    if (this.c.size !== null && this.pos >= this.c.size) this.close(ts);
  }

  onEnd(dir: Dir, ts: Time): void {
    if (dir === this.dataDir) this.close(ts);
  }

  finish(ts: Time): void {
    this.close(ts);
  }

  private close(ts: Time): void {
    if (this.closed) return;
    this.closed = true;
    // A connection that carried nothing is still a transfer attempt: it is reported, with 0 bytes.
    this.open(ts).close(ts);
  }
}

class DccChat implements ImSession {
  private readonly listener: Dir;
  /** Skipping to the next line end: after an over-long line ('size') or a hole ('gap'). */
  private readonly skip: [SkipWhy, SkipWhy] = [null, null];
  private readonly skipped: [number, number] = [0, 0];
  private confirmed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly c: DccContext,
    private readonly limits: DccLimits,
  ) {
    this.listener = listenerDir(ctx, c.offererIp);
  }

  /** Who writes direction `dir`: the listener is the offerer, or the recipient for the answer to a passive offer. */
  private nick(dir: Dir): string | null {
    const listenerNick = this.c.reverse ? this.c.recipient : this.c.sender;
    const other = this.c.reverse ? this.c.sender : this.c.recipient;
    return dir === this.listener ? listenerNick : other;
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end) {
      const e = findLineEnd(data, at, end);
      if (e < 0) {
        if (this.skip[dir] !== null) {
          this.skipped[dir] += end - at;
          return len;
        }
        if (end - at >= this.limits.maxChatLineBytes) {
          this.skip[dir] = 'size';
          this.skipped[dir] = end - at;
          return len;
        }
        return at - off;
      }
      if (this.skip[dir] !== null) {
        this.endSkip(dir, this.skipped[dir] + e - at, ts);
      } else if (e - at + 1 > this.limits.maxChatLineBytes) {
        this.skip[dir] = 'size';
        this.endSkip(dir, e - at, ts);
      } else if (e > at) this.line(dir, data, at, e, ts);
      at = e + 1;
    }
    return len;
  }

  private endSkip(dir: Dir, n: number, ts: Time, unterminated = false): void {
    const why = this.skip[dir];
    this.skip[dir] = null;
    this.skipped[dir] = 0;
    if (why === 'size') this.ctx.anomaly(ts, 'irc_dcc_line_size_exceeded', `DCC CHAT line of ${n} bytes exceeds ${this.limits.maxChatLineBytes}${unterminated ? ' (unterminated)' : ''}`);
  }

  private line(dir: Dir, data: Uint8Array, s: number, e: number, ts: Time): void {
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(1);
    }
    const sender = this.nick(dir);
    const recipient = this.nick((1 - dir) as Dir);
    if (data[s] === 1) {
      const c = parseCtcp(decodeText(data, s, e).text);
      if (c !== null && c.command === 'ACTION') {
        let end = e;
        for (let i = s + 1; i < e; i++) if (data[i] === 1) end = Math.min(end, i);
        const d = decodeText(data, Math.min(end, s + 8), end);
        this.ctx.message(ts, { sender, recipient, body: d.text, body_raw: d.raw, kind: 'action', dir });
      } else if (c !== null) {
        this.ctx.event(ts, { account: sender, event: 'ctcp', target: recipient, detail: c.args.length > 0 ? `${c.command} ${c.args}` : c.command, dir });
      }
      return;
    }
    const d = decodeText(data, s, e);
    this.ctx.message(ts, { sender, recipient, body: d.text, body_raw: d.raw, kind: 'dcc_chat', dir });
  }

  onGap(dir: Dir): void {
    // The bytes after a hole start inside a line: skip to its end, without calling it too long.
    if (this.skip[dir] === null) {
      this.skip[dir] = 'gap';
      this.skipped[dir] = 0;
    }
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.skip[dir] !== null) this.endSkip(dir, this.skipped[dir], ts, true);
  }

  finish(ts: Time): void {
    for (const d of [0, 1] as const) this.onEnd(d, ts);
  }
}
