/** The Run dialog's form, read from a workflow's input schema (plain TS, no React). */

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'object' | 'raw';

/** One field of the form; `raw` is a JSON box for what the form cannot draw (lists, anyOf…). */
export interface FormField {
  path: string[];
  name: string;
  kind: FieldKind;
  required: boolean;
  title: string;
  description?: string;
  options?: unknown[];
  children?: FormField[];
}

type Schema = Record<string, unknown>;

const MAX_DEPTH = 6;

function asSchema(value: unknown): Schema | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Schema) : null;
}

/** Return the fields of an object schema, nested objects as groups; [] for {} (any object). */
export function formFields(schema: unknown, path: string[] = []): FormField[] {
  const properties = asSchema(asSchema(schema)?.properties);
  if (!properties) return [];
  const required = new Set(Array.isArray(asSchema(schema)?.required) ? (asSchema(schema)?.required as string[]) : []);
  // Required fields first (a stored schema's key order is not kept: PostgreSQL's jsonb sorts keys).
  const entries = Object.entries(properties).sort(([a], [b]) => Number(required.has(b)) - Number(required.has(a)));
  return entries.map(([name, raw]) => {
    const sub = asSchema(raw) ?? {};
    const fieldPath = [...path, name];
    const base = {
      path: fieldPath,
      name,
      required: required.has(name),
      title: typeof sub.title === 'string' ? sub.title : name,
      description: typeof sub.description === 'string' ? sub.description : undefined,
    };
    if (Array.isArray(sub.enum)) return { ...base, kind: 'enum' as const, options: sub.enum };
    const type = sub.type;
    if (type === 'object' && asSchema(sub.properties) && path.length < MAX_DEPTH) {
      return { ...base, kind: 'object' as const, children: formFields(sub, fieldPath) };
    }
    if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return { ...base, kind: type };
    return { ...base, kind: 'raw' as const };
  });
}

/** Return whether the schema describes fields the form can draw. */
export function hasForm(schema: unknown): boolean {
  return formFields(schema).length > 0;
}

export function valueAt(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const part of path) {
    const object = asSchema(node);
    if (!object) return undefined;
    node = object[part];
  }
  return node;
}

/** Return a copy of `value` with `path` set (undefined: removed; emptied objects removed too). */
export function setAt(value: Record<string, unknown>, path: readonly string[], next: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const copy = { ...value };
  if (rest.length === 0) {
    if (next === undefined) delete copy[head];
    else copy[head] = next;
    return copy;
  }
  const inner = setAt(asSchema(copy[head]) ?? {}, rest, next);
  if (Object.keys(inner).length === 0) delete copy[head];
  else copy[head] = inner;
  return copy;
}

/** Parse a number field's text: undefined for blank, else the number or an error. */
export function parseNumber(text: string, integer: boolean): { ok: true; value: number | undefined } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: true, value: undefined };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { ok: false, error: 'Enter a number.' };
  if (integer && !Number.isInteger(value)) return { ok: false, error: 'Enter a whole number.' };
  return { ok: true, value };
}

/** A problem found before sending: the field's path as the server names it (`input.a.b`). */
export interface InputProblem {
  field: string;
  message: string;
}

/** Check what the form can check itself (the server checks the whole schema at start). */
export function inputProblems(schema: unknown, value: unknown, path: string[] = []): InputProblem[] {
  const object = asSchema(schema);
  if (!object) return [];
  const where = ['input', ...path].join('.');
  const problems: InputProblem[] = [];
  if (Array.isArray(object.enum) && value !== undefined && !object.enum.some((option) => JSON.stringify(option) === JSON.stringify(value))) {
    problems.push({ field: where, message: `must be one of ${object.enum.map((o) => JSON.stringify(o)).join(', ')}` });
    return problems;
  }
  const type = object.type;
  if (value === undefined) return problems;
  const wrong = (expected: string) => problems.push({ field: where, message: `must be ${expected}` });
  if (type === 'string') {
    if (typeof value !== 'string') wrong('text');
    else {
      if (typeof object.minLength === 'number' && value.length < object.minLength) wrong(`at least ${object.minLength} characters`);
      if (typeof object.maxLength === 'number' && value.length > object.maxLength) wrong(`at most ${object.maxLength} characters`);
    }
  } else if (type === 'number' || type === 'integer') {
    if (typeof value !== 'number' || (type === 'integer' && !Number.isInteger(value))) wrong(type === 'integer' ? 'a whole number' : 'a number');
    else {
      if (typeof object.minimum === 'number' && value < object.minimum) wrong(`at least ${object.minimum}`);
      if (typeof object.maximum === 'number' && value > object.maximum) wrong(`at most ${object.maximum}`);
    }
  } else if (type === 'boolean') {
    if (typeof value !== 'boolean') wrong('true or false');
  } else if (type === 'object') {
    const properties = asSchema(object.properties) ?? {};
    const record = asSchema(value);
    if (!record) {
      wrong('an object');
      return problems;
    }
    for (const name of Array.isArray(object.required) ? (object.required as string[]) : []) {
      if (record[name] === undefined) problems.push({ field: `${where}.${name}`, message: 'is required' });
    }
    for (const [name, sub] of Object.entries(properties)) {
      problems.push(...inputProblems(sub, record[name], [...path, name]));
    }
  }
  return problems;
}

/** Return where a problem belongs: the server names a missing field on its parent
 * (`input`: "'order_id' is a required property"); the form shows it at the field. */
export function problemField(field: string, message: string): { field: string; message: string } {
  const missing = /^'([^']+)' is a required property$/.exec(message);
  return missing ? { field: `${field}.${missing[1]}`, message: 'is required' } : { field, message };
}
