/** Scales, ticks and paths for the scorecard's small SVG charts (no React, no DOM). */

export type Scale = (value: number) => number;

/** Map [d0, d1] linearly onto [r0, r1]; a flat domain maps to the middle of the range. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (d1 === d0) return () => (r0 + r1) / 2;
  const k = (r1 - r0) / (d1 - d0);
  return (value) => r0 + (value - d0) * k;
}

/** Return a "nice" step (1, 2, 2.5 or 5 × 10^k) that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || !(count > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

export interface Axis {
  domain: [number, number];
  ticks: number[];
}

/**
 * Return a y axis from 0 (or the data minimum if negative) up to a nice value at or
 * above the data maximum, with about `count` ticks. `fixedMax` pins the top (1 for
 * ratios). With no data, the axis is 0..1.
 */
export function yAxis(values: readonly (number | null)[], count = 4, fixedMax?: number): Axis {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = Math.min(0, ...finite);
  let hi = fixedMax ?? Math.max(0, ...finite);
  if (hi <= lo) hi = lo + 1;
  const step = niceStep(hi - lo, count);
  const top = fixedMax ?? Math.ceil(hi / step - 1e-9) * step;
  const bottom = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = bottom; v <= top + step * 1e-6; v += step) ticks.push(round(v));
  return { domain: [bottom, top], ticks };
}

function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

export interface LineGeometry {
  /** SVG path: one "M … L …" run per stretch of consecutive values. */
  path: string;
  /** Values with no neighbour to join (drawn as dots so they are not lost). */
  lonely: { index: number; x: number; y: number }[];
}

/** Draw a series as a line, broken where a value is null ("no data" that day). */
export function linePath(values: readonly (number | null)[], x: (index: number) => number, y: Scale): LineGeometry {
  const parts: string[] = [];
  const lonely: LineGeometry['lonely'] = [];
  let run: string[] = [];
  let runStart = -1;
  const flush = (end: number) => {
    if (run.length === 1) {
      const v = values[runStart] as number;
      lonely.push({ index: runStart, x: x(runStart), y: y(v) });
    } else if (run.length > 1) {
      parts.push(run.join(' '));
    }
    run = [];
    runStart = end;
  };
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      flush(index + 1);
      return;
    }
    if (run.length === 0) runStart = index;
    run.push(`${run.length === 0 ? 'M' : 'L'}${fmt(x(index))},${fmt(y(value))}`);
  });
  flush(values.length);
  return { path: parts.join(' '), lonely };
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** Return the indexes of at most `max` evenly spread labels, always the first and last. */
export function labelIndexes(length: number, max: number): number[] {
  if (length <= 0) return [];
  if (length <= max) return Array.from({ length }, (_, i) => i);
  if (max <= 1) return [length - 1];
  const step = Math.ceil((length - 1) / (max - 1));
  const out: number[] = [];
  for (let i = 0; i < length - 1; i += step) out.push(i);
  // Drop a label closer to the last one than a full step.
  if (out.length > 1 && length - 1 - out[out.length - 1]! < step) out.pop();
  out.push(length - 1);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2025-03-05" → "Mar 5"; anything else is returned unchanged. */
export function dayLabel(day: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return day;
  const month = MONTHS[Number(match[2]) - 1];
  return month ? `${month} ${Number(match[3])}` : day;
}

export interface Band {
  /** Left edge of bar `series` on day `index`. */
  x: (index: number, series: number) => number;
  width: number;
  /** Center of day `index`. */
  center: (index: number) => number;
}

/** Lay out grouped bars: `days` bands across [left, right], `series` bars per band. */
export function bands(days: number, series: number, left: number, right: number, padding = 0.2): Band {
  const band = days > 0 ? (right - left) / days : 0;
  const inner = band * (1 - padding);
  const width = series > 0 ? inner / series : 0;
  return {
    x: (index, s) => left + index * band + (band - inner) / 2 + s * width,
    width,
    center: (index) => left + index * band + band / 2,
  };
}
