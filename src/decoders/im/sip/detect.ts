/**
 * SIP detection by payload, in either direction, on any port and over UDP or TCP (RFC 3261 §7.1, §7.2): the first line
 * (after at most MAX_JUNK bytes of CR, LF, NUL, space or tab: keep-alives of RFC 5626 and the zero-byte NAT pings some
 * phones send, which Zeek calls junk before the request) is a request line ending in `SIP/2.0` or a status line
 * starting with `SIP/2.0 <3 digits>`. HTTP, RTSP and every other line protocol end or start with another version; IRC
 * and XMPP have no such line; binary protocols fail on the first bytes. On a TCP connection picked up mid-stream the
 * first lines may be the tail of a message: the first start line among the first bytes counts.
 */
import { Probe, type Dir } from '../types.js';
import { findLf, isStartLineAt } from './parse.js';

/** Leading keep-alive or junk bytes tolerated before the start line. */
export const MAX_JUNK = 64;
/** Longest start line looked at (a Request-URI is rarely over a few hundred bytes). */
export const MAX_START_LINE = 2048;

const isJunk = (b: number) => b === 0x0d || b === 0x0a || b === 0x00 || b === 0x20 || b === 0x09;

/** RFC 3261 token characters, plus `/` for the `SIP/2.0` of a status line. */
function wordChar(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2f || b === 0x2d || b === 0x2e || b === 0x21 || b === 0x25 || b === 0x2a || b === 0x5f || b === 0x2b || b === 0x60 || b === 0x27 || b === 0x7e;
}

/** Whether an unfinished first line could still become a start line: a word, a space, then no control bytes. */
function partialOk(data: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && wordChar(data[i]!)) i++;
  if (i === e) return true;
  if (i === s || data[i] !== 0x20) return false;
  for (; i < e; i++) {
    const b = data[i]!;
    if (b < 0x20 && b !== 0x0d && b !== 0x09) return false;
  }
  return true;
}

/** The SIP probe (ImProtocol.probe): pure, looks at the first line only (or, mid-stream, the first start line). */
export function probeSip(data: Uint8Array, off: number, len: number, _dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  let at = off;
  while (at < end && at - off < MAX_JUNK && isJunk(data[at]!)) at++;
  if (at === end) return at - off < MAX_JUNK ? Probe.Need : Probe.No;
  if (midstream) return probeMidstream(data, at, end);
  const lim = Math.min(end, at + MAX_START_LINE);
  const lf = findLf(data, at, lim);
  if (lf < 0) return lim - at >= MAX_START_LINE || !partialOk(data, at, lim) ? Probe.No : Probe.Need;
  return isStartLineAt(data, at, lf) ? Probe.Yes : Probe.No;
}

function probeMidstream(data: Uint8Array, s: number, e: number): Probe {
  let at = s;
  for (let n = 0; n < 64 && at < e; n++) {
    const lf = findLf(data, at, Math.min(e, at + MAX_START_LINE));
    if (lf < 0) break;
    if (isStartLineAt(data, at, lf)) return Probe.Yes;
    at = lf + 1;
  }
  return e - s >= 8192 ? Probe.No : Probe.Need;
}
