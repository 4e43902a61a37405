/**
 * Linux cooked-mode capture headers, what `tcpdump -i any` writes: LINKTYPE_LINUX_SLL (113, a 16-byte header ending
 * in the protocol) and LINKTYPE_LINUX_SLL2 (276, a 20-byte header starting with it), as described in the tcpdump.org
 * LINKTYPE registry (linktypes/LINKTYPE_LINUX_SLL.html, LINKTYPE_LINUX_SLL2.html).
 *
 * The protocol is an ethertype for most devices; values below 0x0600 are Linux ETH_P_* codes, of which only
 * ETH_P_802_2 (4: an LLC header follows) leads anywhere we decode. Netlink (ARPHRD 824) and IP-over-GRE (ARPHRD 778)
 * use the field for something else.
 */
import { anomalyIndex } from './anomalies.js';
import { Net, type DecodedPacket } from './decoded.js';
import { decodeEtherType } from './ethernet.js';
import type { DecoderState } from './state.js';

const A_TRUNCATED = anomalyIndex('sll_truncated');
const A_NON_IP = anomalyIndex('eth_non_ip');

const ETH_P_802_2 = 0x0004;
const ARPHRD_IPGRE = 778;
const ARPHRD_NETLINK = 824;

/** Decodes an SLL (v1) frame at `data[o, end)`. Same result as decodeEthernet. */
export function decodeSLL(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): number {
  // packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
  if (end - o < 16) {
    st.anomalies[A_TRUNCATED]!++;
    return -1;
  }
  const hatype = (data[o + 2]! << 8) | data[o + 3]!;
  return sllProtocol(st, data, o + 16, end, hatype, (data[o + 14]! << 8) | data[o + 15]!, out);
}

/** Decodes an SLL2 frame at `data[o, end)`. Same result as decodeEthernet. */
export function decodeSLL2(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): number {
  // protocol(2) reserved(2) interface index(4) ARPHRD type(2) packet type(1) address length(1) address(8)
  if (end - o < 20) {
    st.anomalies[A_TRUNCATED]!++;
    return -1;
  }
  const hatype = (data[o + 8]! << 8) | data[o + 9]!;
  return sllProtocol(st, data, o + 20, end, hatype, (data[o]! << 8) | data[o + 1]!, out);
}

function sllProtocol(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  end: number,
  hatype: number,
  proto: number,
  out: DecodedPacket,
): number {
  if (proto >= 0x0600 && hatype !== ARPHRD_NETLINK && hatype !== ARPHRD_IPGRE) {
    return decodeEtherType(st, data, o, end, proto, out);
  }
  // decodeEtherType reads a type ≤ 1500 as "an 802.2 LLC header follows", which is what ETH_P_802_2 says.
  if (proto === ETH_P_802_2 && hatype !== ARPHRD_NETLINK) return decodeEtherType(st, data, o, end, 0, out);
  st.anomalies[A_NON_IP]!++;
  out.net = Net.Other;
  return -1;
}
