/**
 * GTP-U, the GPRS/UMTS/LTE/5G user-plane tunnel (3GPP TS 29.281 §5): UDP port 2152, a GTPv1 header (version 1,
 * protocol type 1), message type 255 (G-PDU) carrying a user IP packet (the T-PDU). The mandatory header is 8 bytes
 * (flags, type, length of everything after these 8 bytes, TEID); when any of E, S, PN is set, 4 more follow (sequence
 * number, N-PDU number, next extension header type) and, when E is set, a chain of extension headers, each
 * length(1, in 4-byte units) content next-type(1) (TS 29.281 §5.2). The T-PDU is decoded as if it had been captured
 * natively, one tunnel level deeper; other messages (echo, error indication, end marker) stay the UDP datagram.
 */
import { anomalyIndex } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { decodeIPv4 } from './ipv4.js';
import { decodeIPv6 } from './ipv6.js';
import { resetNetwork, type DecoderState } from './state.js';

const A_TRUNCATED = anomalyIndex('gtp_truncated');
const A_BAD_VERSION = anomalyIndex('gtp_bad_version');
const A_BAD_LENGTH = anomalyIndex('gtp_bad_length');
const A_BAD_EXTENSION = anomalyIndex('gtp_bad_extension');
const A_NON_IP = anomalyIndex('gtp_non_ip');
const A_TOO_DEEP = anomalyIndex('tunnel_too_deep');

export const GTPU_PORT = 2152;
const MSG_G_PDU = 255;
const FLAG_E = 0x04;
const FLAG_S = 0x02;
const FLAG_PN = 0x01;

/**
 * Looks at the UDP payload `data[o, capEnd)` (announced as `wire` bytes) of a datagram to or from port 2152; a G-PDU
 * carrying IP replaces the network and transport fields of `out` with those of the inner packet.
 */
export function decodeGTPU(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  capEnd: number,
  wire: number,
  out: DecodedPacket,
): void {
  const an = st.anomalies;
  if (capEnd - o < 8) {
    an[A_TRUNCATED]!++;
    return;
  }
  const flags = data[o]!;
  // Version (3 bits) 1 and PT 1: GTP' (PT 0) and GTPv2 do not carry user packets.
  if ((flags & 0xf0) !== 0x30) {
    an[A_BAD_VERSION]!++;
    return;
  }
  if (data[o + 1] !== MSG_G_PDU) return;
  const len = (data[o + 2]! << 8) | data[o + 3]!;
  const teid = ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
  let gEnd = o + 8 + len;
  if (len > wire - 8) {
    an[A_BAD_LENGTH]!++;
    gEnd = o + wire;
  }
  if (capEnd > gEnd) capEnd = gEnd;
  let p = o + 8;
  if ((flags & (FLAG_E | FLAG_S | FLAG_PN)) !== 0) {
    if (gEnd - p < 4) {
      an[A_BAD_LENGTH]!++;
      return;
    }
    if (capEnd - p < 4) {
      an[A_TRUNCATED]!++;
      return;
    }
    // The next-extension-type byte means something only when E is set.
    let next = (flags & FLAG_E) !== 0 ? data[p + 3]! : 0;
    p += 4;
    // Each extension is at least 4 bytes, so the chain ends within the datagram.
    while (next !== 0) {
      if (capEnd - p < 1) {
        an[gEnd - p < 1 ? A_BAD_EXTENSION : A_TRUNCATED]!++;
        return;
      }
      const elen = data[p]! << 2;
      if (elen === 0 || elen > gEnd - p) {
        an[A_BAD_EXTENSION]!++;
        return;
      }
      if (elen > capEnd - p) {
        an[A_TRUNCATED]!++;
        return;
      }
      next = data[p + elen - 1]!;
      p += elen;
    }
  }
  if (capEnd - p < 1) {
    an[A_TRUNCATED]!++;
    return;
  }
  const version = data[p]! >> 4;
  if (version !== 4 && version !== 6) {
    an[A_NON_IP]!++;
    return;
  }
  if (out.tunnelDepth >= st.maxTunnelDepth) {
    an[A_TOO_DEEP]!++;
    return;
  }
  out.tunnelDepth++;
  out.gtpTeid = teid;
  resetNetwork(out);
  if (version === 4) {
    out.net = Net.IPv4;
    decodeIPv4(st, data, p, capEnd, out);
  } else {
    out.net = Net.IPv6;
    decodeIPv6(st, data, p, capEnd, out);
  }
}
