/**
 * IRC detection by payload, in either direction and on any port (IRC runs on 6660-6669, 7000, 8000, 80, 443…).
 *
 * Looks at the first complete lines only (at most PROBE_LINES, each within the protocol's size), using the grammar of
 * RFC 1459/2812 with IRCv3 tags (see parse.ts) and the command vocabulary of RFC 1459, RFC 2812 and the IRCv3
 * extensions (CAP, AUTHENTICATE, STARTTLS, TAGMSG…). A line is
 *  - strong evidence: a numeric reply or a known command behind a `:prefix`; or, without prefix, a command only IRC
 *    uses (NICK, PRIVMSG, JOIN, CAP, PING…), with the parameters it needs (USER needs four);
 *  - weak: a command IRC shares with FTP, POP3 or SMTP (PASS, QUIT, LIST, HELP, STARTTLS, USER with fewer than four
 *    parameters): look at the next line;
 *  - bad: not the IRC grammar (a NUL, a command that is neither letters nor 3 digits: `HTTP/1.1`, `SSH-2.0-…`, TLS
 *    records, binary), an unknown command word (`GET`, `EHLO`), a line over the size limit, a numeric without a
 *    prefix (`220 ` greets FTP and SMTP clients; IRC servers always prefix their replies), or a request line of
 *    another protocol that happens to use an IRC word (`INVITE sip:bob@example.com SIP/2.0`).
 * The first line decides unless it is weak; on a connection picked up mid-stream the first line may be the tail of a
 * cut line, so a bad first line is skipped there.
 */
import { Probe, type Dir } from '../types.js';
import { IRC_LIMITS } from './limits.js';
import { commandKey, commandName, findLineEnd, MAX_KEY_CHARS, nameKey, newLine, paramIs, parseLine, type IrcLine } from './parse.js';

/** Complete lines looked at before the probe gives its verdict. */
export const PROBE_LINES = 3;

/** Commands only IRC uses (RFC 1459, RFC 2812, IRCv3, common server extensions). */
const IRC_ONLY = new Set([
  'NICK', 'USER', 'OPER', 'MODE', 'SERVICE', 'SQUIT', 'JOIN', 'PART', 'TOPIC', 'NAMES', 'INVITE', 'KICK', 'PRIVMSG',
  'NOTICE', 'MOTD', 'LUSERS', 'LINKS', 'CONNECT', 'TRACE', 'SERVLIST', 'SQUERY', 'WHO', 'WHOIS', 'WHOWAS', 'KILL',
  'PING', 'PONG', 'ERROR', 'AWAY', 'REHASH', 'DIE', 'RESTART', 'SUMMON', 'WALLOPS', 'USERHOST', 'ISON', 'SERVER',
  'NJOIN', 'CAP', 'AUTHENTICATE', 'ACCOUNT', 'CHGHOST', 'SETNAME', 'BATCH', 'TAGMSG', 'MONITOR', 'KNOCK', 'MAP',
  'WEBIRC', 'SILENCE', 'ACCEPT', 'CPRIVMSG', 'CNOTICE', 'CHATHISTORY', 'FAIL', 'WARN', 'NOTE', 'ENCAP', 'SVSNICK',
]);
/** Commands IRC shares with other line protocols (FTP, POP3, SMTP, IMAP): never enough on their own. */
const SHARED = new Set(['PASS', 'QUIT', 'LIST', 'HELP', 'STARTTLS', 'VERSION', 'STATS', 'TIME', 'ADMIN', 'INFO', 'USERS', 'RULES']);

/** The commands above (up to MAX_KEY_CHARS letters) by their `commandKey`, as the constant strings. */
const BY_KEY = new Map<number, string>();
for (const c of [...IRC_ONLY, ...SHARED]) if (c.length <= MAX_KEY_CHARS) BY_KEY.set(nameKey(c), c);

/**
 * The line's command in upper case (not a reply number): a known command is matched as bytes and given as its
 * constant string, so most lines build no string for it (nor a set or switch compares one character by character).
 */
export function command(l: IrcLine): string {
  const key = commandKey(l);
  return (key >= 0 ? BY_KEY.get(key) : undefined) ?? commandName(l);
}

/** Whether `cmd` (upper case) is an IRC command. */
export function isIrcCommand(cmd: string): boolean {
  return IRC_ONLY.has(cmd) || SHARED.has(cmd);
}

export const BAD = 0;
export const WEAK = 1;
export const STRONG = 2;
export type Evidence = typeof BAD | typeof WEAK | typeof STRONG;

/** What one tokenised line says about IRC (see the file comment). */
export function lineEvidence(l: IrcLine): Evidence {
  const hasPrefix = l.prefixStart >= 0 && l.prefixEnd > l.prefixStart;
  if (l.numeric >= 0) return hasPrefix ? STRONG : BAD;
  const cmd = command(l);
  if (!IRC_ONLY.has(cmd)) return SHARED.has(cmd) ? (hasPrefix ? STRONG : WEAK) : BAD;
  if (hasPrefix) return STRONG;
  const n = l.nparams;
  // A request line of SIP, HTTP or RTSP (INVITE sip:… SIP/2.0) ends in its protocol version.
  if (n > 0 && endsWithVersion(l, n - 1)) return BAD;
  switch (cmd) {
    case 'INVITE':
      return n >= 2 && isChannel(l.buf[l.ps[1]!]) ? STRONG : WEAK;
    case 'USER':
      return n >= 4 ? STRONG : WEAK;
    case 'NICK':
    case 'JOIN':
    case 'PING':
    case 'PONG':
      return n >= 1 ? STRONG : WEAK;
    case 'PRIVMSG':
    case 'NOTICE':
      return n >= 2 ? STRONG : WEAK;
    case 'CAP':
      return paramIs(l, 0, 'LS') || paramIs(l, 0, 'REQ') || paramIs(l, 0, 'END') || paramIs(l, 0, 'LIST') ? STRONG : WEAK;
    default:
      return STRONG;
  }
}

/** RFC 2812 channel prefixes (#, &, +, !). */
function isChannel(b: number | undefined): boolean {
  return b === 0x23 || b === 0x26 || b === 0x2b || b === 0x21;
}

const VERSIONS = ['SIP/2.0', 'HTTP/1.', 'RTSP/1.'];

function endsWithVersion(l: IrcLine, i: number): boolean {
  const s = l.ps[i]!;
  const len = l.pe[i]! - s;
  for (const v of VERSIONS) {
    if (len < v.length) continue;
    let k = 0;
    while (k < v.length && l.buf[s + k] === v.charCodeAt(k)) k++;
    if (k === v.length) return true;
  }
  return false;
}

const scratch = newLine();

/** Bytes a line may take, its terminator included, given how it starts. */
function lineBound(data: Uint8Array, at: number, end: number): number {
  return at < end && data[at] === 0x40 ? IRC_LIMITS.maxTagBytes + IRC_LIMITS.maxLineBytes : IRC_LIMITS.maxLineBytes;
}

/** Whether the start of an unfinished line can still be IRC. */
function partialOk(data: Uint8Array, at: number, end: number): boolean {
  let i = at;
  while (i < end && data[i] === 0x20) i++;
  if (i === end) return true;
  const b = data[i]!;
  const startOk = b === 0x40 || b === 0x3a || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39);
  if (!startOk) return false;
  for (let k = i; k < end; k++) if (data[k] === 0) return false;
  return true;
}

/** The IRC probe (ImProtocol.probe): pure, bounded to the first PROBE_LINES lines. */
export function probeIrc(data: Uint8Array, off: number, len: number, _dir: Dir, midstream: boolean): Probe {
  const end = off + len;
  let at = off;
  let seen = 0; // non-empty lines looked at
  while (seen < PROBE_LINES) {
    const bound = lineBound(data, at, end);
    const e = findLineEnd(data, at, Math.min(end, at + bound));
    if (e < 0) {
      if (end - at >= bound || !partialOk(data, at, end)) {
        if (midstream && seen === 0 && end - at < bound) return Probe.Need;
        return Probe.No;
      }
      return Probe.Need;
    }
    const err = parseLine(data, at, e, scratch);
    at = e + 1;
    if (err === 'empty') continue;
    seen++;
    const ev = err === null ? lineEvidence(scratch) : BAD;
    if (ev === STRONG) return Probe.Yes;
    if (ev === BAD && !(midstream && seen === 1)) return Probe.No;
  }
  return Probe.No;
}
