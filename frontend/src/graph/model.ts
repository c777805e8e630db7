/** Build and edit workflow graphs immutably: every function returns a new graph. */

import { nodeType } from './nodes';
import { positionOf } from './position';
import { EDGE_ID_PATTERN, NODE_ID_PATTERN } from './rules';
import type { GraphEdge, GraphNode, NodeType, Position, WorkflowGraph } from './types';

export { EDGE_ID_PATTERN, NODE_ID_PATTERN };
const MAX_NODE_ID_LENGTH = 64;

/** Fields a new node of each type starts with (its definition's), so that it is valid once wired. */
export function defaultNodeFields(type: NodeType): Record<string, unknown> {
  return structuredClone(nodeType(type)?.defaults ?? {});
}

/** Return a new graph: start → done, with room to insert steps between them. */
export function emptyGraph(): WorkflowGraph {
  return {
    format: 1,
    defaults: { retry: { max_attempts: 3 } },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'done', type: 'end' },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'done' }],
    layout: { start: { x: 0, y: 0 }, done: { x: 320, y: 0 } },
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Return `<base>_<n>` with n one above any `<base>_<number>` id in use. */
function nextId(taken: Iterable<string>, base: string, separator: string): string {
  const pattern = new RegExp(`^${escapeRegExp(base)}${separator}(\\d+)$`);
  const used = new Set(taken);
  let highest = 0;
  for (const id of used) {
    const match = pattern.exec(id);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  let n = highest + 1;
  while (used.has(`${base}${separator}${n}`)) n += 1;
  return `${base}${separator}${n}`;
}

/** Return a node id based on `base` ("charge" → "charge_1") that the graph does not use. */
export function uniqueNodeId(graph: WorkflowGraph, base: string): string {
  let stem = base.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!/^[A-Za-z]/.test(stem)) stem = `n${stem}`;
  // Leave room for "_<n>" within the server's 64 characters.
  stem = stem.slice(0, MAX_NODE_ID_LENGTH - 7);
  return nextId(
    graph.nodes.map((node) => node.id),
    stem,
    '_',
  );
}

/** Return a fresh node id for the type, like `task_3` ("start" for a first start). */
export function newNodeId(graph: WorkflowGraph, type: NodeType): string {
  if (type === 'start' && !graph.nodes.some((node) => node.id === 'start')) return 'start';
  return uniqueNodeId(graph, type);
}

/** Return a fresh edge id, like `e7`. */
export function newEdgeId(graph: WorkflowGraph): string {
  return nextId(
    graph.edges.map((edge) => edge.id),
    'e',
    '',
  );
}

/** Add a node of `type` at `position` with its type's default fields; return its id. */
export function addNode(
  graph: WorkflowGraph,
  type: NodeType,
  position: Position,
  fields: Partial<GraphNode> = {},
): { graph: WorkflowGraph; id: string } {
  const requested = fields.id;
  const id =
    typeof requested === 'string' && NODE_ID_PATTERN.test(requested) && !graph.nodes.some((n) => n.id === requested)
      ? requested
      : newNodeId(graph, type);
  const node: GraphNode = { ...defaultNodeFields(type), ...withoutUndefined(fields), id, type };
  return {
    graph: {
      ...graph,
      nodes: [...graph.nodes, node],
      layout: { ...graph.layout, [id]: { x: position.x, y: position.y } },
    },
    id,
  };
}

/** Remove nodes (with every edge touching them and their layout) and edges. */
export function removeElements(graph: WorkflowGraph, nodeIds: string[], edgeIds: string[]): WorkflowGraph {
  const nodes = new Set(nodeIds);
  const edges = new Set(edgeIds);
  if (nodes.size === 0 && edges.size === 0) return graph;
  const result: WorkflowGraph = {
    ...graph,
    nodes: graph.nodes.filter((node) => !nodes.has(node.id)),
    edges: graph.edges.filter(
      (edge) => !edges.has(edge.id) && !nodes.has(edge.source) && !nodes.has(edge.target),
    ),
  };
  if (graph.layout) {
    result.layout = Object.fromEntries(Object.entries(graph.layout).filter(([id]) => !nodes.has(id)));
  }
  return result;
}

/** Add an edge source → target; null for a self-loop, a missing end or a duplicate. */
export function connect(
  graph: WorkflowGraph,
  source: string,
  target: string,
  fields: Partial<GraphEdge> = {},
): { graph: WorkflowGraph; id: string } | null {
  if (source === target) return null;
  const ids = new Set(graph.nodes.map((node) => node.id));
  if (!ids.has(source) || !ids.has(target)) return null;
  if (graph.edges.some((edge) => edge.source === source && edge.target === target)) return null;
  const requested = fields.id;
  const id =
    typeof requested === 'string' && EDGE_ID_PATTERN.test(requested) && !graph.edges.some((e) => e.id === requested)
      ? requested
      : newEdgeId(graph);
  const edge: GraphEdge = { ...withoutUndefined(fields), id, source, target };
  return { graph: { ...graph, edges: [...graph.edges, edge] }, id };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

function patched<T extends { id: string }>(item: T, patch: Record<string, unknown>): T {
  if ('id' in patch && patch.id !== undefined && patch.id !== item.id) {
    throw new Error(`cannot rename ${item.id} to ${String(patch.id)}: ids are fixed once created`);
  }
  const next: Record<string, unknown> = { ...item };
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'id') continue;
    if (value === undefined) delete next[key];
    else next[key] = value;
  }
  return next as T;
}

/** Set fields on a node; a field patched to `undefined` is removed. Ids cannot change. */
export function updateNode(graph: WorkflowGraph, id: string, patch: Record<string, unknown>): WorkflowGraph {
  const index = graph.nodes.findIndex((node) => node.id === id);
  if (index < 0) return graph;
  const nodes = graph.nodes.slice();
  nodes[index] = patched(graph.nodes[index]!, patch);
  return { ...graph, nodes };
}

/** Set fields on an edge; a field patched to `undefined` is removed. Ids cannot change. */
export function updateEdge(graph: WorkflowGraph, id: string, patch: Record<string, unknown>): WorkflowGraph {
  const index = graph.edges.findIndex((edge) => edge.id === id);
  if (index < 0) return graph;
  const edges = graph.edges.slice();
  edges[index] = patched(graph.edges[index]!, patch);
  return { ...graph, edges };
}

/** Set the layout position of each given node (ids not in the graph are ignored). */
export function moveNodes(graph: WorkflowGraph, positions: Record<string, Position>): WorkflowGraph {
  const ids = new Set(graph.nodes.map((node) => node.id));
  const layout = { ...graph.layout };
  for (const [id, position] of Object.entries(positions)) {
    if (ids.has(id)) layout[id] = { x: position.x, y: position.y };
  }
  return { ...graph, layout };
}

/** Return the selected nodes, the edges between them and their layout, as a graph. */
export function copyFragment(graph: WorkflowGraph, nodeIds: string[]): WorkflowGraph {
  const selected = new Set(nodeIds);
  const nodes = graph.nodes.filter((node) => selected.has(node.id));
  const ids = new Set(nodes.map((node) => node.id));
  const edges = graph.edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target));
  const layout: Record<string, Position> = {};
  for (const node of nodes) layout[node.id] = positionOf(graph, node.id);
  return structuredClone({ format: 1, nodes, edges, layout });
}

/**
 * Paste a fragment with fresh ids, its edges remapped and its boxes moved by `offset`.
 *
 * A start node is pasted only into a graph that has none.
 */
export function pasteFragment(
  graph: WorkflowGraph,
  fragment: WorkflowGraph,
  offset: Position,
): { graph: WorkflowGraph; nodeIds: string[]; edgeIds: string[] } {
  let hasStart = graph.nodes.some((node) => node.type === 'start');
  let working: WorkflowGraph = { ...graph, nodes: graph.nodes.slice(), edges: graph.edges.slice(), layout: { ...graph.layout } };
  // {fragment node id: pasted node id}
  const renamed = new Map<string, string>();
  const pastedNodes: GraphNode[] = [];
  for (const node of fragment.nodes) {
    if (renamed.has(node.id)) continue; // a duplicate id in the fragment
    if (node.type === 'start') {
      if (hasStart) continue;
      hasStart = true;
    }
    const id = node.type === 'start' ? newNodeId(working, 'start') : uniqueNodeId(working, node.id.replace(/_\d+$/, ''));
    renamed.set(node.id, id);
    const pasted: GraphNode = { ...structuredClone(node), id };
    pastedNodes.push(pasted);
    working.nodes.push(pasted);
    const from = positionOf(fragment, node.id);
    working.layout![id] = { x: from.x + offset.x, y: from.y + offset.y };
  }
  // A compensation pasted along with its task stays paired with the pasted copy.
  for (const node of pastedNodes) {
    const compensation = node.compensate_with;
    if (typeof compensation === 'string' && renamed.has(compensation)) {
      node.compensate_with = renamed.get(compensation);
    }
  }
  const edgeIds: string[] = [];
  for (const edge of fragment.edges) {
    const source = renamed.get(edge.source);
    const target = renamed.get(edge.target);
    if (source === undefined || target === undefined) continue;
    const id = newEdgeId(working);
    working.edges.push({ ...structuredClone(edge), id, source, target });
    edgeIds.push(id);
  }
  working = { ...working };
  return { graph: working, nodeIds: [...renamed.values()], edgeIds };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Check imported JSON (text or parsed) and return it as a graph; throw a readable Error.
 *
 * Accepts a bare graph or an object holding one in `graph` (a version from the API).
 * Keeps what validation should judge (unknown node types, duplicate ids) and drops only
 * what cannot be shown: top-level keys format v1 does not have and unusable positions.
 */
export function normalizeGraph(raw: unknown): WorkflowGraph {
  let data = raw;
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (error) {
      throw new Error(`The file is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (isObject(data) && !('nodes' in data) && isObject(data.graph)) data = data.graph;
  if (!isObject(data)) {
    throw new Error('A workflow graph must be a JSON object with "nodes" and "edges" arrays.');
  }
  if (!Array.isArray(data.nodes)) throw new Error('The graph has no "nodes" array.');
  if (!Array.isArray(data.edges)) throw new Error('The graph has no "edges" array.');
  if (data.format !== undefined && data.format !== 1) {
    throw new Error(`The graph is in format ${JSON.stringify(data.format)}; this editor reads format 1.`);
  }
  data.nodes.forEach((node: unknown, index: number) => {
    if (!isObject(node) || typeof node.id !== 'string' || node.id === '' || typeof node.type !== 'string') {
      throw new Error(`nodes[${index}] must be an object with a string "id" and "type".`);
    }
  });
  data.edges.forEach((edge: unknown, index: number) => {
    if (
      !isObject(edge) ||
      typeof edge.id !== 'string' ||
      edge.id === '' ||
      typeof edge.source !== 'string' ||
      typeof edge.target !== 'string'
    ) {
      throw new Error(`edges[${index}] must be an object with a string "id", "source" and "target".`);
    }
  });
  const graph: WorkflowGraph = {
    format: 1,
    nodes: structuredClone(data.nodes) as GraphNode[],
    edges: structuredClone(data.edges) as GraphEdge[],
  };
  if (isObject(data.defaults)) graph.defaults = structuredClone(data.defaults);
  if (data.max_concurrent_runs !== undefined) graph.max_concurrent_runs = data.max_concurrent_runs as number;
  if (data.timeout_s !== undefined) graph.timeout_s = data.timeout_s as number;
  if (isObject(data.layout)) {
    const layout: Record<string, Position> = {};
    for (const [id, position] of Object.entries(data.layout)) {
      if (isObject(position) && Number.isFinite(position.x) && Number.isFinite(position.y)) {
        layout[id] = { x: position.x as number, y: position.y as number };
      }
    }
    graph.layout = layout;
  }
  return graph;
}

/** Return whether `type` is a registered node type. */
export function isNodeType(type: unknown): type is NodeType {
  return nodeType(type) !== undefined;
}
