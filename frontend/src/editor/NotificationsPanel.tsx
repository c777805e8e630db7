/** The workflow's notification rules under the top bar: list, add, change, delete; the team's defaults; the latest messages. */

import { useCallback, useEffect, useState } from 'react';
import { useNow } from '../hooks/useNow';
import { listConnections, listDeliveries, listRules, type ConnectionSummary, type Delivery, type NotificationRule } from './notificationApi';
import { describeEvents, notifyConnections, uncoveredEvents } from './notificationForm';
import { NotificationDeliveries } from './NotificationDeliveries';
import { NotificationRuleForm } from './NotificationRuleForm';
import { NotificationRuleItem } from './NotificationRuleItem';
import { ResourceEmpty, ResourcePanel, type PanelShell } from './ResourcePanel';
import { useResourceList } from './useResourceList';
import './notifications.css';

const RECENT = 20;

const SHELL: PanelShell = {
  name: 'notifications',
  title: 'Notifications',
  create: { label: 'New rule', hint: 'Tell a channel, a webhook or people when something goes wrong', testId: 'notification-new' },
  // The rules, the team's defaults and the messages make a long panel.
  stickyHead: true,
};

interface NotificationsPanelProps {
  slug: string;
  /** Why the user may not create, change or delete rules, or null. */
  editDenied: string | null;
  onClose: () => void;
}

export function NotificationsPanel({ slug, editDenied, onClose }: NotificationsPanelProps) {
  const [defaults, setDefaults] = useState<NotificationRule[]>([]);
  const [connections, setConnections] = useState<ConnectionSummary[] | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [total, setTotal] = useState(0);
  const now = useNow(30_000);

  // The rules come with the team's defaults; the connections are those a rule can send through.
  const load = useCallback(
    async (signal: AbortSignal) => {
      const [loaded, found] = await Promise.all([listRules(slug, signal), listConnections(signal)]);
      setDefaults(loaded.team_defaults);
      setConnections(notifyConnections(found.results));
      return loaded.results;
    },
    [slug],
  );
  const list = useResourceList<NotificationRule>(load);
  const { mode, fail } = list;

  const loadDeliveries = useCallback(
    async (signal?: AbortSignal) => {
      try {
        const page = await listDeliveries(slug, RECENT, signal);
        setDeliveries(page.results);
        setTotal(page.count);
      } catch (error) {
        fail(error);
      }
    },
    [slug, fail],
  );

  useEffect(() => {
    const controller = new AbortController();
    void loadDeliveries(controller.signal);
    return () => controller.abort();
  }, [loadDeliveries]);

  const uncovered = uncoveredEvents(list.items ?? []);
  const applying = defaults.filter((d) => d.events.some((e) => uncovered.includes(e)));
  const form = mode.kind === 'form' ? <NotificationRuleForm key={mode.item?.id ?? 'new'} slug={slug} rule={mode.item} connections={connections} onSaved={list.saved} onCancel={list.showList} /> : null;

  return (
    <ResourcePanel shell={SHELL} editDenied={editDenied} list={list} form={form} onClose={onClose}>
      {(rules) => (
        <>
          {rules.length === 0 ? (
            <ResourceEmpty name="notifications" addLabel="Add a rule" editDenied={editDenied} onAdd={list.startNew}>
              <strong>No rules yet.</strong> A rule sends one message per run (or handoff, canary, queue) to Slack, a webhook or email when a run fails, looks stuck, a handoff is overdue, a canary is aborted, a version is rolled back or a queue’s retry budget is spent.
            </ResourceEmpty>
          ) : (
            <ul className="notification-rule-list" data-testid="notification-rule-list">
              {rules.map((rule) => (
                <NotificationRuleItem key={rule.id} rule={rule} editDenied={editDenied} onEdit={() => list.edit(rule)} onChanged={list.replace} onDeleted={list.remove} />
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
    </ResourcePanel>
  );
}
