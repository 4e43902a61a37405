/**
 * DNS message parsing (RFC 1035 §4; EDNS0 RFC 6891; mDNS RFC 6762 and LLMNR RFC 4795 use the same format): the
 * header, names with compression pointers, questions and resource records, and record data as text for the types
 * the `dns` table shows (A, AAAA, CNAME, PTR, NS, MX, SRV, TXT, SOA, HTTPS/SVCB; others generically).
 *
 * Everything works on a view `buf[msg, end)` holding one message; offsets in anomaly details are from the message
 * start. Nothing throws: a problem is reported in the caller's `Problem` (an anomaly code, where, what) and the
 * function returns -1. Names are bounded (255 bytes in wire form, labels ≤ 63), and compression pointers must point
 * strictly before the labels being read — so a pointer can never lead back to itself, and a loop is found at its first
 * jump, not after a walk — and at most `maxJumps` are followed.
 *
 * Results (`Problem`, `RecordOut`) are caller-owned objects that each call overwrites: nothing is allocated per byte,
 * and name text is only built when asked for.
 */
import { latin1 } from '../../im/text.js';
import { ipv6Text } from '../../../util/ipv6.js';

export const HEADER_BYTES = 12;
/** Longest name in wire form, length bytes and the final zero included (RFC 1035 §2.3.4). */
export const MAX_NAME_BYTES = 255;

export interface Problem {
  /** Anomaly code (dns_*), or null when there was none. */
  code: string | null;
  /** Offset from the message start. */
  at: number;
  detail: string;
}

export const newProblem = (): Problem => ({ code: null, at: 0, detail: '' });

function fail(p: Problem, code: string, at: number, detail: string): -1 {
  p.code = code;
  p.at = at;
  p.detail = detail;
  return -1;
}

/** What a name read gave: its text when asked (lower-case, no final dot, `.` for the root). */
export interface NameOut {
  text: string;
}

/**
 * Read the name at `at` (an offset into `buf`, inside `[msg, end)`). Returns the offset just after the name where it
 * was written (after its first pointer, if any), or -1 with `p` set. With `want`, `out.text` is the name in
 * presentation form: labels joined by dots, lower-cased, bytes outside printable ASCII and `.` `\` inside a label
 * escaped as `\DDD` / `\.` (RFC 1035 §5.1).
 */
export function readName(buf: Uint8Array, msg: number, end: number, at: number, maxJumps: number, want: boolean, out: NameOut, p: Problem): number {
  // A bare pointer to a name already decoded in this message (owner names are mostly that): its text again.
  if (want && at + 1 < end && (buf[at]! & 0xc0) === 0xc0 && memoBuf === buf && memoMsg === msg) {
    const target = msg + (((buf[at]! & 0x3f) << 8) | buf[at + 1]!);
    if (target < at) {
      for (let i = 0; i < memoN; i++) {
        if (memoPos[i] === target) {
          out.text = memoText[i]!;
          return at + 2;
        }
      }
    }
  }
  let pos = at;
  // Start of the run of labels being read: a pointer must point before it (strictly backwards).
  let segStart = at;
  let next = -1;
  let jumps = 0;
  let wire = 0;
  // Text is built as bytes in `nameBytes` (lower-cased, escaped) and decoded once.
  let n = 0;
  for (;;) {
    if (pos >= end) return fail(p, 'dns_truncated', pos - msg, `name at ${at - msg} runs past the message end (${end - msg})`);
    const b = buf[pos]!;
    if (b === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = b & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) return fail(p, 'dns_truncated', pos - msg, `pointer at ${pos - msg} cut by the message end`);
      const target = msg + (((b & 0x3f) << 8) | buf[pos + 1]!);
      if (next < 0) next = pos + 2;
      if (target >= pos) return fail(p, 'dns_forward_pointer', pos - msg, `pointer at ${pos - msg} to ${target - msg}, not before itself`);
      if (target >= segStart) return fail(p, 'dns_name_loop', pos - msg, `pointer at ${pos - msg} to ${target - msg}, inside the name being read (from ${segStart - msg})`);
      if (target < msg + HEADER_BYTES) return fail(p, 'dns_bad_pointer', pos - msg, `pointer at ${pos - msg} to ${target - msg}, inside the header`);
      if (++jumps > maxJumps) return fail(p, 'dns_name_loop', pos - msg, `name at ${at - msg} follows more than ${maxJumps} pointers`);
      pos = target;
      segStart = target;
      continue;
    }
    if (kind !== 0) return fail(p, 'dns_bad_label', pos - msg, `label type 0x${kind.toString(16)} at ${pos - msg}`);
    wire += b + 1;
    // + 1: the final zero byte still has to fit.
    if (wire + 1 > MAX_NAME_BYTES) return fail(p, 'dns_name_too_long', pos - msg, `name at ${at - msg} longer than ${MAX_NAME_BYTES} bytes`);
    const s = pos + 1;
    const e = s + b;
    if (e > end) return fail(p, 'dns_truncated', pos - msg, `label of ${b} bytes at ${pos - msg} runs past the message end (${end - msg})`);
    if (want) n = labelBytes(buf, s, e, n);
    pos = e;
  }
  if (want) {
    out.text = n === 0 ? '.' : latin1(nameBytes, 0, n);
    if (memoBuf === buf && memoMsg === msg && memoN < MEMO) {
      memoPos[memoN] = at;
      memoText[memoN++] = out.text;
    }
  }
  return next;
}

// Names decoded in the current message, by the offset they start at (see `startNames`).
const MEMO = 16;
const memoPos = new Int32Array(MEMO);
const memoText: string[] = new Array<string>(MEMO).fill('');
let memoN = 0;
let memoBuf: Uint8Array | null = null;
let memoMsg = -1;

/**
 * Start decoding names of the message at `buf[msg…]`: names decoded from then on are remembered by offset, and a bare
 * pointer to one of them gives its text without decoding again. Call it for each message (views are reused: the same
 * buffer and offset may hold another message next time); `endNames` forgets them.
 */
export function startNames(buf: Uint8Array, msg: number): void {
  memoBuf = buf;
  memoMsg = msg;
  memoN = 0;
}

export function endNames(): void {
  memoBuf = null;
  memoMsg = -1;
  memoN = 0;
}

/** 255 wire bytes at 4 text bytes each at most (`\DDD`), dots included; decoded by `latin1` (no view per name). */
const nameBytes = new Uint8Array(1024);

/** Append one label to `nameBytes` at `n` (a dot first unless it is the first): printable ASCII lower-cased, the rest `\DDD`, `.` and `\` escaped. */
function labelBytes(buf: Uint8Array, s: number, e: number, n: number): number {
  const o = nameBytes;
  if (n > 0) o[n++] = 0x2e;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) o[n++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    else if (c === 0x2e || c === 0x5c) {
      o[n++] = 0x5c;
      o[n++] = c;
    } else {
      o[n++] = 0x5c;
      o[n++] = 0x30 + ((c / 100) | 0);
      o[n++] = 0x30 + (((c / 10) | 0) % 10);
      o[n++] = 0x30 + (c % 10);
    }
  }
  return n;
}

// ── header ──

export const enum Flag {
  QR = 0x8000,
  Z = 0x0040,
}

export const u16 = (buf: Uint8Array, at: number): number => (buf[at]! << 8) | buf[at + 1]!;
export const u32 = (buf: Uint8Array, at: number): number => ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);

/**
 * Whether the 12-byte header at `msg` can be a DNS header of a message of `end - msg` bytes: a known opcode (QUERY,
 * IQUERY, STATUS, NOTIFY, UPDATE), the Z bit clear, an assigned RCODE (0–10) and for a query RCODE 0, counts whose
 * smallest encoding fits in the message, and a question unless it is a response (mDNS answers carry none). Returns
 * null when it can, else what is wrong.
 */
export function headerProblem(buf: Uint8Array, msg: number, end: number): string | null {
  if (headerSane(buf, msg, end)) return null;
  const len = end - msg;
  if (len < HEADER_BYTES) return `message of ${len} bytes is shorter than the ${HEADER_BYTES}-byte header`;
  const flags = u16(buf, msg + 2);
  const opcode = (flags >> 11) & 0xf;
  if (opcode === 3 || opcode > 5) return `opcode ${opcode} is not assigned`;
  if ((flags & Flag.Z) !== 0) return 'reserved Z bit set';
  const rcode = flags & 0xf;
  if (rcode > 10) return `rcode ${rcode} is not assigned`;
  const response = (flags & Flag.QR) !== 0;
  if (!response && rcode !== 0) return `query with rcode ${rcode}`;
  const qd = u16(buf, msg + 4);
  const rr = u16(buf, msg + 6) + u16(buf, msg + 8) + u16(buf, msg + 10);
  if (qd === 0 && (!response || rr === 0)) return response ? 'response without question or records' : 'query without question';
  // A question takes at least 5 bytes (root name, type, class), a record at least 11.
  const min = HEADER_BYTES + qd * 5 + rr * 11;
  if (min > len) return `counts (${qd} questions, ${rr} records) need at least ${min} bytes, message has ${len}`;
  return null;
}

/** `headerProblem(…) === null` without building the text (the probe's test, on every first datagram). */
export function headerSane(buf: Uint8Array, msg: number, end: number): boolean {
  const len = end - msg;
  if (len < HEADER_BYTES) return false;
  const flags = (buf[msg + 2]! << 8) | buf[msg + 3]!;
  const opcode = (flags >> 11) & 0xf;
  const rcode = flags & 0xf;
  const response = (flags & Flag.QR) !== 0;
  if (opcode === 3 || opcode > 5 || (flags & Flag.Z) !== 0 || rcode > 10 || (!response && rcode !== 0)) return false;
  const qd = u16(buf, msg + 4);
  const rr = u16(buf, msg + 6) + u16(buf, msg + 8) + u16(buf, msg + 10);
  if (qd === 0 && (!response || rr === 0)) return false;
  return HEADER_BYTES + qd * 5 + rr * 11 <= len;
}

/** Classes a question or (non-OPT) record may have: IN, CH, HS, NONE, ANY; the top bit is mDNS's unicast/cache-flush bit. */
export function knownClass(cls: number): boolean {
  const c = cls & 0x7fff;
  return c === 1 || c === 3 || c === 4 || c === 254 || c === 255;
}

export const TYPE_OPT = 41;
export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const TYPE_CNAME = 5;

/** Record and query type names (IANA DNS parameters); others are `TYPEnnn` (RFC 3597). */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 10: 'NULL', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB',
  24: 'SIG', 25: 'KEY', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 39: 'DNAME', 41: 'OPT',
  42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3',
  51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC',
  63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 255: 'ANY',
  256: 'URI', 257: 'CAA',
};
const typeCache = new Map<number, string>();

export function typeName(t: number): string {
  const n = TYPE_NAMES[t];
  if (n !== undefined) return n;
  let s = typeCache.get(t);
  if (s === undefined) {
    s = `TYPE${t}`;
    if (typeCache.size < 1024) typeCache.set(t, s);
  }
  return s;
}

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'RCODE11', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15'];
export const rcodeName = (r: number): string => RCODES[r & 0xf]!;

// ── questions and records ──

/** A question or record as read: owner name (when asked for), type, class and, for records, TTL and data span. */
export interface RecordOut extends NameOut {
  type: number;
  cls: number;
  ttl: number;
  /** Offset of the record data in `buf`, and its length. */
  rdata: number;
  rdlen: number;
}

export const newRecord = (): RecordOut => ({ text: '', type: 0, cls: 0, ttl: 0, rdata: 0, rdlen: 0 });

/** Read a question at `at`; returns the offset after it or -1. */
export function readQuestion(buf: Uint8Array, msg: number, end: number, at: number, maxJumps: number, want: boolean, out: RecordOut, p: Problem): number {
  const n = readName(buf, msg, end, at, maxJumps, want, out, p);
  if (n < 0) return -1;
  if (n + 4 > end) return fail(p, 'dns_truncated', n - msg, `question type and class at ${n - msg} cut by the message end (${end - msg})`);
  out.type = u16(buf, n);
  out.cls = u16(buf, n + 2);
  out.ttl = 0;
  out.rdata = n + 4;
  out.rdlen = 0;
  return n + 4;
}

/** Read a resource record at `at`; returns the offset after its data or -1. */
export function readRecord(buf: Uint8Array, msg: number, end: number, at: number, maxJumps: number, want: boolean, out: RecordOut, p: Problem): number {
  const n = readName(buf, msg, end, at, maxJumps, want, out, p);
  if (n < 0) return -1;
  if (n + 10 > end) return fail(p, 'dns_truncated', n - msg, `record fields at ${n - msg} cut by the message end (${end - msg})`);
  out.type = u16(buf, n);
  out.cls = u16(buf, n + 2);
  out.ttl = u32(buf, n + 4);
  out.rdlen = u16(buf, n + 8);
  out.rdata = n + 10;
  if (out.rdata + out.rdlen > end) return fail(p, 'dns_truncated', n - msg, `record data of ${out.rdlen} bytes at ${n + 10 - msg} runs past the message end (${end - msg})`);
  return out.rdata + out.rdlen;
}

const scratch: NameOut = { text: '' };

/** A name inside record data: must end within the data. Returns its text or null with `p` set. */
function rdName(buf: Uint8Array, msg: number, end: number, at: number, rdEnd: number, maxJumps: number, p: Problem): string | null {
  const n = readName(buf, msg, end, at, maxJumps, true, scratch, p);
  if (n < 0) return null;
  if (n > rdEnd) {
    fail(p, 'dns_bad_rdata', at - msg, `name at ${at - msg} overruns its record data (ends at ${rdEnd - msg})`);
    return null;
  }
  return scratch.text;
}

function badLength(p: Problem, msg: number, r: RecordOut, want: string): null {
  fail(p, 'dns_bad_rdata', r.rdata - msg, `${typeName(r.type)} record data of ${r.rdlen} bytes at ${r.rdata - msg}, expected ${want}`);
  return null;
}

/**
 * The record's data as text (the `answer` column): an address, a name, `pref name` (MX), `prio weight port target`
 * (SRV), the target name (HTTPS, SVCB), the strings joined and cut to `maxText` (TXT), `mname rname serial` (SOA), and
 * for other types RFC 3597's `\# len hex` with at most 32 bytes of hex. Null with `p` set when the data is malformed.
 */
export function rdataText(buf: Uint8Array, msg: number, end: number, r: RecordOut, maxJumps: number, maxText: number, p: Problem): string | null {
  const s = r.rdata;
  const len = r.rdlen;
  const e = s + len;
  switch (r.type) {
    case TYPE_A:
      if (len !== 4) return badLength(p, msg, r, '4');
      return `${buf[s]}.${buf[s + 1]}.${buf[s + 2]}.${buf[s + 3]}`;
    case TYPE_AAAA: {
      if (len !== 16) return badLength(p, msg, r, '16');
      return ipv6At(buf, s);
    }
    case 2: // NS
    case TYPE_CNAME:
    case 12: // PTR
    case 39: // DNAME
      return rdName(buf, msg, end, s, e, maxJumps, p);
    case 15: {
      // MX
      if (len < 3) return badLength(p, msg, r, 'at least 3');
      const name = rdName(buf, msg, end, s + 2, e, maxJumps, p);
      return name === null ? null : `${u16(buf, s)} ${name}`;
    }
    case 33: {
      // SRV
      if (len < 7) return badLength(p, msg, r, 'at least 7');
      const name = rdName(buf, msg, end, s + 6, e, maxJumps, p);
      return name === null ? null : `${u16(buf, s)} ${u16(buf, s + 2)} ${u16(buf, s + 4)} ${name}`;
    }
    case 64: // SVCB
    case 65: {
      // HTTPS: SvcPriority, TargetName (never compressed, RFC 9460 §2.2), SvcParams.
      if (len < 3) return badLength(p, msg, r, 'at least 3');
      return rdName(buf, msg, end, s + 2, e, maxJumps, p);
    }
    case 6: {
      // SOA
      const n1 = readName(buf, msg, end, s, maxJumps, true, scratch, p);
      if (n1 < 0) return null;
      const mname = scratch.text;
      const n2 = readName(buf, msg, end, n1, maxJumps, true, scratch, p);
      if (n2 < 0) return null;
      if (n2 + 20 !== e) return badLength(p, msg, r, `${n2 + 20 - s} (two names and five numbers)`);
      return `${mname} ${scratch.text} ${u32(buf, n2)}`;
    }
    case 16: {
      // TXT: character-strings, each a length byte and that many bytes.
      let out = '';
      let at = s;
      while (at < e) {
        const l = buf[at]!;
        if (at + 1 + l > e) return badLength(p, msg, r, `room for a ${l}-byte string at ${at - msg}`);
        if (out.length < maxText) out += (at === s ? '' : ' ') + printable(buf, at + 1, Math.min(at + 1 + l, at + 1 + maxText - out.length));
        at += 1 + l;
      }
      return out.length > maxText ? out.slice(0, maxText) : out;
    }
    default: {
      const shown = Math.min(len, 32);
      return `\\# ${len}${len > 0 ? ' ' : ''}${Buffer.from(buf.buffer, buf.byteOffset + s, shown).toString('hex')}${shown < len ? '…' : ''}`;
    }
  }
}

/** Bytes as text with anything outside printable ASCII as `\DDD`. */
function printable(buf: Uint8Array, s: number, e: number): string {
  let plain = true;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c >= 0x7f || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return latin1(buf, s, e);
  let out = '';
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c >= 0x7f) out += `\\${c < 10 ? '00' : c < 100 ? '0' : ''}${c}`;
    else out += String.fromCharCode(c);
  }
  return out;
}

const groups = [0, 0, 0, 0, 0, 0, 0, 0];

function ipv6At(buf: Uint8Array, s: number): string {
  for (let i = 0; i < 8; i++) groups[i] = u16(buf, s + 2 * i);
  return ipv6Text(groups);
}

/**
 * Walk a whole message without building text: header sane, every question and record readable, classes known (OPT
 * excepted), at most `maxQuestions` questions and `maxRecords` records. Returns the offset where the last record
 * ends (the caller compares it with the message end), or -1 with `p` set. For the probe; the session reads as it goes.
 */
export function walkMessage(buf: Uint8Array, msg: number, end: number, maxJumps: number, maxQuestions: number, maxRecords: number, r: RecordOut, p: Problem): number {
  if (!headerSane(buf, msg, end)) return fail(p, 'dns_bad_header', 0, 'header');
  const qd = u16(buf, msg + 4);
  const rr = u16(buf, msg + 6) + u16(buf, msg + 8) + u16(buf, msg + 10);
  if (qd > maxQuestions || rr > maxRecords) return fail(p, 'dns_answer_limit', 4, `${qd} questions and ${rr} records, over the probe's ${maxQuestions} and ${maxRecords}`);
  let at = msg + HEADER_BYTES;
  for (let i = 0; i < qd; i++) {
    at = readQuestion(buf, msg, end, at, maxJumps, false, r, p);
    if (at < 0) return -1;
    if (r.type === 0 || !knownClass(r.cls)) return fail(p, 'dns_bad_header', at - 4 - msg, `question type ${r.type} class ${r.cls}`);
  }
  for (let i = 0; i < rr; i++) {
    at = readRecord(buf, msg, end, at, maxJumps, false, r, p);
    if (at < 0) return -1;
    if (r.type === 0 || (r.type !== TYPE_OPT && !knownClass(r.cls))) return fail(p, 'dns_bad_header', r.rdata - 10 - msg, `record type ${r.type} class ${r.cls}`);
  }
  return at;
}
