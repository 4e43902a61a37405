/**
 * OSCAR and TOC detection by payload, in either direction and on any port (OSCAR ran on 5190 and, in clear text, on
 * 443; TOC on 9898, 5190, 80…).
 *
 * Both sides of an OSCAR connection (authorizer or BOS) begin with a FLAP sign-on frame: 0x2A, channel 1, sequence,
 * a length of at least 4, and the FLAP version 0x00000001 (AOL's OSCAR documentation, "FLAP"; Wireshark `aim`).
 * A TOC client first sends the line `FLAPON\r\n\r\n` (TOC(1) and TOC2 documents), then FLAP frames; its server answers
 * with the same sign-on frame as OSCAR.
 * A connection picked up mid-stream starts with any channel: there two consecutive FLAP headers are asked for, the
 * second with the next sequence number, which random bytes practically never give.
 * HTTP, TLS (0x16), SSH, IRC and XMPP begin with other bytes; MSNP, YMSG and the like with letters.
 */
import { Probe, type Dir } from '../types.js';
import { FLAP_HEADER, flapStart, u16 } from './wire.js';
import { OSCAR_LIMITS } from './limits.js';

const FLAPON = [0x46, 0x4c, 0x41, 0x50, 0x4f, 0x4e, 0x0d, 0x0a, 0x0d, 0x0a]; // "FLAPON\r\n\r\n"

/** Compare the start of `data[off, end)` with `pat`: 1 match, 0 undecided (too short), -1 different. */
function prefix(data: Uint8Array, off: number, end: number, pat: readonly number[]): -1 | 0 | 1 {
  for (let i = 0; i < pat.length; i++) {
    if (off + i >= end) return 0;
    if (data[off + i] !== pat[i]) return -1;
  }
  return 1;
}

/** Whether a sign-on frame starts at `off`: channel 1, length ≥ 4, version 1. Need when too short to tell. */
function signOn(data: Uint8Array, off: number, end: number): Probe {
  if (end - off < 2) return end === off || data[off] === 0x2a ? Probe.Need : Probe.No;
  if (data[off] !== 0x2a || data[off + 1] !== 1) return Probe.No;
  if (end - off < FLAP_HEADER) return Probe.Need;
  const len = u16(data, off + 4);
  if (len < 4 || len > OSCAR_LIMITS.maxFlapBytes) return Probe.No;
  return prefix(data, off + 6, end, [0, 0, 0, 1]) === 1 ? Probe.Yes : prefix(data, off + 6, end, [0, 0, 0, 1]) === 0 ? Probe.Need : Probe.No;
}

/** Mid-stream: a FLAP frame followed by another with the next sequence number. */
function chained(data: Uint8Array, off: number, end: number): Probe {
  if (end - off < FLAP_HEADER) return data[off] === 0x2a || end === off ? Probe.Need : Probe.No;
  if (!flapStart(data, off)) return Probe.No;
  const len = u16(data, off + 4);
  if (len > OSCAR_LIMITS.maxFlapBytes) return Probe.No;
  const next = off + FLAP_HEADER + len;
  if (end - next < FLAP_HEADER) return Probe.Need;
  if (!flapStart(data, next)) return Probe.No;
  return u16(data, next + 2) === ((u16(data, off + 2) + 1) & 0xffff) ? Probe.Yes : Probe.No;
}

/** The OSCAR/TOC probe (ImProtocol.probe): pure, looks at the first frame or two. */
export function probeOscar(data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  if (len === 0) return Probe.Need;
  if (dir === 0 && data[off] === 0x46) {
    const p = prefix(data, off, end, FLAPON);
    return p === 1 ? Probe.Yes : p === 0 ? Probe.Need : Probe.No;
  }
  const s = signOn(data, off, end);
  if (s !== Probe.No || !midstream) return s;
  return chained(data, off, end);
}

const OFT2 = [0x4f, 0x46, 0x54, 0x32]; // "OFT2"
/** OFT2 header types (Pidgin `oft.c`, Shutko): prompt, ack, done, resume request/accept/ack, checksum. */
const OFT_TYPES = new Set([0x0101, 0x0202, 0x0204, 0x0205, 0x0106, 0x0207, 0x1108]);

/** The OFT probe: an OFT2 header (magic, header length ≥ 256, a known type). */
export function probeOft(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  const end = off + len;
  const p = prefix(data, off, end, OFT2);
  if (p !== 1) return p === 0 ? Probe.Need : Probe.No;
  if (len < 8) return Probe.Need;
  const hl = u16(data, off + 4);
  return hl >= 256 && hl <= 2048 && OFT_TYPES.has(u16(data, off + 6)) ? Probe.Yes : Probe.No;
}
