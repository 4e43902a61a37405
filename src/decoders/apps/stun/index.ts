/**
 * STUN / TURN (RFC 8489, RFC 5389, classic RFC 3489, TURN RFC 8656, TURN-TCP RFC 6062, RFC 4571 framing) as a
 * carrier: the flow's protocol is `stun` (then `rtp`, `srtp` or `dtls` when the media follows on the same 5-tuple);
 * the app is named only by evidence (attributes, realm, the endpoint's other STUN flows). See README.md.
 */
import { Probe, type Dir, type ImProtocol } from '../../im/types.js';
import { STUN_ANOMALIES, STUN_LIMITS } from './limits.js';
import { MAGIC_COOKIE, STUN_HEADER, stunMessageLength } from './parse.js';
import { createStunSession } from './session.js';

/**
 * The first bytes of a direction: one whole STUN message (a UDP datagram), or over TCP a message with the magic
 * cookie, bare or after a 2-byte RFC 4571 length that matches it. Cookie-less (RFC 3489) messages only as a whole
 * datagram with well-formed classic attributes.
 */
export function probeStun(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  if (len < 1 || data[off]! > 3) return Probe.No;
  if (len >= STUN_HEADER && stunMessageLength(data, off, len, true) > 0) return Probe.Yes;
  if (len < STUN_HEADER + 2) return Probe.Need;
  // Bare message with the cookie, more bytes following (TCP: several messages, or one cut by the segment).
  const t = stunMessageLength(data, off, len, false);
  if (t > 0 && u32(data, off + 4) === MAGIC_COOKIE) return Probe.Yes;
  // RFC 4571: 2-byte length, then a message with the cookie whose own length matches.
  const flen = (data[off]! << 8) | data[off + 1]!;
  if (u32(data, off + 6) === MAGIC_COOKIE && stunMessageLength(data, off + 2, len - 2, false) === flen) return Probe.Yes;
  return Probe.No;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export const stun: ImProtocol = {
  id: 'stun',
  name: 'STUN / TURN (and the media after it)',
  transport: 'both',
  app: null,
  // Hints only: IANA's STUN/TURN ports, TURN over TLS, Google's STUN ports, WhatsApp's and Teams' relay ports.
  ports: [3478, 3479, 5349, 19302, 19303, 19304, 19305, 19306, 19307, 19308, 19309, 3480, 3481],
  probe: probeStun,
  createSession: (ctx) => createStunSession(ctx),
  limits: STUN_LIMITS,
  anomalies: STUN_ANOMALIES,
};
