/** Tests for keeping the workflow list's last run live. */

import { describe, expect, it } from 'vitest';
import type { Workflow } from '../api/types';
import { event } from '../board/testEvents';
import { applyRunEvent, lastRunWhen } from './lastRun';

function workflow(slug: string, lastRun: Workflow['last_run'] = null): Workflow {
  return { slug, name: slug, description: '', live_version: 1, last_run: lastRun } as Workflow;
}

const running = { id: 5, state: 'running' as const, version: 1, created_at: '2025-01-01T00:00:00Z', finished_at: null };

describe('applyRunEvent', () => {
  it('marks the last run finished when its run finishes', () => {
    const list = [workflow('orders', running)];
    const next = applyRunEvent(list, event(9, 5, 'run_succeeded', 'succeeded', { created_at: '2025-01-01T00:01:00Z' }));
    expect(next[0]?.last_run).toMatchObject({ id: 5, state: 'succeeded', finished_at: '2025-01-01T00:01:00Z' });
  });

  it('makes a new run the last run', () => {
    const next = applyRunEvent([workflow('orders', running)], event(10, 6, 'run_created', 'pending', { version: 2 }));
    expect(next[0]?.last_run).toMatchObject({ id: 6, state: 'pending', version: 2, finished_at: null });
  });

  it('ignores older runs, other workflows, non-run events and repeats', () => {
    const list = [workflow('orders', running), workflow('other')];
    expect(applyRunEvent(list, event(3, 4, 'run_failed', 'failed'))).toBe(list);
    expect(applyRunEvent(list, event(3, 5, 'step_succeeded', 'succeeded'))).toBe(list);
    expect(applyRunEvent(list, event(3, 5, 'run_running', 'running'))).toBe(list);
    expect(applyRunEvent(list, event(3, 5, 'run_paused', 'paused', { workflow: 'nope' }))).toBe(list);
    const once = applyRunEvent(list, event(11, 7, 'run_created', 'pending', { workflow: 'other' }));
    expect(once[1]?.last_run?.id).toBe(7);
    expect(applyRunEvent(once, event(11, 7, 'run_created', 'pending', { workflow: 'other' }))).toBe(once);
  });
});

describe('lastRunWhen', () => {
  it('says finished with the finish time once done, else started', () => {
    expect(lastRunWhen(running)).toEqual({ verb: 'started', at: running.created_at });
    expect(lastRunWhen({ ...running, state: 'failed', finished_at: 'x' })).toEqual({ verb: 'finished', at: 'x' });
  });
});
