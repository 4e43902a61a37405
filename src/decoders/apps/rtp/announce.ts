/**
 * Announcing media flows from a signalling flow (SIP SDP, XMPP Jingle): each address and port becomes an expected
 * UDP flow for the `rtp` analyzer, once per call and port, at most `max` per signalling flow (then one anomaly, with
 * the signalling protocol's own code, and nothing more is expected). Keeps only the keys it announced: bounded by
 * `max`.
 */
import type { SessionContext, Time } from '../../im/types.js';
import { canonicalIp } from '../../im/xmpp/jid.js';
import type { RtpContext } from './context.js';

export const RTP_ANALYZER = 'rtp';

export class RtpAnnouncer {
  private readonly seen = new Set<string>();
  private over = false;

  constructor(
    private readonly ctx: SessionContext,
    /** Expectations per signalling flow. */
    private readonly max: number,
    /** Seconds each stays valid. */
    private readonly ttl: number,
    /** The signalling protocol's anomaly code for the limit (`sip_rtp_expects_exceeded`). */
    private readonly overCode: string,
  ) {}

  /** Expect media at `address`:`port` (an IP address; a host name is not something a tap can match). */
  announce(ts: Time, address: string, port: number, context: RtpContext): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return;
    const host = canonicalIp(address.toLowerCase()); // the flow table's form: dotted IPv4, RFC 5952 IPv6
    if (host === null) return;
    // 0.0.0.0 / :: put the media on hold (RFC 3264 §8.4): nothing will come there.
    if (host === '0.0.0.0' || host === '::') return;
    const key = `${context.callId ?? ''}\u0000${host}\u0000${port}`;
    if (this.seen.has(key)) return; // a retransmission, or the same offer again (after an auth challenge)
    if (this.seen.size >= this.max) {
      if (!this.over) {
        this.over = true;
        this.ctx.anomaly(ts, this.overCode, `media flow ${this.seen.size + 1} announced on the flow (${context.media} to ${host} port ${port}) exceeds ${this.max}: not expected`);
      }
      return;
    }
    this.seen.add(key);
    this.ctx.expect(ts, { transport: 'udp', host, port, ttl: this.ttl, analyzer: RTP_ANALYZER, context });
  }
}
