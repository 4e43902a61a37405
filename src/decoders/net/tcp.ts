/**
 * TCP headers (RFC 9293 §3.1): ports, sequence and acknowledgment numbers (unsigned 32-bit), data offset, the nine
 * flags including NS (RFC 3540), window (as on the wire: the scale factor is only known from the SYNs), and the
 * options MSS (2, RFC 9293), window scale (3, RFC 7323), SACK-permitted (4) and SACK (5) (RFC 2018), timestamps
 * (8, RFC 7323), each checked for its fixed length. The checksum is not validated (offload makes it unreliable in
 * captures taken on a host).
 */
import { anomalyIndex } from './anomalies.js';
import { L4, type DecodedPacket } from './decoded.js';
import type { DecoderState } from './state.js';
import { setPayload } from './transport.js';

const A_TRUNCATED = anomalyIndex('tcp_truncated');
const A_BAD_HLEN = anomalyIndex('tcp_bad_header_length');
const A_BAD_OPTION = anomalyIndex('tcp_bad_option');

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const OPT_SACK_PERMITTED = 4;
const OPT_SACK = 5;
const OPT_TIMESTAMPS = 8;

/** Decodes the TCP segment at `data[o, capEnd)` announced as `wire` bytes by the IP layer. */
export function decodeTCP(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  capEnd: number,
  wire: number,
  out: DecodedPacket,
): void {
  if (capEnd - o < 20 || wire < 20) {
    st.anomalies[A_TRUNCATED]!++;
    return;
  }
  const b12 = data[o + 12]!;
  const hlen = (b12 >> 4) << 2;
  if (hlen < 20 || hlen > wire) {
    st.anomalies[A_BAD_HLEN]!++;
    return;
  }
  out.l4 = L4.TCP;
  out.srcPort = (data[o]! << 8) | data[o + 1]!;
  out.dstPort = (data[o + 2]! << 8) | data[o + 3]!;
  out.tcpSeq = ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
  out.tcpAck = ((data[o + 8]! << 24) | (data[o + 9]! << 16) | (data[o + 10]! << 8) | data[o + 11]!) >>> 0;
  out.tcpFlags = ((b12 & 1) << 8) | data[o + 13]!;
  out.tcpWindow = (data[o + 14]! << 8) | data[o + 15]!;
  const hEnd = o + hlen;
  if (hEnd > capEnd) {
    // The snap length cut the options: read what is there; nothing of the payload is.
    st.anomalies[A_TRUNCATED]!++;
    parseOptions(st.anomalies, data, o + 20, hEnd, capEnd, out);
    out.payloadOffset = capEnd;
    out.payloadWireLength = wire - hlen;
    return;
  }
  if (hlen > 20) parseOptions(st.anomalies, data, o + 20, hEnd, hEnd, out);
  setPayload(st, hEnd, capEnd, wire - hlen, out);
}

/** Options in `data[p, hEnd)`, of which `data[p, lim)` is captured. */
function parseOptions(
  an: Uint32Array,
  data: Uint8Array,
  p: number,
  hEnd: number,
  lim: number,
  out: DecodedPacket,
): void {
  while (p < lim) {
    const kind = data[p]!;
    if (kind === OPT_EOL) return;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (hEnd - p < 2) {
      an[A_BAD_OPTION]!++;
      return;
    }
    if (lim - p < 2) return;
    const len = data[p + 1]!;
    if (len < 2 || len > hEnd - p) {
      an[A_BAD_OPTION]!++;
      return;
    }
    if (len > lim - p) return;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) out.tcpMss = (data[p + 2]! << 8) | data[p + 3]!;
        else an[A_BAD_OPTION]!++;
        break;
      case OPT_WSCALE:
        if (len === 3) out.tcpWscale = data[p + 2]!;
        else an[A_BAD_OPTION]!++;
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) out.tcpSackPermitted = true;
        else an[A_BAD_OPTION]!++;
        break;
      case OPT_SACK:
        // One to four left/right edge pairs.
        if (len < 10 || (len - 2) % 8 !== 0) an[A_BAD_OPTION]!++;
        break;
      case OPT_TIMESTAMPS:
        if (len === 10) {
          out.tcpTsVal = ((data[p + 2]! << 24) | (data[p + 3]! << 16) | (data[p + 4]! << 8) | data[p + 5]!) >>> 0;
          out.tcpTsEcr = ((data[p + 6]! << 24) | (data[p + 7]! << 16) | (data[p + 8]! << 8) | data[p + 9]!) >>> 0;
        } else an[A_BAD_OPTION]!++;
        break;
      default:
        break;
    }
    p += len;
  }
}
