/** Lay out and colour a map step's item grid, and summarize its counts by state (no React). */

/** Item states in the order the summary lists them: in flight first, then finished. */
export const ITEM_STATES = ['pending', 'queued', 'running', 'retry_wait', 'succeeded', 'failed', 'cancelled'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

/** The most squares the grid draws; items past it are counted but not drawn. */
export const GRID_MAX_ITEMS = 10_000;
/** The items endpoint's page size limit (config/pagination.py MAX_LIMIT). */
export const ITEMS_PAGE_SIZE = 500;

// Same colours as the state badges (static/switchyard/base.css); a canvas cannot read CSS variables cheaply.
const STATE_COLOURS: Record<ItemState, string> = {
  pending: '#cbd5e1',
  queued: '#94a3b8',
  running: '#2563eb',
  retry_wait: '#f59e0b',
  succeeded: '#16a34a',
  failed: '#dc2626',
  cancelled: '#4b5563',
};
/** The colour of a square whose state is not loaded yet. */
export const UNKNOWN_COLOUR = '#eef0f3';

/** Code of a square whose state is not loaded (index into ITEM_STATES otherwise). */
export const UNKNOWN_CODE = 255;

/** Return the fill colour of an item state; unknown states get the not-loaded colour. */
export function stateColour(state: string): string {
  return (STATE_COLOURS as Record<string, string>)[state] ?? UNKNOWN_COLOUR;
}

/** Return the one-byte code of a state for the grid's Uint8Array (UNKNOWN_CODE if not an item state). */
export function stateCode(state: string): number {
  const index = (ITEM_STATES as readonly string[]).indexOf(state);
  return index < 0 ? UNKNOWN_CODE : index;
}

/** Return "7", "1,234" or "12.3k" (compact above 99,999 so the summary stays one line). */
export function formatCount(n: number): string {
  if (n < 100_000) return n.toLocaleString('en-US');
  if (n < 1_000_000) return `${(Math.round(n / 100) / 10).toString()}k`;
  return `${(Math.round(n / 100_000) / 10).toString()}M`;
}

export interface StateCount {
  state: ItemState;
  count: number;
  /** Share of all items, 0..1. */
  share: number;
}

/** Return the states present in `by_state`, in ITEM_STATES order, with their share of the total. */
export function stateCounts(byState: Readonly<Record<string, number>>, total: number): StateCount[] {
  return ITEM_STATES.filter((s) => (byState[s] ?? 0) > 0).map((state) => {
    const count = byState[state] ?? 0;
    return { state, count, share: total > 0 ? count / total : 0 };
  });
}

/** Return "12 of 40 finished" from counts by state. */
export function progressText(byState: Readonly<Record<string, number>>, total: number): string {
  const finished = (byState.succeeded ?? 0) + (byState.failed ?? 0) + (byState.cancelled ?? 0);
  return `${formatCount(finished)} of ${formatCount(total)} finished`;
}

/** Return a stable key of counts by state, to tell whether the grid's squares need loading again. */
export function countsKey(byState: Readonly<Record<string, number>>): string {
  return ITEM_STATES.map((s) => byState[s] ?? 0).join(',');
}

export interface GridLayout {
  columns: number;
  rows: number;
  /** Side of one square and the gap after it, in CSS pixels. */
  cell: number;
  gap: number;
  width: number;
  height: number;
}

/** Return a grid for `count` squares in `width` pixels: bigger squares for few items, at least 4 px. */
export function gridLayout(count: number, width: number): GridLayout {
  const n = Math.max(0, Math.min(count, GRID_MAX_ITEMS));
  const cell = n <= 200 ? 14 : n <= 1_000 ? 10 : n <= 4_000 ? 6 : 4;
  const gap = cell >= 10 ? 2 : 1;
  const columns = Math.max(1, Math.min(n, Math.floor((Math.max(width, cell) + gap) / (cell + gap))));
  const rows = n === 0 ? 0 : Math.ceil(n / columns);
  return {
    columns,
    rows,
    cell,
    gap,
    width: n === 0 ? 0 : columns * (cell + gap) - gap,
    height: rows === 0 ? 0 : rows * (cell + gap) - gap,
  };
}

/** Return the item index under a point of the grid, or null between squares or past the last item. */
export function indexAt(layout: GridLayout, count: number, x: number, y: number): number | null {
  const step = layout.cell + layout.gap;
  const column = Math.floor(x / step);
  const row = Math.floor(y / step);
  if (x < 0 || y < 0 || column >= layout.columns || x - column * step >= layout.cell || y - row * step >= layout.cell) return null;
  const index = row * layout.columns + column;
  return index < Math.min(count, GRID_MAX_ITEMS) ? index : null;
}

/** Return the offsets of the item pages to load for a grid of `total` items. */
export function pageOffsets(total: number, pageSize = ITEMS_PAGE_SIZE): number[] {
  const n = Math.min(Math.max(total, 0), GRID_MAX_ITEMS);
  const offsets: number[] = [];
  for (let offset = 0; offset < n; offset += pageSize) offsets.push(offset);
  return offsets;
}

/** Return the state of a grid code, or null for a square not loaded yet. */
export function codeState(code: number | undefined): ItemState | null {
  return code === undefined ? null : (ITEM_STATES[code] ?? null);
}
