/**
 * XMPP detection by payload, either direction, any port: an optional UTF-8 BOM and XML declaration, then a stream
 * header (`<stream:stream` with the streams namespace and a jabber:client, jabber:server or jabber:component:accept
 * default namespace; RFC 6120 §4.7, XEP-0114). Picked up mid-stream, the first bytes may instead be a stanza
 * (`<message`, `<presence`, `<iq`) whose start tag declares a jabber namespace, or, mid-stream only, carries the
 * attributes a stanza has (an iq with type and id, a message or presence with a to or from JID).
 *
 * The probe reads at most `probeMaxBytes` (default 4096) to find the end of that start tag; anything that does not
 * start with "<" (HTTP, TLS, SIP, binary) is No at the first byte. XMPP over TLS from the first byte (port 5223) is
 * left to TLS detection, and BOSH/WebSocket framings to HTTP: No here.
 *
 * Also: the probe of XEP-0065 SOCKS5 bytestream connections (`xmpp-s5b`): the SOCKS5 greeting then a CONNECT to a
 * 40-hex-digit domain (SHA-1 of sid and JIDs) port 0 from the client, or the method choice then the reply with that
 * address from the server (RFC 1928 §3–6, XEP-0065 §5.3.2).
 */
import { Probe, type Dir } from '../types.js';
import { XMPP_LIMITS } from './schema.js';

const STREAM_NS = 'http://etherx.jabber.org/streams';
const JABBER_NS = ['jabber:client', 'jabber:server', 'jabber:component:accept'];

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** 1: `text` is at `p`; 0: the bytes so far agree but end too soon; -1: it is not there. */
function at(data: Uint8Array, p: number, end: number, text: string): -1 | 0 | 1 {
  for (let i = 0; i < text.length; i++) {
    if (p + i >= end) return 0;
    if (data[p + i] !== text.charCodeAt(i)) return -1;
  }
  return 1;
}

/** Index of the ">" ending the tag opened at `p` (quotes respected), -1 when not within `end`. */
function tagEnd(data: Uint8Array, p: number, end: number): number {
  let quote = 0;
  for (let i = p + 1; i < end; i++) {
    const b = data[i]!;
    if (quote !== 0) {
      if (b === quote) quote = 0;
    } else if (b === 0x22 || b === 0x27) quote = b;
    else if (b === 0x3e) return i;
    else if (b === 0x3c) return -2; // a "<" inside a tag: not XML
  }
  return -1;
}

/** The attributes of a start tag `data[p, gt)` as name → value (ASCII only; enough to check namespaces). */
function attributes(data: Uint8Array, p: number, gt: number): Map<string, string> {
  const text = Buffer.from(data.buffer, data.byteOffset + p, gt - p).toString('latin1');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/([A-Za-z_:][\w.:-]*)\s*=\s*(["'])(.*?)\2/g)) out.set(m[1]!, m[3]!);
  return out;
}

export function probeXmpp(data: Uint8Array, off: number, len: number, _dir: Dir, midstream: boolean): Probe {
  const end = off + Math.min(len, XMPP_LIMITS.probeMaxBytes);
  const full = len <= XMPP_LIMITS.probeMaxBytes; // more may come only when we have not read our whole budget
  let p = off;
  if (data[p] === 0xef && data[p + 1] === 0xbb && data[p + 2] === 0xbf) p += 3;
  while (p < end && isSpace(data[p])) p++;
  if (p >= end) return full ? Probe.Need : Probe.No;
  if (data[p] !== 0x3c) return Probe.No;
  const decl = at(data, p, end, '<?xml');
  if (decl === 0) return full ? Probe.Need : Probe.No;
  if (decl === 1) {
    const q = data.indexOf(0x3e, p);
    if (q < 0 || q >= end) return full ? Probe.Need : Probe.No;
    if (data[q - 1] !== 0x3f) return Probe.No;
    p = q + 1;
    while (p < end && isSpace(data[p])) p++;
    if (p >= end) return full ? Probe.Need : Probe.No;
    if (data[p] !== 0x3c) return Probe.No;
  }
  // The element name.
  let q = p + 1;
  while (q < end && q - p < 64 && !isSpace(data[q]) && data[q] !== 0x3e && data[q] !== 0x2f) q++;
  if (q >= end) return full ? Probe.Need : Probe.No;
  const name = Buffer.from(data.buffer, data.byteOffset + p + 1, q - p - 1).toString('latin1');
  const colon = name.indexOf(':');
  const local = colon < 0 ? name : name.slice(colon + 1);
  const isStanza = colon < 0 && (name === 'message' || name === 'presence' || name === 'iq');
  if (local !== 'stream' && !isStanza) return Probe.No;
  const gt = tagEnd(data, p, end);
  if (gt === -2) return Probe.No;
  if (gt < 0) return full ? Probe.Need : Probe.No;
  const attrs = attributes(data, p, gt);
  const dflt = attrs.get('xmlns') ?? null;
  if (local === 'stream') {
    const prefix = colon < 0 ? 'xmlns' : `xmlns:${name.slice(0, colon)}`;
    if (attrs.get(prefix) !== STREAM_NS) return Probe.No;
    return dflt !== null && JABBER_NS.includes(dflt) ? Probe.Yes : Probe.No;
  }
  // A stanza first: with a jabber namespace anywhere; mid-stream also with a stanza's usual attributes.
  if (dflt !== null) return JABBER_NS.includes(dflt) ? Probe.Yes : Probe.No;
  if (!midstream) return Probe.No;
  const jid = (v: string | undefined): boolean => v !== undefined && /^[^\s@/<>"']+(@[^\s@/<>"']+)?(\/[^<>]*)?$/.test(v) && /[.@]/.test(v);
  if (name === 'iq') {
    const type = attrs.get('type');
    return attrs.has('id') && (type === 'get' || type === 'set' || type === 'result' || type === 'error') ? Probe.Yes : Probe.No;
  }
  return jid(attrs.get('to')) || jid(attrs.get('from')) ? Probe.Yes : Probe.No;
}

const HEX = (c: number | undefined): boolean => c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46));

/** `05 00 03 28 <40 hex> 00 00` at `p` (after the version and command/status byte): the XEP-0065 address. */
function s5bAddress(data: Uint8Array, p: number, end: number): Probe {
  const want = p + 3 + 40 + 2;
  if (end > p && data[p] !== 0x00) return Probe.No;
  if (end > p + 1 && data[p + 1] !== 0x03) return Probe.No;
  if (end > p + 2 && data[p + 2] !== 40) return Probe.No;
  for (let i = p + 3; i < Math.min(end, p + 43); i++) if (!HEX(data[i])) return Probe.No;
  if (end < want) return Probe.Need;
  return data[p + 43] === 0 && data[p + 44] === 0 ? Probe.Yes : Probe.No;
}

export function probeS5b(data: Uint8Array, off: number, len: number, dir: Dir, midstream: boolean): Probe {
  if (midstream) return Probe.No;
  const end = off + len;
  if (len === 0) return Probe.Need;
  if (data[off] !== 0x05) return Probe.No;
  if (dir === 0) {
    // Greeting: VER NMETHODS METHODS…; then the CONNECT request VER CMD=1 RSV=0 ATYP=3 LEN=40 hex PORT=0.
    if (len < 2) return Probe.Need;
    const n = data[off + 1]!;
    if (n === 0) return Probe.No;
    const req = off + 2 + n;
    if (end <= req) return Probe.Need;
    if (data[req] !== 0x05) return Probe.No;
    if (end > req + 1 && data[req + 1] !== 0x01) return Probe.No;
    return end <= req + 1 ? Probe.Need : s5bAddress(data, req + 2, end);
  }
  // Method choice VER METHOD=0, then the reply VER REP=0 RSV ATYP=3 LEN=40 hex PORT=0.
  if (len < 2) return Probe.Need;
  if (data[off + 1] !== 0x00) return Probe.No;
  if (len < 3) return Probe.Need;
  if (data[off + 2] !== 0x05) return Probe.No;
  if (len < 4) return Probe.Need;
  if (data[off + 3] !== 0x00) return Probe.No;
  return s5bAddress(data, off + 4, end);
}
