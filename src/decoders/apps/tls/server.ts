/**
 * The server's side of a TLS handshake as far as it is in clear: the ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3:
 * the chosen version, from supported_versions when present, and cipher suite) and, before TLS 1.3, the first
 * certificate of the Certificate message (RFC 5246 §7.4.2), decoded by node:crypto's X509Certificate: subject CN,
 * subject alternative DNS names, issuer CN and O. Pure and bounded; malformed input gives an error string
 * `<anomaly code>: <what>`.
 */
import { X509Certificate } from 'node:crypto';
import { EXT_SUPPORTED_VERSIONS } from './client-hello.js';
import { digestText } from './digest.js';

export interface ServerHello {
  /** The version the server chose: supported_versions when present (TLS 1.3), else legacy_version. */
  version: number;
  cipher: number;
  /** The random of a HelloRetryRequest (RFC 8446 §4.1.3): the server asks for another ClientHello. */
  retry: boolean;
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const u24 = (b: Uint8Array, i: number): number => (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;

/** SHA-256 of "HelloRetryRequest", the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HRR_RANDOM = Uint8Array.from(Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'));

/** Parse a ServerHello body `data[off, off + len)`. */
export function parseServerHello(data: Uint8Array, off: number, len: number): ServerHello | string {
  const end = off + len;
  if (len < 38) return `tls_bad_handshake: ServerHello of ${len} bytes is shorter than the 38 of its fixed part`;
  const legacy = u16(data, off);
  let retry = true;
  for (let i = 0; i < 32; i++) {
    if (data[off + 2 + i] !== HRR_RANDOM[i]) {
      retry = false;
      break;
    }
  }
  let p = off + 34;
  const sid = data[p]!;
  p += 1;
  if (sid > 32 || p + sid + 3 > end) return `tls_bad_handshake: ServerHello session_id length ${sid} does not fit the ${end - p} bytes left at offset ${p - 1 - off}`;
  p += sid;
  const cipher = u16(data, p);
  p += 3; // cipher suite, compression method
  let version = legacy;
  if (p + 2 <= end) {
    const extEnd = p + 2 + u16(data, p);
    if (extEnd > end) return `tls_truncated_extension: ServerHello extensions length ${extEnd - p - 2} exceeds remaining ${end - p - 2} at offset ${p - off}`;
    p += 2;
    while (p + 4 <= extEnd) {
      const type = u16(data, p);
      const el = u16(data, p + 2);
      p += 4;
      if (p + el > extEnd) return `tls_truncated_extension: ServerHello extension 0x${type.toString(16).padStart(4, '0')} length ${el} exceeds remaining ${extEnd - p} at offset ${p - 4 - off}`;
      if (type === EXT_SUPPORTED_VERSIONS && el === 2) version = u16(data, p);
      p += el;
    }
  }
  return { version, cipher, retry };
}

/**
 * Where the first certificate of a Certificate message body (TLS 1.2 and earlier: a 24-bit list length, then 24-bit
 * length + DER per certificate) lies, given that only `avail` of its `len` bytes are at hand: `[start, length]` of the
 * DER relative to `off`, `need` when more bytes are needed, or an error string.
 */
export function firstCertificate(data: Uint8Array, off: number, avail: number, len: number, maxDer: number): [number, number] | 'need' | string {
  if (avail < 6) return len < 6 ? `tls_bad_handshake: Certificate message of ${len} bytes has no certificate` : 'need';
  const listLen = u24(data, off);
  if (listLen + 3 !== len) return `tls_bad_handshake: certificate_list length ${listLen} does not match the message's ${len - 3} bytes`;
  const certLen = u24(data, off + 3);
  if (certLen === 0 || certLen + 6 > len) return `tls_bad_handshake: certificate length ${certLen} exceeds the list's ${listLen - 3} bytes`;
  if (certLen > maxDer) return `tls_bad_certificate: certificate of ${certLen} bytes is over the limit of ${maxDer}`;
  if (6 + certLen > avail) return 'need';
  return [6, certLen];
}

export interface CertNames {
  /** Subject CN, or null when the subject has none. */
  subject: string | null;
  /** subjectAltName DNS names, in the certificate's order. */
  names: string[];
  /** Issuer CN and O, as `CN=…, O=…`. */
  issuer: string | null;
}

/** Field values of an X509Certificate subject or issuer text (one `key=value` per line). */
function fields(dn: string, key: string): string[] {
  const out: string[] = [];
  for (const line of dn.split('\n')) if (line.startsWith(`${key}=`)) out.push(line.slice(key.length + 1));
  return out;
}

/** The names of a DER certificate; an error string when node:crypto cannot decode it. */
/** Certificates kept decoded per run (`ctx.runState`): servers send the same certificate to every client. */
export const CERT_CACHE_ENTRIES = 4096;

/**
 * `certificateNames` with the results of one run remembered by the certificate's SHA-1 (hashing the DER is native and
 * about 50 times cheaper than decoding it). Bounded: the oldest entry goes first.
 */
export class CertificateCache {
  private readonly byHash = new Map<string, CertNames | string>();

  names(der: Uint8Array, maxNames: number): CertNames | string {
    const key = `${maxNames}:${digestText('sha1', der, 'base64')}`;
    let r = this.byHash.get(key);
    if (r === undefined) {
      r = certificateNames(der, maxNames);
      if (this.byHash.size >= CERT_CACHE_ENTRIES) this.byHash.delete(this.byHash.keys().next().value as string);
      this.byHash.set(key, r);
    }
    return typeof r === 'string' ? r : { subject: r.subject, names: [...r.names], issuer: r.issuer };
  }
}

export function certificateNames(der: Uint8Array, maxNames: number): CertNames | string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (e) {
    return `tls_bad_certificate: X.509 decoding of ${der.length} bytes failed (${(e as Error).message})`;
  }
  const subject = fields(cert.subject, 'CN')[0] ?? null;
  const names: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:') && names.length < maxNames) names.push(part.slice(4));
  }
  const issuerParts: string[] = [];
  for (const cn of fields(cert.issuer, 'CN')) issuerParts.push(`CN=${cn}`);
  for (const o of fields(cert.issuer, 'O')) issuerParts.push(`O=${o}`);
  return { subject, names, issuer: issuerParts.length > 0 ? issuerParts.join(', ') : null };
}
