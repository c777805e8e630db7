/** Tests for merging local and server issues and pinning them on elements. */

import { describe, expect, it } from 'vitest';
import { countLevels, issueTestId, marksOf, mergeIssues } from './issues';
import { applyNodeSelect, pruneSelection, selectionOf } from './selection';

describe('mergeIssues', () => {
  it('puts the server first and drops local duplicates', () => {
    const merged = mergeIssues(
      {
        errors: [
          { code: 'choice_default', message: 'local words', node_id: 'pick' },
          { code: 'unreachable', message: 'x', node_id: 'lost' },
        ],
        warnings: [{ code: 'no_failure_handling', message: 'w', node_id: 't' }],
      },
      { errors: [{ code: 'choice_default', message: 'server words', node_id: 'pick' }], warnings: [] },
    );
    expect(merged.map((i) => [i.level, i.code, i.source])).toEqual([
      ['error', 'choice_default', 'server'],
      ['error', 'unreachable', 'local'],
      ['warning', 'no_failure_handling', 'local'],
    ]);
    expect(merged[0]?.message).toBe('server words');
    expect(countLevels(merged)).toEqual({ errors: 2, warnings: 1 });
  });

  it('counts issues per node and edge and names their rows', () => {
    const merged = mergeIssues(
      {
        errors: [
          { code: 'a', message: 'one', node_id: 'n' },
          { code: 'b', message: 'two', edge_id: 'e' },
          { code: 'no_start', message: 'none' },
        ],
        warnings: [{ code: 'c', message: 'three', node_id: 'n' }],
      },
      null,
    );
    const marks = marksOf(merged);
    expect(marks.nodes.get('n')).toEqual({ errors: 1, warnings: 1, title: 'one\nthree' });
    expect(marks.edges.get('e')?.errors).toBe(1);
    expect(merged.map(issueTestId)).toEqual(['issue-a-n', 'issue-b-e', 'issue-no_start', 'issue-c-n']);
  });
});

describe('selection', () => {
  it('applies select changes and keeps the object when nothing changes', () => {
    const empty = selectionOf([]);
    const one = applyNodeSelect(empty, [{ type: 'select', id: 'a', selected: true }]);
    expect([...one.nodes]).toEqual(['a']);
    expect(applyNodeSelect(one, [{ type: 'select', id: 'a', selected: true }])).toBe(one);
    expect(applyNodeSelect(one, [{ type: 'position', id: 'a' }])).toBe(one);
  });

  it('drops ids that left the graph', () => {
    const selection = selectionOf(['a', 'b'], ['e']);
    const pruned = pruneSelection(selection, new Set(['a']), new Set());
    expect([...pruned.nodes]).toEqual(['a']);
    expect(pruned.edges.size).toBe(0);
    expect(pruneSelection(pruned, new Set(['a']), new Set())).toBe(pruned);
  });
});
