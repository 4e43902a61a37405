/**
 * IPv6 headers (RFC 8200 §3) and the extension header chain (RFC 8200 §4): hop-by-hop options (0), routing (43),
 * destination options (60), mobility (135, RFC 6275), HIP (139, RFC 7401) and shim6 (140, RFC 5533) are skipped by
 * their length in 8-byte units; AH (51, RFC 4302) by its length in 4-byte units; the Fragment header (44, RFC 8200
 * §4.5) sends the packet to the reassembly table, except atomic fragments (offset 0, M clear; RFC 6946) which are
 * decoded in place; no next header (59) ends the packet. The chain is bounded by MAX_IPV6_EXT_HEADERS.
 *
 * A payload length of 0 means a jumbogram (RFC 2675) when the hop-by-hop header carries a Jumbo Payload option;
 * otherwise it is what segmentation offload leaves in captures, and the captured length is used.
 */
import { anomalyIndex } from './anomalies.js';
import { L4, type DecodedPacket } from './decoded.js';
import { FRAG_HELD } from './fragments.js';
import { MAX_IPV6_EXT_HEADERS, type DecoderState } from './state.js';
import { decodeTransport } from './transport.js';

const A_BAD_VERSION = anomalyIndex('ip_bad_version');
const A_TRUNCATED = anomalyIndex('ipv6_truncated');
const A_BAD_PLEN = anomalyIndex('ipv6_bad_payload_length');
const A_ZERO_PLEN = anomalyIndex('ipv6_zero_payload_length');
const A_EXT_TRUNCATED = anomalyIndex('ipv6_ext_truncated');
const A_EXT_TOO_MANY = anomalyIndex('ipv6_ext_too_many');
const A_FRAG_TOO_LARGE = anomalyIndex('ipv6_frag_too_large');
const A_PAYLOAD_TRUNCATED = anomalyIndex('payload_truncated');

const NH_HOP_BY_HOP = 0;
const NH_ROUTING = 43;
const NH_FRAGMENT = 44;
const NH_AH = 51;
const NH_NONE = 59;
const NH_DEST_OPTS = 60;
const NH_MOBILITY = 135;
const NH_HIP = 139;
const NH_SHIM6 = 140;
/** Jumbo Payload option type (RFC 2675 §2). */
const OPT_JUMBO = 0xc2;

/**
 * Decodes the IPv6 packet at `data[o, end)` into `out` (whose `net` the caller has set), then its extension headers
 * and transport layer. On a broken header `out.ipVersion` stays 0.
 */
export function decodeIPv6(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): void {
  const an = st.anomalies;
  if (end - o < 40) {
    an[A_TRUNCATED]!++;
    return;
  }
  if (data[o]! >> 4 !== 6) {
    an[A_BAD_VERSION]!++;
    return;
  }
  const nh = data[o + 6]!;
  out.ipVersion = 6;
  out.ttl = data[o + 7]!;
  const s = out.src6;
  const d = out.dst6;
  s[0] = (data[o + 8]! << 24) | (data[o + 9]! << 16) | (data[o + 10]! << 8) | data[o + 11]!;
  s[1] = (data[o + 12]! << 24) | (data[o + 13]! << 16) | (data[o + 14]! << 8) | data[o + 15]!;
  s[2] = (data[o + 16]! << 24) | (data[o + 17]! << 16) | (data[o + 18]! << 8) | data[o + 19]!;
  s[3] = (data[o + 20]! << 24) | (data[o + 21]! << 16) | (data[o + 22]! << 8) | data[o + 23]!;
  d[0] = (data[o + 24]! << 24) | (data[o + 25]! << 16) | (data[o + 26]! << 8) | data[o + 27]!;
  d[1] = (data[o + 28]! << 24) | (data[o + 29]! << 16) | (data[o + 30]! << 8) | data[o + 31]!;
  d[2] = (data[o + 32]! << 24) | (data[o + 33]! << 16) | (data[o + 34]! << 8) | data[o + 35]!;
  d[3] = (data[o + 36]! << 24) | (data[o + 37]! << 16) | (data[o + 38]! << 8) | data[o + 39]!;

  const p = o + 40;
  let plen = (data[o + 4]! << 8) | data[o + 5]!;
  if (plen === 0 && nh !== NH_NONE) {
    plen = nh === NH_HOP_BY_HOP ? jumboLength(data, p, end) : -1;
    if (plen === -2) {
      an[A_BAD_PLEN]!++;
      return;
    }
    if (plen < 0) {
      an[A_ZERO_PLEN]!++;
      plen = end - p;
    }
  }
  let capEnd = p + plen;
  if (capEnd > end) {
    if (!st.snapCut()) an[A_BAD_PLEN]!++;
    capEnd = end;
  }
  walkExtensions(st, data, p, capEnd, p + plen, nh, 0, out);
}

/**
 * The Jumbo Payload length from the hop-by-hop header at `data[p, end)`; -1 when there is no such option (or it is
 * not captured), -2 when it is malformed (its value must exceed 65535).
 */
function jumboLength(data: Uint8Array, p: number, end: number): number {
  if (end - p < 2) return -1;
  const hEnd = p + ((data[p + 1]! + 1) << 3);
  if (hEnd > end) return -1;
  let q = p + 2;
  while (q < hEnd) {
    const t = data[q]!;
    if (t === 0) {
      q++; // Pad1
      continue;
    }
    if (hEnd - q < 2) return -1;
    const len = data[q + 1]!;
    if (t === OPT_JUMBO) {
      if (len !== 4 || hEnd - q < 6) return -2;
      const j = ((data[q + 2]! << 24) | (data[q + 3]! << 16) | (data[q + 4]! << 8) | data[q + 5]!) >>> 0;
      return j > 65535 ? j : -2;
    }
    q += 2 + len;
  }
  return -1;
}

/**
 * Walks the extension headers from `p` (next header `nh`) to the upper layer and decodes it. `capEnd` bounds the
 * captured bytes, `wireEnd` the announced ones (it may lie beyond the buffer); `count` carries the number of headers
 * seen so far, also into reassembled payloads, so nesting stays bounded.
 */
function walkExtensions(
  st: DecoderState,
  data: Uint8Array,
  p: number,
  capEnd: number,
  wireEnd: number,
  nh: number,
  count: number,
  out: DecodedPacket,
): void {
  const an = st.anomalies;
  for (;;) {
    let len: number;
    switch (nh) {
      case NH_HOP_BY_HOP:
      case NH_ROUTING:
      case NH_DEST_OPTS:
      case NH_MOBILITY:
      case NH_HIP:
      case NH_SHIM6:
        if (capEnd - p < 2) {
          an[A_EXT_TRUNCATED]!++;
          out.ipProto = nh;
          return;
        }
        len = (data[p + 1]! + 1) << 3;
        break;
      case NH_AH:
        if (capEnd - p < 2) {
          an[A_EXT_TRUNCATED]!++;
          out.ipProto = nh;
          return;
        }
        len = (data[p + 1]! + 2) << 2;
        break;
      case NH_FRAGMENT:
        if (capEnd - p < 8) {
          an[A_EXT_TRUNCATED]!++;
          out.ipProto = nh;
          return;
        }
        len = 8;
        // Offset (13 bits, 8-byte units) and M; the two reserved bits between them do not count.
        if ((((data[p + 2]! << 8) | data[p + 3]!) & 0xfff9) !== 0) {
          fragment(st, data, p, capEnd, wireEnd, count, out);
          return;
        }
        // An atomic fragment: the whole datagram, decoded in place.
        out.ipId = ((data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!) >>> 0;
        break;
      case NH_NONE:
        // Anything after "no next header" is to be ignored (RFC 8200 §4.7).
        out.ipProto = NH_NONE;
        out.l4 = L4.Other;
        out.payloadOffset = p;
        return;
      default:
        decodeTransport(st, data, p, capEnd, wireEnd - p, nh, out);
        return;
    }
    if (len > capEnd - p) {
      // The header runs past the captured bytes, or past the payload length (capEnd ≤ wireEnd).
      an[A_EXT_TRUNCATED]!++;
      out.ipProto = nh;
      return;
    }
    if (++count > MAX_IPV6_EXT_HEADERS) {
      an[A_EXT_TOO_MANY]!++;
      out.ipProto = nh;
      return;
    }
    nh = data[p]!;
    p += len;
  }
}

/** A non-atomic Fragment header at `data[p, p + 8)`: hold the fragment, or decode the datagram it completes. */
function fragment(
  st: DecoderState,
  data: Uint8Array,
  p: number,
  capEnd: number,
  wireEnd: number,
  count: number,
  out: DecodedPacket,
): void {
  const an = st.anomalies;
  const next = data[p]!;
  const offField = (data[p + 2]! << 8) | data[p + 3]!;
  const id = ((data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!) >>> 0;
  out.ipId = id;
  out.ipProto = next;
  const q = p + 8;
  const len = wireEnd - q;
  out.payloadOffset = q;
  out.payloadWireLength = len;
  out.payloadLength = capEnd - q;
  if (capEnd - q < len) {
    an[A_PAYLOAD_TRUNCATED]!++;
    return;
  }
  const fragOff = offField & 0xfff8;
  if (fragOff + len > 65535) {
    an[A_FRAG_TOO_LARGE]!++;
    return;
  }
  const frags = st.frags;
  const r = frags.add6(out.src6, out.dst6, id, next, data, q, len, fragOff, (offField & 1) !== 0, st.now());
  if (r >= 0) {
    out.reassembled = true;
    out.buf = frags.buf;
    walkExtensions(st, frags.buf, 0, r, r, frags.nextHeader, count + 1, out);
  } else if (r === FRAG_HELD) {
    out.fragmentHeld = true;
  }
}
