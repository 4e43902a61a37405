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
});

export const MSNFTP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  msnp_ftp_no_invite: 'An MSNFTP connection without the invitation that announced it (no expected context): not analysed.',
  msnp_ftp_line_size_exceeded: 'An MSNFTP command line longer than maxFtpLineBytes: skipped up to the next line end.',
  msnp_ftp_block_invalid: 'An MSNFTP data block header whose first byte is neither 0 (data) nor 1 (end): the rest is not parsed.',
  msnp_ftp_size_exceeded: 'The sender sent more bytes than FIL announced: the excess is not part of the file.',
});
