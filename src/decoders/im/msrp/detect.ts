/**
 * MSRP detection by payload (RFC 4975 §7.1, §9): a connection starts with an MSRP request (normally the bodiless SEND
 * the active side sends at once, §7.1) and the other side answers `MSRP <transact-id> 200 OK`: the first line of each
 * direction is `MSRP <transact-id> <METHOD>` or `MSRP <transact-id> <3-digit status>[ comment]`. Nothing else starts
 * with `MSRP ` followed by a 4-to-32-character identifier.
 */
import { Probe, type Dir } from '../types.js';
import { parseStartLine } from './parse.js';
import { latin1 } from '../sip/text.js';

/** Longest start line looked at: `MSRP ` + 32-character id + a method or status and comment. */
export const MAX_START_LINE = 256;

const PREFIX = [0x4d, 0x53, 0x52, 0x50, 0x20]; // "MSRP "

export function probeMsrp(data: Uint8Array, off: number, len: number, _dir: Dir, _midstream: boolean): Probe {
  const n = Math.min(len, PREFIX.length);
  for (let i = 0; i < n; i++) if (data[off + i] !== PREFIX[i]) return Probe.No;
  const lim = Math.min(off + len, off + MAX_START_LINE);
  const i = data.subarray(off, lim).indexOf(0x0a);
  if (i < 0) return lim - off >= MAX_START_LINE ? Probe.No : Probe.Need;
  const e = i > 0 && data[off + i - 1] === 0x0d ? off + i - 1 : off + i;
  return parseStartLine(latin1(data, off, e)) === null ? Probe.No : Probe.Yes;
}
