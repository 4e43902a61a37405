/**
 * Gadu-Gadu: the Polish IM network's client-server protocol (GG 4.x to 8.0/10) on TCP. One descriptor, `gadugadu`
 * (app `gadugadu`), detected by payload on any port. See README.md in this folder.
 */
import type { ImProtocol } from '../types.js';
import { probeGadu } from './detect.js';
import { GADU_ANOMALIES, GADU_LIMITS } from './limits.js';
import { createGaduSession } from './session.js';

export const gadugadu: ImProtocol = {
  id: 'gadugadu',
  name: 'Gadu-Gadu',
  transport: 'tcp',
  app: 'gadugadu',
  // Hints only (the probe decides): 8074 is IANA's Gadu-Gadu port; clients fell back to 443.
  ports: [8074, 443],
  probe: probeGadu,
  createSession: (ctx) => createGaduSession(ctx),
  limits: GADU_LIMITS,
  anomalies: GADU_ANOMALIES,
};
