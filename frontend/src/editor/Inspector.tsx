/** The right panel: edit the selected node or edge, or the workflow's settings (or only read them). */

import { memo, useId } from 'react';
import { MAX_DURATION_S } from '../graph/validate';
import type { ActionDescription } from '../api/versions';
import { updateEdge, updateNode, type GraphEdge, type GraphNode, type WorkflowGraph } from '../graph';
import { CheckboxField, FieldShell, ListField, NumberField, SelectField, TextField } from './fields';
import type { PinnedIssue } from './issues';
import { paletteEntry } from './nodeMeta';
import { ParamsForm } from './ParamsForm';
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

function labelOf(node: GraphNode | undefined, fallback: string): string {
  return node && typeof node.label === 'string' && node.label ? node.label : (node?.id ?? fallback);
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
      {node.type === 'task' ? <TaskFields graph={graph} node={node} actions={actions} onEdit={onEdit} /> : null}
      {node.type === 'choice' || node.type === 'handoff' ? <Branches graph={graph} node={node} onEdit={onEdit} onSelect={onSelect} /> : null}
      {node.type === 'join' ? (
        <SelectField
          label="Join mode"
          value={node.mode === 'any' ? 'any' : 'all'}
          onChange={(v) => patch('mode', v)}
          options={[
            ['all', 'all — wait for every branch'],
            ['any', 'any — continue after the first branch'],
          ]}
          testId="inspector-mode"
        />
      ) : null}
      {node.type === 'wait' ? (
        <NumberField label="Wait (seconds)" value={node.seconds} min={0} max={MAX_DURATION_S} onChange={(v) => patch('seconds', v)} testId="inspector-seconds" />
      ) : null}
      {node.type === 'handoff' ? <HandoffFields node={node} patch={patch} /> : null}
      {node.type === 'end' ? (
        <SelectField
          label="Run ends"
          value={node.status === 'failed' ? 'failed' : 'succeeded'}
          onChange={(v) => patch('status', v === 'succeeded' ? undefined : v)}
          options={[
            ['succeeded', 'succeeded'],
            ['failed', 'failed'],
          ]}
          testId="inspector-status"
        />
      ) : null}
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

interface TaskFieldsProps {
  graph: WorkflowGraph;
  node: GraphNode;
  actions: readonly ActionDescription[];
  onEdit: (update: Update, coalesceKey?: string) => void;
}

function TaskFields({ graph, node, actions, onEdit }: TaskFieldsProps) {
  const id = node.id;
  const selectId = useId();
  const patch = (field: string, value: unknown) => onEdit((g) => updateNode(g, id, { [field]: value }), `node:${id}:${field}`);
  const actionName = typeof node.action === 'string' ? node.action : '';
  const action = actions.find((a) => a.name === actionName) ?? null;
  const params = typeof node.params === 'object' && node.params !== null && !Array.isArray(node.params) ? (node.params as Record<string, unknown>) : {};
  const defaults = (graph.defaults ?? {}) as Record<string, unknown>;
  const tasks = graph.nodes.filter((n) => n.type === 'task' && n.id !== id);

  const changeAction = (name: string) => {
    const next = actions.find((a) => a.name === name);
    const properties = next?.params_schema?.properties;
    // Keep the params the new action also takes; a schema without properties takes any.
    const kept =
      typeof properties === 'object' && properties !== null
        ? Object.fromEntries(Object.entries(params).filter(([key]) => key in properties))
        : params;
    onEdit((g) => updateNode(g, id, { action: name || undefined, params: Object.keys(kept).length > 0 ? kept : undefined }));
  };

  return (
    <>
      <FieldShell label="Action" htmlFor={selectId} hint={action?.description || (actionName && !action ? 'This action is not registered on the server.' : undefined)}>
        <select id={selectId} value={actionName} onChange={(e) => changeAction(e.target.value)} data-testid="inspector-action">
          <option value="">— choose an action —</option>
          {actionName && !action ? <option value={actionName}>{actionName} (unknown)</option> : null}
          {actions.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name}
            </option>
          ))}
        </select>
      </FieldShell>
      {action?.side_effects ? (
        <p className="side-effects" data-testid="inspector-side-effects">
          Has side effects: retries reuse the same idempotency key.
        </p>
      ) : null}
      {actionName ? (
        <fieldset className="inspector-group">
          <legend>Params</legend>
          <ParamsForm
            schema={action ? action.params_schema : null}
            params={params}
            onChange={(next, field) =>
              onEdit((g) => updateNode(g, id, { params: Object.keys(next).length > 0 ? next : undefined }), `node:${id}:params.${field}`)
            }
          />
        </fieldset>
      ) : null}
      <fieldset className="inspector-group">
        <legend>Retry</legend>
        <RetryFields
          value={typeof node.retry === 'object' && node.retry !== null ? (node.retry as Record<string, unknown>) : undefined}
          inherited={(defaults.retry as Record<string, unknown> | undefined) ?? undefined}
          onChange={(retry, field) => onEdit((g) => updateNode(g, id, { retry }), `node:${id}:retry.${field}`)}
        />
      </fieldset>
      <fieldset className="inspector-group">
        <legend>Execution</legend>
        <div className="field-grid">
          <TextField
            label="Queue"
            value={node.queue}
            onChange={(v) => patch('queue', v)}
            placeholder={typeof defaults.queue === 'string' ? defaults.queue : 'default'}
            testId="inspector-queue"
            mono
          />
          <SelectField
            label="Priority"
            value={typeof node.priority === 'number' ? String(node.priority) : ''}
            onChange={(v) => patch('priority', v === '' ? undefined : Number(v))}
            options={[['', '5 (default)'], ...Array.from({ length: 10 }, (_, i) => [String(i), i === 9 ? '9 (highest)' : i === 0 ? '0 (lowest)' : String(i)] as const)]}
            testId="inspector-priority"
          />
        </div>
        <NumberField
          label="Timeout per attempt (s)"
          value={node.timeout_s}
          min={0}
          onChange={(v) => patch('timeout_s', v)}
          placeholder={defaults.timeout_s !== undefined ? `${String(defaults.timeout_s)} (inherited)` : '300 (inherited)'}
          testId="inspector-timeout_s"
        />
        <SelectField
          label="Compensate with"
          value={typeof node.compensate_with === 'string' ? node.compensate_with : ''}
          onChange={(v) => patch('compensate_with', v === '' ? undefined : v)}
          options={[
            ['', '— none —'],
            ...(typeof node.compensate_with === 'string' && !tasks.some((t) => t.id === node.compensate_with)
              ? [[node.compensate_with, `${node.compensate_with} (missing)`] as const]
              : []),
            ...tasks.map((t) => [t.id, t.label ? `${t.label} (${t.id})` : t.id] as const),
          ]}
          hint="Task that undoes this one when the run fails later."
          testId="inspector-compensate_with"
        />
        {(action?.side_effects && node.compensate_with === undefined) || typeof node.side_effects_reason === 'string' ? (
          <TextField
            label="Why no compensation"
            value={node.side_effects_reason}
            onChange={(v) => patch('side_effects_reason', v)}
            multiline
            rows={2}
            maxLength={500}
            placeholder="e.g. the ledger entry is idempotent and reconciled nightly"
            hint="This action has side effects: say why undoing them is not needed, or pick a compensation."
            testId="inspector-side_effects_reason"
          />
        ) : null}
      </fieldset>
    </>
  );
}

function HandoffFields({ node, patch }: { node: GraphNode; patch: (field: string, value: unknown) => void }) {
  const to = (typeof node.to === 'object' && node.to !== null ? node.to : {}) as { group?: unknown; user?: unknown };
  const kind = 'user' in to ? 'user' : 'group';
  const name = kind === 'user' ? to.user : to.group;
  return (
    <fieldset className="inspector-group">
      <legend>Handoff</legend>
      <div className="field-grid">
        <SelectField
          label="Assign to"
          value={kind}
          onChange={(v) => patch('to', { [v]: typeof name === 'string' || typeof name === 'number' ? name : '' })}
          options={[
            ['group', 'group'],
            ['user', 'user'],
          ]}
          testId="inspector-to-kind"
        />
        <TextField
          label={kind === 'user' ? 'User' : 'Group'}
          value={name}
          onChange={(v) => patch('to', { [kind]: v ?? '' })}
          testId="inspector-to-name"
          placeholder={kind === 'user' ? 'username' : 'risk'}
        />
      </div>
      <ListField label="Outcomes" value={node.outcomes} onChange={(v) => patch('outcomes', v)} placeholder="approve, reject" testId="inspector-outcomes" hint="Route on them with when: outcome == 'approve'." />
      <NumberField label="SLA (s)" value={node.sla_s} min={0} max={MAX_DURATION_S} onChange={(v) => patch('sla_s', v)} testId="inspector-sla_s" hint="Escalates when nobody completes it in time." />
      <TextField label="Instructions" value={node.instructions} onChange={(v) => patch('instructions', v)} multiline testId="inspector-instructions" />
      <ListField label="Context shown" value={node.context} onChange={(v) => patch('context', v)} placeholder="input.order, steps.charge.output" testId="inspector-context" />
    </fieldset>
  );
}

/** A choice's (or handoff's) outgoing edges: their conditions and the default, in one place. */
function Branches({ graph, node, onEdit, onSelect }: { graph: WorkflowGraph; node: GraphNode; onEdit: (update: Update, key?: string) => void; onSelect: (s: Selection) => void }) {
  const outgoing = graph.edges.filter((edge) => edge.source === node.id);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return (
    <fieldset className="inspector-group" data-testid="branches">
      <legend>Branches</legend>
      {outgoing.length === 0 ? (
        <p className="muted small">No outgoing edges yet: drag from this node's right handle to the next step.</p>
      ) : (
        <ul className="branches">
          {outgoing.map((edge) => (
            <li key={edge.id}>
              <div className="branch-head">
                <button type="button" className="link-button" onClick={() => onSelect(selectionOf([], [edge.id]))} data-testid={`branch-select-${edge.id}`}>
                  → {labelOf(byId.get(edge.target), edge.target)}
                </button>
                {node.type === 'choice' ? (
                  <label className="branch-default">
                    <input
                      type="radio"
                      name={`default-${node.id}`}
                      checked={edge.default === true}
                      onChange={() => onEdit((g) => setDefault(g, edge, true))}
                      data-testid={`branch-default-${edge.id}`}
                    />
                    default
                  </label>
                ) : null}
              </div>
              {edge.default ? null : (
                <input
                  type="text"
                  className="mono"
                  aria-label={`Condition of ${edge.id}`}
                  placeholder={node.type === 'handoff' ? "outcome == 'approve'" : 'input.amount > 1000'}
                  value={edge.when ?? ''}
                  spellCheck={false}
                  onChange={(e) => onEdit((g) => updateEdge(g, edge.id, { when: e.target.value || undefined }), `edge:${edge.id}:when`)}
                  data-testid={`branch-when-${edge.id}`}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

/** Make `edge` the default of its source (and no sibling), or clear its default. */
function setDefault(graph: WorkflowGraph, edge: GraphEdge, on: boolean): WorkflowGraph {
  let next = updateEdge(graph, edge.id, { default: on ? true : undefined });
  if (on) {
    for (const sibling of graph.edges) {
      if (sibling.source === edge.source && sibling.id !== edge.id && sibling.default) {
        next = updateEdge(next, sibling.id, { default: undefined });
      }
    }
  }
  return next;
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
  const routing = source?.type === 'choice' || source?.type === 'handoff';
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
      <TextField
        label="When"
        value={edge.when}
        onChange={(v) => patch('when', v)}
        testId="edge-when"
        mono
        multiline
        rows={2}
        placeholder={source?.type === 'handoff' ? "outcome == 'approve'" : 'input.amount > 1000'}
        hint={routing ? 'A CEL condition: input, steps.<id>.output, outcome, run.id, attempt.' : 'Conditions apply only to edges leaving a choice or a handoff.'}
      />
      <CheckboxField
        label="Default branch"
        checked={edge.default === true}
        onChange={(checked) => onEdit((g) => setDefault(g, edge, checked))}
        testId="edge-default"
        hint="Taken when no condition is true. A choice needs exactly one."
      />
      <CheckboxField
        label="On failure"
        checked={edge.on === 'failure'}
        onChange={(checked) => patch('on', checked ? 'failure' : undefined)}
        testId="edge-failure"
        hint="Taken after the task's retries are exhausted."
      />
      <TextField label="Label" value={edge.label} onChange={(v) => patch('label', v)} testId="edge-label" maxLength={200} />
    </div>
  );
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
