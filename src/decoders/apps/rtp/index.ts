/**
 * RTP / RTCP media flows (RFC 3550, RFC 3551, RFC 5761; SRTP RFC 3711) announced by a signalling flow: SIP SDP offers
 * and answers (../../im/sip/handlers.ts), XMPP Jingle RTP sessions (../../im/xmpp/transfers.ts). No probe: only
 * expected flows come here, and they are named for the app that set the call up (method `expected`). See README.md.
 */
import type { ImProtocol } from '../../im/types.js';
import { RTP_ANOMALIES, RTP_LIMITS } from './limits.js';
import { createRtpSession } from './session.js';

export const rtp: ImProtocol = {
  id: 'rtp',
  name: 'RTP / RTCP media announced by signalling',
  transport: 'udp',
  app: null,
  tables: [],
  ports: [],
  probe: null,
  createSession: (ctx) => createRtpSession(ctx),
  limits: RTP_LIMITS,
  anomalies: RTP_ANOMALIES,
};

export type { RtpContext } from './context.js';
export { RTP_ANALYZER, RtpAnnouncer } from './announce.js';
