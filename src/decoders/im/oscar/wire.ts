/**
 * OSCAR wire primitives: FLAP headers, SNAC headers, TLV chains and user info blocks, read in place from a view.
 *
 * References: the OSCAR protocol documentation AOL published for AIM developers (2008, "OSCAR Protocol": FLAP,
 * SNAC, TLV, user info), Alexander Shutko's "Unofficial ICQ/OSCAR documentation" (iserverd.khstu.ru/oscar), and
 * Wireshark's dissectors `packet-aim.c` (`aim`) and its family dissectors (`aim_messaging`, `aim_ssi`, …).
 * FLAP: 0x2A, channel (1 sign-on, 2 SNAC data, 3 error, 4 sign-off, 5 keep-alive), 16-bit sequence, 16-bit length,
 * all big-endian. SNAC: family, subtype, flags (0x8000: a length-prefixed version block precedes the data), request id.
 *
 * Everything here reads `buf[s, e)` without copying; the results that are strings are decoded copies, the rest are
 * offsets valid as long as the view is.
 */
import { latin1 } from '../text.js';

export const FLAP_START = 0x2a;
export const FLAP_HEADER = 6;

export const enum Channel {
  SignOn = 1,
  Data = 2,
  Error = 3,
  SignOff = 4,
  KeepAlive = 5,
}

export const u16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
export const u32 = (b: Uint8Array, i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

/** Whether `b[i, i+6)` can be a FLAP header: the start byte and a channel from 1 to 5. */
export function flapStart(b: Uint8Array, i: number): boolean {
  return b[i] === FLAP_START && b[i + 1]! >= 1 && b[i + 1]! <= 5;
}

/** A TLV found in a chain: type and the value's offsets. */
export interface Tlv {
  type: number;
  s: number;
  e: number;
}

/**
 * TLVs of `buf[s, e)`, at most `count` of them (Infinity: up to `e`). Returns null when a TLV runs past `e` (the
 * chain is cut or is not a TLV chain). `end` of the result is where the chain stopped.
 */
export function readTlvs(buf: Uint8Array, s: number, e: number, count = Infinity): { tlvs: Tlv[]; end: number } | null {
  const tlvs: Tlv[] = [];
  let at = s;
  while (tlvs.length < count && at < e) {
    if (at + 4 > e) return null;
    const type = u16(buf, at);
    const len = u16(buf, at + 2);
    if (at + 4 + len > e) return null;
    tlvs.push({ type, s: at + 4, e: at + 4 + len });
    at += 4 + len;
  }
  if (tlvs.length < count && count !== Infinity) return null;
  return { tlvs, end: at };
}

export function findTlv(tlvs: readonly Tlv[], type: number): Tlv | undefined {
  return tlvs.find((t) => t.type === type);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as a name (screen name, UIN, group, file name): UTF-8 when valid, else ISO-8859-1. */
export function nameText(buf: Uint8Array, s: number, e: number): string {
  try {
    return utf8.decode(buf.subarray(s, e));
  } catch {
    return latin1(buf, s, e);
  }
}

/** Screen names compare without case and spaces (AOL's normalisation); UINs are digits anyway. */
export function normName(n: string): string {
  return n.replace(/ /g, '').toLowerCase();
}

/** A screen name that is an ICQ UIN (all digits, 5 to 10 of them). */
export function isUin(n: string): boolean {
  return /^[0-9]{5,10}$/.test(n);
}

/** What a user info block (name, warning level, TLV count, TLVs) tells. */
export interface UserInfo {
  name: string;
  /** User class (TLV 1), null when absent. */
  userClass: number | null;
  /** ICQ status (low 16 bits of TLV 6), null when absent. */
  icqStatus: number | null;
  /** Offset just past the block. */
  end: number;
}

/** The user info block at `buf[s, e)`, or null when it is cut. */
export function readUserInfo(buf: Uint8Array, s: number, e: number): UserInfo | null {
  if (s >= e) return null;
  const n = buf[s]!;
  if (s + 1 + n + 4 > e || n === 0) return null;
  const name = nameText(buf, s + 1, s + 1 + n);
  const count = u16(buf, s + 1 + n + 2);
  const chain = readTlvs(buf, s + 1 + n + 4, e, count);
  if (chain === null) return null;
  const cls = findTlv(chain.tlvs, 0x0001);
  const st = findTlv(chain.tlvs, 0x0006);
  return {
    name,
    userClass: cls !== undefined && cls.e - cls.s >= 2 ? (cls.e - cls.s >= 4 ? u32(buf, cls.s) : u16(buf, cls.s)) : null,
    icqStatus: st !== undefined && st.e - st.s >= 4 ? u16(buf, st.s + 2) : null,
    end: chain.end,
  };
}

/** The presence a user info block shows: AIM's away class bit (0x20), else the ICQ status (Shutko: USER_STATUS_*). */
export function presenceOf(u: UserInfo): string {
  const st = u.icqStatus;
  if (st !== null) {
    if (st & 0x0100) return 'invisible';
    if (st & 0x0002) return 'dnd';
    if (st & 0x0010) return 'occupied';
    if (st & 0x0004) return 'na';
    if (st & 0x0001) return 'away';
    if (st & 0x0020) return 'free_for_chat';
  }
  if (u.userClass !== null && u.userClass & 0x0020) return 'away';
  return 'online';
}

/** A SNAC header over a FLAP channel-2 payload `buf[s, e)`: where its data starts, or null when too short. */
export interface Snac {
  family: number;
  subtype: number;
  flags: number;
  reqId: number;
  /** Start of the SNAC data (past the optional version block of flags 0x8000). */
  s: number;
  e: number;
}

export function readSnac(buf: Uint8Array, s: number, e: number): Snac | null {
  if (e - s < 10) return null;
  const flags = u16(buf, s + 4);
  let d = s + 10;
  if (flags & 0x8000) {
    if (d + 2 > e) return null;
    d += 2 + u16(buf, d);
    if (d > e) return null;
  }
  return { family: u16(buf, s), subtype: u16(buf, s + 2), flags, reqId: u32(buf, s + 6), s: d, e };
}

/** IPv4 address of a 4-byte value, dotted. */
export function ipv4(buf: Uint8Array, s: number): string {
  return `${buf[s]}.${buf[s + 1]}.${buf[s + 2]}.${buf[s + 3]}`;
}

export { latin1 } from '../text.js';
