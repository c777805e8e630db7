/** Tests for fitting the canvas at a readable zoom, clear of its overlays. */

import { describe, expect, it } from 'vitest';
import { boundsOf, FIT_MARGIN, FIT_MAX_ZOOM, overlayInsets, READABLE_ZOOM, readableViewport, visibleCenter } from './canvasFit';

const canvas = { x: 100, y: 50, width: 600, height: 500 };
const NO_INSETS = { top: 0, right: 0, bottom: 0, left: 0 };

describe('overlayInsets', () => {
  it('reserves the band of each overlay, by the half of the canvas it sits in', () => {
    const minimap = { x: 570, y: 420, width: 120, height: 80 }; // bottom right, 50 px up
    const tools = { x: 600, y: 60, width: 90, height: 30 }; // top right
    const insets = overlayInsets(canvas, [minimap, tools]);
    expect(insets.bottom).toBe(50 + 80 + FIT_MARGIN / 2);
    expect(insets.top).toBe(10 + 30 + FIT_MARGIN / 2);
    expect(insets.left).toBe(FIT_MARGIN);
    expect(insets.right).toBe(FIT_MARGIN);
  });

  it('ignores hidden overlays', () => {
    expect(overlayInsets(canvas, [{ x: 0, y: 0, width: 0, height: 0 }])).toEqual({
      top: FIT_MARGIN,
      right: FIT_MARGIN,
      bottom: FIT_MARGIN,
      left: FIT_MARGIN,
    });
  });
});

describe('readableViewport', () => {
  it('centers a graph that fits, without blowing a small one up', () => {
    const view = readableViewport({ x: 0, y: 0, width: 200, height: 60 }, 600, 400, NO_INSETS);
    expect(view.zoom).toBe(FIT_MAX_ZOOM);
    expect(view.x).toBeCloseTo((600 - 200 * FIT_MAX_ZOOM) / 2);
    expect(view.y).toBeCloseTo((400 - 60 * FIT_MAX_ZOOM) / 2);
  });

  it('shrinks a graph to fit, down to the readable zoom', () => {
    const view = readableViewport({ x: 0, y: 0, width: 700, height: 100 }, 600, 400, NO_INSETS);
    expect(view.zoom).toBeCloseTo(600 / 700);
    expect(view.zoom).toBeGreaterThanOrEqual(READABLE_ZOOM);
  });

  it('never goes below the readable zoom: a wide graph shows from its start', () => {
    const bounds = { x: -40, y: 100, width: 1700, height: 400 };
    const insets = { top: 50, right: 24, bottom: 130, left: 24 };
    const view = readableViewport(bounds, 565, 510, insets);
    expect(view.zoom).toBe(READABLE_ZOOM);
    // The graph's left edge at the left inset; vertically centered in the free band.
    expect(bounds.x * view.zoom + view.x).toBeCloseTo(24);
    const top = bounds.y * view.zoom + view.y;
    const free = 510 - 50 - 130;
    expect(top).toBeCloseTo(50 + (free - 400 * READABLE_ZOOM) / 2);
    // So the nodes stay clear of the bottom overlays.
    expect(top + bounds.height * view.zoom).toBeLessThanOrEqual(510 - 130);
  });

  it('shows a tall graph from its top', () => {
    const view = readableViewport({ x: 0, y: 0, width: 100, height: 3000 }, 600, 400, NO_INSETS);
    expect(view.zoom).toBe(READABLE_ZOOM);
    expect(view.y).toBe(0);
  });
});

describe('boundsOf and visibleCenter', () => {
  it('boxes boxes', () => {
    expect(
      boundsOf([
        { x: 0, y: 10, width: 180, height: 56 },
        { x: 300, y: -20, width: 180, height: 56 },
      ]),
    ).toEqual({ x: 0, y: -20, width: 480, height: 86 });
    expect(boundsOf([])).toEqual({ x: 0, y: 0, width: 0, height: 0 });
  });

  it('finds the flow point in the middle of the free area', () => {
    const point = visibleCenter({ x: 100, y: 50, zoom: 0.5 }, 600, 400, { top: 40, right: 0, bottom: 120, left: 0 });
    expect(point).toEqual({ x: (300 - 100) / 0.5, y: (40 + 120 - 50) / 0.5 });
  });
});
