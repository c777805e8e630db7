/** Edit a task's params with a form generated from its action's JSON Schema (a connection param as a picker). */

import { useContext, useId, type ReactNode } from 'react';
import { choiceLabel, connectionKinds, usableConnections } from './connectionChoices';
import { CheckboxField, FieldShell, JsonField, NumberField, TextField } from './fields';
import { useConnections, WorkflowTeam } from './useConnections';

type Schema = Record<string, unknown>;

interface ParamsFormProps {
  schema: Schema | null;
  params: Record<string, unknown>;
  onChange: (params: Record<string, unknown>, field: string) => void;
  testIdPrefix?: string;
}

function propertiesOf(schema: Schema | null): [string, Schema][] {
  const properties = schema?.properties;
  if (typeof properties !== 'object' || properties === null) return [];
  return Object.entries(properties as Record<string, unknown>).flatMap(([name, sub]) =>
    typeof sub === 'object' && sub !== null ? [[name, sub as Schema] as [string, Schema]] : [],
  );
}

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return String(type.find((t) => t !== 'null') ?? 'string');
  if (Array.isArray(schema.enum)) return 'string';
  return 'any';
}

/** Return params with `name` set to `value`, or removed when `value` is undefined. */
function withParam(params: Record<string, unknown>, name: string, value: unknown): Record<string, unknown> {
  const next = { ...params };
  if (value === undefined) delete next[name];
  else next[name] = value;
  return next;
}

export function ParamsForm({ schema, params, onChange, testIdPrefix = 'param-' }: ParamsFormProps) {
  const listId = useId();
  const properties = propertiesOf(schema);
  const known = new Set(properties.map(([name]) => name));
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as unknown[]).map(String) : []);
  const extras = Object.fromEntries(Object.entries(params).filter(([name]) => !known.has(name)));
  // A schema without "properties" (builtin.echo) takes any object: edit it as JSON.
  const allowsExtras = schema === null || !('properties' in schema) || schema.additionalProperties === true;
  const showExtras = allowsExtras || Object.keys(extras).length > 0;

  return (
    <div className="params-form" data-testid="params-form">
      {properties.map(([name, sub]) => {
        const type = typeOf(sub);
        const value = params[name];
        const label = (
          <>
            <code>{name}</code>
            {required.has(name) ? <span className="required" title="required"> *</span> : null}
            <span className="muted small"> {type === 'any' ? '' : type}</span>
          </>
        );
        const description = typeof sub.description === 'string' ? sub.description : undefined;
        const testId = `${testIdPrefix}${name}`;
        const set = (next: unknown) => onChange(withParam(params, name, next), name);
        const kinds = connectionKinds(sub);
        if (kinds !== null) {
          return <ConnectionParam key={name} label={label} kinds={kinds} value={value} onChange={set} testId={testId} description={description} />;
        }
        if (type === 'boolean') {
          if (typeof value === 'string') {
            return (
              <TextField key={name} label={label} value={value} onChange={set} testId={testId} mono hint="An =expression; clear it to use a checkbox." />
            );
          }
          return (
            <CheckboxField
              key={name}
              label={label}
              checked={value === true}
              onChange={(checked) => set(checked ? true : required.has(name) ? false : undefined)}
              testId={testId}
              hint={description}
            />
          );
        }
        if (type === 'number' || type === 'integer') {
          return (
            <NumberField
              key={name}
              label={label}
              value={value}
              integer={type === 'integer'}
              allowExpression
              onChange={set}
              testId={testId}
              placeholder={sub.default !== undefined ? String(sub.default) : undefined}
              hint={description ?? 'A number, or an =expression such as =input.count'}
            />
          );
        }
        if (type === 'string') {
          const options = Array.isArray(sub.enum) ? (sub.enum as unknown[]).map(String) : null;
          return (
            <div key={name}>
              <TextField
                label={label}
                value={value}
                onChange={set}
                testId={testId}
                expression="param"
                list={options ? `${listId}-${name}` : undefined}
                placeholder={options ? options.join(' | ') : sub.default !== undefined ? String(sub.default) : undefined}
                hint={description ?? (options ? `One of ${options.join(', ')}, or an =expression.` : 'Text, or an =expression such as =input.order')}
              />
              {options ? (
                <datalist id={`${listId}-${name}`}>
                  {options.map((option) => (
                    <option key={option} value={option} />
                  ))}
                </datalist>
              ) : null}
            </div>
          );
        }
        return (
          <JsonField
            key={name}
            label={label}
            value={value}
            onChange={set}
            testId={testId}
            hint={description ?? 'JSON, or an =expression such as =input.order'}
          />
        );
      })}
      {showExtras ? (
        <JsonField
          label={properties.length > 0 ? 'Other params (JSON object)' : 'Params (JSON object)'}
          value={Object.keys(extras).length > 0 ? extras : undefined}
          objectOnly
          rows={4}
          testId={`${testIdPrefix}json`}
          hint='Values starting with "=" are expressions, e.g. {"order": "=input.order"}.'
          onChange={(next) => {
            const kept = Object.fromEntries(Object.entries(params).filter(([name]) => known.has(name)));
            onChange({ ...kept, ...((next as Record<string, unknown> | undefined) ?? {}) }, '__extra__');
          }}
        />
      ) : null}
      {properties.length === 0 && !showExtras ? <p className="muted small">This action takes no params.</p> : null}
    </div>
  );
}

interface ConnectionParamProps {
  label: ReactNode;
  /** The kinds the action takes ([]: any). */
  kinds: string[];
  value: unknown;
  onChange: (value: string | undefined) => void;
  testId: string;
  /** The param's own description, said when nothing more useful is. */
  description?: string;
}

/** Pick a connection by name from those the workflow may use, or give an =expression naming one. */
function ConnectionParam({ label, kinds, value, onChange, testId, description }: ConnectionParamProps) {
  const id = useId();
  const team = useContext(WorkflowTeam);
  const { status, connections, error, reload } = useConnections();
  if (typeof value === 'string' && value.startsWith('=')) {
    return (
      <TextField
        label={label}
        value={value}
        onChange={onChange}
        testId={testId}
        mono
        hint="An =expression giving the connection's name; clear it to pick one from the list."
      />
    );
  }
  const current = typeof value === 'string' ? value : '';
  const choices = usableConnections(connections, kinds, team);
  const chosen = choices.find((c) => c.name === current);
  const what = kinds.length > 0 ? `${kinds.join(' or ')} connection` : 'connection';
  let note: ReactNode = chosen?.description || description || null;
  if (status === 'loading') note = 'Loading the connections…';
  else if (status === 'error') note = `Cannot load the connections: ${error ?? ''}`;
  else if (current && !chosen) note = `There is no ${what} “${current}” this workflow may use: pick another.`;
  else if (choices.length === 0) note = `No ${what} yet: create one on the Connections page.`;
  return (
    <FieldShell
      label={label}
      htmlFor={id}
      hint={
        <>
          {note ? <span className="connection-note">{note} </span> : null}
          <span className="param-links">
            <a href="/connections/" target="_blank" rel="noopener" data-testid={`${testId}-manage`}>
              Connections page
            </a>
            {' · '}
            <button type="button" className="link-button" onClick={reload} data-testid={`${testId}-reload`}>
              reload
            </button>
            {' · '}
            <button type="button" className="link-button" onClick={() => onChange('=')}>
              use an expression
            </button>
          </span>
        </>
      }
    >
      <select id={id} value={current} onChange={(e) => onChange(e.target.value || undefined)} data-testid={testId} data-status={status}>
        <option value="">— choose a connection —</option>
        {current && !chosen ? <option value={current}>{status === 'loading' ? current : `${current} (missing)`}</option> : null}
        {choices.map((c) => (
          <option key={c.id} value={c.name}>
            {choiceLabel(c, kinds)}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}
