/** Tests for what a page offers each role, and how it says why not. */

import { describe, expect, it } from 'vitest';
import type { Me, MeCan } from '../api/me';
import { allows, CHECKING, denial, readOnlyBanner, roleNotice, type MeState, yourRoles } from './permissions';

const NOTHING: MeCan = { view: false, edit: false, operate: false, work_handoffs: false, review_handoffs: false, see_all: false };

function ready(roles: string[], can: Partial<MeCan>): MeState {
  const me: Me = { username: 'u', is_staff: false, roles, teams: [], can: { ...NOTHING, view: true, ...can } };
  return { status: 'ready', me };
}

const viewer = ready(['viewer'], {});
const editor = ready(['editor'], { edit: true });
const operator = ready(['operator'], { operate: true, work_handoffs: true });
const loading: MeState = { status: 'loading' };
const unreadable: MeState = { status: 'error', errors: [{ code: 'network_error', message: 'down' }] };

describe('denial', () => {
  it('allows what the role allows', () => {
    expect(denial(editor, 'edit')).toBeNull();
    expect(denial(operator, 'operate')).toBeNull();
    expect(denial(operator, 'work_handoffs')).toBeNull();
    expect(allows(editor, 'edit')).toBe(true);
  });

  it('names the role and whom to ask', () => {
    expect(denial(viewer, 'edit')).toBe('Your role (viewer) cannot edit workflows; ask an editor.');
    expect(denial(editor, 'operate')).toBe('Your role (editor) cannot start or control runs; ask an operator.');
    expect(denial(viewer, 'work_handoffs')).toBe('Your role (viewer) cannot work handoffs; ask an operator.');
    expect(denial(viewer, 'edit', 'create workflows')).toBe('Your role (viewer) cannot create workflows; ask an editor.');
    expect(allows(viewer, 'operate')).toBe(false);
  });

  it('allows nothing while the user is loading', () => {
    expect(denial(loading, 'edit')).toBe(CHECKING);
    expect(allows(loading, 'operate')).toBe(false);
  });

  it('leaves the decision to the server when the user cannot be read', () => {
    expect(denial(unreadable, 'edit')).toBeNull();
    expect(allows(unreadable, 'operate')).toBe(true);
  });
});

describe('yourRoles', () => {
  it('reads as the subject of a sentence', () => {
    expect(yourRoles({ roles: ['viewer'] })).toBe('Your role (viewer)');
    expect(yourRoles({ roles: ['editor', 'operator'] })).toBe('Your roles (editor, operator)');
    expect(yourRoles({ roles: [] })).toBe('Without a role you');
  });
});

describe('readOnlyBanner', () => {
  it('shows only to a loaded user who may not edit', () => {
    expect(readOnlyBanner(viewer)).toBe('Read only — your role (viewer) cannot edit; ask an editor.');
    expect(readOnlyBanner(ready([], {}))).toBe('Read only — your role (none) cannot edit; ask an editor.');
    expect(readOnlyBanner(editor)).toBeNull();
    expect(readOnlyBanner(loading)).toBeNull();
    expect(readOnlyBanner(unreadable)).toBeNull();
  });
});

describe('roleNotice', () => {
  it('waits for the user before saying no', () => {
    expect(roleNotice(loading, 'work_handoffs')).toBeNull();
    expect(roleNotice(viewer, 'work_handoffs')).toBe('Your role (viewer) cannot work handoffs; ask an operator.');
    expect(roleNotice(operator, 'work_handoffs')).toBeNull();
  });
});
