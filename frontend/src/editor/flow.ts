/**
 * Turn a workflow graph into React Flow nodes and edges, reusing the objects of elements
 * that did not change so that React Flow re-renders only those that did (500+ nodes).
 */

import { MarkerType, type Edge, type Node } from '@xyflow/react';
import { positionOf, type GraphEdge, type GraphNode, type NodeType, type WorkflowGraph } from '../graph';
import type { Mark } from './issues';

export type DiffState = 'added' | 'removed' | 'changed';

export interface WorkflowNodeData extends Record<string, unknown> {
  node: GraphNode;
  errors: number;
  warnings: number;
  issueTitle: string;
  diff: DiffState | null;
  /** On the path of the test case shown on the canvas. */
  onPath: boolean;
  testId: string;
}

export type FlowNode = Node<WorkflowNodeData, NodeType>;

export interface WorkflowEdgeData extends Record<string, unknown> {
  /** The graph's edge; a compensation link (drawn, not in `graph.edges`) has none. */
  edge?: GraphEdge;
  /** A compensation link: the task it undoes and its compensation task. */
  compensation?: { task: string; undo: string };
  /** Classes of the label (`is-error`, `is-default`, …), which is drawn apart from the edge (LabeledEdge). */
  labelClass?: string[];
  /** The label before it was shortened, shown as its tooltip. */
  fullLabel?: string;
}

export type FlowEdge = Edge<WorkflowEdgeData>;

export interface XY {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface NodeView {
  selected: ReadonlySet<string>;
  marks: ReadonlyMap<string, Mark>;
  diff: Readonly<Record<string, DiffState>> | null;
  /** Positions of nodes being dragged, not yet committed to the graph. */
  moving: ReadonlyMap<string, XY>;
  measured: ReadonlyMap<string, Size>;
  testIdPrefix: string;
  /** Nodes a test case ran, drawn as its path. */
  path?: ReadonlySet<string> | null;
}

export interface EdgeView {
  selected: ReadonlySet<string>;
  marks: ReadonlyMap<string, Mark>;
  diff: Readonly<Record<string, DiffState>> | null;
  /** {edge_id: times taken} when the coverage overlay is on. */
  coverage: ReadonlyMap<string, number> | null;
  testIdPrefix: string;
  /** Edges a test case took, drawn as its path. */
  path?: ReadonlySet<string> | null;
  /** Edges no test case takes (the last test report). */
  uncovered?: ReadonlySet<string> | null;
}

const NO_MARK: Mark = { errors: 0, warnings: 0, title: '' };

/** Build the node list; `cache` ({node_id: flow node}) is read and refreshed. */
export function flowNodes(graph: WorkflowGraph, view: NodeView, cache: Map<string, FlowNode>): FlowNode[] {
  const out: FlowNode[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    seen.add(node.id);
    const position = view.moving.get(node.id) ?? positionOf(graph, node.id);
    const mark = view.marks.get(node.id) ?? NO_MARK;
    const selected = view.selected.has(node.id);
    const diff = view.diff?.[node.id] ?? null;
    const measured = view.measured.get(node.id);
    const onPath = view.path?.has(node.id) ?? false;
    const prev = cache.get(node.id);
    if (
      prev !== undefined &&
      prev.data.node === node &&
      prev.position.x === position.x &&
      prev.position.y === position.y &&
      prev.selected === selected &&
      prev.data.errors === mark.errors &&
      prev.data.warnings === mark.warnings &&
      prev.data.issueTitle === mark.title &&
      prev.data.diff === diff &&
      prev.data.onPath === onPath &&
      prev.measured?.width === measured?.width &&
      prev.measured?.height === measured?.height
    ) {
      out.push(prev);
      continue;
    }
    const flowNode: FlowNode = {
      id: node.id,
      type: node.type,
      position: { x: position.x, y: position.y },
      selected,
      data: {
        node,
        errors: mark.errors,
        warnings: mark.warnings,
        issueTitle: mark.title,
        diff,
        onPath,
        testId: `${view.testIdPrefix}node-${node.id}`,
      },
    };
    // React Flow keeps sizes on the node objects in controlled mode; without them a
    // rebuilt node would be hidden and measured again.
    if (measured !== undefined) flowNode.measured = measured;
    cache.set(node.id, flowNode);
    out.push(flowNode);
  }
  for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
  return out;
}

const COLORS = {
  normal: '#94a3b8',
  selected: '#2563eb',
  error: '#dc2626',
  failure: '#ea580c',
  taken: '#16a34a',
  path: '#7c3aed',
  uncovered: '#ea580c',
  added: '#16a34a',
  changed: '#d97706',
  compensation: '#64748b',
};

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Return the text shown on an edge: its condition, "default" or "on failure". */
export function edgeLabel(edge: GraphEdge): string {
  if (edge.on === 'failure') return 'on failure';
  if (edge.on === 'timeout') return 'on timeout';
  if (edge.default) return edge.when ? `default · ${truncate(edge.when, 28)}` : 'default';
  if (typeof edge.when === 'string' && edge.when.trim()) return truncate(edge.when, 36);
  if (typeof edge.label === 'string' && edge.label) return truncate(edge.label, 36);
  return '';
}

/** What a cached flow edge was built from. */
export interface EdgeCacheEntry {
  edge: GraphEdge;
  key: string;
  flow: FlowEdge;
}

/** Build the edge list; `cache` ({edge_id: entry}) is read and refreshed. */
export function flowEdges(graph: WorkflowGraph, view: EdgeView, cache: Map<string, EdgeCacheEntry>): FlowEdge[] {
  const out: FlowEdge[] = [];
  const seen = new Set<string>();
  for (const edge of graph.edges) {
    seen.add(edge.id);
    const mark = view.marks.get(edge.id) ?? NO_MARK;
    const selected = view.selected.has(edge.id);
    const diff = view.diff?.[edge.id] ?? null;
    const taken = view.coverage ? (view.coverage.get(edge.id) ?? 0) : null;
    const onPath = view.path?.has(edge.id) ?? false;
    const uncovered = view.uncovered?.has(edge.id) ?? false;
    const prev = cache.get(edge.id);
    const key = `${selected}|${mark.errors}|${mark.warnings}|${mark.title}|${diff}|${taken}|${onPath}|${uncovered}`;
    if (prev !== undefined && prev.edge === edge && prev.key === key) {
      out.push(prev.flow);
      continue;
    }
    const classes = ['wf-edge'];
    let color = COLORS.normal;
    if (edge.on === 'failure' || edge.on === 'timeout') {
      classes.push(edge.on === 'failure' ? 'wf-edge-failure' : 'wf-edge-timeout');
      color = COLORS.failure;
    }
    if (edge.default) classes.push('wf-edge-default');
    if (taken !== null) {
      classes.push(taken > 0 ? 'wf-edge-taken' : 'wf-edge-untaken');
      if (taken > 0) color = COLORS.taken;
    }
    if (diff) {
      classes.push(`wf-edge-${diff}`);
      color = COLORS[diff === 'removed' ? 'error' : diff];
    }
    if (mark.warnings > 0) classes.push('wf-edge-warning');
    // After the warning: an untested choice branch is also a warning, and this says more.
    if (uncovered) {
      classes.push('wf-edge-uncovered');
      color = COLORS.uncovered;
    }
    if (onPath) {
      classes.push('wf-edge-path');
      color = COLORS.path;
    }
    if (mark.errors > 0) {
      classes.push('wf-edge-error');
      color = COLORS.error;
    }
    if (selected) color = mark.errors > 0 ? COLORS.error : COLORS.selected;
    let label = edgeLabel(edge);
    if (taken !== null) label = label ? `${label} · ${taken}×` : `${taken}×`;
    if (uncovered) label = label ? `${label} · untested` : 'untested';
    const domAttributes: Record<string, string> = { 'data-testid': `${view.testIdPrefix}edge-${edge.id}` };
    if (diff) domAttributes['data-diff'] = diff;
    if (taken !== null) domAttributes['data-taken'] = String(taken);
    if (uncovered) domAttributes['data-uncovered'] = 'true';
    if (onPath) domAttributes['data-on-path'] = 'true';
    if (mark.errors > 0) domAttributes['data-issues'] = 'error';
    else if (mark.warnings > 0) domAttributes['data-issues'] = 'warning';
    const labelClass: string[] = [];
    if (edge.on) labelClass.push(`is-${edge.on}`);
    if (edge.default) labelClass.push('is-default');
    if (uncovered) labelClass.push('is-uncovered');
    if (onPath) labelClass.push('is-path');
    if (mark.errors > 0) labelClass.push('is-error');
    else if (mark.warnings > 0) labelClass.push('is-warning');
    const flowEdge: FlowEdge = {
      id: edge.id,
      source: edge.source,
      target: edge.target,
      selected,
      className: classes.join(' '),
      label: label || undefined,
      labelBgPadding: [6, 3],
      labelBgBorderRadius: 4,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color, markerUnits: 'userSpaceOnUse' },
      data: { edge, labelClass, fullLabel: typeof edge.when === 'string' && edge.when ? edge.when : undefined },
      ariaLabel: `Edge from ${edge.source} to ${edge.target}`,
      domAttributes,
    };
    cache.set(edge.id, { edge, key, flow: flowEdge });
    out.push(flowEdge);
  }
  for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
  return out;
}

/** The handle id of the compensation link on a task card: out at the bottom, in at the top. */
export const COMPENSATION_HANDLE = 'compensation';

/** Return the (task, compensation task) pairs of the graph: each task whose `compensate_with` names a task. */
export function compensationLinks(graph: WorkflowGraph): { task: string; undo: string }[] {
  const tasks = new Set(graph.nodes.filter((node) => node.type === 'task').map((node) => node.id));
  const links: { task: string; undo: string }[] = [];
  for (const node of graph.nodes) {
    const undo = node.compensate_with;
    if (node.type === 'task' && typeof undo === 'string' && undo !== node.id && tasks.has(undo)) {
      links.push({ task: node.id, undo });
    }
  }
  return links;
}

/**
 * Build the dashed links from each task to its compensation (`compensate_with`): not
 * edges of the graph (no route a run takes), so they cannot be selected or deleted;
 * they run from the task's bottom to the compensation's top. `cache` ({task id: flow
 * edge}) keeps unchanged links the same objects.
 */
export function compensationEdges(graph: WorkflowGraph, testIdPrefix: string, cache: Map<string, FlowEdge>): FlowEdge[] {
  const out: FlowEdge[] = [];
  const seen = new Set<string>();
  for (const { task, undo } of compensationLinks(graph)) {
    seen.add(task);
    const prev = cache.get(task);
    if (prev !== undefined && prev.target === undo) {
      out.push(prev);
      continue;
    }
    const flowEdge: FlowEdge = {
      id: `${testIdPrefix}compensation:${task}`,
      source: task,
      target: undo,
      sourceHandle: COMPENSATION_HANDLE,
      targetHandle: COMPENSATION_HANDLE,
      className: 'wf-edge wf-edge-compensation',
      label: 'undo',
      labelBgPadding: [6, 3],
      labelBgBorderRadius: 4,
      selectable: false,
      focusable: false,
      deletable: false,
      markerEnd: { type: MarkerType.ArrowClosed, width: 14, height: 14, color: COLORS.compensation, markerUnits: 'userSpaceOnUse' },
      data: { compensation: { task, undo }, labelClass: ['is-compensation'], fullLabel: `${undo} undoes ${task} if the run fails later` },
      ariaLabel: `${undo} compensates ${task}`,
      domAttributes: compensationAttributes(`${testIdPrefix}compensation-${task}`),
    };
    cache.set(task, flowEdge);
    out.push(flowEdge);
  }
  for (const id of cache.keys()) if (!seen.has(id)) cache.delete(id);
  return out;
}

function compensationAttributes(testId: string): FlowEdge['domAttributes'] {
  const attributes: Record<string, string> = { 'data-testid': testId, 'data-compensation': 'true' };
  return attributes;
}
