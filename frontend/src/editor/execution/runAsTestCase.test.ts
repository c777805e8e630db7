import { describe, expect, it } from 'vitest';
import type { RunDetail, StepDetail } from '../../api/types';
import { runAsTestCase } from './runAsTestCase';

function step(id: number, node_id: string, node_type: string, state: string, extra: Partial<StepDetail> = {}): StepDetail {
  return { id, node_id, seq: 1, node_type, state, output: null, error: null, taken_edges: [], compensates: null, wake_at: null, created_at: '', started_at: null, finished_at: null, attempts: [], ...extra } as StepDetail;
}

describe('runAsTestCase', () => {
  it('mocks each task with its real results, per visit, and keeps handoff outcomes', () => {
    const run = {
      id: 12,
      version: 3,
      state: 'failed',
      input: { order_id: 'A-1' },
      steps: [
        step(1, 'start', 'start', 'succeeded'),
        step(2, 'fetch', 'task', 'succeeded', { output: { status: 200 } }),
        step(3, 'loop', 'task', 'succeeded', { output: 1 }),
        step(4, 'loop', 'task', 'succeeded', { output: 2 }),
        step(5, 'approve', 'handoff', 'succeeded', { handoff: { id: 1, state: 'completed', to: { kind: 'user', name: 'a' }, outcome: 'approved', due_at: null } } as Partial<StepDetail>),
        step(6, 'charge', 'task', 'failed', { error: { type: 'HttpError', message: '503' } }),
        step(7, 'undo', 'task', 'succeeded', { compensates: 2, output: 'x' }),
        step(8, 'later', 'task', 'skipped'),
      ],
    } as unknown as RunDetail;
    const made = runAsTestCase(run);
    expect(made.name).toBe('Run #12');
    expect(made.input).toEqual({ order_id: 'A-1' });
    expect(made.mocks).toEqual({
      fetch: { output: { status: 200 } },
      loop: [{ output: 1 }, { output: 2 }],
      charge: { error: 'HttpError', message: '503', retryable: false },
    });
    expect(made.outcomes).toEqual({ approve: 'approved' });
    expect(made.expect).toEqual({ state: 'failed' });
  });
});
