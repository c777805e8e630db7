/** Tests for server validation: test cases asked for explicitly, a spent budget survived. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from './client';
import { CASES_NOT_CHECKED, validateOnServer } from './versions';

function respondInTurn(...answers: [number, unknown][]): ReturnType<typeof vi.fn> {
  const fetchMock = vi.fn();
  for (const [status, body] of answers) {
    fetchMock.mockImplementationOnce(async () => new Response(JSON.stringify(body), { status }));
  }
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

function sentBody(fetchMock: ReturnType<typeof vi.fn>, call: number): unknown {
  const [, init] = fetchMock.mock.calls[call] as unknown as [string, RequestInit];
  return JSON.parse(init.body as string);
}

const BUDGET = { code: 'budget_exceeded', message: 'stopped: this request needs more than 3 s of work' };

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('validateOnServer', () => {
  it('asks for the test cases by default, and not when told', async () => {
    const fetchMock = respondInTurn([200, { errors: [], warnings: [] }], [200, { errors: [], warnings: [] }]);
    await validateOnServer('orders', { nodes: [] });
    expect(sentBody(fetchMock, 0)).toEqual({ graph: { nodes: [] }, cases: true });
    await validateOnServer('orders', { nodes: [] }, undefined, { cases: false });
    expect(sentBody(fetchMock, 1)).toEqual({ graph: { nodes: [] }, cases: false });
  });

  it('checks the graph alone when the cases exceed the budget, and warns', async () => {
    const graphError = { code: 'no_start', message: 'no start node' };
    const fetchMock = respondInTurn([422, { errors: [BUDGET] }], [200, { errors: [graphError], warnings: [] }]);
    const result = await validateOnServer('orders', { nodes: [] });
    expect(sentBody(fetchMock, 1)).toEqual({ graph: { nodes: [] }, cases: false });
    expect(result.errors).toEqual([graphError]);
    expect(result.warnings).toEqual([
      { code: CASES_NOT_CHECKED, message: expect.stringContaining('3 s of work') as unknown },
    ]);
  });

  it('passes other failures on', async () => {
    respondInTurn([429, { errors: [{ code: 'throttled', message: 'slow down' }] }]);
    const error = await validateOnServer('orders', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
  });

  it('passes a spent budget on when the graph alone was asked for', async () => {
    const fetchMock = respondInTurn([422, { errors: [BUDGET] }]);
    const error = await validateOnServer('orders', {}, undefined, { cases: false }).catch((e: unknown) => e);
    expect((error as ApiError).errors).toEqual([BUDGET]);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
