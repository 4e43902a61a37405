/**
 * Ethernet framing: LINKTYPE_ETHERNET (1) in the tcpdump.org LINKTYPE registry. Ethernet II frames (type ≥ 0x0600)
 * and IEEE 802.3 length frames (≤ 1500) with an IEEE 802.2 LLC header, of which only SNAP (RFC 1042: AA AA 03, OUI,
 * ethertype) carries something we decode; stacked VLAN tags (IEEE 802.1Q 0x8100, 802.1ad 0x88a8, and the
 * pre-standard QinQ 0x9100); PPPoE session frames (0x8864, RFC 2516) hand over to ppp.ts.
 *
 * `decodeEtherType` is also the second half of the Linux cooked headers (sll.ts) and Cisco HDLC (ppp.ts), which carry
 * an ethertype without the MAC addresses.
 */
import { anomalyIndex } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { decodePPPoE } from './ppp.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, MAX_VLAN_TAGS, type DecoderState } from './state.js';

const A_TRUNCATED = anomalyIndex('eth_truncated');
const A_NON_IP = anomalyIndex('eth_non_ip');
const A_VLAN_DEEP = anomalyIndex('vlan_too_deep');
const A_LLC_NON_SNAP = anomalyIndex('llc_non_snap');

const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_PPPOE_DISCOVERY = 0x8863;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
/** Largest 802.3 length; 1501 … 1535 are neither lengths nor ethertypes. */
const MAX_8023_LENGTH = 1500;

/**
 * Decodes an Ethernet frame at `data[o, end)`. Returns the offset of the IP header with `out.net` set to IPv4 or IPv6,
 * or -1 with `out.net` saying what the frame carries (None when it could not be decoded).
 */
export function decodeEthernet(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): number {
  if (end - o < 14) {
    st.anomalies[A_TRUNCATED]!++;
    return -1;
  }
  return decodeEtherType(st, data, o + 14, end, (data[o + 12]! << 8) | data[o + 13]!, out);
}

/**
 * Follows `type` (an ethertype, or an 802.3 length meaning an LLC header follows) for the bytes at `o`: VLAN tags,
 * SNAP, then the network layer. Same result as decodeEthernet.
 */
export function decodeEtherType(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  end: number,
  type: number,
  out: DecodedPacket,
): number {
  // Common case first: untagged IPv4/IPv6 take no loop.
  if (type === ETHERTYPE_IPV4) {
    out.etherType = type;
    out.net = Net.IPv4;
    return o;
  }
  // Each round consumes at least 4 bytes, and tags are bounded, so this ends.
  for (;;) {
    if (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (out.vlanCount >= MAX_VLAN_TAGS) {
        st.anomalies[A_VLAN_DEEP]!++;
        return -1;
      }
      if (end - o < 4) {
        st.anomalies[A_TRUNCATED]!++;
        return -1;
      }
      // TCI: 3 bits priority, 1 bit DEI, 12 bits VLAN id.
      const vid = ((data[o]! & 0x0f) << 8) | data[o + 1]!;
      if (out.vlanCount === 0) out.vlanOuter = vid;
      else if (out.vlanCount === 1) out.vlanInner = vid;
      out.vlanCount++;
      type = (data[o + 2]! << 8) | data[o + 3]!;
      o += 4;
      continue;
    }
    if (type <= MAX_8023_LENGTH) {
      // 802.2 LLC: DSAP, SSAP, control; SNAP adds a 3-byte OUI and the ethertype.
      if (end - o < 3) {
        st.anomalies[A_TRUNCATED]!++;
        return -1;
      }
      if (data[o] !== 0xaa || data[o + 1] !== 0xaa || data[o + 2] !== 0x03) {
        // STP, NetBIOS, IPX…: real traffic, just not ours.
        st.anomalies[A_LLC_NON_SNAP]!++;
        out.net = Net.Other;
        return -1;
      }
      if (end - o < 8) {
        st.anomalies[A_TRUNCATED]!++;
        return -1;
      }
      type = (data[o + 6]! << 8) | data[o + 7]!;
      o += 8;
      // A SNAP header announcing a length would loop on garbage: it is not an ethertype.
      if (type <= MAX_8023_LENGTH) {
        st.anomalies[A_NON_IP]!++;
        out.net = Net.Other;
        return -1;
      }
      continue;
    }
    break;
  }
  out.etherType = type;
  switch (type) {
    case ETHERTYPE_IPV4:
      out.net = Net.IPv4;
      return o;
    case ETHERTYPE_IPV6:
      out.net = Net.IPv6;
      return o;
    case ETHERTYPE_PPPOE_SESSION:
      return decodePPPoE(st, data, o, end, out);
    case ETHERTYPE_ARP:
      out.net = Net.ARP;
      return -1;
    case ETHERTYPE_PPPOE_DISCOVERY:
      out.net = Net.Other;
      return -1;
    default:
      st.anomalies[A_NON_IP]!++;
      out.net = Net.Other;
      return -1;
  }
}
