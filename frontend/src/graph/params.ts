/** Find the "=" expressions in a task's params and check params against an action's schema. */

import { has, isObject, q } from './rules';

/** Return whether a param value is an expression ("=..." but not "==..."). */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('=') && !value.startsWith('==');
}

/** Return [path, source] for every "=" expression in params, in document order. */
export function paramExpressions(params: unknown, path = ''): [string, string][] {
  if (Array.isArray(params)) {
    return params.flatMap((item, index) => paramExpressions(item, `${path}[${index}]`));
  }
  if (isObject(params)) {
    return Object.entries(params).flatMap(([key, item]) => paramExpressions(item, path ? `${path}.${key}` : key));
  }
  return isExpression(params) ? [[path, params.slice(1)]] : [];
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = jsonType(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/**
 * Return messages for params that certainly fail the action's schema.
 *
 * Checks only what needs no JSON Schema engine: required keys, `additionalProperties:
 * false`, and each top-level property's `type` and `enum`. An "=" expression passes
 * any check (it is evaluated at run time); "==x" is checked as the literal "=x".
 */
export function paramsProblems(schema: unknown, params: Record<string, unknown>): string[] {
  if (!isObject(schema)) return [];
  const problems: string[] = [];
  const properties = isObject(schema.properties) ? schema.properties : {};
  if (Array.isArray(schema.required)) {
    for (const key of schema.required) {
      if (typeof key === 'string' && !has(params, key)) problems.push(`params: ${q(key)} is a required property`);
    }
  }
  if (schema.additionalProperties === false) {
    for (const key of Object.keys(params)) {
      if (!has(properties, key)) problems.push(`params: additional property ${q(key)} is not allowed`);
    }
  }
  for (const [key, raw] of Object.entries(params)) {
    const property = has(properties, key) ? properties[key] : undefined;
    if (!isObject(property) || isExpression(raw)) continue;
    const value = typeof raw === 'string' && raw.startsWith('==') ? raw.slice(1) : raw;
    const types = typeof property.type === 'string' ? [property.type] : Array.isArray(property.type) ? property.type : null;
    if (types && !types.some((type) => typeof type === 'string' && matchesType(value, type))) {
      problems.push(`params.${key}: ${JSON.stringify(value)} is not of type ${types.map(q).join(', ')}`);
      continue;
    }
    if (Array.isArray(property.enum) && !property.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
      problems.push(`params.${key}: ${JSON.stringify(value)} is not one of ${JSON.stringify(property.enum)}`);
    }
  }
  return problems;
}
