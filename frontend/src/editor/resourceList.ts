/** Put a saved resource in its list, or take a deleted one out, by id (no React). */

/** A resource the API names by its numeric id: a schedule, a webhook, a notification rule. */
export interface Identified {
  id: number;
}

/** Return the list with `saved` in place of the item of its id, or added last if it is new; no list yet counts as empty. */
export function upsertById<T extends Identified>(list: readonly T[] | null, saved: T): T[] {
  const items = list ?? [];
  return items.some((item) => item.id === saved.id) ? items.map((item) => (item.id === saved.id ? saved : item)) : [...items, saved];
}

/** Return the list without the item of this id; no list yet counts as empty. */
export function removeById<T extends Identified>(list: readonly T[] | null, id: number): T[] {
  return (list ?? []).filter((item) => item.id !== id);
}
