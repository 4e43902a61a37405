/**
 * TLS over TCP as a carrier protocol (`app: null`): the ClientHello (SNI, ALPN, versions, JA4, ECH), the ServerHello
 * and, before TLS 1.3, the server certificate's names, as one `tls` row per flow and the flow's host name. See README.md
 * in this folder. The ClientHello parser and JA4 (`client-hello.ts`) are shared with QUIC.
 */
import type { ImProtocol } from '../../im/types.js';
import { probeTls } from './detect.js';
import { TLS_ANOMALIES, TLS_LIMITS } from './limits.js';
import { createTlsSession } from './session.js';

export const tls: ImProtocol = {
  id: 'tls',
  name: 'Transport Layer Security',
  transport: 'tcp',
  app: null,
  tables: ['tls'],
  // Hints only: HTTPS, XMPP over TLS (5223), IMAPS, SMTPS, POP3S, IRC over TLS (6697), alternative HTTPS.
  ports: [443, 5223, 993, 465, 995, 6697, 8443],
  probe: probeTls,
  createSession: (ctx) => createTlsSession(ctx),
  limits: TLS_LIMITS,
  anomalies: TLS_ANOMALIES,
};

export { ja4, parseClientHello, type ClientHello } from './client-hello.js';
