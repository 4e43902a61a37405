/**
 * XMPP analyzer tables: named limits with their defaults, every anomaly code the two XMPP descriptors may report, and
 * the XML namespaces the session looks for.
 *
 * References: RFC 6120 (XMPP core: streams, STARTTLS, SASL, binding, restricted XML §11.1), RFC 6121 (IM and presence,
 * roster), XEP-0045 (MUC 1.34), XEP-0047 (IBB 2.0), XEP-0054 (vcard-temp), XEP-0065 (SOCKS5 bytestreams 1.8),
 * XEP-0078 (legacy jabber:iq:auth), XEP-0085 (chat states), XEP-0096 (SI file transfer 1.3), XEP-0166/0234 (Jingle,
 * file transfer :3 to :5), XEP-0220 (server dialback), XEP-0260/0261 (Jingle S5B/IBB transports), XEP-0280 (carbons),
 * XEP-0313 (MAM results). The limits and codes are documented in this folder's README.md.
 */

/** Limits of the XML reader and the session; every one has a default here and a line in the README. */
export const XMPP_LIMITS = {
  /** Open elements at once, the stream root included: deeper elements are counted, not kept, and their stanza is dropped. */
  maxDepth: 32,
  /** Bytes of one stanza (first-level element under the stream root), markup included: large enough for 64 KiB IBB blocks and vCards with photos. */
  maxStanzaBytes: 262_144,
  /** Bytes of one markup token (start or end tag, comment, PI, DTD): a longer one is skipped without being buffered. */
  maxTagBytes: 16_384,
  /** Attributes kept per element; more are ignored. */
  maxAttributes: 64,
  /** Bytes of one attribute value; a longer value is cut at this length (on a UTF-8 boundary). */
  maxAttrLength: 4096,
  /** Elements in one stanza; a stanza with more is dropped. */
  maxStanzaElements: 4096,
  /** File offers (SI, Jingle) waiting for their stream method or data; the oldest is reported when a new one does not fit. */
  maxPendingOffers: 64,
  /** In-band bytestreams open at once on one flow. */
  maxIbbStreams: 16,
  /** Streamhosts or Jingle S5B candidates of one offer announced as expected connections. */
  maxStreamhosts: 8,
  /** Seconds of capture time an announced SOCKS5 bytestream connection is waited for. */
  s5bExpectTtl: 300,
  /** Jingle RTP candidates announced as expected media flows per XMPP flow (also the Jingle RTP sessions remembered). */
  maxRtpExpects: 64,
  /** Seconds of capture time an announced Jingle RTP candidate is waited for. */
  rtpExpectTtl: 300,
  /** MUC rooms remembered per flow (to recognise leaving one). */
  maxRooms: 256,
  /** iq ids remembered per flow while waiting for a reply (SI offers, legacy auth). */
  maxPendingIq: 256,
  /** Anomalies of one code per flow before they are only counted (one `xmpp_anomaly_limit` says so). */
  maxAnomaliesPerCode: 50,
  /** Bytes the probe reads to find the end of a stream header or a stanza's start tag before saying no. */
  probeMaxBytes: 4096,
} as const;

export type XmppLimits = { readonly [K in keyof typeof XMPP_LIMITS]: number };

export const XMPP_ANOMALIES = {
  xmpp_violation: 'The flow stopped looking like XMPP after it was confirmed (non-XML where a stream was expected).',
  xmpp_junk: 'Non-whitespace text or bytes outside any stanza (between stanzas or before the stream header).',
  xmpp_bad_stream_header: 'A stream header whose default namespace is not jabber:client, jabber:server or jabber:component:accept: not taken as evidence.',
  xmpp_dtd_forbidden: 'A DOCTYPE or other markup declaration (<!ENTITY, <!ELEMENT…): forbidden in XMPP (RFC 6120 §11.1); skipped, never expanded.',
  xmpp_restricted_xml: 'A comment or a processing instruction other than the XML declaration: forbidden in XMPP (RFC 6120 §11.1); skipped.',
  xmpp_stanza_size_exceeded: 'A stanza longer than maxStanzaBytes: dropped, parsing resumes after its end tag.',
  xmpp_tag_size_exceeded: 'A tag, comment or declaration longer than maxTagBytes: skipped; a stanza containing it is dropped.',
  xmpp_depth_exceeded: 'Elements nested deeper than maxDepth: the stanza holding them is dropped.',
  xmpp_too_many_elements: 'A stanza with more than maxStanzaElements elements: dropped.',
  xmpp_too_many_attributes: 'An element with more than maxAttributes attributes: the rest are ignored.',
  xmpp_attribute_too_long: 'An attribute value longer than maxAttrLength: cut at the limit.',
  xmpp_malformed_tag: 'A tag that is not well-formed (bad attribute syntax, "<" not starting markup): the stanza holding it is dropped when the element cannot be read.',
  xmpp_tag_mismatch: 'An end tag that does not close the innermost open element: the stanza is dropped, parsing resyncs on the matching element.',
  xmpp_unbalanced_tag: 'An end tag with no open element of that name: ignored.',
  xmpp_stream_restart_in_stanza: 'A new stream header while elements were still open: they are dropped and the new stream starts.',
  xmpp_unknown_entity: 'An entity reference other than the five predefined ones or a character reference: left as text, never expanded.',
  xmpp_bad_char_ref: 'A character reference to a code point XML does not allow (0, surrogates, beyond U+10FFFF…): replaced by U+FFFD.',
  xmpp_invalid_utf8: 'Text or an attribute that is not valid UTF-8: decoded with U+FFFD (message bodies keep the raw bytes in body_raw).',
  xmpp_sasl_bad_payload: 'A SASL exchange whose base64 or mechanism data could not be read.',
  xmpp_ibb_seq_gap: 'In-band bytestream blocks missing or out of order (expected and received sequence numbers): the file is incomplete.',
  xmpp_ibb_bad_base64: 'An in-band bytestream block that is not valid base64: counted as missing data.',
  xmpp_ibb_unknown_sid: 'In-band bytestream data for a stream whose <open> was not seen: recorded as an incomplete file.',
  xmpp_ibb_excess_data: 'In-band bytestream data beyond the announced file size: ignored.',
  xmpp_bad_streamhost: 'A SOCKS5 streamhost or Jingle candidate without a usable host or port (1–65535): not announced.',
  xmpp_rtp_expects_exceeded: 'More Jingle RTP candidates announced on the flow than maxRtpExpects: later ones are not expected.',
  xmpp_transfer_limit: 'More pending file offers or open in-band bytestreams than the limits allow: the oldest is reported early.',
  xmpp_anomaly_limit: 'An anomaly code reached maxAnomaliesPerCode on this flow: further ones of that code are not reported.',
} as const;

export const S5B_LIMITS = {
  /** Bytes a SOCKS5 greeting plus request (or method choice plus reply) may take: 257 + 262 at most by RFC 1928. */
  maxHandshakeBytes: 600,
} as const;

export const S5B_ANOMALIES = {
  // The dispatcher's code for a reject after confirmation (`<id before the dash>_violation`), shared with `xmpp`.
  xmpp_violation: 'The connection stopped looking like a SOCKS5 bytestream after it was confirmed.',
  xmpp_s5b_bad_handshake: 'A SOCKS5 greeting, request or reply that is not what XEP-0065 uses (version, command, address type).',
  xmpp_s5b_excess_data: 'Bytes after the announced file size: ignored.',
  xmpp_s5b_both_directions: 'File data in both directions of one bytestream: only the first direction is kept.',
} as const;

/** XML namespaces (RFC 6120, 6121 and the XEPs above). */
export const NS = {
  stream: 'http://etherx.jabber.org/streams',
  client: 'jabber:client',
  server: 'jabber:server',
  component: 'jabber:component:accept',
  dialback: 'jabber:server:dialback',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  roster: 'jabber:iq:roster',
  iqAuth: 'jabber:iq:auth',
  vcard: 'vcard-temp',
  nick: 'http://jabber.org/protocol/nick',
  muc: 'http://jabber.org/protocol/muc',
  mucUser: 'http://jabber.org/protocol/muc#user',
  chatstates: 'http://jabber.org/protocol/chatstates',
  xhtmlIm: 'http://jabber.org/protocol/xhtml-im',
  xhtml: 'http://www.w3.org/1999/xhtml',
  si: 'http://jabber.org/protocol/si',
  siFile: 'http://jabber.org/protocol/si/profile/file-transfer',
  featureNeg: 'http://jabber.org/protocol/feature-neg',
  xdata: 'jabber:x:data',
  ibb: 'http://jabber.org/protocol/ibb',
  bytestreams: 'http://jabber.org/protocol/bytestreams',
  jingle: 'urn:xmpp:jingle:1',
  jingleFtPrefix: 'urn:xmpp:jingle:apps:file-transfer:',
  jingleS5b: 'urn:xmpp:jingle:transports:s5b:1',
  jingleIbb: 'urn:xmpp:jingle:transports:ibb:1',
  hashesPrefix: 'urn:xmpp:hashes:',
  carbonsPrefix: 'urn:xmpp:carbons:',
  forward: 'urn:xmpp:forward:0',
  mamPrefix: 'urn:xmpp:mam:',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

/** Stanza namespaces: the stream's default namespace for c2s, s2s and component streams; '' when picked up mid-stream. */
export function isStanzaNs(ns: string): boolean {
  return ns === NS.client || ns === NS.server || ns === NS.component || ns === '';
}
