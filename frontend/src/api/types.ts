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

/** The states a run ends in. */
export const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'cancelled', 'compensated', 'compensation_failed']);

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
  /** Who started it: "api", "schedule:<id>", "webhook:<id>", "call:<run id>", or
   * "test" (a draft's test run, "run from here"). */
  trigger: string;
  /** The schedule slot it was started for, else null. */
  trigger_at: string | null;
  /** The workflow's business key of this run ("" when none). */
  business_key?: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: RunError | null;
}

export interface RunPage extends Page<RunSummary> {
  /** Newest Event id when the list was read: open the stream after it. */
  last_event_id: number;
  /** That event's transaction: with the id, its place in the stream. */
  last_event_tx?: number;
}

export interface RunEvent {
  id: number;
  /** The writing transaction; with the id, the event's place in the live stream. */
  tx?: number;
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

/** A row of GET /api/v1/runs/ (the list adds liveness to the summary). */
export interface RunListItem extends RunSummary {
  /** Time of the run's newest event, null when it has none. */
  last_event_at: string | null;
  /** True when an active run has been silent longer than its steps may take. */
  stuck: boolean;
}

export interface RunListPage extends Page<RunListItem> {
  last_event_id: number;
  last_event_tx?: number;
  /** The count stopped early: there are at least `count` runs (more than count - 1). */
  count_capped?: boolean;
}

/** One row of GET /api/v1/runs/counts/. */
export interface RunCountRow {
  workflow__slug: string;
  workflow__name: string;
  state: RunState;
  count: number;
}

export interface RunCounts {
  results: RunCountRow[];
  last_event_id: number;
  last_event_tx?: number;
}

export type StepState =
  | 'pending'
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'retry_wait'
  | 'skipped'
  | 'waiting'
  | 'cancelled';

export interface StepError {
  type?: string;
  message?: string;
  retryable?: boolean;
  [field: string]: unknown;
}

export interface AttemptDetail {
  id: number;
  number: number;
  state: string; // scheduled | queued | running | succeeded | failed | cancelled
  queue: string;
  priority: number;
  error: StepError | null;
  due_at: string | null;
  enqueued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at?: string | null;
  deadline_at?: string | null;
  publish_count: number;
  worker: string | null;
  queue_delay_s: number | null;
}

export interface StepDetail {
  id: number;
  node_id: string;
  seq: number;
  node_type: string;
  state: StepState;
  output: unknown;
  error: StepError | null;
  taken_edges: string[];
  compensates: number | null;
  wake_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempts: AttemptDetail[];
  /** The handoff this step waits (or waited) on, in brief. */
  handoff?: StepHandoff | null;
  /** A map step's items by state (absent states left out); null for other steps. */
  map?: MapSummary | null;
}

export interface MapSummary {
  total: number;
  by_state: Partial<Record<string, number>>;
}

export interface StepHandoff {
  id: number;
  state: string;
  to: { kind: string; name: string };
  outcome: string;
  due_at: string | null;
}

/** One retry-from-failure of a run, oldest first (Run.reruns). */
export interface Rerun {
  version: number;
  version_choice?: string;
  from_node: string;
  input?: Record<string, unknown>;
  after_step?: number;
  nodes?: string[];
  actor?: string;
  at?: string;
}

/** A run a call step of this run started (RunDetail.children). */
export interface ChildRun {
  id: number;
  state: RunState;
  workflow: string; // slug
  /** The call node that started it; null when no step did. */
  node_id: string | null;
}

export interface RunDetail extends RunListItem {
  input: unknown;
  output: unknown;
  reruns: Rerun[];
  steps: StepDetail[];
  /** The run whose call step started this one, or null. */
  parent_run: number | null;
  /** How deep in calls: 0 for a run nobody called. */
  call_depth: number;
  /** The runs its call steps started, oldest first (at most 200). */
  children: ChildRun[];
  /** A test run's steps copied from an earlier run rather than run: {step id: that run's id}. */
  seeded?: Record<string, number>;
}

/** `version` of a retry: the run's own, the workflow's live one, or a number. */
export type RetryVersion = 'original' | 'live' | number;

export interface RetryRequest {
  version: RetryVersion;
  from_node?: string;
  input?: Record<string, unknown>;
}

/** How many times each edge of a version was taken, by runs or by test cases. */
export interface EdgeCoverage {
  edges: { id: string; taken: number }[];
  covered: number;
  total: number;
  percent: number | null; // null when the version has no edges
  uncovered: string[];
}
