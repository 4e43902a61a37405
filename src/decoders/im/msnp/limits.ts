/**
 * MSNP analyzer limits and anomaly codes, declared once for both descriptors (`msnp`, `msnp-ftp`) and documented in
 * this folder's README.md. Every bound on buffered bytes or kept state is one of these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type MsnpLimits = {
  /** Longest command line, CRLF included. Lines are short, but USR SSO/TWN tickets run to a few KiB. */
  maxLineBytes: number;
  /** Largest payload of a payload command (MSG, ADL, UBX, GCF…). MSG is at most 1664 bytes; ADL at login is bigger. */
  maxPayloadBytes: number;
  /** Invalid lines tolerated after confirmation before the flow is given up. */
  maxInvalidLines: number;
  /** Switchboard participants kept (IRO, JOI). */
  maxParticipants: number;
  /** MSNFTP invitations remembered by cookie, waiting for their ACCEPT. */
  maxPendingInvites: number;
  /** Seconds of capture time an MSNFTP connection is expected after the ACCEPT that announced it. */
  inviteTtlSeconds: number;
  /** Bytes of one MSNSLP message gathered from P2P chunks. */
  maxSlpBytes: number;
  /** MSNSLP messages being gathered at once (per flow). */
  maxPendingSlp: number;
  /** Contact groups remembered (LSG) to name the groups of LST entries. */
  maxGroups: number;
  /** Longest HTTP header block of an HTTP-gateway request or response. */
  maxGatewayHeadBytes: number;
  /** MSNP sessions tunnelled through one HTTP-gateway connection (NS and SB sessions by SessionID). */
  maxGatewaySessions: number;
  /** MSNSLP file transfers whose P2P data is being reassembled at once (per flow). */
  maxP2pFiles: number;
  /** Bytes of P2P file data held because they came before a missing earlier chunk (per flow). */
  maxP2pHeldBytes: number;
};

export const MSNP_LIMITS: Readonly<MsnpLimits> = Object.freeze({
  maxLineBytes: 16384,
  maxPayloadBytes: 262144,
  maxInvalidLines: 20,
  maxParticipants: 64,
  maxPendingInvites: 32,
  inviteTtlSeconds: 300,
  maxSlpBytes: 65536,
  maxPendingSlp: 8,
  maxGroups: 256,
  maxGatewayHeadBytes: 16384,
  maxGatewaySessions: 32,
  maxP2pFiles: 16,
  maxP2pHeldBytes: 1048576,
});

export type MsnFtpLimits = {
  /** Longest MSNFTP command line (VER, USR, FIL, TFR, BYE), CRLF included. */
  maxFtpLineBytes: number;
};

export const MSNFTP_LIMITS: Readonly<MsnFtpLimits> = Object.freeze({
  maxFtpLineBytes: 1024,
});

export const MSNP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  msnp_line_size_exceeded: 'A command line longer than maxLineBytes: skipped up to the next line end.',
  msnp_invalid_line: 'After confirmation, a line that is not an MSNP command (not 3 upper-case letters or a 3-digit error code): skipped.',
  msnp_violation: 'More than maxInvalidLines invalid lines after confirmation: the rest of the flow is not parsed.',
  msnp_payload_size_exceeded: 'A payload command announcing more than maxPayloadBytes: its payload was skipped unread.',
  msnp_payload_malformed: 'An MSG payload without its MIME header block, or a payload command whose length is not a number.',
  msnp_invite_malformed: 'A text/x-msmsgsinvite invitation with a bad size, address or port.',
  msnp_invites_exceeded: 'More MSNFTP invitations waiting for an answer than maxPendingInvites: the oldest is forgotten.',
  msnp_participants_exceeded: 'More switchboard participants than maxParticipants: later ones are not kept.',
  msnp_groups_exceeded: 'More contact groups than maxGroups: later ones are not kept.',
  msnp_slp_malformed: 'An application/x-msnmsgrp2p message too short for its binary header, or an MSNSLP INVITE whose file context cannot be read.',
  msnp_slp_exceeded: 'An MSNSLP message longer than maxSlpBytes, or more than maxPendingSlp being gathered: dropped.',
  msnp_gateway_framing: 'HTTP gateway: the HTTP framing was lost (bad request or status line, header block over maxGatewayHeadBytes, bad Content-Length or chunk): resynchronised at the next message.',
  msnp_gateway_not_msnp: 'HTTP gateway: a request not to /gateway/gateway.dll, or a 200 response without the gateway headers, on a gateway connection: its body is not parsed.',
  msnp_gateway_error: 'HTTP gateway: the gateway answered with an error status (its body is not parsed).',
  msnp_gateway_body_invalid: 'HTTP gateway: the bodies of one tunnelled session are not MSNP: that session is not parsed further.',
  msnp_gateway_sessions_exceeded: 'HTTP gateway: more tunnelled sessions than maxGatewaySessions: later ones are not parsed.',
  msnp_p2p_data_invalid: 'P2P file data whose offset and length run past its total size, or whose total size differs from the offer: the excess is not part of the file.',
  msnp_p2p_exceeded: 'More P2P file transfers than maxP2pFiles, or out-of-order data over maxP2pHeldBytes: the transfer (or the held data) is given up.',
});

export const MSNFTP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  msnp_ftp_no_invite: 'An MSNFTP connection without the invitation that announced it (no expected context): not analysed.',
  msnp_ftp_line_size_exceeded: 'An MSNFTP command line longer than maxFtpLineBytes: skipped up to the next line end.',
  msnp_ftp_block_invalid: 'An MSNFTP data block header whose first byte is neither 0 (data) nor 1 (end): the rest is not parsed.',
  msnp_ftp_size_exceeded: 'The sender sent more bytes than FIL announced: the excess is not part of the file.',
});
