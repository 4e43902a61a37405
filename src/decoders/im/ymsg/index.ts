/**
 * YMSG: the Yahoo! Messenger client-server protocol (versions 9-17) on TCP. One descriptor, `ymsg` (app `yahoo`),
 * detected by payload on any port. See README.md in this folder.
 */
import type { ImProtocol } from '../types.js';
import { probeYmsg } from './detect.js';
import { YMSG_ANOMALIES, YMSG_LIMITS } from './limits.js';
import { createYmsgSession } from './session.js';

export const ymsg: ImProtocol = {
  id: 'ymsg',
  name: 'Yahoo! Messenger (YMSG)',
  transport: 'tcp',
  app: 'yahoo',
  // Hints only (the probe decides): 5050 is the pager port; clients fell back to 80 and 23 behind firewalls.
  ports: [5050, 80, 23],
  probe: probeYmsg,
  createSession: (ctx) => createYmsgSession(ctx),
  limits: YMSG_LIMITS,
  anomalies: YMSG_ANOMALIES,
};
