/**
 * Patterns, bounds and field rules shared with engine/graph/schema.py, and the JSON guards and
 * quoting that the schema check, the graph-wide rules and the node types' checks share.
 *
 * A field rule returns the problems with one value as `[subpath, message]` pairs, so that
 * the validator can name the field where it was found (`nodes[3].retry.backoff: ...`,
 * `defaults.retry.backoff: ...`) as the server does.
 */

import type { Issue, IssueIds } from './types';

// Same patterns as NODE_ID_PATTERN, EDGE_ID_PATTERN and QUEUE_PATTERN in engine/graph/schema.py.
export const NODE_ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
export const EDGE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
export const QUEUE_PATTERN = /^[a-z0-9_.-]{1,64}$/;
// Bounds shared with engine/graph/schema.py: no timer, SLA or retry waits longer than this.
export const MAX_DURATION_S = 366 * 86400;
export const MAX_BACKOFF = 100;

export type Json = Record<string, unknown>;

/** Problems with one field's value: `[subpath under the field ('' for itself), message]`. */
export type FieldProblems = [subpath: string, message: string][];

/** Check one field's value (called only when the field is present). */
export type FieldRule = (value: unknown) => FieldProblems;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

export function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function has(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** Quote a name the way the server's messages do (Python's repr of a string). */
export function q(value: unknown): string {
  return `'${String(value)}'`;
}

/** Return the node type with its article: "a task", "an end". */
export function a(kind: string): string {
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

/** Return "x", "x or y", "x, y or z". */
export function either(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Return an issue with only the ids it has (the server leaves out the others). */
export function issue(code: string, message: string, ids: IssueIds = {}): Issue {
  const result: Issue = { code, message };
  if (ids.node_id !== undefined) result.node_id = ids.node_id;
  if (ids.edge_id !== undefined) result.edge_id = ids.edge_id;
  return result;
}

/** Return a rule that reports `message` for a value `ok` refuses. */
export function rule(ok: (value: unknown) => boolean, message: string): FieldRule {
  return (value) => (ok(value) ? [] : [['', message]]);
}

/** A field the schema allows but the browser does not check. */
export const anyValue: FieldRule = () => [];

/** A string of at most `max` characters. */
export function text(max: number): FieldRule {
  return rule((value) => typeof value === 'string' && value.length <= max, `must be a string of at most ${max} characters`);
}

export const queueRule = rule(
  (value) => typeof value === 'string' && QUEUE_PATTERN.test(value),
  'must be 1-64 lowercase letters, digits, "_", "." or "-"',
);

export const timeoutRule = rule(
  (value) => isNumber(value) && value > 0 && value <= 86400,
  'must be a number of seconds above 0, at most 86400',
);

const RETRY_FIELDS = new Set([
  'max_attempts',
  'initial_interval_s',
  'backoff',
  'max_interval_s',
  'jitter',
  'non_retryable',
]);

/** A retry policy, on a task or in the graph's defaults. */
export const retryRule: FieldRule = (retry) => {
  const problems: FieldProblems = [];
  if (!isObject(retry)) return [['', 'must be an object']];
  for (const key of Object.keys(retry)) {
    if (!RETRY_FIELDS.has(key)) problems.push(['', `field ${q(key)} is not allowed`]);
  }
  const { max_attempts, initial_interval_s, backoff, max_interval_s, jitter, non_retryable } = retry;
  if (max_attempts !== undefined && !(isInteger(max_attempts) && max_attempts >= 1 && max_attempts <= 100)) {
    problems.push(['.max_attempts', 'must be an integer from 1 to 100']);
  }
  if (initial_interval_s !== undefined && !(isNumber(initial_interval_s) && initial_interval_s >= 0 && initial_interval_s <= MAX_DURATION_S)) {
    problems.push(['.initial_interval_s', `must be a number of seconds from 0 to ${MAX_DURATION_S}`]);
  }
  if (backoff !== undefined && !(isNumber(backoff) && backoff >= 1 && backoff <= MAX_BACKOFF)) {
    problems.push(['.backoff', `must be a number from 1 to ${MAX_BACKOFF}`]);
  }
  if (max_interval_s !== undefined && !(isNumber(max_interval_s) && max_interval_s >= 0 && max_interval_s <= MAX_DURATION_S)) {
    problems.push(['.max_interval_s', `must be a number of seconds from 0 to ${MAX_DURATION_S}`]);
  }
  if (jitter !== undefined && jitter !== 'full' && jitter !== 'equal' && jitter !== 'none') {
    problems.push(['.jitter', 'must be "full", "equal" or "none"']);
  }
  if (
    non_retryable !== undefined &&
    !(
      Array.isArray(non_retryable) &&
      non_retryable.length <= 100 &&
      non_retryable.every((name) => typeof name === 'string' && name.length >= 1 && name.length <= 200)
    )
  ) {
    problems.push(['.non_retryable', 'must be a list of error names']);
  }
  return problems;
};
