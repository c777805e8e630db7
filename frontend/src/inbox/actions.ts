/** Which handoff actions the inbox offers, why one is disabled, and its form checks (no React). */

import type { AssigneeKind, Handoff, HandoffAction } from '../api/handoffs';
import { assigneeLabel, isActive, personLabel } from './view';

export interface ActionView {
  action: HandoffAction;
  label: string;
  enabled: boolean;
  /** Why it is disabled (the button's tooltip); empty when enabled. */
  reason: string;
}

const LABELS: Record<HandoffAction, string> = {
  claim: 'Claim',
  release: 'Release',
  complete: 'Complete…',
  reassign: 'Reassign…',
};

/**
 * Explain why the server's `can` flag refuses an action to this user now;
 * `roleDenial` is why the user's role may not work handoffs at all (null when it may).
 */
export function disabledReason(action: HandoffAction, handoff: Handoff, me: string, roleDenial: string | null = null): string {
  if (handoff.can[action]) return '';
  const state = handoff.state;
  if (!isActive(handoff)) return `It is ${state}.`;
  if (roleDenial !== null) return roleDenial;
  const claimer = personLabel(handoff.claimed_by, me);
  const whom = assigneeLabel(handoff.to);
  switch (action) {
    case 'claim':
      if (state === 'claimed') return `Already claimed by ${claimer}.`;
      return `Only ${handoff.to.kind === 'group' ? `members of ${whom}` : whom} can claim it.`;
    case 'release':
      if (state !== 'claimed') return 'Nobody has claimed it.';
      return `Only ${claimer} (or staff) can release it.`;
    case 'complete':
      if (handoff.run_state !== 'running') return `Its run is ${handoff.run_state.replace(/_/g, ' ')}; resume the run first.`;
      if (state === 'claimed' && handoff.claimed_by !== me) return `Claimed by ${claimer}; only they can complete it.`;
      return `Only ${handoff.to.kind === 'group' ? `members of ${whom}` : whom} can complete it.`;
    case 'reassign':
      return 'Only the assignee, the claimer or staff can reassign it.';
  }
}

/**
 * Return the buttons of a handoff, in order: Release when it is claimed (else Claim),
 * Complete, Reassign. Finished handoffs have none.
 */
export function actionViews(handoff: Handoff, me: string, roleDenial: string | null = null): ActionView[] {
  if (!isActive(handoff)) return [];
  const first: HandoffAction = handoff.state === 'claimed' ? 'release' : 'claim';
  return ([first, 'complete', 'reassign'] as const).map((action) => ({
    action,
    label: LABELS[action],
    enabled: handoff.can[action],
    reason: disabledReason(action, handoff, me, roleDenial),
  }));
}

/** Say whether the user can do anything at all with the handoff. */
export function canAct(handoff: Handoff): boolean {
  return Object.values(handoff.can).some(Boolean);
}

/** Return the problem with a completion form, or null when it can be sent. */
export function completeProblem(handoff: Pick<Handoff, 'outcomes'>, outcome: string, note: string): string | null {
  if (!outcome) return 'Choose an outcome.';
  if (!handoff.outcomes.includes(outcome)) return `Choose one of ${handoff.outcomes.join(', ')}.`;
  if (note.length > 5000) return 'The note is longer than 5000 characters.';
  return null;
}

export const ASSIGNEE_KINDS: readonly { value: AssigneeKind; label: string }[] = [
  { value: 'group', label: 'Group' },
  { value: 'user', label: 'User' },
  { value: 'agent', label: 'Agent' },
];

/** Return the problem with a reassignment form, or null when it can be sent. */
export function reassignProblem(handoff: Pick<Handoff, 'to'>, kind: AssigneeKind, name: string): string | null {
  const trimmed = name.trim();
  if (!trimmed) return `Name the ${kind} to hand it to.`;
  if (trimmed.length > 150) return 'The name is longer than 150 characters.';
  if (handoff.to.kind === kind && handoff.to.name === trimmed) return `It is already for ${kind} ${trimmed}.`;
  return null;
}

/** Say whether a failed action means the card is out of date and should be read again. */
export function staleAfter(status: number): boolean {
  return status === 409 || status === 403 || status === 404;
}
