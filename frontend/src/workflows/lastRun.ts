/** Keep the workflow list's "last run" current from live run events (plain TS, no React). */

import type { LastRun, RunEvent, RunState, Workflow } from '../api/types';
import { FINISHED_RUN_STATES, RUN_STATES } from '../api/types';

export function isFinished(state: RunState): boolean {
  return FINISHED_RUN_STATES.has(state);
}

function runStateOf(event: RunEvent): RunState | null {
  if (!event.kind.startsWith('run_') || event.run_id === null || !event.workflow) return null;
  const state = event.to_state as RunState | null;
  return state && RUN_STATES.includes(state) ? state : null;
}

/**
 * Apply a run event to the list: a newer run of a workflow becomes its last run; a
 * change of the last run's state updates it; anything else leaves the list as it is
 * (the same array, so nothing re-renders). Applying an event twice changes nothing.
 */
export function applyRunEvent(workflows: readonly Workflow[], event: RunEvent): readonly Workflow[] {
  const state = runStateOf(event);
  if (state === null || event.run_id === null) return workflows;
  const runId = event.run_id;
  let changed = false;
  const next = workflows.map((workflow) => {
    if (workflow.slug !== event.workflow) return workflow;
    const last = workflow.last_run;
    if (last !== null && runId < last.id) return workflow; // an older run's news
    const finishedAt = isFinished(state) ? event.created_at : null;
    let updated: LastRun;
    if (last !== null && last.id === runId) {
      if (last.state === state) return workflow;
      updated = { ...last, state, finished_at: finishedAt ?? last.finished_at };
    } else {
      updated = {
        id: runId,
        state,
        version: event.version ?? workflow.live_version ?? 0,
        created_at: event.created_at,
        finished_at: finishedAt,
      };
    }
    changed = true;
    return { ...workflow, last_run: updated };
  });
  return changed ? next : workflows;
}

/** Say when the last run happened: "finished 3 min ago" once done, else "started 20 s ago". */
export function lastRunWhen(lastRun: LastRun): { verb: string; at: string } {
  if (isFinished(lastRun.state) && lastRun.finished_at) return { verb: 'finished', at: lastRun.finished_at };
  return { verb: 'started', at: lastRun.created_at };
}
