/**
 * Transport-layer dispatch by IP protocol number (IANA "Assigned Internet Protocol Numbers"): TCP (6, tcp.ts), UDP
 * (17, udp.ts), and ICMP (1, RFC 792) / ICMPv6 (58, RFC 4443), of which only type and code are read: both start with
 * type(1) code(1) checksum(2), and what follows depends on the type, so it is left as payload. Any other protocol is
 * L4.Other with the IP payload as its payload.
 */
import { anomalyIndex } from './anomalies.js';
import { L4, type DecodedPacket } from './decoded.js';
import type { DecoderState } from './state.js';
import { decodeTCP } from './tcp.js';
import { decodeUDP } from './udp.js';

const A_ICMP_TRUNCATED = anomalyIndex('icmp_truncated');
const A_PAYLOAD_TRUNCATED = anomalyIndex('payload_truncated');

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

/**
 * Decodes the transport layer at `data[o, capEnd)`: `capEnd` bounds the captured bytes, `wire` is the length the IP
 * layer announces (capEnd - o ≤ wire unless the headers lie). Sets `out.ipProto`.
 */
export function decodeTransport(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  capEnd: number,
  wire: number,
  proto: number,
  out: DecodedPacket,
): void {
  out.ipProto = proto;
  switch (proto) {
    case IPPROTO_TCP:
      decodeTCP(st, data, o, capEnd, wire, out);
      return;
    case IPPROTO_UDP:
      decodeUDP(st, data, o, capEnd, wire, out);
      return;
    case IPPROTO_ICMP:
      decodeICMP(st, data, o, capEnd, wire, L4.ICMP, out);
      return;
    case IPPROTO_ICMPV6:
      decodeICMP(st, data, o, capEnd, wire, L4.ICMPv6, out);
      return;
    default:
      out.l4 = L4.Other;
      setPayload(st, o, capEnd, wire, out);
  }
}

function decodeICMP(
  st: DecoderState,
  data: Uint8Array,
  o: number,
  capEnd: number,
  wire: number,
  kind: L4,
  out: DecodedPacket,
): void {
  if (capEnd - o < 4 || wire < 4) {
    st.anomalies[A_ICMP_TRUNCATED]!++;
    return;
  }
  out.l4 = kind;
  out.icmpType = data[o]!;
  out.icmpCode = data[o + 1]!;
  setPayload(st, o + 4, capEnd, wire - 4, out);
}

/** Sets the payload to `[o, capEnd)` announced as `wire` bytes, counting a snap-length cut. */
export function setPayload(st: DecoderState, o: number, capEnd: number, wire: number, out: DecodedPacket): void {
  let len = capEnd - o;
  if (len > wire) len = wire;
  if (len < 0) len = 0;
  out.payloadOffset = o;
  out.payloadLength = len;
  out.payloadWireLength = wire;
  if (len < wire) st.anomalies[A_PAYLOAD_TRUNCATED]!++;
}
