/** Send a message to the runs waiting for it (POST /api/v1/messages/), prefilled with what the step waits for. */

import { useState, type FormEvent } from 'react';
import { sendMessage, type MessageSent } from '../api/messages';
import type { ApiErrorItem } from '../api/types';
import { ErrorList, errorItems } from '../ui/ErrorList';
import { FormField } from '../ui/FormField';
import { describeSent, messageOf, type MessageErrors, type MessageForm as Form, type ReceiveWait } from './messages';

interface MessageFormProps {
  wait: ReceiveWait;
  /** Distinguishes the test ids of several waiting steps. */
  stepId: number;
}

export function MessageForm({ wait, stepId }: MessageFormProps) {
  const [form, setForm] = useState<Form>({ name: wait.message ?? '', key: wait.key ?? '', payload: '{}' });
  const [errors, setErrors] = useState<MessageErrors>({});
  const [apiErrors, setApiErrors] = useState<ApiErrorItem[]>([]);
  const [answer, setAnswer] = useState<MessageSent | null>(null);
  const [sending, setSending] = useState(false);

  const change = (field: keyof Form, value: string) => {
    setForm((prev) => ({ ...prev, [field]: value }));
    setErrors((prev) => ({ ...prev, [field]: undefined }));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = messageOf(form);
    if (!parsed.ok) {
      setErrors(parsed.errors);
      return;
    }
    setSending(true);
    setApiErrors([]);
    setAnswer(null);
    try {
      setAnswer(await sendMessage(parsed.value));
    } catch (error) {
      setApiErrors(errorItems(error));
    } finally {
      setSending(false);
    }
  };

  return (
    <form className="message-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Send a message" data-testid={`message-form-${stepId}`}>
      <h3 className="message-form-title">Send a message</h3>
      <p className="hint">It reaches every run waiting for this name and key, not only this one. Sent before a run waits, it is kept for a day.</p>
      <fieldset className="message-fields" disabled={sending}>
        <FormField
          label="Name"
          error={errors.name}
          render={(id) => <input id={id} type="text" className="mono" value={form.name} onChange={(e) => change('name', e.target.value)} placeholder="payment.confirmed" spellCheck={false} data-testid="message-name" />}
        />
        <FormField
          label="Key"
          error={errors.key}
          render={(id) => <input id={id} type="text" className="mono" value={form.key} onChange={(e) => change('key', e.target.value)} placeholder="42" spellCheck={false} data-testid="message-key" />}
        />
        <FormField
          label="Payload (JSON)"
          error={errors.payload}
          hint="The receive step’s output; empty sends {}."
          render={(id) => <textarea id={id} className="mono" rows={3} value={form.payload} onChange={(e) => change('payload', e.target.value)} spellCheck={false} data-testid="message-payload" />}
        />
      </fieldset>
      <ErrorList errors={apiErrors} testId="message-errors" />
      {answer !== null ? (
        <p className="message-answer small" role="status" data-testid="message-answer">
          {describeSent(answer)}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="btn btn-primary btn-small" disabled={sending} data-testid="message-send">
          {sending ? 'Sending…' : 'Send message'}
        </button>
      </div>
    </form>
  );
}
