/** The webhook form as text fields, checked and turned into what the API takes; the signing example (no React). */

import type { ApiErrorItem } from '../api/types';
import type { Webhook, WebhookInput } from '../api/webhooks';

// The server's limits (runs/webhooks.py, runs/webhook_apis.py).
export const MAX_NAME_LENGTH = 200;
export const MAX_MAPPING_LENGTH = 2000;
export const SIGNATURE_HEADER = 'X-Switchyard-Signature';
const MESSAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/; // engine/nodes/receive.py

export interface WebhookForm {
  name: string;
  inputMapping: string;
  idempotencyField: string;
  /** A message name: deliveries go to waiting runs as this message; empty: each starts a run. */
  message: string;
}

export type WebhookField = keyof WebhookForm;
export type WebhookErrors = Partial<Record<WebhookField, string>>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: WebhookErrors };

export function emptyForm(): WebhookForm {
  return { name: '', inputMapping: '', idempotencyField: '', message: '' };
}

export function formOf(webhook: Webhook): WebhookForm {
  return { name: webhook.name, inputMapping: webhook.input_mapping, idempotencyField: webhook.idempotency_field, message: webhook.message ?? '' };
}

const DOTTED_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Check the whole form and return the webhook to send (the server compiles the mapping). */
export function webhookOf(form: WebhookForm): Parsed<WebhookInput> {
  const errors: WebhookErrors = {};
  const name = form.name.trim();
  if (name === '') errors.name = 'Give the webhook a name.';
  else if (name.length > MAX_NAME_LENGTH) errors.name = `At most ${MAX_NAME_LENGTH} characters.`;
  const mapping = form.inputMapping.trim();
  if (mapping.length > MAX_MAPPING_LENGTH) errors.inputMapping = `At most ${MAX_MAPPING_LENGTH} characters.`;
  const field = form.idempotencyField.trim();
  if (field !== '' && !DOTTED_PATH.test(field)) {
    errors.idempotencyField = 'A dotted path of names into the body, such as delivery.id.';
  }
  const message = form.message.trim();
  if (message !== '' && !MESSAGE_NAME.test(message)) {
    errors.message = 'A message name of 1 to 100 letters, digits, “_”, “.”, “:” or “-”, such as payment.confirmed.';
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, input_mapping: mapping, idempotency_field: field, message } };
}

/** Return only the fields that differ from the saved webhook. */
export function changedFields(saved: Webhook, next: WebhookInput): Partial<WebhookInput> {
  const patch: Partial<WebhookInput> = {};
  for (const key of ['name', 'input_mapping', 'idempotency_field', 'message'] as const) {
    if ((saved[key] ?? '') !== next[key]) patch[key] = next[key];
  }
  return patch;
}

// {server error code or field: the form field it is about}
const FIELD_OF: Record<string, WebhookField> = {
  bad_mapping: 'inputMapping',
  bad_idempotency_field: 'idempotencyField',
  bad_message: 'message',
  name: 'name',
  message: 'message',
  input_mapping: 'inputMapping',
  idempotency_field: 'idempotencyField',
};
const PREFIX = /^(name|input_mapping|idempotency_field|message): /;

/** Put the server's errors under the fields they are about; the others stay a list. */
export function placeErrors(items: readonly ApiErrorItem[]): { fields: WebhookErrors; rest: ApiErrorItem[] } {
  const fields: WebhookErrors = {};
  const rest: ApiErrorItem[] = [];
  for (const item of items) {
    const field = FIELD_OF[item.code] ?? (item.field ? FIELD_OF[item.field] : undefined);
    if (field === undefined || fields[field] !== undefined) rest.push(item);
    else fields[field] = item.message.replace(PREFIX, '');
  }
  return { fields, rest };
}

/** Return the address senders post to: the page's origin and the webhook's path. */
export function webhookUrl(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, '')}${path.startsWith('/') ? path : `/${path}`}`;
}

/** Return the body fields the mapping reads (`input.body.order_id` → order_id), in order. */
export function bodyFields(mapping: string): string[] {
  const found: string[] = [];
  for (const match of mapping.matchAll(/\binput\.body\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
    if (!found.includes(match[1]!)) found.push(match[1]!);
  }
  return found;
}

/**
 * Return an example JSON body a sender might post: the fields the mapping and the
 * idempotency field read; for a message webhook without a mapping, its key and payload.
 */
export function exampleBody(webhook: Pick<WebhookInput, 'input_mapping' | 'idempotency_field' | 'message'>): string {
  const body: Record<string, unknown> = {};
  if (webhook.message && !webhook.input_mapping) Object.assign(body, { key: '42', payload: {} });
  for (const field of bodyFields(webhook.input_mapping)) body[field] = 'example';
  const path = webhook.idempotency_field.split('.').filter(Boolean);
  if (path.length > 0) {
    let at = body;
    path.forEach((part, i) => {
      if (i === path.length - 1) at[part] = 'delivery-1';
      else {
        const next = typeof at[part] === 'object' && at[part] !== null ? (at[part] as Record<string, unknown>) : {};
        at[part] = next;
        at = next;
      }
    });
  }
  return JSON.stringify(Object.keys(body).length > 0 ? body : { hello: 'world' });
}

/** Quote a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Return a ready-to-paste shell snippet that signs a body with the secret and posts it:
 * HMAC-SHA256 of "<unix seconds>.<body>" in hex, sent as `t=<seconds>,v1=<hex>`.
 */
export function signingExample(url: string, secret: string, body: string): string {
  return [
    `URL=${shellQuote(url)}`,
    `SECRET=${shellQuote(secret)}`,
    `BODY=${shellQuote(body)}`,
    'T=$(date +%s)',
    `SIG=$(printf '%s.%s' "$T" "$BODY" \\`,
    `  | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')`,
    'curl -sS -X POST "$URL" \\',
    "  -H 'Content-Type: application/json' \\",
    `  -H "${SIGNATURE_HEADER}: t=$T,v1=$SIG" \\`,
    '  --data "$BODY"',
  ].join('\n');
}
