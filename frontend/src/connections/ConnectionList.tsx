/** The connections as a table (cards on a phone): kind, team, where each secret stands; edit and delete. */

import { Fragment, useState } from 'react';
import { deleteConnection, type Connection, type ConnectionKind } from '../api/connections';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { secretStatus } from './connectionForm';

interface ConnectionListProps {
  connections: Connection[];
  kinds: ConnectionKind[];
  /** Why the role may not change connections, or null. */
  editDenied: string | null;
  editingId: number | null;
  onEdit: (connection: Connection) => void;
  onDeleted: (connection: Connection) => void;
}

const COLUMNS = 5;

export function ConnectionList({ connections, kinds, editDenied, editingId, onEdit, onDeleted }: ConnectionListProps) {
  const [confirming, setConfirming] = useState<number | null>(null);
  return (
    <div className="card table-card">
      <table className="table connections-table">
        <thead>
          <tr>
            <th>Connection</th>
            <th>Kind</th>
            <th>Team</th>
            <th>Secrets</th>
            <th className="actions-col" aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {connections.map((connection) => (
            <Fragment key={connection.id}>
              <ConnectionRow
                connection={connection}
                kind={kinds.find((k) => k.name === connection.kind) ?? null}
                editDenied={editDenied}
                editing={editingId === connection.id}
                confirming={confirming === connection.id}
                onEdit={() => onEdit(connection)}
                onDelete={() => setConfirming(connection.id)}
              />
              {confirming === connection.id && editDenied === null ? (
                <tr className="panel-row">
                  <td colSpan={COLUMNS}>
                    <ConfirmDelete
                      connection={connection}
                      onCancel={() => setConfirming(null)}
                      onDeleted={() => {
                        setConfirming(null);
                        onDeleted(connection);
                      }}
                    />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface ConnectionRowProps {
  connection: Connection;
  kind: ConnectionKind | null;
  editDenied: string | null;
  editing: boolean;
  confirming: boolean;
  onEdit: () => void;
  onDelete: () => void;
}

function ConnectionRow({ connection, kind, editDenied, editing, confirming, onEdit, onDelete }: ConnectionRowProps) {
  const { name } = connection;
  const secrets = kind?.secrets ?? Object.keys(connection.secrets);
  const address = kind?.required.map((field) => connection.fields[field]).find((v) => typeof v === 'string' && v);
  return (
    <tr data-testid={`connection-${name}`} className={editing ? 'is-editing' : undefined}>
      <td data-label="Connection">
        <span className="row-title">{name}</span>
        {connection.description ? <div className="muted small clamp">{connection.description}</div> : null}
      </td>
      <td data-label="Kind">
        <span>{kind?.title ?? connection.kind}</span>
        {typeof address === 'string' ? (
          <div className="muted small clamp" title={address}>
            {address}
          </div>
        ) : null}
      </td>
      <td data-label="Team" data-testid={`connection-${name}-team`}>
        {connection.owner_group ?? <span className="muted">no team (any workflow)</span>}
      </td>
      <td data-label="Secrets">
        {secrets.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="secret-statuses">
            {secrets.map((secret) => {
              const status = secretStatus(connection, secret);
              return (
                <li key={secret} data-testid={`connection-${name}-secret-${secret}`} data-status={status}>
                  <code>{secret}</code> <span className={`secret-status is-${status.replace(' ', '-')}`}>{status}</span>
                </li>
              );
            })}
          </ul>
        )}
      </td>
      <td className="actions-col">
        {editDenied === null ? (
          <span className="actions row-actions">
            <button type="button" className="btn btn-small" onClick={onEdit} disabled={editing} data-testid={`edit-connection-${name}`}>
              Edit
            </button>
            <button
              type="button"
              className="btn btn-small btn-danger"
              onClick={onDelete}
              disabled={confirming}
              data-testid={`delete-connection-${name}`}
            >
              Delete
            </button>
          </span>
        ) : null}
      </td>
    </tr>
  );
}

interface ConfirmDeleteProps {
  connection: Connection;
  onCancel: () => void;
  onDeleted: () => void;
}

function ConfirmDelete({ connection, onCancel, onDeleted }: ConfirmDeleteProps) {
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [deleting, setDeleting] = useState(false);
  const remove = async () => {
    setErrors([]);
    setDeleting(true);
    try {
      await deleteConnection(connection.id);
      onDeleted();
    } catch (error) {
      setErrors(errorItems(error));
      setDeleting(false);
    }
  };
  return (
    <div className="confirm-delete" role="alertdialog" aria-label={`Delete ${connection.name}`} data-testid={`confirm-delete-${connection.name}`}>
      <p>
        Delete <strong>{connection.name}</strong> and its secrets? Workflows that name it no longer pass validation, and
        their steps that use it fail until it is created again.
      </p>
      <ErrorList errors={errors} testId="delete-connection-errors" />
      <div className="actions">
        <button type="button" className="btn btn-danger-solid" onClick={() => void remove()} disabled={deleting} data-testid="confirm-delete">
          {deleting ? 'Deleting…' : 'Delete connection'}
        </button>
        <button type="button" className="btn" onClick={onCancel} autoFocus>
          Cancel
        </button>
      </div>
    </div>
  );
}
