/** Tests for the board's filters in the address bar. */

import { describe, expect, it } from 'vitest';
import { offsetOf, pageOf, readLiveLocation, writeLiveLocation } from './boardUrl';

describe('readLiveLocation', () => {
  it('reads every filter and the page', () => {
    expect(readLiveLocation('?workflow=orders&version=3&state=failed&queue=pay&sort=oldest&page=2')).toEqual({
      workflow: 'orders',
      version: '3',
      state: 'failed',
      queue: 'pay',
      sort: 'oldest',
      page: 2,
    });
  });

  it('falls back to "any" for values it does not know', () => {
    expect(readLiveLocation('?version=3&state=nope&sort=sideways&page=-4')).toEqual({
      workflow: '',
      version: '', // a version needs its workflow
      state: '',
      queue: '',
      sort: 'newest',
      page: 1,
    });
    expect(readLiveLocation('?workflow=a&version=x1&page=1.5').version).toBe('');
    expect(readLiveLocation('?page=99999999').page).toBe(1);
    expect(readLiveLocation('?tab=scorecard&workflow=orders&state=failed').workflow).toBe('');
  });
});

describe('writeLiveLocation', () => {
  it('leaves out defaults and keeps other parameters', () => {
    const all = { workflow: 'orders', version: '', state: 'running,pending', queue: '', sort: 'newest', page: 1 };
    expect(writeLiveLocation('?tab=live&days=30&a=1', all)).toBe('?tab=live&workflow=orders&state=running%2Cpending');
    expect(writeLiveLocation('?page=3', { ...all, workflow: '', state: '' })).toBe('');
  });

  it('round-trips', () => {
    const location = { workflow: 'o', version: '2', state: 'failed', queue: 'q 1', sort: 'state', page: 4 };
    expect(readLiveLocation(writeLiveLocation('', location))).toEqual(location);
  });
});

describe('pages', () => {
  it('turn into offsets and back', () => {
    expect(pageOf(0, 25)).toBe(1);
    expect(pageOf(50, 25)).toBe(3);
    expect(offsetOf(3, 25)).toBe(50);
  });
});
