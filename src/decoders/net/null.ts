/**
 * BSD loopback headers, LINKTYPE_NULL (0) and LINKTYPE_LOOP (108) in the tcpdump.org LINKTYPE registry: a 4-byte
 * address family, in the byte order of the capturing host for NULL and in network byte order for LOOP. AF_INET is 2
 * everywhere; AF_INET6 differs by OS (10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS/iOS), and a capture file does
 * not say which OS wrote it, so all four are accepted.
 */
import { anomalyIndex } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6, type DecoderState } from './state.js';

const A_TRUNCATED = anomalyIndex('link_truncated');
const A_BAD_FAMILY = anomalyIndex('null_bad_family');

function isInet6(af: number): boolean {
  return af === 10 || af === 24 || af === 28 || af === 30;
}

/**
 * Decodes a NULL (`loop` false) or LOOP (`loop` true) frame at `data[o, end)`. Returns the offset of the IP header
 * with `out.net` set, or -1.
 */
export function decodeNull(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  end: number,
  out: DecodedPacket,
  loop: boolean,
): number {
  if (end - o < 4) {
    st.anomalies[A_TRUNCATED]!++;
    return -1;
  }
  const be = ((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
  // The families are small numbers, so of the two readings only the right one can be small: no ambiguity.
  const le = loop ? be : ((data[o + 3]! << 24) | (data[o + 2]! << 16) | (data[o + 1]! << 8) | data[o]!) >>> 0;
  if (be === 2 || le === 2) {
    out.etherType = ETHERTYPE_IPV4;
    out.net = Net.IPv4;
    return o + 4;
  }
  if (isInet6(be) || isInet6(le)) {
    out.etherType = ETHERTYPE_IPV6;
    out.net = Net.IPv6;
    return o + 4;
  }
  // AppleTalk, IPX, OSI…, or not a family at all.
  st.anomalies[A_BAD_FAMILY]!++;
  out.net = Net.Other;
  return -1;
}
