/** Publish the open version live or as a canary, and promote or abort the canary. */

import { useCallback, useState } from 'react';
import { abortCanary, promoteCanary, publishVersion } from '../api/changeSafety';
import { ApiError } from '../api/client';
import type { VersionSummary } from '../api/versions';
import { errorItems } from '../ui/ErrorList';
import type { Busy, Panel } from './editorState';
import type { PublishOutcome } from './PublishDialog';
import { blockedProblems, publishedText } from './release';
import type { EditorGraph } from './useEditorGraph';
import type { Notify } from './useNotice';
import type { Validation } from './useValidation';
import type { WorkflowData } from './useWorkflowData';

export interface ReleaseOptions {
  slug: string;
  doc: EditorGraph;
  data: WorkflowData;
  validation: Validation;
  save: () => Promise<VersionSummary | null>;
  notify: Notify;
  setBusy: (busy: Busy) => void;
  setPanel: (panel: Panel) => void;
}

export interface Release {
  /** What the last publish from the dialog came to; null before one. */
  publishOutcome: PublishOutcome | null;
  setPublishOutcome: (outcome: PublishOutcome | null) => void;
  publish: (canaryPercent: number, fromDialog: boolean) => Promise<void>;
  canaryAction: (action: 'promote' | 'abort') => Promise<void>;
}

export function useRelease({ slug, doc, data, validation, save, notify, setBusy, setPanel }: ReleaseOptions): Release {
  const { current, setCurrent, getGraph, base } = doc;
  const { release, setRelease, refreshVersions, refreshWorkflow, refreshRelease } = data;
  const { setServerCheck, setIssuesOpen } = validation;
  const [publishOutcome, setPublishOutcome] = useState<PublishOutcome | null>(null);

  /**
   * Publish the open draft (saving the edits first) live, or as a canary taking
   * `canaryPercent` of new runs. The dialog shows what the publish gate said; a
   * publish straight from the top bar opens it only when the gate had something to say.
   */
  const publish = useCallback(
    async (canaryPercent: number, fromDialog: boolean) => {
      let target = current;
      if (target === null || target.status !== 'draft' || getGraph() !== base) {
        target = await save();
        if (target === null) return;
      }
      setBusy('publish');
      setPublishOutcome(null);
      try {
        const published = await publishVersion(slug, target.number, canaryPercent);
        const text = publishedText(published.number, canaryPercent);
        setCurrent(published);
        setPublishOutcome({ kind: 'published', text, gate: published.gate });
        if (!fromDialog && published.gate !== null && !published.gate.ok) setPanel('publish');
        notify('info', text);
        await Promise.all([refreshVersions(), refreshWorkflow(), refreshRelease()]);
      } catch (error) {
        const first = errorItems(error)[0];
        if (error instanceof ApiError && error.status === 409 && first?.code === 'publish_gate_failed') {
          setPublishOutcome({ kind: 'blocked', message: first.message, problems: blockedProblems(first.message) });
          setPanel('publish');
          notify('error', 'Not published: the publish gate blocks it.');
          return;
        }
        if (error instanceof ApiError && error.status === 400) {
          setServerCheck({ graph: getGraph(), result: { errors: error.errors, warnings: [] } });
          setIssuesOpen(true);
        }
        const message = `Not published: ${first?.message ?? 'the server refused.'}`;
        if (fromDialog) setPublishOutcome({ kind: 'error', message });
        notify('error', message);
      } finally {
        setBusy(null);
      }
    },
    [
      current,
      getGraph,
      base,
      save,
      slug,
      notify,
      refreshVersions,
      refreshWorkflow,
      refreshRelease,
      setBusy,
      setCurrent,
      setPanel,
      setServerCheck,
      setIssuesOpen,
    ],
  );

  const canaryAction = useCallback(
    async (action: 'promote' | 'abort') => {
      const canary = release?.canary;
      if (!canary) return;
      const question =
        action === 'promote'
          ? `Promote v${canary.version}? Every new run will start on it.`
          : `Abort the canary v${canary.version}? New runs go back to v${release?.live_version ?? '?'}; runs already on v${canary.version} finish on it.`;
      if (!window.confirm(question)) return;
      setBusy('canary');
      try {
        const next = action === 'promote' ? await promoteCanary(slug) : await abortCanary(slug, 'aborted in the editor');
        setRelease(next);
        notify('info', action === 'promote' ? `v${canary.version} is the live version now.` : `The canary v${canary.version} is aborted.`);
        const list = await refreshVersions();
        setCurrent((prev) => (prev ? (list.find((v) => v.number === prev.number) ?? prev) : prev));
        await refreshWorkflow();
      } catch (error) {
        notify('error', errorItems(error)[0]?.message ?? 'The server refused.');
        void refreshRelease();
      } finally {
        setBusy(null);
      }
    },
    [release, slug, notify, refreshVersions, refreshWorkflow, refreshRelease, setBusy, setRelease, setCurrent],
  );

  return { publishOutcome, setPublishOutcome, publish, canaryAction };
}
