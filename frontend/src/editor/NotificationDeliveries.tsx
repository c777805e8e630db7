/** The workflow's latest notification messages: state, attempts, error, a link to the run; a failed one can be sent again. */

import { useState } from 'react';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative } from '../ui/format';
import { resendDelivery, type Delivery } from './notificationApi';
import { eventLabel, formatUntil } from './notificationForm';

interface NotificationDeliveriesProps {
  deliveries: Delivery[] | null;
  total: number;
  now: number;
  editDenied: string | null;
  onChanged: (delivery: Delivery) => void;
  onRefresh: () => void;
}

export function NotificationDeliveries({ deliveries, total, now, editDenied, onChanged, onRefresh }: NotificationDeliveriesProps) {
  const [busy, setBusy] = useState<number | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);

  const resend = async (id: number) => {
    setBusy(id);
    setErrors([]);
    try {
      onChanged(await resendDelivery(id));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="notification-deliveries" aria-label="Recent messages" data-testid="notification-deliveries">
      <div className="notification-deliveries-head">
        <h3 className="notification-form-title">Recent messages{deliveries !== null && total > deliveries.length ? ` (latest ${deliveries.length} of ${total})` : ''}</h3>
        <button type="button" className="btn btn-small" onClick={onRefresh} data-testid="notification-deliveries-refresh">
          Refresh
        </button>
      </div>
      <ErrorList errors={errors} testId="notification-deliveries-errors" />
      {deliveries === null ? (
        <p className="muted small">Loading…</p>
      ) : deliveries.length === 0 ? (
        <p className="muted small" data-testid="notification-deliveries-empty">
          No message yet.
        </p>
      ) : (
        <ul className="notification-delivery-list">
          {deliveries.map((d) => (
            <li key={d.id} className={`notification-delivery is-${d.state}`} data-testid={`notification-delivery-${d.id}`} data-state={d.state}>
              <div className="notification-rule-line">
                <span className={`badge badge-delivery-${d.state}`} data-testid={`notification-delivery-state-${d.id}`}>
                  {d.state}
                </span>
                <span className="notification-subject" title={d.text}>
                  {d.subject}
                </span>
                <span className="muted small" title={formatDateTime(d.created_at)}>
                  {formatRelative(d.created_at, now)}
                </span>
              </div>
              <div className="small muted">
                {eventLabel(d.event)} · rule #{d.rule} · {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}
                {d.state === 'pending' && d.attempts > 0 ? <> · next attempt {formatUntil(d.next_attempt_at, now)}</> : null}
                {d.link ? (
                  <>
                    {' '}
                    ·{' '}
                    <a href={d.run !== null ? `/runs/${d.run}/` : d.link} data-testid={`notification-delivery-link-${d.id}`}>
                      {d.run !== null ? `run ${d.run}` : 'open'}
                    </a>
                  </>
                ) : null}
              </div>
              {d.last_error ? (
                <div className="small notification-error" data-testid={`notification-delivery-error-${d.id}`}>
                  {d.last_error}
                </div>
              ) : null}
              {d.state === 'failed' ? (
                <div className="actions">
                  <button type="button" className="btn btn-small" disabled={busy !== null || editDenied !== null} title={editDenied ?? 'Try again with a fresh set of attempts'} onClick={() => void resend(d.id)} data-testid={`notification-delivery-resend-${d.id}`}>
                    {busy === d.id ? 'Sending…' : 'Send again'}
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
