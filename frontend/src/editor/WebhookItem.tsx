/** One webhook in the list: its URL to copy, state, last delivery; change, enable or disable, rotate, delete. */

import { useEffect, useRef, useState } from 'react';
import type { ApiErrorItem } from '../api/types';
import { deleteWebhook, disableWebhook, enableWebhook, rotateWebhook, type Webhook, type WebhookWithSecret } from '../api/webhooks';
import { CopyButton } from '../ui/CopyButton';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { formatDateTime, formatRelative } from '../ui/format';
import { webhookUrl } from './webhookForm';

interface WebhookItemProps {
  webhook: Webhook;
  now: number;
  /** Why the user may not change webhooks, or null. */
  editDenied: string | null;
  /** Shown first and marked: a link (a run's trigger badge) asked for it. */
  highlighted: boolean;
  onEdit: () => void;
  onChanged: (webhook: Webhook) => void;
  onRotated: (rotated: WebhookWithSecret) => void;
  onDeleted: (id: number) => void;
}

type Action = 'enable' | 'disable' | 'rotate' | 'delete';

export function WebhookItem({ webhook, now, editDenied, highlighted, onEdit, onChanged, onRotated, onDeleted }: WebhookItemProps) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [confirm, setConfirm] = useState<null | 'rotate' | 'delete'>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const row = useRef<HTMLLIElement>(null);
  const { id, state } = webhook;
  const url = webhookUrl(window.location.origin, webhook.url);

  useEffect(() => {
    if (highlighted) row.current?.scrollIntoView({ block: 'nearest' });
  }, [highlighted]);

  const act = async (action: Action) => {
    setBusy(action);
    setErrors([]);
    try {
      if (action === 'delete') {
        await deleteWebhook(id);
        onDeleted(id);
        return;
      }
      if (action === 'rotate') onRotated(await rotateWebhook(id));
      else onChanged(await (action === 'enable' ? enableWebhook(id) : disableWebhook(id)));
    } catch (error) {
      setErrors(errorItems(error));
    } finally {
      setBusy(null);
      setConfirm(null);
    }
  };

  const denied = busy !== null || editDenied !== null;
  return (
    <li ref={row} className={`webhook-item is-${state}${highlighted ? ' is-highlighted' : ''}`} data-testid={`webhook-${id}`} data-state={state} data-name={webhook.name}>
      <div className="webhook-line">
        <strong className="webhook-name">{webhook.name}</strong>
        <span className={`badge badge-webhook-${state}`} data-testid={`webhook-state-${id}`}>
          {state}
        </span>
        <span className="muted small">#{id}</span>
      </div>
      <div className="webhook-url-line">
        <code className="webhook-url" data-testid={`webhook-url-${id}`}>
          {url}
        </code>
        <CopyButton text={url} what="the URL" testId={`webhook-url-copy-${id}`} />
      </div>
      <div className="small" data-testid={`webhook-last-${id}`}>
        {webhook.last_delivery_at === null ? (
          <span className="muted">No delivery yet.</span>
        ) : (
          <>
            Last delivery: <span title={formatDateTime(webhook.last_delivery_at)}>{formatRelative(webhook.last_delivery_at, now)}</span>
          </>
        )}
        {state === 'disabled' ? <span className="muted"> · Disabled: deliveries are refused (401).</span> : null}
        {webhook.rotated_at ? <span className="muted" title={formatDateTime(webhook.rotated_at)}> · Secret rotated {formatRelative(webhook.rotated_at, now)}</span> : null}
      </div>
      <div className="small muted webhook-config">
        {webhook.message ? (
          <span data-testid={`webhook-message-${id}`}>
            Sends message <code>{webhook.message}</code> to waiting runs ·{' '}
          </span>
        ) : null}
        {webhook.message ? 'Key and payload' : 'Input'}: {webhook.input_mapping ? <code data-testid={`webhook-mapping-${id}`}>{webhook.input_mapping}</code> : 'the JSON body'}
        {webhook.idempotency_field && !webhook.message ? (
          <>
            {' '}
            · One run per <code>{webhook.idempotency_field}</code>
          </>
        ) : null}
      </div>
      <div className="actions webhook-actions">
        <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? undefined} onClick={onEdit} data-testid={`webhook-edit-${id}`}>
          Edit
        </button>
        {state === 'active' ? (
          <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? 'Refuse deliveries until enabled again'} onClick={() => void act('disable')} data-testid={`webhook-disable-${id}`}>
            {busy === 'disable' ? 'Disabling…' : 'Disable'}
          </button>
        ) : (
          <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? 'Accept deliveries again'} onClick={() => void act('enable')} data-testid={`webhook-enable-${id}`}>
            {busy === 'enable' ? 'Enabling…' : 'Enable'}
          </button>
        )}
        {confirm === null ? (
          <>
            <button type="button" className="btn btn-small" disabled={denied} title={editDenied ?? 'Give it a new secret; the old one stops working at once'} onClick={() => setConfirm('rotate')} data-testid={`webhook-rotate-${id}`}>
              Rotate secret…
            </button>
            <button type="button" className="btn btn-small btn-danger" disabled={denied} title={editDenied ?? undefined} onClick={() => setConfirm('delete')} data-testid={`webhook-delete-${id}`}>
              Delete
            </button>
          </>
        ) : null}
      </div>
      {confirm !== null ? (
        <p className="confirm small" data-testid={`webhook-${confirm}-confirm-${id}`}>
          {confirm === 'rotate'
            ? `Rotate the secret of “${webhook.name}”? The old secret stops working at once: deliveries signed with it are refused until the sender has the new one.`
            : `Delete “${webhook.name}”? Its URL stops working; runs it started stay.`}{' '}
          <button type="button" className="btn btn-small btn-danger-solid" disabled={busy !== null} onClick={() => void act(confirm)} data-testid={`webhook-${confirm}-yes-${id}`}>
            {confirm === 'rotate' ? (busy === 'rotate' ? 'Rotating…' : 'Yes, rotate') : busy === 'delete' ? 'Deleting…' : 'Yes, delete'}
          </button>{' '}
          <button type="button" className="btn btn-small" disabled={busy !== null} onClick={() => setConfirm(null)}>
            {confirm === 'rotate' ? 'Keep the secret' : 'Keep it'}
          </button>
        </p>
      ) : null}
      <ErrorList errors={errors} testId={`webhook-errors-${id}`} />
    </li>
  );
}
