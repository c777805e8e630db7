/** Count runs per workflow and state: a snapshot from /runs/counts/, then moved by run_* events. */

import { isAfter, positionOf, STREAM_START, type StreamPosition } from '../api/streamPosition';
import type { RunCountRow, RunEvent, RunState } from '../api/types';
import { RUN_STATES } from '../api/types';

export interface WorkflowCounts {
  slug: string;
  name: string;
  counts: Partial<Record<RunState, number>>; // {state: runs}
}

export interface CountsState {
  loaded: boolean;
  /** Newest event already reflected in the counts; older events are ignored. */
  last: StreamPosition;
  workflows: Record<string, WorkflowCounts>; // {slug: counts}
  names: Record<string, string>; // {slug: name} of every workflow known by name
}

export const initialCounts: CountsState = { loaded: false, last: STREAM_START, workflows: {}, names: {} };

const KNOWN_STATES: ReadonlySet<string> = new Set(RUN_STATES);

/** Build the counters from the /runs/counts/ snapshot. */
export function countsLoaded(
  rows: RunCountRow[],
  last: StreamPosition,
  names: Record<string, string> = {},
): CountsState {
  const workflows: Record<string, WorkflowCounts> = {};
  const known = { ...names };
  for (const row of rows) {
    if (row.workflow__name) known[row.workflow__slug] = row.workflow__name;
    const entry = (workflows[row.workflow__slug] ??= {
      slug: row.workflow__slug,
      name: row.workflow__name || row.workflow__slug,
      counts: {},
    });
    entry.counts[row.state] = (entry.counts[row.state] ?? 0) + row.count;
  }
  return { loaded: true, last, workflows, names: known };
}

/**
 * Move one run between states: a run_* event leaves `from_state` (none for run_created)
 * and enters `to_state`. Other events and events already counted change nothing.
 */
export function countsEvent(state: CountsState, event: RunEvent): CountsState {
  const position = positionOf(event);
  if (!state.loaded || !isAfter(position, state.last)) return state;
  const next: CountsState = { ...state, last: position };
  if (!event.kind.startsWith('run_') || !event.workflow) return next;
  const to = event.to_state ?? '';
  const from = event.from_state ?? '';
  if (!KNOWN_STATES.has(to) || from === to) return next;
  const current = state.workflows[event.workflow] ?? {
    slug: event.workflow,
    name: state.names[event.workflow] ?? event.workflow,
    counts: {},
  };
  const counts = { ...current.counts };
  if (KNOWN_STATES.has(from)) {
    counts[from as RunState] = Math.max(0, (counts[from as RunState] ?? 0) - 1);
  }
  counts[to as RunState] = (counts[to as RunState] ?? 0) + 1;
  return { ...next, workflows: { ...state.workflows, [event.workflow]: { ...current, counts } } };
}

/** Return the workflows sorted by name, for the counters table. */
export function countedWorkflows(state: CountsState): WorkflowCounts[] {
  return Object.values(state.workflows).sort((a, b) => a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug));
}

/** Add up every workflow's counts per state. */
export function totalCounts(state: CountsState): Record<RunState, number> {
  const totals = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
  for (const wf of Object.values(state.workflows)) {
    for (const s of RUN_STATES) totals[s] += wf.counts[s] ?? 0;
  }
  return totals;
}

/** Learn workflow names, for workflows the snapshot had no runs of (events carry slugs). */
export function withWorkflowNames(state: CountsState, names: Record<string, string>): CountsState {
  let changed = Object.entries(names).some(([slug, name]) => state.names[slug] !== name);
  const workflows = { ...state.workflows };
  for (const [slug, entry] of Object.entries(workflows)) {
    const name = names[slug];
    if (name && entry.name !== name) {
      workflows[slug] = { ...entry, name };
      changed = true;
    }
  }
  return changed ? { ...state, workflows, names: { ...state.names, ...names } } : state;
}
