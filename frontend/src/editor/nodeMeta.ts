/** Show a node type on the palette, the canvas and the inspector, from the registry (no React). */

import { nodeType, type GraphNode, type PaletteEntry } from '../graph';

/** Drag-and-drop payload type from the palette to the canvas. */
export const PALETTE_MIME = 'application/x-switchyard-node-type';

/** Approximate node box, to center a dropped node under the pointer. */
export const NODE_SIZE = { width: 180, height: 64 };

/** Return how a type is shown; a type nobody registered (an imported graph's) shows its name. */
export function paletteEntry(type: string): PaletteEntry {
  return nodeType(type)?.palette ?? { title: String(type), icon: '?', hint: '' };
}

/** Return the one-line summary shown under a node's label on the canvas. */
export function nodeSummary(node: GraphNode): string {
  return nodeType(node.type)?.summary(node) ?? '';
}

/** Return the name a node is shown by: its label, else its id (`fallback` for a missing node). */
export function labelOf(node: GraphNode | undefined, fallback: string): string {
  return node && typeof node.label === 'string' && node.label ? node.label : (node?.id ?? fallback);
}
