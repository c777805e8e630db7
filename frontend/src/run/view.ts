/** Derive what the run page draws from a run's steps and events (no React). */

import type { RunEvent, StepDetail } from '../api/types';
import type { WorkflowGraph } from '../graph';

/** Return each node's latest step state: {node_id: state}, the newest step winning. */
export function nodeStates(steps: readonly StepDetail[]): Record<string, string> {
  const latest: Record<string, StepDetail> = {};
  for (const step of steps) {
    const seen = latest[step.node_id];
    if (seen === undefined || step.seq > seen.seq || (step.seq === seen.seq && step.id > seen.id)) {
      latest[step.node_id] = step;
    }
  }
  return Object.fromEntries(Object.entries(latest).map(([node, step]) => [node, step.state]));
}

/** Return how many times the run took each edge: {edge_id: times}. */
export function takenEdges(steps: readonly StepDetail[]): Map<string, number> {
  const taken = new Map<string, number>();
  for (const step of steps) {
    for (const edge of step.taken_edges ?? []) taken.set(edge, (taken.get(edge) ?? 0) + 1);
  }
  return taken;
}

/** Say whether the graph lacks a stored position for any node (then it is laid out). */
export function needsLayout(graph: WorkflowGraph): boolean {
  const layout = graph.layout;
  if (!layout) return graph.nodes.length > 0;
  return graph.nodes.some((node) => {
    const p = layout[node.id];
    return !p || !Number.isFinite(p.x) || !Number.isFinite(p.y);
  });
}

/** Return the milliseconds between two ISO times, or null when either is missing. */
export function elapsedMs(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const a = Date.parse(start);
  const b = Date.parse(end);
  return Number.isNaN(a) || Number.isNaN(b) ? null : b - a;
}

/** Steps in the order they ran (by id), compensation steps included. */
export function orderedSteps(steps: readonly StepDetail[]): StepDetail[] {
  return [...steps].sort((a, b) => a.id - b.id);
}

/** Events kept by the run page's timeline; the oldest go first past this. */
export const MAX_TIMELINE = 2000;

/** Add a streamed event to the timeline (ids ascend; a repeat is dropped). */
export function timelineAdd(events: readonly RunEvent[], event: RunEvent): readonly RunEvent[] {
  const last = events[events.length - 1];
  if (last !== undefined && event.id <= last.id) {
    if (events.some((e) => e.id === event.id)) return events;
    const merged = [...events, event].sort((a, b) => a.id - b.id);
    return merged.slice(-MAX_TIMELINE);
  }
  const next = [...events, event];
  return next.length > MAX_TIMELINE ? next.slice(-MAX_TIMELINE) : next;
}

export type OverridesResult = { ok: true; value: Record<string, unknown> | undefined } | { ok: false; message: string };

/** Parse the retry form's input overrides: empty for none, else a JSON object. */
export function parseOverrides(text: string): OverridesResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, message: `Not valid JSON: ${(error as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, message: 'Input overrides must be a JSON object, such as {"amount": 10}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Return the node a retry starts from by default, as the server picks it: the last
 * failed task step, else the last cancelled one (compensations aside). */
export function failedNode(steps: readonly StepDetail[]): string | null {
  const tasks = orderedSteps(steps).filter((s) => s.compensates === null && s.node_type === 'task');
  for (const state of ['failed', 'cancelled']) {
    const found = tasks.filter((s) => s.state === state);
    if (found.length > 0) return found[found.length - 1]!.node_id;
  }
  return null;
}

/** Summarize an event for the timeline: "pending → running", or its kind's words. */
export function eventChange(event: RunEvent): string {
  if (event.from_state && event.to_state && event.from_state !== event.to_state) {
    return `${event.from_state.replace(/_/g, ' ')} → ${event.to_state.replace(/_/g, ' ')}`;
  }
  if (event.to_state) return event.to_state.replace(/_/g, ' ');
  return '';
}

/** Say what an event is about: the run, a step or an attempt. */
export function eventSubject(event: RunEvent): 'run' | 'step' | 'attempt' | 'other' {
  if (event.kind.startsWith('run_')) return 'run';
  if (event.kind.startsWith('step_')) return 'step';
  if (event.kind.startsWith('attempt_') || event.kind === 'retry_deferred') return 'attempt';
  return 'other';
}

export interface Bounds {
  width: number;
  height: number;
}

/** Return the size of the box around every node (positions are top-left corners). */
export function graphBounds(graph: WorkflowGraph, nodeWidth: number, nodeHeight: number): Bounds {
  if (graph.nodes.length === 0) return { width: 0, height: 0 };
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const node of graph.nodes) {
    const p = graph.layout?.[node.id];
    if (!p) continue;
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x + nodeWidth);
    maxY = Math.max(maxY, p.y + nodeHeight);
  }
  if (!Number.isFinite(minX)) return { width: 0, height: 0 };
  return { width: maxX - minX, height: maxY - minY };
}

/**
 * Return a canvas height that fits the graph at the zoom its width allows, so a long
 * chain is not drawn tiny in a tall empty box: the zoom that fits the width (with
 * `padding` on each side, at most `maxZoom`) times the padded graph height, clamped.
 */
export function canvasHeight(
  bounds: Bounds,
  canvasWidth: number,
  { padding = 0.15, maxZoom = 1.1, min = 220, max = 520 } = {},
): number {
  if (bounds.width <= 0 || canvasWidth <= 0) return min;
  const padded = 1 + 2 * padding;
  const zoom = Math.min(maxZoom, canvasWidth / (bounds.width * padded));
  const wanted = bounds.height * padded * zoom;
  return Math.round(Math.min(max, Math.max(min, wanted)));
}
