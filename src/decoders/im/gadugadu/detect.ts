/**
 * Gadu-Gadu detection by payload, in either direction and on any port (8074 is IANA's; 443 was the fallback).
 *
 * GG is binary with no magic: a flow is recognised by its first packet. The server speaks first with GG_WELCOME
 * (`01 00 00 00 04 00 00 00` and a 4-byte seed); the client answers with one of the login packets (GG_LOGIN 0x0c,
 * LOGIN_EXT 0x13, LOGIN60 0x15, LOGIN70 0x19, LOGIN80BETA 0x29, LOGIN80 0x31) of a plausible length (parse.ts
 * LOGINS, at most MAX_LOGIN_BYTES), a UIN that is not 0, and for the hashed logins a hash type of 1 (GG32) or 2
 * (SHA-1). Picked up mid-stream, two consecutive packets of types known for that direction and of sane lengths are
 * needed. GG 10.5+ (GG_LOGIN105, protocol buffers) is not recognised from the client's side; its WELCOME is.
 */
import { Probe, type Dir } from '../types.js';
import { CLIENT_TYPES, HEADER_BYTES, LOGINS, MAX_LOGIN_BYTES, R, SERVER_TYPES, u32 } from './parse.js';

/** Largest packet a mid-stream probe believes in. */
const MIDSTREAM_MAX = 65536;

function loginOk(data: Uint8Array, off: number, len: number): Probe {
  if (len < HEADER_BYTES) return Probe.Need;
  const type = u32(data, off);
  const plen = u32(data, off + 4);
  const spec = LOGINS.get(type);
  if (spec === undefined || plen < spec[0] || plen > MAX_LOGIN_BYTES) return Probe.No;
  const need = HEADER_BYTES + Math.max(4, spec[1] + 1);
  if (len < need) return Probe.Need;
  if (u32(data, off + HEADER_BYTES) === 0) return Probe.No;
  if (spec[1] >= 0) {
    const h = data[off + HEADER_BYTES + spec[1]];
    if (h !== 1 && h !== 2) return Probe.No;
  }
  return Probe.Yes;
}

function midstream(data: Uint8Array, off: number, len: number, dir: Dir): Probe {
  const types = dir === 0 ? CLIENT_TYPES : SERVER_TYPES;
  let at = off;
  const end = off + len;
  for (let n = 0; n < 2; n++) {
    if (end - at < HEADER_BYTES) return Probe.Need;
    const type = u32(data, at);
    const plen = u32(data, at + 4);
    if (!types.has(type) || plen > MIDSTREAM_MAX) return Probe.No;
    at += HEADER_BYTES + plen;
  }
  return Probe.Yes;
}

/** The Gadu-Gadu probe (ImProtocol.probe): pure. */
export function probeGadu(data: Uint8Array, off: number, len: number, dir: Dir, mid: boolean): Probe {
  if (mid) return midstream(data, off, len, dir);
  if (dir === 0) return loginOk(data, off, len);
  // The server's first packet is GG_WELCOME with its 4-byte seed.
  const want = [R.WELCOME, 0, 0, 0, 4, 0, 0, 0];
  for (let i = 0; i < want.length && i < len; i++) if (data[off + i] !== want[i]) return Probe.No;
  return len < HEADER_BYTES ? Probe.Need : Probe.Yes;
}
