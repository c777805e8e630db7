/** Tests for the edge fields the inspector offers: only what the source's type allows (as the validator). */

import { describe, expect, it } from 'vitest';
import { edgeFields } from './index';

const edge = { id: 'e1', source: 'a', target: 'b' };

describe('edgeFields', () => {
  it('offers nothing on an edge out of a start: it is always taken', () => {
    expect(edgeFields('start', edge)).toEqual({ routing: false, when: false, default: false, onFailure: false, onTimeout: false });
  });

  it('offers a condition and the default out of a choice or a handoff', () => {
    for (const type of ['choice', 'handoff']) {
      expect(edgeFields(type, edge)).toMatchObject({ routing: true, when: true, default: true, onFailure: false });
    }
  });

  it('offers on failure out of the types that can fail, on timeout out of a receive', () => {
    for (const type of ['task', 'call', 'map']) expect(edgeFields(type, edge)).toMatchObject({ when: false, onFailure: true });
    expect(edgeFields('receive', edge)).toMatchObject({ onTimeout: true, onFailure: false, when: false });
    expect(edgeFields('parallel', edge).onFailure).toBe(false);
  });

  it('shows a field the edge has anyway, so it can be cleared', () => {
    expect(edgeFields('start', { ...edge, when: 'true', on: 'failure' })).toMatchObject({ when: true, onFailure: true, routing: false });
    expect(edgeFields('task', { ...edge, default: true }).default).toBe(true);
  });
});
