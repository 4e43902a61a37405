/**
 * SIP analyzer limits and anomaly codes, documented in this folder's README.md. Every bound on buffered bytes or kept
 * state is one of these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type SipLimits = {
  /** Longest start line + header section, the blank line included (TCP: buffered until complete). */
  maxHeaderBytes: number;
  /** Longest body kept; a longer one is cut (truncated row + `sip_body_too_large`) and the rest skipped. */
  maxBodyBytes: number;
  /** Via entries per message before `sip_path_too_long` (Zeek reports long request/response paths too). */
  maxViaEntries: number;
  /** Requests remembered per direction to match responses (and to drop UDP retransmissions). */
  maxTransactions: number;
  /** Invalid messages after which the flow is given up (rejected before confirmation, `sip_violation` after). */
  maxInvalidMessages: number;
  /** Seconds an MSRP connection announced in SDP stays expected. */
  msrpTtlSeconds: number;
  /** MSRP connections announced per flow (each SDP path is one). */
  maxMsrpExpects: number;
  /** Seconds an RTP or RTCP flow announced in SDP stays expected. */
  rtpTtlSeconds: number;
  /** RTP and RTCP flows announced per flow (each call's address and port is one; the same one again is not counted). */
  maxRtpExpects: number;
};

export const SIP_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxHeaderBytes: 32768,
  maxBodyBytes: 262144,
  maxViaEntries: 8,
  maxTransactions: 256,
  maxInvalidMessages: 20,
  msrpTtlSeconds: 300,
  maxMsrpExpects: 32,
  rtpTtlSeconds: 300,
  maxRtpExpects: 256,
});

export const SIP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  sip_junk_before_request: 'Bytes that are neither a SIP start line nor keep-alive CR/LF before a message (Zeek: sip_junk_before_request); skipped.',
  sip_invalid_message: 'A message whose start line or headers are not SIP (TCP: skipped up to the next start line; UDP: the datagram is skipped).',
  sip_bad_content_length: 'A Content-Length that is not a decimal number (Zeek: invalid_SIP_request_body_len / _response_body_len): UDP takes the rest of the datagram, TCP takes no body.',
  sip_content_length_missing: 'A message over TCP without Content-Length (RFC 3261 §18.3 requires it): taken as 0.',
  sip_body_truncated: 'A datagram shorter than its Content-Length: the body is the rest of the datagram.',
  sip_header_too_large: 'A start line and headers longer than maxHeaderBytes: the rest of that direction is skipped.',
  sip_body_too_large: 'A body longer than maxBodyBytes: the row has the first maxBodyBytes bytes, the rest is skipped.',
  sip_path_too_long: 'More Via entries than maxViaEntries in one message (Zeek: sip_max_request/response_path_length_exceeded).',
  sip_transactions_exceeded: 'More requests pending than maxTransactions: the oldest are forgotten (their responses will not confirm).',
  sip_msrp_expects_exceeded: 'More MSRP connections announced than maxMsrpExpects: later ones are not expected.',
  sip_rtp_expects_exceeded: 'More RTP/RTCP flows announced in SDP than maxRtpExpects: later ones are not expected.',
  sip_cpim_malformed: 'A message/cpim body without its header/MIME/content structure (RFC 3862): the whole body is kept as it is.',
  sip_violation: 'More than maxInvalidMessages invalid messages after confirmation: the rest of the flow is not parsed (reported by the dispatcher).',
});
