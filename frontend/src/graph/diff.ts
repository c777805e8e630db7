/** Compare two graphs the way the server's `diff_graphs` does, and mark what changed. */

import type { GraphDiff, ItemDiff } from './types';

export type DiffKind = 'added' | 'removed' | 'changed';

export interface DiffStatus {
  nodes: Record<string, DiffKind>;
  edges: Record<string, DiffKind>;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Return whether two JSON values are equal as Python's `==` sees them: object key order
 * and `undefined` keys are ignored, and true equals 1 (false 0), as on the server.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keysA = Object.keys(a).filter((key) => a[key] !== undefined);
  const keysB = Object.keys(b).filter((key) => b[key] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && jsonEqual(a[key], b[key]));
}

// A missing field reads as null, like Python's dict.get in the server's diff.
function field(item: Json, key: string): unknown {
  const value = item[key];
  return value === undefined ? null : value;
}

function sortedUnion(a: Json, b: Json): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

/** Return the first item with each string id, by id, in document order. */
function byId(items: unknown): Map<string, Json> {
  const indexed = new Map<string, Json>();
  if (Array.isArray(items)) {
    for (const item of items) {
      if (isObject(item) && typeof item.id === 'string' && !indexed.has(item.id)) indexed.set(item.id, item);
    }
  }
  return indexed;
}

function diffItems(oldItems: unknown, newItems: unknown): ItemDiff {
  const before = byId(oldItems);
  const after = byId(newItems);
  const changed: ItemDiff['changed'] = [];
  for (const [id, item] of after) {
    const previous = before.get(id);
    if (previous === undefined) continue;
    const fields: Record<string, { old: unknown; new: unknown }> = {};
    for (const name of sortedUnion(previous, item)) {
      const old = field(previous, name);
      const now = field(item, name);
      if (!jsonEqual(old, now)) fields[name] = { old, new: now };
    }
    if (Object.keys(fields).length > 0) changed.push({ id, fields });
  }
  return {
    added: [...after.keys()].filter((id) => !before.has(id)),
    removed: [...before.keys()].filter((id) => !after.has(id)),
    changed,
  };
}

/**
 * Return nodes and edges added, removed and changed (field by field), and settings.
 *
 * Layout is ignored: moving boxes changes nothing. Settings are `format`,
 * `max_concurrent_runs`, `timeout_s` and each key of `defaults` (as "defaults.<key>").
 */
export function diffGraphs(oldGraph: unknown, newGraph: unknown): GraphDiff {
  const before = isObject(oldGraph) ? oldGraph : {};
  const after = isObject(newGraph) ? newGraph : {};
  const settings: GraphDiff['settings'] = {};
  for (const key of ['format', 'max_concurrent_runs', 'timeout_s']) {
    if (!jsonEqual(field(before, key), field(after, key))) {
      settings[key] = { old: field(before, key), new: field(after, key) };
    }
  }
  const oldDefaults = isObject(before.defaults) ? before.defaults : {};
  const newDefaults = isObject(after.defaults) ? after.defaults : {};
  for (const key of sortedUnion(oldDefaults, newDefaults)) {
    if (!jsonEqual(field(oldDefaults, key), field(newDefaults, key))) {
      settings[`defaults.${key}`] = { old: field(oldDefaults, key), new: field(newDefaults, key) };
    }
  }
  return {
    nodes: diffItems(before.nodes, after.nodes),
    edges: diffItems(before.edges, after.edges),
    settings,
  };
}

/** Return, for highlighting, how each node and edge id differs (unchanged ids are absent). */
export function diffStatus(diff: GraphDiff): DiffStatus {
  const status = (items: ItemDiff): Record<string, DiffKind> => {
    const result: Record<string, DiffKind> = {};
    for (const id of items.added) result[id] = 'added';
    for (const id of items.removed) result[id] = 'removed';
    for (const { id } of items.changed) result[id] = 'changed';
    return result;
  };
  return { nodes: status(diff.nodes), edges: status(diff.edges) };
}
