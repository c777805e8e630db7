/** Open, save, compare and roll back the workflow's versions. */

import { useCallback, useEffect, useState } from 'react';
import { getReleaseSettings } from '../api/changeSafety';
import { ApiError } from '../api/client';
import {
  createVersion,
  getVersion,
  getWorkflow,
  listActions,
  listVersions,
  rollbackTo,
  updateDraft,
  type VersionSummary,
} from '../api/versions';
import { emptyGraph, normalizeGraph, type WorkflowGraph } from '../graph';
import { errorItems } from '../ui/ErrorList';
import type { Busy, Panel } from './editorState';
import type { EditorGraph } from './useEditorGraph';
import type { Notify } from './useNotice';
import type { Validation } from './useValidation';
import type { WorkflowData } from './useWorkflowData';

export interface VersionsOptions {
  slug: string;
  doc: EditorGraph;
  data: WorkflowData;
  validation: Validation;
  /** Show a graph opened from a version, forgetting what belonged to the previous one. */
  showGraph: (graph: WorkflowGraph, version: VersionSummary | null) => void;
  notify: Notify;
  setBusy: (busy: Busy) => void;
  setPanel: (panel: Panel) => void;
}

export interface Versions {
  /** Save the edits: into the open draft, else as a new draft. Return it, or null when refused. */
  save: () => Promise<VersionSummary | null>;
  makeLive: (number: number) => Promise<void>;
  /** Open another version, once the user agrees to drop unsaved edits. */
  onPickVersion: (number: number) => void;
  /** The versions compared, or null when the diff is closed. */
  diff: { from: number; to: number } | null;
  /** Compare version `to` (by default the open one) with the one before it. */
  openDiff: (to?: number) => void;
  closeDiff: () => void;
}

/** Open the newest draft if there is one, else the live version, else the newest. */
function pickVersion(versions: readonly VersionSummary[]): VersionSummary | null {
  const byNumber = [...versions].sort((a, b) => b.number - a.number);
  return byNumber.find((v) => v.status === 'draft') ?? byNumber.find((v) => v.is_live) ?? byNumber[0] ?? null;
}

export function useVersions({ slug, doc, data, validation, showGraph, notify, setBusy, setPanel }: VersionsOptions): Versions {
  const { getGraph, current, setCurrent, setBase, dirty } = doc;
  const { versions, setVersions, setWorkflow, setActions, setRelease, setLoaded, setLoadErrors, refreshVersions, refreshRelease } =
    data;
  const { setServerCheck, setIssuesOpen } = validation;
  const [diff, setDiff] = useState<{ from: number; to: number } | null>(null);

  const openVersion = useCallback(
    async (number: number) => {
      setBusy('open');
      try {
        const detail = await getVersion(slug, number);
        showGraph(normalizeGraph(detail.graph), detail);
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'Cannot open the version.');
      } finally {
        setBusy(null);
      }
    },
    [slug, showGraph, notify, setBusy],
  );

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    listActions(signal).then(
      (page) => setActions(page.results),
      (error: unknown) => {
        if (!signal.aborted) notify('error', `Cannot load the actions: ${errorItems(error)[0]?.message ?? ''}`);
      },
    );
    getReleaseSettings(slug, signal).then(setRelease, () => undefined);
    Promise.all([getWorkflow(slug, signal), listVersions(slug, signal)])
      .then(async ([wf, page]) => {
        setWorkflow(wf);
        setVersions(page.results);
        const chosen = pickVersion(page.results);
        if (chosen) {
          const detail = await getVersion(slug, chosen.number, signal);
          showGraph(normalizeGraph(detail.graph), detail);
        } else {
          showGraph(emptyGraph(), null);
        }
        setLoaded(true);
      })
      .catch((error: unknown) => {
        if (!signal.aborted) setLoadErrors(errorItems(error));
      });
    return () => controller.abort();
  }, [slug, showGraph, notify, setActions, setRelease, setWorkflow, setVersions, setLoaded, setLoadErrors]);

  const save = useCallback(async (): Promise<VersionSummary | null> => {
    const sent = getGraph();
    setBusy('save');
    performance.mark('editor:save-start');
    try {
      const saved =
        current !== null && current.status === 'draft'
          ? await updateDraft(slug, current.number, sent)
          : await createVersion(slug, sent);
      performance.measure('editor:save', 'editor:save-start');
      setBase(sent);
      setCurrent(saved);
      // Stale: saving does not lint the choice branches against the test cases; validating does.
      setServerCheck({ graph: sent, result: { errors: [], warnings: saved.warnings ?? [] }, stale: true });
      notify('info', current?.status === 'draft' ? `Saved draft v${saved.number}.` : `Saved as new draft v${saved.number}.`);
      void refreshVersions().catch(() => undefined);
      return saved;
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        setServerCheck({ graph: sent, result: { errors: error.errors, warnings: [] } });
        setIssuesOpen(true);
        const n = error.errors.length;
        notify('error', `Not saved: the server found ${n} ${n === 1 ? 'problem' : 'problems'} (listed under Problems).`);
      } else if (error instanceof ApiError && error.status === 409) {
        notify('error', `${error.message}. Open the newest version from History, or save again to create a new draft.`);
        setCurrent((prev) => (prev ? { ...prev, status: 'published' } : prev));
        void refreshVersions().catch(() => undefined);
      } else {
        notify('error', errorItems(error)[0]?.message ?? 'Saving failed.');
      }
      return null;
    } finally {
      setBusy(null);
    }
  }, [getGraph, current, slug, notify, refreshVersions, setBusy, setBase, setCurrent, setServerCheck, setIssuesOpen]);

  const makeLive = useCallback(
    async (number: number) => {
      setBusy('rollback');
      try {
        setWorkflow(await rollbackTo(slug, number));
        void refreshRelease();
        const list = await refreshVersions();
        setCurrent((prev) => (prev ? (list.find((v) => v.number === prev.number) ?? prev) : prev));
        notify('info', `v${number} is the live version now.`);
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'Rollback failed.');
      } finally {
        setBusy(null);
      }
    },
    [slug, refreshVersions, refreshRelease, notify, setBusy, setWorkflow, setCurrent],
  );

  const confirmDiscard = useCallback(
    () => !dirty || window.confirm('Discard your unsaved changes?'),
    [dirty],
  );

  const onPickVersion = (number: number) => {
    if (number === current?.number || !confirmDiscard()) return;
    setPanel('none');
    void openVersion(number);
  };

  const openDiff = useCallback(
    (to?: number) => {
      const numbers = versions.map((v) => v.number).sort((a, b) => b - a);
      if (numbers.length < 2) {
        notify('info', 'There is only one version so far: save or publish another to compare.');
        return;
      }
      const target = to ?? current?.number ?? numbers[0]!;
      const older = numbers.find((n) => n < target);
      const from = older ?? numbers.find((n) => n !== target)!;
      setPanel('none');
      setDiff({ from, to: target });
    },
    [versions, current, notify, setPanel],
  );

  const closeDiff = useCallback(() => setDiff(null), []);

  return { save, makeLive, onPickVersion, diff, openDiff, closeDiff };
}
