/** Which run controls the state machine (runs/models.py) and the user's role allow. */

import type { RunState } from '../api/types';

export type RunAction = 'cancel' | 'pause' | 'resume' | 'retry';

export const RUN_ACTIONS: readonly RunAction[] = ['cancel', 'pause', 'resume', 'retry'];

// {action: run states it may start from}; the server answers 409 from any other.
const ALLOWED_FROM: Record<RunAction, ReadonlySet<string>> = {
  cancel: new Set(['pending', 'running', 'paused', 'compensating']),
  pause: new Set(['running']),
  resume: new Set(['paused']),
  retry: new Set(['failed', 'cancelled', 'compensated', 'compensation_failed']),
};

/** Say whether the state machine lets `action` start from `state`. */
export function isAllowed(action: RunAction, state: RunState | string): boolean {
  return ALLOWED_FROM[action].has(state);
}

/** Return the actions allowed from `state`, in button order. */
export function allowedActions(state: RunState | string): RunAction[] {
  return RUN_ACTIONS.filter((action) => isAllowed(action, state));
}

/** Explain why a button is disabled (its tooltip). */
export function disabledReason(action: RunAction, state: string): string {
  const from = [...ALLOWED_FROM[action]].map((s) => s.replace(/_/g, ' ')).join(', ');
  return `Only a run that is ${from} can be ${ACTION_PAST[action]}; this one is ${state.replace(/_/g, ' ')}.`;
}

export interface ControlView {
  allowed: boolean;
  /** Why it is not allowed (the button's tooltip); undefined when it is. */
  reason: string | undefined;
}

/**
 * Say whether `action` is offered on a run in `state` to a user whose role refuses
 * it with `roleDenial` (null when the role allows it). The role is said first: for
 * someone who may never act, the run's state is not the reason.
 */
export function controlView(action: RunAction, state: string, roleDenial: string | null): ControlView {
  if (roleDenial !== null) return { allowed: false, reason: roleDenial };
  if (!isAllowed(action, state)) return { allowed: false, reason: disabledReason(action, state) };
  return { allowed: true, reason: undefined };
}

const ACTION_PAST: Record<RunAction, string> = {
  cancel: 'cancelled',
  pause: 'paused',
  resume: 'resumed',
  retry: 'retried',
};
