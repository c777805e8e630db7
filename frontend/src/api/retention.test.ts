import { describe, expect, it } from 'vitest';
import { keepLabel, type RetentionRow } from './retention';

const row: RetentionRow = {
  workflow: 'orders',
  workflow_name: 'Orders',
  retention_days: 30,
  archive: false,
  due: 0,
  due_capped: false,
  pruned_total: 0,
  archived_total: 0,
  last_pruned_at: null,
};

describe('keepLabel', () => {
  it('says how long runs are kept and whether they are archived', () => {
    expect(keepLabel(row)).toBe('30 days');
    expect(keepLabel({ ...row, retention_days: 1, archive: true })).toBe('1 day, archived');
    expect(keepLabel({ ...row, retention_days: null })).toBe('kept forever');
  });
});
