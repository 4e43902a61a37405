/**
 * Watchlists: rule files of words, "phrases" and /regular expressions/ with a severity, an optional app filter and
 * an optional name (format: docs/reports.md, "Watchlists"). Rules are matched against message text normalised by
 * normalize.ts (HTML removed, entities decoded, NFKC, case-folded, white space collapsed) and against file names.
 *
 * Regular expressions are user input run over network input, so three guards keep one from stalling an ingest:
 * 1. At load, a pattern that can backtrack catastrophically is refused with its line: a repeated group that itself
 *    holds a quantifier or an alternation (`(a+)+`, `(\w*x)*`, `(a|ab)*`); and what V8's linear engine (guard 3)
 *    cannot run: backreferences, lookarounds, and the flags `i` and `u` (the text is already case-folded, and the
 *    pattern's letters outside escapes are lower-cased, so `i` is not needed).
 * 2. A regular expression sees at most `WATCHLIST_LIMITS.regexInput` characters of each message (words and phrases
 *    see all of it: their expressions cannot backtrack more than the phrase's length).
 * 3. V8's linear-time engine takes over any expression that backtracks excessively (the V8 flag
 *    `--enable-experimental-regexp-engine-on-excessive-backtracks`, set when this module loads), which bounds what
 *    guard 1 cannot see (`a*a*a*b`, polynomial rather than exponential).
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import { displaySpan, excerpt, normalize, normalizePattern, type Normalized } from './normalize.js';

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const WATCHLIST_LIMITS = {
  /** Bytes of one watchlist file. */
  fileBytes: 4 << 20,
  /** Characters of one pattern. */
  patternChars: 1000,
  /** Characters of a message's normalised text that a regular expression sees. */
  regexInput: 64 * 1024,
  /** Characters of the excerpt stored with an alert. */
  excerptChars: 200,
} as const;

export interface WatchRule {
  /** The rule's name: `name=` or the pattern as written. */
  name: string;
  severity: Severity;
  kind: 'word' | 'phrase' | 'regex';
  /** Lower-case app ids the rule applies to; null: every app. */
  apps: ReadonlySet<string> | null;
  re: RegExp;
  line: number;
}

export interface Watchlist {
  /** What `alerts.watchlist` holds: the file's absolute path. */
  source: string;
  rules: WatchRule[];
}

export class WatchlistError extends Error {
  override name = 'WatchlistError';
}

// Letters, digits (any script) and the underscore: what a word is made of, for word boundaries.
const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;
const escapeRe = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** A word or phrase as an expression: the normalised text, on word boundaries where it starts or ends with a letter. */
function literalRe(normalised: string): RegExp {
  const chars = [...normalised];
  const head = WORD_CHAR.test(chars[0] ?? '') ? '(?<![\\p{L}\\p{N}\\p{M}_])' : '';
  const tail = WORD_CHAR.test(chars[chars.length - 1] ?? '') ? '(?![\\p{L}\\p{N}\\p{M}_])' : '';
  return new RegExp(`${head}${escapeRe(normalised)}${tail}`, 'u');
}

/**
 * Why a regular expression source risks catastrophic backtracking, or null. A lexer over the source (escapes and
 * classes skipped) keeps, per open group, whether it holds a quantifier or an alternation; a group that does and is
 * then repeated (`*`, `+`, `{n,}`, `{n,m}` with m > 1) is refused.
 */
export function backtrackingRisk(src: string): string | null {
  const stack: { quant: boolean; alt: boolean }[] = [{ quant: false, alt: false }];
  const repeatAt = (i: number): { repeats: boolean; len: number } | null => {
    const c = src[i];
    if (c === '*' || c === '+') return { repeats: true, len: 1 };
    if (c === '?') return { repeats: false, len: 1 };
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i));
      if (!m) return null;
      const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
      return { repeats: max > 1, len: m[0].length };
    }
    return null;
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const top = stack[stack.length - 1]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      if (/[1-9]/.test(n) || (n === 'k' && src[i + 2] === '<')) return 'backreferences are not allowed';
      if (/[pP]/.test(n) && src[i + 2] === '{') return '\\p{…} needs the u flag, which is not allowed';
      if (/[pPu]/.test(n) && src[i + 2] === '{') {
        const close = src.indexOf('}', i + 2);
        i = close < 0 ? src.length : close;
      } else i++;
    } else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') {
      stack.push({ quant: false, alt: false });
      if (/^\?(=|!|<=|<!)/.test(src.slice(i + 1))) return 'lookarounds are not allowed';
      if (src[i + 1] === '?') {
        const m = /^\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(src.slice(i + 1));
        if (m) i += m[0].length;
      }
    } else if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : { quant: false, alt: false };
      const parent = stack[stack.length - 1]!;
      const q = repeatAt(i + 1);
      if (q?.repeats && (g.quant || g.alt)) {
        return `a repeated group holding ${g.quant ? 'a quantifier' : 'an alternation'} (near character ${i + 1}) can backtrack catastrophically`;
      }
      parent.quant ||= g.quant || q !== null;
      parent.alt ||= g.alt;
      if (q) i += q.len;
    } else if (c === '|') {
      top.alt = true;
    } else {
      const q = repeatAt(i);
      if (q) {
        top.quant = true;
        i += q.len - 1;
      }
    }
  }
  return null;
}

/** The pattern's letters lower-cased, escapes (`\D`, `\W`, `\S`, `\B`, `\xAB`, `\u00C9`, `\cJ`) left as written:
 *  the text it runs on is case-folded. */
export function lowerOutsideEscapes(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c !== '\\') {
      out += c.toLowerCase();
      continue;
    }
    const m = /^\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|c[a-zA-Z]|[\s\S])/.exec(src.slice(i));
    out += m ? m[0] : c;
    i += (m ? m[0].length : 1) - 1;
  }
  return out;
}

const REGEX_LITERAL = /^\/((?:\\.|\[(?:\\.|[^\]\\])*\]|[^\\/[])+)\/([a-z]*)(?=\s|$)/;
const OPTION = /^([a-z]+)=("([^"]*)"|\S*)/;

/** Parses a watchlist file's text; `source` names it in errors and in `alerts.watchlist`. */
export function parseWatchlist(text: string, source: string): Watchlist {
  const rules: WatchRule[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    const fail = (what: string): never => {
      throw new WatchlistError(`${source}:${line}: ${what}`);
    };
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const sevMatch = /^(\S+)\s+/.exec(trimmed);
    if (!sevMatch) fail(`a rule is SEVERITY PATTERN [app=APP,…] [name=NAME]; found only "${trimmed}"`);
    const severity = sevMatch![1]!.toLowerCase();
    if (!(SEVERITIES as readonly string[]).includes(severity)) fail(`unknown severity "${sevMatch![1]}" (${SEVERITIES.join(', ')})`);
    let rest = trimmed.slice(sevMatch![0].length);
    let kind: WatchRule['kind'];
    let written: string;
    let re: RegExp;
    if (rest.startsWith('"')) {
      const close = rest.indexOf('"', 1);
      if (close < 0) fail('a phrase opened with " is not closed');
      written = rest.slice(0, close + 1);
      const phrase = normalizePattern(rest.slice(1, close));
      if (phrase === '') fail('empty phrase');
      if (phrase.length > WATCHLIST_LIMITS.patternChars) fail(`phrase of ${phrase.length} characters exceeds ${WATCHLIST_LIMITS.patternChars}`);
      kind = 'phrase';
      re = literalRe(phrase);
      rest = rest.slice(close + 1);
    } else if (rest.startsWith('/')) {
      const m = REGEX_LITERAL.exec(rest);
      if (!m) fail('a regular expression is /PATTERN/FLAGS, with / inside it escaped as \\/');
      const [lit, src, flags] = [m![0], m![1]!, m![2]!];
      if (src.length > WATCHLIST_LIMITS.patternChars) fail(`regular expression of ${src.length} characters exceeds ${WATCHLIST_LIMITS.patternChars}`);
      const bad = /[^ms]/.exec(flags);
      if (bad) fail(`flag "${bad[0]}" is not allowed (m, s; matching ignores case without i)`);
      const risk = backtrackingRisk(src);
      if (risk) fail(`regular expression /${src}/: ${risk}; rewrite it (docs/reports.md, "Watchlists")`);
      try {
        re = new RegExp(lowerOutsideEscapes(src), [...new Set(flags)].join(''));
      } catch (e) {
        return fail(`bad regular expression: ${(e as Error).message}`);
      }
      written = lit;
      kind = 'regex';
      rest = rest.slice(lit.length);
    } else {
      const w = /^\S+/.exec(rest)![0];
      if (w.includes('=')) fail(`missing pattern before "${w}"`);
      const word = normalizePattern(w);
      if (word.length > WATCHLIST_LIMITS.patternChars) fail(`word of ${word.length} characters exceeds ${WATCHLIST_LIMITS.patternChars}`);
      written = w;
      kind = 'word';
      re = literalRe(word);
      rest = rest.slice(w.length);
    }
    let apps: Set<string> | null = null;
    let name: string | null = null;
    rest = rest.trim();
    while (rest !== '') {
      const o = OPTION.exec(rest);
      if (!o) fail(`expected app=… or name=… after the pattern, found "${rest.slice(0, 40)}"`);
      const value = o![3] ?? o![2]!;
      if (o![1] === 'app') {
        const list = value.split(',').map((a) => a.trim().toLowerCase()).filter((a) => a !== '');
        if (list.length === 0) fail('app= names no app');
        apps = new Set([...(apps ?? []), ...list]);
      } else if (o![1] === 'name') {
        if (value === '') fail('name= is empty');
        name = value;
      } else fail(`unknown option "${o![1]}" (app, name)`);
      rest = rest.slice(o![0].length).trim();
    }
    rules.push({ name: name ?? written, severity: severity as Severity, kind, apps, re, line });
  });
  return { source, rules };
}

/** Reads and parses a watchlist file; errors name the file (and the line). */
export function loadWatchlist(path: string, source: string = path): Watchlist {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch (e) {
    throw new WatchlistError(`${path}: cannot read the watchlist (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (st.size > WATCHLIST_LIMITS.fileBytes) throw new WatchlistError(`${path}: watchlist of ${st.size} bytes exceeds ${WATCHLIST_LIMITS.fileBytes}`);
  return parseWatchlist(fs.readFileSync(path, 'utf8'), source);
}

export interface Hit {
  rule: WatchRule;
  /** The text that matched, as written in the message (HTML removed). */
  matched: string;
  excerpt: string;
}

/** Every rule of `list` that matches `body` (first match per rule), for a message of `app` in `format`. */
export function matchText(list: Watchlist, body: string, format: string | null, app: string | null, pre?: Normalized): Hit[] {
  const rules = list.rules.filter((r) => r.apps === null || (app !== null && r.apps.has(app.toLowerCase())));
  if (rules.length === 0) return [];
  const n = pre ?? normalize(body, format);
  const hits: Hit[] = [];
  for (const rule of rules) {
    const input = rule.kind === 'regex' && n.text.length > WATCHLIST_LIMITS.regexInput ? n.text.slice(0, WATCHLIST_LIMITS.regexInput) : n.text;
    rule.re.lastIndex = 0;
    const m = rule.re.exec(input);
    if (!m || m[0].length === 0) continue; // an empty match (/x*/) is not a hit
    const [a, b] = displaySpan(n, m.index, m.index + m[0].length);
    hits.push({ rule, matched: n.display.slice(a, b), excerpt: excerpt(n.display, a, b, WATCHLIST_LIMITS.excerptChars) });
  }
  return hits;
}
