/** Build events and run rows for the board's tests. */

import type { RunEvent, RunListItem } from '../api/types';

export function event(id: number, runId: number | null, kind: string, toState: string | null, extra: Partial<RunEvent> = {}): RunEvent {
  return {
    id,
    kind,
    run_id: runId,
    step_id: null,
    workflow: 'orders',
    version: 1,
    node_id: null,
    from_state: null,
    to_state: toState,
    actor: 'system',
    reason: null,
    data: {},
    created_at: `2025-01-01T00:00:${String(id % 60).padStart(2, '0')}Z`,
    ...extra,
  };
}

export function listItem(id: number, overrides: Partial<RunListItem> = {}): RunListItem {
  return {
    id,
    workflow: 'orders',
    workflow_name: 'Orders',
    version: 1,
    state: 'pending',
    trigger: 'api',
    trigger_at: null,
    created_at: '2025-01-01T00:00:00Z',
    started_at: null,
    finished_at: null,
    error: null,
    last_event_at: null,
    stuck: false,
    ...overrides,
  };
}
