/**
 * CTCP and DCC offers inside PRIVMSG/NOTICE text.
 *
 * CTCP (the Client-To-Client Protocol, Zeuge/Rollo/Mesander 1994, and the modern draft at
 * https://modern.ircdocs.horse/ctcp): a message whose text starts with 0x01 carries `COMMAND args`, up to the next
 * 0x01 or the end. ACTION is the `/me` message; DCC negotiates a direct connection (Rollo's dcc.protocol):
 *   DCC SEND <filename> <ip> <port> [<size> [<token>]] [T]     file offer (T: Turbo DCC, no acknowledgements)
 *   DCC CHAT chat <ip> <port> [<token>]                         chat offer
 * `<ip>` is the IPv4 address as one unsigned 32-bit decimal in network order, or (mIRC, KVIrc, irssi) IPv6 text;
 * dotted IPv4 is accepted too. A file name with spaces is put in double quotes. Passive ("reverse") DCC (mIRC, Turbo
 * DCC spec by Visual IRC) offers port 0 and a token; the receiver answers with the same offer carrying its own address,
 * a port and the token, and the sender connects to it. TSEND/SSEND/SCHAT are the turbo and TLS variants.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv6Text as ipv6Groups } from '../../../util/ipv6.js';

export interface Ctcp {
  /** Upper-cased command (ACTION, VERSION, DCC…). */
  command: string;
  /** The rest, after the command and one space ('' when none). */
  args: string;
}

/** The CTCP inside `text`, or null when `text` does not start with 0x01. */
export function parseCtcp(text: string): Ctcp | null {
  if (text.charCodeAt(0) !== 1) return null;
  let end = text.indexOf('\u0001', 1);
  if (end < 0) end = text.length;
  const inner = text.slice(1, end);
  const sp = inner.indexOf(' ');
  return sp < 0 ? { command: inner.toUpperCase(), args: '' } : { command: inner.slice(0, sp).toUpperCase(), args: inner.slice(sp + 1) };
}

export interface DccOffer {
  /** SEND, TSEND, SSEND, CHAT, SCHAT (upper case). */
  type: string;
  /** File name (SEND), or the protocol word (CHAT: `chat`). */
  argument: string;
  /** The announced address as text (dotted IPv4, RFC 5952 IPv6). */
  host: string;
  port: number;
  size: number | null;
  token: string | null;
  turbo: boolean;
}

export type DccParse = { ok: true; offer: DccOffer } | { ok: false; code: 'irc_dcc_malformed' | 'irc_dcc_invalid_host' | 'irc_dcc_invalid_port'; detail: string };

/** DCC types whose offers this parser reads (others, e.g. RESUME, ACCEPT, XMIT, are only events). */
export const DCC_OFFER_TYPES = new Set(['SEND', 'TSEND', 'SSEND', 'CHAT', 'SCHAT']);

const DIGITS = /^[0-9]+$/;

/** Whether `s` can be a DCC address (decides where an unquoted file name with spaces ends). */
function looksLikeHost(s: string): boolean {
  return DIGITS.test(s) || isIPv4(s) || isIPv6(s);
}

/** Parse the arguments of `DCC <type> …` (`args`: what follows `DCC `). */
export function parseDccOffer(args: string): DccParse {
  const a = args.trimStart();
  const sp = a.indexOf(' ');
  if (sp < 0) return { ok: false, code: 'irc_dcc_malformed', detail: `DCC ${a} has no arguments` };
  const type = a.slice(0, sp).toUpperCase();
  let rest = a.slice(sp + 1).trimStart();
  let argument: string;
  let quoted = false;
  if (rest.startsWith('"')) {
    const close = rest.indexOf('"', 1);
    if (close < 0) return { ok: false, code: 'irc_dcc_malformed', detail: `DCC ${type}: quoted file name without its closing quote` };
    argument = rest.slice(1, close);
    rest = rest.slice(close + 1);
    quoted = true;
  } else {
    const e = rest.indexOf(' ');
    argument = e < 0 ? rest : rest.slice(0, e);
    rest = e < 0 ? '' : rest.slice(e + 1);
  }
  const fields = rest.split(' ').filter((x) => x.length > 0);
  // An unquoted file name with spaces: words before the address belong to the name, as long as address, port and
  // size remain after them (without the size, a bad address could not be told from a name with spaces).
  while (!quoted && fields.length > 3 && !looksLikeHost(fields[0]!)) argument += ` ${fields.shift()!}`;
  let turbo = type === 'TSEND';
  if (fields.length > 2 && fields[fields.length - 1] === 'T') {
    fields.pop();
    turbo = true;
  }
  const isChat = type === 'CHAT' || type === 'SCHAT';
  const maxFields = isChat ? 3 : 4;
  if (fields.length < 2 || fields.length > maxFields) {
    return { ok: false, code: 'irc_dcc_malformed', detail: `DCC ${type} with ${fields.length} fields after the ${isChat ? 'protocol' : 'file name'}, expected 2 to ${maxFields}` };
  }
  const hostText = fields[0]!;
  const portText = fields[1]!;
  if (!DIGITS.test(portText) || Number(portText) > 65535) {
    return { ok: false, code: 'irc_dcc_invalid_port', detail: `DCC ${type} port ${JSON.stringify(portText)} is not a number from 0 to 65535` };
  }
  const port = Number(portText);
  const host = dccHost(hostText);
  if (host === null || (host === '0.0.0.0' && port !== 0)) {
    return { ok: false, code: 'irc_dcc_invalid_host', detail: `DCC ${type} address ${JSON.stringify(hostText)} is not a 32-bit decimal, IPv4 or IPv6 address` };
  }
  let size: number | null = null;
  let token: string | null = null;
  if (isChat) token = fields[2] ?? null;
  else {
    const s = fields[2];
    if (s !== undefined) {
      if (!DIGITS.test(s)) return { ok: false, code: 'irc_dcc_malformed', detail: `DCC ${type} size ${JSON.stringify(s)} is not a number` };
      size = Number(s);
    }
    token = fields[3] ?? null;
  }
  return { ok: true, offer: { type, argument, host, port, size, token, turbo } };
}

/** The DCC address as text: a 32-bit decimal (max 4294967295) becomes dotted IPv4; IPv6 becomes RFC 5952 text. */
export function dccHost(s: string): string | null {
  if (DIGITS.test(s)) {
    if (s.length > 10) return null;
    const n = Number(s);
    if (n > 0xffffffff) return null;
    return `${Math.floor(n / 0x1000000)}.${Math.floor(n / 0x10000) % 256}.${Math.floor(n / 0x100) % 256}.${n % 256}`;
  }
  if (isIPv4(s)) return s;
  if (isIPv6(s)) return ipv6Text(s);
  return null;
}

/**
 * RFC 5952 text of a valid IPv6 address (checked by the caller): lower-case hex without leading zeros, the longest run
 * of two or more zero groups as `::` (the first of equal runs). An IPv4-mapped address (`::ffff:a.b.c.d`) is an IPv4
 * connection on the wire, so it is returned as dotted IPv4.
 */
export function ipv6Text(s: string): string {
  const zone = s.indexOf('%');
  const text = zone < 0 ? s : s.slice(0, zone);
  const groups: number[] = [];
  const halves = text.split('::');
  const part = (h: string): number[] => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number);
        out.push(((a! << 8) | b!) & 0xffff, ((c! << 8) | d!) & 0xffff);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = part(halves[0] ?? '');
  const tail = halves.length > 1 ? part(halves[1] ?? '') : [];
  groups.push(...head);
  if (halves.length > 1) for (let i = head.length + tail.length; i < 8; i++) groups.push(0);
  groups.push(...tail);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  return ipv6Groups(groups);
}
