/** The workflow's webhooks under the top bar: list, create (the secret shown once), change, enable, disable, rotate, delete. */

import { useCallback, useEffect, useRef, useState } from 'react';
import { isAbortError } from '../api/client';
import type { ApiErrorItem } from '../api/types';
import { listWebhooks, type Webhook, type WebhookWithSecret } from '../api/webhooks';
import { useNow } from '../hooks/useNow';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { webhooksHash } from '../ui/trigger';
import { WebhookForm } from './WebhookForm';
import { WebhookItem } from './WebhookItem';
import { WebhookSecret, type RevealedSecret } from './WebhookSecret';

interface WebhooksPanelProps {
  slug: string;
  /** Why the user may not create, change or delete webhooks, or null. */
  editDenied: string | null;
  onClose: () => void;
}

/** What the panel shows: the list, or the form for a new (null) or saved webhook. */
type Mode = { kind: 'list' } | { kind: 'form'; webhook: Webhook | null };

export function WebhooksPanel({ slug, editDenied, onClose }: WebhooksPanelProps) {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [errors, setErrors] = useState<ApiErrorItem[]>([]);
  const [mode, setMode] = useState<Mode>({ kind: 'list' });
  // Kept in memory only: closing the box or the panel forgets the secret for good.
  const [revealed, setRevealed] = useState<RevealedSecret | null>(null);
  // A link to one webhook (the run page's trigger badge) marks it.
  const [highlighted] = useState<number | null>(() => webhooksHash(window.location.hash).id);
  const now = useNow(30_000);
  const box = useRef<HTMLElement>(null);

  // The secret shows at the top: bring it into sight (the form before it may have scrolled the panel).
  useEffect(() => {
    if (revealed !== null) box.current?.scrollTo({ top: 0 });
  }, [revealed]);

  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setWebhooks((await listWebhooks(slug, signal)).results);
        setErrors([]);
      } catch (error) {
        if (!isAbortError(error)) setErrors(errorItems(error));
      }
    },
    [slug],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  const replace = (saved: Webhook) =>
    setWebhooks((prev) => {
      const list = prev ?? [];
      return list.some((w) => w.id === saved.id) ? list.map((w) => (w.id === saved.id ? saved : w)) : [...list, saved];
    });

  const reveal = ({ webhook, secret }: WebhookWithSecret, reason: RevealedSecret['reason']) => {
    replace(webhook);
    setRevealed({ webhook, secret, reason });
  };

  const startNew = () => {
    setRevealed(null);
    setMode({ kind: 'form', webhook: null });
  };

  return (
    <section ref={box} className="popover webhooks-panel" role="dialog" aria-label="Webhooks" data-testid="webhooks-panel">
      <header className="popover-head">
        <h2 className="panel-title">Webhooks</h2>
        <div className="actions">
          {mode.kind === 'list' ? (
            <button type="button" className="btn btn-primary btn-small" onClick={startNew} disabled={editDenied !== null} title={editDenied ?? 'A URL other systems post to, to start this workflow'} data-testid="webhook-new">
              New webhook
            </button>
          ) : null}
          <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </div>
      </header>
      {editDenied !== null ? (
        <p className="hint" data-testid="webhooks-readonly">
          {editDenied}
        </p>
      ) : null}
      <ErrorList errors={errors} testId="webhooks-errors" />
      {revealed !== null && mode.kind === 'list' ? <WebhookSecret revealed={revealed} onDone={() => setRevealed(null)} /> : null}
      {mode.kind === 'form' ? (
        <WebhookForm
          key={mode.webhook?.id ?? 'new'}
          slug={slug}
          webhook={mode.webhook}
          onCreated={(created) => {
            reveal(created, 'created');
            setMode({ kind: 'list' });
          }}
          onSaved={(saved) => {
            replace(saved);
            setMode({ kind: 'list' });
          }}
          onCancel={() => setMode({ kind: 'list' })}
        />
      ) : webhooks === null ? (
        errors.length === 0 ? <p className="muted">Loading…</p> : null
      ) : webhooks.length === 0 ? (
        <div className="webhooks-empty" data-testid="webhooks-empty">
          <p>
            <strong>No webhooks yet:</strong> no other system can start this workflow. A webhook gives it a URL that a shop, a payment provider or your own code posts signed JSON to; each delivery starts a run.
          </p>
          {editDenied === null ? (
            <button type="button" className="btn btn-small" onClick={startNew}>
              Add a webhook
            </button>
          ) : null}
        </div>
      ) : (
        <ul className="webhook-list" data-testid="webhook-list">
          {webhooks.map((webhook) => (
            <WebhookItem
              key={webhook.id}
              webhook={webhook}
              now={now}
              editDenied={editDenied}
              highlighted={highlighted === webhook.id}
              onEdit={() => {
                setRevealed(null);
                setMode({ kind: 'form', webhook });
              }}
              onChanged={replace}
              onRotated={(rotated) => reveal(rotated, 'rotated')}
              onDeleted={(id) => {
                setWebhooks((prev) => (prev ?? []).filter((w) => w.id !== id));
                setRevealed((prev) => (prev?.webhook.id === id ? null : prev));
              }}
            />
          ))}
        </ul>
      )}
      <p className="hint webhooks-note">Each run a webhook starts uses the workflow’s live version (a canary takes its share).</p>
    </section>
  );
}
