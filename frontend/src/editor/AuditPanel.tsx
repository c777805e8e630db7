/** The workflow's audit trail under the top bar: who changed which setting, when, from what to what; newest first. */

import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { isAbortError } from '../api/client';
import type { ApiErrorItem } from '../api/types';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative } from '../ui/format';
import { actorName, changeRows, describeEntry, listAudit, type AuditEntry } from './audit';
import type { Panel } from './editorState';
import './audit.css';

interface AuditPanelProps {
  slug: string;
  onClose: () => void;
}

export function AuditPanel({ slug, onClose }: AuditPanelProps) {
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [count, setCount] = useState(0);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [loading, setLoading] = useState(false);
  const now = useNow(30_000);

  const load = useCallback(
    async (offset: number, signal?: AbortSignal) => {
      setLoading(true);
      try {
        const page = await listAudit(slug, offset, signal);
        setEntries((shown) => (offset === 0 || shown === null ? page.results : [...shown, ...page.results]));
        setCount(page.count);
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      } finally {
        setLoading(false);
      }
    },
    [slug],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(0, controller.signal);
    return () => controller.abort();
  }, [load]);

  return (
    <section className="popover audit-panel" role="dialog" aria-label="Audit" data-testid="audit-panel">
      <header className="popover-head">
        <h2 className="panel-title">Audit</h2>
        <button type="button" className="btn btn-small" onClick={() => void load(0)} disabled={loading} data-testid="audit-refresh">
          Refresh
        </button>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </header>
      <ErrorList errors={errors} testId="audit-errors" />
      {entries === null ? (
        <p className="hint">{errors.length ? '' : 'Loading…'}</p>
      ) : entries.length === 0 ? (
        <p className="hint" data-testid="audit-empty">
          No changes yet: settings, schedules, webhooks, notification rules and this team&apos;s connections are recorded here when they change.
        </p>
      ) : (
        <ol className="audit-list" data-testid="audit-list">
          {entries.map((entry) => (
            <AuditItem key={entry.id} entry={entry} now={now} />
          ))}
        </ol>
      )}
      {entries !== null && entries.length < count ? (
        <button type="button" className="btn btn-small" onClick={() => void load(entries.length)} disabled={loading} data-testid="audit-more">
          Older changes ({count - entries.length})
        </button>
      ) : null}
    </section>
  );
}

function AuditItem({ entry, now }: { entry: AuditEntry; now: number }) {
  const rows = changeRows(entry.changes);
  return (
    <li className="audit-item" data-testid="audit-item" data-kind={entry.kind}>
      <div className="audit-line">
        <strong className="audit-what">{describeEntry(entry)}</strong>
        <span className="audit-who">by {actorName(entry.actor)}</span>
        <time className="audit-when" dateTime={entry.created_at} title={formatDateTime(entry.created_at)}>
          {formatRelative(entry.created_at, now)}
        </time>
      </div>
      {rows.length ? (
        <table className="audit-diff">
          <tbody>
            {rows.map((row) => (
              <tr key={row.field} data-testid="audit-change" data-field={row.field}>
                <th scope="row">{row.field}</th>
                {row.secret ? (
                  <td colSpan={3} className="audit-secret">
                    changed (secret values are never shown)
                  </td>
                ) : (
                  <>
                    <td className="audit-from">
                      <del>{row.from}</del>
                    </td>
                    <td aria-hidden="true">→</td>
                    <td className="audit-to">
                      <ins>{row.to}</ins>
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </li>
  );
}

/** The top bar's Audit button (EditorTopbar draws it beside the other panels' buttons). */
export function AuditToggle({ panel, setPanel }: { panel: Panel; setPanel: Dispatch<SetStateAction<Panel>> }) {
  return (
    <button
      type="button"
      className={`btn btn-small ${panel === 'audit' ? 'is-on' : ''}`}
      onClick={() => setPanel((p) => (p === 'audit' ? 'none' : 'audit'))}
      aria-expanded={panel === 'audit'}
      title="Who changed this workflow's settings, triggers and connections, and how"
      data-testid="audit-toggle"
    >
      Audit
    </button>
  );
}
