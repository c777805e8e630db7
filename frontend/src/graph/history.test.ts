/** Tests for the undo/redo history. */

import { describe, expect, it } from 'vitest';
import { History } from './history';

describe('History', () => {
  it('undoes and redoes in order', () => {
    const history = new History('a');
    expect(history.canUndo).toBe(false);
    history.push('b');
    history.push('c');
    expect(history.current).toBe('c');
    expect(history.undo()).toBe('b');
    expect(history.undo()).toBe('a');
    expect(history.undo()).toBeNull();
    expect(history.current).toBe('a');
    expect(history.canRedo).toBe(true);
    expect(history.redo()).toBe('b');
    expect(history.redo()).toBe('c');
    expect(history.redo()).toBeNull();
  });

  it('forgets what could be redone after a new push', () => {
    const history = new History(1);
    history.push(2);
    history.undo();
    history.push(3);
    expect(history.canRedo).toBe(false);
    expect(history.undo()).toBe(1);
  });

  it('ignores pushing the current value', () => {
    const value = { n: 1 };
    const history = new History(value);
    history.push(value);
    expect(history.canUndo).toBe(false);
  });

  it('keeps at most `limit` steps, dropping the oldest', () => {
    const history = new History(0, 3);
    for (let i = 1; i <= 10; i += 1) history.push(i);
    const undone: (number | null)[] = [];
    while (history.canUndo) undone.push(history.undo());
    expect(undone).toEqual([9, 8, 7]);
    expect(history.current).toBe(7);
  });

  it('resets to a value with no history', () => {
    const history = new History('a');
    history.push('b');
    history.undo();
    history.reset('z');
    expect(history.current).toBe('z');
    expect(history.canUndo).toBe(false);
    expect(history.canRedo).toBe(false);
  });
});
