/**
 * What each SIP message means for the tables (RFC 3261 methods and responses; RFC 3428 MESSAGE; RFC 3265/6665
 * SUBSCRIBE/NOTIFY; RFC 3903 PUBLISH; RFC 4975 and RFC 5547 MSRP sessions set up by INVITE):
 *  - MESSAGE → a message (kind `page`), a typing event, a receipt or presence, per its body (content.ts);
 *  - REGISTER → the address-of-record as an account (login: the digest user name; auth: `digest` when an
 *    Authorization header is present — the digest response is never kept), a `register`/`unregister` event; the
 *    registrar's 2xx → `login`, a final refusal other than a 401/407 challenge → `login_refused`;
 *  - INVITE → `invite` (detail: the media offered), BYE → `bye`, CANCEL → `cancel`; an SDP offer or answer with MSRP
 *    media → the MSRP connection is expected (`msrp` analyzer) with who sits at each path;
 *  - SUBSCRIBE → `subscribe`; NOTIFY/PUBLISH with a PIDF body → `presence`, otherwise `notify`/`publish`;
 *  - a response in one direction to a request seen in the other → confirmation.
 * UDP retransmissions (same Call-ID, CSeq and direction) are recorded once.
 */
import { isIP } from 'node:net';
import type { Dir, SessionContext, Time } from '../types.js';
import type { MsrpContext } from '../msrp/context.js';
import { RtpAnnouncer } from '../../apps/rtp/announce.js';
import { interpret, isSdpType, parseContentType } from './content.js';
import type { SipLimits } from './limits.js';
import { cseq, Hdr, type SipHead } from './parse.js';
import { parseMsrpUri, parseSdp, type SdpInfo } from './sdp.js';
import { decodeText } from './text.js';
import { addrDisplay, addrUri, authParams, canonicalUri, nameAddr, uriHost } from './uri.js';

export const MSRP_ANALYZER = 'msrp';

interface Tx {
  method: string;
  /** The final status already answered (responses are recorded once). */
  final: number;
  account: string | null;
  auth: string | null;
}

const FLOW_KINDS = ['control', 'presence', 'call', 'chat'] as const;

/** `s.toUpperCase()`, without a new string when it is already upper-case ASCII (methods nearly always are). */
function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || (c >= 0x61 && c <= 0x7a)) return s.toUpperCase();
  }
  return s;
}

/** From/To values whose URIs a flow remembers (both parties of two dialogs). */
const ADDR_CACHE = 4;
type FlowKind = (typeof FLOW_KINDS)[number];

export class Handlers {
  /** Requests sent in each direction, by Call-ID, CSeq number and method (insertion order = age). */
  private readonly tx: [Map<string, Tx>, Map<string, Tx>] = [new Map(), new Map()];
  private txOverReported = false;
  /** MSRP sessions being set up, by Call-ID. */
  private readonly msrp = new Map<string, MsrpContext>();
  private expects = 0;
  private kind: FlowKind | null = null;
  private confirmed = false;
  /** RTP/RTCP flows announced in SDP, for the `rtp` analyzer (created on the first one). */
  private rtp: RtpAnnouncer | null = null;
  /**
   * The last From/To values read and their URIs (`addrUri`), the oldest replaced first: the messages of a dialog repeat
   * the same two values, in either order. Per flow, bounded by ADDR_CACHE.
   */
  private readonly addrValues: string[] = new Array<string>(ADDR_CACHE).fill('');
  private readonly addrUris: (string | null)[] = new Array<string | null>(ADDR_CACHE).fill(null);
  private addrNext = 0;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: SipLimits,
  ) {}

  /** One parsed message; its body is `buf[bs, be)`. */
  message(dir: Dir, h: SipHead, buf: Uint8Array, bs: number, be: number, ts: Time): void {
    if (h.via > this.limits.maxViaEntries) {
      this.ctx.anomaly(ts, 'sip_path_too_long', `${h.request ? `${h.method} request` : `${h.status} response`} with ${h.via} Via entries exceeds ${this.limits.maxViaEntries}`);
    }
    const callId = h.value(Hdr.CallId) ?? '';
    const cs = cseq(h);
    if (h.request) this.request(dir, h, callId, cs, buf, bs, be, ts);
    else this.response(dir, h, callId, cs, buf, bs, be, ts);
  }

  private request(dir: Dir, h: SipHead, callId: string, cs: { seq: string; method: string } | null, buf: Uint8Array, bs: number, be: number, ts: Time): void {
    const method = upper(h.method);
    const key = `${callId}\u0000${cs?.seq ?? ''}\u0000${cs === null ? method : upper(cs.method)}`;
    const txs = this.tx[dir];
    if (txs.has(key)) return; // a retransmission
    if (txs.size >= this.limits.maxTransactions) {
      txs.delete(txs.keys().next().value as string);
      if (!this.txOverReported) {
        this.txOverReported = true;
        this.ctx.anomaly(ts, 'sip_transactions_exceeded', `more than ${this.limits.maxTransactions} requests pending on the ${dir === 0 ? 'client' : 'server'} side: the oldest are forgotten`);
      }
    }
    const tx: Tx = { method, final: 0, account: null, auth: null };
    txs.set(key, tx);
    const fromUri = this.uri(h.value(Hdr.From));
    const toUri = this.uri(h.value(Hdr.To));
    this.setKind('control');
    const sender = fromUri;
    const recipient = toUri ?? (h.uri.includes(':') ? canonicalUri(h.uri) : null);
    switch (method) {
      case 'MESSAGE':
        this.setKind('chat');
        this.content(dir, h, buf, bs, be, sender, recipient, ts);
        break;
      case 'REGISTER': {
        // The address-of-record, with its display name: To, else From.
        const aor = toUri ?? fromUri;
        if (aor === null) break;
        const display = addrDisplay((toUri !== null ? h.value(Hdr.To) : h.value(Hdr.From))!);
        const authValue = h.value(Hdr.Authorization) ?? h.value(Hdr.ProxyAuthorization);
        const a = authValue === null ? null : authParams(authValue);
        tx.account = aor;
        tx.auth = a === null ? null : a.scheme;
        const registrar = uriHost(h.uri);
        this.ctx.account(ts, { account: aor, display_name: display, server: registrar, login: a?.params.get('username') ?? null, auth: tx.auth, side: dir });
        const expires = h.value(Hdr.Expires) ?? nameAddr(h.value(Hdr.Contact) ?? '')?.params.get('expires') ?? null;
        const unregister = expires !== null && /^0+$/.test(expires.trim());
        const ex = expires !== null ? `expires ${expires.trim()}` : null;
        const au = a !== null ? `auth ${a.scheme}` : null;
        this.ctx.event(ts, { account: aor, event: unregister ? 'unregister' : 'register', target: registrar, detail: ex !== null && au !== null ? `${ex}, ${au}` : (ex ?? au), dir });
        break;
      }
      case 'INVITE': {
        const sdp = this.sdp(h, buf, bs, be);
        const chat = sdp !== null && sdp.msrp.length > 0;
        this.setKind(chat ? 'chat' : 'call');
        const media = sdp === null || sdp.media.length === 0 ? '' : `, media ${sdp.media.join(' ')}`;
        this.ctx.event(ts, { account: sender, event: 'invite', target: recipient, detail: `call-id ${callId}${media}`, dir });
        if (chat) this.announce(sdp, callId, sender, true, ts);
        if (sdp !== null) this.announceRtp(sdp, callId, sender, recipient, ts);
        break;
      }
      case 'ACK': {
        // A late offer (an INVITE without SDP): the answer comes in the ACK (RFC 3261 §13.2.1).
        const sdp = this.sdp(h, buf, bs, be);
        if (sdp !== null) this.announceRtp(sdp, callId, sender, recipient, ts);
        break;
      }
      case 'BYE':
      case 'CANCEL':
        this.ctx.event(ts, { account: sender, event: method.toLowerCase(), target: recipient, detail: `call-id ${callId}`, dir });
        break;
      case 'SUBSCRIBE':
        this.setKind('presence');
        this.ctx.event(ts, { account: sender, event: 'subscribe', target: recipient, detail: h.value(Hdr.Event), dir });
        break;
      case 'NOTIFY':
      case 'PUBLISH': {
        this.setKind('presence');
        const ct = parseContentType(h.value(Hdr.ContentType));
        if (ct?.type === 'application/pidf+xml' && be > bs) {
          const c = interpret(ct, buf, bs, be).content;
          // PUBLISH: the publisher's own state; NOTIFY: the state of the presentity it is about (the From).
          this.ctx.event(ts, { account: c.sender !== null ? canonicalUri(c.sender) : sender, event: 'presence', target: method === 'NOTIFY' ? recipient : null, detail: 'detail' in c ? c.detail : null, dir });
        } else this.ctx.event(ts, { account: sender, event: method.toLowerCase(), target: recipient, detail: h.value(Hdr.Event), dir });
        break;
      }
    }
  }

  private response(dir: Dir, h: SipHead, callId: string, cs: { seq: string; method: string } | null, buf: Uint8Array, bs: number, be: number, ts: Time): void {
    if (cs === null) return;
    const method = upper(cs.method);
    const tx = this.tx[(1 - dir) as Dir].get(`${callId}\u0000${cs.seq}\u0000${method}`);
    if (tx === undefined) return; // its request was not seen (one-sided capture, or picked up late)
    if (!this.confirmed) {
      this.confirmed = true;
      this.ctx.confirm(1);
    }
    // The answer's media: in a 2xx, or early media in a reliable or unreliable provisional (183 Session Progress).
    if (method === 'INVITE' && h.status > 100 && h.status < 300) {
      const sdp = this.sdp(h, buf, bs, be);
      if (sdp !== null) this.announceRtp(sdp, callId, this.uri(h.value(Hdr.From)), this.uri(h.value(Hdr.To)), ts);
    }
    if (h.status < 200 || tx.final !== 0) return; // provisional, or a retransmitted final response
    tx.final = h.status;
    if (method === 'REGISTER' && tx.account !== null) {
      if (h.status < 300) this.ctx.event(ts, { account: tx.account, event: 'login', target: uriHost(this.uri(h.value(Hdr.To)) ?? ''), detail: tx.auth === null ? 'auth none' : `auth ${tx.auth}`, dir });
      else if (h.status !== 401 && h.status !== 407) this.ctx.event(ts, { account: tx.account, event: 'login_refused', target: null, detail: `${h.status} ${h.reason}`.trim(), dir });
    } else if (method === 'INVITE' && h.status < 300) {
      const sdp = this.sdp(h, buf, bs, be);
      if (sdp !== null && sdp.msrp.length > 0) this.announce(sdp, callId, this.uri(h.value(Hdr.To)), false, ts);
    }
  }

  /** The URI of a From or To value (`addrUri`), null when there is none. */
  private uri(value: string | null): string | null {
    const v = value ?? '';
    for (let i = 0; i < ADDR_CACHE; i++) if (this.addrValues[i] === v) return this.addrUris[i]!;
    const uri = addrUri(v);
    this.addrValues[this.addrNext] = v;
    this.addrUris[this.addrNext] = uri;
    this.addrNext = (this.addrNext + 1) % ADDR_CACHE;
    return uri;
  }

  /** The SDP body of a message, when it has one. */
  private sdp(h: SipHead, buf: Uint8Array, bs: number, be: number): SdpInfo | null {
    if (be <= bs || !isSdpType(h.value(Hdr.ContentType))) return null;
    return parseSdp(decodeText(buf, bs, be).text);
  }

  /** MSRP media in an offer (`offer`: in the INVITE, `who` its From) or answer (2xx, `who` its To): expect the connection. */
  private announce(sdp: SdpInfo, callId: string, who: string | null, offer: boolean, ts: Time): void {
    let c = this.msrp.get(callId);
    if (c === undefined) {
      if (this.msrp.size >= this.limits.maxMsrpExpects) this.msrp.delete(this.msrp.keys().next().value as string);
      c = { parties: [], file: null, callId };
      this.msrp.set(callId, c);
    }
    for (const m of sdp.msrp) {
      const first = m.paths.length > 0 ? parseMsrpUri(m.paths[0]!) : null;
      const own = m.paths.length > 0 ? parseMsrpUri(m.paths[m.paths.length - 1]!) : null;
      if (own !== null && !c.parties.some((p) => p.sessionId === own.sessionId)) c.parties.push({ sessionId: own.sessionId, who });
      if (m.file !== null && (offer || c.file === null)) c.file = m.file;
      if (first === null || m.tls || first.scheme === 'msrps') continue; // TLS: nothing readable to expect
      // The path's host when it is an address; else the SDP connection address (a tap sees addresses, not names).
      const host = isIP(first.host) !== 0 ? first.host : m.address !== null && isIP(m.address) !== 0 ? m.address.toLowerCase() : null;
      if (host === null) continue;
      if (this.expects >= this.limits.maxMsrpExpects) {
        if (this.expects === this.limits.maxMsrpExpects) this.ctx.anomaly(ts, 'sip_msrp_expects_exceeded', `MSRP connection ${this.expects + 1} announced on the flow exceeds ${this.limits.maxMsrpExpects}: not expected`);
        this.expects++;
        continue;
      }
      this.expects++;
      this.ctx.expect(ts, { transport: 'tcp', host, port: first.port, ttl: this.limits.msrpTtlSeconds, analyzer: MSRP_ANALYZER, context: c });
    }
  }

  /** Audio and video in an offer or answer: expect each RTP and RTCP flow (`rtp` analyzer), named for SIP. */
  private announceRtp(sdp: SdpInfo, callId: string, from: string | null, to: string | null, ts: Time): void {
    for (const m of sdp.rtp) {
      if (m.address === null) continue;
      this.rtp ??= new RtpAnnouncer(this.ctx, this.limits.maxRtpExpects, this.limits.rtpTtlSeconds, 'sip_rtp_expects_exceeded');
      const context = { app: 'sip', callId, media: m.media, from, to, secure: m.secure, rtcp: false };
      this.rtp.announce(ts, m.address, m.port, context);
      if (m.rtcpPort !== null) this.rtp.announce(ts, m.rtcpAddress ?? m.address, m.rtcpPort, { ...context, rtcp: true });
    }
  }

  /** A MESSAGE body: a message, typing, receipt or presence. */
  private content(dir: Dir, h: SipHead, buf: Uint8Array, bs: number, be: number, sender: string | null, recipient: string | null, ts: Time): void {
    const ct = parseContentType(h.value(Hdr.ContentType));
    const enc = h.value(Hdr.ContentEncoding);
    if (enc !== null && enc.toLowerCase() !== 'identity') {
      // A compressed body (gzip): kept as bytes, not read.
      this.ctx.message(ts, { sender, recipient, body: null, body_raw: buf.slice(bs, be), body_format: ct?.type ?? 'text/plain', kind: 'page', subject: h.value(Hdr.Subject), dir });
      return;
    }
    const r = interpret(ct, buf, bs, be);
    if (r.problem !== null) this.ctx.anomaly(ts, 'sip_cpim_malformed', r.problem);
    const c = r.content;
    const s = c.sender ?? sender;
    const t = c.recipient ?? recipient;
    switch (c.kind) {
      case 'message':
        this.ctx.message(ts, { sender: s, recipient: t, body: c.body, body_raw: c.raw, body_format: c.format, kind: 'page', subject: c.subject ?? h.value(Hdr.Subject), dir });
        break;
      case 'typing':
        this.ctx.event(ts, { account: s, event: 'typing', target: t, detail: c.detail, dir });
        break;
      case 'receipt':
        this.ctx.event(ts, { account: s, event: 'receipt', target: t, detail: c.detail, dir });
        break;
      case 'presence':
        this.ctx.event(ts, { account: s, event: 'presence', target: t, detail: c.detail, dir });
        break;
    }
  }

  /** The flow's kind is the most telling seen: chat > call > presence > control. */
  private setKind(k: FlowKind): void {
    if (this.kind !== null && FLOW_KINDS.indexOf(this.kind) >= FLOW_KINDS.indexOf(k)) return;
    this.kind = k;
    this.ctx.setKind(k);
  }
}
