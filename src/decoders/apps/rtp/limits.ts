/** Named limits and anomaly codes of the `rtp` analyzer (README.md explains each). */

export const RTP_LIMITS = {
  /** Datagrams looked at per flow (STUN and DTLS included); then done(), or a reject when none was RTP or RTCP. */
  maxDatagrams: 16,
  /** Largest forward step of an RTP sequence number between two datagrams of one source that still counts as in order (RFC 3550 A.1 MAX_DROPOUT is 3000; a tap starts late and loses little). */
  maxSeqStep: 100,
};

export const RTP_ANOMALIES: Readonly<Record<string, string>> = {
  rtp_violation: 'A flow named as media by its signalling stopped looking like RTP after it was confirmed (reported by the dispatcher).',
  rtp_invalid_datagram: 'A datagram that is not RTP, RTCP, STUN or DTLS on a confirmed media flow (reported once per flow).',
};
