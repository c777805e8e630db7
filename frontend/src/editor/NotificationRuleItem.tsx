/** One notification rule in the list: what it watches, where it sends, its limit; change, enable or disable, delete. */

import { useState } from 'react';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { deleteRule, updateRule, type NotificationRule } from './notificationApi';
import { describeEvents } from './notificationForm';

interface NotificationRuleItemProps {
  rule: NotificationRule;
  /** Why the user may not change rules, or null; a team default is always read-only here. */
  editDenied: string | null;
  onEdit?: () => void;
  onChanged?: (rule: NotificationRule) => void;
  onDeleted?: (id: number) => void;
}

type Action = 'toggle' | 'delete';

export function NotificationRuleItem({ rule, editDenied, onEdit, onChanged, onDeleted }: NotificationRuleItemProps) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const { id } = rule;
  const teamDefault = rule.workflow === null;

  const act = async (action: Action) => {
    setBusy(action);
    setErrors([]);
    try {
      if (action === 'delete') {
        await deleteRule(id);
        onDeleted?.(id);
      } else onChanged?.(await updateRule(id, { enabled: !rule.enabled }));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(null);
      setConfirm(false);
    }
  };

  const denied = busy !== null || editDenied !== null;
  return (
    <li className={`notification-rule${rule.enabled ? '' : ' is-disabled'}`} data-testid={`notification-rule-${id}`} data-enabled={rule.enabled}>
      <div className="notification-rule-line">
        <strong>{rule.name || describeEvents(rule.events)}</strong>
        <span className={`badge ${rule.enabled ? 'badge-notification-on' : 'badge-notification-off'}`}>{rule.enabled ? 'enabled' : 'disabled'}</span>
        {teamDefault ? <span className="muted small">team {rule.owner_group}</span> : null}
      </div>
      <div className="small">
        {rule.name ? <>On {describeEvents(rule.events)} · </> : null}
        to{' '}
        {rule.connection === null ? (
          <span className="field-error">a deleted connection</span>
        ) : (
          <code data-testid={`notification-rule-connection-${id}`}>
            {rule.connection} ({rule.connection_kind})
          </code>
        )}
        {rule.to.length > 0 ? <> · {rule.to.join(', ')}</> : null} · at most {rule.max_per_hour} an hour
      </div>
      {teamDefault ? null : (
        <div className="actions notification-rule-actions">
          <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? undefined} onClick={onEdit} data-testid={`notification-rule-edit-${id}`}>
            Edit
          </button>
          <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? undefined} onClick={() => void act('toggle')} data-testid={`notification-rule-toggle-${id}`}>
            {busy === 'toggle' ? 'Saving…' : rule.enabled ? 'Disable' : 'Enable'}
          </button>
          {confirm ? null : (
            <button type="button" className="btn btn-small btn-danger" disabled={denied} title={editDenied ?? undefined} onClick={() => setConfirm(true)} data-testid={`notification-rule-delete-${id}`}>
              Delete
            </button>
          )}
        </div>
      )}
      {confirm ? (
        <p className="confirm small" data-testid={`notification-rule-delete-confirm-${id}`}>
          Delete this rule? Its messages go with it; the events stay in the log.{' '}
          <button type="button" className="btn btn-small btn-danger-solid" disabled={busy !== null} onClick={() => void act('delete')} data-testid={`notification-rule-delete-yes-${id}`}>
            {busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
          </button>{' '}
          <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => setConfirm(false)}>
            Keep it
          </button>
        </p>
      ) : null}
      <ErrorList errors={errors} testId={`notification-rule-errors-${id}`} />
    </li>
  );
}
