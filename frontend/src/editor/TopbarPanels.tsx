/** The panel open under the top bar: history, publish, release settings, schedules, webhooks, run or help. */

import type { Dispatch, SetStateAction } from 'react';
import { AuditPanel } from './AuditPanel';
import { announceRunStarted } from './execution/runStarted';
import type { Busy, Panel } from './editorState';
import { HelpPanel } from './HelpPanel';
import { NotificationsPanel } from './NotificationsPanel';
import { PublishDialog } from './PublishDialog';
import { ReleaseSettingsPanel } from './ReleaseSettingsPanel';
import { RunPanel } from './RunPanel';
import { SchedulesPanel } from './SchedulesPanel';
import type { EditorGraph } from './useEditorGraph';
import type { Release } from './useRelease';
import type { Versions } from './useVersions';
import type { WorkflowData } from './useWorkflowData';
import { VersionsPanel } from './VersionsPanel';
import { WebhooksPanel } from './WebhooksPanel';

interface TopbarPanelsProps {
  slug: string;
  doc: EditorGraph;
  data: WorkflowData;
  versioning: Versions;
  publishing: Release;
  busy: Busy;
  panel: Panel;
  setPanel: Dispatch<SetStateAction<Panel>>;
  editDenied: string | null;
  runDenied: string | null;
  liveVersion: number | null;
  canPublish: boolean;
}

export function TopbarPanels({
  slug,
  doc,
  data,
  versioning,
  publishing,
  busy,
  panel,
  setPanel,
  editDenied,
  runDenied,
  liveVersion,
  canPublish,
}: TopbarPanelsProps) {
  const { current, dirty } = doc;
  const { versions, release, setRelease } = data;
  const canary = release?.canary ?? null;
  const runVersion = current?.status === 'published' && !dirty ? current.number : liveVersion;
  const runNote =
    runVersion === null || runVersion === current?.number
      ? null
      : `The open version ${current ? `(v${current.number}, ${dirty ? 'with unsaved changes' : current.status})` : ''} cannot run; this run uses the live version v${runVersion}.`;

  return (
    <>
      {panel === 'versions' ? (
        <VersionsPanel
          versions={versions}
          currentNumber={current?.number ?? null}
          busy={busy !== null}
          onOpen={versioning.onPickVersion}
          onDiff={(n) => versioning.openDiff(n)}
          onMakeLive={(n) => void versioning.makeLive(n)}
          makeLiveDenied={editDenied}
          canary={canary}
          onClose={() => setPanel('none')}
        />
      ) : null}
      {panel === 'publish' ? (
        <PublishDialog
          what={current !== null && current.status === 'draft' && !dirty ? `v${current.number}` : 'your edits as a new version'}
          settings={release}
          liveVersion={liveVersion}
          canPublish={canPublish}
          denied={editDenied}
          busy={busy !== null}
          outcome={publishing.publishOutcome}
          onPublish={(percent) => void publishing.publish(percent, true)}
          onClose={() => setPanel('none')}
        />
      ) : null}
      {panel === 'release' && release !== null ? (
        <ReleaseSettingsPanel slug={slug} settings={release} denied={editDenied} onSaved={setRelease} onClose={() => setPanel('none')} />
      ) : null}
      {panel === 'schedules' ? <SchedulesPanel slug={slug} editDenied={editDenied} onClose={() => setPanel('none')} /> : null}
      {panel === 'webhooks' ? <WebhooksPanel slug={slug} editDenied={editDenied} onClose={() => setPanel('none')} /> : null}
      {panel === 'notifications' ? <NotificationsPanel slug={slug} editDenied={editDenied} onClose={() => setPanel('none')} /> : null}
      {panel === 'run' && runDenied === null ? <RunPanel slug={slug} version={runVersion} note={runNote} editDenied={editDenied} onClose={() => setPanel('none')} onStarted={announceRunStarted} /> : null}
      {panel === 'help' ? <HelpPanel onClose={() => setPanel('none')} /> : null}
      {panel === 'audit' ? <AuditPanel slug={slug} onClose={() => setPanel('none')} /> : null}
    </>
  );
}
