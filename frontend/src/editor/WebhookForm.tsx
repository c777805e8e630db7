/** Create or change a webhook: name, input mapping, idempotency field, message; the server's reasons go under their field. */

import { useState, type FormEvent } from 'react';
import type { ApiErrorItem } from '../api/types';
import { createWebhook, updateWebhook, type Webhook, type WebhookWithSecret } from '../api/webhooks';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { FormField } from '../ui/FormField';
import { changedFields, emptyForm, formOf, placeErrors, webhookOf, type WebhookErrors, type WebhookField, type WebhookForm as Form } from './webhookForm';

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
  const [form, setForm] = useState<Form>(() => (webhook === null ? emptyForm() : formOf(webhook)));
  const [errors, setErrors] = useState<WebhookErrors>({});
  const [apiErrors, setApiErrors] = useState<ApiErrorItem[]>([]);
  const [saving, setSaving] = useState(false);

  const change = (field: WebhookField, value: string) => {
    setForm((prev) => ({ ...prev, [field]: value }));
    setErrors((prev) => {
      const next = { ...prev };
      delete next[field];
      return next;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = webhookOf(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setSaving(true);
    setApiErrors([]);
    try {
      if (webhook === null) onCreated(await createWebhook(slug, parsed.value));
      else {
        const patch = changedFields(webhook, parsed.value);
        onSaved(Object.keys(patch).length === 0 ? webhook : await updateWebhook(webhook.id, patch));
      }
    } catch (error) {
      const placed = placeErrors(errorItems(error));
      setErrors(placed.fields);
      setApiErrors(placed.rest);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="webhook-form" onSubmit={(e) => void submit(e)} noValidate aria-label={webhook === null ? 'New webhook' : `Change ${webhook.name}`} data-testid="webhook-form">
      <h3 className="webhook-form-title">{webhook === null ? 'New webhook' : `Change “${webhook.name}”`}</h3>
      <fieldset className="webhook-fields" disabled={saving}>
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
      </fieldset>
      <ErrorList errors={apiErrors} testId="webhook-form-errors" />
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={saving} data-testid="webhook-save">
          {saving ? 'Saving…' : webhook === null ? 'Create webhook' : 'Save changes'}
        </button>
        <button type="button" className="btn btn-small" onClick={onCancel} disabled={saving} data-testid="webhook-cancel">
          Cancel
        </button>
      </div>
    </form>
  );
}
