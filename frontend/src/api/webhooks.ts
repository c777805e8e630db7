/** Webhook endpoints: list, create, change, delete, enable, disable, rotate the secret. */

import { api, apiFetch } from './client';

export type WebhookState = 'active' | 'disabled';

/** What a webhook is made of, as it is sent (`POST .../webhooks/`, `PATCH`). */
export interface WebhookInput {
  name: string;
  /** A CEL expression over `input = {body, headers, query}`; empty: the JSON body is the input. */
  input_mapping: string;
  /** A dotted path into the body naming a delivery (retries start one run); may be empty. */
  idempotency_field: string;
  /** Set: each delivery is sent as this message to waiting runs instead of starting a run. */
  message: string;
}

export interface Webhook extends WebhookInput {
  id: number;
  workflow: string; // slug
  url: string; // "/hooks/<token>/", relative to the site
  trigger: string; // "webhook:<id>"
  state: WebhookState;
  created_at: string;
  rotated_at: string | null;
  last_delivery_at: string | null;
}

/** The answer of a create or a rotate: the only time the secret is shown. */
export interface WebhookWithSecret {
  webhook: Webhook;
  secret: string; // "whsec_..."
}

const workflowWebhooks = (slug: string) => `/api/v1/workflows/${encodeURIComponent(slug)}/webhooks/`;
const webhookPath = (id: number) => `/api/v1/webhooks/${id}/`;

export function listWebhooks(slug: string, signal?: AbortSignal): Promise<{ results: Webhook[] }> {
  return api.get<{ results: Webhook[] }>(workflowWebhooks(slug), signal);
}

export function createWebhook(slug: string, body: WebhookInput): Promise<WebhookWithSecret> {
  return api.post<WebhookWithSecret>(workflowWebhooks(slug), body);
}

export function updateWebhook(id: number, patch: Partial<WebhookInput>): Promise<Webhook> {
  return apiFetch<Webhook>(webhookPath(id), { method: 'PATCH', body: patch });
}

export function deleteWebhook(id: number): Promise<void> {
  return apiFetch<void>(webhookPath(id), { method: 'DELETE' });
}

/** Give the webhook a new secret; the old one stops working at once. */
export function rotateWebhook(id: number): Promise<WebhookWithSecret> {
  return api.post<WebhookWithSecret>(`${webhookPath(id)}rotate/`, {});
}

export function enableWebhook(id: number): Promise<Webhook> {
  return api.post<Webhook>(`${webhookPath(id)}enable/`, {});
}

export function disableWebhook(id: number): Promise<Webhook> {
  return api.post<Webhook>(`${webhookPath(id)}disable/`, {});
}
