/**
 * The SIP session: framing of SIP messages on a UDP flow (one message per datagram, RFC 3261 §18.3: the body is the
 * rest of the datagram, cut at Content-Length) or a TCP stream (Content-Length framing, several messages per segment
 * or one message over several; CRLF keep-alives between messages, RFC 5626 §4.4.1), with junk, invalid messages,
 * size limits and gaps handled; the rows come from handlers.ts. Confirmation: a response in one direction to a
 * request seen in the other. Input is read in place (views); nothing outlives a call but the parsed strings.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { Handlers } from './handlers.js';
import { SIP_LIMITS, type SipLimits } from './limits.js';
import { findHeadEnd, findLf, Hdr, isStartLine, isStartLineAt, lineText, parseHead, SipHead } from './parse.js';

type Resync = null | 'junk' | 'invalid' | 'gap';

/** Longest unfinished line kept while looking for a start line. */
const MAX_LINE = 2048;

const isKeepAlive = (b: number) => b === 0x0d || b === 0x0a;
const isJunk = (b: number) => b === 0x00 || b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a;

function hex(buf: Uint8Array, s: number, e: number): string {
  const n = Math.min(e - s, 16);
  let out = '';
  for (let i = s; i < s + n; i++) out += `\\x${buf[i]!.toString(16).padStart(2, '0')}`;
  return e - s > n ? `${out}… (${e - s} bytes)` : out;
}

/** Longest datagram of printable text without a line end taken for a keep-alive. */
const MAX_KEEPALIVE = 16;

function printable(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i]! < 0x20 || buf[i]! > 0x7e) return false;
  return true;
}

/** A STUN message (RFC 5389 §6: first two bits 0, magic cookie 0x2112A442), sent as a keep-alive on SIP flows (RFC 5626 §4.4.2). */
function isStun(buf: Uint8Array, s: number, e: number): boolean {
  return e - s >= 20 && buf[s]! < 4 && buf[s + 4] === 0x21 && buf[s + 5] === 0x12 && buf[s + 6] === 0xa4 && buf[s + 7] === 0x42;
}

export function createSipSession(ctx: SessionContext, limits: Partial<SipLimits> = {}): ImSession {
  return new SipSession(ctx, { ...SIP_LIMITS, ...limits });
}

class SipSession implements ImSession {
  private readonly h: Handlers;
  /** Every message is parsed into this one (read by the handlers during the call). */
  private readonly head = new SipHead();
  /** TCP: body bytes still to skip (a body over maxBodyBytes). */
  private readonly skip: [number, number] = [0, 0];
  /** TCP: looking for the next start line, and why: junk before the first message, an invalid one, or a gap. */
  private readonly resync: [Resync, Resync] = [null, null];
  /** TCP: bytes skipped while resynchronising, and the first of them as hex for the anomaly. */
  private readonly junk: [number, number] = [0, 0];
  private readonly junkHex: [string, string] = ['', ''];
  /** TCP: the bytes being skipped are the rest of a line longer than MAX_LINE. */
  private readonly midLine: [boolean, boolean] = [false, false];
  private readonly seen: [boolean, boolean] = [false, false];
  private readonly dead: [boolean, boolean] = [false, false];
  private invalidCount = 0;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: SipLimits,
  ) {
    this.h = new Handlers(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.dead[dir]) return len;
    if (this.ctx.transport === 'udp') {
      this.datagram(dir, data, off, off + len, ts);
      return len;
    }
    return this.stream(dir, data, off, off + len, ts) - off;
  }

  // ── UDP ──

  private datagram(dir: Dir, data: Uint8Array, s: number, e: number, ts: Time): void {
    if (isStun(data, s, e)) return;
    let at = s;
    while (at < e && isJunk(data[at]!)) at++;
    if (at === e) {
      // CRLF is the keep-alive of RFC 5626 §4.4.1; zero bytes are junk before the next request (as Zeek sees them).
      let nul = false;
      for (let i = s; i < e; i++) if (!isKeepAlive(data[i]!)) nul = true;
      if (nul) this.ctx.anomaly(ts, 'sip_junk_before_request', `datagram of ${e - s} bytes of junk before the next request: ${hex(data, s, e)}`);
      return;
    }
    // The start line decides: parseHead reads it first (as isStartLineAt would), and the rest of the head with it. The
    // parse is pure and bounded by the datagram, so it may come before the anomalies about what precedes the message.
    const head = this.head;
    if (!parseHead(data, at, e, head)) {
      head.release();
      // Short text without a line end ("hello", "ping"): a NAT keep-alive some phones send, not a SIP message.
      if (findLf(data, at, e) < 0 && e - s <= MAX_KEEPALIVE && printable(data, s, e)) return;
      this.invalid(dir, ts, `datagram of ${e - s} bytes does not start with a SIP start line: ${hex(data, at, e)}`);
      return;
    }
    let junk = false;
    for (let i = s; i < at; i++) if (!isKeepAlive(data[i]!)) junk = true;
    if (junk) this.ctx.anomaly(ts, 'sip_junk_before_request', `${at - s} bytes before the start line: ${hex(data, s, at)}`);
    const headEnd = head.end < 0 ? e : head.end;
    if (headEnd - at > this.limits.maxHeaderBytes) {
      head.release();
      this.ctx.anomaly(ts, 'sip_header_too_large', `start line and headers of ${headEnd - at} bytes exceed ${this.limits.maxHeaderBytes}: datagram skipped`);
      return;
    }
    let bodyEnd = e;
    const cl = this.contentLength(head, ts, true);
    if (cl !== null) {
      if (cl > e - headEnd) this.ctx.anomaly(ts, 'sip_body_truncated', `${kindOf(head)} Content-Length ${cl} exceeds the ${e - headEnd} bytes left in the datagram`);
      else bodyEnd = headEnd + cl;
    }
    let keepEnd = bodyEnd;
    if (bodyEnd - headEnd > this.limits.maxBodyBytes) {
      keepEnd = headEnd + this.limits.maxBodyBytes;
      this.ctx.anomaly(ts, 'sip_body_too_large', `${kindOf(head)} body of ${bodyEnd - headEnd} bytes exceeds ${this.limits.maxBodyBytes}: cut`);
    }
    this.seen[dir] = true;
    this.h.message(dir, head, data, headEnd, keepEnd, ts);
    head.release();
  }

  /** Content-Length as a number; null when absent or invalid (reported). */
  private contentLength(head: SipHead, ts: Time, udp: boolean): number | null {
    const n = head.decimal(Hdr.ContentLength);
    if (n === -1) {
      if (!udp) this.ctx.anomaly(ts, 'sip_content_length_missing', `${kindOf(head)} over TCP without Content-Length: no body taken`);
      return null;
    }
    if (n === -2) {
      this.ctx.anomaly(ts, 'sip_bad_content_length', `${kindOf(head)} Content-Length ${JSON.stringify(head.value(Hdr.ContentLength)!.slice(0, 40))} is not a number`);
      return null;
    }
    return n;
  }

  // ── TCP ──

  /** Returns the offset up to which the bytes were consumed. */
  private stream(dir: Dir, data: Uint8Array, s: number, e: number, ts: Time): number {
    let at = s;
    while (at < e && !this.dead[dir]) {
      if (this.skip[dir] > 0) {
        const n = Math.min(this.skip[dir], e - at);
        this.skip[dir] -= n;
        at += n;
        continue;
      }
      if (this.resync[dir] === null) {
        if (isKeepAlive(data[at]!)) {
          at++;
          continue;
        }
        if (!isStartByte(data[at]!)) {
          this.startResync(dir);
          continue;
        }
        const lim = Math.min(e, at + this.limits.maxHeaderBytes);
        const he = findHeadEnd(data, at, lim);
        if (he < 0) {
          const lf = findLf(data, at, lim);
          if (lf >= 0 && !isStartLineAt(data, at, lf)) {
            this.startResync(dir);
            continue;
          }
          if (lim - at >= this.limits.maxHeaderBytes) {
            this.ctx.anomaly(ts, 'sip_header_too_large', `start line and headers over ${this.limits.maxHeaderBytes} bytes: the rest of the ${dir === 0 ? 'client' : 'server'} side is skipped`);
            this.dead[dir] = true;
            return e;
          }
          return at;
        }
        const head = this.head;
        if (!parseHead(data, at, he, head)) {
          head.release();
          this.startResync(dir);
          continue;
        }
        const cl = this.contentLength(head, ts, false) ?? 0;
        const keep = Math.min(cl, this.limits.maxBodyBytes);
        if (e - he < keep) {
          head.release();
          return at; // the rest of the body is still to come
        }
        if (cl > keep) this.ctx.anomaly(ts, 'sip_body_too_large', `${kindOf(head)} body of ${cl} bytes exceeds ${this.limits.maxBodyBytes}: cut`);
        this.seen[dir] = true;
        this.h.message(dir, head, data, he, he + keep, ts);
        head.release();
        at = he + keep;
        this.skip[dir] = cl - keep;
        continue;
      }
      // Resynchronising: whole lines are skipped until one holds a start line (after NUL, space or tab junk).
      const lf = findLf(data, at, e);
      if (lf < 0) {
        if (e - at <= MAX_LINE && !this.midLine[dir]) return at; // an unfinished line: wait for its end
        // Too long for a start line: skipped as it comes, the rest of it too (never tested as a line of its own).
        this.addJunk(dir, data, at, e);
        this.midLine[dir] = true;
        return e;
      }
      if (this.midLine[dir]) {
        this.midLine[dir] = false;
        this.addJunk(dir, data, at, lf + 1);
        at = lf + 1;
        continue;
      }
      const line = lineText(data, at, lf);
      const j = line.search(/[^\0 \t]/);
      if (j >= 0 && isStartLine(line.slice(j))) {
        this.addJunk(dir, data, at, at + j);
        this.endResync(dir, ts);
        at += j;
        continue;
      }
      this.addJunk(dir, data, at, lf + 1);
      at = lf + 1;
    }
    return at;
  }

  /** The bytes at the current offset are not a start line: skip lines up to the next one. */
  private startResync(dir: Dir): void {
    this.resync[dir] = this.seen[dir] ? 'invalid' : 'junk';
    this.junk[dir] = 0;
    this.junkHex[dir] = '';
  }

  private addJunk(dir: Dir, data: Uint8Array, s: number, e: number): void {
    const have = this.junk[dir];
    if (have < 16) this.junkHex[dir] += hex(data, s, Math.min(e, s + 16 - have));
    this.junk[dir] += e - s;
  }

  /** Report what was skipped (once per run of junk, so the same whatever the segmentation). */
  private endResync(dir: Dir, ts: Time, why = ''): void {
    const kind = this.resync[dir];
    this.resync[dir] = null;
    const n = this.junk[dir];
    if (kind === null || n === 0) return;
    const what = `${n} bytes${why}: ${this.junkHex[dir]}${n > 16 ? '…' : ''}`;
    if (kind === 'junk') this.ctx.anomaly(ts, 'sip_junk_before_request', `${what} before the start line`);
    else if (kind === 'invalid') this.invalid(dir, ts, `${what} that are not a SIP message, skipped up to the next start line`);
  }

  private invalid(dir: Dir, ts: Time, detail: string): void {
    this.invalidCount++;
    this.ctx.anomaly(ts, 'sip_invalid_message', detail);
    if (this.invalidCount > this.limits.maxInvalidMessages) {
      this.dead[0] = this.dead[1] = true;
      this.ctx.reject(`more than ${this.limits.maxInvalidMessages} invalid SIP messages (last on the ${dir === 0 ? 'client' : 'server'} side)`);
    }
  }

  onGap(dir: Dir, _len: number, ts: Time): void {
    if (this.ctx.transport !== 'tcp') return;
    this.endResync(dir, ts);
    this.skip[dir] = 0;
    // What follows a hole starts inside a message: skipped quietly up to the next start line.
    this.resync[dir] = 'gap';
    this.midLine[dir] = false;
    this.junk[dir] = 0;
    this.junkHex[dir] = '';
  }

  onEnd(dir: Dir, ts: Time): void {
    if (this.resync[dir] !== null) this.endResync(dir, ts, ' up to the end of the stream');
  }

  finish(): void {}
}

/** Bytes a SIP start line can begin with: a method token or the `S` of `SIP/2.0`. */
function isStartByte(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function kindOf(h: SipHead): string {
  return h.request ? `${h.method} request` : `${h.status} response`;
}
