/** Shapes of the v1 REST and WebSocket payloads (docs/api-contract.md). */

export type RunState =
  | 'pending'
  | 'running'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'compensating'
  | 'compensated'
  | 'compensation_failed';

export const RUN_STATES: readonly RunState[] = [
  'pending',
  'running',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'compensating',
  'compensated',
  'compensation_failed',
];

/** One entry of the `{"errors": [...]}` body every failing endpoint returns. */
export interface ApiErrorItem {
  code: string;
  message: string;
  field?: string;
  node_id?: string;
  edge_id?: string;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export interface LastRun {
  id: number;
  state: RunState;
  version: number;
  created_at: string;
  finished_at: string | null;
}

export interface Workflow {
  slug: string;
  name: string;
  description: string;
  live_version: number | null;
  created_at: string;
  updated_at: string;
  last_run: LastRun | null;
}

export interface WorkflowCreateInput {
  slug: string;
  name: string;
  description: string;
}

export interface RunError {
  type: string;
  message: string;
}

export interface RunSummary {
  id: number;
  workflow: string; // slug
  workflow_name: string;
  version: number;
  state: RunState;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: RunError | null;
}

export interface RunPage extends Page<RunSummary> {
  /** Newest Event id when the list was read: open the stream after it. */
  last_event_id: number;
}

export interface RunEvent {
  id: number;
  kind: string;
  run_id: number | null;
  step_id: number | null;
  attempt_id?: number | null;
  workflow: string | null;
  version: number | null;
  node_id: string | null;
  from_state: string | null;
  to_state: string | null;
  actor: string | null;
  reason: string | null;
  data: unknown;
  created_at: string;
}
