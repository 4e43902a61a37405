/**
 * QUIC (RFC 9000/9001 v1, RFC 9369 v2, drafts 27–32): a carrier protocol. Recognises a client's first Initial packet,
 * decrypts the client's Initial packets, reassembles their CRYPTO stream and reads the ClientHello's server name,
 * ALPN and JA4 (a `tls` row with transport `quic`). See README.md in this folder.
 */
import type { ImProtocol } from '../../im/types.js';
import { QUIC_ANOMALIES, QUIC_LIMITS } from './limits.js';
import { probeQuic } from './packet.js';
import { createQuicSession } from './session.js';

export const quic: ImProtocol = {
  id: 'quic',
  name: 'QUIC',
  transport: 'udp',
  app: null,
  tables: ['tls'],
  // Hints only (the probe decides): HTTP/3 on 443, and 80/8443 seen for QUIC too.
  ports: [443, 80, 8443],
  probe: probeQuic,
  createSession: (ctx) => createQuicSession(ctx, QUIC_LIMITS),
  limits: QUIC_LIMITS,
  anomalies: QUIC_ANOMALIES,
};
