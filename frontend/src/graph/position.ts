/** Find where a node's box is drawn: its layout entry, or a grid slot if it has none. */

import type { Position, WorkflowGraph } from './types';

// Box size the editor draws and auto-layout spaces for (layout holds top-left corners).
export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 56;

const GRID_COLUMNS = 6;
const GRID_X = NODE_WIDTH + 60;
const GRID_Y = NODE_HEIGHT + 60;

/** Return the node's layout position, or a grid slot from its index (0, 0 if unknown). */
export function positionOf(graph: WorkflowGraph, id: string): Position {
  const stored = graph.layout?.[id];
  if (stored && Number.isFinite(stored.x) && Number.isFinite(stored.y)) {
    return { x: stored.x, y: stored.y };
  }
  const index = Math.max(
    graph.nodes.findIndex((node) => node.id === id),
    0,
  );
  return { x: (index % GRID_COLUMNS) * GRID_X, y: Math.floor(index / GRID_COLUMNS) * GRID_Y };
}
