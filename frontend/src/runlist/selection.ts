/**
 * Which runs a bulk action is for: runs picked by hand (kept across pages), or every
 * run matching the search (plain TypeScript, no React).
 */

import { totalLabel } from '../ui/format';

/** The most runs one bulk job takes (runs/models/bulk.py MAX_BULK_RUNS). */
export const MAX_BULK_RUNS = 10_000;

export type Selection = { mode: 'ids'; ids: ReadonlySet<number> } | { mode: 'matching'; count: number };

export const NOTHING: Selection = { mode: 'ids', ids: new Set() };

export function toggle(selection: Selection, id: number): Selection {
  const ids = new Set(selection.mode === 'ids' ? selection.ids : []);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { mode: 'ids', ids };
}

/** Check or uncheck every run of the page (a page in "matching" mode starts over). */
export function togglePage(selection: Selection, pageIds: number[]): Selection {
  const ids = new Set(selection.mode === 'ids' ? selection.ids : []);
  const all = pageIds.length > 0 && pageIds.every((id) => ids.has(id));
  for (const id of pageIds) {
    if (all) ids.delete(id);
    else ids.add(id);
  }
  return { mode: 'ids', ids };
}

export function isSelected(selection: Selection, id: number): boolean {
  return selection.mode === 'matching' || selection.ids.has(id);
}

export function pageState(selection: Selection, pageIds: number[]): 'all' | 'some' | 'none' {
  if (pageIds.length === 0) return 'none';
  const picked = pageIds.filter((id) => isSelected(selection, id)).length;
  return picked === pageIds.length ? 'all' : picked > 0 ? 'some' : 'none';
}

/** How many runs the selection holds. */
export function selectedCount(selection: Selection): number {
  return selection.mode === 'matching' ? selection.count : selection.ids.size;
}

/** Say why every matching run cannot be selected, or null when it can. */
export function matchingRefusal(count: number, filtered: boolean): string | null {
  if (!filtered) return 'Search for something first: a bulk job over every run needs a filter.';
  if (count > MAX_BULK_RUNS) return `A bulk job takes at most ${MAX_BULK_RUNS.toLocaleString('en')} runs; narrow the search.`;
  return null;
}

/** The request body's selection: the filter, or the ids in ascending order. */
export function selectionBody(selection: Selection, filter: Record<string, string>): { filter: Record<string, string> } | { ids: number[] } {
  if (selection.mode === 'matching') return { filter };
  return { ids: [...selection.ids].sort((a, b) => a - b) };
}

/** "1 run", "1,234 runs", "10,000+ runs" (the server stopped counting). */
export function runsLabel(count: number, capped = false): string {
  return `${totalLabel(count, capped)} run${count === 1 && !capped ? '' : 's'}`;
}
