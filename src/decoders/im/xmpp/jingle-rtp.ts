/**
 * XMPP Jingle RTP sessions (XEP-0166 Jingle, XEP-0167 RTP sessions, XEP-0176 ICE-UDP and XEP-0177 raw UDP
 * transports, XEP-0320 DTLS-SRTP fingerprints): the `<description xmlns='urn:xmpp:jingle:apps:rtp:1' media=…>` of
 * each content, and the UDP candidates (`ip`, `port`, `component` 1 RTP / 2 RTCP) of its transport in any action
 * (session-initiate, session-accept, transport-info for trickled candidates, content-add…), become expected media
 * flows for the `rtp` analyzer (../../apps/rtp), named for `xmpp`. Candidates of a session whose RTP description was
 * not seen are not announced (nothing says they carry a call).
 */
import { RtpAnnouncer } from '../../apps/rtp/announce.js';
import type { RtpContext } from '../../apps/rtp/context.js';
import type { Dir, Time } from '../types.js';
import type { XEl } from './parse.js';
import type { XmppState } from './state.js';

const NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
const NS_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';
const NS_RAW_UDP = 'urn:xmpp:jingle:transports:raw-udp:1';
const NS_DTLS = 'urn:xmpp:jingle:apps:dtls:0';

interface Content {
  media: string;
  secure: boolean;
}

interface Call {
  initiator: string | null;
  responder: string | null;
  /** Contents with an RTP description, by content name. */
  contents: Map<string, Content>;
}

export class JingleRtp {
  /** Jingle RTP sessions by sid (insertion order = age; at most maxRtpExpects are remembered). */
  private readonly calls = new Map<string, Call>();
  private announcer: RtpAnnouncer | null = null;

  constructor(private readonly st: XmppState) {}

  /** A `<jingle>` element of an iq set. */
  jingle(iq: XEl, j: XEl, dir: Dir, ts: Time): void {
    const sid = j.attr('sid');
    const action = j.attr('action');
    if (sid === null || action === null) return;
    if (action === 'session-terminate') {
      this.calls.delete(sid);
      return;
    }
    let call = this.calls.get(sid);
    for (const c of j.children) {
      if (c.local !== 'content') continue;
      const d = c.child('description', NS_RTP);
      const name = c.attr('name') ?? '';
      if (d !== null) {
        if (call === undefined) {
          if (this.calls.size >= this.st.limits.maxRtpExpects) this.calls.delete(this.calls.keys().next().value as string);
          call = { initiator: j.attr('initiator') ?? (action === 'session-initiate' ? this.st.sender(iq, dir) : null), responder: j.attr('responder') ?? (action === 'session-initiate' ? this.st.recipient(iq, dir) : null), contents: new Map() };
          this.calls.set(sid, call);
        }
        const media = (d.attr('media') ?? name).toLowerCase();
        // XEP-0167 §7: SDES keys in <encryption><crypto/>; XEP-0320: a DTLS fingerprint in the transport.
        const secure = d.child('encryption')?.child('crypto') != null;
        if (!call.contents.has(name) && call.contents.size < this.st.limits.maxRtpExpects) call.contents.set(name, { media, secure });
        else if (call.contents.has(name) && secure) call.contents.get(name)!.secure = true;
      }
      const content = call?.contents.get(name);
      if (call === undefined || content === undefined) continue;
      for (const tr of c.children) {
        if (tr.local !== 'transport' || (tr.ns !== NS_ICE_UDP && tr.ns !== NS_RAW_UDP)) continue;
        if (tr.child('fingerprint', NS_DTLS) !== null) content.secure = true;
        for (const cand of tr.children) {
          if (cand.local !== 'candidate') continue;
          const proto = cand.attr('protocol');
          if (proto !== null && proto.toLowerCase() !== 'udp') continue; // ICE-TCP candidates are not UDP flows
          const ip = cand.attr('ip');
          const portText = cand.attr('port') ?? '';
          const port = /^[0-9]{1,5}$/.test(portText) ? Number(portText) : 0;
          if (ip === null || port < 1 || port > 65535) {
            this.st.anomaly(ts, 'xmpp_bad_streamhost', `Jingle RTP candidate ${cand.attr('id') ?? '?'} of session ${sid} has ip ${ip ?? 'none'} port ${portText || 'none'}`);
            continue;
          }
          const context: RtpContext = { app: 'xmpp', callId: sid, media: content.media, from: call.initiator, to: call.responder, secure: content.secure, rtcp: cand.attr('component') === '2' };
          this.announcer ??= new RtpAnnouncer(this.st.ctx, this.st.limits.maxRtpExpects, this.st.limits.rtpExpectTtl, 'xmpp_rtp_expects_exceeded');
          this.announcer.announce(ts, ip, port, context);
        }
      }
    }
  }
}
