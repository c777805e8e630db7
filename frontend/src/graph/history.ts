/** Keep an undo/redo history of immutable values, such as successive graphs. */

export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  private value: T;
  private readonly limit: number;

  /** Start with `initial`; keep at most `limit` steps to undo (the oldest go first). */
  constructor(initial: T, limit = 200) {
    this.value = initial;
    this.limit = Math.max(0, Math.floor(limit));
  }

  get current(): T {
    return this.value;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Make `next` current and forget what could be redone; pushing the current value does nothing. */
  push(next: T): void {
    if (Object.is(next, this.value)) return;
    this.past.push(this.value);
    if (this.past.length > this.limit) this.past.splice(0, this.past.length - this.limit);
    this.future = [];
    this.value = next;
  }

  /** Step back; return the new current value, or null if there is nothing to undo. */
  undo(): T | null {
    if (this.past.length === 0) return null;
    this.future.push(this.value);
    this.value = this.past.pop()!;
    return this.value;
  }

  /** Step forward again; return the new current value, or null if there is nothing to redo. */
  redo(): T | null {
    if (this.future.length === 0) return null;
    this.past.push(this.value);
    this.value = this.future.pop()!;
    return this.value;
  }

  /** Make `value` current and forget all history (after loading or saving a version). */
  reset(value: T): void {
    this.past = [];
    this.future = [];
    this.value = value;
  }
}
