/** Hold what the server says about the workflow: its versions, the actions, the release settings. */

import { useCallback, useState, type Dispatch, type SetStateAction } from 'react';
import { getReleaseSettings, type ReleaseSettings } from '../api/changeSafety';
import type { ApiErrorItem, Workflow } from '../api/types';
import { getWorkflow, listVersions, type ActionDescription, type VersionSummary } from '../api/versions';

export interface WorkflowData {
  /** Why the page cannot open (the first load failed). */
  loadErrors: ApiErrorItem[];
  setLoadErrors: Dispatch<SetStateAction<ApiErrorItem[]>>;
  /** The first version is open. */
  loaded: boolean;
  setLoaded: Dispatch<SetStateAction<boolean>>;
  workflow: Workflow | null;
  setWorkflow: Dispatch<SetStateAction<Workflow | null>>;
  versions: VersionSummary[];
  setVersions: Dispatch<SetStateAction<VersionSummary[]>>;
  actions: ActionDescription[];
  setActions: Dispatch<SetStateAction<ActionDescription[]>>;
  /** The publish gate, rollback criteria and canary; null until read (or unreadable). */
  release: ReleaseSettings | null;
  setRelease: Dispatch<SetStateAction<ReleaseSettings | null>>;
  refreshVersions: () => Promise<VersionSummary[]>;
  refreshWorkflow: () => Promise<void>;
  refreshRelease: () => Promise<void>;
}

export function useWorkflowData(slug: string): WorkflowData {
  const [loadErrors, setLoadErrors] = useState<ApiErrorItem[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [workflow, setWorkflow] = useState<Workflow | null>(null);
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [actions, setActions] = useState<ActionDescription[]>([]);
  const [release, setRelease] = useState<ReleaseSettings | null>(null);

  const refreshVersions = useCallback(async () => {
    const page = await listVersions(slug);
    setVersions(page.results);
    return page.results;
  }, [slug]);

  const refreshWorkflow = useCallback(async () => setWorkflow(await getWorkflow(slug)), [slug]);

  const refreshRelease = useCallback(async () => {
    try {
      setRelease(await getReleaseSettings(slug));
    } catch {
      // The banner and the gate line are extras: the editor works without them.
    }
  }, [slug]);

  return {
    loadErrors,
    setLoadErrors,
    loaded,
    setLoaded,
    workflow,
    setWorkflow,
    versions,
    setVersions,
    actions,
    setActions,
    release,
    setRelease,
    refreshVersions,
    refreshWorkflow,
    refreshRelease,
  };
}
