/**
 * The registry of node types the editor offers and the validator knows.
 *
 * A type is its module, graph/nodes/<type>.ts, and its entry in BUILT_IN (in palette
 * order). Tests add one with `registerNodeType`, which returns a function that takes it
 * away again.
 */

import { call } from './call';
import { choice } from './choice';
import { end } from './end';
import { handoff } from './handoff';
import { join } from './join';
import { map } from './map';
import { parallel } from './parallel';
import { receive } from './receive';
import { start } from './start';
import { task } from './task';
import type { GraphEdge } from '../types';
import type { NodeTypeDef } from './types';
import { wait } from './wait';

export type * from './types';
export { outcomeLiterals } from './handoff';

const BUILT_IN: readonly NodeTypeDef[] = [start, task, call, map, choice, parallel, join, wait, receive, handoff, end];

const registry = new Map<string, NodeTypeDef>();
// The registry's values, rebuilt on each change so that callers can tell a change by identity.
let registered: readonly NodeTypeDef[] = [];

/** Add a node type after the others; return a function that removes it again. */
export function registerNodeType(def: NodeTypeDef): () => void {
  if (registry.has(def.type)) throw new Error(`node type ${JSON.stringify(def.type)} is already registered`);
  registry.set(def.type, def);
  registered = [...registry.values()];
  return () => {
    if (registry.get(def.type) !== def) return;
    registry.delete(def.type);
    registered = [...registry.values()];
  };
}

for (const def of BUILT_IN) registerNodeType(def);

/** Return the definition of a node type, or undefined for a type nobody registered. */
export function nodeType(type: unknown): NodeTypeDef | undefined {
  return typeof type === 'string' ? registry.get(type) : undefined;
}

/** The edge fields that make sense on an edge, from its source's type (see edgeFields). */
export interface EdgeFields {
  /** The source routes by condition (a choice, a handoff): `when` and `default` apply. */
  routing: boolean;
  when: boolean;
  default: boolean;
  onFailure: boolean;
  onTimeout: boolean;
}

/**
 * Return which fields the inspector offers on an edge: those its source's type allows
 * (the validator refuses the others: when_not_allowed, failure_edge_source,
 * timeout_edge_source), and any the edge has anyway (an imported graph), so that it
 * can be seen with its issue and cleared.
 */
export function edgeFields(sourceType: unknown, edge: GraphEdge): EdgeFields {
  const rules = nodeType(sourceType)?.edges ?? {};
  const routing = rules.when !== undefined;
  return {
    routing,
    when: routing || edge.when !== undefined,
    default: routing || edge.default !== undefined,
    onFailure: rules.onFailure === true || edge.on === 'failure',
    onTimeout: rules.onTimeout === true || edge.on === 'timeout',
  };
}

/** Return every registered node type, in palette order (the same array until one is added or removed). */
export function nodeTypes(): readonly NodeTypeDef[] {
  return registered;
}
