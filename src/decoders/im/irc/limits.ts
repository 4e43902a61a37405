/**
 * IRC analyzer limits and anomaly codes, declared once for both descriptors (`irc`, `irc-dcc`) and documented in this
 * folder's README.md. Every bound on buffered bytes or kept state is one of these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type IrcLimits = {
  /** Longest line without its IRCv3 tags, CRLF included (RFC 1459 §2.3, RFC 2812 §2.3: 512). */
  maxLineBytes: number;
  /** Longest IRCv3 tag section, `@` and the space after it included (IRCv3 message-tags: 8191). */
  maxTagBytes: number;
  /** Invalid lines tolerated after confirmation before the flow is given up (Zeek's IRC analyzer also stops at 20). */
  maxInvalidLines: number;
  /** Seconds of capture time a DCC offer's expected connection stays valid. */
  dccTtlSeconds: number;
  /** DCC offers a flow may have pending (announced less than dccTtlSeconds ago); more are recorded but not expected. */
  maxDccOffers: number;
  /** Passive (reverse) DCC offers remembered by token, waiting for the peer's answer. */
  maxPassiveDcc: number;
  /** Nicks requested by the client that the server never confirmed (one-sided captures), kept for the accounts. */
  maxPendingNicks: number;
};

export const IRC_LIMITS: Readonly<IrcLimits> = Object.freeze({
  maxLineBytes: 512,
  maxTagBytes: 8191,
  maxInvalidLines: 20,
  dccTtlSeconds: 300,
  maxDccOffers: 32,
  maxPassiveDcc: 16,
  maxPendingNicks: 16,
});

export type DccLimits = {
  /** Longest DCC CHAT line, LF included. DCC CHAT has no 512-byte rule; this only bounds buffering. */
  maxChatLineBytes: number;
};

export const DCC_LIMITS: Readonly<DccLimits> = Object.freeze({
  maxChatLineBytes: 8192,
});

export const IRC_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  irc_line_size_exceeded: 'A line (or its IRCv3 tag section) is longer than the protocol allows (maxLineBytes, maxTagBytes): it was skipped up to the next line end.',
  irc_invalid_line: 'After confirmation, a line that is not IRC syntax (no command, a command that is neither letters nor a 3-digit numeric, a NUL byte): skipped.',
  irc_violation: 'More than maxInvalidLines invalid lines after confirmation: the rest of the flow is not parsed.',
  irc_message_malformed: 'PRIVMSG or NOTICE without a target or without text.',
  irc_names_malformed: 'RPL_NAMREPLY (353) with fewer than 3 parameters.',
  irc_dcc_malformed: 'A DCC offer with the wrong number of fields, an unterminated quoted file name or a size that is not a number.',
  irc_dcc_invalid_host: 'A DCC offer whose address is neither a 32-bit decimal, a dotted IPv4 nor an IPv6 address (or is 0 with a non-zero port).',
  irc_dcc_invalid_port: 'A DCC offer whose port is not a number from 0 to 65535.',
  irc_dcc_offers_exceeded: 'More DCC offers pending on the flow than maxDccOffers (or passive ones than maxPassiveDcc): later ones are recorded as events but no connection is expected.',
  irc_nicks_exceeded: 'More unconfirmed nicks requested than maxPendingNicks: the oldest are forgotten.',
});

export const DCC_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  irc_dcc_size_exceeded: 'A DCC SEND carried more bytes than the offer announced: the excess is not part of the file.',
  irc_dcc_line_size_exceeded: 'A DCC CHAT line longer than maxChatLineBytes: skipped up to the next line end.',
  irc_dcc_no_offer: 'A DCC connection without the offer that announced it (no expected context): not analysed.',
});
