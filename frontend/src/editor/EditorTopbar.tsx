/** The editor's top bar: title and version, edit tools, history, release, schedules and webhooks, check, save, publish, run, help. */

import { useRef, type Dispatch, type SetStateAction } from 'react';
import { AuditToggle } from './AuditPanel';
import type { Busy, Panel } from './editorState';
import { TopbarPanels } from './TopbarPanels';
import { TopbarTitle } from './TopbarTitle';
import type { EditorGraph } from './useEditorGraph';
import type { GraphEditing } from './useGraphEditing';
import type { Release } from './useRelease';
import type { Validation } from './useValidation';
import type { Versions } from './useVersions';
import type { WorkflowData } from './useWorkflowData';

interface EditorTopbarProps {
  slug: string;
  doc: EditorGraph;
  data: WorkflowData;
  validation: Validation;
  versioning: Versions;
  publishing: Release;
  editing: GraphEditing;
  busy: Busy;
  panel: Panel;
  setPanel: Dispatch<SetStateAction<Panel>>;
  /** Why the role may not edit (the disabled controls' tooltip), or null. */
  editDenied: string | null;
  /** Why the role may not start runs, or null. */
  runDenied: string | null;
}

export function EditorTopbar(props: EditorTopbarProps) {
  const { slug, doc, data, validation, versioning, publishing, editing, busy, panel, setPanel, editDenied, runDenied } = props;
  const { current, dirty, canUndo, canRedo, undo, redo } = doc;
  const { versions, release, workflow, loaded } = data;
  const { counts, validateNow } = validation;
  const { save, openDiff } = versioning;
  const { publish, setPublishOutcome } = publishing;
  const fileInput = useRef<HTMLInputElement>(null);
  const readOnly = editDenied !== null;
  const liveVersion = release?.live_version ?? workflow?.live_version ?? null;
  const canPublish = !busy && counts.errors === 0 && (dirty || current === null || current.status === 'draft');

  return (
    <header className="editor-topbar">
      <TopbarTitle
        slug={slug}
        workflow={workflow}
        versions={versions}
        current={current}
        canary={release?.canary ?? null}
        dirty={dirty}
        busy={busy !== null}
        onPickVersion={versioning.onPickVersion}
      />

      <div className="topbar-group">
        <button type="button" className="btn btn-icon" onClick={undo} disabled={readOnly || !canUndo} title={editDenied ?? 'Undo (Ctrl/⌘+Z)'} aria-label="Undo" data-testid="undo">
          ↶
        </button>
        <button type="button" className="btn btn-icon" onClick={redo} disabled={readOnly || !canRedo} title={editDenied ?? 'Redo (Ctrl/⌘+Shift+Z)'} aria-label="Redo" data-testid="redo">
          ↷
        </button>
        <button type="button" className="btn btn-icon" onClick={editing.layout} disabled={readOnly} title={editDenied ?? 'Auto-layout left to right'} aria-label="Auto-layout" data-testid="auto-layout">
          ⇶
        </button>
        <button type="button" className="btn btn-icon" onClick={() => fileInput.current?.click()} disabled={readOnly} title={editDenied ?? 'Import graph JSON'} aria-label="Import JSON" data-testid="import-json">
          ⤓
        </button>
        <input ref={fileInput} type="file" accept="application/json,.json" hidden onChange={editing.onImportFile} data-testid="import-file" />
        <button type="button" className="btn btn-icon" onClick={editing.exportJson} title="Export graph JSON" aria-label="Export JSON" data-testid="export-json">
          ⤒
        </button>
      </div>

      <div className="topbar-group">
        <button type="button" className="btn btn-small" onClick={() => openDiff()} disabled={versions.length < 2} data-testid="diff-open">
          Diff
        </button>
        <button
          type="button"
          className={`btn btn-small ${panel === 'versions' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'versions' ? 'none' : 'versions'))}
          aria-expanded={panel === 'versions'}
          data-testid="history-toggle"
        >
          History
        </button>
        <button
          type="button"
          className={`btn btn-small ${panel === 'release' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'release' ? 'none' : 'release'))}
          aria-expanded={panel === 'release'}
          disabled={release === null}
          title="Publish gate and automatic rollback"
          data-testid="release-settings-toggle"
        >
          Release
        </button>
        <button
          type="button"
          className={`btn btn-small ${panel === 'schedules' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'schedules' ? 'none' : 'schedules'))}
          aria-expanded={panel === 'schedules'}
          title="Run this workflow on a timetable"
          data-testid="schedules-toggle"
        >
          Schedules
        </button>
        <button
          type="button"
          className={`btn btn-small ${panel === 'webhooks' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'webhooks' ? 'none' : 'webhooks'))}
          aria-expanded={panel === 'webhooks'}
          title="Let other systems start this workflow with a signed request"
          data-testid="webhooks-toggle"
        >
          Webhooks
        </button>
        <button
          type="button"
          className={`btn btn-small ${panel === 'notifications' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'notifications' ? 'none' : 'notifications'))}
          aria-expanded={panel === 'notifications'}
          title="Tell Slack, a webhook or people when a run fails or gets stuck"
          data-testid="notifications-toggle"
        >
          Notifications
        </button>
        <AuditToggle panel={panel} setPanel={setPanel} />
      </div>

      <div className="topbar-group topbar-end">
        <button
          type="button"
          className={`validation-state ${counts.errors ? 'is-error' : counts.warnings ? 'is-warning' : 'is-ok'}`}
          onClick={() => void validateNow()}
          title="Check with the server"
          data-testid="validation-state"
          data-state={counts.errors ? 'errors' : counts.warnings ? 'warnings' : 'ok'}
        >
          {busy === 'validate'
            ? 'Checking…'
            : counts.errors
              ? `✕ ${counts.errors} ${counts.errors === 1 ? 'error' : 'errors'}`
              : counts.warnings
                ? `! ${counts.warnings} ${counts.warnings === 1 ? 'warning' : 'warnings'}`
                : '✓ Valid'}
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => void save()}
          disabled={readOnly || busy !== null || !loaded || (!dirty && current !== null)}
          title={editDenied ?? (current?.status === 'published' ? 'Save your changes as a new draft (Ctrl/⌘+S)' : 'Save the draft (Ctrl/⌘+S)')}
          data-testid="save-draft"
        >
          {busy === 'save' ? 'Saving…' : 'Save draft'}
        </button>
        <button
          type="button"
          className={`btn btn-primary ${panel === 'publish' ? 'is-on' : ''}`}
          onClick={() => {
            // With nothing live there is no choice to make: a first version goes live.
            if (liveVersion === null) void publish(0, false);
            else {
              setPublishOutcome(null);
              setPanel((p) => (p === 'publish' ? 'none' : 'publish'));
            }
          }}
          disabled={readOnly || !canPublish}
          title={
            editDenied ??
            (counts.errors
              ? 'Fix the errors first'
              : current?.status === 'published' && !dirty
                ? 'This version is already published'
                : liveVersion === null
                  ? 'Publish as the live version'
                  : 'Publish live or as a canary')
          }
          aria-haspopup={liveVersion === null ? undefined : 'dialog'}
          data-testid="publish"
        >
          {busy === 'publish' ? 'Publishing…' : liveVersion === null ? 'Publish' : 'Publish…'}
        </button>
        <button
          type="button"
          className={`btn btn-secondary ${panel === 'run' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'run' ? 'none' : 'run'))}
          aria-expanded={panel === 'run'}
          disabled={runDenied !== null}
          title={runDenied ?? 'Start a run'}
          data-testid="run-open"
        >
          ▶ Run
        </button>
        <button
          type="button"
          className={`btn btn-icon ${panel === 'help' ? 'is-on' : ''}`}
          onClick={() => setPanel((p) => (p === 'help' ? 'none' : 'help'))}
          aria-expanded={panel === 'help'}
          aria-label="Help"
          title="Shortcuts (?)"
          data-testid="help-toggle"
        >
          ?
        </button>
      </div>

      <TopbarPanels
        slug={slug}
        doc={doc}
        data={data}
        versioning={versioning}
        publishing={publishing}
        busy={busy}
        panel={panel}
        setPanel={setPanel}
        editDenied={editDenied}
        runDenied={runDenied}
        liveVersion={liveVersion}
        canPublish={canPublish}
      />
    </header>
  );
}
