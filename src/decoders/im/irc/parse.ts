/**
 * IRC line framing and tokenising: pure functions over byte views, no state, no allocation per byte.
 *
 * Parses the message grammar of RFC 1459 §2.3.1 and RFC 2812 §2.3.1 (`[:prefix SPACE] command [params] crlf`, at
 * most 15 parameters, the last one may be a trailing `:` parameter with spaces), with the IRCv3 message-tags prefix
 * (`@key=value;key2 `, https://ircv3.net/specs/extensions/message-tags, tags are skipped, not interpreted).
 * Tolerances, as Zeek's IRC analyzer and real servers have them: a line may end in CRLF, LF or CR alone; spaces before
 * the prefix or command and runs of spaces between parameters count as one separator; the command is case-insensitive
 * (RFC 2812 commands are letters; replies are 3 digits). Tabs are ordinary characters (no IRC spec makes them
 * separators).
 */

/** Where each part of one line is, as offsets into `buf`. Reused from line to line: valid until the next parse. */
export interface IrcLine {
  buf: Uint8Array;
  /** The line without its terminator. */
  start: number;
  end: number;
  /** IRCv3 tags without the `@` (-1 when absent). */
  tagsStart: number;
  tagsEnd: number;
  /** Prefix without the `:` (-1 when absent). */
  prefixStart: number;
  prefixEnd: number;
  cmdStart: number;
  cmdEnd: number;
  /** The reply number when the command is 3 digits, else -1. */
  numeric: number;
  nparams: number;
  /** Parameter i is `buf[ps[i], pe[i])`, without the `:` of a trailing parameter. */
  ps: Int32Array;
  pe: Int32Array;
  /** The last parameter was introduced by `:` (it may hold spaces, or be empty). */
  trailing: boolean;
}

/** RFC 2812: up to 14 middle parameters, then the 15th takes the rest of the line. */
export const MAX_PARAMS = 15;
/** Longest command word accepted (Zeek's analyzer calls longer ones invalid too). */
export const MAX_COMMAND_CHARS = 20;

export function newLine(): IrcLine {
  return {
    buf: new Uint8Array(0),
    start: 0,
    end: 0,
    tagsStart: -1,
    tagsEnd: -1,
    prefixStart: -1,
    prefixEnd: -1,
    cmdStart: 0,
    cmdEnd: 0,
    numeric: -1,
    nparams: 0,
    ps: new Int32Array(MAX_PARAMS),
    pe: new Int32Array(MAX_PARAMS),
    trailing: false,
  };
}

/** Why a line is not IRC (null: it is). `empty` lines are not errors: they are skipped silently. */
export type LineError = 'empty' | 'nul_byte' | 'no_command' | 'bad_command';

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;

/** Index of the first CR or LF in `buf[from, end)`, or -1. */
export function findLineEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) {
    const b = buf[i]!;
    if (b <= CR && (b === LF || b === CR)) return i;
  }
  return -1;
}

/**
 * Index of the first NUL byte in `buf[from, end)`, or -1. A line scanner that reads every byte anyway can note it on
 * the way (session.ts) and hand it to parseLine, which then does not read the line a second time.
 */
export function findNul(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === 0) return i;
  return -1;
}

const isLetter = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

function skipSpaces(buf: Uint8Array, i: number, end: number): number {
  while (i < end && buf[i] === SP) i++;
  return i;
}

function toSpace(buf: Uint8Array, i: number, end: number): number {
  while (i < end && buf[i] !== SP) i++;
  return i;
}

/**
 * Tokenise `buf[start, end)` (one line, terminator excluded) into `out`. Returns null when it is an IRC line, or why
 * it is not. Only offsets are stored; nothing is decoded. `firstNul` is where the line's first NUL byte is (-1: none),
 * when the caller already knows.
 */
export function parseLine(buf: Uint8Array, start: number, end: number, out: IrcLine, firstNul = findNul(buf, start, end)): LineError | null {
  out.buf = buf;
  out.start = start;
  out.end = end;
  out.tagsStart = out.tagsEnd = out.prefixStart = out.prefixEnd = -1;
  out.numeric = -1;
  out.nparams = 0;
  out.trailing = false;
  if (firstNul >= 0) return 'nul_byte';
  let i = skipSpaces(buf, start, end);
  if (i === end) return 'empty';
  if (buf[i] === 0x40 /* @ */) {
    out.tagsStart = i + 1;
    i = toSpace(buf, i, end);
    out.tagsEnd = i;
    i = skipSpaces(buf, i, end);
  }
  if (i < end && buf[i] === 0x3a /* : */) {
    out.prefixStart = i + 1;
    i = toSpace(buf, i, end);
    out.prefixEnd = i;
    i = skipSpaces(buf, i, end);
  }
  if (i === end) return 'no_command';
  out.cmdStart = i;
  i = toSpace(buf, i, end);
  out.cmdEnd = i;
  if (!commandOk(buf, out.cmdStart, i, out)) return 'bad_command';
  for (;;) {
    i = skipSpaces(buf, i, end);
    if (i >= end) break;
    const k = out.nparams;
    if (buf[i] === 0x3a || k === MAX_PARAMS - 1) {
      // Trailing parameter (or the 15th, which RFC 2812 lets take the rest without a colon).
      const colon = buf[i] === 0x3a;
      out.ps[k] = colon ? i + 1 : i;
      out.pe[k] = end;
      out.trailing = colon;
      out.nparams = k + 1;
      break;
    }
    out.ps[k] = i;
    i = toSpace(buf, i, end);
    out.pe[k] = i;
    out.nparams = k + 1;
  }
  return null;
}

function commandOk(buf: Uint8Array, s: number, e: number, out: IrcLine): boolean {
  const n = e - s;
  if (n === 3 && isDigit(buf[s]!) && isDigit(buf[s + 1]!) && isDigit(buf[s + 2]!)) {
    out.numeric = (buf[s]! - 0x30) * 100 + (buf[s + 1]! - 0x30) * 10 + (buf[s + 2]! - 0x30);
    return true;
  }
  if (n < 1 || n > MAX_COMMAND_CHARS) return false;
  for (let i = s; i < e; i++) if (!isLetter(buf[i]!)) return false;
  return true;
}

/** The command in upper case (short: at most MAX_COMMAND_CHARS). */
export function commandName(l: IrcLine): string {
  let s = '';
  for (let i = l.cmdStart; i < l.cmdEnd; i++) {
    const b = l.buf[i]!;
    s += String.fromCharCode(b >= 0x61 && b <= 0x7a ? b - 32 : b);
  }
  return s;
}

/** Longest command `commandKey` gives a key for: 10 letters of 5 bits fit a double's 53 exactly. */
export const MAX_KEY_CHARS = 10;

/**
 * The command's letters, case folded, as a base-32 number (A = 1 … Z = 26): equal keys are equal commands, so a
 * command can be matched against a table without building its string. -1 for a reply number or a command longer
 * than MAX_KEY_CHARS.
 */
export function commandKey(l: IrcLine): number {
  const n = l.cmdEnd - l.cmdStart;
  if (l.numeric >= 0 || n > MAX_KEY_CHARS) return -1;
  let key = 0;
  for (let i = l.cmdStart; i < l.cmdEnd; i++) key = key * 32 + (l.buf[i]! & 0x1f); // letters only (commandOk)
  return key;
}

/** The key `commandKey` gives a command spelt `name` (upper-case letters). */
export function nameKey(name: string): number {
  let key = 0;
  for (let i = 0; i < name.length; i++) key = key * 32 + (name.charCodeAt(i) & 0x1f);
  return key;
}

/** Length of the prefix's nick part (up to `!` or `@`), or -1 when the prefix has neither (a server name). */
export function prefixNickEnd(l: IrcLine): number {
  for (let i = l.prefixStart; i < l.prefixEnd; i++) {
    const b = l.buf[i]!;
    if (b === 0x21 /* ! */ || b === 0x40 /* @ */) return i;
  }
  return -1;
}

/** Whether parameter `i` starts with byte `b`. */
export function paramStartsWith(l: IrcLine, i: number, b: number): boolean {
  return i < l.nparams && l.pe[i]! > l.ps[i]! && l.buf[l.ps[i]!] === b;
}

/** Whether parameter `i` equals the ASCII text `s`, ignoring case. */
export function paramIs(l: IrcLine, i: number, s: string): boolean {
  if (i >= l.nparams) return false;
  const a = l.ps[i]!;
  if (l.pe[i]! - a !== s.length) return false;
  for (let k = 0; k < s.length; k++) {
    let b = l.buf[a + k]!;
    if (b >= 0x61 && b <= 0x7a) b -= 32;
    let c = s.charCodeAt(k);
    if (c >= 0x61 && c <= 0x7a) c -= 32;
    if (b !== c) return false;
  }
  return true;
}
