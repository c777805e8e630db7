/** The signed-in user and what their roles allow (`GET /api/v1/me/`), read once per page. */

import { api } from './client';

/** What the user's roles allow; the server enforces the same rules (403). */
export interface MeCan {
  view: boolean;
  edit: boolean;
  operate: boolean;
  work_handoffs: boolean;
  review_handoffs: boolean;
  see_all: boolean;
}

export interface Me {
  username: string;
  is_staff: boolean;
  /** Role groups: viewer, editor, operator, admin. */
  roles: string[];
  /** Other groups: the teams that own workflows. */
  teams: string[];
  can: MeCan;
}

export function getMe(signal?: AbortSignal): Promise<Me> {
  return api.get<Me>('/api/v1/me/', signal);
}

let shared: Promise<Me> | null = null;

/** Return the page's one request for the user, started by the first caller. */
export function loadMe(): Promise<Me> {
  if (shared === null) {
    const request = getMe();
    shared = request;
    // A failed read is not kept: the next caller asks again.
    request.catch(() => {
      if (shared === request) shared = null;
    });
  }
  return shared;
}
