/** Tests for putting saved resources in a panel's list and taking deleted ones out. */

import { describe, expect, it } from 'vitest';
import { removeById, upsertById } from './resourceList';

const a = { id: 1, name: 'a' };
const b = { id: 2, name: 'b' };

describe('upsertById', () => {
  it('replaces the item of the same id where it stands', () => {
    const changed = { id: 1, name: 'a2' };
    expect(upsertById([a, b], changed)).toEqual([changed, b]);
  });

  it('adds a new item last', () => {
    expect(upsertById([a], b)).toEqual([a, b]);
  });

  it('treats a list not loaded yet as empty', () => {
    expect(upsertById(null, a)).toEqual([a]);
  });

  it('leaves the given list unchanged', () => {
    const list = [a];
    upsertById(list, { id: 1, name: 'a2' });
    upsertById(list, b);
    expect(list).toEqual([a]);
  });
});

describe('removeById', () => {
  it('drops the item of that id only', () => {
    expect(removeById([a, b], 1)).toEqual([b]);
  });

  it('keeps the list when no item has that id', () => {
    expect(removeById([a, b], 3)).toEqual([a, b]);
  });

  it('treats a list not loaded yet as empty', () => {
    expect(removeById(null, 1)).toEqual([]);
  });
});
