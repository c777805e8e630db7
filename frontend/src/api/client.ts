/** Call the JSON API with the session cookie and Django's CSRF header. */

import type { ApiErrorItem } from './types';

/** An HTTP failure; `errors` is the server's `{"errors": [...]}` list (never empty). */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: ApiErrorItem[];

  constructor(status: number, errors: ApiErrorItem[]) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Return a cookie's value, or null when it is not set. */
export function readCookie(name: string, cookies?: string): string | null {
  const source = cookies ?? (typeof document === 'undefined' ? '' : document.cookie);
  for (const part of source.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return null;
}

/** Tell whether an error comes from an aborted request (a superseded search, say). */
export function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/** Send a request and return the decoded JSON body; throw ApiError on failure. */
export async function apiFetch<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = (options.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE_METHODS.has(method)) {
    const token = readCookie('csrftoken');
    if (token) headers['X-CSRFToken'] = token;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (error) {
    if (isAbortError(error)) throw error;
    throw new ApiError(0, [
      { code: 'network_error', message: 'Cannot reach the server; check your connection.' },
    ]);
  }
  const body = await readBody(response);
  if (!response.ok) throw new ApiError(response.status, errorsOf(body, response));
  return body as T;
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // An HTML error page, say: described by errorsOf.
  }
}

function errorsOf(body: unknown, response: Response): ApiErrorItem[] {
  if (typeof body === 'object' && body !== null) {
    const { errors, detail } = body as { errors?: unknown; detail?: unknown };
    if (Array.isArray(errors) && errors.length > 0) {
      return errors.map((e) => toErrorItem(e));
    }
    if (typeof detail === 'string') return [{ code: 'error', message: detail }];
  }
  const text = response.statusText ? `${response.status} ${response.statusText}` : `${response.status}`;
  return [{ code: `http_${response.status}`, message: `The server answered ${text}.` }];
}

function toErrorItem(value: unknown): ApiErrorItem {
  if (typeof value === 'object' && value !== null) {
    const item = value as Partial<ApiErrorItem>;
    return {
      ...item,
      code: typeof item.code === 'string' ? item.code : 'error',
      message: typeof item.message === 'string' ? item.message : String(item.code ?? 'error'),
    };
  }
  return { code: 'error', message: String(value) };
}

export const api = {
  get: <T>(path: string, signal?: AbortSignal) => apiFetch<T>(path, { signal }),
  post: <T>(path: string, body: unknown, signal?: AbortSignal) =>
    apiFetch<T>(path, { method: 'POST', body, signal }),
};
