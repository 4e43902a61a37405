/**
 * HTTP/1.x framing for MSN Messenger's HTTP gateway (`gateway.messenger.hotmail.com`, MSNP8 and later clients behind
 * proxies or firewalls): the client POSTs MSNP commands to `/gateway/gateway.dll?Action=open&Server=NS|SB&IP=<host>`
 * (then `?SessionID=<id>`, and `?Action=poll&SessionID=<id>` with an empty body to fetch what the server queued); the
 * gateway answers `200 OK` with `Content-Type: application/x-msn-messenger` and
 * `X-MSN-Messenger: SessionID=<id>; GW-IP=<address>`, the body holding the server's MSNP commands. Several requests
 * share one keep-alive connection, possibly for several MSNP sessions (NS and SB) at once.
 *
 * What is parsed: request and status lines, header blocks, bodies by `Content-Length`, `Transfer-Encoding: chunked`
 * (chunk sizes, extensions, trailers) or, for a response with neither, up to the end of the connection. Pure and
 * incremental: bytes are consumed as they come, body bytes handed on as views (valid only during the callback).
 * References: RFC 9112 (HTTP/1.1 message syntax), the nina.chat wiki "Protocols/MSNP/HTTP Gateway", hypothetic.org
 * "HTTP connections" (MSNP8-11); Wireshark's `http` dissector is the tests' oracle.
 */
import { Probe } from '../types.js';
import { findLf, latin1, lineTextEnd, parseHeaders, type Headers } from './parse.js';

/** The request target of a gateway POST: origin form or, through a proxy, absolute form. */
const GATEWAY_TARGET = /^(?:https?:\/\/[A-Za-z0-9.\-]+(?::\d{1,5})?)?\/gateway\/gateway\.dll\?(\S*)$/i;
const REQUEST_LINE = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

export interface GatewayQuery {
  action: string | null;
  server: string | null;
  ip: string | null;
  sessionId: string | null;
}

/** The query of a gateway request target, or null when the target is not `/gateway/gateway.dll?…` with MSN's parameters. */
export function gatewayQuery(target: string): GatewayQuery | null {
  const m = GATEWAY_TARGET.exec(target);
  if (!m) return null;
  const q = new URLSearchParams(m[1]!);
  const action = q.get('Action');
  const server = q.get('Server');
  const sessionId = q.get('SessionID');
  const open = action !== null && action.toLowerCase() === 'open' && server !== null && /^(NS|SB)$/i.test(server);
  if (!open && sessionId === null) return null;
  return { action, server: server === null ? null : server.toUpperCase(), ip: q.get('IP'), sessionId };
}

/** `X-MSN-Messenger: SessionID=123.456; GW-IP=207.46.110.17` → its fields; null when absent or without a SessionID. */
export function msnMessengerHeader(h: Headers): { sessionId: string; gwIp: string | null } | null {
  const v = h.get('x-msn-messenger');
  if (v === undefined) return null;
  const sid = /(?:^|;)\s*SessionID=([^;\s]+)/i.exec(v)?.[1];
  if (sid === undefined) return null;
  return { sessionId: sid, gwIp: /(?:^|;)\s*GW-IP=([^;\s]+)/i.exec(v)?.[1] ?? null };
}

export const isMsnContentType = (h: Headers): boolean => (h.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase() === 'application/x-msn-messenger';

/** Where the header block starting at `s` ends (index after its blank line), -1 when not within `[s, e)`. */
export function headBlockEnd(data: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    if (data[i] !== 0x0a) continue;
    if (i + 1 < e && data[i + 1] === 0x0a) return i + 2;
    if (i + 2 < e && data[i + 1] === 0x0d && data[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/**
 * The probe's view of a line starting `POST ` or `HTTP/` at `at`: Yes for a POST to the MSN gateway, or a response
 * carrying `X-MSN-Messenger` or `Content-Type: application/x-msn-messenger`; Need while the line (request) or the
 * header block (response) is unfinished within `max` bytes; No otherwise (any other HTTP).
 */
export function probeGateway(data: Uint8Array, at: number, end: number, max: number): Probe {
  const lim = Math.min(end, at + max);
  const lf = findLf(data, at, lim);
  if (lf < 0) return end - at >= max ? Probe.No : Probe.Need;
  const first = latin1(data, at, lineTextEnd(data, at, lf));
  const req = REQUEST_LINE.exec(first);
  if (req) return req[1] === 'POST' && gatewayQuery(req[2]!) !== null ? Probe.Yes : Probe.No;
  if (!STATUS_LINE.test(first)) return Probe.No;
  const he = headBlockEnd(data, lf - 1 >= at ? lf - 1 : at, lim);
  if (he < 0) return end - at >= max ? Probe.No : Probe.Need;
  const h = parseHeaders(latin1(data, lf + 1, he));
  return msnMessengerHeader(h) !== null || isMsnContentType(h) ? Probe.Yes : Probe.No;
}

// ── the framer ──

export interface HttpHead {
  /** Request: method and target; response: status. */
  method: string | null;
  target: string | null;
  status: number;
  headers: Headers;
}

export interface HttpEvents {
  /** A message's header block (its body, if any, follows through `body`, then `end`). */
  head(head: HttpHead): void;
  /** Bytes `data[s, e)` of the current message's body (de-chunked); a view valid during the call. */
  body(data: Uint8Array, s: number, e: number): void;
  /** The current message ended (`complete` = false: cut by the end of the stream). */
  end(complete: boolean): void;
  /** The framing is lost (`what`: a short reason); the framer resynchronises on the next message start. */
  lost(what: string): void;
}

const enum St {
  Head = 0,
  Length = 1,
  ChunkSize = 2,
  ChunkData = 3,
  ChunkEnd = 4,
  Trailer = 5,
  Close = 6,
  Sync = 7,
}

/** One direction of an HTTP/1.x connection: requests (`request` = true) or responses. */
export class HttpFramer {
  private st = St.Head;
  private left = 0;
  private inMessage = false;

  constructor(
    private readonly request: boolean,
    private readonly ev: HttpEvents,
    private readonly maxHead: number,
  ) {}

  /** Consume what can be consumed of `data[off, off + len)`; the rest is offered again with the next bytes. */
  onData(data: Uint8Array, off: number, len: number): number {
    const end = off + len;
    let at = off;
    while (at < end) {
      switch (this.st) {
        case St.Sync: {
          const s = this.findStart(data, at, end);
          if (s < 0) return len; // nothing that starts a message: all skipped
          if (s > at) at = s;
          if (!this.startsHere(data, at, end)) return at - off; // a possible start cut short: wait
          this.st = St.Head;
          continue;
        }
        case St.Head: {
          const he = headBlockEnd(data, at, Math.min(end, at + this.maxHead));
          if (he < 0) {
            if (end - at < this.maxHead) return at - off;
            this.lose(`header block longer than ${this.maxHead} bytes`);
            at += 1;
            continue;
          }
          if (he - at <= 2) {
            at = he; // empty lines between messages (RFC 9112 §2.2)
            continue;
          }
          if (!this.head(data, at, he)) {
            at += 1;
            continue;
          }
          at = he;
          continue;
        }
        case St.Length: {
          const n = Math.min(this.left, end - at);
          this.ev.body(data, at, at + n);
          this.left -= n;
          at += n;
          if (this.left === 0) this.done(true);
          continue;
        }
        case St.ChunkSize:
        case St.ChunkEnd:
        case St.Trailer: {
          const lf = findLf(data, at, Math.min(end, at + 1024));
          if (lf < 0) {
            if (end - at < 1024) return at - off;
            this.lose('chunk line longer than 1024 bytes');
            continue;
          }
          const line = latin1(data, at, lineTextEnd(data, at, lf));
          at = lf + 1;
          if (this.st === St.ChunkEnd) {
            if (line.length !== 0) this.lose('chunk data not followed by CRLF');
            else this.st = St.ChunkSize;
          } else if (this.st === St.Trailer) {
            if (line.length === 0) this.done(true);
          } else {
            const m = /^([0-9A-Fa-f]{1,12})\s*(?:;.*)?$/.exec(line);
            if (!m) this.lose('chunk size is not hexadecimal');
            else {
              this.left = parseInt(m[1]!, 16);
              this.st = this.left === 0 ? St.Trailer : St.ChunkData;
            }
          }
          continue;
        }
        case St.ChunkData: {
          const n = Math.min(this.left, end - at);
          this.ev.body(data, at, at + n);
          this.left -= n;
          at += n;
          if (this.left === 0) this.st = St.ChunkEnd;
          continue;
        }
        case St.Close:
          this.ev.body(data, at, end);
          return len;
      }
    }
    return len;
  }

  /** `len` bytes are missing: inside a body of known length they are skipped (the body is told); otherwise resync. */
  onGap(len: number): 'body' | 'lost' {
    if ((this.st === St.Length || this.st === St.ChunkData) && this.left > len) {
      this.left -= len;
      return 'body';
    }
    if (this.inMessage) this.ev.end(false);
    this.inMessage = false;
    this.st = St.Sync;
    return 'lost';
  }

  /** The direction ended: a body up to the close is complete, anything else cut. */
  onEnd(): void {
    if (this.inMessage) this.ev.end(this.st === St.Close);
    this.inMessage = false;
    this.st = St.Sync;
  }

  private head(data: Uint8Array, s: number, he: number): boolean {
    const lf = findLf(data, s, he);
    const first = latin1(data, s, lineTextEnd(data, s, lf));
    const h = parseHeaders(latin1(data, lf + 1, he));
    let head: HttpHead;
    if (this.request) {
      const m = REQUEST_LINE.exec(first);
      if (!m) return this.lose('not an HTTP request line'), false;
      head = { method: m[1]!, target: m[2]!, status: 0, headers: h };
    } else {
      const m = STATUS_LINE.exec(first);
      if (!m) return this.lose('not an HTTP status line'), false;
      head = { method: null, target: null, status: Number(m[1]), headers: h };
    }
    const te = (h.get('transfer-encoding') ?? '').toLowerCase();
    const cl = h.get('content-length');
    this.inMessage = true;
    this.ev.head(head);
    if (te.includes('chunked')) this.st = St.ChunkSize;
    else if (cl !== undefined) {
      if (!/^\d{1,12}$/.test(cl)) {
        this.inMessage = false;
        this.ev.end(false);
        return this.lose(`Content-Length ${JSON.stringify(cl)} is not a number`), true;
      }
      this.left = Number(cl);
      this.st = St.Length;
      if (this.left === 0) this.done(true);
    } else if (this.request || head.status < 200 || head.status === 204 || head.status === 304) this.done(true);
    else this.st = St.Close;
    return true;
  }

  private done(complete: boolean): void {
    this.inMessage = false;
    this.st = St.Head;
    this.ev.end(complete);
  }

  private lose(what: string): void {
    if (this.inMessage) this.ev.end(false);
    this.inMessage = false;
    this.st = St.Sync;
    this.ev.lost(what);
  }

  /** Whether all of the message start (`POST ` / `HTTP/1.`) is at `at`. */
  private startsHere(data: Uint8Array, at: number, end: number): boolean {
    const want = this.request ? 'POST ' : 'HTTP/1.';
    if (end - at < want.length) return false;
    for (let i = 0; i < want.length; i++) if (data[at + i] !== want.charCodeAt(i)) return false;
    return true;
  }

  /** The first place in `[at, end)` (at a line start, or `at` itself) where a message may start; -1 if none. */
  private findStart(data: Uint8Array, at: number, end: number): number {
    const want = this.request ? 'POST ' : 'HTTP/1.';
    for (let i = at; i < end; i++) {
      if (i !== at && data[i - 1] !== 0x0a) continue;
      let ok = true;
      for (let k = 0; k < want.length && i + k < end; k++) {
        if (data[i + k] !== want.charCodeAt(k)) {
          ok = false;
          break;
        }
      }
      if (ok) return i;
    }
    return -1;
  }
}
