/** Create or change a connection: its kind's fields drawn from the kind's schema, write-only secrets, the server's errors under their field. */

import { useState, type FormEvent } from 'react';
import { createConnection, updateConnection, type Connection, type ConnectionKind, type SecretSource } from '../api/connections';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import {
  createBody,
  draftOf,
  draftProblems,
  emptyDraft,
  errorsByField,
  kindControls,
  patchBody,
  type Draft,
  type FieldControl,
} from './connectionForm';
import { Field } from './Field';
import { SecretFields } from './SecretFields';

interface ConnectionFormProps {
  kinds: ConnectionKind[];
  /** The connection changed; null: a new one. */
  connection: Connection | null;
  /** The user's teams, which may own a new connection. */
  teams: string[];
  onSaved: (connection: Connection, created: boolean) => void;
  onCancel: () => void;
}

const SOURCES: [SecretSource, string][] = [
  ['stored', 'Switchyard, encrypted'],
  ['env', 'The workers’ environment'],
  ['vault', 'HashiCorp Vault'],
];

export function ConnectionForm({ kinds, connection, teams, onSaved, onCancel }: ConnectionFormProps) {
  const creating = connection === null;
  const initialKind = kinds.find((k) => k.name === connection?.kind) ?? kinds[0];
  const [draft, setDraft] = useState<Draft | null>(() =>
    initialKind === undefined ? null : connection ? draftOf(connection, initialKind) : emptyDraft(initialKind, teams.length === 1 ? teams[0] : ''),
  );
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [submitting, setSubmitting] = useState(false);
  const kind = kinds.find((k) => k.name === draft?.kind);
  if (draft === null || kind === undefined) {
    return <ErrorList errors={[{ code: 'unknown_kind', message: `The server does not know the kind ${connection?.kind ?? ''}.` }]} />;
  }

  const change = (next: Partial<Draft>) => setDraft({ ...draft, ...next });
  const changeKind = (name: string) => {
    const next = kinds.find((k) => k.name === name);
    if (next) setDraft({ ...emptyDraft(next, draft.team), name: draft.name, description: draft.description, source: draft.source, secretPath: draft.secretPath });
  };

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (draft === null || kind === undefined) return;
    const found = draftProblems(draft, kind);
    setProblems(found);
    setErrors([]);
    if (Object.keys(found).length > 0) return;
    setSubmitting(true);
    try {
      const saved = connection === null ? await createConnection(createBody(draft, kind)) : await updateConnection(connection.id, patchBody(draft, kind));
      onSaved(saved, connection === null);
    } catch (error) {
      setErrors(errorItems(error));
      setSubmitting(false);
    }
  }

  const { byField, other } = errorsByField(errors);
  const errorOf = (key: string) => problems[key] ?? byField[key]?.join(' ');

  return (
    <form className="card connection-form" onSubmit={(e) => void submit(e)} data-testid="connection-form">
      <h2>{creating ? 'New connection' : `Edit “${connection.name}”`}</h2>
      <ErrorList errors={other} testId="connection-errors" />
      <div className="form-grid">
        <Field label="Name" error={errorOf('name')} hint={creating ? 'Lower-case letters, digits, - and _; tasks name it.' : 'A connection keeps its name.'}>
          {(id) => (
            <input
              id={id}
              value={draft.name}
              onChange={(e) => change({ name: e.target.value })}
              required
              maxLength={64}
              pattern="[a-z0-9][a-z0-9_\-]*"
              autoComplete="off"
              spellCheck={false}
              readOnly={!creating}
              autoFocus={creating}
              placeholder="billing-api"
              data-testid="connection-name"
            />
          )}
        </Field>
        <Field label="Kind" error={errorOf('kind')}>
          {(id) => (
            <select id={id} value={draft.kind} onChange={(e) => changeKind(e.target.value)} disabled={!creating} data-testid="connection-kind">
              {kinds.map((k) => (
                <option key={k.name} value={k.name}>
                  {k.title} ({k.name})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          label="Team"
          error={errorOf('owner_group')}
          hint={draft.team ? `Only workflows of ${draft.team} may use it.` : 'Any workflow may use it.'}
        >
          {(id) => (
            <select id={id} value={draft.team} onChange={(e) => change({ team: e.target.value })} disabled={!creating} data-testid="connection-team">
              <option value="">No team</option>
              {[...new Set([...teams, ...(draft.team ? [draft.team] : [])])].map((team) => (
                <option key={team} value={team}>
                  {team}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Description" error={errorOf('description')} wide>
          {(id) => (
            <input id={id} value={draft.description} maxLength={500} onChange={(e) => change({ description: e.target.value })} data-testid="connection-description" />
          )}
        </Field>
      </div>

      {Object.keys(kind.fields).length > 0 ? (
        <fieldset className="form-section">
          <legend>Settings</legend>
          <div className="form-grid">
            {kindControls(kind).map((control) => (
              <KindField
                key={control.name}
                control={control}
                value={draft.fields[control.name]}
                error={errorOf(`fields.${control.name}`)}
                onChange={(value) => change({ fields: { ...draft.fields, [control.name]: value } })}
              />
            ))}
          </div>
        </fieldset>
      ) : null}

      <fieldset className="form-section">
        <legend>Secrets</legend>
        {creating ? (
          <div className="form-grid">
            <Field label="Kept in" error={errorOf('secret_source')}>
              {(id) => (
                <select id={id} value={draft.source} onChange={(e) => change({ source: e.target.value as SecretSource })} data-testid="connection-source">
                  {SOURCES.map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        ) : (
          <p className="muted small" data-testid="connection-source">
            Kept in: {SOURCES.find(([value]) => value === draft.source)?.[1] ?? draft.source}.
          </p>
        )}
        <SecretFields kind={kind} draft={draft} connection={connection} onChange={change} errorOf={errorOf} />
      </fieldset>

      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={submitting} data-testid="connection-submit">
          {submitting ? 'Saving…' : creating ? 'Create connection' : 'Save changes'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

interface KindFieldProps {
  control: FieldControl;
  value: string | boolean | undefined;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
}

/** One of a kind's fields: a select for an enum, a checkbox for a boolean, a number or a text input. */
function KindField({ control, value, error, onChange }: KindFieldProps) {
  const testId = `connection-field-${control.name}`;
  const label = (
    <>
      {control.label}
      {control.required ? <span className="required" title="required"> *</span> : null}
    </>
  );
  if (control.control === 'checkbox') {
    return (
      <div className="field field-check">
        <label className="check">
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />
          {control.label}
        </label>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : control.hint ? (
          <p className="hint">{control.hint}</p>
        ) : null}
      </div>
    );
  }
  const text = typeof value === 'string' ? value : '';
  return (
    <Field label={label} error={error} hint={control.hint}>
      {(id) =>
        control.control === 'select' ? (
          <select id={id} value={text} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
            {(control.options ?? []).map((option) => (
              <option key={option} value={option}>
                {option === '' ? '— not set —' : option}
              </option>
            ))}
          </select>
        ) : (
          <input
            id={id}
            type={control.control === 'number' ? 'number' : 'text'}
            inputMode={control.control === 'number' ? 'numeric' : undefined}
            min={control.min}
            max={control.max}
            step={control.control === 'number' ? 1 : undefined}
            maxLength={control.maxLength}
            required={control.required}
            placeholder={control.placeholder}
            value={text}
            className={error ? 'invalid' : undefined}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => onChange(e.target.value)}
            data-testid={testId}
          />
        )
      }
    </Field>
  );
}
