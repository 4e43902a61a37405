/**
 * Gadu-Gadu analyzer limits and anomaly codes, declared once for the descriptor and documented in this folder's
 * README.md. Every bound on buffered bytes or kept state is one of these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type GaduLimits = {
  /** Largest packet (header included) buffered and parsed; a larger one is skipped unread. GG's own largest are contact-list exports of some 10-100 KiB. */
  maxPacketBytes: number;
  /** Contacts reported per flow. */
  maxContacts: number;
  /** Longest line of a classic (GG 6/7) contact-list export or import kept across packets. */
  maxUserlistLineBytes: number;
};

export const GADU_LIMITS: Readonly<GaduLimits> = Object.freeze({
  maxPacketBytes: 262144,
  maxContacts: 10000,
  maxUserlistLineBytes: 4096,
});

export const GADU_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  gadugadu_packet_size_exceeded: 'After confirmation, a packet longer than maxPacketBytes: its bytes are skipped unread.',
  gadugadu_malformed: 'A known packet shorter than its fixed fields, or whose text offsets point outside it: what can be read is reported, the rest ignored.',
  gadugadu_desync: 'A gap in a direction: the binary stream has no marker to find the next packet, so the rest of that direction is not parsed.',
  gadugadu_truncated: 'The direction ended inside a packet.',
  gadugadu_contacts_exceeded: 'More contacts on the flow than maxContacts: later ones are not reported.',
  gadugadu_contacts_unowned: 'Contact-list entries on a flow whose own number never showed (picked up after the login): not reported.',
  gadugadu_userlist_line_exceeded: 'A contact-list line longer than maxUserlistLineBytes: skipped.',
  gadugadu_violation: 'Not Gadu-Gadu after confirmation: the rest of the flow is not parsed (from the dispatcher).',
});
