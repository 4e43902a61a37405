/**
 * Display width in terminal columns, and fitting text to a width. Width is measured the way cli-table3 measures it
 * (its `strlen`: string-width 4, East Asian wide characters and emoji as 2, ANSI colour codes as 0), so the tables it
 * draws from our pre-fitted cells line up exactly. Text is cut between grapheme clusters (Intl.Segmenter), never
 * inside a surrogate pair or a combining sequence.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const utils = require('cli-table3/src/utils.js') as { strlen(s: string): number };

export const strlen: (s: string) => number = (s) => utils.strlen(s);

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

function graphemes(s: string): string[] {
  return Array.from(segmenter.segment(s), (g) => g.segment);
}

/**
 * `s` (one line, no control characters) in at most `maxLines` lines of at most `width` columns, broken at a blank when
 * one is in the second half of the line, else inside the word; an ellipsis ends the last line when text is left over.
 */
export function fitLines(s: string, width: number, maxLines: number): string[] {
  const w = Math.max(1, width);
  if (strlen(s) <= w) return [s];
  const gs = graphemes(s);
  const lines: string[] = [];
  let i = 0;
  while (i < gs.length && lines.length < maxLines) {
    const last = lines.length === maxLines - 1;
    // Take as many graphemes as fit.
    let used = 0;
    let j = i;
    while (j < gs.length) {
      const gw = strlen(gs[j] ?? '');
      if (used + gw > w) break;
      used += gw;
      j++;
    }
    if (j === i) j = i + 1; // a grapheme wider than the column (width 1, wide char): take it, cli-table3 truncates
    if (j < gs.length && last) {
      // Leave room for the ellipsis.
      let k = j;
      let u = used;
      while (k > i && u + 1 > w) {
        k--;
        u -= strlen(gs[k] ?? '');
      }
      lines.push(`${gs.slice(i, k).join('').trimEnd()}…`);
      return lines;
    }
    if (j < gs.length) {
      // Break at the last blank in the second half of the line, if any.
      let b = j;
      while (b > i + Math.floor((j - i) / 2) && gs[b - 1] !== ' ') b--;
      if (gs[b - 1] === ' ' && b > i + 1) j = b;
    }
    lines.push(gs.slice(i, j).join('').trimEnd());
    i = j;
    while (gs[i] === ' ') i++;
  }
  return lines;
}
