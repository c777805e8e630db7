/** The editor's right column: the inspector of the selection, or the workflow's test cases. */

import type { RunDetail } from '../api/types';
import type { ActionDescription } from '../api/versions';
import type { WorkflowGraph } from '../graph';
import type { TestRunTarget } from './execution/RunFromHere';
import { StepDataPanel } from './execution/StepDataPanel';
import { Inspector } from './Inspector';
import type { PinnedIssue } from './issues';
import type { Selection } from './selection';
import { TestsPanel } from './TestsPanel';
import type { TestCases } from './useTestCases';

interface EditorSideProps {
  slug: string;
  graph: WorkflowGraph;
  selection: Selection;
  actions: ActionDescription[];
  issues: PinnedIssue[];
  onEdit: (update: (graph: WorkflowGraph) => WorkflowGraph, coalesceKey?: string) => void;
  onSelect: (selection: Selection) => void;
  onDelete: () => void;
  /** Why the role may not edit, or null. */
  editDenied: string | null;
  tests: TestCases;
  /** The run whose data the editor shows, or null. */
  run: RunDetail | null;
  /** The open version, for "run from here". */
  testRunTarget: TestRunTarget;
}

export function EditorSide({ slug, graph, selection, actions, issues, onEdit, onSelect, onDelete, editDenied, tests, run, testRunTarget }: EditorSideProps) {
  const selectedNode = selection.nodes.size === 1 && selection.edges.size === 0 ? [...selection.nodes][0] : undefined;
  const { side, openSide, testsOpened, testRun, onTestRun, shownTest, setShownTest, onCasesChanged, testsTarget } = tests;
  return (
    <div className="editor-side">
      <div className="side-tabs" role="tablist" aria-label="Right panel">
        <button
          type="button"
          role="tab"
          aria-selected={side === 'inspect'}
          className={`side-tab${side === 'inspect' ? ' is-active' : ''}`}
          onClick={() => openSide('inspect')}
          data-testid="side-tab-inspector"
        >
          Inspector
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={side === 'tests'}
          className={`side-tab${side === 'tests' ? ' is-active' : ''}`}
          onClick={() => openSide('tests')}
          data-testid="side-tab-tests"
        >
          Tests
          {testRun !== null && testRun.scope === 'all' ? (
            <span className={`count-pill ${testRun.report.failed > 0 ? 'is-error' : 'is-ok'}`} data-testid="tests-tab-count">
              {testRun.report.failed > 0 ? `✗ ${testRun.report.failed}` : `✓ ${testRun.report.passed}`}
            </span>
          ) : null}
        </button>
      </div>
      <div className="side-pane" hidden={side !== 'inspect'}>
        {run !== null && selectedNode !== undefined ? <StepDataPanel run={run} nodeId={selectedNode} testRun={testRunTarget} /> : null}
        <Inspector
          graph={graph}
          selection={selection}
          actions={actions}
          issues={issues}
          onEdit={onEdit}
          onSelect={onSelect}
          onDelete={onDelete}
          readOnly={editDenied !== null}
        />
      </div>
      {testsOpened ? (
        <div className="side-pane" hidden={side !== 'tests'}>
          <TestsPanel
            slug={slug}
            graph={graph}
            version={testsTarget.version}
            targetNote={testsTarget.note}
            editDenied={editDenied}
            run={testRun}
            onRun={onTestRun}
            shown={shownTest}
            onShow={setShownTest}
            onCasesChanged={onCasesChanged}
          />
        </div>
      ) : null}
    </div>
  );
}
