/**
 * MSRP (RFC 4975) sessions: chat messages (chunked, CPIM-wrapped) and file transfers (RFC 5547), on connections
 * announced by SIP INVITEs (`ctx.expected`, see ../sip/handlers.ts) or recognised by payload on any port. Its flows
 * belong to the SIP service: `app` is `sip`. See README.md.
 */
import type { ImProtocol } from '../types.js';
import { probeMsrp } from './detect.js';
import { MSRP_ANOMALIES, MSRP_LIMITS } from './limits.js';
import { createMsrpSession } from './session.js';

export const msrp: ImProtocol = {
  id: 'msrp',
  name: 'Message Session Relay Protocol',
  transport: 'tcp',
  app: 'sip',
  // Hint only: 2855 is IANA's msrp port (relays); endpoints use ephemeral ports announced in SDP.
  ports: [2855],
  probe: probeMsrp,
  createSession: (ctx) => createMsrpSession(ctx),
  limits: MSRP_LIMITS,
  anomalies: MSRP_ANOMALIES,
};

export type { MsrpContext } from './context.js';
