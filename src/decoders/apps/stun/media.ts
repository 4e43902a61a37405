/**
 * What follows STUN on the same 5-tuple: the first byte demultiplexes (RFC 7983 §7, updated by RFC 9443): 0-3 STUN,
 * 16-19 ZRTP, 20-63 DTLS, 64-79 TURN ChannelData, 128-191 RTP and RTCP (RFC 5761 §4: a second byte of 192-223 is
 * RTCP). Each test checks more than the first byte, so that stray bytes are not counted as media.
 */

export const enum Media {
  None = 0,
  Stun = 1,
  Dtls = 2,
  Rtp = 3,
  Rtcp = 4,
  Channel = 5,
}

/** Classify one datagram (or TCP frame) `data[off, off + len)`. */
export function classifyMedia(data: Uint8Array, off: number, len: number): Media {
  if (len < 4) return Media.None;
  const b0 = data[off]!;
  if (b0 <= 3) return Media.Stun;
  if (b0 >= 20 && b0 <= 63) {
    // DTLS record: content type 20-23 (or 25 ACK), version 0xFEFF (1.0) or 0xFEFD (1.2; 1.3 records say 1.2), 13-byte header.
    if (len < 13 || b0 > 25 || data[off + 1] !== 0xfe || (data[off + 2] !== 0xff && data[off + 2] !== 0xfd)) return Media.None;
    const rlen = (data[off + 11]! << 8) | data[off + 12]!;
    return 13 + rlen <= len ? Media.Dtls : Media.None;
  }
  if (b0 >= 64 && b0 <= 79) {
    // ChannelData (RFC 8656 §12.4): channel 0x4000-0x4FFF, length of the application data.
    const clen = (data[off + 2]! << 8) | data[off + 3]!;
    return 4 + clen <= len ? Media.Channel : Media.None;
  }
  if (b0 >= 128 && b0 <= 191) {
    const pt = data[off + 1]!;
    if (pt >= 192 && pt <= 223) {
      // RTCP: length in 32-bit words less one; compound packets may follow (SRTCP adds an index and a tag).
      const words = (data[off + 2]! << 8) | data[off + 3]!;
      return (words + 1) * 4 <= len ? Media.Rtcp : Media.None;
    }
    return len >= 12 ? Media.Rtp : Media.None;
  }
  return Media.None;
}
