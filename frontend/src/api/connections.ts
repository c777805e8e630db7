/** Connections and their kinds: list, create, change, delete; one shared list per page for pickers. */

import { api, apiFetch } from './client';

/** The JSON Schema of one non-secret field of a kind (string, integer or boolean). */
export interface KindFieldSchema {
  type: 'string' | 'integer' | 'boolean';
  enum?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
}

/** A kind of connection (`GET /api/v1/connections/kinds/`). */
export interface ConnectionKind {
  name: string; // "http", "smtp", ...
  title: string; // "HTTP API"
  fields: Record<string, KindFieldSchema>;
  secrets: string[];
  required: string[];
  required_secrets: string[];
}

export type SecretSource = 'stored' | 'env' | 'vault';

/** A connection as the API shows it: never a secret's value. */
export interface Connection {
  id: number;
  name: string;
  kind: string;
  description: string;
  owner_group: string | null; // the team; null: any workflow may use it
  fields: Record<string, unknown>;
  secret_source: SecretSource;
  secret_path: string;
  /** {secret name: set or not}; null when the secret is kept in env or Vault. */
  secrets: Record<string, boolean | null>;
  created_at: string;
  updated_at: string;
}

export interface ConnectionCreate {
  name: string;
  kind: string;
  description: string;
  owner_group?: string;
  fields: Record<string, unknown>;
  secrets: Record<string, string>;
  secret_source: SecretSource;
  secret_path: string;
}

/** A change: fields are replaced; secrets are merged ("" removes one, absent keeps it). */
export interface ConnectionPatch {
  description?: string;
  fields?: Record<string, unknown>;
  secrets?: Record<string, string>;
}

const LIST = '/api/v1/connections/';
const detail = (id: number) => `${LIST}${id}/`;

export function listConnectionKinds(signal?: AbortSignal): Promise<{ results: ConnectionKind[] }> {
  return api.get<{ results: ConnectionKind[] }>(`${LIST}kinds/`, signal);
}

export function listConnections(signal?: AbortSignal): Promise<{ results: Connection[] }> {
  return api.get<{ results: Connection[] }>(LIST, signal);
}

export function createConnection(body: ConnectionCreate): Promise<Connection> {
  return api.post<Connection>(LIST, body);
}

export function updateConnection(id: number, patch: ConnectionPatch): Promise<Connection> {
  return apiFetch<Connection>(detail(id), { method: 'PATCH', body: patch });
}

export function deleteConnection(id: number): Promise<void> {
  return apiFetch<void>(detail(id), { method: 'DELETE' });
}

let shared: Promise<Connection[]> | null = null;

/**
 * Return the page's one request for the connections, started by the first caller
 * (every picker of the editor shares it); `fresh` asks the server again.
 */
export function loadConnections(fresh = false): Promise<Connection[]> {
  if (shared === null || fresh) {
    const request = listConnections().then((page) => page.results);
    shared = request;
    // A failed read is not kept: the next caller asks again.
    request.catch(() => {
      if (shared === request) shared = null;
    });
  }
  return shared;
}
