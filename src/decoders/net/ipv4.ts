/**
 * IPv4 headers (RFC 791 §3.1): version, IHL, total length, identification, flags/fragment offset, TTL, protocol,
 * addresses; options are skipped after checking that their lengths fit (RFC 791 §3.1 "Options"). The total length,
 * not the frame length, bounds the datagram, so Ethernet padding is never taken for payload. Fragments (MF set or a
 * non-zero offset) go to the reassembly table (fragments.ts). The header checksum is not validated: capture hosts with
 * checksum offload record wrong checksums on outgoing packets, and an analyzer should see what was sent anyway.
 */
import { anomalyIndex } from './anomalies.js';
import type { DecodedPacket } from './decoded.js';
import { FRAG_HELD } from './fragments.js';
import type { DecoderState } from './state.js';
import { decodeTransport } from './transport.js';

const A_BAD_VERSION = anomalyIndex('ip_bad_version');
const A_TRUNCATED = anomalyIndex('ipv4_truncated');
const A_BAD_HLEN = anomalyIndex('ipv4_bad_header_length');
const A_BAD_TOTAL = anomalyIndex('ipv4_bad_total_length');
const A_ZERO_TOTAL = anomalyIndex('ipv4_zero_total_length');
const A_EXCEEDS = anomalyIndex('ipv4_total_length_exceeds_frame');
const A_BAD_OPTION = anomalyIndex('ipv4_bad_option');
const A_FRAG_TOO_LARGE = anomalyIndex('ipv4_frag_too_large');
const A_PAYLOAD_TRUNCATED = anomalyIndex('payload_truncated');

/**
 * Decodes the IPv4 datagram at `data[o, end)` into `out` (whose `net` the caller has set), then its transport layer.
 * On a broken header `out.ipVersion` stays 0.
 */
export function decodeIPv4(st: DecoderState, data: Uint8Array, o: number, end: number, out: DecodedPacket): void {
  const an = st.anomalies;
  if (end - o < 20) {
    an[A_TRUNCATED]!++;
    return;
  }
  const b0 = data[o]!;
  if (b0 >> 4 !== 4) {
    an[A_BAD_VERSION]!++;
    return;
  }
  const ihl = (b0 & 0x0f) << 2;
  if (ihl < 20) {
    an[A_BAD_HLEN]!++;
    return;
  }
  let total = (data[o + 2]! << 8) | data[o + 3]!;
  if (total !== 0 && total < ihl) {
    an[A_BAD_TOTAL]!++;
    return;
  }
  if (end - o < ihl) {
    // Options cut by the snap length are truncation; options longer than the whole frame are a bad IHL.
    an[st.snapCut() ? A_TRUNCATED : A_BAD_HLEN]!++;
    return;
  }
  const proto = data[o + 9]!;
  const src = ((data[o + 12]! << 24) | (data[o + 13]! << 16) | (data[o + 14]! << 8) | data[o + 15]!) >>> 0;
  const dst = ((data[o + 16]! << 24) | (data[o + 17]! << 16) | (data[o + 18]! << 8) | data[o + 19]!) >>> 0;
  const id = (data[o + 4]! << 8) | data[o + 5]!;
  out.ipVersion = 4;
  out.ttl = data[o + 8]!;
  out.ipProto = proto;
  out.ipId = id;
  out.src4 = src;
  out.dst4 = dst;
  if (ihl > 20) checkOptions(an, data, o + 20, o + ihl);

  let capEnd: number;
  if (total === 0) {
    // Segmentation offload hands the capture a datagram larger than 65535 bytes and a zero length: take the frame.
    an[A_ZERO_TOTAL]!++;
    total = end - o;
    capEnd = end;
  } else {
    capEnd = o + total;
    if (capEnd > end) {
      if (!st.snapCut()) an[A_EXCEEDS]!++;
      capEnd = end;
    }
  }
  const p = o + ihl;
  const wire = total - ihl;
  // Flags (reserved, DF, MF) and the 13-bit offset in 8-byte units; only MF and the offset matter here.
  const frag = ((data[o + 6]! & 0x3f) << 8) | data[o + 7]!;
  if (frag === 0) {
    decodeTransport(st, data, p, capEnd, wire, proto, out);
    return;
  }

  out.payloadOffset = p;
  out.payloadWireLength = wire;
  out.payloadLength = capEnd - p;
  if (capEnd - p < wire) {
    // A fragment the snap length cut cannot be reassembled correctly: not kept.
    an[A_PAYLOAD_TRUNCATED]!++;
    return;
  }
  const fragOff = (frag & 0x1fff) << 3;
  if (ihl + fragOff + wire > 65535) {
    an[A_FRAG_TOO_LARGE]!++;
    return;
  }
  const frags = st.frags;
  const r = frags.add4(src, dst, proto, id, data, p, wire, fragOff, (frag & 0x2000) !== 0, st.now());
  if (r >= 0) {
    out.reassembled = true;
    out.buf = frags.buf;
    decodeTransport(st, frags.buf, 0, r, r, proto, out);
  } else if (r === FRAG_HELD) {
    out.fragmentHeld = true;
  }
}

/** Walks the options in `data[p, end)`: type-length-value except EOL (0) and NOP (1), which are one byte. */
function checkOptions(an: Uint32Array, data: Uint8Array, p: number, end: number): void {
  while (p < end) {
    const type = data[p]!;
    if (type === 0) return;
    if (type === 1) {
      p++;
      continue;
    }
    if (end - p < 2) {
      an[A_BAD_OPTION]!++;
      return;
    }
    const len = data[p + 1]!;
    if (len < 2 || len > end - p) {
      an[A_BAD_OPTION]!++;
      return;
    }
    p += len;
  }
}
