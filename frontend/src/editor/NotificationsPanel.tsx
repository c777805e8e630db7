/** The workflow's notification rules under the top bar: list, add, change, delete; the team's defaults; the latest messages. */

import { useCallback, useEffect, useState } from 'react';
import { isAbortError } from '../api/client';
import type { ApiErrorItem } from '../api/types';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { listConnections, listDeliveries, listRules, type ConnectionSummary, type Delivery, type NotificationRule } from './notificationApi';
import { describeEvents, notifyConnections, uncoveredEvents } from './notificationForm';
import { NotificationDeliveries } from './NotificationDeliveries';
import { NotificationRuleForm } from './NotificationRuleForm';
import { NotificationRuleItem } from './NotificationRuleItem';
import './notifications.css';

const RECENT = 20;

interface NotificationsPanelProps {
  slug: string;
  /** Why the user may not create, change or delete rules, or null. */
  editDenied: string | null;
  onClose: () => void;
}

/** What the panel shows: the list, or the form for a new (null) or saved rule. */
type Mode = { kind: 'list' } | { kind: 'form'; rule: NotificationRule | null };

export function NotificationsPanel({ slug, editDenied, onClose }: NotificationsPanelProps) {
  const [rules, setRules] = useState<NotificationRule[] | null>(null);
  const [defaults, setDefaults] = useState<NotificationRule[]>([]);
  const [connections, setConnections] = useState<ConnectionSummary[] | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [total, setTotal] = useState(0);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  const now = useNow(30_000);

  const loadDeliveries = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const page = await listDeliveries(slug, RECENT, signal);
        setDeliveries(page.results);
        setTotal(page.count);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    },
    [slug],
  );

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    void (async () => {
      try {
        const [loaded, found] = await Promise.all([listRules(slug, signal), listConnections(signal)]);
        setRules(loaded.results);
        setDefaults(loaded.team_defaults);
        setConnections(notifyConnections(found.results));
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    })();
    void loadDeliveries(signal);
    return () => controller.abort();
  }, [slug, loadDeliveries]);

  const replace = (saved: NotificationRule) =>
    setRules((prev) => {
      const list = prev ?? [];
      return list.some((r) => r.id === saved.id) ? list.map((r) => (r.id === saved.id ? saved : r)) : [...list, saved];
    });

  const startNew = () => setMode({ kind: 'form', rule: null });
  const uncovered = uncoveredEvents(rules ?? []);
  const applying = defaults.filter((d) => d.events.some((e) => uncovered.includes(e)));

  return (
    <section className="popover notifications-panel" role="dialog" aria-label="Notifications" data-testid="notifications-panel">
      <header className="popover-head">
        <h2 className="panel-title">Notifications</h2>
        <div className="actions">
          {mode.kind === 'list' ? (
            <button type="button" className="btn btn-primary btn-small" onClick={startNew} disabled={editDenied !== null} title={editDenied ?? 'Tell a channel, a webhook or people when something goes wrong'} data-testid="notification-new">
              New rule
            </button>
          ) : null}
          <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
      </header>
      {editDenied !== null ? (
        <p className="hint" data-testid="notifications-readonly">
          {editDenied}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="notifications-errors" />
      {mode.kind === 'form' ? (
        <NotificationRuleForm
          key={mode.rule?.id ?? 'new'}
          slug={slug}
          rule={mode.rule}
          connections={connections}
          onSaved={(saved) => {
            replace(saved);
            setMode({ kind: 'list' });
          }}
          onCancel={() => setMode({ kind: 'list' })}
        />
      ) : rules === null ? (
        errors.length === 0 ? <p className="muted">Loading…</p> : null
      ) : (
        <>
          {rules.length === 0 ? (
            <div className="notifications-empty" data-testid="notifications-empty">
              <p>
                <strong>No rules yet.</strong> A rule sends one message per run (or handoff, canary, queue) to Slack, a webhook or email when a run fails, looks stuck, a handoff is overdue, a canary is aborted, a version is rolled back or a queue’s retry budget is spent.
              </p>
              {editDenied === null ? (
                <button type="button" className="btn btn-small" onClick={startNew}>
                  Add a rule
                </button>
              ) : null}
            </div>
          ) : (
            <ul className="notification-rule-list" data-testid="notification-rule-list">
              {rules.map((rule) => (
                <NotificationRuleItem
                  key={rule.id}
                  rule={rule}
                  editDenied={editDenied}
                  onEdit={() => setMode({ kind: 'form', rule })}
                  onChanged={replace}
                  onDeleted={(id) => setRules((prev) => (prev ?? []).filter((r) => r.id !== id))}
                />
              ))}
            </ul>
          )}
          {defaults.length > 0 ? (
            <div className="notification-defaults" data-testid="notification-defaults">
              <h3 className="notification-form-title">Team defaults</h3>
              <p className="hint">
                They apply to the events no rule here watches
                {uncovered.length > 0 ? <> (now: {describeEvents(uncovered)})</> : ' (none now: every event has a rule here)'}. A disabled rule here still keeps them off its events.
              </p>
              <ul className="notification-rule-list">
                {defaults.map((rule) => (
                  <NotificationRuleItem key={rule.id} rule={rule} editDenied="A team default is set for the whole team." />
                ))}
              </ul>
              {applying.length === 0 ? <p className="muted small">None of them applies to this workflow now.</p> : null}
            </div>
          ) : null}
          <NotificationDeliveries
            deliveries={deliveries}
            total={total}
            now={now}
            editDenied={editDenied}
            onChanged={(changed) => setDeliveries((prev) => (prev ?? []).map((d) => (d.id === changed.id ? changed : d)))}
            onRefresh={() => void loadDeliveries()}
          />
        </>
      )}
    </section>
  );
}
