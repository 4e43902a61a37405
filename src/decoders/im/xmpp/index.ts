/**
 * The XMPP analyzers: `xmpp` for client-to-server and server-to-server streams (RFC 6120, RFC 6121, XEP-0220
 * dialback; file transfer signalling XEP-0047, 0065, 0096, 0234; MUC XEP-0045), and `xmpp-s5b` for the XEP-0065
 * SOCKS5 bytestream connections that carry files (announced by an `xmpp` flow, or recognised by their handshake).
 * See README.md in this folder for what is recorded, the limits and the anomaly codes.
 */
import type { ImProtocol } from '../types.js';
import { probeS5b, probeXmpp } from './detect.js';
import { S5bSession } from './s5b.js';
import { S5B_ANOMALIES, S5B_LIMITS, XMPP_ANOMALIES, XMPP_LIMITS } from './schema.js';
import { XmppSession } from './session.js';

export const xmpp: ImProtocol = {
  id: 'xmpp',
  name: 'XMPP (Jabber)',
  transport: 'tcp',
  // c2s, s2s, legacy direct TLS (5223, left to TLS detection), and the web ports some servers also listen on.
  ports: [5222, 5269, 5223, 443, 80],
  probe: probeXmpp,
  createSession: (ctx) => new XmppSession(ctx),
  limits: XMPP_LIMITS,
  anomalies: XMPP_ANOMALIES,
};

export const xmppS5b: ImProtocol = {
  id: 'xmpp-s5b',
  name: 'XMPP SOCKS5 bytestream (XEP-0065)',
  transport: 'tcp',
  app: 'xmpp',
  // Proxies commonly listen on 7777; direct connections use any port the offer names.
  ports: [7777],
  probe: probeS5b,
  createSession: (ctx) => new S5bSession(ctx),
  limits: S5B_LIMITS,
  anomalies: S5B_ANOMALIES,
};

export type { S5bContext } from './transfers.js';
