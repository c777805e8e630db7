/** Read the signed-in user and their permissions once per page, shared by every caller. */

import { useEffect, useState } from 'react';
import { loadMe } from '../api/me';
import { errorItems } from '../ui/ErrorList';
import type { MeState } from '../ui/permissions';

export function useMe(): MeState {
  const [state, setState] = useState<MeState>({ status: 'loading' });
  useEffect(() => {
    let live = true;
    loadMe().then(
      (me) => {
        if (live) setState({ status: 'ready', me });
      },
      (error: unknown) => {
        if (live) setState({ status: 'error', errors: errorItems(error) });
      },
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
