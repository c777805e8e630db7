/** Draw a node type's inspector fields (`inspector` in graph/nodes/<type>.ts) with the editor's inputs. */

import { Fragment, useId, type ReactNode } from 'react';
import { updateNode, type FieldContext, type GraphNode, type InspectorField, type WorkflowGraph } from '../graph';
import type { ActionDescription } from '../api/versions';
import { Branches } from './Branches';
import { FieldShell, ListField, NumberField, SelectField, TextField } from './fields';
import { ParamsForm } from './ParamsForm';
import { RetryFields } from './RetryFields';
import type { Selection } from './selection';

type Update = (graph: WorkflowGraph) => WorkflowGraph;
type Patch = (field: string, value: unknown) => void;

interface NodeFieldsProps {
  graph: WorkflowGraph;
  node: GraphNode;
  fields: readonly InspectorField[];
  actions: readonly ActionDescription[];
  onEdit: (update: Update, coalesceKey?: string) => void;
  onSelect: (selection: Selection) => void;
}

export function NodeFields({ graph, node, fields, actions, onEdit, onSelect }: NodeFieldsProps) {
  const id = node.id;
  const patch: Patch = (field, value) => onEdit((g) => updateNode(g, id, { [field]: value }), `node:${id}:${field}`);
  const actionName = typeof node.action === 'string' ? node.action : '';
  const action = actions.find((a) => a.name === actionName) ?? null;
  const context: FieldContext = { graph, node, action };
  const text = (value: string | ((context: FieldContext) => string) | undefined) =>
    typeof value === 'function' ? value(context) : value;

  const draw = (field: InspectorField): ReactNode => {
    if ('visible' in field && field.visible && !field.visible(context)) return null;
    const testId = 'key' in field ? `inspector-${field.key}` : undefined;
    switch (field.kind) {
      case 'group':
        return (
          <fieldset className="inspector-group">
            <legend>{field.legend}</legend>
            {drawAll(field.fields)}
          </fieldset>
        );
      case 'row':
        return <div className="field-grid">{drawAll(field.fields)}</div>;
      case 'text':
        return (
          <TextField
            label={field.label}
            value={node[field.key]}
            onChange={(v) => patch(field.key, v)}
            placeholder={text(field.placeholder)}
            hint={field.hint}
            multiline={field.multiline}
            rows={field.rows}
            maxLength={field.maxLength}
            mono={field.mono}
            testId={testId}
          />
        );
      case 'number':
        return (
          <NumberField
            label={field.label}
            value={node[field.key]}
            integer={field.integer}
            min={field.min}
            max={field.max}
            onChange={(v) => patch(field.key, v)}
            placeholder={text(field.placeholder)}
            hint={field.hint}
            testId={testId}
          />
        );
      case 'select': {
        const chosen = field.options.find(([value]) => value === node[field.key]);
        return (
          <SelectField
            label={field.label}
            value={String(chosen ? chosen[0] : field.fallback)}
            onChange={(v) => {
              const value = field.options.find(([option]) => String(option) === v)?.[0];
              patch(field.key, value === field.unset ? undefined : value);
            }}
            options={field.options.map(([value, label]) => [String(value), label] as const)}
            hint={field.hint}
            testId={testId}
          />
        );
      }
      case 'list':
        return <ListField label={field.label} value={node[field.key]} onChange={(v) => patch(field.key, v)} placeholder={field.placeholder} hint={field.hint} testId={testId} />;
      case 'node': {
        const current = node[field.key];
        const choices = graph.nodes.filter((n) => n.type === field.nodeType && n.id !== id);
        return (
          <SelectField
            label={field.label}
            value={typeof current === 'string' ? current : ''}
            onChange={(v) => patch(field.key, v === '' ? undefined : v)}
            options={[
              ['', field.none],
              ...(typeof current === 'string' && !choices.some((n) => n.id === current) ? [[current, `${current} (missing)`] as const] : []),
              ...choices.map((n) => [n.id, n.label ? `${n.label} (${n.id})` : n.id] as const),
            ]}
            hint={field.hint}
            testId={testId}
          />
        );
      }
      case 'action':
        return <ActionField node={node} action={action} actions={actions} onEdit={onEdit} />;
      case 'retry': {
        const defaults = (graph.defaults ?? {}) as Record<string, unknown>;
        const value = node[field.key];
        return (
          <RetryFields
            value={typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined}
            inherited={(defaults.retry as Record<string, unknown> | undefined) ?? undefined}
            onChange={(retry, name) => onEdit((g) => updateNode(g, id, { [field.key]: retry }), `node:${id}:${field.key}.${name}`)}
          />
        );
      }
      case 'params': {
        const value = node[field.key];
        const params = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
        return (
          <fieldset className="inspector-group">
            <legend>{field.label}</legend>
            {field.hint ? <p className="muted small">{field.hint}</p> : null}
            <ParamsForm
              schema={null}
              params={params}
              testIdPrefix={`${testId}-`}
              onChange={(next, name) =>
                onEdit((g) => updateNode(g, id, { [field.key]: Object.keys(next).length > 0 ? next : undefined }), `node:${id}:${field.key}.${name}`)
              }
            />
          </fieldset>
        );
      }
      case 'assignee':
        return <AssigneeField value={node[field.key]} onChange={(v) => patch(field.key, v)} testId={testId!} />;
      case 'branches':
        return <Branches graph={graph} node={node} pickDefault={field.pickDefault} onEdit={onEdit} onSelect={onSelect} />;
    }
  };
  const drawAll = (list: readonly InspectorField[]) => list.map((field, index) => <Fragment key={index}>{draw(field)}</Fragment>);
  return <>{drawAll(fields)}</>;
}

interface ActionFieldProps {
  node: GraphNode;
  action: ActionDescription | null;
  actions: readonly ActionDescription[];
  onEdit: (update: Update, coalesceKey?: string) => void;
}

/** A task's action, whether it has side effects, and a params form from its schema. */
function ActionField({ node, action, actions, onEdit }: ActionFieldProps) {
  const id = node.id;
  const selectId = useId();
  const actionName = typeof node.action === 'string' ? node.action : '';
  const params = typeof node.params === 'object' && node.params !== null && !Array.isArray(node.params) ? (node.params as Record<string, unknown>) : {};

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
    </>
  );
}

/** Who a handoff goes to: a group or a user, and the name. */
function AssigneeField({ value, onChange, testId }: { value: unknown; onChange: (value: unknown) => void; testId: string }) {
  const to = (typeof value === 'object' && value !== null ? value : {}) as { group?: unknown; user?: unknown };
  const kind = 'user' in to ? 'user' : 'group';
  const name = kind === 'user' ? to.user : to.group;
  return (
    <div className="field-grid">
      <SelectField
        label="Assign to"
        value={kind}
        onChange={(v) => onChange({ [v]: typeof name === 'string' || typeof name === 'number' ? name : '' })}
        options={[
          ['group', 'group'],
          ['user', 'user'],
        ]}
        testId={`${testId}-kind`}
      />
      <TextField
        label={kind === 'user' ? 'User' : 'Group'}
        value={name}
        onChange={(v) => onChange({ [kind]: v ?? '' })}
        testId={`${testId}-name`}
        placeholder={kind === 'user' ? 'username' : 'risk'}
      />
    </div>
  );
}
