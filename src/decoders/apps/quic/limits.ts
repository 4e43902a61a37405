/**
 * QUIC: the named limits and anomaly codes of the `quic` descriptor (documented in README.md).
 */

export const QUIC_LIMITS = {
  /** Bytes of CRYPTO stream kept from the client's Initial packets; a ClientHello longer than this is not parsed. */
  maxCryptoBytes: 65536,
  /** Separate CRYPTO pieces (out-of-order ranges) tracked before reassembly gives up. */
  maxCryptoRanges: 32,
  /** Client Initial packets decrypted per flow before the session gives up on the ClientHello. */
  maxInitialPackets: 8,
  /** Datagrams (both directions) looked at per flow before the session gives up on the ClientHello. */
  maxDatagrams: 16,
  /** Frames read per decrypted Initial packet (PADDING runs count as one). */
  maxFramesPerPacket: 512,
} as const;

export type QuicLimits = { -readonly [K in keyof typeof QUIC_LIMITS]: number };

export const QUIC_ANOMALIES: Readonly<Record<string, string>> = {
  quic_bad_packet: 'A long-header packet from the client whose fields do not fit its datagram (lengths past the end, too short to hold a packet number and a sample): the rest of the datagram is skipped.',
  quic_decrypt_failed: 'A client Initial packet did not authenticate with the Initial keys of its version and the client\'s Destination Connection ID (corrupted, or keyed by an unseen connection ID): the packet is skipped.',
  quic_bad_frame: 'A decrypted Initial packet holds a malformed frame, or a frame type not allowed in Initial packets: the rest of the packet is skipped.',
  quic_crypto_limit: 'The CRYPTO stream of the client\'s Initial packets goes past maxCryptoBytes, or arrives in more than maxCryptoRanges pieces: the ClientHello is not parsed.',
  quic_not_client_hello: 'The first handshake message in the client\'s CRYPTO stream is not a ClientHello.',
  quic_bad_client_hello: 'The ClientHello in the CRYPTO stream did not parse (the detail holds the TLS parser\'s error).',
  quic_client_hello_incomplete: 'The ClientHello was not complete when the packet budget was spent or the flow ended (missing Initial packets, or undecryptable ones).',
};
