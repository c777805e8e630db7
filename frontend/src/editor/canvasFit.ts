/**
 * Fit the graph into the canvas at a zoom where its text stays readable, clear of the
 * overlays drawn on the canvas (minimap, zoom controls, corner tools, banners). No React.
 */

/** Below this zoom a node's text (13 px labels, 11 px details) is too small to read. */
export const READABLE_ZOOM = 0.7;
/** Fitting never zooms in past this: a small graph is not blown up. */
export const FIT_MAX_ZOOM = 1.1;
/** Space kept between the graph and the canvas's edges or an overlay, in screen pixels. */
export const FIT_MARGIN = 24;
/** Elements drawn over the canvas, which the fitted graph must not sit under. */
export const OVERLAY_SELECTOR = '.react-flow__minimap, .react-flow__controls, .canvas-tools, .readonly-banner, .canvas-map-toggle';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Insets {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/**
 * Return how much of the canvas's top and bottom the overlays take (screen pixels, the
 * margin included). An overlay in the upper half of the canvas counts from the top,
 * one in the lower half from the bottom; overlays are corner- or edge-anchored strips,
 * so reserving their band keeps every node clear of them.
 */
export function overlayInsets(canvas: Box, overlays: readonly Box[], margin = FIT_MARGIN): Insets {
  const insets = { top: margin, right: margin, bottom: margin, left: margin };
  for (const box of overlays) {
    if (box.width <= 0 || box.height <= 0) continue;
    const top = box.y - canvas.y;
    const bottom = canvas.y + canvas.height - (box.y + box.height);
    if (top + box.height / 2 < canvas.height / 2) insets.top = Math.max(insets.top, top + box.height + margin / 2);
    else insets.bottom = Math.max(insets.bottom, bottom + box.height + margin / 2);
  }
  return insets;
}

/**
 * Return the viewport that shows `bounds` (flow coordinates) inside a `width`×`height`
 * canvas less `insets`: the whole graph, centered, when it fits at READABLE_ZOOM or
 * more (never past FIT_MAX_ZOOM); else at READABLE_ZOOM from its left (where a graph
 * starts), centered vertically if it fits that way, else from its top. The rest is a
 * pan away.
 */
export function readableViewport(bounds: Box, width: number, height: number, insets: Insets): Viewport {
  const availableWidth = Math.max(width - insets.left - insets.right, 1);
  const availableHeight = Math.max(height - insets.top - insets.bottom, 1);
  const fitZoom = Math.min(availableWidth / Math.max(bounds.width, 1), availableHeight / Math.max(bounds.height, 1));
  const zoom = Math.min(Math.max(fitZoom, READABLE_ZOOM), FIT_MAX_ZOOM);
  const drawnWidth = bounds.width * zoom;
  const drawnHeight = bounds.height * zoom;
  const x = drawnWidth <= availableWidth ? insets.left + (availableWidth - drawnWidth) / 2 : insets.left;
  const y = drawnHeight <= availableHeight ? insets.top + (availableHeight - drawnHeight) / 2 : insets.top;
  return { x: x - bounds.x * zoom, y: y - bounds.y * zoom, zoom };
}

/** Return the box around boxes (an empty list gives an empty box at the origin). */
export function boundsOf(boxes: readonly Box[]): Box {
  if (boxes.length === 0) return { x: 0, y: 0, width: 0, height: 0 };
  let left = Infinity;
  let top = Infinity;
  let right = -Infinity;
  let bottom = -Infinity;
  for (const b of boxes) {
    left = Math.min(left, b.x);
    top = Math.min(top, b.y);
    right = Math.max(right, b.x + b.width);
    bottom = Math.max(bottom, b.y + b.height);
  }
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Return the flow point under the middle of the canvas's free area (where a node dropped on an overlay goes). */
export function visibleCenter(viewport: Viewport, width: number, height: number, insets: Insets): { x: number; y: number } {
  const screenX = insets.left + (width - insets.left - insets.right) / 2;
  const screenY = insets.top + (height - insets.top - insets.bottom) / 2;
  return { x: (screenX - viewport.x) / viewport.zoom, y: (screenY - viewport.y) / viewport.zoom };
}
