/**
 * DNS analyzer limits and anomaly codes, documented in this folder's README.md. Every bound on work per message and
 * per flow is one of these.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type DnsLimits = {
  /** Answer records turned into rows (and cache entries) per message; the rest are counted in an anomaly. */
  maxAnswersPerMessage: number;
  /** Records of all sections walked per message (authority and additional records are only stepped over). */
  maxRecordsPerMessage: number;
  /** Questions read per message (mDNS queries ask several; classic DNS asks one). */
  maxQuestionsPerMessage: number;
  /** DNS messages parsed per flow (both directions); then the session stops (`done`). */
  maxMessagesPerFlow: number;
  /** Compression pointers followed while reading one name (each must point strictly backwards, so this also bounds work). */
  maxPointerJumps: number;
  /** CNAME records followed back from an address record to the name asked. */
  maxCnameChain: number;
  /** Characters of a TXT record's text kept in the `answer` column. */
  maxTextChars: number;
};

export const DNS_LIMITS: Readonly<DnsLimits> = Object.freeze({
  maxAnswersPerMessage: 64,
  maxRecordsPerMessage: 256,
  maxQuestionsPerMessage: 32,
  maxMessagesPerFlow: 1000,
  maxPointerJumps: 32,
  maxCnameChain: 16,
  maxTextChars: 200,
});

export const DNS_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  dns_name_loop: 'A name whose compression pointers loop (point into the name being read) or chain more than maxPointerJumps times.',
  dns_forward_pointer: 'A compression pointer that points at or after itself (RFC 1035 pointers refer to earlier occurrences).',
  dns_bad_pointer: 'A compression pointer into the 12-byte header.',
  dns_bad_label: 'A label type other than a plain label or a pointer (0x40 and 0x80 prefixes: extended label types, obsolete).',
  dns_name_too_long: 'A name longer than 255 bytes in wire form (RFC 1035 §2.3.4).',
  dns_truncated: 'A message that ends before its header counts or a record length say it should.',
  dns_bad_rdata: 'Record data inconsistent with its type (an A record that is not 4 bytes, a name that overruns its RDLENGTH).',
  dns_bad_header: 'A datagram or TCP message on a DNS flow whose header is not DNS (reserved opcode, impossible counts).',
  dns_tcp_length: 'A DNS-over-TCP length prefix smaller than a DNS header (12 bytes): the stream cannot be framed any more.',
  dns_answer_limit: 'More answer records in one message than maxAnswersPerMessage (or records than maxRecordsPerMessage): the rest were not read.',
  dns_message_limit: 'The flow carried more DNS messages than maxMessagesPerFlow: the rest were not parsed.',
});
