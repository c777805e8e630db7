/** Tests for which handoff actions are offered and why one is disabled. */

import { describe, expect, it } from 'vitest';
import { actionViews, canAct, completeProblem, disabledReason, reassignProblem, staleAfter } from './actions';
import { handoff } from './testHandoffs';

const NONE = { claim: false, release: false, complete: false, reassign: false };

describe('actionViews', () => {
  it('offers claim, complete and reassign on an open handoff, as the server allows', () => {
    const views = actionViews(handoff(1), 'alice');
    expect(views.map((v) => [v.action, v.enabled])).toEqual([
      ['claim', true],
      ['complete', true],
      ['reassign', true],
    ]);
    expect(views.every((v) => v.reason === '')).toBe(true);
  });

  it('offers release instead of claim once claimed', () => {
    const mine = handoff(1, { state: 'claimed', claimed_by: 'alice', can: { claim: false, release: true, complete: true, reassign: true } });
    expect(actionViews(mine, 'alice').map((v) => v.action)).toEqual(['release', 'complete', 'reassign']);
  });

  it('offers nothing on a finished handoff', () => {
    expect(actionViews(handoff(1, { state: 'completed', can: NONE }), 'alice')).toEqual([]);
    expect(actionViews(handoff(1, { state: 'cancelled', can: NONE }), 'alice')).toEqual([]);
  });
});

describe('disabledReason', () => {
  it('says who has claimed it', () => {
    const theirs = handoff(1, { state: 'claimed', claimed_by: 'bob', can: NONE });
    expect(disabledReason('release', theirs, 'alice')).toBe('Only bob (or staff) can release it.');
    expect(disabledReason('complete', theirs, 'alice')).toBe('Claimed by bob; only they can complete it.');
    expect(disabledReason('claim', theirs, 'alice')).toBe('Already claimed by bob.');
  });

  it('names the group whose members may act', () => {
    const other = handoff(1, { can: NONE });
    expect(disabledReason('claim', other, 'alice')).toBe('Only members of group reviewers can claim it.');
    const forUser = handoff(1, { to: { kind: 'user', name: 'carol' }, can: NONE });
    expect(disabledReason('complete', forUser, 'alice')).toBe('Only user carol can complete it.');
    expect(disabledReason('reassign', other, 'alice')).toMatch(/assignee, the claimer or staff/);
  });

  it('asks to resume a paused run before completing', () => {
    const paused = handoff(1, { run_state: 'paused', can: { claim: true, release: false, complete: false, reassign: true } });
    expect(disabledReason('complete', paused, 'alice')).toBe('Its run is paused; resume the run first.');
    expect(disabledReason('claim', paused, 'alice')).toBe('');
  });

  it('gives the state of a finished one', () => {
    expect(disabledReason('claim', handoff(1, { state: 'completed', can: NONE }), 'alice')).toBe('It is completed.');
  });
});

describe('canAct', () => {
  it('is true when any action is allowed', () => {
    expect(canAct(handoff(1))).toBe(true);
    expect(canAct(handoff(1, { can: NONE }))).toBe(false);
  });
});

describe('form checks', () => {
  it('needs one of the outcomes', () => {
    const h = handoff(1);
    expect(completeProblem(h, '', '')).toBe('Choose an outcome.');
    expect(completeProblem(h, 'maybe', '')).toBe('Choose one of approve, reject.');
    expect(completeProblem(h, 'approve', 'looks fine')).toBeNull();
    expect(completeProblem(h, 'approve', 'x'.repeat(5001))).toMatch(/longer/);
  });

  it('needs a new assignee name', () => {
    const h = handoff(1);
    expect(reassignProblem(h, 'user', '  ')).toBe('Name the user to hand it to.');
    expect(reassignProblem(h, 'group', 'reviewers')).toBe('It is already for group reviewers.');
    expect(reassignProblem(h, 'user', 'reviewers')).toBeNull();
    expect(reassignProblem(h, 'group', 'x'.repeat(151))).toMatch(/longer/);
  });

  it('reads the card again after a conflict or a refusal', () => {
    expect(staleAfter(409)).toBe(true);
    expect(staleAfter(403)).toBe(true);
    expect(staleAfter(400)).toBe(false);
  });
});

describe('a role that may not work handoffs', () => {
  const noRole = 'Your role (viewer) cannot work handoffs; ask an operator.';

  it('is the reason every action is disabled', () => {
    const views = actionViews(handoff(1, { can: NONE }), 'alice', noRole);
    expect(views.map((v) => [v.action, v.enabled, v.reason])).toEqual([
      ['claim', false, noRole],
      ['complete', false, noRole],
      ['reassign', false, noRole],
    ]);
  });

  it('does not override what the server allows', () => {
    expect(disabledReason('claim', handoff(1), 'alice', noRole)).toBe('');
  });
});
