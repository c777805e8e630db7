/** Lay a graph out left to right (or top to bottom) with dagre, and find node positions. */

import { graphlib, layout as dagreLayout } from '@dagrejs/dagre';
import type { EdgeLabel, GraphLabel, NodeLabel } from '@dagrejs/dagre';
import { NODE_HEIGHT, NODE_WIDTH } from './position';
import type { GraphEdge, Position, WorkflowGraph } from './types';

export { NODE_HEIGHT, NODE_WIDTH, positionOf } from './position';

export type LayoutDirection = 'LR' | 'TB';

type LayoutGraph = graphlib.Graph<GraphLabel, NodeLabel, EdgeLabel>;

// Crossing reduction sweeps: stop after this many without improvement, or at the cap.
const PATIENCE = 4;
const MAX_SWEEPS = 24;
// Past this many nodes, trade some layout quality for speed (see autoLayout).
const LARGE_GRAPH_NODES = 200;

/**
 * Return the graph with a fresh `layout`: every node placed by dagre, ranks following
 * the edges. Positions are the top-left corners of NODE_WIDTH × NODE_HEIGHT boxes,
 * rounded to whole pixels.
 *
 * Node order within ranks uses our own barycenter sweeps over arrays (`customOrder`):
 * dagre's own rebuilds a graph per rank per sweep and takes most of the time. Past
 * LARGE_GRAPH_NODES, two more shortcuts keep 500 nodes and 600 edges near 150 ms:
 * - failure routes rank nothing except a node that only they reach (a "stop" end),
 *   and then only through the first of them: a failed end fed by many tasks would
 *   otherwise stretch edges across the whole graph (dagre adds a node per rank
 *   crossed), so the other failure routes may point backwards;
 * - ranks come from dagre's tight-tree ranker instead of network simplex.
 * Edges are drawn by the editor, not routed here.
 */
export function autoLayout(graph: WorkflowGraph, direction: LayoutDirection = 'LR'): WorkflowGraph {
  const large = graph.nodes.length > LARGE_GRAPH_NODES;
  const g: LayoutGraph = new graphlib.Graph();
  g.setGraph({
    rankdir: direction,
    ranker: large ? 'tight-tree' : 'network-simplex',
    nodesep: direction === 'LR' ? 40 : 60,
    ranksep: direction === 'LR' ? 80 : 60,
    marginx: 20,
    marginy: 20,
  });
  g.setDefaultEdgeLabel(() => ({}));
  const undoes = compensationOnly(graph);
  const ids = new Set<string>();
  for (const node of graph.nodes) {
    if (ids.has(node.id) || undoes.has(node.id)) continue;
    ids.add(node.id);
    g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  for (const edge of large ? rankingEdges(graph.edges, ids) : usableEdges(graph.edges, ids)) {
    g.setEdge(edge.source, edge.target, { weight: edge.on === 'failure' ? 1 : 2 });
  }
  dagreLayout(g, { customOrder: orderByBarycenter });
  const layout: Record<string, Position> = {};
  for (const id of ids) {
    const box = g.node(id);
    const x = Number.isFinite(box?.x) ? box.x! : 0;
    const y = Number.isFinite(box?.y) ? box.y! : 0;
    layout[id] = { x: Math.round(x - NODE_WIDTH / 2), y: Math.round(y - NODE_HEIGHT / 2) };
  }
  placeUnder(layout, undoes, direction);
  return { ...graph, layout };
}

// Gap between a task and its compensation drawn under it (or beside it, top to bottom).
const COMPENSATION_GAP = 70;

/** Return {compensation task: the task it undoes} for tasks wired to nothing that only a `compensate_with` names. */
function compensationOnly(graph: WorkflowGraph): Map<string, string> {
  const wired = new Set(graph.edges.flatMap((edge) => [edge.source, edge.target]));
  const tasks = new Set(graph.nodes.filter((node) => node.type === 'task').map((node) => node.id));
  const undoes = new Map<string, string>();
  for (const node of graph.nodes) {
    const undo = node.compensate_with;
    if (node.type !== 'task' || typeof undo !== 'string' || undo === node.id) continue;
    if (tasks.has(undo) && !wired.has(undo) && !undoes.has(undo)) undoes.set(undo, node.id);
  }
  return undoes;
}

/**
 * Place each compensation task below the task it undoes (LR; to its right for TB), past
 * whatever already occupies that column, so that the dashed link is a short drop.
 */
function placeUnder(layout: Record<string, Position>, undoes: Map<string, string>, direction: LayoutDirection): void {
  const across = direction === 'LR' ? 'x' : 'y';
  const along = direction === 'LR' ? 'y' : 'x';
  const size = { x: NODE_WIDTH, y: NODE_HEIGHT };
  for (const [undo, task] of undoes) {
    const anchor = layout[task] ?? { x: 0, y: 0 };
    let furthest = anchor[along] + size[along];
    for (const [id, p] of Object.entries(layout)) {
      if (id === undo) continue;
      if (p[across] < anchor[across] + size[across] && p[across] + size[across] > anchor[across]) {
        furthest = Math.max(furthest, p[along] + size[along]);
      }
    }
    const below = furthest + COMPENSATION_GAP;
    layout[undo] = direction === 'LR' ? { x: anchor.x, y: below } : { x: below, y: anchor.y };
  }
}

/** Return the edges dagre can take: no self-loops, none to a missing node. */
function usableEdges(edges: GraphEdge[], ids: Set<string>): GraphEdge[] {
  return edges.filter((edge) => edge.source !== edge.target && ids.has(edge.source) && ids.has(edge.target));
}

/** Return the edges that decide ranks: normal ones, and one failure route per failure-only node. */
function rankingEdges(edges: GraphEdge[], ids: Set<string>): GraphEdge[] {
  const usable = usableEdges(edges, ids);
  const reachedNormally = new Set(usable.filter((edge) => edge.on !== 'failure').map((edge) => edge.target));
  const reachedByFailure = new Set<string>();
  return usable.filter((edge) => {
    if (edge.on !== 'failure') return true;
    if (reachedNormally.has(edge.target) || reachedByFailure.has(edge.target)) return false;
    reachedByFailure.add(edge.target);
    return true;
  });
}

/**
 * Order the nodes of each rank to reduce edge crossings (a dagre `customOrder`).
 *
 * Same scheme as dagre's own: a depth-first initial order, then alternating up and
 * down barycenter sweeps, keeping the order with the fewest crossings. Runs on arrays
 * of indexes; by this point every edge joins adjacent ranks (dagre inserted dummies).
 */
function orderByBarycenter(g: LayoutGraph): void {
  const names = g.nodes().filter((v) => typeof g.node(v)?.rank === 'number');
  const index = new Map(names.map((v, i) => [v, i]));
  const rank = names.map((v) => g.node(v).rank!);
  // {node index: [[neighbour index, weight], ...]}
  const succ: [number, number][][] = names.map(() => []);
  const pred: [number, number][][] = names.map(() => []);
  for (const e of g.edges()) {
    const v = index.get(e.v);
    const w = index.get(e.w);
    if (v === undefined || w === undefined) continue;
    const weight = g.edge(e)?.weight ?? 1;
    succ[v]!.push([w, weight]);
    pred[w]!.push([v, weight]);
  }
  const maxRank = rank.reduce((a, b) => Math.max(a, b), 0);
  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  // Initial order: depth-first from nodes taken by rank, as dagre's initOrder does.
  const visited = new Uint8Array(names.length);
  const byRank = names.map((_, i) => i).sort((a, b) => rank[a]! - rank[b]!);
  for (const root of byRank) {
    const stack = [root];
    while (stack.length > 0) {
      const v = stack.pop()!;
      if (visited[v]) continue;
      visited[v] = 1;
      layers[rank[v]!]!.push(v);
      const next = succ[v]!;
      for (let k = next.length - 1; k >= 0; k -= 1) if (!visited[next[k]![0]]) stack.push(next[k]![0]);
    }
  }
  const position = new Float64Array(names.length);
  const place = (layer: number[]) => layer.forEach((v, i) => (position[v] = i));
  layers.forEach(place);

  let best = layers.map((layer) => layer.slice());
  let bestCrossings = crossings(layers, succ, position, names.length);
  for (let sweep = 0, sinceBest = 0; sinceBest < PATIENCE && sweep < MAX_SWEEPS; sweep += 1, sinceBest += 1) {
    const down = sweep % 2 === 1;
    const biasRight = sweep % 4 >= 2;
    const ranks = down ? range(1, maxRank + 1) : range(maxRank - 1, -1);
    for (const r of ranks) {
      const layer = layers[r]!;
      sortByBarycenter(layer, down ? pred : succ, position, biasRight);
      place(layer);
    }
    const count = crossings(layers, succ, position, names.length);
    if (count < bestCrossings) {
      bestCrossings = count;
      best = layers.map((layer) => layer.slice());
      sinceBest = -1;
    }
  }
  for (const layer of best) layer.forEach((v, i) => (g.node(names[v]!).order = i));
}

function range(from: number, to: number): number[] {
  const step = from <= to ? 1 : -1;
  const result: number[] = [];
  for (let i = from; i !== to; i += step) result.push(i);
  return result;
}

/** Reorder a layer by its neighbours' mean position; nodes without neighbours stay put. */
function sortByBarycenter(
  layer: number[],
  neighbours: [number, number][][],
  position: Float64Array,
  biasRight: boolean,
): void {
  const sortable: { v: number; barycenter: number; at: number }[] = [];
  const fixed: boolean[] = [];
  layer.forEach((v, at) => {
    let sum = 0;
    let weight = 0;
    for (const [w, edgeWeight] of neighbours[v]!) {
      sum += position[w]! * edgeWeight;
      weight += edgeWeight;
    }
    fixed.push(weight === 0);
    if (weight > 0) sortable.push({ v, barycenter: sum / weight, at });
  });
  sortable.sort((a, b) => a.barycenter - b.barycenter || (biasRight ? b.at - a.at : a.at - b.at));
  let next = 0;
  layer.forEach((_, at) => {
    if (!fixed[at]) layer[at] = sortable[next++]!.v;
  });
}

/** Count weighted crossings between adjacent layers (Barth, Jünger and Mutzel). */
function crossings(layers: number[][], succ: [number, number][][], position: Float64Array, size: number): number {
  let total = 0;
  let widest = 1;
  while (widest < size) widest <<= 1;
  const tree = new Float64Array(2 * widest);
  for (let r = 1; r < layers.length; r += 1) {
    const south = layers[r]!;
    let first = 1;
    while (first < south.length) first <<= 1;
    const treeSize = 2 * first - 1;
    first -= 1;
    tree.fill(0, 0, treeSize);
    for (const v of layers[r - 1]!) {
      const entries = succ[v]!.map(([w, weight]) => [position[w]!, weight] as const).sort((a, b) => a[0] - b[0]);
      for (const [pos, weight] of entries) {
        let i = pos + first;
        tree[i] = tree[i]! + weight;
        let heavier = 0;
        while (i > 0) {
          if (i % 2) heavier += tree[i + 1]!;
          i = (i - 1) >> 1;
          tree[i] = tree[i]! + weight;
        }
        total += weight * heavier;
      }
    }
  }
  return total;
}
