/**
 * MSNP (MSN Messenger / Windows Live Messenger, protocol versions 2 to 21): notification-server and switchboard
 * connections, and the MSNFTP file-transfer connections their invitations announce. Two descriptors: `msnp` detects
 * by payload and analyses NS and SB flows; `msnp-ftp` has no probe and takes the connections an `msnp` flow's
 * invitation ACCEPT announced. App: `msn`. `msnp` also takes MSNP tunnelled through MSN's HTTP gateway
 * (`POST /gateway/gateway.dll`, gateway-session.ts). See README.md in this folder.
 */
import type { ImProtocol } from '../types.js';
import { probeMsnp } from './detect.js';
import { createMsnFtpSession } from './ftp-session.js';
import { MSNFTP_ANOMALIES, MSNFTP_LIMITS, MSNP_ANOMALIES, MSNP_LIMITS } from './limits.js';
import { MSNFTP_ANALYZER } from './mime.js';
import { createMsnpFlowSession } from './gateway-session.js';

export const msnp: ImProtocol = {
  id: 'msnp',
  name: 'MSN Messenger Protocol (MSNP)',
  transport: 'tcp',
  app: 'msn',
  // A hint only (the probe decides): 1863 is MSNP's IANA port; clients fell back to 80 and 443.
  ports: [1863],
  probe: probeMsnp,
  createSession: (ctx) => createMsnpFlowSession(ctx),
  limits: MSNP_LIMITS,
  anomalies: MSNP_ANOMALIES,
};

export const msnpFtp: ImProtocol = {
  id: MSNFTP_ANALYZER,
  name: 'MSN Messenger file transfer (MSNFTP)',
  transport: 'tcp',
  app: 'msn',
  ports: [],
  probe: null,
  createSession: (ctx) => createMsnFtpSession(ctx),
  limits: MSNFTP_LIMITS,
  anomalies: MSNFTP_ANOMALIES,
};

export type { MsnFtpContext } from './mime.js';
