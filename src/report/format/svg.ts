/**
 * Charts as inline SVG, from a section's `chart` spec: `bar` (one bar per row, grouped when several series),
 * `stacked-bar` (the series stacked per row), `line` (one line per series; a time axis when x is a time column, else
 * evenly spaced rows). Each chart has a title, a y axis with rounded ticks and grid lines, x labels (thinned and
 * shortened when there are many), a legend when there are several series, and a tooltip (`<title>`) per mark. No
 * script, no style attribute (the page's Content-Security-Policy allows only its own stylesheet): presentation
 * attributes and classes. The caller escapes nothing: every text here goes through `esc`.
 */
import type { Chart, Section } from '../model.js';
import { displayCell } from './common.js';

export type Escape = (s: string) => string;

const W = 760;
const H = 320;
const M = { left: 90, right: 16, top: 44, bottom: 78 };
/** Bars drawn at most; the table below the chart has every row. */
export const MAX_BARS = 40;
const MAX_X_LABELS = 14;
const LABEL_CHARS = 18;
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#b8a700', '#999999'];

const fmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const r1 = (n: number) => Math.round(n * 10) / 10;

function short(s: string): string {
  const cps = Array.from(s);
  return cps.length > LABEL_CHARS ? `${cps.slice(0, LABEL_CHARS - 1).join('')}…` : s;
}

/** Rounded ticks from lo to hi (lo <= 0 <= hi), about five. */
function ticks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  if ((out[out.length - 1] ?? 0) < hi) out.push(Number(((out[out.length - 1] ?? 0) + step).toPrecision(12)));
  return out;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The chart as an `<svg>` element, or null when its spec names a column the section does not have. */
export function chartSvg(section: Section, chart: Chart, esc: Escape, idPrefix: string): string | null {
  const xi = section.columns.findIndex((c) => c.name === chart.x);
  const yis = chart.y.map((y) => section.columns.findIndex((c) => c.name === y));
  if (xi < 0 || yis.length === 0 || yis.some((i) => i < 0)) return null;
  const xcol = section.columns[xi]!;
  const ycols = yis.map((i) => section.columns[i]!);
  const rows = chart.kind === 'line' ? section.rows : section.rows.slice(0, MAX_BARS);
  let labels = rows.map((r) => displayCell(r[xi], xcol.type));
  if (xcol.type === 'time' && labels.length > 0 && labels.every((l) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(l))) {
    // Times: drop the date when every point is on the same day, and the seconds when they are all :00.
    const sameDay = labels.every((l) => l.slice(0, 10) === labels[0]!.slice(0, 10));
    const noSeconds = labels.every((l) => l.endsWith(':00'));
    labels = labels.map((l) => (sameDay ? l.slice(11) : l.slice(5)).slice(0, noSeconds ? (sameDay ? 5 : 11) : undefined));
  }
  const values = rows.map((r) => yis.map((i) => num(r[i])));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;

  let lo = 0;
  let hi = 0;
  for (const vs of values) {
    if (chart.kind === 'stacked-bar') {
      hi = Math.max(hi, vs.filter((v) => v > 0).reduce((a, b) => a + b, 0));
      lo = Math.min(lo, vs.filter((v) => v < 0).reduce((a, b) => a + b, 0));
    } else {
      for (const v of vs) {
        hi = Math.max(hi, v);
        lo = Math.min(lo, v);
      }
    }
  }
  const ts = ticks(lo, hi === lo ? lo + 1 : hi);
  const y0 = ts[0] ?? 0;
  const y1 = ts[ts.length - 1] ?? 1;
  const Y = (v: number) => r1(M.top + ph - ((v - y0) / (y1 - y0 || 1)) * ph);

  const titleId = `${idPrefix}-title`;
  const parts: string[] = [
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="${esc(titleId)}">`,
    `<title id="${esc(titleId)}">${esc(chart.title)}</title>`,
    `<text class="chart-title" x="${W / 2}" y="20" text-anchor="middle">${esc(chart.title)}</text>`,
  ];
  // Y axis: grid lines and tick labels.
  parts.push('<g class="axis y-axis">');
  for (const t of ts) {
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${Y(t)}" y2="${Y(t)}"/>`);
    parts.push(`<text x="${M.left - 6}" y="${Y(t) + 4}" text-anchor="end">${esc(fmt.format(t))}</text>`);
  }
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`);
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${Y(0)}" y2="${Y(0)}"/>`);
  parts.push('</g>');

  // X positions: bands for bars; a time scale or even spacing for lines.
  const n = rows.length;
  let X: (i: number) => number;
  if (chart.kind === 'line') {
    const times = xcol.type === 'time' ? rows.map((r) => Date.parse(String(r[xi]))) : [];
    const tmin = Math.min(...times);
    const tmax = Math.max(...times);
    if (times.length > 1 && times.every(Number.isFinite) && tmax > tmin) {
      X = (i) => r1(M.left + ((times[i]! - tmin) / (tmax - tmin)) * pw);
    } else {
      X = (i) => r1(M.left + (n <= 1 ? pw / 2 : (i / (n - 1)) * pw));
    }
  } else {
    X = (i) => r1(M.left + ((i + 0.5) / Math.max(1, n)) * pw);
  }
  const every = Math.max(1, Math.ceil(n / (chart.kind === 'line' ? MAX_X_LABELS : MAX_BARS)));
  parts.push('<g class="axis x-axis">');
  labels.forEach((l, i) => {
    if (i % every !== 0 && i !== n - 1) return;
    const x = X(i);
    const y = M.top + ph + 14;
    parts.push(
      `<text x="${x}" y="${y}" text-anchor="end" transform="rotate(-35 ${x} ${y})">${esc(short(l))}</text>`,
    );
  });
  parts.push('</g>');

  // Marks.
  parts.push('<g class="marks">');
  const series = ycols.length;
  const band = pw / Math.max(1, n);
  values.forEach((vs, i) => {
    const label = labels[i] ?? '';
    if (chart.kind === 'bar') {
      const bw = (band * 0.8) / series;
      vs.forEach((v, s) => {
        const x = r1(M.left + i * band + band * 0.1 + s * bw);
        const top = Math.min(Y(v), Y(0));
        const h = r1(Math.abs(Y(v) - Y(0)));
        parts.push(
          `<rect x="${x}" y="${top}" width="${r1(Math.max(1, bw - 1))}" height="${h}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${label}: ${ycols[s]!.title} ${displayCell(v, ycols[s]!.type)}`)}</title></rect>`,
        );
      });
    } else if (chart.kind === 'stacked-bar') {
      let pos = 0;
      let neg = 0;
      vs.forEach((v, s) => {
        const from = v >= 0 ? pos : neg;
        const to = from + v;
        if (v >= 0) pos = to;
        else neg = to;
        const top = Math.min(Y(from), Y(to));
        parts.push(
          `<rect x="${r1(M.left + i * band + band * 0.1)}" y="${top}" width="${r1(Math.max(1, band * 0.8))}" height="${r1(Math.abs(Y(to) - Y(from)))}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${label}: ${ycols[s]!.title} ${displayCell(v, ycols[s]!.type)}`)}</title></rect>`,
        );
      });
    }
  });
  if (chart.kind === 'line') {
    ycols.forEach((c, s) => {
      const pts = values.map((vs, i) => `${X(i)},${Y(vs[s] ?? 0)}`).join(' ');
      const colour = PALETTE[s % PALETTE.length];
      parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
      if (n <= 60) {
        values.forEach((vs, i) => {
          parts.push(
            `<circle cx="${X(i)}" cy="${Y(vs[s] ?? 0)}" r="3" fill="${colour}"><title>${esc(`${labels[i] ?? ''}: ${c.title} ${displayCell(vs[s] ?? 0, c.type)}`)}</title></circle>`,
          );
        });
      }
    });
  }
  parts.push('</g>');

  // Legend (several series), under the title.
  if (series > 1) {
    parts.push('<g class="legend">');
    let x = M.left;
    ycols.forEach((c, s) => {
      const name = short(c.title);
      parts.push(`<rect x="${x}" y="28" width="10" height="10" fill="${PALETTE[s % PALETTE.length]}"/>`);
      parts.push(`<text x="${x + 14}" y="37">${esc(name)}</text>`);
      x += 24 + Array.from(name).length * 7;
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('\n');
}
