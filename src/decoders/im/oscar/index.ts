/**
 * OSCAR (AIM and ICQ) with TOC, and OFT2 file transfers. Two descriptors: `oscar` detects FLAP (and TOC's FLAPON) by
 * payload and analyses client-server flows; `oscar-oft` takes the direct connections a rendezvous file offer
 * announced (and, by its probe, any connection that starts with an OFT2 header). See README.md in this folder.
 */
import type { ImProtocol } from '../types.js';
import { probeOft, probeOscar } from './detect.js';
import { OFT_ANOMALIES, OFT_LIMITS, OSCAR_ANOMALIES, OSCAR_LIMITS } from './limits.js';
import { createOftSession } from './oft.js';
import { OFT_ANALYZER } from './rendezvous.js';
import { createOscarSession } from './session.js';

export const oscar: ImProtocol = {
  id: 'oscar',
  name: 'OSCAR (AIM, ICQ) and TOC',
  transport: 'tcp',
  app: 'aim',
  // Hints only (the probe decides): 5190 (AIM/ICQ login and BOS), 443 (clear-text OSCAR through firewalls), 9898 (TOC).
  ports: [5190, 443, 9898],
  probe: probeOscar,
  createSession: (ctx) => createOscarSession(ctx),
  limits: OSCAR_LIMITS,
  anomalies: OSCAR_ANOMALIES,
};

export const oscarOft: ImProtocol = {
  id: OFT_ANALYZER,
  name: 'OSCAR File Transfer (OFT2)',
  transport: 'tcp',
  app: 'aim',
  ports: [],
  probe: probeOft,
  createSession: (ctx) => createOftSession(ctx),
  limits: OFT_LIMITS,
  anomalies: OFT_ANOMALIES,
};

export type { OftContext } from './rendezvous.js';
