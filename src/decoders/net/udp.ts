/**
 * UDP headers (RFC 768): ports and length. The length must lie between 8 and the IP payload length; a shorter UDP
 * length leaves trailing bytes that are not payload, a longer or impossible one is counted and the IP payload length
 * is used instead. A length of 0 is legal on IPv6 jumbograms (RFC 2675 §4). Datagrams to or from port 2152 are
 * offered to the GTP-U decoder (gtp.ts). The checksum is not validated.
 */
import { anomalyIndex } from './anomalies.js';
import { L4, type DecodedPacket } from './decoded.js';
import { decodeGTPU, GTPU_PORT } from './gtp.js';
import type { DecoderState } from './state.js';
import { setPayload } from './transport.js';

const A_TRUNCATED = anomalyIndex('udp_truncated');
const A_BAD_LENGTH = anomalyIndex('udp_bad_length');

/** Decodes the UDP datagram at `data[o, capEnd)` announced as `wire` bytes by the IP layer. */
export function decodeUDP(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  capEnd: number,
  wire: number,
  out: DecodedPacket,
): void {
  if (capEnd - o < 8 || wire < 8) {
    st.anomalies[A_TRUNCATED]!++;
    return;
  }
  const sp = (data[o]! << 8) | data[o + 1]!;
  const dp = (data[o + 2]! << 8) | data[o + 3]!;
  let ulen = (data[o + 4]! << 8) | data[o + 5]!;
  if (ulen !== wire) {
    if (ulen === 0 && wire > 65535) ulen = wire;
    else if (ulen < 8 || ulen > wire) {
      st.anomalies[A_BAD_LENGTH]!++;
      ulen = wire;
    }
  }
  out.l4 = L4.UDP;
  out.srcPort = sp;
  out.dstPort = dp;
  const p = o + 8;
  if (capEnd > o + ulen) capEnd = o + ulen;
  setPayload(st, p, capEnd, ulen - 8, out);
  if (sp === GTPU_PORT || dp === GTPU_PORT) decodeGTPU(st, data, p, capEnd, ulen - 8, out);
}
