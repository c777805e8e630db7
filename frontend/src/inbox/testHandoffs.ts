/** Build handoffs for the inbox's tests. */

import type { Handoff } from '../api/handoffs';

export const NOW = Date.parse('2025-01-01T12:00:00Z');

/** Return an ISO time `minutes` from NOW (negative: before). */
export function at(minutes: number): string {
  return new Date(NOW + minutes * 60_000).toISOString();
}

export function handoff(id: number, overrides: Partial<Handoff> = {}): Handoff {
  return {
    id,
    state: 'open',
    run_id: 100 + id,
    workflow: 'orders',
    workflow_name: 'Orders',
    version: 2,
    node_id: 'review',
    title: '',
    instructions: '',
    outcomes: ['approve', 'reject'],
    context: {},
    context_errors: {},
    to: { kind: 'group', name: 'reviewers' },
    escalate_to: null,
    sla_s: 3600,
    due_at: at(30),
    overdue: false,
    created_at: at(-30),
    claimed_by: null,
    claimed_at: null,
    completed_by: null,
    completed_at: null,
    outcome: '',
    note: '',
    escalated_at: null,
    verdict: 'unreviewed',
    run_state: 'running',
    can: { claim: true, release: false, complete: true, reassign: true },
    ...overrides,
  };
}
