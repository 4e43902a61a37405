/**
 * YMSG detection by payload, in either direction and on any port (5050, also 80 and 23 where firewalls forced it).
 *
 * Every YMSG packet, in both directions, starts with the magic `YMSG` and a 16-bit big-endian version whose high byte
 * is 0 (versions 6 to 17 exist). The probe says Yes on the magic and a version of at most MAX_VERSION, No on anything
 * else at the start of a stream. Picked up mid-stream, the first bytes may be the middle of a packet: it looks for the
 * magic anywhere in what it was given and says Need until one shows up (the dispatcher's byte budget ends the wait).
 * YMSG tunnelled in HTTP (`POST /notify` bodies) is not recognised: that flow is HTTP.
 */
import { Probe, type Dir } from '../types.js';
import { findMagic, MAX_VERSION } from './parse.js';

const MAGIC = 'YMSG';

function versionOk(data: Uint8Array, at: number): boolean {
  return ((data[at + 4]! << 8) | data[at + 5]!) <= MAX_VERSION;
}

/** The YMSG probe (ImProtocol.probe): pure. */
export function probeYmsg(data: Uint8Array, off: number, len: number, _dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  if (!midstream) {
    for (let k = 0; k < 4 && k < len; k++) if (data[off + k] !== MAGIC.charCodeAt(k)) return Probe.No;
    if (len < 6) return Probe.Need;
    return versionOk(data, off) ? Probe.Yes : Probe.No;
  }
  let at = off;
  while (at < end) {
    const m = findMagic(data, at, end);
    if (m >= end) return Probe.Need;
    if (end - m < 6) return Probe.Need;
    if (versionOk(data, m)) return Probe.Yes;
    at = m + 1;
  }
  return Probe.Need;
}
