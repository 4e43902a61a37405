/**
 * The app rules: host-name patterns and IP ranges that name an app (WhatsApp, Signal, Telegram, Teams…), loaded
 * from the data files in `data/apps/` (each with its source and date) and from the user's `--rules FILE`.
 * The file format and the matching rules are documented in docs/rules.md.
 *
 * CONTRACT (the dispatcher relies on this interface):
 * - `matchHost(name)`: the best rule for a host name (SNI, certificate name, HTTP Host, a name resolved by DNS), or
 *   null. A match with `app` null is a *site* rule: the name is the app's web site, not use of the app
 *   (`www.whatsapp.com`), and no app is set.
 * - `matchAddress(ip)`: the rule whose range holds the address (text, dotted IPv4 or RFC 5952 IPv6), or null. Range
 *   rules have low confidence: a last resort. `matchAddressWords` is the same for an address as the flow table keeps
 *   it (IPv4 in one word, IPv6 in four), with no text made or parsed.
 *
 * Speed: `matchHost` runs for every SNI, Host and DNS-inherited name: one Map lookup for the exact name, then one per
 * label suffix (`a.b.example.com` → `b.example.com`, `example.com`, `com`) whose length some `*.suffix` pattern has,
 * no pattern list scanned. `matchAddress` is a binary search over disjoint, sorted ranges precomputed at load (IPv4 as
 * uint32, IPv6 as four uint32 words); `matchAddressWords` the same without parsing text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppKind } from '../im/types.js';

export interface AppMatch {
  /** The app named, or null for a site rule (a visit to the app's web site is not use of the app). */
  app: string | null;
  kind: AppKind;
  confidence: number;
  /** Where the rule comes from: data file and line, for the note in `flows` (never shown as a verdict on its own). */
  rule: string;
}

export interface AppRules {
  matchHost(name: string): AppMatch | null;
  matchAddress(ip: string): AppMatch | null;
  /**
   * `matchAddress` for `version` 4 (the address in `w0`) or 6 (four big-endian words), signed or unsigned 32-bit:
   * what the dispatcher uses, on the words the flow table keeps.
   */
  matchAddressWords(version: number, w0: number, w1: number, w2: number, w3: number): AppMatch | null;
}

/** Rules that match nothing (analysis without app rules). */
export const NO_RULES: AppRules = {
  matchHost: () => null,
  matchAddress: () => null,
  matchAddressWords: () => null,
};

/** Bounds on what a rule file may hold (checked before anything is kept). */
export const RULE_LIMITS = {
  /** Largest rule file read, in bytes. */
  maxFileBytes: 8 * 1024 * 1024,
  /** Longest line, in characters. */
  maxLineLength: 1024,
  /** Most rules in one file. */
  maxRulesPerFile: 200_000,
  /** Longest host name or pattern (RFC 1035: 253 characters without the final dot). */
  maxNameLength: 253,
  /** Longest label of a host name (RFC 1035). */
  maxLabelLength: 63,
} as const;

/** The kinds a rule may give (`flows.app_kind`). */
export const RULE_KINDS: readonly AppKind[] = ['chat', 'call', 'file', 'web', 'presence', 'control'];

/** A rule file that cannot be used: names the file and the line (0: the whole file). */
export class RuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
    this.name = 'RuleFileError';
  }
}

/** One rule as read from a file. */
export interface RuleLine {
  type: 'host' | 'site' | 'ip';
  /** host/site: a lower-case name, or `*.suffix`; ip: the range as written (CIDR, or one address). */
  pattern: string;
  /** The app named; for a site rule, the app whose site it is (kept for the note, never a verdict). */
  app: string;
  kind: AppKind;
  confidence: number;
  /** `file:line`. */
  where: string;
}

export interface RuleFile {
  file: string;
  /** The `# source:` header lines, in order. */
  sources: string[];
  /** The `# date:` header (YYYY-MM-DD), or null. */
  date: string | null;
  rules: RuleLine[];
}

const APP_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const CONFIDENCE = /^(?:0(?:\.\d{1,4})?|1(?:\.0{1,4})?|\.\d{1,4})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
/** Kind and confidence given to a site rule's match (the dispatcher only looks at its null app). */
const SITE_KIND: AppKind = 'web';
const SITE_CONFIDENCE = 0.9;

/** A host name or `*.suffix` pattern, lower-cased; the reason it is not one otherwise. */
function checkHostPattern(p: string): { ok: true; name: string } | { ok: false; reason: string } {
  let name = p.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  const wild = name.startsWith('*.');
  const body = wild ? name.slice(2) : name;
  if (body.length === 0) return { ok: false, reason: `empty host name in "${p}"` };
  if (body.length > RULE_LIMITS.maxNameLength) return { ok: false, reason: `host name of ${body.length} characters exceeds ${RULE_LIMITS.maxNameLength}` };
  for (const label of body.split('.')) {
    if (label.length === 0) return { ok: false, reason: `empty label in "${p}"` };
    if (label.length > RULE_LIMITS.maxLabelLength) return { ok: false, reason: `label of ${label.length} characters exceeds ${RULE_LIMITS.maxLabelLength} in "${p}"` };
    if (!LABEL.test(label)) return { ok: false, reason: `"${p}" is not a host name or *.suffix pattern (label "${label}")` };
  }
  return { ok: true, name };
}

/**
 * Parse rule-file text (docs/rules.md). Throws RuleFileError naming `file` and the line on the first bad line.
 * `requireHeaders`: the `# source:` and `# date:` headers must be there (built-in files).
 */
export function parseRuleText(text: string, file: string, requireHeaders = false): RuleFile {
  const out: RuleFile = { file, sources: [], date: null, rules: [] };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > RULE_LIMITS.maxLineLength) throw new RuleFileError(file, lineNo, `line of ${line.length} characters exceeds ${RULE_LIMITS.maxLineLength}`);
    const hash = line.indexOf('#');
    if (hash >= 0) {
      const header = /^\s*#\s*(source|date)\s*:\s*(.*?)\s*$/i.exec(line);
      if (header) {
        const value = header[2]!;
        if (header[1]!.toLowerCase() === 'source') {
          if (value === '') throw new RuleFileError(file, lineNo, 'empty "# source:" header');
          out.sources.push(value);
        } else {
          if (!DATE.test(value) || Number.isNaN(Date.parse(value))) throw new RuleFileError(file, lineNo, `"# date:" must be YYYY-MM-DD, not "${value}"`);
          if (out.date !== null) throw new RuleFileError(file, lineNo, 'a second "# date:" header');
          out.date = value;
        }
      }
      line = line.slice(0, hash);
    }
    const f = line.trim().split(/[ \t]+/);
    if (f.length === 1 && f[0] === '') continue;
    const type = f[0]!.toLowerCase() as RuleLine['type'];
    const where = `${file}:${lineNo}`;
    const bad = (reason: string): never => {
      throw new RuleFileError(file, lineNo, reason);
    };
    if (type !== 'host' && type !== 'site' && type !== 'ip') bad(`unknown rule type "${f[0]}" (host, site or ip)`);
    const want = type === 'site' ? 3 : 5;
    if (f.length !== want) bad(`a ${type} rule has ${want} fields (${type === 'site' ? 'site PATTERN APP' : `${type} ${type === 'ip' ? 'RANGE' : 'PATTERN'} APP KIND CONFIDENCE`}), found ${f.length}`);
    const app = f[2]!.toLowerCase();
    if (!APP_ID.test(app)) bad(`"${f[2]}" is not an app id (lower-case letters, digits, - and _, at most 32)`);
    let kind: AppKind = SITE_KIND;
    let confidence = SITE_CONFIDENCE;
    if (type !== 'site') {
      const k = f[3]!.toLowerCase() as AppKind;
      if (!RULE_KINDS.includes(k)) bad(`unknown kind "${f[3]}" (${RULE_KINDS.join(', ')})`);
      kind = k;
      if (!CONFIDENCE.test(f[4]!)) bad(`confidence "${f[4]}" is not a number from 0 to 1`);
      confidence = Number(f[4]);
    }
    let pattern = f[1]!;
    if (type === 'ip') {
      const r = parseRange(pattern);
      if (typeof r === 'string') bad(r);
    } else {
      const h = checkHostPattern(pattern);
      if (!h.ok) bad(h.reason);
      else pattern = h.name;
    }
    if (out.rules.length >= RULE_LIMITS.maxRulesPerFile) bad(`more than ${RULE_LIMITS.maxRulesPerFile} rules in one file`);
    out.rules.push({ type, pattern, app, kind, confidence, where });
  }
  if (requireHeaders) {
    if (out.sources.length === 0) throw new RuleFileError(file, 1, 'missing "# source:" header (where the rules come from)');
    if (out.date === null) throw new RuleFileError(file, 1, 'missing "# date:" header (when the source was read, YYYY-MM-DD)');
  }
  return out;
}

/** Read and parse one rule file (bounded by RULE_LIMITS.maxFileBytes). */
export function readRuleFile(file: string, requireHeaders = false): RuleFile {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > RULE_LIMITS.maxFileBytes) throw new RuleFileError(file, 0, `file of ${size} bytes exceeds ${RULE_LIMITS.maxFileBytes}`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof RuleFileError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new RuleFileError(file, 0, `cannot read the rule file (${err.code ?? err.message})`);
  }
  return parseRuleText(text, file, requireHeaders);
}

// ── addresses ──

/** A range: family and inclusive bounds as BigInt (load time only). */
interface Range {
  v6: boolean;
  start: bigint;
  end: bigint;
  prefix: number;
}

function v4ToBig(s: string): bigint | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return null;
    v = (v << 8n) | BigInt(o);
  }
  return v;
}

function v6ToBig(s: string): bigint | null {
  if (!scanV6(s)) return null;
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 16n) | BigInt(groups[i]!);
  return v;
}

/** A CIDR range or a single address; an error text when it is not one. */
function parseRange(text: string): Range | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const v6 = addr.includes(':');
  const bits = v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return `"${text}": prefix length must be 0 to ${bits}`;
    prefix = Number(p);
  }
  const value = v6 ? v6ToBig(addr) : v4ToBig(addr);
  if (value === null) return `"${text}" is not an ${v6 ? 'IPv6' : 'IPv4'} address or range`;
  const hostBits = BigInt(bits - prefix);
  const mask = (1n << hostBits) - 1n;
  if ((value & mask) !== 0n) return `"${text}" has address bits set after the /${prefix} prefix`;
  return { v6, start: value, end: value | mask, prefix };
}

// Scratch for address parsing at match time (no allocation per call).
const groups = new Uint16Array(8);

/** Parse IPv6 text (RFC 4291 forms, with an optional trailing dotted IPv4 and %zone) into `groups`. */
function scanV6(s: string): boolean {
  let n = s.length;
  const pct = s.indexOf('%');
  if (pct >= 0) n = pct;
  if (n < 2 || n > 45) return false;
  let gi = 0;
  let gap = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      groups.fill(0);
      return true;
    }
  }
  while (i < n) {
    if (gi >= 8) return false;
    // A dotted IPv4 tail takes the last two groups.
    let j = i;
    let val = 0;
    let digits = 0;
    let dot = false;
    for (; j < n; j++) {
      const c = s.charCodeAt(j);
      if (c === 46) {
        dot = true;
        break;
      }
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      val = (val << 4) | h;
      if (++digits > 4) return false;
    }
    if (dot) {
      if (gi > 6) return false;
      const v4 = scanV4(s, i, n);
      if (v4 < 0) return false;
      groups[gi++] = v4 >>> 16;
      groups[gi++] = v4 & 0xffff;
      i = n;
      break;
    }
    if (digits === 0) return false;
    groups[gi++] = val;
    if (j === n) {
      i = n;
      break;
    }
    if (s.charCodeAt(j) !== 58) return false;
    if (j + 1 < n && s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = gi;
      i = j + 2;
    } else {
      if (j + 1 === n) return false;
      i = j + 1;
    }
  }
  if (gap < 0) return gi === 8;
  if (gi > 7) return false;
  const tail = gi - gap;
  for (let k = 0; k < tail; k++) groups[7 - k] = groups[gi - 1 - k]!;
  for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  return true;
}

/** Dotted IPv4 in s[from, to) as uint32, or -1. */
function scanV4(s: string, from: number, to: number): number {
  let v = 0;
  let octets = 0;
  let cur = -1;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (cur < 0 || octets === 4) return -1;
      v = v * 256 + cur;
      octets++;
      cur = -1;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && cur === 0) return -1;
      cur = (cur < 0 ? 0 : cur * 10) + (c - 48);
      if (++digits > 3 || cur > 255) return -1;
    } else return -1;
  }
  return octets === 4 ? v : -1;
}

// ── compiled rules ──

interface HostEntry {
  match: AppMatch;
  layer: number;
}

interface RangeRule {
  range: Range;
  match: AppMatch;
  layer: number;
  order: number;
}

/** Disjoint sorted segments of one address family, each with the rule that wins there. */
interface Segments {
  /** v4: one word per bound; v6: four words per bound (most significant first). */
  starts: Uint32Array;
  ends: Uint32Array;
  matches: AppMatch[];
}

function toWords(v: bigint, words: number, out: Uint32Array, at: number): void {
  for (let k = words - 1; k >= 0; k--) {
    out[at + k] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

/**
 * Flatten possibly nested ranges into disjoint segments: where several cover an address, the rule of the highest
 * layer wins, then the longest prefix, then the later line.
 */
function flatten(rules: RangeRule[], v6: boolean): Segments {
  const beats = (a: RangeRule, b: RangeRule) =>
    a.layer !== b.layer ? a.layer > b.layer : a.range.prefix !== b.range.prefix ? a.range.prefix > b.range.prefix : a.order > b.order;
  const points = new Set<bigint>();
  for (const r of rules) {
    points.add(r.range.start);
    points.add(r.range.end + 1n);
  }
  const sorted = [...points].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byStart = [...rules].sort((a, b) => (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0));
  const segs: { start: bigint; end: bigint; match: AppMatch }[] = [];
  let active: RangeRule[] = [];
  let next = 0;
  for (let i = 0; i + 1 < sorted.length; i++) {
    const at = sorted[i]!;
    active = active.filter((r) => r.range.end >= at);
    while (next < byStart.length && byStart[next]!.range.start <= at) active.push(byStart[next++]!);
    let win: RangeRule | null = null;
    for (const r of active) if (win === null || beats(r, win)) win = r;
    if (win === null) continue;
    const end = sorted[i + 1]! - 1n;
    const last = segs[segs.length - 1];
    if (last && last.match === win.match && last.end + 1n === at) last.end = end;
    else segs.push({ start: at, end, match: win.match });
  }
  const words = v6 ? 4 : 1;
  const starts = new Uint32Array(segs.length * words);
  const ends = new Uint32Array(segs.length * words);
  segs.forEach((s, i) => {
    toWords(s.start, words, starts, i * words);
    toWords(s.end, words, ends, i * words);
  });
  return { starts, ends, matches: segs.map((s) => s.match) };
}

/** Index of the last segment starting at or before the address (v4: `w0`), -1 if none. */
function findV4(seg: Segments, ip: number): AppMatch | null {
  const st = seg.starts;
  let lo = 0;
  let hi = st.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (st[mid]! <= ip) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && ip <= seg.ends[hi]! ? seg.matches[hi]! : null;
}

/** -1, 0, 1: the 4-word value at arr[i*4] compared with (a, b, c, d). */
function cmp4(arr: Uint32Array, i: number, a: number, b: number, c: number, d: number): number {
  const o = i * 4;
  const x0 = arr[o]!;
  if (x0 !== a) return x0 < a ? -1 : 1;
  const x1 = arr[o + 1]!;
  if (x1 !== b) return x1 < b ? -1 : 1;
  const x2 = arr[o + 2]!;
  if (x2 !== c) return x2 < c ? -1 : 1;
  const x3 = arr[o + 3]!;
  return x3 === d ? 0 : x3 < d ? -1 : 1;
}

function findV6(seg: Segments, a: number, b: number, c: number, d: number): AppMatch | null {
  let lo = 0;
  let hi = seg.matches.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp4(seg.starts, mid, a, b, c, d) <= 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi >= 0 && cmp4(seg.ends, hi, a, b, c, d) >= 0 ? seg.matches[hi]! : null;
}

/** True when the name has an upper-case ASCII letter (so it needs lower-casing before lookup). */
function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** Counts of what a compiled rule set holds. */
export interface RuleCounts {
  exact: number;
  suffix: number;
  v4Segments: number;
  v6Segments: number;
}

export interface CompiledRules extends AppRules {
  readonly counts: RuleCounts;
}

/**
 * Compile rule files into matchers. `layers[0]` has the lowest precedence (the built-in files), each later layer
 * beats all earlier ones wherever one of its rules matches. Within a layer the most specific rule wins (exact name,
 * then the longest suffix; for ranges the longest prefix), then the later line.
 */
export function compileRules(layers: readonly (readonly RuleLine[])[]): CompiledRules {
  const exact = new Map<string, HostEntry>();
  const suffix = new Map<string, HostEntry>();
  const v4: RangeRule[] = [];
  const v6: RangeRule[] = [];
  let order = 0;
  layers.forEach((rules, layer) => {
    for (const r of rules) {
      const match: AppMatch = { app: r.type === 'site' ? null : r.app, kind: r.kind, confidence: r.confidence, rule: r.type === 'site' ? `${r.where} (site of ${r.app})` : r.where };
      if (r.type === 'ip') {
        const range = parseRange(r.pattern);
        if (typeof range === 'string') throw new RuleFileError(r.where, 0, range);
        (range.v6 ? v6 : v4).push({ range, match, layer, order: order++ });
      } else if (r.pattern.startsWith('*.')) suffix.set(r.pattern.slice(2), { match, layer });
      else exact.set(r.pattern, { match, layer });
    }
  });
  const top = layers.length - 1;
  // The lengths the suffix patterns have (a name's suffix of another length is not looked up: no slice, no hash).
  let longest = 0;
  for (const k of suffix.keys()) longest = Math.max(longest, k.length);
  const suffixLength = new Uint8Array(longest + 1);
  for (const k of suffix.keys()) suffixLength[k.length] = 1;
  const seg4 = flatten(v4, false);
  const seg6 = flatten(v6, true);
  const noHosts = exact.size === 0 && suffix.size === 0;

  function matchHost(name: string): AppMatch | null {
    if (noHosts) return null;
    let n = name.length;
    if (n === 0 || n > RULE_LIMITS.maxNameLength + 1) return null;
    if (name.charCodeAt(n - 1) === 46) name = name.slice(0, --n);
    if (hasUpper(name)) name = name.toLowerCase();
    let best = exact.get(name) ?? null;
    if (best !== null && best.layer === top) return best.match;
    // Longest suffix first: the first hit of a layer is that layer's most specific rule.
    for (let i = name.indexOf('.'); i >= 0 && i < n - 1; i = name.indexOf('.', i + 1)) {
      const len = name.length - i - 1;
      if (len > longest || suffixLength[len] === 0) continue;
      const e = suffix.get(name.slice(i + 1));
      if (e !== undefined && (best === null || e.layer > best.layer)) {
        best = e;
        if (e.layer === top) break;
      }
    }
    return best === null ? null : best.match;
  }

  function matchAddress(ip: string): AppMatch | null {
    if (ip.indexOf(':') < 0) {
      if (seg4.matches.length === 0) return null;
      const v = scanV4(ip, 0, ip.length);
      return v < 0 ? null : findV4(seg4, v);
    }
    if (!scanV6(ip)) return null;
    // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address.
    if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
      return seg4.matches.length === 0 ? null : findV4(seg4, groups[6]! * 65536 + groups[7]!);
    }
    if (seg6.matches.length === 0) return null;
    return findV6(seg6, ((groups[0]! << 16) | groups[1]!) >>> 0, ((groups[2]! << 16) | groups[3]!) >>> 0, ((groups[4]! << 16) | groups[5]!) >>> 0, ((groups[6]! << 16) | groups[7]!) >>> 0);
  }

  function matchAddressWords(version: number, w0: number, w1: number, w2: number, w3: number): AppMatch | null {
    if (version === 4) return seg4.matches.length === 0 ? null : findV4(seg4, w0 >>> 0);
    // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address, as in matchAddress.
    if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0xffff) return seg4.matches.length === 0 ? null : findV4(seg4, w3 >>> 0);
    if (seg6.matches.length === 0) return null;
    return findV6(seg6, w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0);
  }

  return { matchHost, matchAddress, matchAddressWords, counts: { exact: exact.size, suffix: suffix.size, v4Segments: seg4.matches.length, v6Segments: seg6.matches.length } };
}

// ── built-in data ──

/**
 * The directory of the built-in rule files: `data/apps` in the nearest ancestor of this module that has one (the
 * source tree runs from `src/decoders/apps/`, the build from `dist/src/decoders/apps/`; the package ships `data/`).
 */
export function builtinRulesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = path.join(dir, 'data', 'apps');
    if (fs.existsSync(cand) && fs.statSync(cand).isDirectory()) return cand;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`the built-in app rules (data/apps) were not found above ${path.dirname(fileURLToPath(import.meta.url))}`);
}

let builtinFiles: RuleFile[] | null = null;
let builtinRules: CompiledRules | null = null;

/** The built-in rule files (`data/apps/*.rules`, by name), read once; each must have `# source:` and `# date:`. */
export function builtinRuleFiles(): RuleFile[] {
  if (builtinFiles === null) {
    const dir = builtinRulesDir();
    const names = fs.readdirSync(dir).filter((n) => n.endsWith('.rules')).sort();
    builtinFiles = names.map((n) => {
      const f = readRuleFile(path.join(dir, n), true);
      // Notes name the file as it is in the repository, not where it happens to be installed.
      const rel = `data/apps/${n}`;
      return { ...f, file: rel, rules: f.rules.map((r) => ({ ...r, where: rel + r.where.slice(f.file.length) })) };
    });
  }
  return builtinFiles;
}

/**
 * The built-in rules (`data/apps/`) and the user's rule files: a matching user rule wins over the built-in ones
 * (and a later file over an earlier one). Throws RuleFileError, naming the file and line, on a rule it cannot read.
 * Without user files the compiled built-in rules are made once and shared.
 */
export function loadAppRules(userFiles: readonly string[] = []): AppRules {
  if (userFiles.length === 0) {
    builtinRules ??= compileRules([builtinRuleFiles().flatMap((f) => f.rules)]);
    return builtinRules;
  }
  const user = userFiles.map((f) => readRuleFile(f).rules);
  return compileRules([builtinRuleFiles().flatMap((f) => f.rules), ...user]);
}
