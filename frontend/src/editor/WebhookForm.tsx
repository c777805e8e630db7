/** Create or change a webhook: name, input mapping, idempotency field, message; the server's reasons go under their field. */

import { createWebhook, updateWebhook, type Webhook, type WebhookWithSecret } from '../api/webhooks';
import { FormField } from '../ui/FormField';
import { ResourceForm } from './ResourceForm';
import { useResourceForm } from './useResourceForm';
import { changedFields, emptyForm, formOf, placeErrors, webhookOf } from './webhookForm';

interface WebhookFormProps {
  slug: string;
  /** The webhook to change, or null for a new one. */
  webhook: Webhook | null;
  /** A new webhook comes with its secret; a changed one without. */
  onCreated: (created: WebhookWithSecret) => void;
  onSaved: (webhook: Webhook) => void;
  onCancel: () => void;
}

export function WebhookForm({ slug, webhook, onCreated, onSaved, onCancel }: WebhookFormProps) {
  const editing = useResourceForm({
    saved: webhook,
    initial: () => (webhook === null ? emptyForm() : formOf(webhook)),
    check: webhookOf,
    changedFields,
    create: (value) => createWebhook(slug, value),
    update: updateWebhook,
    onCreated,
    onSaved,
    placeErrors,
  });
  const { form, errors, change } = editing;

  return (
    <ResourceForm name="webhook" boxed editing={editing} label={webhook === null ? 'New webhook' : `Change ${webhook.name}`} title={webhook === null ? 'New webhook' : `Change “${webhook.name}”`} createLabel="Create webhook" onCancel={onCancel}>
      <FormField
        label="Name"
        error={errors.name}
        hint="For people: which system sends to it, such as “Shop orders”."
        render={(id) => <input id={id} type="text" value={form.name} onChange={(e) => change('name', e.target.value)} placeholder="Shop orders" data-testid="webhook-name" />}
      />
      <FormField
        label="Input mapping (optional)"
        error={errors.inputMapping}
        hint={
          <>
            Empty: the JSON body is the run’s input. Otherwise a CEL expression over <code>input.body</code>, <code>input.headers</code> and <code>input.query</code> that gives the input, such as{' '}
            <code>{'{"order": input.body.order_id}'}</code>.
          </>
        }
        render={(id) => (
          <textarea
            id={id}
            className="mono"
            rows={3}
            value={form.inputMapping}
            onChange={(e) => change('inputMapping', e.target.value)}
            placeholder='{"order": input.body.order_id}'
            spellCheck={false}
            data-testid="webhook-mapping"
          />
        )}
      />
      <FormField
        label="Idempotency field (optional)"
        error={errors.idempotencyField}
        hint={
          <>
            A dotted path into the body naming a delivery, such as <code>delivery.id</code>: a retried delivery then starts no second run. Without it, the <code>Idempotency-Key</code> header or the signature is used.
          </>
        }
        render={(id) => (
          <input id={id} type="text" className="mono" value={form.idempotencyField} onChange={(e) => change('idempotencyField', e.target.value)} placeholder="delivery.id" spellCheck={false} autoComplete="off" data-testid="webhook-idempotency" />
        )}
      />
      <FormField
        label="Deliver as a message (optional)"
        error={errors.message}
        hint={
          <>
            A message name, such as <code>payment.confirmed</code>: each delivery then starts no run but is sent as this message to the runs waiting in a receive node. The mapping (or the body) must give{' '}
            <code>{'{"key": …, "payload": …}'}</code>; messages are not deduplicated.
          </>
        }
        render={(id) => (
          <input id={id} type="text" className="mono" value={form.message} onChange={(e) => change('message', e.target.value)} placeholder="payment.confirmed" spellCheck={false} autoComplete="off" data-testid="webhook-message" />
        )}
      />
    </ResourceForm>
  );
}
