/**
 * OSCAR (AIM/ICQ), TOC and OFT analyzer limits and anomaly codes, declared once for both descriptors (`oscar`,
 * `oscar-oft`) and documented in this folder's README.md. Every bound on buffered bytes or kept state is one of
 * these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type OscarLimits = {
  /** Largest FLAP payload buffered (the field allows 65535; servers announce a maximum SNAC size of about 8 KB). */
  maxFlapBytes: number;
  /** Seconds of capture time a rendezvous offer's expected OFT connection stays valid. */
  offerTtlSeconds: number;
  /** Rendezvous offers remembered by cookie (their file name and size, for the later redirect proposals). */
  maxOffers: number;
  /** Buddy-list (SSI) groups and buddies kept while a multi-SNAC list is assembled. */
  maxSsiItems: number;
  /** Invalid FLAP headers tolerated after confirmation before the flow is given up. */
  maxInvalidFrames: number;
};

export const OSCAR_LIMITS: Readonly<OscarLimits> = Object.freeze({
  maxFlapBytes: 16384,
  offerTtlSeconds: 300,
  maxOffers: 32,
  maxSsiItems: 4096,
  maxInvalidFrames: 20,
});

export type OftLimits = {
  /** Largest OFT header accepted (256 normally; longer with long file names). */
  maxHeaderBytes: number;
};

export const OFT_LIMITS: Readonly<OftLimits> = Object.freeze({
  maxHeaderBytes: 2048,
});

export const OSCAR_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  oscar_bad_flap: 'After confirmation, bytes that do not start a FLAP frame (0x2A, channel 1 to 5): skipped up to the next plausible frame.',
  oscar_flap_size_exceeded: 'A FLAP frame longer than maxFlapBytes: skipped without being parsed.',
  oscar_violation: 'More than maxInvalidFrames invalid FLAP headers after confirmation: the rest of the flow is not parsed.',
  oscar_snac_malformed: 'A SNAC (or a TLV, user info block, message block inside it) shorter than its fields say: ignored.',
  oscar_message_malformed: 'An ICBM message whose message block or ICQ channel-4 data is cut or inconsistent.',
  oscar_charset_unknown: 'A message block with a charset other than ASCII (0), UCS-2BE (2) or ISO-8859-1 (3): decoded as ISO-8859-1, bytes kept.',
  oscar_rendezvous_malformed: 'A rendezvous (ICBM channel 2) block that is cut, or a file offer without a usable address or port.',
  oscar_offers_exceeded: 'More rendezvous offers remembered than maxOffers: the oldest is forgotten.',
  oscar_ssi_items_exceeded: 'A buddy list with more items than maxSsiItems: the rest are not kept.',
  oscar_toc_malformed: 'A TOC command or server message without the fields it needs.',
});

export const OFT_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  oscar_oft_bad_header: 'A connection handed to OFT whose bytes are not an OFT2 header (or a header longer than maxHeaderBytes): not analysed further.',
  oscar_oft_resume: 'A resumed transfer (OFT 0x0106): the first bytes of the file were sent earlier and are missing here.',
  oscar_oft_size_exceeded: 'More bytes followed than the OFT header announced, and they are not an OFT header.',
  oscar_violation: 'The OFT connection stopped making sense after confirmation: the rest is not parsed.',
});
