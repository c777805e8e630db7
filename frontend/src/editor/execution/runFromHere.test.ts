import { describe, expect, it } from 'vitest';
import type { RunDetail } from '../../api/types';
import { runFromHereBlocked, type TestRunTarget } from './RunFromHere';

const target: TestRunTarget = { slug: 'orders', draft: 3, dirty: false, denied: null };
const run = { id: 9, state: 'failed' } as RunDetail;

describe('runFromHereBlocked', () => {
  it('lets a saved draft run from a finished run', () => {
    expect(runFromHereBlocked(target, run)).toBeNull();
  });

  it('says why it cannot, most fundamental reason first', () => {
    expect(runFromHereBlocked({ ...target, denied: 'Viewers cannot edit.' }, run)).toBe('Viewers cannot edit.');
    expect(runFromHereBlocked({ ...target, draft: null }, run)).toMatch(/tests a draft/);
    expect(runFromHereBlocked({ ...target, dirty: true }, run)).toMatch(/Save the draft first/);
    expect(runFromHereBlocked(target, { ...run, state: 'running' })).toMatch(/still running/);
  });
});
