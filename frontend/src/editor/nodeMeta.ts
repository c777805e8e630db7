/** Describe each node type for the palette, the canvas and the inspector (no React). */

import type { GraphNode, NodeType } from '../graph';

export interface NodeTypeMeta {
  type: NodeType;
  title: string;
  icon: string;
  hint: string;
}

export const NODE_TYPES: readonly NodeTypeMeta[] = [
  { type: 'start', title: 'Start', icon: '▶', hint: 'Where every run begins (exactly one).' },
  { type: 'task', title: 'Task', icon: '⚙', hint: 'Runs an action, with retries and a timeout.' },
  { type: 'choice', title: 'Choice', icon: '◆', hint: 'The first true condition wins; needs a default.' },
  { type: 'parallel', title: 'Parallel', icon: '⇉', hint: 'Starts every outgoing branch at once.' },
  { type: 'join', title: 'Join', icon: '⋈', hint: 'Waits for all (or any) parallel branches.' },
  { type: 'wait', title: 'Wait', icon: '◷', hint: 'Pauses the run for a number of seconds.' },
  { type: 'handoff', title: 'Handoff', icon: '☺', hint: 'Hands the step to a person; the outcome routes.' },
  { type: 'end', title: 'End', icon: '■', hint: 'Finishes the run, succeeded or failed.' },
];

export const META_BY_TYPE = Object.fromEntries(NODE_TYPES.map((m) => [m.type, m])) as Record<
  NodeType,
  NodeTypeMeta
>;

/** Drag-and-drop payload type from the palette to the canvas. */
export const PALETTE_MIME = 'application/x-switchyard-node-type';

/** Approximate node box, to center a dropped node under the pointer. */
export const NODE_SIZE = { width: 180, height: 64 };

/** Return the one-line summary shown under a node's label on the canvas. */
export function nodeSummary(node: GraphNode): string {
  switch (node.type) {
    case 'task':
      return typeof node.action === 'string' && node.action ? node.action : 'no action yet';
    case 'choice':
      return 'first true condition';
    case 'parallel':
      return 'all branches';
    case 'join':
      return node.mode === 'any' ? 'waits for any' : 'waits for all';
    case 'wait':
      return typeof node.seconds === 'number' ? `${node.seconds} s` : typeof node.seconds === 'string' ? node.seconds : 'no delay set';
    case 'handoff': {
      const to = node.to as { group?: unknown; user?: unknown } | undefined;
      if (to && typeof to.group === 'string') return `to group ${to.group}`;
      if (to && (typeof to.user === 'string' || typeof to.user === 'number')) return `to user ${to.user}`;
      return 'no assignee';
    }
    case 'end':
      return node.status === 'failed' ? 'ends failed' : 'ends succeeded';
    case 'start':
      return 'run input';
    default:
      return '';
  }
}
