/** A connection's secrets: write-only password inputs (kept unless retyped or removed), or where the workers read them. */

import type { Connection, ConnectionKind } from '../api/connections';
import { envVariable, labelOf, secretStatus, type Draft } from './connectionForm';
import { Field } from './Field';

interface SecretFieldsProps {
  kind: ConnectionKind;
  draft: Draft;
  /** The connection changed; null: a new one. */
  connection: Connection | null;
  onChange: (next: Partial<Draft>) => void;
  errorOf: (key: string) => string | undefined;
}

export function SecretFields({ kind, draft, connection, onChange, errorOf }: SecretFieldsProps) {
  if (kind.secrets.length === 0) return <p className="muted small">This kind has no secrets.</p>;
  if (draft.source !== 'stored') {
    return <ExternalSecrets kind={kind} draft={draft} editing={connection !== null} onChange={onChange} errorOf={errorOf} />;
  }
  const required = new Set(kind.required_secrets);
  const setSecret = (name: string, value: string) => onChange({ secrets: { ...draft.secrets, [name]: value } });
  const toggleRemoved = (name: string) => {
    const removed = draft.removed.includes(name);
    onChange({
      removed: removed ? draft.removed.filter((n) => n !== name) : [...draft.removed, name],
      secrets: { ...draft.secrets, [name]: '' },
    });
  };
  return (
    <div className="form-grid">
      {kind.secrets.map((name) => {
        const isSet = connection !== null && secretStatus(connection, name) === 'set';
        const removed = draft.removed.includes(name);
        const typed = Boolean(draft.secrets[name]);
        const status = removed ? 'will be removed' : typed ? (isSet ? 'will be replaced' : 'will be set') : isSet ? 'set' : 'not set';
        const label = (
          <>
            {labelOf(name)}
            {required.has(name) ? <span className="required" title="required"> *</span> : null}{' '}
            {connection !== null ? (
              <span className={`secret-status is-${status.replace(/ /g, '-')}`} data-testid={`connection-secret-status-${name}`}>
                {status}
              </span>
            ) : null}
          </>
        );
        return (
          <Field
            key={name}
            label={label}
            error={errorOf(`secrets.${name}`)}
            hint={removed ? 'Removed when you save; Keep undoes it.' : isSet ? 'Leave empty to keep the saved value.' : undefined}
          >
            {(id) => (
              <div className="secret-input">
                <input
                  id={id}
                  type="password"
                  name={`secret-${name}`}
                  // Never the browser's saved login password.
                  autoComplete="new-password"
                  spellCheck={false}
                  value={draft.secrets[name] ?? ''}
                  disabled={removed}
                  required={connection === null && required.has(name)}
                  maxLength={2000}
                  placeholder={removed ? 'will be removed' : isSet ? 'set — type to replace' : 'not set'}
                  onChange={(e) => setSecret(name, e.target.value)}
                  data-testid={`connection-secret-${name}`}
                />
                {isSet ? (
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => toggleRemoved(name)}
                    disabled={required.has(name) && !removed}
                    title={required.has(name) ? `A ${kind.name} connection needs it: type a new one to replace it.` : undefined}
                    aria-pressed={removed}
                    data-testid={`connection-secret-remove-${name}`}
                  >
                    {removed ? 'Keep' : 'Remove'}
                  </button>
                ) : null}
              </div>
            )}
          </Field>
        );
      })}
    </div>
  );
}

interface ExternalSecretsProps {
  kind: ConnectionKind;
  draft: Draft;
  editing: boolean;
  onChange: (next: Partial<Draft>) => void;
  errorOf: (key: string) => string | undefined;
}

/** Secrets the workers read from their environment or from Vault: where, never what. */
function ExternalSecrets({ kind, draft, editing, onChange, errorOf }: ExternalSecretsProps) {
  const env = draft.source === 'env';
  return (
    <>
      <Field
        label={env ? 'Variable prefix' : 'Vault path'}
        error={errorOf('secret_path')}
        hint={env ? 'Empty: the connection’s name.' : 'The KV v2 path the workers read, e.g. switchyard/billing-api.'}
      >
        {(id) => (
          <input
            id={id}
            value={draft.secretPath}
            maxLength={200}
            readOnly={editing}
            required={!env}
            autoComplete="off"
            spellCheck={false}
            placeholder={env ? draft.name || 'billing-api' : 'switchyard/billing-api'}
            onChange={(e) => onChange({ secretPath: e.target.value })}
            data-testid="connection-path"
          />
        )}
      </Field>
      <p className="hint">{env ? 'The workers read these variables when a step runs:' : 'The workers read these keys at that path when a step runs:'}</p>
      <ul className="secret-sources" data-testid="connection-secret-sources">
        {kind.secrets.map((name) => (
          <li key={name}>
            <code>{env ? envVariable(draft.name, draft.secretPath, name) : name}</code>
            {kind.required_secrets.includes(name) ? <span className="muted small"> (required)</span> : null}
          </li>
        ))}
      </ul>
    </>
  );
}
