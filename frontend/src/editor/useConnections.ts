/** Read the connections once per editor load, shared by every connection picker; the workflow's team scopes them. */

import { createContext, useCallback, useEffect, useState } from 'react';
import { loadConnections, type Connection } from '../api/connections';
import { errorItems } from '../ui/ErrorList';

/** The team of the workflow edited: null for none, undefined while unknown (the editor provides it). */
export const WorkflowTeam = createContext<string | null | undefined>(undefined);

export interface ConnectionList {
  status: 'loading' | 'ready' | 'error';
  connections: Connection[];
  /** Why the list cannot be read. */
  error: string | null;
  /** Ask the server again (after creating one on the Connections page). */
  reload: () => void;
}

export function useConnections(): ConnectionList {
  const [state, setState] = useState<Omit<ConnectionList, 'reload'>>({ status: 'loading', connections: [], error: null });
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    let live = true;
    setState((prev) => ({ ...prev, status: 'loading' }));
    loadConnections(reloads > 0).then(
      (connections) => {
        if (live) setState({ status: 'ready', connections, error: null });
      },
      (error: unknown) => {
        if (live) setState({ status: 'error', connections: [], error: errorItems(error)[0]?.message ?? 'unknown error' });
      },
    );
    return () => {
      live = false;
    };
  }, [reloads]);
  const reload = useCallback(() => setReloads((n) => n + 1), []);
  return { ...state, reload };
}
