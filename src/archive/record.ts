/**
 * One transcript record (one IM message with its provenance), its canonical bytes, and the hash chain over records.
 *
 * Canonical form (format `imtap-canonical-json/1`, documented in docs/reports.md): the record without its `chain`
 * field, serialised as JSON with the keys of every object sorted by UTF-16 code units (JavaScript's default sort),
 * no white space, strings escaped as JSON.stringify does (lone surrogates as \uXXXX), integers in decimal, null as
 * null; then encoded as UTF-8. Chain: h(0) = 32 zero bytes; h(n) = SHA-256(h(n-1) as 32 raw bytes || canonical bytes
 * of record n), records numbered 1..N by `seq` in the export's order (ts, capture_id, flow_id, then the order the
 * messages were stored). Each record carries hex h(seq) as `chain`; the manifest carries h(N) as the head.
 */
import { createHash } from 'node:crypto';

export interface CaptureRef {
  capture_id: number;
  path: string | null;
  sha256: string | null;
}

export interface FlowRef {
  flow_id: number;
  transport: string | null;
  client_ip: string | null;
  client_port: number | null;
  server_ip: string | null;
  server_port: number | null;
}

export interface TranscriptRecord {
  /** Position in the export, 1-based: the chain's order. */
  seq: number;
  /** ISO 8601 UTC with nine fractional digits. */
  ts: string;
  app: string;
  sender: string | null;
  recipient: string | null;
  direction: string | null;
  kind: string | null;
  subject: string | null;
  thread: string | null;
  body: string | null;
  body_format: string | null;
  /** The body's bytes as on the wire, base64 (RFC 4648, with padding), when the database keeps them. */
  body_raw: string | null;
  sensor: string | null;
  capture: CaptureRef;
  flow: FlowRef;
}

/** A record as written: with its chain hash (lower-case hex). */
export type ChainedRecord = TranscriptRecord & { chain: string };

export const CANONICAL_FORM = 'imtap-canonical-json/1';
export const GENESIS = '0'.repeat(64);

/** JSON with sorted keys and no white space. Only plain objects, arrays, strings, finite numbers, booleans, null. */
export function canonicalJson(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`canonical JSON: number ${v} is not finite`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON: cannot serialise a ${typeof v}`);
}

/** The bytes the chain hashes for a record: its canonical JSON without `chain`. */
export function canonicalBytes(r: TranscriptRecord | ChainedRecord): Buffer {
  const { chain: _chain, ...rest } = r as ChainedRecord;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

/** h(n) from h(n-1) (hex) and record n. */
export function chainHash(prevHex: string, r: TranscriptRecord | ChainedRecord): string {
  return createHash('sha256').update(Buffer.from(prevHex, 'hex')).update(canonicalBytes(r)).digest('hex');
}

/** SHA-256 of a buffer, lower-case hex. */
export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
