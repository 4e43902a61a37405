/**
 * PPP framings, by LINKTYPE (tcpdump.org registry):
 * - LINKTYPE_PPP (9): PPP (RFC 1661), the HDLC address/control bytes 0xff 0x03 (RFC 1662) present or not, and the
 *   protocol field possibly compressed to one byte (Protocol-Field-Compression, RFC 1661 §6.5);
 * - LINKTYPE_PPP_HDLC (50, tcpdump's PPP_SERIAL): PPP in HDLC-like framing (RFC 1662), or Cisco HDLC (RFC 1547
 *   §4.3.1: address 0x0f/0x8f, control 0x00, then an ethertype);
 * - LINKTYPE_PPP_ETHER (51): a PPPoE header (RFC 2516 §4) without Ethernet; also the Ethernet 0x8864 payload.
 */
import { anomalyIndex } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { decodeEtherType } from './ethernet.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, type DecoderState } from './state.js';

const A_PPP_TRUNCATED = anomalyIndex('ppp_truncated');
const A_PPP_NON_IP = anomalyIndex('ppp_non_ip');
const A_PPPOE_TRUNCATED = anomalyIndex('pppoe_truncated');
const A_PPPOE_BAD_VERSION = anomalyIndex('pppoe_bad_version');

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
/** PPPoE version 1, type 1 (RFC 2516 §4: both fields MUST be 1). */
const PPPOE_VER_TYPE = 0x11;

/**
 * Decodes a PPP frame at `data[o, end)`. `hdlc` allows Cisco HDLC (LINKTYPE_PPP_HDLC only). Returns the offset of the
 * IP header with `out.net` set to IPv4/IPv6, or -1 with `out.net` saying what it carries.
 */
export function decodePPP(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  end: number,
  out: DecodedPacket,
  hdlc: boolean,
): number {
  if (end - o < 1) {
    st.anomalies[A_PPP_TRUNCATED]!++;
    return -1;
  }
  let b = data[o]!;
  // 0xff cannot start a protocol field (its low bit would make it a 1-byte protocol 0xff, which is not assigned), so
  // the address/control bytes are recognised unambiguously.
  if (b === 0xff) {
    if (end - o < 3) {
      st.anomalies[A_PPP_TRUNCATED]!++;
      return -1;
    }
    if (data[o + 1] !== 0x03) {
      // An address without the UI control byte: not PPP as RFC 1662 frames it.
      st.anomalies[A_PPP_NON_IP]!++;
      out.net = Net.Other;
      return -1;
    }
    o += 2;
    b = data[o]!;
  } else if (hdlc && (b === 0x0f || b === 0x8f)) {
    // Cisco HDLC: unicast/broadcast address, control 0, ethertype.
    if (end - o < 4) {
      st.anomalies[A_PPP_TRUNCATED]!++;
      return -1;
    }
    return decodeEtherType(st, data, o + 4, end, (data[o + 2]! << 8) | data[o + 3]!, out);
  }
  let proto: number;
  if ((b & 1) !== 0) {
    // Protocol numbers have an odd low byte and an even high byte: an odd first byte is a compressed field.
    proto = b;
    o += 1;
  } else {
    if (end - o < 2) {
      st.anomalies[A_PPP_TRUNCATED]!++;
      return -1;
    }
    proto = (b << 8) | data[o + 1]!;
    o += 2;
  }
  out.pppProtocol = proto;
  if (proto === PPP_IPV4) {
    out.etherType = ETHERTYPE_IPV4;
    out.net = Net.IPv4;
    return o;
  }
  if (proto === PPP_IPV6) {
    out.etherType = ETHERTYPE_IPV6;
    out.net = Net.IPv6;
    return o;
  }
  // LCP, IPCP, CHAP…: the link's own control traffic.
  st.anomalies[A_PPP_NON_IP]!++;
  out.net = Net.Other;
  return -1;
}

/**
 * Decodes a PPPoE header at `data[o, end)` (RFC 2516 §4: ver/type, code, session id, length) and the PPP frame of a
 * session packet (code 0). Discovery packets (PADI, PADO, …; code ≠ 0) are Net.Other. Same result as decodePPP.
 */
export function decodePPPoE(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): number {
  if (end - o < 6) {
    st.anomalies[A_PPPOE_TRUNCATED]!++;
    return -1;
  }
  if (data[o] !== PPPOE_VER_TYPE) {
    st.anomalies[A_PPPOE_BAD_VERSION]!++;
    return -1;
  }
  out.pppoeSession = (data[o + 2]! << 8) | data[o + 3]!;
  if (data[o + 1] !== 0) {
    out.net = Net.Other;
    return -1;
  }
  // The length field is not used to trim: the IP header's own length does that, and ignores Ethernet padding.
  return decodePPP(st, data, o + 6, end, out, false);
}
