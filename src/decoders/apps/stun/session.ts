/**
 * The STUN session: every message of the flow (one per UDP datagram; over TCP framed as RFC 4571 says, a 2-byte
 * length before each message, or bare one after the other as RFC 8489 §6.2.2 allows), its attributes checked, the
 * call service named from them (apps.ts), then the media that follows on the same 5-tuple (media.ts) counted until
 * the budget is spent. An app is also inherited from the client endpoint's other STUN flows (cache.ts).
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import { appOfAttribute, appOfRealm, appOfType, googlePort, type StunApp } from './apps.js';
import { ENDPOINT_CACHE, EndpointCache, endpointKey } from './cache.js';
import { STUN_LIMITS } from './limits.js';
import { Media, classifyMedia } from './media.js';
import { ATTR, MAGIC_COOKIE, STUN_HEADER, attrText, fingerprintOk, stunMessageLength, walkAttributes, type AttrWalk, type StunAttr } from './parse.js';

/** Confidence of an app inherited from the endpoint cache (below a flow's own attributes, 0.85). */
const CACHE_CONFIDENCE = 0.75;
/** Confidence of the Google port rule (ports 19302-19309 with ICE credentials): a port and a shape, no name. */
const GOOGLE_PORT_CONFIDENCE = 0.6;

const EMPTY = new Uint8Array(0);

const enum Tcp {
  Unknown = 0,
  Bare = 1,
  Framed = 2,
}

export type StunLimits = typeof STUN_LIMITS;

export function createStunSession(ctx: SessionContext, limits: StunLimits = STUN_LIMITS): ImSession {
  return new StunSession(ctx, limits);
}

class StunSession implements ImSession {
  private units = 0;
  private stun = 0;
  private media = 0;
  private rtp = 0;
  private dtls = 0;
  private sides = 0;
  private app: string | null = null;
  private appConf = 0;
  private iceCredentials = false;
  private realmSeen = false;
  private stopped = false;
  private tcp = Tcp.Unknown;
  private readonly udp: boolean;
  private readonly clientKey: string;
  private readonly cache: EndpointCache;
  private readonly serverKey: string;
  private readonly google: boolean;
  // Per-message state for the attribute visitor (set before each walk; no closure per message).
  private msgData: Uint8Array = EMPTY;
  private msgOff = 0;
  private msgTs: Time = [0, 0];
  private msgEnd = 0;
  private msgApp: StunApp | null = null;
  private readonly walk: AttrWalk = { count: 0, error: null, errorAt: -1 };
  private readonly visit = (a: StunAttr): void => this.attribute(a);

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: StunLimits,
  ) {
    this.udp = ctx.transport === 'udp';
    this.cache = ctx.runState(ENDPOINT_CACHE, () => new EndpointCache());
    this.clientKey = endpointKey(ctx.clientIp, ctx.clientPort);
    this.serverKey = endpointKey(ctx.serverIp, ctx.serverPort);
    this.google = googlePort(ctx.clientPort) || googlePort(ctx.serverPort);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped) return len;
    if (this.udp) {
      this.unit(dir, data, off, len, ts);
      return len;
    }
    return this.stream(dir, data, off, len, ts);
  }

  onGap(): void {
    // A hole in a TCP stream: the framing is lost; STUN over TCP carries little after the allocation anyway.
    if (!this.udp) this.stop();
  }

  onEnd(): void {}

  finish(ts: Time): void {
    this.fromCache(ts);
    if (this.app !== null && this.rtp > 0) this.ctx.setProtocol('srtp');
  }

  // ── TCP ──

  private stream(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    let at = off;
    const end = off + len;
    while (!this.stopped && at < end) {
      const rest = end - at;
      if (this.tcp === Tcp.Unknown) {
        if (rest < STUN_HEADER + 2) return at - off;
        this.tcp = u32(data, at + 4) === MAGIC_COOKIE ? Tcp.Bare : u32(data, at + 6) === MAGIC_COOKIE ? Tcp.Framed : Tcp.Bare;
      }
      if (this.tcp === Tcp.Framed) {
        if (rest < 2) return at - off;
        const flen = (data[at]! << 8) | data[at + 1]!;
        if (flen > this.limits.maxTcpFrameBytes) {
          this.ctx.anomaly(ts, 'stun_frame_too_large', `RFC 4571 frame of ${flen} bytes ${dir === 0 ? 'c2s' : 's2c'} exceeds maxTcpFrameBytes ${this.limits.maxTcpFrameBytes}: stopped`);
          this.stop();
          return len;
        }
        if (rest < 2 + flen) return at - off;
        this.unit(dir, data, at + 2, flen, ts);
        at += 2 + flen;
        continue;
      }
      const total = stunMessageLength(data, at, rest, false);
      if (total < 0) return at - off;
      if (total === 0 || total > this.limits.maxTcpFrameBytes) {
        // Not STUN any more (TURN-TCP data after a ConnectionBind, or garbage): nothing more to read here.
        this.stop();
        return len;
      }
      if (rest < total) return at - off;
      this.unit(dir, data, at, total, ts);
      at += total;
    }
    return len;
  }

  // ── one message or datagram ──

  private unit(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): void {
    this.units++;
    const total = stunMessageLength(data, off, len, true);
    if (total > 0) this.message(dir, data, off, total, ts);
    else {
      const m = classifyMedia(data, off, len);
      if (m === Media.Stun && len >= STUN_HEADER && u32(data, off + 4) === MAGIC_COOKIE) {
        const declared = STUN_HEADER + ((data[off + 2]! << 8) | data[off + 3]!);
        this.ctx.anomaly(ts, 'stun_length_mismatch', `STUN header says ${declared} bytes, the ${this.udp ? 'datagram' : 'frame'} has ${len} (${dir === 0 ? 'c2s' : 's2c'})`);
      } else if (m === Media.Rtp || m === Media.Rtcp) {
        this.media++;
        if (this.rtp++ === 0) this.ctx.setProtocol(this.app !== null ? 'srtp' : 'rtp');
      } else if (m === Media.Dtls) {
        this.media++;
        if (this.dtls++ === 0 && this.rtp === 0) this.ctx.setProtocol('dtls');
      } else if (m === Media.Channel) this.media++;
    }
    if (this.units >= this.limits.maxDatagrams || (this.app !== null && this.media >= this.limits.mediaDatagrams)) this.stop();
  }

  private message(dir: Dir, data: Uint8Array, off: number, total: number, ts: Time): void {
    this.stun++;
    this.sides |= 1 << dir;
    // Header, method, cookie and exact length are already checked; both directions make it certain.
    this.ctx.confirm(this.sides === 3 ? 1 : 0.9);
    const type = (data[off]! << 8) | data[off + 1]!;
    this.msgData = data;
    this.msgOff = off;
    this.msgEnd = off + total;
    this.msgTs = ts;
    this.msgApp = appOfType(type);
    const w = walkAttributes(data, off, total, this.limits.maxAttributes, this.visit, this.walk);
    if (w.error === 'truncated') {
      this.ctx.anomaly(ts, 'stun_attribute_truncated', `attribute at offset ${w.errorAt - off} of a ${total}-byte message (type 0x${hex4(type)}) runs past its end`);
    } else if (w.error === 'too_many') {
      this.ctx.anomaly(ts, 'stun_too_many_attributes', `message type 0x${hex4(type)} has more than maxAttributes ${this.limits.maxAttributes} attributes: the rest was not read`);
    }
    if (this.msgApp !== null) this.identify(this.msgApp.app, this.msgApp.confidence, ts);
    if (this.app === null) {
      this.fromCache(ts);
      if (this.app === null && this.google && this.iceCredentials) this.identify('google-meet', GOOGLE_PORT_CONFIDENCE, ts);
    }
  }

  private attribute(a: StunAttr): void {
    const data = this.msgData;
    switch (a.type) {
      case ATTR.USERNAME:
      case ATTR.MESSAGE_INTEGRITY:
        this.iceCredentials = true;
        break;
      case ATTR.REALM: {
        const realm = attrText(data, a, this.limits.maxTextBytes);
        if (!this.realmSeen) {
          this.realmSeen = true;
          this.ctx.setServerName(realm);
        }
        this.take(appOfRealm(realm));
        break;
      }
      case ATTR.FINGERPRINT:
        if (a.len !== 4) this.ctx.anomaly(this.msgTs, 'stun_bad_fingerprint', `FINGERPRINT of ${a.len} bytes (4 expected)`);
        else if (a.at + 4 !== this.msgEnd) this.ctx.anomaly(this.msgTs, 'stun_fingerprint_not_last', `FINGERPRINT at offset ${a.at - 4 - this.msgOff} is followed by ${this.msgEnd - a.at - 4} bytes`);
        else if (!fingerprintOk(data, this.msgOff, a.at)) this.ctx.anomaly(this.msgTs, 'stun_bad_fingerprint', `FINGERPRINT does not match the CRC-32 of the message (offset ${a.at - 4 - this.msgOff})`);
        break;
      default:
        this.take(appOfAttribute(a.type));
    }
  }

  private take(a: StunApp | null): void {
    if (a !== null && (this.msgApp === null || a.confidence > this.msgApp.confidence)) this.msgApp = a;
  }

  private identify(app: string, confidence: number, ts: Time): void {
    if (confidence <= this.appConf) return;
    const first = this.app === null;
    this.app = app;
    this.appConf = confidence;
    this.ctx.identify(app, 'call', 'stun', confidence);
    // Only a flow's own evidence is passed on to the endpoint's other flows (not what it inherited).
    if (confidence > CACHE_CONFIDENCE) this.cache.remember(this.clientKey, app, ts[0]);
    if (first && this.rtp > 0) this.ctx.setProtocol('srtp');
  }

  private fromCache(ts: Time): void {
    if (this.app !== null) return;
    const app = this.cache.app(this.clientKey, ts[0]) ?? this.cache.app(this.serverKey, ts[0]);
    if (app !== null) this.identify(app, CACHE_CONFIDENCE, ts);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.done();
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
