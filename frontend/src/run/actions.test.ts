/** Tests for the run controls the state machine allows. */

import { describe, expect, it } from 'vitest';
import { RUN_STATES } from '../api/types';
import { allowedActions, controlView, disabledReason, isAllowed } from './actions';

describe('allowedActions', () => {
  it('follows the run state machine', () => {
    expect(allowedActions('pending')).toEqual(['cancel']);
    expect(allowedActions('running')).toEqual(['cancel', 'pause']);
    expect(allowedActions('paused')).toEqual(['cancel', 'resume']);
    expect(allowedActions('compensating')).toEqual(['cancel']);
    expect(allowedActions('succeeded')).toEqual([]);
    for (const state of ['failed', 'cancelled', 'compensated', 'compensation_failed']) {
      expect(allowedActions(state)).toEqual(['retry']);
    }
  });

  it('allows nothing from an unknown state', () => {
    expect(allowedActions('exploded')).toEqual([]);
  });

  it('allows every action from at least one state', () => {
    for (const action of ['cancel', 'pause', 'resume', 'retry'] as const) {
      expect(RUN_STATES.some((s) => isAllowed(action, s))).toBe(true);
    }
  });

  it('explains a refusal', () => {
    expect(disabledReason('pause', 'paused')).toBe('Only a run that is running can be paused; this one is paused.');
  });
});

describe('controlView', () => {
  const noRole = 'Your role (viewer) cannot start or control runs; ask an operator.';

  it('offers what the state machine allows to a role that may operate', () => {
    expect(controlView('cancel', 'running', null)).toEqual({ allowed: true, reason: undefined });
    expect(controlView('resume', 'running', null)).toEqual({
      allowed: false,
      reason: 'Only a run that is paused can be resumed; this one is running.',
    });
  });

  it('offers nothing to a role that may not, and says so first', () => {
    expect(controlView('cancel', 'running', noRole)).toEqual({ allowed: false, reason: noRole });
    expect(controlView('resume', 'running', noRole)).toEqual({ allowed: false, reason: noRole });
  });
});
