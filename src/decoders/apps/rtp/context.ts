/**
 * What a signalling flow tells the `rtp` analyzer about a media flow it announced (`ctx.expected`): the app that set
 * the call up, the call, the media and the parties. Left by SIP (SDP offers and answers) and XMPP (Jingle RTP
 * sessions), read by session.ts.
 */

export interface RtpContext {
  /** The signalling flow's app (`sip`, `xmpp`): the app the media flow is named for. */
  app: string;
  /** SIP Call-ID or Jingle session id. */
  callId: string | null;
  /** `audio` or `video` (the SDP media type or the Jingle RTP description's media). */
  media: string;
  from: string | null;
  to: string | null;
  /** The media is announced as SRTP (SDP RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP…; Jingle crypto or DTLS fingerprint). */
  secure: boolean;
  /** The port carries RTCP only (the RTP port + 1, or `a=rtcp:`). */
  rtcp: boolean;
}

/** The context when it is one (a hostile or foreign context is not trusted for a name). */
export function rtpContext(v: unknown): RtpContext | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Partial<RtpContext>;
  return typeof c.app === 'string' && c.app.length > 0 && typeof c.media === 'string' ? (c as RtpContext) : null;
}

/** The media types announced as RTP sessions. */
export function isCallMedia(media: string): boolean {
  return media === 'audio' || media === 'video';
}
