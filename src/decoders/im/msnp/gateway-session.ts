/**
 * HTTP-tunnelled MSNP (MSN Messenger's HTTP gateway, MSNP8-MSNP21 clients): the `msnp` descriptor's session for a
 * flow whose first bytes are HTTP (`POST /gateway/gateway.dll?…` or a response with `X-MSN-Messenger`). Each request
 * body holds client → server MSNP commands, each `application/x-msn-messenger` response body server → client commands;
 * they are fed, in order, to ordinary MSNP sessions (session.ts) — one per gateway session, so that a keep-alive
 * connection carrying a notification-server session and switchboards (`Server=NS|SB`, then `SessionID=…`) keeps each
 * one's context (who is logged in, who is on the switchboard, payloads cut between two bodies).
 *
 * Which gateway session a message belongs to: a request by its `SessionID` parameter (`Action=open` starts a new
 * one); a response is the answer to the oldest unanswered request (HTTP/1.1 answers in order), and the
 * `X-MSN-Messenger: SessionID=…` it carries names that session from then on (the gateway may hand out a new id with
 * every answer). A response whose request was not seen goes by its SessionID. References: the nina.chat wiki
 * "Protocols/MSNP/HTTP Gateway", hypothetic.org "HTTP connections"; framing in http-gateway.ts.
 */
import type { AccountRow, Dir, ImSession, SessionContext, Time } from '../types.js';
import { gatewayQuery, HttpFramer, isMsnContentType, msnMessengerHeader, type HttpHead } from './http-gateway.js';
import { MSNP_LIMITS, type MsnpLimits } from './limits.js';
import { createMsnpSession } from './session.js';

/** The `msnp` descriptor's session: HTTP gateway flows go to the gateway session, the rest to the plain one. */
export function createMsnpFlowSession(ctx: SessionContext, limits: Partial<MsnpLimits> = {}): ImSession {
  return new Chooser(ctx, limits);
}

const startsWith = (data: Uint8Array, off: number, len: number, s: string): 'yes' | 'no' | 'short' => {
  for (let i = 0; i < s.length; i++) {
    if (i >= len) return 'short';
    if (data[off + i] !== s.charCodeAt(i)) return 'no';
  }
  return 'yes';
};

class Chooser implements ImSession {
  private inner: ImSession | null = null;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: Partial<MsnpLimits>,
  ) {}

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.inner === null) {
      const a = startsWith(data, off, len, dir === 0 ? 'POST ' : 'HTTP/');
      if (a === 'short') return 0;
      this.inner = a === 'yes' ? new GatewaySession(this.ctx, { ...MSNP_LIMITS, ...this.limits }) : createMsnpSession(this.ctx, this.limits);
    }
    return this.inner.onData(dir, data, off, len, ts);
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    this.inner?.onGap(dir, len, ts);
  }

  onEnd(dir: Dir, ts: Time): void {
    this.inner?.onEnd(dir, ts);
  }

  finish(ts: Time): void {
    this.inner?.finish(ts);
  }
}

/** One gateway session: an MSNP session and the bytes of each direction it left unconsumed. */
interface Tunnel {
  session: ImSession;
  carry: [Uint8Array | null, Uint8Array | null];
  server: string | null;
  dead: boolean;
}

export class GatewaySession implements ImSession {
  private readonly framers: [HttpFramer, HttpFramer];
  private readonly bySid = new Map<string, Tunnel>();
  private readonly tunnels: Tunnel[] = [];
  /** Requests waiting for their response, oldest first. */
  private readonly unanswered: (Tunnel | null)[] = [];
  /** The tunnel the message being parsed in each direction feeds (null: its body is not MSNP). */
  private readonly cur: [Tunnel | null, Tunnel | null] = [null, null];
  private readonly auths = new Map<string, string>();
  private ts: Time = [0, 0];
  private sawRequest = false;
  private sawResponse = false;
  private confirmed = false;
  private stopped = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: MsnpLimits,
  ) {
    this.framers = [this.framer(0), this.framer(1)];
  }

  private framer(dir: Dir): HttpFramer {
    return new HttpFramer(
      dir === 0,
      {
        head: (h) => this.head(dir, h),
        body: (d, s, e) => this.body(dir, d, s, e),
        end: () => {
          this.cur[dir] = null;
        },
        lost: (what) => this.lost(dir, what),
      },
      this.limits.maxGatewayHeadBytes,
    );
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped) return len;
    this.ts = ts;
    const n = this.framers[dir].onData(data, off, len);
    return this.stopped ? len : n;
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    this.ts = ts;
    const t = this.cur[dir];
    // Inside a body of known length the framing survives; either way the tunnel's MSNP session resynchronises.
    this.framers[dir].onGap(len);
    if (t !== null) {
      t.carry[dir] = null;
      t.session.onGap(dir, len, ts);
    }
  }

  onEnd(dir: Dir, ts: Time): void {
    this.ts = ts;
    this.framers[dir].onEnd();
    for (const t of this.tunnels) if (!t.dead) t.session.onEnd(dir, ts);
  }

  finish(ts: Time): void {
    for (const t of this.tunnels) if (!t.dead) t.session.finish(ts);
  }

  // ── HTTP messages ──

  private head(dir: Dir, h: HttpHead): void {
    if (dir === 0) this.request(h);
    else this.response(h);
  }

  private request(h: HttpHead): void {
    const q = h.method === 'POST' && h.target !== null ? gatewayQuery(h.target) : null;
    if (q === null) {
      this.cur[0] = null;
      this.unanswered.push(null);
      this.notGateway(`request ${h.method ?? '?'} ${(h.target ?? '').slice(0, 80)} is not to the MSN gateway`);
      return;
    }
    this.sawRequest = true;
    let t = q.sessionId !== null ? this.bySid.get(q.sessionId) ?? null : null;
    if (t === null) {
      t = this.tunnel(q.server);
      if (t !== null && q.sessionId !== null) this.bySid.set(q.sessionId, t);
      if (t !== null && q.action?.toLowerCase() === 'open') {
        this.ctx.event(this.ts, { account: null, event: 'gateway_open', target: q.ip, detail: q.server, dir: 0 });
      }
    }
    this.cur[0] = t;
    if (this.unanswered.length >= this.limits.maxGatewaySessions * 4) this.unanswered.shift();
    this.unanswered.push(t);
  }

  private response(h: HttpHead): void {
    const x = msnMessengerHeader(h.headers);
    const msn = isMsnContentType(h.headers);
    const answered = this.unanswered.length > 0;
    const t = answered ? this.unanswered.shift()! : x !== null ? this.bySid.get(x.sessionId) ?? this.tunnel(null) : null;
    if (x === null && !msn) {
      // An error page, a proxy's answer, or the answer to a request that was not to the gateway: not MSNP.
      this.cur[1] = null;
      if (t !== null && h.status !== 200) this.ctx.anomaly(this.ts, 'msnp_gateway_error', `gateway answered HTTP ${h.status}`);
      else if (t !== null || !answered) this.notGateway(`HTTP ${h.status} response without X-MSN-Messenger or application/x-msn-messenger`);
      return;
    }
    if (t !== null && x !== null) {
      if (this.bySid.get(x.sessionId) !== t) {
        if (this.bySid.size >= this.limits.maxGatewaySessions * 4) this.bySid.clear();
        this.bySid.set(x.sessionId, t);
      }
    }
    this.sawResponse = true;
    if (!this.confirmed && this.sawRequest) {
      this.confirmed = true;
      this.ctx.confirm(1);
    }
    this.cur[1] = msn || h.status === 200 ? t : null;
    if (this.cur[1] === null && t !== null) this.ctx.anomaly(this.ts, 'msnp_gateway_error', `gateway answered HTTP ${h.status}`);
  }

  /** A new gateway session (null when over `maxGatewaySessions`). */
  private tunnel(server: string | null): Tunnel | null {
    if (this.tunnels.length >= this.limits.maxGatewaySessions) {
      this.ctx.anomaly(this.ts, 'msnp_gateway_sessions_exceeded', `gateway session ${this.tunnels.length + 1} exceeds ${this.limits.maxGatewaySessions}: not parsed`);
      return null;
    }
    const t: Tunnel = { session: null as unknown as ImSession, carry: [null, null], server, dead: false };
    t.session = createMsnpSession(this.innerContext(t), this.limits);
    this.tunnels.push(t);
    return t;
  }

  /** The flow's context as one tunnelled MSNP session sees it: the flow's kind is the first session's; a session that is not MSNP ends alone. */
  private innerContext(t: Tunnel): SessionContext {
    const c = this.ctx;
    let kindSet = false;
    return {
      get flowId() {
        return c.flowId;
      },
      transport: c.transport,
      clientIp: c.clientIp,
      clientPort: c.clientPort,
      serverIp: c.serverIp,
      serverPort: c.serverPort,
      expected: null,
      confirm: (n) => c.confirm(n),
      reject: (reason) => {
        t.dead = true;
        t.carry = [null, null];
        if (this.confirmed) this.ctx.anomaly(this.ts, 'msnp_gateway_body_invalid', `gateway session ${t.server ?? '?'}: ${reason}`);
        else {
          this.stopped = true;
          c.reject(`HTTP body: ${reason}`);
        }
      },
      encrypted: (how, ts) => c.encrypted(how, ts),
      setApp: (a) => c.setApp(a),
      setKind: (k) => {
        if (kindSet || this.tunnels[0] !== t) return;
        kindSet = true;
        c.setKind(k);
      },
      setServerName: (n) => c.setServerName(n),
      identify: (app, kind, method, confidence) => c.identify(app, kind, method, confidence),
      hostName: (name, source, ts) => c.hostName(name, source, ts),
      resolved: (ts, name, address, ttl) => c.resolved(ts, name, address, ttl),
      row: (table, r) => c.row(table, r),
      setProtocol: (p) => c.setProtocol(p),
      runState: (key, make) => c.runState(key, make),
      done: () => {
        t.dead = true;
        t.carry = [null, null];
      },
      account: (ts, r) => c.account(ts, this.auth(r)),
      message: (ts, r) => c.message(ts, r),
      transfer: (ts, r) => c.transfer(ts, r),
      contact: (ts, r) => c.contact(ts, r),
      event: (ts, r) => c.event(ts, r),
      anomaly: (ts, code, detail) => c.anomaly(ts, code, detail),
      expect: (ts, spec) => c.expect(ts, spec),
      openFile: (ts, meta) => c.openFile(ts, meta),
    };
  }

  /**
   * The client's account as a tunnel reports it: a switchboard tunnel's `cookie` does not replace how the same account
   * logged in on the notification tunnel (the flow's account row keeps the last auth given).
   */
  private auth(r: AccountRow): AccountRow {
    if ((r.side ?? 0) !== 0 || r.auth == null) return r;
    const known = this.auths.get(r.account);
    if (r.auth === 'cookie' && known !== undefined) return { ...r, auth: known };
    if (known === undefined || known === 'cookie') {
      if (this.auths.size >= this.limits.maxGatewaySessions) this.auths.clear();
      this.auths.set(r.account, r.auth);
    }
    return r;
  }

  /** Body bytes of the current message in `dir`: to its tunnel's MSNP session, after what it left unconsumed. */
  private body(dir: Dir, d: Uint8Array, s: number, e: number): void {
    const t = this.cur[dir];
    if (t === null || t.dead || e <= s) return;
    const prev = t.carry[dir];
    let buf = d;
    let off = s;
    let len = e - s;
    if (prev !== null) {
      buf = new Uint8Array(prev.length + len);
      buf.set(prev, 0);
      buf.set(d.subarray(s, e), prev.length);
      off = 0;
      len = buf.length;
    }
    const used = t.session.onData(dir, buf, off, len, this.ts);
    if (used >= len) {
      t.carry[dir] = null;
      return;
    }
    const rest = len - used;
    if (rest > this.limits.maxPayloadBytes + this.limits.maxLineBytes) {
      // Cannot happen with the session's own limits; a bound all the same.
      t.carry[dir] = null;
      t.session.onGap(dir, rest, this.ts);
      return;
    }
    // Our own concatenation can be kept as it is; a view of the caller's bytes must be copied.
    t.carry[dir] = prev !== null && used === 0 ? buf : buf.slice(off + used, off + len);
  }

  private lost(dir: Dir, what: string): void {
    const t = this.cur[dir];
    this.cur[dir] = null;
    if (t !== null) {
      t.carry[dir] = null;
      t.session.onGap(dir, 0, this.ts);
    }
    if (!this.confirmed) {
      this.stopped = true;
      this.ctx.reject(`${dir === 0 ? 'client' : 'server'} HTTP framing: ${what}`);
      return;
    }
    this.ctx.anomaly(this.ts, 'msnp_gateway_framing', `${dir === 0 ? 'client' : 'server'} HTTP framing lost (${what}): resynchronising`);
  }

  private notGateway(why: string): void {
    if (!this.confirmed && !this.sawRequest && !this.sawResponse) {
      this.stopped = true;
      this.ctx.reject(why);
      return;
    }
    this.ctx.anomaly(this.ts, 'msnp_gateway_not_msnp', why);
  }
}
