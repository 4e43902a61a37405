/**
 * Is one datagram RTP or RTCP? RFC 3550 §5.1 (RTP fixed header), §6.4–6.7 and Appendix A.1/A.2 (validity checks),
 * RFC 3551 (payload types: 0–34 static, 96–127 dynamic), RFC 5761 §4 (a second byte of 192–223 is RTCP when RTP and
 * RTCP share a port), RFC 4585 / RFC 3611 (RTCP feedback 205–206 and XR 207), RFC 7983 §7 (first-byte demultiplexing
 * of STUN 0–3 and DTLS 20–63 on a media port). SRTP (RFC 3711) keeps the RTP header in clear and SRTCP the first
 * RTCP header: they pass the same checks. Pure; no allocation.
 */

export const enum Kind {
  /** Not RTP, RTCP, STUN or DTLS. */
  None = 0,
  Rtp = 1,
  Rtcp = 2,
  /** STUN (ICE connectivity checks on the media 5-tuple): neither evidence for nor against. */
  Stun = 3,
  /** DTLS (the DTLS-SRTP key exchange): the media that follows is SRTP. */
  Dtls = 4,
}

/** Fixed RTP header bytes (RFC 3550 §5.1). */
export const RTP_HEADER = 12;
const STUN_COOKIE = 0x2112a442;

/** A payload type RFC 3551 assigns (0–34) or leaves dynamic (96–127): 35–95 are unassigned or reserved for RTCP. */
export function sanePayloadType(pt: number): boolean {
  return pt <= 34 || pt >= 96;
}

/**
 * Classify `data[off, off + len)`. RTP: version 2, a sane payload type, the CSRC list, header extension and padding
 * inside the datagram. RTCP: version 2, packet type 200–207, and the compound packet's lengths (32-bit words less
 * one) walking to the end of the datagram exactly; with SRTCP only the first header is clear, so a first packet
 * that fits with at least 4 bytes left (the E flag and SRTCP index, then the tag) is taken too.
 */
export function classify(data: Uint8Array, off: number, len: number): Kind {
  if (len < 4) return Kind.None;
  const b0 = data[off]!;
  if (b0 <= 3) {
    // STUN: a 20-byte header with the magic cookie (RFC 8489 §5); classic RFC 3489 messages are not expected here.
    if (len < 20) return Kind.None;
    const cookie = ((data[off + 4]! << 24) | (data[off + 5]! << 16) | (data[off + 6]! << 8) | data[off + 7]!) >>> 0;
    const mlen = (data[off + 2]! << 8) | data[off + 3]!;
    return cookie === STUN_COOKIE && 20 + mlen === len ? Kind.Stun : Kind.None;
  }
  if (b0 >= 20 && b0 <= 25) {
    // DTLS record: version 0xFEFF or 0xFEFD, 13-byte header, the record inside the datagram.
    if (len < 13 || data[off + 1] !== 0xfe || (data[off + 2] !== 0xff && data[off + 2] !== 0xfd)) return Kind.None;
    return 13 + ((data[off + 11]! << 8) | data[off + 12]!) <= len ? Kind.Dtls : Kind.None;
  }
  if (b0 >> 6 !== 2) return Kind.None;
  const b1 = data[off + 1]!;
  if (b1 >= 192 && b1 <= 223) return rtcp(data, off, len);
  if (len < RTP_HEADER) return Kind.None;
  if (!sanePayloadType(b1 & 0x7f)) return Kind.None;
  let h = RTP_HEADER + (b0 & 0x0f) * 4;
  if (h > len) return Kind.None;
  if (b0 & 0x10) {
    // Header extension (§5.3.1): 16-bit profile, 16-bit length in 32-bit words.
    if (h + 4 > len) return Kind.None;
    h += 4 + ((data[off + h + 2]! << 8) | data[off + h + 3]!) * 4;
    if (h > len) return Kind.None;
  }
  if (b0 & 0x20) {
    // Padding (§5.1): the last byte counts the padding bytes, itself included.
    const pad = data[off + len - 1]!;
    if (pad === 0 || h + pad > len) return Kind.None;
  }
  return Kind.Rtp;
}

function rtcp(data: Uint8Array, off: number, len: number): Kind {
  let at = 0;
  let n = 0;
  while (at + 4 <= len) {
    const b0 = data[off + at]!;
    const pt = data[off + at + 1]!;
    if (b0 >> 6 !== 2 || pt < 200 || pt > 207) break;
    // The first packet of a compound is an SR or RR (A.2); RFC 5506 reduced-size RTCP may start with feedback.
    if (n === 0 && pt !== 200 && pt !== 201 && pt < 205) return Kind.None;
    const size = (((data[off + at + 2]! << 8) | data[off + at + 3]!) + 1) * 4;
    if (at + size > len) return Kind.None;
    at += size;
    n++;
    if (at === len) return Kind.Rtcp;
  }
  // SRTCP: the first header in clear, then encrypted packets, the E flag + index (4 bytes) and the tag.
  return n >= 1 && len - at >= 4 ? Kind.Rtcp : Kind.None;
}

/** The sequence number and SSRC of an RTP datagram that `classify` accepted. */
export function rtpSeq(data: Uint8Array, off: number): number {
  return (data[off + 2]! << 8) | data[off + 3]!;
}

export function rtpSsrc(data: Uint8Array, off: number): number {
  return ((data[off + 8]! << 24) | (data[off + 9]! << 16) | (data[off + 10]! << 8) | data[off + 11]!) >>> 0;
}
