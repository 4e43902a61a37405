/**
 * MSRP analyzer limits and anomaly codes, documented in this folder's README.md. Every bound on buffered bytes or kept
 * state is one of these, checked before buffering. File data is never buffered: it goes to the file sink as it comes.
 */

export type MsrpLimits = {
  /** Start line and headers of one request or response, the blank line included. */
  maxHeaderBytes: number;
  /** A text message (all its chunks) kept for the messages table; more is cut (`msrp_message_too_large`). */
  maxMessageBytes: number;
  /** Chunks of one message (RFC 4975 §5.1 chunking); more: the message is given up (`msrp_chunks_exceeded`). */
  maxChunks: number;
  /** Messages being reassembled at once per direction (chunks ended by `+`); more: the oldest is given up. */
  maxPendingMessages: number;
  /** Requests remembered per direction to match their responses. */
  maxTransactions: number;
  /** Invalid frames after which the flow is given up. */
  maxInvalidFrames: number;
};

export const MSRP_LIMITS: Readonly<MsrpLimits> = Object.freeze({
  maxHeaderBytes: 16384,
  maxMessageBytes: 1 << 20,
  maxChunks: 4096,
  maxPendingMessages: 16,
  maxTransactions: 256,
  maxInvalidFrames: 20,
});

export const MSRP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  msrp_invalid_frame: 'Bytes that are not an MSRP request or response (bad start line, header block over maxHeaderBytes, a SEND without Message-ID): skipped up to the next start line.',
  msrp_byte_range_invalid: 'A Byte-Range that is not `start-end/total`, starts at 0, overlaps bytes already seen, or disagrees with the chunk: the overlapping bytes are not used twice.',
  msrp_message_too_large: 'A text message longer than maxMessageBytes: the row holds the first maxMessageBytes bytes.',
  msrp_chunks_exceeded: 'A message in more chunks than maxChunks: given up (a file is closed incomplete).',
  msrp_pending_exceeded: 'More messages being reassembled than maxPendingMessages: the oldest is given up.',
  msrp_message_incomplete: 'A chunked text message whose last chunk never came (flow ended, or a gap): not recorded.',
  msrp_cpim_malformed: 'A message/cpim body without its header/MIME/content structure (RFC 3862): kept as it is.',
  msrp_violation: 'More than maxInvalidFrames invalid frames after confirmation: the rest of the flow is not parsed (reported by the dispatcher).',
});
