/**
 * TLS analyzer limits and anomaly codes, declared once for the descriptor and documented in this folder's README.md.
 * Every bound on buffered bytes is one of these, checked before buffering.
 */
import { CLIENT_HELLO_LIMITS } from './client-hello.js';

export type TlsLimits = {
  /** Largest TLS record accepted: 2^14 plaintext plus the 2048 bytes RFC 5246 §6.2.3 allows for expansion. */
  maxRecordBytes: number;
  /** Largest handshake message reassembled across records (ClientHello, ServerHello, Certificate). */
  maxHandshakeBytes: number;
  /** Bytes of the flow (both directions) looked at before the handshake is given up and the flow called encrypted. */
  maxFlowBytes: number;
  /** DER size of the one server certificate decoded. */
  maxCertificateBytes: number;
  /** Certificate DNS names kept for `cert_names`. */
  maxCertNames: number;
  maxExtensions: number;
  maxAlpn: number;
  maxCipherSuites: number;
  maxSignatureAlgorithms: number;
  maxVersions: number;
};

export const TLS_LIMITS: Readonly<TlsLimits> = Object.freeze({
  maxRecordBytes: 16384 + 2048,
  maxHandshakeBytes: 65536,
  maxFlowBytes: 262144,
  maxCertificateBytes: 32768,
  maxCertNames: 256,
  ...CLIENT_HELLO_LIMITS,
});

export const TLS_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  tls_bad_record: 'A TLS record header with an unknown content type, a version other than 3.x, or a length over maxRecordBytes; the direction is not read further.',
  tls_bad_handshake: 'A ClientHello, ServerHello or Certificate message whose fields do not fit their lengths, or an unexpected first handshake message.',
  tls_handshake_too_long: 'A handshake message longer than maxHandshakeBytes; not reassembled.',
  tls_truncated_extension: 'A ClientHello extension (or the extensions block) whose length exceeds the bytes left.',
  tls_too_many_extensions: 'A ClientHello with more than maxExtensions extensions.',
  tls_bad_certificate: 'The first server certificate is not DER that X.509 parsing accepts, or is over maxCertificateBytes.',
  tls_gap: 'Bytes of the handshake are missing from the capture; the direction is not read further.',
  tls_budget: 'maxFlowBytes were read before the handshake showed what it shows; the rest of the flow was skipped.',
});
