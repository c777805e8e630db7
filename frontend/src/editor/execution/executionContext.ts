/** The chosen run's data as the canvas and the expression fields read it (React contexts, no components). */

import { createContext } from 'react';
import type { RunDetail, StepDetail } from '../../api/types';

/** {node id: state of its latest step} in the chosen run; null when no run is shown. */
export const NodeRunStates = createContext<ReadonlyMap<string, string> | null>(null);

/** What expression fields complete and preview against. */
export interface ExpressionHelpValue {
  inputSchema: Record<string, unknown>;
  nodeIds: readonly string[];
  /** The chosen run, or null. */
  runId: number | null;
  runInput?: unknown;
  /** The chosen run's step outputs by node id (the latest succeeded visit). */
  stepOutputs?: Readonly<Record<string, unknown>>;
}

export const ExpressionHelp = createContext<ExpressionHelpValue>({ inputSchema: {}, nodeIds: [], runId: null });

/** Return each node's latest step (steps come oldest first). */
export function latestSteps(run: RunDetail): Map<string, StepDetail> {
  const latest = new Map<string, StepDetail>();
  for (const step of run.steps) {
    if (step.compensates !== null) continue;
    const seen = latest.get(step.node_id);
    if (seen === undefined || step.id > seen.id) latest.set(step.node_id, step);
  }
  return latest;
}

/** Return the output of each node's latest succeeded visit, as `steps.<id>.output` reads it. */
export function stepOutputs(run: RunDetail): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const step of [...run.steps].sort((a, b) => a.id - b.id)) {
    if (step.state === 'succeeded' && step.compensates === null) outputs[step.node_id] = step.output;
  }
  return outputs;
}
