/**
 * QUIC long headers (RFC 9000 §17.2, RFC 8999 §5.1 for the version-independent part; RFC 9369 §3.2 for v2's packet
 * types) and the probe that recognises a client's first Initial packet. Variable-length integers: RFC 9000 §16.
 *
 * Pure and bounded: every length is checked against the bytes that remain; nothing throws.
 */
import { Probe, type Dir } from '../../im/types.js';
import { quicVersion } from './initial.js';

/** Connection IDs are at most 20 bytes in QUIC v1 and v2 (RFC 9000 §17.2). */
export const MAX_CID = 20;
/** A client's first Initial carries a Destination Connection ID of at least 8 bytes (RFC 9000 §7.2). */
export const MIN_FIRST_DCID = 8;

/**
 * Read a variable-length integer at `data[p]` (view end `end`) into `out[0]` (value; numbers above 2^53 lose precision,
 * which only matters for values no bounded check accepts anyway) and return its length, or 0 when it is cut.
 */
export function readVarint(data: Uint8Array, p: number, end: number, out: number[]): number {
  if (p >= end) return 0;
  const b = data[p]!;
  const n = 1 << (b >> 6);
  if (p + n > end) return 0;
  let v = b & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + data[p + i]!;
  out[0] = v;
  return n;
}

export interface LongHeader {
  /** The first byte as sent (its low 4 bits are still protected). */
  first: number;
  version: number;
  /** Long-header packet type, bits 0x30 of the first byte (what it means depends on the version). */
  type: number;
  dcidAt: number;
  dcidLen: number;
  scidAt: number;
  scidLen: number;
  /** Initial packets only: the token's offset and length (0 for other types). */
  tokenAt: number;
  tokenLen: number;
  /** Where the (protected) packet number starts. */
  pnAt: number;
  /** End of the packet (pnAt + Length field): the next coalesced packet starts here. */
  end: number;
}

/**
 * Parse the long header of a client packet at `data[p, end)` whose version has known Initial parameters (`initialType`
 * is the version's Initial type; other types have no token). Returns the header, or an error text with the offset
 * relative to `p`.
 */
export function parseLongHeader(data: Uint8Array, p: number, end: number, initialType: number): LongHeader | string {
  if (end - p < 7) return `long header of ${end - p} bytes is shorter than 7 at offset 0`;
  const first = data[p]!;
  const version = ((data[p + 1]! << 24) | (data[p + 2]! << 16) | (data[p + 3]! << 8) | data[p + 4]!) >>> 0;
  const dcidLen = data[p + 5]!;
  if (dcidLen > MAX_CID) return `destination connection ID length ${dcidLen} exceeds ${MAX_CID} at offset 5`;
  const dcidAt = p + 6;
  if (dcidAt + dcidLen + 1 > end) return `destination connection ID of ${dcidLen} bytes exceeds remaining ${end - dcidAt} at offset 5`;
  const scidLen = data[dcidAt + dcidLen]!;
  if (scidLen > MAX_CID) return `source connection ID length ${scidLen} exceeds ${MAX_CID} at offset ${dcidAt + dcidLen - p}`;
  const scidAt = dcidAt + dcidLen + 1;
  let q = scidAt + scidLen;
  if (q > end) return `source connection ID of ${scidLen} bytes exceeds remaining ${end - scidAt} at offset ${scidAt - 1 - p}`;
  const type = (first >> 4) & 0x03;
  const v: number[] = [0];
  let tokenAt = q;
  let tokenLen = 0;
  if (type === initialType) {
    const n = readVarint(data, q, end, v);
    if (n === 0) return `token length cut at offset ${q - p}`;
    tokenLen = v[0]!;
    tokenAt = q + n;
    if (tokenLen > end - tokenAt) return `token length ${tokenLen} exceeds remaining ${end - tokenAt} at offset ${q - p}`;
    q = tokenAt + tokenLen;
  }
  const n = readVarint(data, q, end, v);
  if (n === 0) return `length field cut at offset ${q - p}`;
  const length = v[0]!;
  const pnAt = q + n;
  if (length > end - pnAt) return `packet length ${length} exceeds remaining ${end - pnAt} at offset ${q - p}`;
  return { first, version, type, dcidAt, dcidLen, scidAt, scidLen, tokenAt, tokenLen, pnAt, end: pnAt + length };
}

/**
 * The probe: the client's first datagram starts with a long-header Initial packet of a version whose Initial packets we
 * can open (v1, v2, drafts 27–32), fixed bit set, a Destination Connection ID of 8 to 20 bytes, a Source Connection ID of
 * at most 20, and a Length large enough for a packet number, the header-protection sample and the AEAD tag. Only the
 * client's direction can say Yes (the server's Initial is keyed by the client's connection ID).
 */
export function probeQuic(data: Uint8Array, off: number, len: number, dir: Dir, _midstream: boolean): Probe {
  if (dir !== 0) return Probe.No;
  if (len < 1) return Probe.Need;
  const first = data[off]!;
  if ((first & 0xc0) !== 0xc0) return Probe.No; // long header, fixed bit
  if (len < 5) return Probe.Need;
  const v = quicVersion(((data[off + 1]! << 24) | (data[off + 2]! << 16) | (data[off + 3]! << 8) | data[off + 4]!) >>> 0);
  if (v === null || ((first >> 4) & 0x03) !== v.initialType) return Probe.No;
  if (len < 6) return Probe.Need;
  const dcidLen = data[off + 5]!;
  if (dcidLen < MIN_FIRST_DCID || dcidLen > MAX_CID) return Probe.No;
  // The whole packet is in the first datagram (a UDP probe sees exactly that datagram first): a header that does not
  // fit it is not a QUIC Initial.
  const h = parseLongHeader(data, off, off + len, v.initialType);
  if (typeof h === 'string') return Probe.No;
  return h.end - h.pnAt >= 4 + 16 ? Probe.Yes : Probe.No;
}
