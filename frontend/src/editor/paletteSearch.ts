/** The palette's search over node types and actions, and its drag payload (no React). */

import type { ActionDescription } from '../api/versions';
import type { PaletteEntry } from '../graph';

/** Drag payload beside the node type: the action a new task starts with. */
export const PALETTE_ACTION_MIME = 'application/x-switchyard-action';

/** How many actions a search lists at most (a registry may hold hundreds). */
export const MAX_LISTED_ACTIONS = 40;

/** Return the lower-case words of a query ("HTTP  post" → ["http", "post"]). */
export function queryWords(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

function hasEvery(text: string, words: readonly string[]): boolean {
  const haystack = text.toLowerCase();
  return words.every((word) => haystack.includes(word));
}

/** Return the node types whose type, title or hint holds every word (all of them for no words). */
export function filterNodeTypes<T extends { type: string; palette: PaletteEntry }>(types: readonly T[], query: string): T[] {
  const words = queryWords(query);
  return types.filter((t) => hasEvery(`${t.type} ${t.palette.title} ${t.palette.hint}`, words));
}

/** Return an action's description on one line: its first line, without trailing spaces. */
export function oneLine(description: string): string {
  return (description.split('\n').find((line) => line.trim() !== '') ?? '').trim();
}

/**
 * Return the actions whose name or description holds every word of the query, those
 * matched by name first, then by name; none for an empty query.
 */
export function matchActions(actions: readonly ActionDescription[], query: string, limit = MAX_LISTED_ACTIONS): ActionDescription[] {
  const words = queryWords(query);
  if (words.length === 0) return [];
  const rank = (action: ActionDescription) => {
    const name = action.name.toLowerCase();
    if (words.every((word) => name.includes(word))) return 0;
    return words.some((word) => name.includes(word)) ? 1 : 2;
  };
  return actions
    .filter((action) => hasEvery(`${action.name} ${action.description}`, words))
    .map((action) => ({ action, rank: rank(action) }))
    .sort((a, b) => a.rank - b.rank || a.action.name.localeCompare(b.action.name))
    .slice(0, limit)
    .map(({ action }) => action);
}
