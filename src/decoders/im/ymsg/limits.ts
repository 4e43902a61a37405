/**
 * YMSG analyzer limits and anomaly codes, declared once for the descriptor and documented in this folder's README.md.
 * The packet size itself needs no limit: the header's body length is 16 bits (at most 65535 + 20 bytes buffered).
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type YmsgLimits = {
  /** Key/value pairs read from one packet; the rest of the packet is ignored (libpurple has no bound). */
  maxPairs: number;
  /** Contacts reported per flow (buddy lists are re-sent on every login; this bounds the bookkeeping). */
  maxContacts: number;
  /** Bytes that are not YMSG tolerated after confirmation (skipped to the next `YMSG` magic) before the flow is given up. */
  maxJunkBytes: number;
};

export const YMSG_LIMITS: Readonly<YmsgLimits> = Object.freeze({
  maxPairs: 4096,
  maxContacts: 10000,
  maxJunkBytes: 65536,
});

export const YMSG_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  ymsg_junk: 'After confirmation, bytes that do not start a YMSG packet: skipped up to the next `YMSG` magic.',
  ymsg_violation: 'More than maxJunkBytes bytes that are not YMSG after confirmation: the rest of the flow is not parsed.',
  ymsg_bad_key: 'A key/value pair whose key is not an ASCII decimal number, or a body that ends inside a key: the rest of the body is ignored.',
  ymsg_pairs_exceeded: 'A packet with more key/value pairs than maxPairs: the rest of its body is ignored.',
  ymsg_contacts_exceeded: 'More contacts on the flow than maxContacts: later ones are not reported.',
  ymsg_contacts_unowned: 'Buddy-list entries seen on a flow whose own account never became known (picked up mid-stream): not reported.',
  ymsg_truncated: 'The flow ended (or a gap came) inside a YMSG packet.',
});
