/** Tests for reading the signed-in user once per page. */

import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadMe } from './me';

const ME = {
  username: 'vera',
  is_staff: false,
  roles: ['viewer'],
  teams: [],
  can: { view: true, edit: false, operate: false, work_handoffs: false, review_handoffs: false, see_all: false },
};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('loadMe', () => {
  it('asks again after a failure, then shares one request', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(new Response('{"errors":[{"code":"x","message":"down"}]}', { status: 503 }))
      .mockImplementation(async () => new Response(JSON.stringify(ME), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);

    await expect(loadMe()).rejects.toThrow('down');
    const [first, second] = await Promise.all([loadMe(), loadMe()]);
    expect(first).toEqual(ME);
    expect(second).toBe(first);
    await loadMe();
    expect(fetchMock).toHaveBeenCalledTimes(2);
    expect(fetchMock.mock.calls[1]?.[0]).toBe('/api/v1/me/');
  });
});
