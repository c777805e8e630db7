/** The workflow editor: palette, canvas, inspector, problems, versions, diff, runs, tests and releases. */

import { useNodesInitialized } from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { VersionSummary } from '../api/versions';
import type { WorkflowGraph } from '../graph';
import { useMe } from '../hooks/useMe';
import { ErrorList } from '../ui/ErrorList';
import { denial, readOnlyBanner } from '../ui/permissions';
import { schedulesHash, webhooksHash } from '../ui/trigger';
import { CanaryBanner } from './CanaryBanner';
import { CanvasTools } from './CanvasTools';
import { teamOf } from './connectionChoices';
import { DiffView } from './DiffView';
import { EditorCanvas } from './EditorCanvas';
import { EditorSide } from './EditorSide';
import { EditorTopbar } from './EditorTopbar';
import { ExecutionBar } from './execution/ExecutionBar';
import { ExpressionHelp, NodeRunStates } from './execution/executionContext';
import { useExecutionData } from './execution/useExecutionData';
import type { Busy, Panel } from './editorState';
import { IssuesPanel } from './IssuesPanel';
import { Palette } from './Palette';
import { EMPTY_SELECTION } from './selection';
import { useCoverage } from './useCoverage';
import { useEditorGraph } from './useEditorGraph';
import { useEditorShortcuts } from './useEditorShortcuts';
import { useGraphEditing } from './useGraphEditing';
import { useNotice } from './useNotice';
import { useRelease } from './useRelease';
import { useTestCases } from './useTestCases';
import { useValidation } from './useValidation';
import { useVersions } from './useVersions';
import { WorkflowTeam } from './useConnections';
import { useWorkflowData } from './useWorkflowData';

export function EditorPage({ slug }: { slug: string }) {
  const me = useMe();
  // Null when the role allows it, else why not (the disabled controls' tooltip).
  const editDenied = denial(me, 'edit');
  const runDenied = denial(me, 'operate');
  const readOnly = editDenied !== null;
  const roleBanner = readOnlyBanner(me);

  const [busy, setBusy] = useState<Busy>(null);
  // A link from a run's trigger badge (#schedules/<id>, #webhooks/<id>) opens that panel.
  const [panel, setPanel] = useState<Panel>(() => initialPanel(window.location.hash));
  const { notice, notify, dismiss } = useNotice();
  const doc = useEditorGraph(readOnly);
  const data = useWorkflowData(slug);
  const { graph, getGraph, selection, setSelection, current, dirty, undo, redo } = doc;
  const { loaded, actions, release } = data;
  const validation = useValidation({ slug, graph, getGraph, loaded, actions, notify, setBusy });
  const tests = useTestCases({ current, dirty, selection, onCasesStale: validation.markStale });
  const coverage = useCoverage({ slug, current, notify, testsRevision: tests.testsRevision });

  // Opening a version starts over: its own problems, coverage and test results.
  const { show } = doc;
  const { setServerCheck } = validation;
  const { clearCoverage } = coverage;
  const { clearTestRun } = tests;
  const showGraph = useCallback(
    (next: WorkflowGraph, version: VersionSummary | null) => {
      show(next, version);
      setServerCheck(null);
      clearCoverage();
      clearTestRun();
    },
    [show, setServerCheck, clearCoverage, clearTestRun],
  );
  const versioning = useVersions({ slug, doc, data, validation, showGraph, notify, setBusy, setPanel });
  const publishing = useRelease({ slug, doc, data, validation, save: versioning.save, notify, setBusy, setPanel });
  const editing = useGraphEditing(slug, doc, readOnly, notify);
  // The run whose data the canvas and the expression fields show.
  const execution = useExecutionData(slug);
  const { run: shownRun, outputs: shownOutputs, inputSchema } = execution;
  const expressionHelp = useMemo(
    () => ({
      inputSchema,
      nodeIds: graph.nodes.map((n) => n.id),
      runId: shownRun?.id ?? null,
      runInput: shownRun?.input,
      stepOutputs: shownOutputs,
    }),
    [inputSchema, graph.nodes, shownRun, shownOutputs],
  );

  // Marks for bench/ and the e2e test: first render of the loaded graph, and each save.
  const nodesInitialized = useNodesInitialized();
  const markedFirstRender = useRef(false);
  useEffect(() => {
    if (!loaded || !nodesInitialized || markedFirstRender.current) return;
    markedFirstRender.current = true;
    performance.mark('editor:first-render');
  }, [loaded, nodesInitialized]);

  useEditorShortcuts({
    enabled: loaded && versioning.diff === null,
    onUndo: undo,
    onRedo: redo,
    onCopy: editing.copySelection,
    onPaste: editing.paste,
    onDelete: editing.deleteSelection,
    onSelectAll: editing.selectAll,
    onSave: () => {
      if (!readOnly) void versioning.save();
    },
    onEscape: () => {
      setSelection(EMPTY_SELECTION);
      setPanel('none');
    },
    onHelp: () => setPanel((p) => (p === 'help' ? 'none' : 'help')),
  });

  if (data.loadErrors.length > 0) {
    return (
      <div className="editor-error">
        <h1>Cannot open the editor</h1>
        <ErrorList errors={data.loadErrors} testId="editor-load-errors" />
        <p>
          <a href="/">Back to workflows</a>
        </p>
      </div>
    );
  }

  const canary = release?.canary ?? null;
  const onlyStartEnd = graph.nodes.every((n) => n.type === 'start' || n.type === 'end');
  // Ready for input once the graph and what the role allows are both known.
  const ready = loaded && me.status !== 'loading';

  return (
    <div
      className={`editor${readOnly ? ' is-readonly' : ''}`}
      data-testid="editor"
      data-loaded={ready ? 'true' : 'false'}
      data-readonly={readOnly ? 'true' : 'false'}
    >
      <EditorTopbar
        slug={slug}
        doc={doc}
        data={data}
        validation={validation}
        versioning={versioning}
        publishing={publishing}
        editing={editing}
        busy={busy}
        panel={panel}
        setPanel={setPanel}
        editDenied={editDenied}
        runDenied={runDenied}
      />

      {canary !== null ? (
        <CanaryBanner
          slug={slug}
          canary={canary}
          liveVersion={release?.live_version ?? null}
          busy={busy !== null}
          denied={editDenied}
          onPromote={() => void publishing.canaryAction('promote')}
          onAbort={() => void publishing.canaryAction('abort')}
        />
      ) : null}

      <div className={`editor-body${tests.side === 'tests' ? ' is-testing' : ''}`}>
        <Palette onAdd={editing.addInView} actions={actions} disabled={!loaded || readOnly} disabledReason={editDenied} />
        <div className="editor-center">
          <ExecutionBar
            execution={execution}
            graph={graph}
            openVersion={current?.number ?? null}
            slug={slug}
            editDenied={editDenied}
            onCaseSaved={tests.onCasesChanged}
          />
          <div className="editor-canvas-wrap" ref={editing.canvasRef}>
            {roleBanner !== null ? (
              <div className="readonly-banner is-role" role="status" data-testid="role-readonly-banner">
                {roleBanner}
              </div>
            ) : !readOnly && current?.status === 'published' ? (
              <div className="readonly-banner" data-testid="readonly-banner">
                {dirty
                  ? `Editing a copy of published v${current.number}: Save draft creates a new version.`
                  : `v${current.number} is published and read-only; your edits will be saved as a new draft.`}
              </div>
            ) : null}
            <NodeRunStates.Provider value={execution.states}>
              <EditorCanvas
                graph={graph}
                selection={selection}
                marks={validation.marks}
                coverage={coverage.coverageMap}
                path={tests.testPath}
                uncovered={tests.uncovered}
                onSelectionChange={editing.onSelectionChange}
                onMove={editing.onMove}
                onConnect={editing.onConnect}
                onAddNode={editing.onAddNode}
                readOnly={readOnly}
              />
            </NodeRunStates.Provider>
            {loaded && onlyStartEnd && !readOnly ? (
              <div className="canvas-hint" data-testid="canvas-empty-hint">
                <strong>Drag a task from the palette</strong> onto the canvas, then connect the steps: drag from a
                node’s right handle to the next node’s left handle.
              </div>
            ) : null}
            {!loaded ? <div className="canvas-hint">Loading…</div> : null}
            <CanvasTools saved={current !== null} coverage={coverage} tests={tests} />
            {notice ? (
              <div className={`editor-notice is-${notice.kind}`} role="status" data-testid="editor-notice" key={notice.id}>
                {notice.text}
                <button type="button" className="link-button" onClick={dismiss} aria-label="Dismiss">
                  ✕
                </button>
              </div>
            ) : null}
          </div>
          <IssuesPanel
            issues={validation.issues}
            open={validation.issuesOpen}
            checking={validation.checking}
            onToggle={validation.toggleIssues}
            onFocus={editing.centerOn}
          />
        </div>
        {/* The connection pickers offer the connections of the workflow's team (and of none). */}
        <WorkflowTeam.Provider value={teamOf(data.workflow)}>
          <ExpressionHelp.Provider value={expressionHelp}>
            <EditorSide
              slug={slug}
              graph={graph}
              selection={selection}
              actions={actions}
              issues={validation.issues}
              onEdit={editing.edit}
              onSelect={setSelection}
              onDelete={editing.deleteSelection}
              editDenied={editDenied}
              tests={tests}
              run={shownRun}
              testRunTarget={{
                slug,
                draft: current?.status === 'draft' ? current.number : null,
                dirty,
                denied: editDenied ?? runDenied,
              }}
            />
          </ExpressionHelp.Provider>
        </WorkflowTeam.Provider>
      </div>

      {versioning.diff ? (
        <DiffView slug={slug} versions={data.versions} from={versioning.diff.from} to={versioning.diff.to} onClose={versioning.closeDiff} />
      ) : null}
    </div>
  );
}

/** Return the panel the page's address asks for. */
function initialPanel(hash: string): Panel {
  if (schedulesHash(hash).open) return 'schedules';
  if (webhooksHash(hash).open) return 'webhooks';
  return 'none';
}
