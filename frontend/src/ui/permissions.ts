/** What the signed-in user's roles allow a page to offer, and how to say why not (no React). */

import type { Me } from '../api/me';
import type { ApiErrorItem } from '../api/types';

/** The user as a page knows them: still loading, read, or unreadable. */
export type MeState =
  | { status: 'loading' }
  | { status: 'ready'; me: Me }
  | { status: 'error'; errors: ApiErrorItem[] };

/** The `can` flags that gate buttons. */
export type Ability = 'edit' | 'operate' | 'work_handoffs';

// {ability: [what it lets the user do, who to ask]}
const NEEDS: Record<Ability, [string, string]> = {
  edit: ['edit workflows', 'an editor'],
  operate: ['start or control runs', 'an operator'],
  work_handoffs: ['work handoffs', 'an operator'],
};

export const CHECKING = 'Checking what your role allows…';

/** Name the user's roles for a sentence: "Your role (viewer)", "Your roles (a, b)". */
export function yourRoles(me: Pick<Me, 'roles'>): string {
  if (me.roles.length === 0) return 'Without a role you';
  return `Your ${me.roles.length === 1 ? 'role' : 'roles'} (${me.roles.join(', ')})`;
}

/**
 * Return why the user may not do `ability` (a disabled control's tooltip), or null
 * when they may. While the user is loading nothing is allowed yet; when they cannot
 * be read at all the page offers everything and the server's 403 says no.
 */
export function denial(state: MeState, ability: Ability, doing?: string): string | null {
  if (state.status === 'loading') return CHECKING;
  if (state.status === 'error' || state.me.can[ability]) return null;
  const [what, ask] = NEEDS[ability];
  return `${yourRoles(state.me)} cannot ${doing ?? what}; ask ${ask}.`;
}

/** Say whether the user may do `ability` now. */
export function allows(state: MeState, ability: Ability): boolean {
  return denial(state, ability) === null;
}

/** Return the editor's read-only banner, or null when the user may edit (or is loading). */
export function readOnlyBanner(state: MeState): string | null {
  if (state.status !== 'ready' || state.me.can.edit) return null;
  const roles = state.me.roles.length > 0 ? state.me.roles.join(', ') : 'none';
  return `Read only — your role (${roles}) cannot edit; ask an editor.`;
}

/** Return the notice for a user who may not do `ability` at all, or null (also while loading). */
export function roleNotice(state: MeState, ability: Ability): string | null {
  return state.status === 'ready' ? denial(state, ability) : null;
}
