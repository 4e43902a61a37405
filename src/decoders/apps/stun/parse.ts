/**
 * STUN message parsing (RFC 8489, which obsoletes RFC 5389; classic RFC 3489 without the magic cookie; TURN RFC 8656
 * methods and attributes; ICE RFC 8445 attributes; MS-TURN / MS-ICE2 vendor attributes). Pure functions over a view:
 * nothing here allocates except the text of REALM / SOFTWARE / USERNAME when asked for.
 *
 * Header (20 bytes): type (2 bits 00, 14 bits method+class), length (of the attributes, a multiple of 4), magic
 * cookie 0x2112A442 (absent in RFC 3489), transaction id (12 bytes; 16 with the cookie's 4 in RFC 3489).
 * Attributes: type (2), length (2, unpadded), value padded to 4 bytes.
 */
import { ipv6Text } from '../../../util/ipv6.js';
import { latin1 } from '../../im/text.js';

export const STUN_HEADER = 20;
export const MAGIC_COOKIE = 0x2112a442;
/** XORed into the CRC-32 of a FINGERPRINT attribute (RFC 8489 §14.7: "STUN" in ASCII). */
export const FINGERPRINT_XOR = 0x5354554e;

export const ATTR = {
  MAPPED_ADDRESS: 0x0001,
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  XOR_MAPPED_ADDRESS: 0x0020,
  SOFTWARE: 0x8022,
  FINGERPRINT: 0x8028,
} as const;

/** The method (12 bits) of a message type (RFC 8489 §5: bits M0-M11 interleaved with the class bits C0, C1). */
export function stunMethod(type: number): number {
  return (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
}

/** The class of a message type: 0 request, 1 indication, 2 success response, 3 error response. */
export function stunClass(type: number): number {
  return ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
}

/** WhatsApp's own message types (0x0800-0x0805, with the cookie), seen on its relays (nDPI stun.c). */
function whatsappType(type: number): boolean {
  return type >= 0x0800 && type <= 0x0805 && type !== 0x0803;
}

/** Message types of classic STUN (RFC 3489 §11.1) that a cookie-less message may have. */
function classicType(type: number): boolean {
  return type === 0x0001 || type === 0x0101 || type === 0x0111 || type === 0x0002 || type === 0x0102 || type === 0x0112;
}

const u16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/**
 * Whether `data[off, off + len)` starts a STUN message: returns the message's total length (header + attributes),
 * 0 when it is not STUN, -1 when more bytes are needed to tell (fewer than 20). `exact`: the message must fill the
 * view (a UDP datagram holds one message). A message with the magic cookie needs a known method (1-12, RFC 8489 /
 * 8656 / 6062) or one of WhatsApp's types; a cookie-less (RFC 3489) message needs a classic type, at least one
 * attribute, and attributes of the classic range (0x0001-0x000b) that end exactly at the message's end.
 */
export function stunMessageLength(data: Uint8Array, off: number, len: number, exact: boolean): number {
  if (len < STUN_HEADER) return len >= 2 && (data[off]! & 0xc0) !== 0 ? 0 : -1;
  const type = u16(data, off);
  const mlen = u16(data, off + 2);
  if ((type & 0xc000) !== 0 || type === 0) return 0;
  const total = STUN_HEADER + mlen;
  if (exact && total !== len) return 0;
  // RFC 8489 says the length is a multiple of 4; WhatsApp's relays send an unpadded last attribute (an Allocate of
  // length 106), so with the cookie the length is taken as it is.
  if (u32(data, off + 4) === MAGIC_COOKIE) {
    if (whatsappType(type)) return total;
    const m = stunMethod(type);
    return m >= 1 && m <= 12 && m !== 5 ? total : 0;
  }
  // Classic STUN (RFC 3489): only when the whole message is here and its attributes check out.
  if (!classicType(type) || mlen === 0 || (mlen & 3) !== 0 || total > len) return 0;
  let at = off + STUN_HEADER;
  const end = off + total;
  while (at < end) {
    if (at + 4 > end) return 0;
    const t = u16(data, at);
    const l = u16(data, at + 2);
    if (t === 0 || t > 0x000b || (l & 3) !== 0) return 0;
    at += 4 + l;
  }
  return at === end ? total : 0;
}

/** A parsed attribute, as offsets into the view it was read from (valid only as long as that view). */
export interface StunAttr {
  type: number;
  /** Value offset and unpadded length. */
  at: number;
  len: number;
}

export interface AttrWalk {
  /** Number of attributes read. */
  count: number;
  /** An anomaly found while walking (attribute past the end, too many attributes), or null. */
  error: 'truncated' | 'too_many' | null;
  /** Offset of the problem (into the view), -1 when none. */
  errorAt: number;
}

/**
 * Walk the attributes of the message at `off` (of total length `total`), calling `visit` for each whole attribute.
 * Stops at `maxAttributes` (error too_many) and at an attribute whose header or value does not fit (error
 * truncated). Values are padded to 4 bytes except that the last attribute's padding may be missing (RFC 8489 §14
 * says it must be there; some stacks leave it out).
 */
export function walkAttributes(data: Uint8Array, off: number, total: number, maxAttributes: number, visit: (a: StunAttr) => void, out: AttrWalk): AttrWalk {
  out.count = 0;
  out.error = null;
  out.errorAt = -1;
  const end = off + total;
  let at = off + STUN_HEADER;
  const attr: StunAttr = { type: 0, at: 0, len: 0 };
  while (at < end) {
    if (out.count >= maxAttributes) {
      out.error = 'too_many';
      out.errorAt = at;
      return out;
    }
    if (at + 4 > end) {
      out.error = 'truncated';
      out.errorAt = at;
      return out;
    }
    const l = u16(data, at + 2);
    if (at + 4 + l > end) {
      out.error = 'truncated';
      out.errorAt = at;
      return out;
    }
    attr.type = u16(data, at);
    attr.at = at + 4;
    attr.len = l;
    out.count++;
    visit(attr);
    at += 4 + ((l + 3) & ~3);
  }
  return out;
}

// ── CRC-32 (ISO-HDLC, as zlib) for FINGERPRINT ──

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

export function crc32(data: Uint8Array, off: number, len: number): number {
  let c = -1;
  for (let i = off, e = off + len; i < e; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * Check a FINGERPRINT attribute whose value starts at `valueAt` in the message starting at `off`: the CRC-32 of the
 * message up to the attribute, with the header's length field as it is in the message (which counts the
 * FINGERPRINT attribute itself, RFC 8489 §14.7), XOR 0x5354554E.
 */
export function fingerprintOk(data: Uint8Array, off: number, valueAt: number): boolean {
  const attrStart = valueAt - 4;
  return (crc32(data, off, attrStart - off) ^ FINGERPRINT_XOR) >>> 0 === u32(data, valueAt);
}

/** An address attribute (MAPPED-ADDRESS, XOR-*-ADDRESS) as text, or null when malformed. */
export function readAddress(data: Uint8Array, msgOff: number, a: StunAttr, xor: boolean): { family: 4 | 6; address: string; port: number } | null {
  if (a.len < 8) return null;
  const fam = data[a.at + 1];
  let port = u16(data, a.at + 2);
  if (xor) port ^= MAGIC_COOKIE >>> 16;
  if (fam === 0x01 && a.len === 8) {
    const raw = u32(data, a.at + 4);
    const ip = xor ? (raw ^ MAGIC_COOKIE) >>> 0 : raw;
    return { family: 4, address: `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`, port };
  }
  if (fam === 0x02 && a.len === 20) {
    // XOR with the cookie then the transaction id (RFC 8489 §14.2).
    const groups: number[] = [];
    for (let i = 0; i < 16; i += 2) {
      let hi = data[a.at + 4 + i]!;
      let lo = data[a.at + 5 + i]!;
      if (xor) {
        hi ^= data[msgOff + 4 + i]!;
        lo ^= data[msgOff + 5 + i]!;
      }
      groups.push((hi << 8) | lo);
    }
    return { family: 6, address: ipv6Text(groups), port };
  }
  return null;
}

/** The attribute's value as text (latin1; the attributes read this way are UTF-8 in practice but only matched as ASCII), at most `max` bytes. */
export function attrText(data: Uint8Array, a: StunAttr, max: number): string {
  return latin1(data, a.at, a.at + Math.min(a.len, max));
}
