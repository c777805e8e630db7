/** A run's data as a test case of the workflow: its input, each task's real results as mocks, its handoffs' outcomes (plain TS). */

import type { TaskMock, TestCaseInput } from '../../api/changeSafety';
import type { RunDetail } from '../../api/types';

// The node types whose results a test case mocks (designer/simulation.py).
const MOCKED = new Set(['task', 'call']);
// As the API allows (designer/change_apis.py MAX_MOCK_VISITS).
const MAX_VISITS = 50;

/** Return a test case that replays `run` through a graph: the draft then shows what it would do with the same data. */
export function runAsTestCase(run: RunDetail): TestCaseInput {
  const mocks: Record<string, TaskMock[]> = {};
  const outcomes: Record<string, string> = {};
  for (const step of [...run.steps].sort((a, b) => a.id - b.id)) {
    if (step.compensates !== null) continue;
    if (MOCKED.has(step.node_type)) {
      let mock: TaskMock | null = null;
      if (step.state === 'succeeded') mock = { output: step.output ?? null };
      else if (step.state === 'failed' && step.error) {
        mock = { error: safeErrorName(step.error.type), message: String(step.error.message ?? '').slice(0, 500), retryable: false };
      }
      if (mock !== null) {
        const visits = (mocks[step.node_id] ??= []);
        if (visits.length < MAX_VISITS) visits.push(mock);
      }
    }
    const outcome = step.handoff?.outcome;
    if (typeof outcome === 'string' && outcome) outcomes[step.node_id] = outcome;
  }
  const finished = run.state === 'succeeded' || run.state === 'failed';
  return {
    name: `Run #${run.id}`,
    description: `The input, task results and handoff outcomes of run #${run.id} (v${run.version}).`,
    input: isObject(run.input) ? run.input : {},
    mocks: Object.fromEntries(Object.entries(mocks).map(([id, visits]) => [id, (visits.length === 1 ? visits[0] : visits) as TaskMock])),
    outcomes,
    expect: finished ? { state: run.state } : {},
  };
}

function safeErrorName(type: unknown): string {
  const text = typeof type === 'string' ? type : '';
  return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(text) ? text : 'Error';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
