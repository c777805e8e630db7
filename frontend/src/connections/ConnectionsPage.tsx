/** List the connections the user sees; create, change and delete them as the role allows. */

import { useEffect, useRef, useState } from 'react';
import { listConnectionKinds, listConnections, type Connection, type ConnectionKind } from '../api/connections';
import type { ApiErrorItem } from '../api/types';
import { useMe } from '../hooks/useMe';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { denial } from '../ui/permissions';
import { ConnectionForm } from './ConnectionForm';
import { ConnectionList } from './ConnectionList';

type Editing = { mode: 'new' } | { mode: 'edit'; connection: Connection } | null;

interface Loaded {
  kinds: ConnectionKind[];
  connections: Connection[];
}

export function ConnectionsPage() {
  const me = useMe();
  // Null when the role allows it, else the disabled button's tooltip.
  const editDenied = denial(me, 'edit', 'change connections');
  const [data, setData] = useState<Loaded | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [editing, setEditing] = useState<Editing>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const formSlot = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([listConnectionKinds(controller.signal), listConnections(controller.signal)]).then(
      ([kinds, connections]) => setData({ kinds: kinds.results, connections: connections.results }),
      (error: unknown) => {
        if (!controller.signal.aborted) setErrors(errorItems(error));
      },
    );
    return () => controller.abort();
  }, []);

  // The form opens above the list: bring it into view (the list may be long).
  useEffect(() => {
    if (editing !== null) formSlot.current?.scrollIntoView({ block: 'nearest' });
  }, [editing]);

  const open = (next: Editing) => {
    setEditing(next);
    setNotice(null);
  };

  const saved = (connection: Connection, created: boolean) => {
    setData((prev) => {
      if (prev === null) return prev;
      const others = prev.connections.filter((c) => c.id !== connection.id);
      const connections = [...others, connection].sort((a, b) => a.name.localeCompare(b.name));
      return { ...prev, connections };
    });
    setEditing(null);
    setNotice(
      created
        ? `Created “${connection.name}”. Pick it in a task’s inspector, in the “connection” param of an action that takes a ${connection.kind} connection.`
        : `Saved “${connection.name}”.`,
    );
  };

  const deleted = (connection: Connection) => {
    setData((prev) => (prev === null ? prev : { ...prev, connections: prev.connections.filter((c) => c.id !== connection.id) }));
    if (editing?.mode === 'edit' && editing.connection.id === connection.id) setEditing(null);
    setNotice(`Deleted “${connection.name}”.`);
  };

  const teams = me.status === 'ready' ? me.me.teams : [];
  // Said once the user is read (while loading, the button is only disabled).
  const readOnly = me.status === 'ready' ? editDenied : null;

  return (
    <div className="page-body connections-page" data-testid="connections-page" data-loaded={data !== null}>
      <header className="page-header">
        <div>
          <h1>Connections</h1>
          <p className="muted page-intro">
            Settings and secrets for reaching other systems, picked by name in a task’s params. Secrets are write-only:
            once saved, no page or API shows them again.
          </p>
        </div>
        <div className="toolbar">
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => open({ mode: 'new' })}
            disabled={data === null || editing?.mode === 'new' || editDenied !== null}
            title={editDenied ?? undefined}
            data-testid="new-connection"
          >
            New connection
          </button>
        </div>
      </header>

      {readOnly !== null ? (
        <p className="notice notice-warning" data-testid="connections-read-only">
          Read only: {readOnly}
        </p>
      ) : null}

      {notice !== null ? (
        <div className="notice" role="status" data-testid="connections-notice">
          {notice}
        </div>
      ) : null}

      <div ref={formSlot}>
        {editing !== null && data !== null && editDenied === null ? (
          <ConnectionForm
            key={editing.mode === 'edit' ? editing.connection.id : 'new'}
            kinds={data.kinds}
            connection={editing.mode === 'edit' ? editing.connection : null}
            teams={teams}
            onSaved={saved}
            onCancel={() => setEditing(null)}
          />
        ) : null}
      </div>

      <ErrorList errors={errors} testId="connections-load-errors" />

      {data === null ? (
        errors.length === 0 ? <p className="muted">Loading connections…</p> : null
      ) : data.connections.length === 0 ? (
        <EmptyState creating={editing?.mode === 'new'} createDenied={editDenied} onCreate={() => open({ mode: 'new' })} />
      ) : (
        <ConnectionList
          connections={data.connections}
          kinds={data.kinds}
          editDenied={editDenied}
          editingId={editing?.mode === 'edit' ? editing.connection.id : null}
          onEdit={(connection) => open({ mode: 'edit', connection })}
          onDeleted={deleted}
        />
      )}
    </div>
  );
}

interface EmptyStateProps {
  creating: boolean;
  /** Why the user may not create connections, or null. */
  createDenied: string | null;
  onCreate: () => void;
}

function EmptyState({ creating, createDenied, onCreate }: EmptyStateProps) {
  return (
    <div className="empty card" data-testid="connections-empty">
      <h2>No connections yet</h2>
      <p>
        A connection is a named way into another system — an HTTP API, a mail server, a Slack channel, a database: its
        address and settings, and its secrets (a token, a password) kept encrypted or in the workers’ environment or
        Vault. A task names the connection in its params instead of carrying the password in the graph, and the secret
        is handed to the action on the worker only.
      </p>
      {creating ? null : createDenied === null ? (
        <button type="button" className="btn btn-primary" onClick={onCreate} data-testid="empty-new-connection">
          New connection
        </button>
      ) : (
        <p className="muted" data-testid="create-denied">
          {createDenied}
        </p>
      )}
    </div>
  );
}
