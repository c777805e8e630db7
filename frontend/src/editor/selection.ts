/** The editor's selection of nodes and edges, and how React Flow changes apply to it. */

import type { EdgeChange, NodeChange } from '@xyflow/react';

export interface Selection {
  nodes: ReadonlySet<string>;
  edges: ReadonlySet<string>;
}

export const EMPTY_SELECTION: Selection = { nodes: new Set(), edges: new Set() };

export function selectionOf(nodes: Iterable<string>, edges: Iterable<string> = []): Selection {
  return { nodes: new Set(nodes), edges: new Set(edges) };
}

function applySelect(current: ReadonlySet<string>, changes: readonly { id: string; selected: boolean }[]): ReadonlySet<string> {
  let next: Set<string> | null = null;
  for (const change of changes) {
    if (change.selected === current.has(change.id) && next === null) continue;
    next ??= new Set(current);
    if (change.selected) next.add(change.id);
    else next.delete(change.id);
  }
  return next ?? current;
}

/** Apply React Flow's select changes; return the same object when nothing changed. */
export function applyNodeSelect(selection: Selection, changes: readonly NodeChange[]): Selection {
  const selects = changes.flatMap((c) => (c.type === 'select' ? [c] : []));
  if (selects.length === 0) return selection;
  const nodes = applySelect(selection.nodes, selects);
  return nodes === selection.nodes ? selection : { ...selection, nodes };
}

export function applyEdgeSelect(selection: Selection, changes: readonly EdgeChange[]): Selection {
  const selects = changes.flatMap((c) => (c.type === 'select' ? [c] : []));
  if (selects.length === 0) return selection;
  const edges = applySelect(selection.edges, selects);
  return edges === selection.edges ? selection : { ...selection, edges };
}

/** Drop ids that are no longer in the graph. */
export function pruneSelection(
  selection: Selection,
  nodeIds: ReadonlySet<string>,
  edgeIds: ReadonlySet<string>,
): Selection {
  const nodes = [...selection.nodes].filter((id) => nodeIds.has(id));
  const edges = [...selection.edges].filter((id) => edgeIds.has(id));
  if (nodes.length === selection.nodes.size && edges.length === selection.edges.size) return selection;
  return selectionOf(nodes, edges);
}
