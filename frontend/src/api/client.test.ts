/** Tests for the API client: CSRF header, credentials, JSON, error lists. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiFetch, readCookie } from './client';

function respond(status: number, body: unknown): ReturnType<typeof vi.fn> {
  const fetchMock = vi.fn(async () => new Response(body === undefined ? null : JSON.stringify(body), { status }));
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('apiFetch', () => {
  it('sends the CSRF token on unsafe methods only', async () => {
    vi.stubGlobal('document', { cookie: 'sessionid=x; csrftoken=abc%3D' });
    const fetchMock = respond(201, { id: 1 });
    await expect(apiFetch('/api/v1/x/', { method: 'POST', body: { a: 1 } })).resolves.toEqual({ id: 1 });
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(init.credentials).toBe('same-origin');
    expect(init.body).toBe('{"a":1}');
    expect((init.headers as Record<string, string>)['X-CSRFToken']).toBe('abc=');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');

    await apiFetch('/api/v1/x/');
    const [, getInit] = fetchMock.mock.calls[1] as unknown as [string, RequestInit];
    expect((getInit.headers as Record<string, string>)['X-CSRFToken']).toBeUndefined();
  });

  it('throws ApiError carrying the server errors', async () => {
    respond(400, { errors: [{ code: 'invalid', message: 'Enter a valid slug.', field: 'slug' }] });
    const error = await apiFetch('/api/v1/workflows/', { method: 'POST', body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).errors).toEqual([{ code: 'invalid', message: 'Enter a valid slug.', field: 'slug' }]);
  });

  it('describes a failure without a JSON body', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('<h1>oops</h1>', { status: 502 })));
    const error = (await apiFetch('/api/v1/runs/').catch((e: unknown) => e)) as ApiError;
    expect(error.errors[0]?.code).toBe('http_502');
  });

  it('turns a network failure into an ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const error = (await apiFetch('/api/v1/runs/').catch((e: unknown) => e)) as ApiError;
    expect(error.status).toBe(0);
    expect(error.errors[0]?.code).toBe('network_error');
  });
});

describe('readCookie', () => {
  it('finds a cookie among others', () => {
    expect(readCookie('csrftoken', 'a=1; csrftoken=tok; b=2')).toBe('tok');
    expect(readCookie('csrftoken', 'a=1')).toBeNull();
  });
});
