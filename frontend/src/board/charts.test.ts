/** Tests for the chart helpers: scales, nice axes, broken lines, labels, bands. */

import { describe, expect, it } from 'vitest';
import { bands, dayLabel, labelIndexes, linePath, linearScale, niceStep, yAxis } from './charts';

describe('linearScale', () => {
  it('maps the domain onto the range, inverted for SVG y', () => {
    const y = linearScale([0, 1], [100, 0]);
    expect(y(0)).toBe(100);
    expect(y(0.25)).toBe(75);
    expect(y(1)).toBe(0);
  });

  it('puts everything in the middle for a flat domain', () => {
    expect(linearScale([3, 3], [0, 10])(3)).toBe(5);
  });
});

describe('yAxis', () => {
  it('picks nice steps', () => {
    expect(niceStep(10, 4)).toBe(2.5);
    expect(niceStep(0.37, 4)).toBe(0.1);
    expect(niceStep(1300, 4)).toBe(500);
  });

  it('rounds the top up to a tick above the data', () => {
    expect(yAxis([3, 7, null, 9])).toEqual({ domain: [0, 10], ticks: [0, 2.5, 5, 7.5, 10] });
  });

  it('pins the top for ratios', () => {
    expect(yAxis([0.2, 0.5], 4, 1)).toEqual({ domain: [0, 1], ticks: [0, 0.25, 0.5, 0.75, 1] });
  });

  it('draws 0..1 when there is no data', () => {
    expect(yAxis([null, null]).domain).toEqual([0, 1]);
  });
});

describe('linePath', () => {
  const x = (i: number) => i * 10;
  const y = (v: number) => 100 - v;

  it('joins consecutive values', () => {
    expect(linePath([1, 2, 3], x, y)).toEqual({ path: 'M0,99 L10,98 L20,97', lonely: [] });
  });

  it('breaks the line at days without data and keeps lone values as dots', () => {
    const line = linePath([1, null, 3, 4, null, 6], x, y);
    expect(line.path).toBe('M20,97 L30,96');
    expect(line.lonely).toEqual([
      { index: 0, x: 0, y: 99 },
      { index: 5, x: 50, y: 94 },
    ]);
  });

  it('draws nothing for no data', () => {
    expect(linePath([null, null], x, y)).toEqual({ path: '', lonely: [] });
  });
});

describe('labels', () => {
  it('spreads at most max labels, first and last included', () => {
    expect(labelIndexes(5, 6)).toEqual([0, 1, 2, 3, 4]);
    expect(labelIndexes(8, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(labelIndexes(10, 6)).toEqual([0, 2, 4, 6, 9]);
    const many = labelIndexes(91, 6);
    expect(many[0]).toBe(0);
    expect(many[many.length - 1]).toBe(90);
    expect(many.length).toBeLessThanOrEqual(6);
    expect(labelIndexes(0, 6)).toEqual([]);
  });

  it('names days briefly', () => {
    expect(dayLabel('2025-03-05')).toBe('Mar 5');
    expect(dayLabel('soon')).toBe('soon');
  });
});

describe('bands', () => {
  it('splits the width into days and each day into series', () => {
    const band = bands(4, 2, 0, 400, 0.2);
    expect(band.center(0)).toBe(50);
    expect(band.width).toBe(40);
    expect(band.x(0, 0)).toBe(10);
    expect(band.x(0, 1)).toBe(50);
    expect(band.x(3, 1)).toBe(350);
  });
});
