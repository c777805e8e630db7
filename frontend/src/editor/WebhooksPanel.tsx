/** The workflow's webhooks under the top bar: list, create (the secret shown once), change, enable, disable, rotate, delete. */

import { useCallback, useEffect, useRef, useState } from 'react';
import { listWebhooks, type Webhook, type WebhookWithSecret } from '../api/webhooks';
import { useNow } from '../hooks/useNow';
import { webhooksHash } from '../ui/trigger';
import { ResourceEmpty, ResourcePanel, type PanelShell } from './ResourcePanel';
import { useResourceList } from './useResourceList';
import { WebhookForm } from './WebhookForm';
import { WebhookItem } from './WebhookItem';
import { WebhookSecret, type RevealedSecret } from './WebhookSecret';

const SHELL: PanelShell = {
  name: 'webhooks',
  title: 'Webhooks',
  create: { label: 'New webhook', hint: 'A URL other systems post to, to start this workflow', testId: 'webhook-new' },
  note: 'Each run a webhook starts uses the workflow’s live version (a canary takes its share).',
  // The secret box and the form are tall.
  stickyHead: true,
};

interface WebhooksPanelProps {
  slug: string;
  /** Why the user may not create, change or delete webhooks, or null. */
  editDenied: string | null;
  onClose: () => void;
}

export function WebhooksPanel({ slug, editDenied, onClose }: WebhooksPanelProps) {
  const load = useCallback(async (signal: AbortSignal) => (await listWebhooks(slug, signal)).results, [slug]);
  const list = useResourceList<Webhook>(load);
  const { mode } = list;
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

  const reveal = ({ webhook, secret }: WebhookWithSecret, reason: RevealedSecret['reason']) => {
    list.replace(webhook);
    setRevealed({ webhook, secret, reason });
  };

  const startNew = () => {
    setRevealed(null);
    list.startNew();
  };

  const form =
    mode.kind === 'form' ? (
      <WebhookForm
        key={mode.item?.id ?? 'new'}
        slug={slug}
        webhook={mode.item}
        onCreated={(created) => {
          reveal(created, 'created');
          list.showList();
        }}
        onSaved={list.saved}
        onCancel={list.showList}
      />
    ) : null;

  return (
    <ResourcePanel
      ref={box}
      shell={SHELL}
      editDenied={editDenied}
      list={list}
      form={form}
      banner={revealed !== null ? <WebhookSecret revealed={revealed} onDone={() => setRevealed(null)} /> : null}
      onNew={startNew}
      onClose={onClose}
    >
      {(webhooks) =>
        webhooks.length === 0 ? (
          <ResourceEmpty name="webhooks" addLabel="Add a webhook" editDenied={editDenied} onAdd={startNew}>
            <strong>No webhooks yet:</strong> no other system can start this workflow. A webhook gives it a URL that a shop, a payment provider or your own code posts signed JSON to; each delivery starts a run.
          </ResourceEmpty>
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
                  list.edit(webhook);
                }}
                onChanged={list.replace}
                onRotated={(rotated) => reveal(rotated, 'rotated')}
                onDeleted={(id) => {
                  list.remove(id);
                  setRevealed((prev) => (prev?.webhook.id === id ? null : prev));
                }}
              />
            ))}
          </ul>
        )
      }
    </ResourcePanel>
  );
}
