/**
 * Message text as watchlists see it. Two strings come out of a body:
 *
 * - `display`: what a person reads: HTML tags removed and entities decoded (for html/xhtml bodies), Unicode NFKC.
 *   Alerts quote this (`alerts.matched`, `alerts.excerpt`).
 * - `text`: what rules are matched against: `display` case-folded (`toLowerCase`, per code point) with every run of
 *   white space (NBSP and the other Unicode spaces included, since NFKC turns most into U+0020) collapsed to one
 *   space and trimmed.
 *
 * `map[i]` is the index in `display` of the code unit that produced `text[i]`, so that a match in `text` is quoted
 * from `display` as it was written.
 */
import { decodeHTML } from 'entities';

export interface Normalized {
  display: string;
  text: string;
  map: Int32Array;
}

/** Formats whose bodies are markup: tags are removed and entities decoded before matching. */
export const MARKUP_FORMATS: ReadonlySet<string> = new Set(['html', 'xhtml']);

// A tag, a comment or a declaration: `<` then a letter, `/`, `!` or `?`. A lone `<` (as in "a < b") is text.
const TAG = /<!--[\s\S]*?-->|<[a-zA-Z/!?][^>]*>/g;
// Tags after which a reader sees a break between words (`a<br>b` is two words, `<b>a</b>b` is one).
const BREAKING = /^<\/?(br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|blockquote|pre|hr)\b/i;

/** HTML (or XHTML) to text: tags removed (block tags and line breaks as a space), entities decoded. */
export function htmlToText(html: string): string {
  return decodeHTML(html.replace(TAG, (t) => (BREAKING.test(t) ? ' ' : '')));
}

const SPACE = /\s/u;

export function normalize(body: string, format: string | null = null): Normalized {
  const display = (format !== null && MARKUP_FORMATS.has(format.toLowerCase()) ? htmlToText(body) : body).normalize('NFKC');
  const out: string[] = [];
  const map: number[] = [];
  let pendingSpace = false;
  for (let i = 0; i < display.length; ) {
    const cp = display.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (SPACE.test(ch)) {
      pendingSpace = out.length > 0;
      i += ch.length;
      continue;
    }
    if (pendingSpace) {
      out.push(' ');
      map.push(i - 1);
      pendingSpace = false;
    }
    const folded = ch.toLowerCase();
    for (let k = 0; k < folded.length; k++) {
      out.push(folded[k]!);
      map.push(i);
    }
    i += ch.length;
  }
  return { display, text: out.join(''), map: Int32Array.from(map) };
}

/** A pattern (word or phrase) normalised like message text, so that `Project   X` and `project x` are the same rule. */
export function normalizePattern(p: string): string {
  return normalize(p).text;
}

/** The span of `display` that produced text[start, end). */
export function displaySpan(n: Normalized, start: number, end: number): [number, number] {
  if (end <= start || n.map.length === 0) return [0, 0];
  const a = n.map[start]!;
  const lastAt = n.map[end - 1]!;
  const cp = n.display.codePointAt(lastAt) ?? 0;
  return [a, lastAt + (cp > 0xffff ? 2 : 1)];
}

/** At most `max` characters of `display` around [a, b), with … where cut (the ellipses count). */
export function excerpt(display: string, a: number, b: number, max = 200): string {
  if (display.length <= max) return display;
  const width = max - 2;
  let from = Math.max(0, a - Math.floor(Math.max(0, width - (b - a)) / 2));
  const to = Math.min(display.length, from + width);
  from = Math.max(0, to - width);
  return `${from > 0 ? '…' : ''}${display.slice(from, to)}${to < display.length ? '…' : ''}`;
}
