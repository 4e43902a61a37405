/**
 * The HTTP/1.x session (RFC 9112 message framing, RFC 9110 semantics): request heads on the client side, responses on
 * the server side, paired in order (pipelining included). Bodies are skipped by Content-Length or chunked coding
 * (RFC 9112 §6-§7); a response without either runs to the close. One `http` row per request, written when its
 * response's status is read (or without a status at the end, after a gap, or when too many wait). Requests that a
 * web-messaging rule names (web-apps.ts) have their form body read for the fields the rule names only.
 *
 * Each direction is a small state machine; a direction that cannot be framed any more (an invalid length, a head over
 * the limit) is switched off with an anomaly, and after a gap it looks for the next start line (Sync). Before the
 * first head parses, a head that is not HTTP rejects the flow ("not HTTP after all").
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import { Head, headEnd, NEED, NO, readHeaders, readRequestLine, readStatus, requestLine, statusLine } from './head.js';
import { HTTP_LIMITS, type HttpLimits } from './limits.js';
import { hostOnly, isAddress, matchWebRule, readForm, ruleFields, uriAuthority, type WebRule } from './web-apps.js';

const enum St {
  /** Looking for a start line (at the start of each direction, after a gap or a bad start line). */
  Sync = 0,
  Head = 1,
  Body = 2,
  ChunkSize = 3,
  ChunkData = 4,
  ChunkEnd = 5,
  Trailer = 6,
  /** A response without framing: its body runs to the close. */
  ToEnd = 7,
  /** A web-messaging form body, read whole when all of it is there. */
  Form = 8,
  /** Nothing more is parsed on this direction (tunnel, budget, or framing lost). */
  Off = 9,
}

interface Req {
  ts: Time;
  method: string;
  host: string | null;
  uri: string;
  userAgent: string | null;
  contentType: string | null;
  websocket: boolean;
  connect: boolean;
  isHead: boolean;
}

class Side {
  st = St.Sync;
  /** Bytes left of the body or chunk being skipped (or of the form being waited for). */
  remaining = 0;
  /** Bytes skipped looking for a start line since the last one found. */
  skipped = 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lossy = new TextDecoder('utf-8');
const isForm = (ct: string | null) => ct !== null && /^\s*application\/x-www-form-urlencoded\b/i.test(ct);

export class HttpSession implements ImSession {
  private readonly head = new Head();
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  private readonly queue: Req[] = [];
  private requests = 0;
  private bytes = 0;
  private confirmed = false;
  private hostGiven = false;
  private stopped = false;
  /** False after a gap: responses can no longer be matched to requests with certainty. */
  private pairing = true;
  /** The form being read: its rule and the time its head completed. */
  private form: { rule: WebRule; ts: Time; host: string } | null = null;
  /** Set by a step that needs more bytes than it has. */
  private short = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: HttpLimits = HTTP_LIMITS,
  ) {}

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped) return len;
    const end = off + len;
    const s = this.sides[dir];
    let at = off;
    this.short = false;
    while (at < end && !this.stopped && !this.short) {
      switch (s.st) {
        case St.Sync:
          at = this.sync(dir, s, data, at, end, ts);
          break;
        case St.Head:
          at = dir === 0 ? this.request(s, data, at, end, ts) : this.response(s, data, at, end, ts);
          break;
        case St.Body:
        case St.ChunkData: {
          const take = Math.min(s.remaining, end - at);
          at += take;
          s.remaining -= take;
          if (s.remaining === 0) s.st = s.st === St.Body ? St.Head : St.ChunkEnd;
          break;
        }
        case St.ChunkSize:
          at = this.chunkSize(dir, s, data, at, end, ts);
          break;
        case St.ChunkEnd:
          at = this.chunkEnd(dir, s, data, at, end, ts);
          break;
        case St.Trailer:
          at = this.trailer(dir, s, data, at, end, ts);
          break;
        case St.Form:
          if (end - at < s.remaining) {
            this.short = true;
            break;
          }
          this.readFormBody(data, at, at + s.remaining);
          at += s.remaining;
          s.remaining = 0;
          s.st = St.Head;
          break;
        default:
          at = end;
      }
    }
    if (this.stopped) return len;
    this.bytes += at - off;
    if (this.bytes >= this.limits.maxFlowBytes) this.stop();
    return at - off;
  }

  onGap(dir: Dir, _len: number, _ts: Time): void {
    if (this.stopped) return;
    // Responses after a hole cannot be matched to requests with certainty: the waiting ones go without a status.
    this.pairing = false;
    this.flush();
    const s = this.sides[dir];
    if (s.st !== St.Off) {
      s.st = St.Sync;
      s.skipped = 0;
      s.remaining = 0;
    }
  }

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(_ts: Time): void {
    if (!this.stopped) this.flush();
  }

  // ── start lines and heads ──

  /** Find the next start line of this direction; consumed bytes before it are skipped. */
  private sync(dir: Dir, s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    const max = this.limits.maxHeadBytes;
    let p = at;
    for (;;) {
      const r = dir === 0 ? requestLine(data, p, end, max) : statusLine(data, p, end, max);
      if (r > 0) {
        s.st = St.Head;
        s.skipped = 0;
        return p;
      }
      if (r === NEED) {
        this.short = true;
        break;
      }
      const lf = data.indexOf(0x0a, p);
      if (lf < 0 || lf >= end) {
        p = end;
        break;
      }
      p = lf + 1;
    }
    s.skipped += p - at;
    if (s.skipped > this.limits.maxSyncBytes) {
      s.st = St.Off;
      this.ctx.anomaly(ts, 'http_sync_lost', `no ${dir === 0 ? 'request' : 'status'} line in ${s.skipped} bytes ${dir === 0 ? 'c2s' : 's2c'}, over maxSyncBytes ${this.limits.maxSyncBytes}`);
      this.maybeDone();
      return end;
    }
    return p;
  }

  private request(s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    const lim = this.limits;
    if (this.requests >= lim.maxRequests) {
      // The budget of rows is spent: the answers still waiting are read, then the session stops.
      s.st = St.Off;
      this.maybeDone();
      return end;
    }
    const r = requestLine(data, at, end, lim.maxHeadBytes);
    if (r === NEED) {
      this.short = true;
      return at;
    }
    if (r === NO) {
      if (!this.confirmed) return this.notHttp('the client side does not start with an HTTP/1.x request line', end);
      this.ctx.anomaly(ts, 'http_bad_request_line', `no request line at the start of request ${this.requests + 1}`);
      s.st = St.Sync;
      return at;
    }
    const he = headEnd(data, at, end, lim.maxHeadBytes);
    if (he === -1) {
      this.short = true;
      return at;
    }
    const h = this.head;
    h.reset();
    readRequestLine(data, at, r, lim.maxUriBytes, h);
    if (he === -2) {
      this.ctx.anomaly(ts, 'http_head_too_long', `request head of ${h.method} over maxHeadBytes ${lim.maxHeadBytes}`);
      this.truncations(ts, h);
      this.addRequest(h, ts);
      s.st = St.Off;
      this.maybeDone();
      return end;
    }
    const bad = readHeaders(data, r, he, lim, h);
    if (bad >= 0) {
      if (!this.confirmed) return this.notHttp(`request header line at byte ${bad - at} of the head is not "name: value"`, end);
      this.ctx.anomaly(ts, 'http_bad_header', `request header line at byte ${bad - at} of the head of ${h.method} is not "name: value"`);
      this.addRequest(h, ts);
      s.st = St.Off;
      this.maybeDone();
      return end;
    }
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(0.9);
    }
    if (h.tooManyHeaders) this.ctx.anomaly(ts, 'http_too_many_headers', `request head of ${h.method} has more than maxHeaders ${lim.maxHeaders} header lines`);
    this.truncations(ts, h);
    const req = this.addRequest(h, ts);
    if (req.connect) {
      // The rest of the client side is the tunnel's (TLS, mostly): only the answer's status is still read.
      s.st = St.Off;
      return end;
    }
    // Request framing (RFC 9112 §6.3): chunked, else Content-Length, else no body.
    if (h.chunked) s.st = St.ChunkSize;
    else if (h.otherCoding || h.contentLength === -2) {
      this.ctx.anomaly(ts, 'http_bad_content_length', h.otherCoding ? `request ${h.method} has a Transfer-Encoding other than chunked: its body cannot be framed` : `request ${h.method} has an invalid Content-Length`);
      s.st = St.Off;
    } else if (h.contentLength > 0) {
      s.remaining = h.contentLength;
      s.st = St.Body;
    } else s.st = St.Head;
    this.webRequest(s, req, h, ts);
    return he;
  }

  private response(s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    const lim = this.limits;
    const r = statusLine(data, at, end, lim.maxHeadBytes);
    if (r === NEED) {
      this.short = true;
      return at;
    }
    if (r === NO) {
      this.ctx.anomaly(ts, 'http_bad_status_line', `no status line where response ${this.requests - this.queue.length + 1} should start`);
      s.st = St.Sync;
      return at;
    }
    const he = headEnd(data, at, end, lim.maxHeadBytes);
    if (he === -1) {
      this.short = true;
      return at;
    }
    const status = readStatus(data, at);
    const h = this.head;
    h.reset();
    if (he === -2) {
      this.ctx.anomaly(ts, 'http_head_too_long', `response head (status ${status}) over maxHeadBytes ${lim.maxHeadBytes}`);
      this.answer(status);
      s.st = St.Off;
      this.maybeDone();
      return end;
    }
    const bad = readHeaders(data, r, he, lim, h);
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(0.8);
    }
    if (status >= 100 && status < 200 && status !== 101) {
      // An interim response (100 Continue…): the final one follows.
      s.st = St.Head;
      return he;
    }
    const req = this.answer(status);
    if (status === 101) {
      if (req?.websocket === true || h.upgradeWebsocket) this.ctx.setProtocol('websocket');
      this.stop();
      return end;
    }
    if (req?.connect === true && status >= 200 && status < 300) {
      this.stop();
      return end;
    }
    if (bad >= 0) {
      this.ctx.anomaly(ts, 'http_bad_header', `response header line at byte ${bad - at} of the head (status ${status}) is not "name: value"`);
      s.st = St.Off;
      this.maybeDone();
      return end;
    }
    if (h.tooManyHeaders) this.ctx.anomaly(ts, 'http_too_many_headers', `response head (status ${status}) has more than maxHeaders ${lim.maxHeaders} header lines`);
    // Response framing (RFC 9112 §6.3): none after HEAD, 204, 304; chunked; Content-Length; else to the close.
    if (req?.isHead === true || status === 204 || status === 304) s.st = St.Head;
    else if (h.chunked) s.st = St.ChunkSize;
    else if (h.otherCoding) s.st = St.ToEnd;
    else if (h.contentLength === -2) {
      this.ctx.anomaly(ts, 'http_bad_content_length', `response (status ${status}) has an invalid Content-Length`);
      s.st = St.Off;
    } else if (h.contentLength > 0) {
      s.remaining = h.contentLength;
      s.st = St.Body;
    } else if (h.contentLength === 0) s.st = St.Head;
    else s.st = St.ToEnd;
    this.maybeDone();
    return he;
  }

  // ── chunked bodies ──

  private chunkSize(dir: Dir, s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    const max = this.limits.maxChunkLineBytes;
    const lim = Math.min(end, at + max);
    const lf = data.indexOf(0x0a, at);
    if (lf < 0 || lf >= lim) {
      if (end - at >= max) return this.badChunk(dir, s, ts, `chunk-size line over maxChunkLineBytes ${max}`, end);
      this.short = true;
      return at;
    }
    let size = 0;
    let i = at;
    while (i < lf) {
      const b = data[i]!;
      const v = b >= 0x30 && b <= 0x39 ? b - 0x30 : (b | 0x20) >= 0x61 && (b | 0x20) <= 0x66 ? (b | 0x20) - 0x57 : -1;
      if (v < 0) break;
      size = size * 16 + v;
      i++;
    }
    const ok = i > at && i - at <= 13 && (i === lf || data[i] === 0x3b || data[i] === 0x20 || data[i] === 0x09 || (data[i] === 0x0d && i + 1 === lf));
    if (!ok) return this.badChunk(dir, s, ts, `chunk-size line is not hexadecimal (${i - at} digits before byte 0x${(data[i] ?? 0).toString(16)})`, end);
    if (size === 0) s.st = St.Trailer;
    else {
      s.remaining = size;
      s.st = St.ChunkData;
    }
    return lf + 1;
  }

  private chunkEnd(dir: Dir, s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    if (data[at] === 0x0a) {
      s.st = St.ChunkSize;
      return at + 1;
    }
    if (data[at] === 0x0d) {
      if (at + 1 >= end) {
        this.short = true;
        return at;
      }
      if (data[at + 1] === 0x0a) {
        s.st = St.ChunkSize;
        return at + 2;
      }
    }
    return this.badChunk(dir, s, ts, 'chunk data not followed by CRLF', end);
  }

  private trailer(dir: Dir, s: Side, data: Uint8Array, at: number, end: number, ts: Time): number {
    let e = -1;
    if (data[at] === 0x0a) e = at + 1;
    else if (data[at] === 0x0d && at + 1 < end) e = data[at + 1] === 0x0a ? at + 2 : headEnd(data, at, end, this.limits.maxHeadBytes);
    else if (data[at] === 0x0d) e = -1;
    else e = headEnd(data, at, end, this.limits.maxHeadBytes);
    if (e === -1) {
      this.short = true;
      return at;
    }
    if (e === -2) return this.badChunk(dir, s, ts, `trailer section over maxHeadBytes ${this.limits.maxHeadBytes}`, end);
    s.st = St.Head;
    return e;
  }

  private badChunk(dir: Dir, s: Side, ts: Time, what: string, end: number): number {
    this.ctx.anomaly(ts, 'http_bad_chunk_size', `${what} in a chunked ${dir === 0 ? 'request' : 'response'} body`);
    s.st = St.Off;
    this.maybeDone();
    return end;
  }

  // ── requests, rows, web messaging ──

  private addRequest(h: Head, ts: Time): Req {
    const connect = h.method === 'CONNECT';
    const req: Req = {
      ts,
      method: h.method,
      host: h.host ?? (connect ? h.uri : uriAuthority(h.uri)),
      uri: h.uri,
      userAgent: h.userAgent,
      contentType: h.contentType,
      websocket: h.upgradeWebsocket,
      connect,
      isHead: h.method === 'HEAD',
    };
    this.requests++;
    if (!this.hostGiven) {
      // The tunnel's host for CONNECT (its target), else the Host header (or an absolute URI's authority).
      const name = connect ? h.uri : req.host;
      if (name !== null) {
        const host = hostOnly(name);
        if (host !== '' && !isAddress(host)) {
          this.hostGiven = true;
          this.ctx.hostName(host, 'http', ts);
        }
      }
    }
    if (!this.pairing) this.row(req, null);
    else {
      if (this.queue.length >= this.limits.maxPendingRequests) this.row(this.queue.shift()!, null);
      this.queue.push(req);
    }
    return req;
  }

  /** The final response to the oldest waiting request: its row is written with the status. */
  private answer(status: number): Req | undefined {
    const req = this.pairing ? this.queue.shift() : undefined;
    if (req !== undefined) this.row(req, status);
    return req;
  }

  private row(r: Req, status: number | null): void {
    this.ctx.row('http', { ts: r.ts, method: r.method, host: r.host, uri: r.uri, user_agent: r.userAgent, content_type: r.contentType, status });
  }

  private truncations(ts: Time, h: Head): void {
    if (h.uriCut) this.ctx.anomaly(ts, 'http_field_truncated', `request target of ${h.method} over maxUriBytes ${this.limits.maxUriBytes}: cut`);
    if (h.valueCut) this.ctx.anomaly(ts, 'http_field_truncated', `a header value of ${h.method} over maxValueBytes ${this.limits.maxValueBytes}: cut`);
  }

  /** A request a web-messaging rule names: its form body is read whole (the Form state) when it is small enough. */
  private webRequest(s: Side, req: Req, h: Head, ts: Time): void {
    if (req.method !== 'POST' || req.host === null) return;
    const host = hostOnly(req.host);
    const rule = matchWebRule(host, req.uri);
    if (rule === null || !isForm(h.contentType)) return;
    if (s.st !== St.Body || s.remaining > this.limits.maxFormBytes) {
      if (s.st === St.ChunkSize || s.remaining > this.limits.maxFormBytes) {
        this.ctx.anomaly(ts, 'http_form_too_large', `${rule.action} form to ${host} ${s.st === St.ChunkSize ? 'is chunked' : `has ${s.remaining} bytes, over maxFormBytes ${this.limits.maxFormBytes}`}: not read`);
      }
      return;
    }
    s.st = St.Form;
    this.form = { rule, ts, host };
  }

  private readFormBody(data: Uint8Array, s: number, e: number): void {
    const f = this.form;
    this.form = null;
    if (f === null) return;
    const r = f.rule;
    // Only the fields the rule names are decoded: a password field never is.
    const fields = readForm(data, s, e, ruleFields(r));
    const text = (name: string | undefined): string | null => {
      const v = name === undefined ? undefined : fields.get(name);
      return v === undefined ? null : utf8Lossy.decode(v);
    };
    if (r.action === 'login') {
      const account = text(r.account);
      if (account === null || account === '') return;
      this.ctx.identify(r.app, r.kind, 'http', r.confidence);
      this.ctx.account(f.ts, { account });
      this.ctx.event(f.ts, { account, event: 'login', target: f.host, detail: 'web login form', dir: 0 });
      return;
    }
    const raw = r.text === undefined ? undefined : fields.get(r.text);
    if (raw === undefined) return;
    let body: string;
    let bodyRaw: Uint8Array | null = null;
    try {
      body = utf8.decode(raw);
    } catch {
      body = utf8Lossy.decode(raw);
      bodyRaw = raw;
      this.ctx.anomaly(f.ts, 'http_form_bad_text', `${r.text} field of a message form to ${f.host}: ${raw.length} bytes not valid UTF-8`);
    }
    this.ctx.identify(r.app, r.kind, 'http', r.confidence);
    this.ctx.message(f.ts, { sender: text(r.sender), recipient: text(r.recipient), body, body_raw: bodyRaw, body_format: 'text', subject: text(r.subject), dir: 0 });
  }

  // ── ending ──

  /** When the client side is no longer read and no request waits for its answer, the flow has nothing more to give. */
  private maybeDone(): void {
    if (this.sides[0].st === St.Off && this.queue.length === 0) this.stop();
  }

  private flush(): void {
    while (this.queue.length > 0) this.row(this.queue.shift()!, null);
  }

  private stop(): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    this.ctx.done();
  }

  /** Before confirmation: the flow is not HTTP after all. */
  private notHttp(reason: string, end: number): number {
    this.stopped = true;
    this.ctx.reject(reason);
    return end;
  }

}

export const createHttpSession = (ctx: SessionContext, limits: HttpLimits = HTTP_LIMITS): ImSession => new HttpSession(ctx, limits);
