/**
 * The `rtp` session: a UDP flow a signalling flow announced (SIP SDP, XMPP Jingle; `ctx.expected` is its
 * RtpContext). Each datagram is classified (packet.ts); the flow is named for the signalling app (kind `call`,
 * method `expected`) once it shows RTP — two datagrams of one source with the sequence number moving forward
 * (RFC 3550 A.1 probation) — or an RTCP compound packet. STUN and DTLS on the 5-tuple (ICE checks, the DTLS-SRTP
 * handshake) are neither for nor against. A datagram that is none of these before the flow is named rejects it: the
 * announcement was not followed by media, something else uses the port. Then done() after maxDatagrams.
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import { rtpContext, type RtpContext } from './context.js';
import { RTP_LIMITS } from './limits.js';
import { Kind, classify, rtpSeq, rtpSsrc } from './packet.js';

export type RtpLimits = { readonly [K in keyof typeof RTP_LIMITS]: number };

/** Confidence of a flow named from its media: the signalling said where it goes, the datagrams say it is RTP. */
const CONFIDENCE = 0.9;
/** Confidence when the flow ended before the probation did (one RTP datagram only, or only STUN/DTLS). */
const WEAK_CONFIDENCE = 0.7;

export function createRtpSession(ctx: SessionContext, limits: RtpLimits = RTP_LIMITS): ImSession {
  return new RtpSession(ctx, limits);
}

class RtpSession implements ImSession {
  private readonly context: RtpContext | null;
  private datagrams = 0;
  /** Per direction: the last RTP source and sequence number seen (probation). */
  private readonly ssrc = [0, 0];
  private readonly seq = [0, 0];
  private readonly has = [false, false];
  /** RTP datagrams per direction. */
  private readonly count = [0, 0];
  private rtp = false;
  private rtcp = false;
  private dtls = false;
  private stun = false;
  private named = false;
  private invalidReported = false;
  private stopped = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: RtpLimits,
  ) {
    this.context = rtpContext(ctx.expected);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped || len <= 0) return len;
    this.datagrams++;
    switch (classify(data, off, len)) {
      case Kind.None:
        if (!this.named) {
          this.stop();
          this.ctx.reject(`datagram ${this.datagrams} (${len} bytes, first byte ${data[off]!}) is not RTP, RTCP, STUN or DTLS`);
          return len;
        }
        if (!this.invalidReported) {
          this.invalidReported = true;
          this.ctx.anomaly(ts, 'rtp_invalid_datagram', `datagram ${this.datagrams} (${len} bytes, first byte ${data[off]!}) ${dir === 0 ? 'from the client' : 'from the server'} is not RTP, RTCP, STUN or DTLS`);
        }
        break;
      case Kind.Stun:
        this.stun = true;
        break;
      case Kind.Dtls:
        this.dtls = true;
        break;
      case Kind.Rtcp:
        this.rtcp = true;
        this.name(CONFIDENCE);
        break;
      case Kind.Rtp: {
        const s = rtpSsrc(data, off);
        const q = rtpSeq(data, off);
        const step = (q - this.seq[dir]!) & 0xffff;
        if (this.has[dir] && this.ssrc[dir] === s && step >= 1 && step <= this.limits.maxSeqStep) {
          this.rtp = true;
          this.name(CONFIDENCE);
        }
        this.has[dir] = true;
        this.count[dir]!++;
        this.ssrc[dir] = s;
        this.seq[dir] = q;
        break;
      }
    }
    if (this.datagrams >= this.limits.maxDatagrams && !this.stopped) this.settle(false);
    return len;
  }

  onGap(_dir: Dir, _len: number, _ts: Time): void {}

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(_ts: Time): void {
    if (!this.stopped) this.settle(true);
  }

  /**
   * The budget is spent or the flow `ended`: named, weakly named (the flow ended with one RTP datagram per direction
   * at most, so the probation could not finish; or it carried only STUN or DTLS), or not media after all.
   */
  private settle(ended: boolean): void {
    if (!this.named) {
      if (ended && (this.count[0]! > 0 || this.count[1]! > 0) && this.count[0]! <= 1 && this.count[1]! <= 1) {
        this.rtp = true;
        this.name(WEAK_CONFIDENCE);
      } else if (this.count[0] === 0 && this.count[1] === 0 && (this.stun || this.dtls)) this.name(WEAK_CONFIDENCE);
    }
    if (!this.named) {
      this.stop();
      this.ctx.reject(`no RTP source in sequence and no RTCP in ${this.datagrams} datagrams`);
      return;
    }
    this.stop();
    this.ctx.done();
  }

  /** The flow is media: its protocol from what was seen, its app from the signalling. */
  private name(confidence: number): void {
    const secure = this.dtls || (this.context?.secure ?? false);
    const protocol = this.rtp ? (secure ? 'srtp' : 'rtp') : this.rtcp ? 'rtcp' : this.dtls ? 'dtls' : 'stun';
    this.ctx.setProtocol(protocol);
    if (this.named) return;
    this.named = true;
    if (this.context !== null) this.ctx.identify(this.context.app, 'call', 'expected', confidence);
    this.ctx.confirm(confidence);
  }

  private stop(): void {
    this.stopped = true;
  }
}
