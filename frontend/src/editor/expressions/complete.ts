/** Autocomplete for expressions: what may follow the path under the cursor (plain TS, no React). */

import { CEL_FUNCTIONS, CEL_METHODS, CONTEXT_NAMES } from './celFunctions';

/** What the editor knows about an expression's context. */
export interface CompletionSources {
  /** The workflow's input schema ({} when none). */
  inputSchema: Record<string, unknown>;
  /** The chosen run's input, if a run is chosen. */
  runInput?: unknown;
  /** The graph's node ids. */
  nodeIds: readonly string[];
  /** The chosen run's step outputs by node id (the latest succeeded visit). */
  stepOutputs?: Readonly<Record<string, unknown>>;
}

export interface Suggestion {
  label: string;
  /** The text that replaces the word under the cursor. */
  insert: string;
  detail: string;
  kind: 'name' | 'field' | 'node' | 'function' | 'method';
}

export interface Completion {
  /** The word under the cursor runs from `from` to the cursor. */
  from: number;
  to: number;
  items: Suggestion[];
}

const MAX_ITEMS = 50;
const IDENTIFIER = /^[A-Za-z_]\w*$/;
// A dotted path ending at the cursor: `steps.fetch.output.bo`, `input.`, `siz`.
const TRAILING_PATH = /(?:[A-Za-z_]\w*\s*\.\s*)*[A-Za-z_]?\w*$/;

/** Return the suggestions for the cursor at `cursor` in `text` (an expression without its "="). */
export function complete(text: string, cursor: number, sources: CompletionSources): Completion {
  const before = text.slice(0, cursor);
  const match = TRAILING_PATH.exec(before);
  const token = match ? match[0] : '';
  const parts = token.split('.').map((part) => part.trim());
  const prefix = parts.pop() ?? '';
  const from = cursor - prefix.length;
  // A path after a call or index (`size(x).`, `a[0].`) is not a context path: methods only.
  const start = cursor - token.length;
  const afterValue = parts.length === 0 && /[)\]"']\s*\.\s*$/.test(before.slice(0, from));
  const items = afterValue ? methods() : suggestionsFor(parts, sources, start > 0 && /[\w.]$/.test(before.slice(0, start)));
  const wanted = prefix.toLowerCase();
  const chosen = items.filter((item) => item.label.toLowerCase().startsWith(wanted) && item.label !== prefix).slice(0, MAX_ITEMS);
  return { from, to: cursor, items: chosen };
}

function suggestionsFor(path: string[], sources: CompletionSources, glued: boolean): Suggestion[] {
  if (glued) return [];
  if (path.length === 0) {
    return [
      ...Object.entries(CONTEXT_NAMES).map(([name, detail]) => ({ label: name, insert: name, detail, kind: 'name' as const })),
      ...Object.entries(CEL_FUNCTIONS)
        .filter(([name]) => !CEL_METHODS.has(name) || name === 'size')
        .map(([name, detail]) => ({ label: name, insert: name.match(/^(list|null_type)$/) ? name : `${name}(`, detail, kind: 'function' as const })),
    ];
  }
  const [root, ...rest] = path;
  if (root === 'input') {
    return [...fields(schemaFields(sources.inputSchema, rest), keysAt(sources.runInput, rest)), ...methods()];
  }
  if (root === 'steps') {
    if (rest.length === 0) {
      return sources.nodeIds
        .filter((id) => IDENTIFIER.test(id))
        .map((id) => ({ label: id, insert: id, detail: sources.stepOutputs && id in sources.stepOutputs ? 'ran in the chosen run' : 'node', kind: 'node' as const }));
    }
    if (rest.length === 1) return [{ label: 'output', insert: 'output', detail: `the output of ${rest[0]}`, kind: 'field' }];
    const [nodeId, field] = rest;
    if (field === 'output' && nodeId !== undefined) {
      const output = sources.stepOutputs?.[nodeId];
      return [...fields([], keysAt(output, rest.slice(2))), ...methods()];
    }
    return [];
  }
  if (root === 'run' && rest.length === 0) return [{ label: 'id', insert: 'id', detail: 'the run id', kind: 'field' }];
  return methods();
}

function methods(): Suggestion[] {
  return [...CEL_METHODS].map((name) => ({ label: name, insert: `${name}(`, detail: CEL_FUNCTIONS[name] ?? '', kind: 'method' as const }));
}

/** Suggestions for field names: the schema's (with their types) first, then the run's. */
function fields(fromSchema: [string, string][], fromData: [string, string][]): Suggestion[] {
  const seen = new Set<string>();
  const out: Suggestion[] = [];
  for (const [name, detail] of [...fromSchema, ...fromData]) {
    if (seen.has(name) || !IDENTIFIER.test(name)) continue;
    seen.add(name);
    out.push({ label: name, insert: name, detail, kind: 'field' });
  }
  return out;
}

/** The properties of the object schema at `path` inside `schema`: [name, type]. */
export function schemaFields(schema: unknown, path: readonly string[]): [string, string][] {
  let node: unknown = schema;
  for (const part of path) {
    const properties = asObject(asObject(node)?.properties);
    node = properties?.[part];
    if (node === undefined) return [];
  }
  const properties = asObject(asObject(node)?.properties);
  if (!properties) return [];
  return Object.entries(properties).map(([name, sub]) => {
    const type = asObject(sub)?.type;
    return [name, typeof type === 'string' ? `${type} (input schema)` : 'input schema'];
  });
}

/** The keys of the object at `path` inside `value`: [name, a short description of its value]. */
export function keysAt(value: unknown, path: readonly string[]): [string, string][] {
  let node: unknown = value;
  for (const part of path) {
    node = asObject(node)?.[part];
    if (node === undefined) return [];
  }
  const object = asObject(node);
  if (!object) return [];
  return Object.entries(object).map(([name, item]) => [name, `${describe(item)} (chosen run)`]);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `list of ${value.length}`;
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return value.length > 24 ? `"${value.slice(0, 24)}…"` : `"${value}"`;
  return String(value);
}

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/** Return the text with a suggestion applied and where the cursor goes. */
export function applySuggestion(text: string, completion: Completion, item: Suggestion): { text: string; cursor: number } {
  const next = text.slice(0, completion.from) + item.insert + text.slice(completion.to);
  return { text: next, cursor: completion.from + item.insert.length };
}
