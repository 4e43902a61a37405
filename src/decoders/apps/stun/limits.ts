/** Named limits and anomaly codes of the `stun` analyzer (README.md explains each). */

export const STUN_LIMITS = {
  /** Datagrams (UDP) or messages (TCP) looked at per flow, STUN and media together; then done(). */
  maxDatagrams: 64,
  /** Media datagrams (RTP, RTCP, DTLS, ChannelData) counted once the app is known; then done(). */
  mediaDatagrams: 8,
  /** Attributes read per message. */
  maxAttributes: 64,
  /** Bytes of REALM read as text. */
  maxTextBytes: 256,
  /** Largest STUN message or RFC 4571 frame over TCP accepted (buffered until complete). */
  maxTcpFrameBytes: 8192,
};

export const STUN_ANOMALIES: Readonly<Record<string, string>> = {
  stun_attribute_truncated: 'An attribute header or value runs past the end of its message (the rest of the message is not read).',
  stun_too_many_attributes: 'A message has more than maxAttributes attributes (the rest is not read).',
  stun_bad_fingerprint: 'A FINGERPRINT attribute is not 4 bytes or does not match the CRC-32 of the message (RFC 8489 §14.7).',
  stun_fingerprint_not_last: 'A FINGERPRINT attribute is followed by other attributes (it must be last).',
  stun_length_mismatch: 'A message with the magic cookie whose header length disagrees with the datagram or frame size.',
  stun_frame_too_large: 'A STUN-over-TCP frame longer than maxTcpFrameBytes: the session stops.',
};
