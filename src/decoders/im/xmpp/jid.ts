/**
 * Small helpers: JID parts (RFC 7622: localpart@domainpart/resourcepart; no stringprep or PRECIS normalisation is
 * applied, JIDs are kept as the stanzas write them), strict base64 (RFC 4648 §4, whitespace allowed as XMPP
 * payloads wrap lines) and IP literals as text in the form the flow table prints them (dotted IPv4, RFC 5952 IPv6).
 */
import { isIP } from 'node:net';
import { ipv6Text } from '../../../util/ipv6.js';

/** The JID without its resource. */
export function bareJid(jid: string): string {
  const slash = jid.indexOf('/');
  return slash < 0 ? jid : jid.slice(0, slash);
}

export function resourceOf(jid: string): string | null {
  const slash = jid.indexOf('/');
  return slash < 0 ? null : jid.slice(slash + 1);
}

export function domainOf(jid: string): string {
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  return at < 0 ? bare : bare.slice(at + 1);
}

export function localOf(jid: string): string | null {
  const bare = bareJid(jid);
  const at = bare.indexOf('@');
  return at < 0 ? null : bare.slice(0, at);
}

const B64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** Decode base64 text; null when it is not base64 (Buffer.from alone would silently skip bad characters). */
export function decodeBase64(text: string): Buffer | null {
  if (!B64.test(text)) return null;
  const compact = text.replace(/\s+/g, '');
  if (compact.length % 4 === 1) return null;
  return Buffer.from(compact, 'base64');
}

/** An IP literal as the flow table writes addresses (RFC 5952 for IPv6); null when `host` is not an IP literal. */
export function canonicalIp(host: string): string | null {
  let h = host.trim();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  const v = isIP(h);
  if (v === 4) return h;
  if (v !== 6) return null;
  // Expand to eight groups (an embedded IPv4 tail becomes two), then compress the longest run of zeros (≥ 2).
  let tail: number[] = [];
  const lastColon = h.lastIndexOf(':');
  if (h.slice(lastColon + 1).includes('.')) {
    const q = h.slice(lastColon + 1).split('.').map(Number);
    tail = [((q[0] ?? 0) << 8) | (q[1] ?? 0), ((q[2] ?? 0) << 8) | (q[3] ?? 0)];
    h = h.slice(0, lastColon + 1) + '0';
  }
  const [head, rest] = h.includes('::') ? h.split('::') : [h, null];
  const parse = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
  let groups: number[];
  if (rest === null || rest === undefined) groups = parse(head);
  else {
    const a = parse(head);
    const b = parse(rest);
    groups = [...a, ...new Array<number>(8 - a.length - b.length - (tail.length > 0 ? 1 : 0)).fill(0), ...b];
  }
  if (tail.length > 0) groups = [...groups.slice(0, groups.length - 1), ...tail];
  return ipv6Text(groups);
}
