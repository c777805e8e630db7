/** The right panel: edit the selected node or edge, or the workflow's settings (or only read them). */

import { memo } from 'react';
import type { ActionDescription } from '../api/versions';
import { edgeFields, either, nodeType, nodeTypes, updateEdge, updateNode, withArticle, type GraphEdge, type GraphNode, type WorkflowGraph } from '../graph';
import { setDefault, whenExample } from './Branches';
import { CheckboxField, NumberField, TextField } from './fields';
import type { PinnedIssue } from './issues';
import { labelOf, paletteEntry } from './nodeMeta';
import { NodeFields } from './NodeFields';
import { RetryFields } from './RetryFields';
import { selectionOf, type Selection } from './selection';

type Update = (graph: WorkflowGraph) => WorkflowGraph;

interface InspectorProps {
  graph: WorkflowGraph;
  selection: Selection;
  actions: readonly ActionDescription[];
  issues: readonly PinnedIssue[];
  onEdit: (update: Update, coalesceKey?: string) => void;
  onSelect: (selection: Selection) => void;
  onDelete: () => void;
  /** Show the fields disabled: the user's role may not edit. */
  readOnly?: boolean;
}

export const Inspector = memo(function Inspector({ graph, selection, actions, issues, onEdit, onSelect, onDelete, readOnly = false }: InspectorProps) {
  let body;
  if (selection.nodes.size === 1 && selection.edges.size === 0) {
    const id = [...selection.nodes][0]!;
    const node = graph.nodes.find((n) => n.id === id);
    body = node ? (
      <NodeInspector key={id} graph={graph} node={node} actions={actions} issues={issues} onEdit={onEdit} onSelect={onSelect} onDelete={onDelete} />
    ) : null;
  } else if (selection.nodes.size === 0 && selection.edges.size === 1) {
    const id = [...selection.edges][0]!;
    const edge = graph.edges.find((e) => e.id === id);
    body = edge ? <EdgeInspector key={id} graph={graph} edge={edge} issues={issues} onEdit={onEdit} onSelect={onSelect} onDelete={onDelete} /> : null;
  } else if (selection.nodes.size + selection.edges.size > 1) {
    body = (
      <div className="inspector-section" data-testid="inspector-multi">
        <h2 className="panel-title">
          {selection.nodes.size} nodes, {selection.edges.size} edges selected
        </h2>
        <p className="hint">Drag any of them to move them together. Ctrl/⌘+C copies, Ctrl/⌘+V pastes.</p>
        <button type="button" className="btn btn-danger" onClick={onDelete} data-testid="inspector-delete">
          Delete selection
        </button>
      </div>
    );
  }
  return (
    <aside className="editor-inspector" aria-label="Inspector" data-testid="inspector">
      {/* A disabled fieldset disables every field and button inside it, however deep. */}
      <fieldset className="inspector-fieldset" disabled={readOnly} data-testid="inspector-fields">
        {body ?? <WorkflowSettings graph={graph} onEdit={onEdit} />}
      </fieldset>
    </aside>
  );
});

function IssueNotes({ issues }: { issues: readonly PinnedIssue[] }) {
  if (issues.length === 0) return null;
  return (
    <ul className="inspector-issues" data-testid="inspector-issues">
      {issues.map((issue, i) => (
        <li key={i} className={`is-${issue.level}`}>
          <strong>{issue.code}</strong> {issue.message}
        </li>
      ))}
    </ul>
  );
}

interface NodeInspectorProps {
  graph: WorkflowGraph;
  node: GraphNode;
  actions: readonly ActionDescription[];
  issues: readonly PinnedIssue[];
  onEdit: (update: Update, coalesceKey?: string) => void;
  onSelect: (selection: Selection) => void;
  onDelete: () => void;
}

function NodeInspector({ graph, node, actions, issues, onEdit, onSelect, onDelete }: NodeInspectorProps) {
  const meta = paletteEntry(node.type);
  const id = node.id;
  const patch = (field: string, value: unknown) => onEdit((g) => updateNode(g, id, { [field]: value }), `node:${id}:${field}`);
  const mine = issues.filter((issue) => issue.node_id === id);
  return (
    <div className="inspector-section" data-testid="inspector-node" data-node-id={id}>
      <header className="inspector-head">
        <span className={`palette-icon wf-icon-${node.type}`} aria-hidden="true">
          {meta.icon}
        </span>
        <div>
          <h2 className="panel-title">{meta.title}</h2>
          <code data-testid="inspector-id">{id}</code>
        </div>
        <button type="button" className="btn btn-small btn-danger" onClick={onDelete} data-testid="inspector-delete" title="Delete (Del)">
          Delete
        </button>
      </header>
      <IssueNotes issues={mine} />
      <TextField label="Label" value={node.label} onChange={(v) => patch('label', v)} testId="inspector-label" placeholder={id} maxLength={200} />
      <TextField label="Owner" value={node.owner} onChange={(v) => patch('owner', v)} testId="inspector-owner" placeholder="team or person" maxLength={200} />
      <NodeFields graph={graph} node={node} fields={nodeType(node.type)?.inspector ?? []} actions={actions} onEdit={onEdit} onSelect={onSelect} />
      <details className="inspector-more">
        <summary>More</summary>
        <TextField label="Description" value={node.description} onChange={(v) => patch('description', v)} multiline testId="inspector-description" />
        <NumberField
          label="Max visits"
          value={node.max_visits}
          integer
          min={1}
          max={1000}
          onChange={(v) => patch('max_visits', v)}
          hint="Bound on how often a loop may pass this node."
          testId="inspector-max_visits"
        />
      </details>
    </div>
  );
}

interface EdgeInspectorProps {
  graph: WorkflowGraph;
  edge: GraphEdge;
  issues: readonly PinnedIssue[];
  onEdit: (update: Update, coalesceKey?: string) => void;
  onSelect: (selection: Selection) => void;
  onDelete: () => void;
}

function EdgeInspector({ graph, edge, issues, onEdit, onSelect, onDelete }: EdgeInspectorProps) {
  const source = graph.nodes.find((n) => n.id === edge.source);
  const target = graph.nodes.find((n) => n.id === edge.target);
  const mine = issues.filter((issue) => issue.edge_id === edge.id);
  const patch = (field: string, value: unknown) => onEdit((g) => updateEdge(g, edge.id, { [field]: value }), `edge:${edge.id}:${field}`);
  // Only the fields the source's type allows (the validator refuses the others); one
  // set anyway (an imported graph) is shown, with its issue, so that it can be cleared.
  const rules = edgeFields(source?.type, edge);
  return (
    <div className="inspector-section" data-testid="inspector-edge" data-edge-id={edge.id}>
      <header className="inspector-head">
        <span className="palette-icon" aria-hidden="true">
          →
        </span>
        <div>
          <h2 className="panel-title">Edge</h2>
          <code data-testid="inspector-id">{edge.id}</code>
        </div>
        <button type="button" className="btn btn-small btn-danger" onClick={onDelete} data-testid="inspector-delete" title="Delete (Del)">
          Delete
        </button>
      </header>
      <p className="edge-ends">
        <button type="button" className="link-button" onClick={() => onSelect(selectionOf([edge.source]))}>
          {labelOf(source, edge.source)}
        </button>{' '}
        →{' '}
        <button type="button" className="link-button" onClick={() => onSelect(selectionOf([edge.target]))}>
          {labelOf(target, edge.target)}
        </button>
      </p>
      <IssueNotes issues={mine} />
      {rules.when ? (
        <TextField
          label="When"
          value={edge.when}
          onChange={(v) => patch('when', v)}
          testId="edge-when"
          expression="condition"
          expressionNode={edge.source}
          mono
          multiline
          rows={2}
          placeholder={whenExample(source)}
          hint={
            rules.routing
              ? 'A CEL condition: input, steps.<id>.output, outcome, run.id, attempt.'
              : `Conditions apply only to edges leaving ${either(conditionalTypes())}: clear it.`
          }
        />
      ) : null}
      {rules.default ? (
        <CheckboxField
          label="Default branch"
          checked={edge.default === true}
          onChange={(checked) => onEdit((g) => setDefault(g, edge, checked))}
          testId="edge-default"
          hint="Taken when no condition is true. A choice needs exactly one."
        />
      ) : null}
      {rules.onFailure ? (
        <CheckboxField
          label="On failure"
          checked={edge.on === 'failure'}
          onChange={(checked) => patch('on', checked ? 'failure' : undefined)}
          testId="edge-failure"
          hint={`Taken after the ${source?.type ?? 'task'}'s retries are exhausted.`}
        />
      ) : null}
      {!rules.when && !rules.default && !rules.onFailure && !rules.onTimeout ? (
        <p className="hint" data-testid="edge-always">
          An edge out of {withArticle(source?.type ?? 'node')} is always taken: it has no condition and no failure route.
        </p>
      ) : null}
      {rules.onTimeout ? (
        <CheckboxField
          label="On timeout"
          checked={edge.on === 'timeout'}
          onChange={(checked) => patch('on', checked ? 'timeout' : undefined)}
          testId="edge-timeout"
          hint="Taken when no message came within the receive's wait."
        />
      ) : null}
      <TextField label="Label" value={edge.label} onChange={(v) => patch('label', v)} testId="edge-label" maxLength={200} />
    </div>
  );
}

function conditionalTypes(): string[] {
  return nodeTypes()
    .filter((def) => def.edges?.when)
    .map((def) => withArticle(def.type));
}

function WorkflowSettings({ graph, onEdit }: { graph: WorkflowGraph; onEdit: (update: Update, key?: string) => void }) {
  const defaults = (graph.defaults ?? {}) as Record<string, unknown>;
  const setDefaultField = (field: string, value: unknown) =>
    onEdit((g) => {
      const next: Record<string, unknown> = { ...(g.defaults ?? {}) };
      if (value === undefined) delete next[field];
      else next[field] = value;
      const result: WorkflowGraph = { ...g, defaults: next };
      if (Object.keys(next).length === 0) delete result.defaults;
      return result;
    }, `settings:defaults.${field}`);
  return (
    <div className="inspector-section" data-testid="inspector-settings">
      <h2 className="panel-title">Workflow settings</h2>
      <p className="hint">
        Select a node or an edge to edit it. Connect nodes by dragging from a node's right handle to another node's left
        handle.
      </p>
      <NumberField
        label="Max concurrent runs"
        value={graph.max_concurrent_runs}
        integer
        min={1}
        onChange={(v) =>
          onEdit((g) => {
            const result: WorkflowGraph = { ...g };
            if (typeof v === 'number') result.max_concurrent_runs = v;
            else delete result.max_concurrent_runs;
            return result;
          }, 'settings:max_concurrent_runs')
        }
        placeholder="50"
        hint="Further runs wait in line (FIFO)."
        testId="settings-max_concurrent_runs"
      />
      <NumberField
        label="Run deadline (seconds)"
        value={graph.timeout_s}
        min={1}
        onChange={(v) =>
          onEdit((g) => {
            const result: WorkflowGraph = { ...g };
            if (typeof v === 'number') result.timeout_s = v;
            else delete result.timeout_s;
            return result;
          }, 'settings:timeout_s')
        }
        placeholder="none"
        hint="Past it the run fails (RunTimeout) and compensates."
        testId="settings-timeout_s"
      />
      <fieldset className="inspector-group">
        <legend>Defaults for tasks</legend>
        <div className="field-grid">
          <TextField label="Queue" value={defaults.queue} onChange={(v) => setDefaultField('queue', v)} placeholder="default" mono testId="settings-queue" />
          <NumberField label="Timeout (s)" value={defaults.timeout_s} min={0} onChange={(v) => setDefaultField('timeout_s', v)} placeholder="300" testId="settings-timeout_s" />
        </div>
        <RetryFields
          value={(defaults.retry as Record<string, unknown> | undefined) ?? undefined}
          inherited={undefined}
          onChange={(retry) => setDefaultField('retry', retry)}
          testIdPrefix="settings-retry-"
          fallbackLabel="engine default"
        />
      </fieldset>
    </div>
  );
}
