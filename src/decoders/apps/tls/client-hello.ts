/**
 * TLS ClientHello body parser and JA4 client fingerprint, shared by TLS over TCP (this folder) and QUIC (ClientHellos
 * carried in CRYPTO frames of Initial packets).
 *
 * Parses the handshake message body (after the 4-byte handshake header: type 1, 24-bit length) of a ClientHello as
 * RFC 8446 §4.1.2 lays it out (TLS 1.3; TLS 1.0–1.2 ClientHellos, RFC 5246 §7.4.1.2, have the same shape; extensions
 * are optional before 1.3). Extensions read: server_name (0, RFC 6066 §3), ALPN (16, RFC 7301), signature_algorithms
 * (13, RFC 8446 §4.2.3), supported_versions (43, RFC 8446 §4.2.1), encrypted_client_hello (0xfe0d, draft-ietf-tls-esni).
 * JA4: FoxIO's JA4 specification (github.com/FoxIO-LLC/ja4, technical_details/JA4.md).
 *
 * Pure, bounded, never throws: every length is checked against what remains before it is used; a malformed body
 * gives an error string `<anomaly code>: <what> at offset <n>` (offsets relative to `off`).
 */
import { digestText } from './digest.js';

/** Bounds of the ClientHello parser (named in the tls descriptor's `limits`). */
export const CLIENT_HELLO_LIMITS = {
  /** Extensions kept per ClientHello; more is an error (real clients send fewer than 30). */
  maxExtensions: 256,
  /** ALPN protocol names kept; the rest are skipped. */
  maxAlpn: 32,
  /** Cipher suites kept (a cipher_suites vector is at most 32767 of them by its 16-bit length). */
  maxCipherSuites: 1024,
  /** Signature algorithms kept. */
  maxSignatureAlgorithms: 128,
  /** supported_versions entries kept (the vector holds at most 127). */
  maxVersions: 127,
} as const;

export interface ClientHello {
  /** legacy_version (0x0303 for TLS 1.2 and 1.3). */
  legacyVersion: number;
  /** First host_name of server_name, as sent (ASCII expected; bytes read as ISO-8859-1); null when absent. */
  sni: string | null;
  /** ALPN protocol names in the client's order (bytes read as ISO-8859-1). */
  alpn: string[];
  /** supported_versions in the client's order, GREASE included; empty when the extension is absent. */
  versions: number[];
  /** Cipher suites in the client's order, GREASE included. */
  cipherSuites: number[];
  /** Extension types in the client's order, GREASE included. */
  extensions: number[];
  /** signature_algorithms in the client's order; empty when absent. */
  signatureAlgorithms: number[];
  /** encrypted_client_hello (0xfe0d) offered: `sni` is then the public (outer) name. */
  ech: boolean;
}

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_SUPPORTED_VERSIONS = 0x002b;
export const EXT_ECH = 0xfe0d;

/** GREASE values (RFC 8701): 0x0a0a, 0x1a1a … 0xfafa, for cipher suites, extensions, versions, groups. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

function text(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

/**
 * Parse a ClientHello body `data[off, off + len)`. Returns the fields, or an error string naming the anomaly code
 * (`tls_bad_handshake`, `tls_truncated_extension`, `tls_too_many_extensions`) and where. The result holds no view of
 * `data` (it survives the next call).
 */
export function parseClientHello(data: Uint8Array, off: number, len: number): ClientHello | string {
  const end = off + len;
  if (off < 0 || len < 0 || end > data.length) return `tls_bad_handshake: view [${off}, ${end}) outside a buffer of ${data.length} bytes`;
  let p = off;
  // legacy_version (2) + random (32) + session_id length (1)
  if (len < 35) return `tls_bad_handshake: ClientHello of ${len} bytes is shorter than the 35 of its fixed part at offset 0`;
  const legacyVersion = u16(data, p);
  p += 34;
  const sid = data[p]!;
  p += 1;
  if (sid > 32) return `tls_bad_handshake: session_id length ${sid} exceeds 32 at offset ${p - 1 - off}`;
  if (p + sid + 2 > end) return `tls_bad_handshake: session_id of ${sid} bytes and cipher_suites length exceed remaining ${end - p} at offset ${p - off}`;
  p += sid;
  const csLen = u16(data, p);
  p += 2;
  if (csLen % 2 !== 0) return `tls_bad_handshake: cipher_suites length ${csLen} is odd at offset ${p - 2 - off}`;
  if (p + csLen > end) return `tls_bad_handshake: cipher_suites length ${csLen} exceeds remaining ${end - p} at offset ${p - 2 - off}`;
  const cipherSuites: number[] = [];
  const csEnd = p + csLen;
  for (; p < csEnd; p += 2) if (cipherSuites.length < CLIENT_HELLO_LIMITS.maxCipherSuites) cipherSuites.push(u16(data, p));
  if (p + 1 > end) return `tls_bad_handshake: compression_methods length missing at offset ${p - off}`;
  const cmLen = data[p]!;
  p += 1;
  if (p + cmLen > end) return `tls_bad_handshake: compression_methods length ${cmLen} exceeds remaining ${end - p} at offset ${p - 1 - off}`;
  p += cmLen;
  const hello: ClientHello = { legacyVersion, sni: null, alpn: [], versions: [], cipherSuites, extensions: [], signatureAlgorithms: [], ech: false };
  if (p === end) return hello; // no extensions (allowed before TLS 1.3)
  if (p + 2 > end) return `tls_truncated_extension: extensions length cut at offset ${p - off}`;
  const extLen = u16(data, p);
  p += 2;
  if (p + extLen > end) return `tls_truncated_extension: extensions length ${extLen} exceeds remaining ${end - p} at offset ${p - 2 - off}`;
  const extEnd = p + extLen;
  while (p < extEnd) {
    if (p + 4 > extEnd) return `tls_truncated_extension: extension header cut, ${extEnd - p} bytes left at offset ${p - off}`;
    const type = u16(data, p);
    const el = u16(data, p + 2);
    p += 4;
    if (p + el > extEnd) return `tls_truncated_extension: extension 0x${hex4(type)} length ${el} exceeds remaining ${extEnd - p} at offset ${p - 4 - off}`;
    if (hello.extensions.length >= CLIENT_HELLO_LIMITS.maxExtensions) return `tls_too_many_extensions: more than ${CLIENT_HELLO_LIMITS.maxExtensions} extensions at offset ${p - 4 - off}`;
    hello.extensions.push(type);
    const err = extension(hello, type, data, p, p + el);
    if (err !== null) return `${err} at offset ${p - 4 - off}`;
    p += el;
  }
  return hello;
}

/** Read one extension's body `[s, e)` into `h`; an error text (without the offset) when its inner lengths are wrong. */
function extension(h: ClientHello, type: number, b: Uint8Array, s: number, e: number): string | null {
  switch (type) {
    case EXT_SERVER_NAME: {
      if (e - s === 0) return null; // empty in a ServerHello-style echo; a ClientHello should not, but it is harmless
      if (e - s < 2 || s + 2 + u16(b, s) > e) return `tls_truncated_extension: server_name list length exceeds its extension of ${e - s} bytes`;
      const le = s + 2 + u16(b, s);
      for (let p = s + 2; p < le; ) {
        if (p + 3 > le) return 'tls_truncated_extension: server_name entry header cut';
        const nt = b[p]!;
        const nl = u16(b, p + 1);
        p += 3;
        if (p + nl > le) return `tls_truncated_extension: server_name length ${nl} exceeds remaining ${le - p}`;
        if (nt === 0 && h.sni === null) h.sni = text(b, p, p + nl);
        p += nl;
      }
      return null;
    }
    case EXT_ALPN: {
      if (e - s < 2 || s + 2 + u16(b, s) > e) return `tls_truncated_extension: ALPN list length exceeds its extension of ${e - s} bytes`;
      const le = s + 2 + u16(b, s);
      for (let p = s + 2; p < le; ) {
        const nl = b[p]!;
        p += 1;
        if (p + nl > le) return `tls_truncated_extension: ALPN name length ${nl} exceeds remaining ${le - p}`;
        if (h.alpn.length < CLIENT_HELLO_LIMITS.maxAlpn) h.alpn.push(text(b, p, p + nl));
        p += nl;
      }
      return null;
    }
    case EXT_SUPPORTED_VERSIONS: {
      if (e - s < 1 || s + 1 + b[s]! > e || b[s]! % 2 !== 0) return `tls_truncated_extension: supported_versions length ${e > s ? b[s]! : 0} does not fit its extension of ${e - s} bytes`;
      const le = s + 1 + b[s]!;
      for (let p = s + 1; p < le; p += 2) if (h.versions.length < CLIENT_HELLO_LIMITS.maxVersions) h.versions.push(u16(b, p));
      return null;
    }
    case EXT_SIGNATURE_ALGORITHMS: {
      if (e - s < 2 || s + 2 + u16(b, s) > e || u16(b, s) % 2 !== 0) return `tls_truncated_extension: signature_algorithms length does not fit its extension of ${e - s} bytes`;
      const le = s + 2 + u16(b, s);
      for (let p = s + 2; p < le; p += 2) if (h.signatureAlgorithms.length < CLIENT_HELLO_LIMITS.maxSignatureAlgorithms) h.signatureAlgorithms.push(u16(b, p));
      return null;
    }
    case EXT_ECH:
      h.ech = true;
      return null;
    default:
      return null;
  }
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

/** The highest version the client offers: supported_versions (GREASE ignored), else legacy_version. */
export function offeredVersion(h: ClientHello): number {
  let best = -1;
  for (const v of h.versions) if (!isGrease(v) && v > best) best = v;
  return best >= 0 ? best : h.legacyVersion;
}

/** Version as text for the `tls` table: 1.3, 1.2, 1.1, 1.0, ssl3, dtls1.2…, else hex. */
export function versionName(v: number): string {
  switch (v) {
    case 0x0304:
      return '1.3';
    case 0x0303:
      return '1.2';
    case 0x0302:
      return '1.1';
    case 0x0301:
      return '1.0';
    case 0x0300:
      return 'ssl3';
    case 0x0002:
      return 'ssl2';
    case 0xfeff:
      return 'dtls1.0';
    case 0xfefd:
      return 'dtls1.2';
    case 0xfefc:
      return 'dtls1.3';
    default:
      return `0x${hex4(v)}`;
  }
}

function ja4Version(v: number): string {
  switch (v) {
    case 0x0304:
      return '13';
    case 0x0303:
      return '12';
    case 0x0302:
      return '11';
    case 0x0301:
      return '10';
    case 0x0300:
      return 's3';
    case 0x0002:
      return 's2';
    case 0xfeff:
      return 'd1';
    case 0xfefd:
      return 'd2';
    case 0xfefc:
      return 'd3';
    default:
      return '00';
  }
}

const isAlnum = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

function two(n: number): string {
  return n > 99 ? '99' : n < 10 ? `0${n}` : String(n);
}

/** Scratch of `ja4`: one list's values (sorted in place) and the text hashed, in ASCII. */
const ja4Values = new Uint16Array(Math.max(CLIENT_HELLO_LIMITS.maxCipherSuites, CLIENT_HELLO_LIMITS.maxExtensions));
/** Room for the longest text: every cipher suite kept, 4 hex digits and a comma each. */
const ja4Text = new Uint8Array(5 * Math.max(CLIENT_HELLO_LIMITS.maxCipherSuites, CLIENT_HELLO_LIMITS.maxExtensions + 1 + CLIENT_HELLO_LIMITS.maxSignatureAlgorithms));
const HEX_DIGITS = Uint8Array.from(Buffer.from('0123456789abcdef', 'latin1'));

/** Write `v` as 4 lower-case hex digits into `ja4Text` at `n`; the new length. */
function putHex4(v: number, n: number): number {
  const o = ja4Text;
  o[n] = HEX_DIGITS[(v >> 12) & 0xf]!;
  o[n + 1] = HEX_DIGITS[(v >> 8) & 0xf]!;
  o[n + 2] = HEX_DIGITS[(v >> 4) & 0xf]!;
  o[n + 3] = HEX_DIGITS[v & 0xf]!;
  return n + 4;
}

/** `ja4Values[0, count)` sorted, as comma-separated hex4 text into `ja4Text` from 0; the text's length. */
function sortedText(count: number): number {
  // Four lower-case hex digits sort as text the way their values sort as numbers: sorting the numbers is enough.
  // Real lists are short: up to 64 values an insertion sort in place, a longer one (at most maxCipherSuites) the native sort.
  const vs = ja4Values;
  if (count > 64) vs.subarray(0, count).sort();
  else {
    for (let i = 1; i < count; i++) {
      const v = vs[i]!;
      let j = i - 1;
      for (; j >= 0 && vs[j]! > v; j--) vs[j + 1] = vs[j]!;
      vs[j + 1] = v;
    }
  }
  let n = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) ja4Text[n++] = 0x2c; // `,`
    n = putHex4(vs[i]!, n);
  }
  return n;
}

/** First 12 hex digits of the SHA-256 of `ja4Text[0, n)`. */
function hash12(n: number): string {
  return digestText('sha256', ja4Text.subarray(0, n), 'hex').slice(0, 12);
}

/**
 * JA4 fingerprint `a_b_c` of a ClientHello: a = transport (t TCP, q QUIC, d DTLS), version (highest non-GREASE
 * supported_versions, else legacy_version), d/i (SNI present or not), cipher count and extension count (GREASE
 * excluded, two digits, capped at 99), first and last character of the first ALPN name (00 without ALPN; the hex
 * digits of its first and last byte when either is not alphanumeric); b = first 12 hex digits of the SHA-256 of the
 * sorted cipher suites (4 hex digits, comma-separated); c = the same of the sorted extensions without SNI and ALPN,
 * then `_` and the signature algorithms in the client's order (no `_` part without them). An empty list hashes to
 * twelve zeros.
 *
 * The lists are written as ASCII bytes into module scratch and hashed from there: no string per value.
 */
export function ja4(hello: ClientHello, transport: 't' | 'q' | 'd'): string {
  let ciphers = 0;
  for (const c of hello.cipherSuites) if (!isGrease(c)) ja4Values[ciphers++] = c;
  const b = ciphers === 0 ? '000000000000' : hash12(sortedText(ciphers));
  let exts = 0;
  let extCount = 0;
  for (const x of hello.extensions) {
    if (isGrease(x)) continue;
    extCount++;
    if (x !== EXT_SERVER_NAME && x !== EXT_ALPN) ja4Values[exts++] = x;
  }
  let c = '000000000000';
  if (exts > 0) {
    let n = sortedText(exts);
    let sigs = 0;
    for (const s of hello.signatureAlgorithms) {
      if (isGrease(s)) continue;
      ja4Text[n++] = sigs++ === 0 ? 0x5f : 0x2c; // `_` before the first, `,` between
      n = putHex4(s, n);
    }
    c = hash12(n);
  }
  let alpn = '00';
  const first = hello.alpn[0];
  if (first !== undefined && first.length > 0) {
    const a = first.charCodeAt(0);
    const z = first.charCodeAt(first.length - 1);
    alpn = isAlnum(a) && isAlnum(z) ? first[0]! + first[first.length - 1]! : (a & 0xff).toString(16).padStart(2, '0')[0]! + (z & 0xff).toString(16).padStart(2, '0')[1]!;
  }
  const a = `${transport}${ja4Version(offeredVersion(hello))}${hello.sni !== null ? 'd' : 'i'}${two(ciphers)}${two(extCount)}${alpn}`;
  return `${a}_${b}_${c}`;
}
