/**
 * SIP (RFC 3261) over UDP and TCP as an IM protocol: MESSAGE page-mode messages (RFC 3428) with CPIM (RFC 3862),
 * isComposing (RFC 3994) and IMDN (RFC 5438) bodies, REGISTER accounts, presence (SUBSCRIBE/NOTIFY/PUBLISH), call
 * set-up events, and the MSRP sessions (RFC 4975) INVITEs set up, announced to the `msrp` analyzer. See README.md.
 */
import type { ImProtocol } from '../types.js';
import { probeSip } from './detect.js';
import { SIP_ANOMALIES, SIP_LIMITS } from './limits.js';
import { createSipSession } from './session.js';

export const sip: ImProtocol = {
  id: 'sip',
  name: 'Session Initiation Protocol',
  transport: 'both',
  // Hints only (the probe decides): 5060 (IANA sip), 5080 (a common alternative). 5061 is SIP over TLS: unreadable.
  ports: [5060, 5080],
  probe: probeSip,
  createSession: (ctx) => createSipSession(ctx),
  limits: SIP_LIMITS,
  anomalies: SIP_ANOMALIES,
};
