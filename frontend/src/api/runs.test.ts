/** Tests for building run and metrics queries. */

import { describe, expect, it } from 'vitest';
import { metricsQueryString } from './metrics';
import { runQueryString } from './runs';

describe('runQueryString', () => {
  it('leaves out the filters that mean any', () => {
    expect(runQueryString({ workflow: '', version: '', state: '', queue: ' ', sort: 'newest', limit: 25, offset: 0 })).toBe('limit=25&offset=0');
  });

  it('sends every filter that is set', () => {
    expect(
      runQueryString({ workflow: 'orders', version: '2', state: 'pending,running', queue: 'payments', sort: 'started', limit: 25, offset: 50 }),
    ).toBe('workflow=orders&version=2&state=pending%2Crunning&queue=payments&sort=started&limit=25&offset=50');
  });
});

describe('metricsQueryString', () => {
  it('sends what is given', () => {
    expect(metricsQueryString({})).toBe('');
    expect(metricsQueryString({ workflow: 'orders', version: 1, compare: 2, since: '2025-01-01T00:00:00Z' })).toBe(
      'workflow=orders&version=1&compare=2&since=2025-01-01T00%3A00%3A00Z',
    );
  });
});
